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
    /// Read telemetry files, folders, archives or standard input (`-`).
    Scan(ScanArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, folders (read recursively), archives (.zip, .tar.gz, .gz), or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write every normalized event as a JSON line: what seldom understood of the input.
    #[arg(long)]
    pub events: bool,

    /// Where to write events (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write read statistics (events by kind, skipped records by reason) as one JSON object.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,

    /// How hosts are identified: `short` folds `WS5.corp.local` into `ws5`; `fqdn` keeps it.
    #[arg(long, value_enum, default_value_t = HostNamingArg::Short)]
    pub host_naming: HostNamingArg,

    /// Lines longer than this many bytes are skipped (and counted).
    #[arg(long, default_value_t = 4 << 20, value_name = "BYTES")]
    pub max_line_bytes: usize,

    /// Hide the progress bar even on a terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HostNamingArg {
    Short,
    Fqdn,
}
