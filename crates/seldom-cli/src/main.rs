//! `seldom`: which of your processes talk to hosts your organization seldom talks to.
//!
//! The binary wires the library stages together; it holds no detection logic.
//! Errors are printed once, with their whole chain, and mapped to exit codes a
//! script can test: 0 success, 1 an input could not be read, 2 bad usage or
//! configuration.

#![forbid(unsafe_code)]

mod alert_table;
mod catalog_cmd;
mod cli;
mod demo;
mod docs_cmd;
mod explain_cmd;
mod kafka_cmd;
mod output;
mod presorted;
mod progress;
mod scan;
mod scan_sink;
mod send_cmd;
mod serve_cmd;
mod settings;
mod simulate_cmd;
mod tune_cmd;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Decoding allocates a string per kept field and frees it on the detecting
/// thread; mimalloc handles that pattern far better than glibc's allocator
/// (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Catalog(args) => catalog_cmd::run(&args),
        Command::Simulate(args) => simulate_cmd::run(&args),
        Command::Evaluate(args) => simulate_cmd::run_evaluate(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve_cmd::run(&args),
        Command::Worker(args) => kafka_cmd::worker(&args),
        Command::Kafka(args) => kafka_cmd::kafka(&args),
        Command::Explain(args) => explain_cmd::run(&args),
        Command::Send(args) => send_cmd::run(&args),
        Command::Tune(args) => tune_cmd::run(&args),
        Command::Completions(args) => docs_cmd::completions(args.shell),
        Command::Man(args) => docs_cmd::man(args.out.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("seldom: {error:#}");
            ExitCode::from(2)
        }
    }
}
