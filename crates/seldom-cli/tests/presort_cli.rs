//! The presort in bounded memory raises exactly the alerts of the presort
//! in memory: a simulated organization shuffled into three files, scanned
//! with every event held and with a buffer small enough to write dozens of
//! runs to disk (and merge them, past the open-run cap), gives the same
//! alert lines, ids included, byte for byte; `--stats` says what spilled.

mod common;

use std::path::Path;

use serde_json::Value;

fn scan(paths: &[&Path], extra: &[&str], stats: &Path) -> Vec<u8> {
    let out = common::seldom()
        .args(["scan", "--format", "jsonl", "-q", "--activation-days", "3"])
        .args(paths)
        .args(extra)
        .arg("--stats")
        .arg(stats)
        .output()
        .expect("seldom scan");
    common::assert_success(&out);
    out.stdout
}

#[test]
fn a_spilled_presort_raises_the_alerts_of_one_held_in_memory() {
    let dir = tempfile::tempdir().expect("a folder");
    let telemetry = common::simulate(dir.path(), 40, 12, 3);
    let text = std::fs::read_to_string(telemetry).expect("telemetry");
    // Shuffled and dealt into three files: nothing is in time order.
    let mut lines: Vec<&str> = text.lines().collect();
    fastrand::Rng::with_seed(11).shuffle(&mut lines);
    let files: Vec<_> = (0..3)
        .map(|i| dir.path().join(format!("part{i}.jsonl")))
        .collect();
    for (i, file) in files.iter().enumerate() {
        let part: Vec<&str> = lines.iter().copied().skip(i).step_by(3).collect();
        std::fs::write(file, part.join("\n") + "\n").expect("a part");
    }
    let paths: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let held_stats = dir.path().join("held.json");
    let spilled_stats = dir.path().join("spilled.json");
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).expect("a spill folder");
    let held = scan(&paths, &["--sort-memory", "0"], &held_stats);
    // A few hundred bytes an event: some 90 runs.
    let buffer = format!("{}K", lines.len() * 500 / 90 / 1024);
    let spilled = scan(
        &paths,
        &[
            "--sort-memory",
            &buffer,
            "--spill-dir",
            spill.to_str().expect("utf-8"),
        ],
        &spilled_stats,
    );
    let alerts = common::json_lines(&held);
    assert!(alerts.len() > 10, "{} alerts", alerts.len());
    assert!(
        held == spilled,
        "the alerts differ:\n{}\n---\n{}",
        String::from_utf8_lossy(&held),
        String::from_utf8_lossy(&spilled)
    );
    let read = |path: &Path| -> Value {
        serde_json::from_slice(&std::fs::read(path).expect("stats")).expect("JSON stats")
    };
    let (held_stats, spilled_stats) = (read(&held_stats), read(&spilled_stats));
    assert_eq!(held_stats["presort"]["runs"], 0);
    let runs = spilled_stats["presort"]["runs"].as_u64().expect("runs");
    assert!(runs >= 64, "{runs} runs");
    assert_eq!(held_stats["detection"], spilled_stats["detection"]);
    // The runs are unnamed files: nothing is left in the folder.
    assert_eq!(std::fs::read_dir(&spill).expect("the folder").count(), 0);
}

#[test]
fn an_unwritable_spill_folder_fails_the_scan_and_says_why() {
    let dir = tempfile::tempdir().expect("a folder");
    let telemetry = common::simulate(dir.path(), 5, 2, 3);
    let out = common::seldom()
        .args([
            "scan",
            "-q",
            "--sort-memory",
            "10K",
            "--spill-dir",
            "/nonexistent/spill",
        ])
        .arg(telemetry)
        .output()
        .expect("seldom scan");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No such file"), "{stderr}");
}
