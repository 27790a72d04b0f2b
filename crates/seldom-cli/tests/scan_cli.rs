//! `seldom scan` end to end, as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use common::{assert_success, corpus, json_lines, read_json, seldom};

#[test]
fn events_and_stats_from_a_corpus_archive() {
    let Some(corpus) = corpus() else { return };
    let stats_file = tempfile::NamedTempFile::new().unwrap();
    let output = seldom()
        .arg("scan")
        .arg(corpus.join("open/covenant_installutil.zip"))
        .args(["--events", "--stats"])
        .arg(stats_file.path())
        .output()
        .unwrap();
    assert_success(&output);
    let events = json_lines(&output.stdout);
    let installutil = events.iter().find(|e| {
        e["kind"] == "network_connection"
            && e["destination_ip"] == "10.10.10.5"
            && e["image"]
                .as_str()
                .is_some_and(|i| i.to_ascii_lowercase().ends_with("installutil.exe"))
    });
    assert!(
        installutil.is_some(),
        "no InstallUtil connection to 10.10.10.5"
    );
    let stats: serde_json::Value = read_json(stats_file.path());
    assert_eq!(
        stats["events_read"].as_u64().unwrap() as usize,
        events.len()
    );
    assert!(stats["events"]["network_connection"].as_u64().unwrap() > 0);
    assert_eq!(stats["files_read"], 1);
}

#[test]
fn the_whole_corpus_scans_with_a_zero_exit() {
    let Some(corpus) = corpus() else { return };
    let stats_file = tempfile::NamedTempFile::new().unwrap();
    let output = seldom()
        .arg("scan")
        .arg(&corpus)
        .args([
            "--activation-days",
            "0",
            "--format",
            "jsonl",
            "-o",
            "/dev/null",
            "--stats",
        ])
        .arg(stats_file.path())
        .output()
        .unwrap();
    assert_success(&output);
    let stats: serde_json::Value = read_json(stats_file.path());
    assert!(stats["files_read"].as_u64().unwrap() >= 700);
    assert!(stats["detection"]["alerts"].as_u64().unwrap() > 0);
}

#[test]
fn standard_input_is_read_with_dash() {
    let line = r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1.corp.local","UtcTime":"2020-07-22 03:27:52.776","ProcessId":"5","QueryName":"Example.COM.","QueryResults":"::ffff:93.184.216.34;"}"#;
    let output = seldom()
        .args(["scan", "-", "--events"])
        .write_stdin(format!("{line}\nnot json\n"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let event: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(event["kind"], "dns_query");
    assert_eq!(event["host"], "ws1");
    assert_eq!(event["query_name"], "example.com");
    assert_eq!(event["answers"][0], "93.184.216.34");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("1 skipped (1 bad_json)"), "{stderr}");
}

#[test]
fn fqdn_host_naming_keeps_the_domain() {
    let line = r#"{"EventID":5,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1.corp.local","UtcTime":"2020-07-22 03:27:52.776","ProcessId":"5"}"#;
    let output = seldom()
        .args(["scan", "-", "--events", "--host-naming", "fqdn"])
        .write_stdin(line)
        .output()
        .unwrap();
    let event: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(event["host"], "ws1.corp.local");
}

#[test]
fn a_missing_path_exits_1_after_reading_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"EventID":5,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"h","UtcTime":"2020-07-22 03:27:52.776","ProcessId":"5"}"#).unwrap();
    let output = seldom()
        .arg("scan")
        .arg(dir.path().join("missing.json"))
        .arg(&good)
        .arg("--events")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 1);
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("missing.json")
    );
}

#[test]
fn usage_errors_exit_2() {
    seldom().arg("scan").assert().code(2);
    seldom()
        .args(["scan", "x", "--host-naming", "weird"])
        .assert()
        .code(2);
}
