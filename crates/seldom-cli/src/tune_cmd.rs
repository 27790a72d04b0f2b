//! `seldom tune PATH...`: what each `rare_hosts` and `training_days` of a
//! grid would raise on these files, from one presorted pass
//! ([`seldom_detect::tune`]): alerts and incidents, per 1,000 host-days and
//! by variation, with the settings in use marked. A threshold is chosen from
//! what it would have raised, not by guess.

use std::fmt::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_detect::tune::{TuneCell, TuneGrid, TuneReport};
use seldom_detect::{Detector, Sink};

use crate::cli::TuneArgs;
use crate::output::Output;
use crate::presorted::detect_files;
use crate::settings;

/// A tuning detector raises nothing; its sink has nothing to keep.
struct Nothing;

impl Sink for Nothing {
    fn apply(&mut self, _: seldom_detect::AlertUpdate) -> Result<(), seldom_detect::SinkError> {
        Ok(())
    }
}

pub fn run(args: &TuneArgs) -> Result<ExitCode> {
    let config = settings::detect_config(&args.detect)?;
    let catalog = settings::catalog(args.detect.catalog.as_deref())?;
    let grid = TuneGrid {
        rare_hosts: args.grid_rare_hosts.0.clone(),
        training_days: args.grid_training_days.0.clone(),
    };
    let mut detector = Detector::tuning(&config, catalog, grid)?;
    let unopened = detect_files(&args.paths, &mut detector, &mut Nothing)?;
    let report = detector
        .tune_report()
        .context("the tuning detector kept no report")?;
    let mut output = Output::open(None)?;
    if args.json {
        output.json_line(&report)?;
    } else {
        output.text(&table(&report, config.rare_hosts, config.training_days))?;
    }
    output.finish()?;
    Ok(if unopened == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One row per cell, the settings in use marked `*`.
fn table(report: &TuneReport, rare_hosts: u32, training_days: u32) -> String {
    let mut out = format!(
        "{} host-days. Alerts and incidents each cell would raise (* the settings in use):\n\n  rare_hosts  training_days  alerts  incidents  alerts/1k host-days  incidents/1k host-days  by variation\n",
        report.host_days
    );
    for cell in &report.cells {
        let TuneCell {
            rare_hosts: r,
            training_days: w,
            ..
        } = *cell;
        let mark = if (r, w) == (rare_hosts, training_days) {
            "*"
        } else {
            " "
        };
        let by: Vec<String> = cell
            .by_variation
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "{mark} {r:>10}  {w:>13}  {:>6}  {:>9}  {:>19.2}  {:>22.2}  {}",
            cell.alerts,
            cell.incidents,
            cell.alerts_per_1000_host_days,
            cell.incidents_per_1000_host_days,
            by.join(", ")
        );
    }
    out
}
