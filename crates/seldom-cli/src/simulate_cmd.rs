//! `seldom simulate` and `seldom evaluate`: a simulated organization with its
//! truth, and the score of a scan's alerts against it.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use seldom_simulate::evaluate::{AlertSummary, OrganizationSummary, TruthLine};
use seldom_simulate::render::render;
use seldom_simulate::{SimConfig, Simulator, StoryRecord, TruthRecord, evaluate};

use crate::cli::{EvaluateArgs, SimulateArgs};

/// What a simulation wrote.
pub struct Written {
    pub telemetry: Option<PathBuf>,
    pub truth: Option<PathBuf>,
    pub events: u64,
}

pub fn config(args: &SimulateArgs) -> SimConfig {
    SimConfig {
        hosts: args.org.hosts,
        days: args.org.days,
        seed: args.org.seed,
        start: args.start.clone(),
        activation_days: args.activation_days,
        attacks_per_variation: args.attacks_per_variation,
        stories: args.stories,
        linux_share: args.linux_share,
        developer_share: args.developer_share,
        server_share: args.server_share,
        ..SimConfig::default()
    }
}

pub fn run(args: &SimulateArgs) -> Result<ExitCode> {
    for (flag, share) in [
        ("--linux-share", args.linux_share),
        ("--developer-share", args.developer_share),
        ("--server-share", args.server_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            bail!("{flag} must be between 0 and 1, got {share}");
        }
    }
    let written = simulate(config(args), &args.out, args.truth.as_deref())?;
    eprintln!(
        "seldom: simulated {} hosts x {} days: {} events{}",
        args.org.hosts,
        args.org.days,
        written.events,
        written
            .telemetry
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes telemetry day by day (memory holds one day) and the truth.
pub fn simulate(config: SimConfig, out: &Path, truth_path: Option<&Path>) -> Result<Written> {
    let mut simulator = Simulator::new(config.clone())?;
    let (telemetry_path, truth_path) = if out.as_os_str() == "-" {
        (None, truth_path.map(Path::to_path_buf))
    } else {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        (
            Some(out.join("telemetry.jsonl")),
            Some(out.join("truth.jsonl")),
        )
    };
    let sink: Box<dyn Write> = match &telemetry_path {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = BufWriter::with_capacity(1 << 20, sink);
    let mut events = 0u64;
    while let Some(day) = simulator.next_day() {
        for event in &day {
            events += 1;
            let host = &simulator.org.hosts[event.host as usize];
            writer.write_all(render(event, host, events).as_bytes())?;
            writer.write_all(b"\n")?;
        }
    }
    writer.flush().context("writing telemetry")?;
    if let Some(path) = &truth_path {
        write_truth(path, &config, &simulator)?;
    }
    Ok(Written {
        telemetry: telemetry_path,
        truth: truth_path,
        events,
    })
}

fn write_truth(path: &Path, config: &SimConfig, simulator: &Simulator) -> Result<()> {
    let mut writer =
        BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?);
    let organization = TruthLine::Organization(OrganizationSummary {
        hosts: config.hosts,
        days: config.days,
        start: config.start.clone(),
        seed: config.seed,
        activation_days: config.activation_days,
        host_days_after_activation: simulator
            .org
            .host_days_after(config.activation_days, config.days),
    });
    serde_json::to_writer(&mut writer, &organization)?;
    writer.write_all(b"\n")?;
    for record in simulator.truth() {
        serde_json::to_writer(&mut writer, &TruthLine::Attack(record))?;
        writer.write_all(b"\n")?;
    }
    for story in simulator.stories() {
        serde_json::to_writer(&mut writer, &TruthLine::Story(story))?;
        writer.write_all(b"\n")?;
    }
    writer
        .flush()
        .with_context(|| format!("writing {}", path.display()))
}

/// What `truth.jsonl` holds.
pub struct Truth {
    pub organization: Option<OrganizationSummary>,
    pub attacks: Vec<TruthRecord>,
    pub stories: Vec<StoryRecord>,
}

pub fn read_truth(path: &Path) -> Result<Truth> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut organization = None;
    let mut attacks = Vec::new();
    let mut stories = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a truth record", path.display(), n + 1))?
        {
            TruthLine::Organization(o) => organization = Some(o),
            TruthLine::Attack(a) => attacks.push(a),
            TruthLine::Story(s) => stories.push(s),
        }
    }
    Ok(Truth {
        organization,
        attacks,
        stories,
    })
}

/// The alerts of a JSON-lines file; an alert written again (a streamed scan
/// rewrites one whose incident or beacon changed) counts once, as its last
/// line has it.
pub fn read_alerts(path: &Path) -> Result<Vec<AlertSummary>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut alerts: Vec<AlertSummary> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let alert: AlertSummary = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not an alert", path.display(), n + 1))?;
        match seen.get(&alert.id).filter(|_| !alert.id.is_empty()) {
            Some(&at) => alerts[at] = alert,
            None => {
                seen.insert(alert.id.clone(), alerts.len());
                alerts.push(alert);
            }
        }
    }
    Ok(alerts)
}

pub fn evaluate_files(truth: &Path, alerts: &Path) -> Result<seldom_simulate::Evaluation> {
    let Truth {
        organization,
        attacks,
        stories,
    } = read_truth(truth)?;
    let Some(organization) = organization else {
        bail!(
            "{} has no organization record (was it written by seldom simulate?)",
            truth.display()
        );
    };
    let alerts = read_alerts(alerts)?;
    Ok(evaluate(
        &attacks,
        &stories,
        &alerts,
        organization.host_days_after_activation,
    ))
}

pub fn run_evaluate(args: &EvaluateArgs) -> Result<ExitCode> {
    let evaluation = evaluate_files(&args.truth, &args.alerts)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &evaluation)?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{}", evaluation.table())?;
    }
    Ok(ExitCode::SUCCESS)
}
