//! Command-line definitions (clap). Only parsing lives here; each command's
//! behaviour lives in its own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "seldom",
    version,
    about = "Find processes that talk to hosts your organization seldom talks to."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read telemetry files, folders, archives or standard input (`-`) and raise alerts.
    Scan(Box<ScanArgs>),
    /// Print the variation catalog, or check one.
    Catalog(CatalogArgs),
    /// Write a simulated organization's telemetry, with the attacks injected into it.
    Simulate(SimulateArgs),
    /// Score alerts against a simulation's truth.
    Evaluate(EvaluateArgs),
    /// Simulate a small organization, scan it, and show the alerts and their evaluation.
    Demo(DemoArgs),
    /// Run the detection as a service: HTTP ingest, tailed files, REST API and web UI.
    Serve(Box<ServeArgs>),
    /// Run one member of a Kafka deployment: N workers in one consumer group share the work, exactly once.
    Worker(WorkerArgs),
    /// Kafka tools: `produce` replays files into the input topic.
    Kafka(KafkaArgs),
    /// Say why a connection did or did not alert: an alert's id, or a host and destination.
    Explain(Box<ExplainArgs>),
    /// What each threshold and window would raise: alerts and incidents per 1,000 host-days, from one pass.
    Tune(Box<TuneArgs>),
    /// Ship files to a running `seldom serve` in batches under its body limit (gzip, batch ids, retries after 429).
    Send(SendArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page, or write one per command into a folder.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The telemetry, as for `scan`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// An alert id (from `scan`, `serve` or the alerts topic): explains the connection that raised it.
    #[arg(long, value_name = "ID", conflicts_with_all = ["host", "destination", "from", "to"])]
    pub alert: Option<String>,
    /// Connections of this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Connections to this address, name asked for, or destination key (registered domain or address).
    #[arg(long)]
    pub destination: Option<String>,
    /// Connections at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Connections at or before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Connections explained at most (the first ones).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// One JSON object per connection instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub detect: DetectArgs,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The telemetry, as for `scan`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The thresholds tried (`rare_hosts`), e.g. `1-10` or `2,3,5`.
    #[arg(long, value_name = "LIST", default_value = "1-10", value_parser = parse_list)]
    pub grid_rare_hosts: NumberList,
    /// The windows tried (`training_days`), e.g. `7,14,30`.
    #[arg(long, value_name = "LIST", default_value = "7,14,30", value_parser = parse_list)]
    pub grid_training_days: NumberList,
    /// One JSON document (`host_days`, `cells`) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// Positive whole numbers, written `1-10`, `2,3,5`, or a mix (`1-3,5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberList(pub Vec<u32>);

/// A size in bytes, `K`, `M` or `G` (binary: 1K is 1024 bytes).
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((at, 'K' | 'k')) => (&text[..at], 10),
        Some((at, 'M' | 'm')) => (&text[..at], 20),
        Some((at, 'G' | 'g')) => (&text[..at], 30),
        _ => (text, 0),
    };
    let number: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (bytes, or a number with K, M or G)"))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

fn parse_list(text: &str) -> Result<NumberList, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{s:?} is not a whole number above 0"))
        };
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to)?);
                if from > to || to - from > 1_000 {
                    return Err(format!("{part:?} is not a range from low to high"));
                }
                out.extend(from..=to);
            }
            None => out.push(number(part)?),
        }
    }
    if out.is_empty() {
        return Err("the list is empty".into());
    }
    Ok(NumberList(out))
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Files or folders (read recursively): JSON lines, gzip or not, Zeek TSV, Linux audit, EVTX.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The service's address, e.g. `http://127.0.0.1:8470`.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The service's bearer token.
    #[arg(long, env = "SELDOM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Uncompressed bytes per batch at most (a batch over the service's limit is split again).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    pub batch_bytes: usize,
    /// How long one batch may wait for the service (429, 503, a restart) before the send fails.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5m")]
    pub patience: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `seldom.1` and a page per command (`seldom-scan.1`, ...) into this folder instead of printing `seldom.1`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Bootstrap servers (`host:port,...`); overrides `[kafka] bootstrap`.
    #[arg(long, value_name = "BOOTSTRAP")]
    pub kafka: Option<String>,
    /// A TOML file: `[detect]` (the keys of `scan --config`) and `[kafka]`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A variation catalog (TOML) replacing the built-in one.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// This worker's stable name in the deployment (its transactional id is
    /// GROUP.ID): give a restarted worker the same one.
    #[arg(long, value_name = "ID", default_value = "worker")]
    pub id: String,
    /// A folder for local copies of this worker's partitions' state: a
    /// restarted worker given its partitions back restores from them when
    /// the changelog holds nothing newer (the changelog stays the truth).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Serve the worker's Prometheus metrics at http://ADDR/metrics, with
    /// /healthz and /readyz (503 and the reason while it starts, restores or
    /// has just aborted a transaction).
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<String>,
}

