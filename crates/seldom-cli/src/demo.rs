//! `seldom demo`: the README's first command. Simulates a small organization,
//! scans it with the default settings, shows the alerts and how they score
//! against the injected attacks.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_simulate::SimConfig;

use crate::alert_table;
use crate::cli::{DemoArgs, OutputFormat, ScanArgs};
use crate::{scan, simulate_cmd};

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
    let alerts_path = dir.join("alerts.jsonl");
    let scan_args = ScanArgs::for_demo(dir.join("telemetry.jsonl"), alerts_path.clone());
    scan::run(&scan_args)?;

    let alerts: Vec<seldom_detect::Alert> = std::fs::read_to_string(&alerts_path)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("reading the demo's alerts")?;
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

impl ScanArgs {
    /// The scan the demo runs: default settings, alerts as JSON lines to a file.
    fn for_demo(telemetry: std::path::PathBuf, output: std::path::PathBuf) -> ScanArgs {
        ScanArgs {
            paths: vec![telemetry],
            events: false,
            format: Some(OutputFormat::Jsonl),
            output: Some(output),
            stats: None,
            config: None,
            catalog: None,
            state: None,
            internal_networks: None,
            activation_days: None,
            training_days: None,
            dedup_days: None,
            rare_hosts: None,
            reorder_window: None,
            stream: true,
            host_naming: None,
            max_line_bytes: 4 << 20,
            audit_host: None,
            quiet: true,
        }
    }
}
