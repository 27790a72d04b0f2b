//! Files through a detector as `scan` reads them by default (decoded on their
//! own thread, ordered by event time), for the commands that run a detector
//! of their own over files: `explain` (with a probe) and `tune` (a tuning
//! detector). Inputs that cannot be opened are named on stderr and counted.

use std::path::PathBuf;

use anyhow::{Context, Result};
use seldom_detect::{Detector, Order, Sink};
use seldom_ingest::{IngestOptions, NormalizeOptions, decode_in_background, source_for};

/// Runs `paths` through `detector` into `sink`; returns how many inputs
/// could not be opened.
pub fn detect_files(
    paths: &[PathBuf],
    detector: &mut Detector,
    sink: &mut dyn Sink,
) -> Result<usize> {
    let options = IngestOptions {
        normalize: NormalizeOptions {
            host_naming: detector.config().host_naming,
            ..NormalizeOptions::default()
        },
        ..IngestOptions::default()
    };
    let sources = paths.iter().map(|p| source_for(p)).collect();
    let mut batches =
        decode_in_background(sources, options, None).context("starting the decoding thread")?;
    let run = seldom_detect::run(detector, &mut batches, Order::Presort, sink);
    let summary = batches.finish();
    for e in &summary.unopened {
        eprintln!("seldom: {e}");
    }
    run.map_err(|e| anyhow::anyhow!(e))?;
    Ok(summary.unopened.len())
}