#[derive(Debug, Args)]
pub struct KafkaArgs {
    #[command(subcommand)]
    pub command: KafkaCommand,
}

#[derive(Debug, Subcommand)]
pub enum KafkaCommand {
    /// Send files (JSON lines, gzip or not, or EVTX) to the input topic, one record per message.
    Produce(ProduceArgs),
    /// Print each alert's latest record from the alerts topic (read_committed), as JSON lines.
    Alerts(AlertsArgs),
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Bootstrap servers (`host:port,...`); overrides `[kafka] bootstrap`.
    #[arg(long, value_name = "BOOTSTRAP")]
    pub kafka: Option<String>,
    /// A TOML file with a `[kafka]` section (as the worker's).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Wait until this many distinct alerts have come.
    #[arg(long, value_name = "N")]
    pub expect: Option<usize>,
    /// Stop after this long without a new record (e.g. `5s`).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub idle: std::time::Duration,
    /// Stop after this long in any case.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Bootstrap servers (`host:port,...`); overrides `[kafka] bootstrap`.
    #[arg(long, value_name = "BOOTSTRAP")]
    pub kafka: Option<String>,
    /// The topic (default: `[kafka.topics] input`, `seldom.telemetry`).
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// A TOML file with a `[kafka]` section (as the worker's).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Files or folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML file: `[detect]` (the keys of `scan --config`), `[serve]`, `[[input.file]]`, `[kafka]`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Follow a cluster of `seldom worker`s at these bootstrap servers
    /// (`host:port,...`; overrides `[kafka] bootstrap`): read their alerts
    /// into the store, publish allowlist entries to them, detect nothing here.
    #[arg(long, value_name = "BOOTSTRAP", conflicts_with = "tail")]
    pub kafka: Option<String>,
    /// The address to listen on (default 127.0.0.1:8470).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The folder of the durable state (default ./seldom-state).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Bearer token for the API and UI; required to listen beyond loopback.
    #[arg(long, env = "SELDOM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key, serves HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Files (paths or globs) to follow, in addition to `[[input.file]]`.
    #[arg(long = "tail", value_name = "PATH")]
    pub tail: Vec<String>,
    /// How often everything is committed (e.g. `5s`).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub checkpoint_interval: Option<std::time::Duration>,
    /// Detection settings as in `scan`: activation period in days.
    #[arg(long)]
    pub activation_days: Option<u32>,
    /// A variation catalog instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
}

/// The size and seed of a simulated organization.
#[derive(Debug, Args)]
pub struct OrgArgs {
    /// Hosts in the organization.
    #[arg(long, default_value_t = 200)]
    pub hosts: u32,
    /// Days of telemetry.
    #[arg(long, default_value_t = 21)]
    pub days: u32,
    /// The same seed gives the same telemetry.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    /// First day, YYYY-MM-DD.
    #[arg(long, default_value = "2024-03-04")]
    pub start: String,
    /// A folder for telemetry.jsonl and truth.jsonl, or `-` for telemetry on stdout.
    #[arg(long, value_name = "DIR|-")]
    pub out: PathBuf,
    /// With `--out -`, where to write the truth.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Attacks are injected after this many days (match the detection's activation).
    #[arg(long, default_value_t = 14)]
    pub activation_days: u32,
    /// Injected attacks per variation.
    #[arg(long, default_value_t = 2)]
    pub attacks_per_variation: u32,
    /// Injected stories of each kind: a spread (one destination reaching 5
    /// hosts in 3 hours after an Office macro) and a beacon (rundll32 every
    /// 300 s ± 10 % for 8 hours).
    #[arg(long, default_value_t = 1)]
    pub stories: u32,
    /// Share of hosts that are Linux servers.
    #[arg(long, default_value_t = 0.15)]
    pub linux_share: f64,
    /// Share of Windows hosts that are developers' workstations.
    #[arg(long, default_value_t = 0.12)]
    pub developer_share: f64,
    /// Share of Windows hosts that are servers.
    #[arg(long, default_value_t = 0.08)]
    pub server_share: f64,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The simulation's truth.jsonl.
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Alerts as JSON lines (`seldom scan --format jsonl`).
    #[arg(value_name = "ALERTS")]
    pub alerts: PathBuf,
    /// Print the evaluation as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    /// Keep the telemetry, truth and alerts in this folder (default: a temporary one).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Show informational alerts too, not only their count.
    #[arg(long)]
    pub all: bool,
}

