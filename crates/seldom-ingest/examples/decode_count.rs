//! Decoding alone: every file given, read and normalized as `seldom scan`
//! reads it (containers, formats, the parallel parsers), the events counted
//! and dropped. `bench/instructions` measures it beside a bare `serde_json`
//! parse of the same bytes: what seldom's decoding costs, without the
//! detection or the JSON written by `scan --events`.

use seldom_ingest::{IngestOptions, PathSource, Source, decode_in_background};

/// The allocator of the `seldom` binary (`seldom-cli/src/main.rs`), so that
/// the count is what `seldom scan` pays: with glibc's, each string a
/// decoding thread allocates and the counting thread frees cost about 250
/// instructions, an eighth of the whole on a simulated organization.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut options = IngestOptions::default();
    let sources: Vec<Box<dyn Source>> = std::env::args()
        .skip(1)
        .filter(|arg| {
            // The plain paths, for the instruction counts beside them.
            let plain_evtx = arg == "--no-evtx-templates";
            let plain_json = arg == "--no-json-scanner";
            options.normalize.evtx_templates &= !plain_evtx;
            options.normalize.json_scanner &= !plain_json;
            !plain_evtx && !plain_json
        })
        .map(|path| Box::new(PathSource::new(path)) as Box<dyn Source>)
        .collect();
    let mut batches = decode_in_background(sources, options, None)?;
    let events: usize = batches.by_ref().map(|batch| batch.len()).sum();
    let summary = batches.finish();
    eprintln!(
        "decode_count: {events} events, {} records",
        summary.stats.records_read
    );
    Ok(())
}
