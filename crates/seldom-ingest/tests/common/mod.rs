//! Shared helpers for tests that read the real corpus at `../shared/corpus`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures
#![allow(dead_code)]

use std::path::PathBuf;

use seldom_ingest::{IngestOptions, IngestStats, Ingestor};
use seldom_model::Event;

/// The corpus beside the checkout, or `None` (with a note) when it is absent
/// outside CI. Under `CI=true` a missing corpus fails the test loudly.
pub fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the corpus is missing at {} (CI=true requires it)",
            dir.display()
        );
    }
    eprintln!("skipping: no corpus at {}", dir.display());
    None
}

/// Reads one corpus file, naming it by its path inside the corpus so that
/// locations in snapshots do not depend on where the checkout lives.
pub fn read_corpus_file(relative: &str) -> Option<(Vec<Event>, IngestStats)> {
    let path = corpus()?.join(relative);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut events = Vec::new();
    let mut ingestor = Ingestor::new(IngestOptions::default());
    ingestor.read_reader(file, relative, &mut |e| events.push(e));
    Some((events, ingestor.into_stats()))
}

pub fn read_bytes(bytes: &[u8], options: IngestOptions) -> (Vec<Event>, IngestStats) {
    let mut events = Vec::new();
    let mut ingestor = Ingestor::new(options);
    ingestor.read_reader(bytes, "input", &mut |e| events.push(e));
    (events, ingestor.into_stats())
}
