//! `seldom send` against a running `seldom serve` whose body limit is
//! smaller than the batches asked for: every batch the service refuses as
//! too large is split until it is taken, a Zeek TSV log's batches each carry
//! its header and a Linux audit event is never cut, so the service decodes
//! exactly the events `seldom scan` decodes from the same files. Sending the
//! same files again is acknowledged batch by batch without detecting
//! anything twice.

mod common;

use std::path::Path;

use common::serve;
use serde_json::Value;

const CONN_HEADER: &str = "#separator \\x09\n\
#set_separator\t,\n\
#empty_field\t(empty)\n\
#unset_field\t-\n\
#path\tconn\n\
#open\t2024-03-05-10-00-00\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n";

/// Files of three framings in `dir`: a simulated organization's JSON lines,
/// a Zeek conn log and a Linux audit log.
fn inputs(dir: &Path) {
    let out = common::seldom()
        .args([
            "simulate", "--hosts", "20", "--days", "2", "--seed", "5", "--out",
        ])
        .arg(dir.join("sim"))
        .output()
        .expect("seldom simulate");
    assert!(out.status.success());
    let rows: String = (0..400)
        .map(|i| {
            format!(
                "{:.6}\tC{i:05}\t10.1.0.{}\t{}\t198.51.100.{}\t443\ttcp\tssl\t1.5\t512\t4096\tSF\n",
                1_709_632_800.0 + f64::from(i),
                i % 250 + 1,
                50_000 + i,
                i % 250 + 1
            )
        })
        .collect();
    std::fs::write(dir.join("conn.log"), format!("{CONN_HEADER}{rows}")).expect("conn.log");
    let audit: String = (0..300)
        .map(|i| {
            let id = format!("msg=audit(1709632800.{i:03}:{})", 100 + i);
            format!(
                "node=web01 type=SYSCALL {id}: arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid={} uid=0 exe=\"/usr/bin/curl\"\n\
                 node=web01 type=EXECVE {id}: argc=2 a0=\"curl\" a1=\"http://45.1.2.{}/x\"\n\
                 node=web01 type=EOE {id}: \n",
                500 + i,
                i % 200
            )
        })
        .collect();
    std::fs::write(dir.join("audit.log"), audit).expect("audit.log");
}

/// Events `seldom scan` decodes from `path`, from its summary line.
fn scanned_events(path: &Path) -> u64 {
    let out = common::seldom()
        .args(["scan", "--format", "jsonl"])
        .arg(path)
        .output()
        .expect("seldom scan");
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| {
            let (_, rest) = l.split_once(" records, ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no summary in {stderr}"))
}

fn send(base: &str, dir: &Path, batch_bytes: &str) -> String {
    let out = common::seldom()
        .args(["send", "--url", base, "--batch-bytes", batch_bytes])
        .arg(dir)
        .output()
        .expect("seldom send");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// The number before `what` in the summary line.
fn figure(summary: &str, what: &str) -> u64 {
    let before = summary.split(what).next().unwrap_or_default();
    before
        .split_whitespace()
        .last()
        .and_then(|n| n.trim_start_matches('(').parse().ok())
        .unwrap_or_else(|| panic!("no {what:?} in {summary}"))
}

#[test]
fn files_go_in_batches_the_service_takes_and_resends_count_once() {
    let work = tempfile::tempdir().expect("a folder");
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).expect("a folder");
    inputs(&data);
    let config = work.path().join("serve.toml");
    std::fs::write(&config, "[serve]\nmax_body_bytes = 20000\n").expect("config");
    let server = serve::start(
        &work.path().join("state"),
        None,
        &["--config", config.to_str().expect("UTF-8")],
    );

    // Batches of 1 MB against a 20 KB limit: split until taken.
    let summary = send(&server.base, &data, "1000000");
    let expected: u64 = ["sim/telemetry.jsonl", "conn.log", "audit.log"]
        .iter()
        .map(|f| scanned_events(&data.join(f)))
        .sum();
    assert_eq!(figure(&summary, "events accepted"), expected, "{summary}");
    assert_eq!(figure(&summary, "records refused"), 0, "{summary}");
    assert_eq!(figure(&summary, "skipped as malformed"), 0, "{summary}");
    let batches = figure(&summary, "batches taken");
    assert!(
        batches > 8,
        "the batches over the limit were split: {summary}"
    );
    let status = server.wait_for("/api/v1/status", |s: &Value| {
        s["events_detected"].as_u64() == Some(expected)
    });
    assert_eq!(status["events_detected"].as_u64(), Some(expected));

    // Again: the same batches, each acknowledged as stored before.
    let again = send(&server.base, &data, "1000000");
    assert_eq!(figure(&again, "batches taken"), batches, "{again}");
    assert_eq!(figure(&again, "already stored before)"), batches, "{again}");
    assert_eq!(figure(&again, "events accepted"), 0, "{again}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        server.get("/api/v1/status").1["events_detected"].as_u64(),
        Some(expected)
    );
}

/// Batches far smaller than a file: every Zeek batch needs the log's header
/// and an audit event cut in two would lose its process; the service still
/// decodes exactly what `scan` decodes.
#[test]
fn small_batches_keep_zeek_headers_and_audit_events_whole() {
    let work = tempfile::tempdir().expect("a folder");
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).expect("a folder");
    inputs(&data);
    std::fs::remove_dir_all(data.join("sim")).expect("removed");
    let server = serve::start(&work.path().join("state"), None, &[]);
    let summary = send(&server.base, &data, "2000");
    let expected = scanned_events(&data.join("conn.log")) + scanned_events(&data.join("audit.log"));
    assert!(figure(&summary, "batches taken") > 20, "{summary}");
    assert_eq!(figure(&summary, "events accepted"), expected, "{summary}");
    assert_eq!(figure(&summary, "skipped as malformed"), 0, "{summary}");
    assert_eq!(figure(&summary, "ignored"), 0, "{summary}");
}