/// The detection's settings, shared by the commands that detect.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Detection settings (TOML); flags below override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A variation catalog (TOML) replacing the built-in one.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// Internal networks, replacing the default list (comma-separated CIDRs).
    #[arg(long, value_name = "CIDR[,CIDR]", value_delimiter = ',')]
    pub internal_networks: Option<Vec<String>>,

    /// Days of a platform's event time that only train before alerts (default 14).
    #[arg(long, value_name = "DAYS")]
    pub activation_days: Option<u32>,

    /// The sliding baseline window, in days (default 30).
    #[arg(long, value_name = "DAYS")]
    pub training_days: Option<u32>,

    /// One alert per variation, host, image and destination per this many days (default 1).
    #[arg(long, value_name = "DAYS")]
    pub dedup_days: Option<u32>,

    /// Rare means fewer than this many other hosts in the window (default 3).
    #[arg(long, value_name = "N")]
    pub rare_hosts: Option<u32>,

    /// How far out of order events may arrive, e.g. `10m`, `30s` (default 10m).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub reorder_window: Option<std::time::Duration>,

    /// How hosts are identified: `short` folds `WS5.corp.local` into `ws5`; `fqdn` keeps it.
    #[arg(long, value_enum)]
    pub host_naming: Option<HostNamingArg>,

    /// Alerts sharing a destination within this long of the first form one incident, e.g. `24h` (default 24h).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub incident_window: Option<std::time::Duration>,

    /// New alerts per variation per day at most; past it they fold into one digest alert (default 0: no budget).
    #[arg(long, value_name = "N")]
    pub max_alerts_per_day: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, folders (read recursively), archives (.zip, .tar.gz, .gz), or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write the normalized events as JSON lines instead of alerts: what seldom understood.
    #[arg(long)]
    pub events: bool,

    /// Alert format: `jsonl` (default when stdout is not a terminal), `table`, `ecs` or `ocsf`.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,

    /// Where to write alerts or events (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write read and detection statistics as one JSON object.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,

    #[command(flatten)]
    pub detect: DetectArgs,

    /// Load the detection state from this folder's store (FOLDER/seldom.redb, the
    /// format `serve --state` uses), continue from it, and save it back.
    #[arg(long, value_name = "FOLDER")]
    pub state: Option<PathBuf>,

    /// Detect as events arrive instead of ordering all input by time first.
    /// For input already in time order (daily logs) too large to hold in memory.
    #[arg(long)]
    pub stream: bool,

    /// Memory the presort holds events in (bytes, or with K, M or G); past
    /// it, sorted runs are written to temporary files and merged, with the
    /// same alerts. 0 holds every event in memory.
    #[arg(long, default_value = "384M", value_name = "SIZE", value_parser = parse_size)]
    pub sort_memory: usize,

    /// Where the presort writes its runs (default: the system's temporary folder).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,

    /// Lines longer than this many bytes are skipped (and counted).
    #[arg(long, default_value_t = 4 << 20, value_name = "BYTES")]
    pub max_line_bytes: usize,

    /// The host of raw Linux audit records that name none (no `node=`);
    /// by default, the file's name without its extensions.
    #[arg(long, value_name = "NAME")]
    pub audit_host: Option<String>,

    /// Parse every JSON line, even those whose event id no source reads (by
    /// default they are recognised from their bytes and counted unparsed).
    /// Slower; the same events and counts.
    #[arg(long)]
    pub no_prefilter: bool,

    /// Render every EVTX record to XML and parse it (by default records are
    /// read from their templates where they can be). Slower; the same events
    /// and counts.
    #[arg(long)]
    pub no_evtx_templates: bool,

    /// Walk every JSON line with serde_json's deserializer (by default with
    /// seldom's own scanner, which hands serde what it does not model).
    /// Slower; the same events and counts.
    #[arg(long)]
    pub no_json_scanner: bool,

    /// Hide the progress bar even on a terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Check this catalog file instead of printing the built-in one.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
    /// Print every process-list entry with its provenance (list, name, source
    /// and function or curator's reason), one per line, tab-separated.
    #[arg(long, conflicts_with = "check")]
    pub lists: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HostNamingArg {
    Short,
    Fqdn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// seldom's own alert, one JSON object per line.
    Jsonl,
    /// A readable summary per alert.
    Table,
    /// An Elastic Security alert (ECS 8.11), one per line.
    Ecs,
    /// An OCSF 1.1 Detection Finding (class 2004), one per line.
    Ocsf,
}
