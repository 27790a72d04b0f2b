//! Fuzzes the decoding of an HTTP ingest body exactly as `seldom serve` does
//! it (`seldom_serve::pipeline::decode_bytes`): any format `scan` reads, a
//! gzip body recognized from its bytes, decoded on the calling thread with
//! the service's default bounds.
//!
//! The body is whatever a client posts, and the service must answer for it
//! (counts and located skips), never fall over. (The serve crate itself is not
//! a dependency here: its TLS and async stack would not build under the
//! sanitizer; the call below is the whole of `decode_bytes`.) Property: does
//! not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{IngestOptions, Ingestor, NormalizeOptions};
use seldom_model::HostNaming;

fuzz_target!(|data: &[u8]| {
    let mut ingestor = Ingestor::new(IngestOptions {
        normalize: NormalizeOptions {
            host_naming: HostNaming::Short,
            ..NormalizeOptions::default()
        },
        decode_threads: 1,
        ..IngestOptions::default()
    });
    let mut events = Vec::new();
    ingestor.read_reader(data, "http", &mut |e| events.push(e));
    let _ = ingestor.into_stats();
});
