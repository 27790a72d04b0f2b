//! Fuzzes `Ingestor::read_reader` on arbitrary bytes: container sniffing and
//! every container it leads to (EVTX, zip, gzip, tar, JSON lines, XML
//! lines, nested up to the archive depth bound), with the inflation, line
//! length and buffering guards in the way.
//!
//! This is what standard input and other byte-stream transports feed, with no
//! file name to go by, so the whole pipeline must survive any input: the only
//! property checked is "does not panic".
//!
//! The size bounds are lowered from the workstation defaults so that a small
//! input (a compression bomb, a very long line) reaches them quickly, keeping
//! runs fast and within libFuzzer's memory limit while still exercising them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{IngestOptions, Ingestor};

fuzz_target!(|data: &[u8]| {
    let options = IngestOptions {
        max_line_bytes: 64 << 10,
        max_member_bytes: 64 << 20,
        ratio_floor_bytes: 1 << 20,
        max_buffered_bytes: 16 << 20,
        evtx_threads: 1,
        ..Default::default()
    };
    let mut ingestor = Ingestor::new(options);
    ingestor.read_reader(data, "fuzz", &mut |_event| {});
});
