//! `seldom scan`: read everything given, detect, write alerts (or events), and
//! report what was read and decided.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_detect::{DetectStats, Detector, Order, PresortStats, SortBuffer};
use seldom_ingest::{
    IngestOptions, IngestStats, NormalizeOptions, ReadSummary, decode_in_background, source_for,
};
use serde::Serialize;

use crate::cli::{OutputFormat, ScanArgs};
use crate::output::Output;
use crate::progress::Progress;
use crate::scan_sink::AlertSink;
use crate::settings;

/// Everything `--stats` reports.
#[derive(Serialize)]
struct ScanStats<'a> {
    #[serde(flatten)]
    ingest: &'a IngestStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    detection: Option<&'a DetectStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presort: Option<PresortStats>,
}

pub fn run(args: &ScanArgs) -> Result<ExitCode> {
    let config = settings::detect_config(&args.detect)?;
    let catalog = settings::catalog(args.detect.catalog.as_deref())?;
    let mut detector = if args.events {
        None
    } else {
        Some(config.build(catalog)?)
    };
    let store = match (&args.state, detector.as_mut()) {
        (Some(path), Some(detector)) => {
            let (store, restored) = seldom_store::Store::open(path, detector.config())?;
            if !restored.inbox.is_empty() {
                anyhow::bail!(
                    "the store {} holds {} ingest batch(es) a service acknowledged but has not detected yet; start `seldom serve --state {}` on it once to detect them first",
                    store.path().display(),
                    restored.inbox.len(),
                    path.display()
                );
            }
            if let Some(state) = restored.state {
                detector.restore(state);
                detector.restore_reorder(restored.reorder);
            }
            Some(store)
        }
        _ => None,
    };
    let options = IngestOptions {
        normalize: NormalizeOptions {
            host_naming: config.host_naming,
            prefilter: !args.no_prefilter,
            evtx_templates: !args.no_evtx_templates,
            json_scanner: !args.no_json_scanner,
        },
        max_line_bytes: args.max_line_bytes,
        audit_host: args.audit_host.clone(),
        ..IngestOptions::default()
    };
    let format = args.format.unwrap_or(
        if std::io::stdout().is_terminal() && args.output.is_none() {
            OutputFormat::Table
        } else {
            OutputFormat::Jsonl
        },
    );
    let mut output = Output::open(args.output.as_deref())?;
    let visible = !args.quiet && std::io::stderr().is_terminal();
    let progress = Progress::start(total_size(&args.paths), visible);
    let mut sink = AlertSink::new(&mut output, format, !args.stream);
    // Decoding runs on its own thread and hands over batches in input order,
    // so the two cores decode and detect at once; results are those of a
    // single-threaded run.
    let sources = args.paths.iter().map(|p| source_for(p)).collect();
    let mut batches = decode_in_background(sources, options, Some(progress.counter()))
        .context("starting the decoding thread")?;
    let sort_buffer = SortBuffer {
        bytes: args.sort_memory,
        spill_dir: args.spill_dir.clone(),
    };
    let mut presort = None;
    let written = match detector.as_mut() {
        Some(detector) if args.stream => {
            seldom_detect::run(detector, &mut batches, Order::Stream, &mut sink)
        }
        Some(detector) => {
            seldom_detect::run_presorted(detector, &mut batches, &sort_buffer, &mut sink).map(
                |stats| {
                    presort = Some(stats);
                },
            )
        }
        None => (&mut batches)
            .flatten()
            .try_for_each(|event| sink.event(&event)),
    };
    let ReadSummary { stats, unopened } = batches.finish();
    progress.finish();
    for e in &unopened {
        eprintln!("seldom: {e}");
    }
    written.map_err(|e| anyhow::anyhow!(e))?;
    let new_alerts = sink.new;
    output.finish()?;
    if let (Some(store), Some(detector)) = (&store, &detector) {
        store.save_scan(detector.state())?;
    }
    if let Some(path) = &args.stats {
        let detection = detector.as_ref().map(Detector::stats);
        write_stats(
            path,
            &ScanStats {
                ingest: &stats,
                detection,
                presort,
            },
        )?;
    }
    eprintln!("{}", summary(&stats));
    if stats.files_unreadable > 0 {
        eprintln!(
            "seldom: {} input(s) could not be read; the alerts above are of the rest",
            stats.files_unreadable
        );
        for example in stats
            .skipped
            .get("io_error")
            .map_or(&[][..], |s| &s.examples[..])
        {
            eprintln!("seldom:   {}: {}", example.location, example.detail);
        }
    }
    if let Some(detector) = &detector {
        let d = detector.stats();
        eprintln!(
            "seldom: {new_alerts} alerts ({} repeats folded into them); {} connections, {} rare, {} rare while training, {} internal, {} inbound",
            d.repeats, d.connections, d.rare, d.rare_while_training, d.internal, d.inbound
        );
    }
    // A file that could not be read is a run that did not read what it was
    // given: a script must be able to tell, whatever else was read.
    Ok(if !unopened.is_empty() || stats.files_unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Bytes under the given paths, for the progress bar (0 for stdin).
fn total_size(paths: &[std::path::PathBuf]) -> u64 {
    paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .flat_map(walkdir::WalkDir::new)
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len())
        .sum()
}

fn write_stats(path: &Path, stats: &impl Serialize) -> Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut writer, stats).context("writing stats")?;
    writer.write_all(b"\n").context("writing stats")?;
    writer
        .flush()
        .with_context(|| format!("writing {}", path.display()))
}

fn summary(stats: &IngestStats) -> String {
    let kinds: Vec<String> = stats
        .events
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let skipped: Vec<String> = stats
        .skipped
        .iter()
        .map(|(k, s)| format!("{} {k}", s.count))
        .collect();
    format!(
        "seldom: {} files, {} records, {} events ({}); {} skipped{}",
        stats.files_read,
        stats.records_read,
        stats.events_read,
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        },
        stats.skipped_total(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join(", "))
        },
    )
}
