//! Fuzzes the EVTX path of `Ingestor::read_reader`: the `evtx` crate parses
//! the file and renders each record to XML, which seldom's XML reader and
//! normalizer then turn into events.
//!
//! EVTX files are collected from the very hosts under investigation, so
//! their bytes are untrusted; a corrupt chunk or record must be counted as
//! skipped, never panic. Two properties are checked: it does not panic, and
//! the template reader (`evtx_template.rs`, records read from their templates
//! without rendering) changes no outcome: with it and without it the same
//! events and the same counts. The template store keeps templates from one
//! input to the next (as it does from one file to the next), so a map kept
//! from an earlier input is checked against this input's rendering too; a
//! divergence it caused may need the inputs before it to reproduce.
//!
//! Note: seldom runs the EVTX decoder under `catch_unwind` (a panic costs the
//! rest of that file, counted as `decoder_panic`), but libFuzzer's panic hook
//! aborts on every panic, caught or not, so panics in the `evtx` crate and in
//! seldom's own code inside that guard are both reported.

#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{IngestOptions, Ingestor, NormalizeOptions};
use seldom_model::Event;

/// What `read_reader` sniffs to choose the EVTX decoder.
const EVTX_MAGIC: &[u8] = b"ElfFile\0";

fuzz_target!(|data: &[u8]| {
    // Keep every input on the EVTX path (other containers are the `any_stream`
    // target's): an input without the file magic gets it prepended, so that
    // even a run from an empty corpus reaches the EVTX parser.
    let input: Cow<'_, [u8]> = if data.starts_with(EVTX_MAGIC) {
        Cow::Borrowed(data)
    } else {
        Cow::Owned([EVTX_MAGIC, data].concat())
    };
    let (plain_events, plain_stats) = read(&input, false);
    let (events, stats) = read(&input, true);
    assert!(
        events == plain_events,
        "the template reader changed the events"
    );
    assert_eq!(stats, plain_stats, "the template reader changed the counts");
});

fn read(input: &[u8], evtx_templates: bool) -> (Vec<Event>, serde_json::Value) {
    let options = IngestOptions {
        normalize: NormalizeOptions {
            evtx_templates,
            ..NormalizeOptions::default()
        },
        // One thread: deterministic, and no thread pool per input.
        evtx_threads: 1,
        // The input is in memory already; keep the buffering bound small.
        max_buffered_bytes: 16 << 20,
        ..Default::default()
    };
    let mut ingestor = Ingestor::new(options);
    let mut events = Vec::new();
    ingestor.read_reader(input, "fuzz.evtx", &mut |event| events.push(event));
    let stats = serde_json::to_value(ingestor.into_stats()).unwrap_or_default();
    (events, stats)
}
