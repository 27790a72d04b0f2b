//! `seldom demo`: the README's first command. Simulates a small organization,
//! scans it with the default settings, shows the alerts and how they score
//! against the injected attacks.

use std::io::Write;
use std::process::ExitCode;

use std::path::Path;

use anyhow::{Context, Result, bail};
use seldom_detect::{Alert, Catalog, DetectConfig, Order};
use seldom_ingest::{IngestOptions, PathSource, Source, decode_in_background};
use seldom_simulate::SimConfig;

use crate::alert_table;
use crate::cli::DemoArgs;
use crate::simulate_cmd;

pub fn run(args: &DemoArgs) -> Result<ExitCode> {
    let temporary = match &args.out {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary folder")?),
    };
    let dir = match (&args.out, &temporary) {
        (Some(out), _) => out.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => unreachable!("one of the two is set"),
    };
    let config = SimConfig {
        hosts: args.org.hosts,
        days: args.org.days,
        seed: args.org.seed,
        ..SimConfig::default()
    };
    eprintln!(
        "seldom demo: simulating {} hosts for {} days (activation {} days, {} attacks per variation)...",
        config.hosts, config.days, config.activation_days, config.attacks_per_variation
    );
    let written = simulate_cmd::simulate(config, &dir, None)?;
    eprintln!(
        "seldom demo: {} events written; scanning them...",
        written.events
    );
    let alerts = detect(&dir.join("telemetry.jsonl"))?;
    let alerts_path = dir.join("alerts.jsonl");
    write_alerts(&alerts_path, &alerts)?;
    let (shown, informational): (Vec<_>, Vec<_>) = alerts
        .iter()
        .partition(|a| args.all || a.severity != seldom_detect::catalog::Severity::Informational);
    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    for alert in &shown {
        writeln!(out, "{}", alert_table::render(alert))?;
    }
    if !informational.is_empty() {
        writeln!(
            out,
            "... and {} informational alerts (the base row on the long tail of sites, by design); `seldom demo --all` shows them.\n",
            informational.len()
        )?;
    }
    let truth = written.truth.context("the demo writes its truth")?;
    let evaluation = simulate_cmd::evaluate_files(&truth, &alerts_path)?;
    writeln!(out, "{}", evaluation.table())?;
    if let Some(kept) = &args.out {
        writeln!(out, "telemetry, truth and alerts are in {}", kept.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The scan the demo runs: the built-in settings and catalog, the
/// simulated telemetry as it was written (in time order: a stream).
fn detect(telemetry: &Path) -> Result<Vec<Alert>> {
    let mut detector = DetectConfig::default().build(Catalog::builtin()?)?;
    let source: Box<dyn Source> = Box::new(PathSource::new(telemetry));
    let mut batches = decode_in_background(vec![source], IngestOptions::default(), None)
        .context("starting the decoding thread")?;
    let mut alerts: Vec<Alert> = Vec::new();
    let detected = seldom_detect::run(&mut detector, &mut batches, Order::Stream, &mut alerts);
    let decoded = batches.finish();
    if let Some(e) = decoded.unopened.first() {
        bail!("{e}");
    }
    detected.map_err(|e| anyhow::anyhow!(e))?;
    Ok(alerts)
}

/// The alerts as JSON lines, for the evaluation (and the user, with `--out`).
fn write_alerts(path: &Path, alerts: &[Alert]) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for alert in alerts {
        serde_json::to_writer(&mut out, alert)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))
}
