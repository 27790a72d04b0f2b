//! `seldom worker` and `seldom kafka produce`: the settings file (`[detect]`
//! and `[kafka]`), the flags over it, and the process around the worker's
//! loop (signals, the metrics endpoint, exit codes).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use seldom_detect::DetectConfig;
use seldom_ingest::{IngestOptions, NormalizeOptions};
use seldom_kafka::worker::client_config;
use seldom_kafka::{KafkaConfig, WorkerMetrics, WorkerOptions};
use serde::Deserialize;

use crate::cli::{AlertsArgs, KafkaArgs, KafkaCommand, ProduceArgs, WorkerArgs};
use crate::settings;

/// The worker's settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WorkerFile {
    detect: DetectConfig,
    kafka: KafkaConfig,
}

fn load(path: Option<&Path>, bootstrap: Option<&str>) -> Result<WorkerFile> {
    let mut file = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<WorkerFile>(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => WorkerFile::default(),
    };
    if let Some(bootstrap) = bootstrap {
        file.kafka.bootstrap = bootstrap.to_owned();
    }
    file.kafka.checked()?;
    Ok(file)
}

pub fn worker(args: &WorkerArgs) -> Result<ExitCode> {
    let file = load(args.config.as_deref(), args.kafka.as_deref())?;
    let catalog = settings::catalog(args.catalog.as_deref())?;
    file.detect.build(catalog.clone()).context("[detect]")?;
    let stop = Arc::new(AtomicBool::new(false));
    let metrics = Arc::new(WorkerMetrics::new());
    let _signals = background(stop.clone(), metrics.clone(), args.metrics.clone())?;
    let options = WorkerOptions {
        ingest: IngestOptions {
            normalize: NormalizeOptions {
                host_naming: file.detect.host_naming,
                ..NormalizeOptions::default()
            },
            decode_threads: 1,
            ..IngestOptions::default()
        },
        detect: file.detect,
        kafka: file.kafka,
        catalog,
        id: args.id.clone(),
        stop,
        state: args.state.clone(),
    };
    eprintln!(
        "seldom worker {}: group {} on {}",
        options.id, options.kafka.group_id, options.kafka.bootstrap
    );
    seldom_kafka::run(&options, &metrics)?;
    eprintln!("seldom worker {}: stopped", options.id);
    Ok(ExitCode::SUCCESS)
}

/// A thread that sets `stop` on SIGINT or SIGTERM and serves the metrics.
fn background(
    stop: Arc<AtomicBool>,
    metrics: Arc<WorkerMetrics>,
    address: Option<String>,
) -> Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("a runtime for signals and metrics")?;
    let listener = match &address {
        Some(address) => Some(
            runtime
                .block_on(tokio::net::TcpListener::bind(address))
                .with_context(|| format!("--metrics {address}"))?,
        ),
        None => None,
    };
    Ok(std::thread::spawn(move || {
        runtime.block_on(async move {
            if let Some(listener) = listener {
                tokio::spawn(seldom_kafka::metrics::serve(listener, metrics));
            }
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => return,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            eprintln!("seldom worker: stopping after the current batch");
            stop.store(true, Ordering::SeqCst);
        });
    }))
}

pub fn kafka(args: &KafkaArgs) -> Result<ExitCode> {
    match &args.command {
        KafkaCommand::Produce(args) => produce(args),
        KafkaCommand::Alerts(args) => alerts(args),
    }
}

fn alerts(args: &AlertsArgs) -> Result<ExitCode> {
    let file = load(args.config.as_deref(), args.kafka.as_deref())?;
    let client = client_config(&file.kafka);
    let until = seldom_kafka::alerts::Until {
        ids: args.expect,
        idle: args.idle,
        timeout: args.timeout,
    };
    let latest = seldom_kafka::alerts::latest(&client, &file.kafka.topics.alerts, until)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for record in latest.values() {
        std::io::Write::write_all(&mut out, record)?;
        std::io::Write::write_all(&mut out, b"\n")?;
    }
    std::io::Write::flush(&mut out)?;
    let short = args.expect.is_some_and(|n| latest.len() < n);
    eprintln!("seldom kafka alerts: {} alerts", latest.len());
    Ok(if short {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn produce(args: &ProduceArgs) -> Result<ExitCode> {
    let file = load(args.config.as_deref(), args.kafka.as_deref())?;
    let client = client_config(&file.kafka);
    seldom_kafka::topics::ensure(&file.kafka, &client)?;
    let topic = args.topic.as_deref().unwrap_or(&file.kafka.topics.input);
    if topic.is_empty() {
        bail!("--topic is empty");
    }
    let produced = seldom_kafka::produce::produce(&client, topic, &args.paths)?;
    eprintln!(
        "seldom kafka produce: {} records ({} bytes) from {} files to {topic}; {} unreadable EVTX records not sent",
        produced.records, produced.bytes, produced.files, produced.unreadable
    );
    Ok(ExitCode::SUCCESS)
}
