//! `seldom serve` against hostile and quiet clocks: a record dated 2099 is
//! refused as a future event and deletes no stored alert, and the last
//! connection of a quiet feed alerts within seconds, with nothing after it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::time::{Duration, Instant};

use common::serve;
use serde_json::Value;

const SYSMON: &str = r#""Channel":"Microsoft-Windows-Sysmon/Operational""#;

/// A process start and its connection to `ip`, on `host` at `time`.
fn connection(host: &str, time: &str, guid: &str, ip: &str) -> [String; 2] {
    [
        format!(
            r#"{{"EventID":1,{SYSMON},"Hostname":"{host}","UtcTime":"{time}","ProcessGuid":"{{{guid}}}","ProcessId":"7","Image":"C:\\tools\\t.exe","CommandLine":"t.exe"}}"#
        ),
        format!(
            r#"{{"EventID":3,{SYSMON},"Hostname":"{host}","UtcTime":"{time}","ProcessGuid":"{{{guid}}}","ProcessId":"7","Image":"C:\\tools\\t.exe","DestinationIp":"{ip}","DestinationPort":"443","Initiated":"true"}}"#
        ),
    ]
}

fn alert_ids(server: &serve::Server) -> Vec<String> {
    let (status, alerts) = server.get("/api/v1/alerts?limit=1000");
    assert_eq!(status, 200, "{alerts}");
    alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn checkpoints(server: &serve::Server) -> u64 {
    server.get("/api/v1/status").1["checkpoints"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_quiet_feed_alerts_and_a_record_from_2099_deletes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state");
    let args = ["--activation-days", "0", "--checkpoint-interval", "1s"];
    let server = serve::start(&state, None, &args);

    // Two hosts' rare connections, then nothing: the reorder buffer is
    // released on wall time, so both alert without a later event.
    let mut lines: Vec<String> = Vec::new();
    lines.extend(connection(
        "WS1",
        "2024-05-01 10:00:00.000",
        "a",
        "198.18.7.1",
    ));
    lines.extend(connection(
        "WS2",
        "2024-05-01 10:00:01.000",
        "b",
        "198.18.7.2",
    ));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let sent = Instant::now();
    server.ingest(&refs);
    let alerts = server.wait_for("/api/v1/alerts", |v: &Value| {
        v["alerts"].as_array().is_some_and(|a| a.len() == 2)
    });
    assert!(
        sent.elapsed() < Duration::from_secs(20),
        "the quiet feed took {:?} to alert: {alerts}",
        sent.elapsed()
    );
    let before = alert_ids(&server);

    // One record from a third host, dated 2099: refused and counted, and the
    // checkpoints after it keep every alert.
    let future = connection("WS3", "2099-01-01 00:00:00.000", "c", "198.18.7.3");
    let refs: Vec<&str> = future.iter().map(String::as_str).collect();
    server.ingest(&refs);
    let status = server.wait_for("/api/v1/status", |s| {
        s["future_events"].as_u64() == Some(2) && s["queue_depth"] == 0
    });
    assert!(!status["clock"].is_null(), "{status}");
    let seen = checkpoints(&server);
    server.wait_for("/api/v1/status", |s| {
        s["checkpoints"].as_u64().is_some_and(|c| c >= seen + 2)
    });
    assert_eq!(alert_ids(&server), before, "alerts were deleted");

    // And after a restart from the store.
    server.stop();
    let server = serve::start(&state, None, &args);
    assert_eq!(
        alert_ids(&server),
        before,
        "alerts were lost across a restart"
    );
    let (_, metrics) = server.get_text("/metrics");
    assert!(metrics.contains("seldom_future_events_total"), "{metrics}");
}

#[test]
fn events_held_in_the_reorder_buffer_survive_a_crash() {
    // The buffer is checkpointed incrementally, in its own table: what it
    // held at the last checkpoint is there after a SIGKILL.
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state");
    let config = work.path().join("seldom.toml");
    std::fs::write(
        &config,
        "[detect]\nactivation_days = 0\n[serve]\nreorder_wall_timeout = \"1h\"\n",
    )
    .unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--checkpoint-interval",
        "1s",
    ];
    let server = serve::start(&state, None, &args);
    let mut lines: Vec<String> = Vec::new();
    lines.extend(connection(
        "WS1",
        "2024-05-01 10:00:00.000",
        "a",
        "198.18.9.1",
    ));
    lines.extend(connection(
        "WS2",
        "2024-05-01 09:59:00.000",
        "b",
        "93.184.216.34",
    ));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    server.ingest(&refs);
    let status = server.wait_for("/api/v1/status", |s| s["buffered_events"] == 4);
    let seen = status["checkpoints"].as_u64().unwrap();
    server.wait_for("/api/v1/status", |s| {
        s["checkpoints"].as_u64().is_some_and(|c| c >= seen + 2)
    });
    assert!(alert_ids(&server).is_empty(), "nothing is released yet");
    server.crash();

    let server = serve::start(&state, None, &args);
    let mut later: Vec<String> = Vec::new();
    later.extend(connection(
        "WS1",
        "2024-05-01 10:30:00.000",
        "c",
        "93.184.216.34",
    ));
    later.extend(connection(
        "WS2",
        "2024-05-01 10:30:01.000",
        "d",
        "93.184.216.34",
    ));
    let refs: Vec<&str> = later.iter().map(String::as_str).collect();
    server.ingest(&refs);
    let alerts = server.wait_for("/api/v1/alerts", |v| {
        v["alerts"].as_array().is_some_and(|a| {
            a.iter()
                .any(|a| a["alert"]["destination"]["ip"] == "198.18.9.1")
        })
    });
    assert!(!alerts.is_null());
}
