//! `seldom scan`: read everything given, in order, and report what was understood.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_ingest::{IngestOptions, IngestStats, Ingestor, NormalizeOptions};
use seldom_model::HostNaming;

use crate::cli::{HostNamingArg, ScanArgs};
use crate::output::Output;
use crate::progress::Progress;

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    let options = IngestOptions {
        normalize: NormalizeOptions {
            host_naming: match args.host_naming {
                HostNamingArg::Short => HostNaming::Short,
                HostNamingArg::Fqdn => HostNaming::Fqdn,
            },
        },
        max_line_bytes: args.max_line_bytes,
        ..IngestOptions::default()
    };
    let visible = !args.quiet && std::io::stderr().is_terminal();
    let progress = Progress::start(total_size(&args.paths), visible);
    let mut ingestor = Ingestor::new(options).with_progress(progress.counter());
    let mut output = if args.events {
        Some(Output::open(args.output.as_deref())?)
    } else {
        None
    };
    let mut write_error = None;
    let mut sink = |event: seldom_model::Event| {
        if let Some(out) = output.as_mut()
            && write_error.is_none()
            && let Err(e) = out.json_line(&event)
        {
            write_error = Some(e);
        }
    };
    let mut unreadable = 0;
    for path in &args.paths {
        if path.as_os_str() == "-" {
            ingestor.read_reader(std::io::stdin().lock(), "-", &mut sink);
        } else if let Err(e) = ingestor.read_path(path, &mut sink) {
            eprintln!("seldom: {e}");
            unreadable += 1;
        }
    }
    progress.finish();
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(out) = output {
        out.finish()?;
    }
    let stats = ingestor.into_stats();
    if let Some(path) = &args.stats {
        write_stats(path, &stats)?;
    }
    eprintln!("{}", summary(&stats));
    Ok(if unreadable > 0 {
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

fn write_stats(path: &Path, stats: &IngestStats) -> Result<()> {
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
