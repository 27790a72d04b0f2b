//! `seldom explain` on a simulated organization: every connection of a host
//! explained, and the verdicts agree with what `scan` raised (each alert of
//! the host is a verdict's "raised", every other connection stopped at a
//! named step, a repeat or no alert); an alert id explains the connection
//! that raised it, its winning catalog row among the rows checked.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn simulate(dir: &Path) -> std::path::PathBuf {
    let out = common::seldom()
        .args([
            "simulate", "--hosts", "60", "--days", "17", "--seed", "4", "--out",
        ])
        .arg(dir)
        .output()
        .expect("seldom simulate");
    assert!(out.status.success());
    dir.join("telemetry.jsonl")
}

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn scan(path: &Path) -> Vec<Value> {
    let out = common::seldom()
        .args(["scan", "--format", "jsonl"])
        .arg(path)
        .output()
        .expect("seldom scan");
    assert!(out.status.success());
    json_lines(&out.stdout)
}

fn explain(path: &Path, args: &[&str]) -> Vec<Value> {
    let out = common::seldom()
        .arg("explain")
        .arg(path)
        .args(args)
        .arg("--json")
        .output()
        .expect("seldom explain");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out.stdout)
}

#[test]
fn every_connection_of_a_host_is_explained_as_scan_decided_it() {
    let dir = tempfile::tempdir().expect("a folder");
    let telemetry = simulate(dir.path());
    let alerts = scan(&telemetry);
    let host = alerts
        .iter()
        .find(|a| a["severity"] != "informational")
        .and_then(|a| a["host"].as_str())
        .expect("a host with a notable alert")
        .to_owned();
    let raised_here: BTreeSet<&str> = alerts
        .iter()
        .filter(|a| a["host"] == host.as_str())
        .filter_map(|a| a["id"].as_str())
        .collect();
    let verdicts = explain(&telemetry, &["--host", &host, "--limit", "100000"]);
    assert!(verdicts.len() > raised_here.len());
    let mut raised = BTreeSet::new();
    let mut stops = BTreeSet::new();
    for v in &verdicts {
        assert_eq!(v["host"], host.as_str());
        let outcome = v["outcome"].as_str().expect("an outcome");
        let stop = v["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["outcome"] == "stop");
        if let Some(id) = outcome
            .strip_prefix("alert ")
            .and_then(|rest| rest.split_whitespace().next())
        {
            assert!(stop.is_none(), "raised, yet a step stopped it: {v}");
            raised.insert(id.to_owned());
        } else if let Some(step) = outcome.strip_prefix("no alert: stopped at ") {
            assert_eq!(
                stop.map(|s| s["check"].clone()),
                Some(Value::from(step)),
                "{v}"
            );
            stops.insert(step.to_owned());
        } else {
            assert!(outcome.starts_with("counted as a repeat of alert"), "{v}");
        }
    }
    let raised: BTreeSet<&str> = raised.iter().map(String::as_str).collect();
    assert_eq!(
        raised, raised_here,
        "the host's alerts, each from its connection"
    );
    for step in ["activation", "prevalence"] {
        assert!(
            stops.contains(step),
            "no connection stopped at {step}: {stops:?}"
        );
    }
}

#[test]
fn an_alert_id_explains_the_connection_that_raised_it() {
    let dir = tempfile::tempdir().expect("a folder");
    let telemetry = simulate(dir.path());
    let alerts = scan(&telemetry);
    let alert = alerts
        .iter()
        .find(|a| a["severity"] == "high" || a["severity"] == "low")
        .expect("a notable alert");
    let id = alert["id"].as_str().expect("an id");
    let verdicts = explain(&telemetry, &["--alert", id]);
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    let v = &verdicts[0];
    assert!(
        v["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with(&format!(
                "alert {id} raised: {}",
                alert["variation"].as_str().unwrap_or_default()
            ))),
        "{v}"
    );
    assert_eq!(v["time"], alert["first_seen"]);
    let rows = v["catalog"].as_array().expect("catalog rows");
    let winner = rows
        .iter()
        .find(|r| r["variation"] == alert["variation"])
        .expect("the alert's row");
    assert_eq!(winner["matched"], true);
    assert!(rows.iter().any(|r| r["matched"] == false), "{v}");
    let prevalence = v["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["check"] == "prevalence"))
        .expect("a prevalence step");
    let hosts = alert["prevalence"]["hosts_in_window"]
        .as_u64()
        .expect("evidence");
    assert!(
        prevalence["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with(&format!("{hosts} other hosts"))),
        "{prevalence} against {}",
        alert["prevalence"]
    );

    let out = common::seldom()
        .arg("explain")
        .arg(&telemetry)
        .args(["--alert", "0000000000000000"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no alert 0000000000000000"));
}
