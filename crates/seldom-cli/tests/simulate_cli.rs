//! The simulated organization end to end: simulate, scan, evaluate. A
//! regression in any stage (decoding the layouts, enrichment, baseline,
//! catalog, dedup) shows up as a missed attack or a false alert here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use common::{assert_success, seldom};

use serde_json::Value;

#[test]
fn a_small_organization_gives_every_attack_and_few_false_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("org");
    seldom()
        .args([
            "simulate",
            "--hosts",
            "120",
            "--days",
            "20",
            "--seed",
            "7",
            "--attacks-per-variation",
            "3",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let alerts = dir.path().join("alerts.jsonl");
    seldom()
        .arg("scan")
        .arg(out.join("telemetry.jsonl"))
        .args(["--format", "jsonl", "--stream", "-o"])
        .arg(&alerts)
        .assert()
        .success();
    let output = seldom()
        .args(["evaluate", "--json", "--truth"])
        .arg(out.join("truth.jsonl"))
        .arg(&alerts)
        .output()
        .unwrap();
    assert_success(&output);
    let evaluation: Value = serde_json::from_slice(&output.stdout).unwrap();
    let injected = evaluation["injected"].as_u64().unwrap();
    assert!(injected >= 15, "{evaluation}");
    assert_eq!(
        evaluation["found"], injected,
        "missed: {}",
        evaluation["misses"]
    );
    for variation in [
        "msbuild",
        "office-lolbin",
        "curl",
        "vscode-extension",
        "unix-lolbin",
        "rare-external-host",
    ] {
        assert!(
            evaluation["variations"][variation]["found"]
                .as_u64()
                .unwrap()
                > 0,
            "{variation}: {evaluation}"
        );
    }
    let rate = evaluation["false_non_informational_per_1000_host_days"]
        .as_f64()
        .unwrap();
    assert!(
        rate <= 1.0,
        "false alerts per 1,000 host-days: {rate} ({evaluation})"
    );
}

#[test]
fn simulation_is_deterministic_for_a_seed() {
    let run = |seed: &str| {
        let output = seldom()
            .args([
                "simulate", "--hosts", "30", "--days", "3", "--seed", seed, "--out", "-",
            ])
            .output()
            .unwrap();
        assert!(output.status.success());
        output.stdout
    };
    let a = run("5");
    assert!(a.len() > 10_000);
    assert_eq!(a, run("5"));
    assert_ne!(a, run("6"));
}

#[test]
fn demo_prints_alerts_and_the_evaluation() {
    let output = seldom()
        .args(["demo", "--hosts", "60", "--days", "17"])
        .output()
        .unwrap();
    assert_success(&output);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("[HIGH] "), "{text}");
    assert!(
        text.contains("found ") && text.contains("injected attacks"),
        "{text}"
    );
}
