//! `seldom explain PATH... (--alert ID | --host H --destination D ...)`:
//! why a connection did or did not alert. The files are detected as `scan`
//! detects them, with the detector writing down each step of the decision
//! for the connections named ([`seldom_detect::explain`]); each verdict's
//! outcome is then set from the alerts the run really raised, so the last
//! line never guesses. For `--alert ID`, a first run finds the alert and
//! names its host, destination and time.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use seldom_detect::explain::{ExplainTarget, StepOutcome, Verdict};
use seldom_detect::{Alert, AlertBook, Catalog, DetectConfig};
use seldom_model::Timestamp;

use crate::alert_table::printable;
use crate::cli::ExplainArgs;
use crate::output::Output;
use crate::presorted::detect_files;
use crate::settings;

/// Detects `args.paths` as `scan` does (presorted), explaining `target`.
fn detect(
    args: &ExplainArgs,
    config: &DetectConfig,
    catalog: &Catalog,
    target: Option<ExplainTarget>,
) -> Result<(Vec<Alert>, Vec<Verdict>)> {
    let mut detector = config.build(catalog.clone())?;
    if let Some(target) = target {
        detector.explain(target);
    }
    let mut raised = AlertBook::default();
    detect_files(&args.paths, &mut detector, &mut raised)?;
    Ok((
        raised.0.into_values().collect(),
        detector.verdicts().to_vec(),
    ))
}

fn parse_time(flag: &str, text: Option<&str>) -> Result<Option<Timestamp>> {
    text.map(|t| {
        Timestamp::parse(t).with_context(|| format!("{flag}: {t:?} is not an RFC 3339 time"))
    })
    .transpose()
}

pub fn run(args: &ExplainArgs) -> Result<ExitCode> {
    let config = settings::detect_config(&args.detect)?;
    let catalog = settings::catalog(args.detect.catalog.as_deref())?;
    let mut target = ExplainTarget {
        host: args.host.clone(),
        destination: args.destination.clone(),
        from: parse_time("--from", args.from.as_deref())?,
        to: parse_time("--to", args.to.as_deref())?,
        limit: args.limit,
    };
    if let Some(id) = &args.alert {
        let (alerts, _) = detect(args, &config, &catalog, None)?;
        let Some(alert) = alerts.iter().find(|a| &a.id == id) else {
            bail!(
                "--alert: no alert {id} in these files with these settings ({} alerts raised)",
                alerts.len()
            );
        };
        target.host = Some(alert.host.clone());
        target.destination = Some(alert.destination.key.to_string());
        target.from = Some(alert.first_seen);
        target.to = Some(alert.first_seen);
    } else if target.host.is_none() && target.destination.is_none() {
        bail!(
            "name an alert (--alert ID), or a host (--host) and/or a destination (--destination)"
        );
    }
    let (alerts, mut verdicts) = detect(args, &config, &catalog, Some(target))?;
    for verdict in &mut verdicts {
        verdict.outcome = outcome(verdict, &alerts);
    }
    let mut output = Output::open(None)?;
    if args.json {
        for verdict in &verdicts {
            output.json_line(verdict)?;
        }
    } else if verdicts.is_empty() {
        output.text("no connection in these files matches what was named")?;
    } else {
        for verdict in &verdicts {
            output.text(&text(verdict))?;
        }
    }
    output.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// What the run really did with the connection: the alert it raised, the
/// alert it repeated, or no alert and the step that stopped it.
fn outcome(verdict: &Verdict, alerts: &[Alert]) -> String {
    let same = |a: &&Alert| {
        a.host.eq_ignore_ascii_case(&verdict.host)
            && verdict.key.as_deref() == Some(a.destination.key.to_string().as_str())
    };
    if let Some(alert) = alerts
        .iter()
        .filter(same)
        .find(|a| a.first_seen == verdict.time)
    {
        return format!(
            "alert {} raised: {} ({:?}); {} contacts in its dedup period",
            alert.id, alert.variation, alert.severity, alert.count
        );
    }
    if let Some(alert) = alerts
        .iter()
        .filter(same)
        .find(|a| a.first_seen < verdict.time && verdict.time <= a.last_seen)
    {
        return format!(
            "counted as a repeat of alert {} ({})",
            alert.id, alert.variation
        );
    }
    match verdict.steps.iter().find(|s| s.outcome == StepOutcome::Stop) {
        Some(stop) => format!("no alert: stopped at {}", stop.check),
        None => "no alert was raised (the connection's process start arrived later, or a row's decision changed with it)".to_owned(),
    }
}

/// A verdict for a terminal: every string from the telemetry escaped.
fn text(v: &Verdict) -> String {
    let mut out = format!(
        "{}  {}  {} -> {}{}{}\n",
        v.time,
        printable(&v.host),
        printable(v.image.as_deref().unwrap_or("(process unknown)")),
        v.destination_ip,
        v.destination_port
            .map(|p| format!(":{p}"))
            .unwrap_or_default(),
        v.forward_name
            .as_deref()
            .map(|n| format!(" ({})", printable(n)))
            .unwrap_or_default()
    );
    for step in &v.steps {
        let mark = match step.outcome {
            StepOutcome::Pass => "ok",
            StepOutcome::Stop => "STOP",
            StepOutcome::Note => "--",
        };
        out.push_str(&format!(
            "  {mark:>4}  {}: {}\n",
            step.check,
            printable(&step.detail)
        ));
    }
    if !v.catalog.is_empty() {
        out.push_str("        catalog rows:\n");
        for row in &v.catalog {
            out.push_str(&format!(
                "          {} {} ({:?}): {}\n",
                if row.matched { "matches" } else { "no     " },
                row.variation,
                row.severity,
                printable(&row.because)
            ));
        }
    }
    out.push_str(&format!("  => {}\n", printable(&v.outcome)));
    out
}
