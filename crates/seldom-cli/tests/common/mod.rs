//! Helpers shared by the CLI tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

pub mod serve;

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The corpus beside the checkout; `None` outside CI when it is absent, a
/// loud failure under `CI=true`.
pub fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "corpus missing at {}",
        dir.display()
    );
    eprintln!("skipping: no corpus at {}", dir.display());
    None
}

pub fn seldom() -> Command {
    Command::cargo_bin("seldom").expect("binary built")
}

/// Asserts a usage or input error: exit code 2 and `needle` in stderr.
pub fn assert_refused(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
}

/// Asserts a run succeeded, showing its stderr when it did not.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One JSON value per line of a command's stdout.
pub fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A JSON file (a `--stats` file, say).
pub fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Simulates an organization into `out` (`seldom simulate`); returns its
/// telemetry file.
pub fn simulate(out: &std::path::Path, hosts: u32, days: u32, seed: u64) -> PathBuf {
    let output = seldom()
        .args([
            "simulate",
            "--hosts",
            &hosts.to_string(),
            "--days",
            &days.to_string(),
        ])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(out)
        .output()
        .expect("seldom simulate");
    assert_success(&output);
    out.join("telemetry.jsonl")
}
