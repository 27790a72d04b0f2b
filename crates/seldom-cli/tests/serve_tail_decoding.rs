//! Tailed files whose lines only make sense with what came before them:
//! each followed file keeps its own line framer and decoder across reads,
//! as `scan` keeps them across a file. A Zeek TSV log's later rows are read
//! with the `#fields` header of its first read (and, after a restart, with
//! the header at the file's head); a Linux audit event whose records arrive
//! in two reads is assembled into one event; a line longer than the bound is
//! counted once as `line_too_long`, as `scan` counts it, and a line exactly
//! at the bound is read, as `scan` reads it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::serve::{self, Server};
use common::{assert_success, read_json, seldom};
use serde_json::Value;

/// `IngestOptions::default().max_line_bytes`: what `scan` and the tailer
/// accept as one line.
const MAX_LINE_BYTES: usize = 4 << 20;

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn start(state: &Path, pattern: &Path) -> Server {
    serve::start(
        state,
        None,
        &[
            "--tail",
            pattern.to_str().unwrap(),
            "--checkpoint-interval",
            "100ms",
        ],
    )
}

/// An hour ago, in Unix seconds: recent, and not in the future.
fn an_hour_ago() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        - 3600.0
}

/// Waits until the tailer has handed on every byte of `path`.
fn read_to_end(server: &Server, path: &Path) -> Value {
    let length = std::fs::metadata(path).unwrap().len();
    let name = path.to_str().unwrap();
    server.wait_for("/api/v1/status", |s| {
        s["tail"]["files"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["path"] == name && f["offset"].as_u64() == Some(length))
    })
}

/// Waits until `format` counts `n` decoded events, then lets the tailer look
/// a few more times: the count must stay there.
fn settle(server: &Server, format: &str, n: u64) -> Value {
    server.wait_for("/api/v1/status", |s| {
        s["events_in"][format].as_u64() >= Some(n) && s["queue_depth"] == 0
    });
    std::thread::sleep(Duration::from_secs(1));
    let (_, status) = server.get("/api/v1/status");
    assert_eq!(status["events_in"][format].as_u64(), Some(n), "{status}");
    status
}

const CONN_HEADER: &str = "#separator \\x09\n\
#set_separator\t,\n\
#empty_field\t(empty)\n\
#unset_field\t-\n\
#path\tconn\n\
#open\t2026-11-30-10-00-00\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n";

/// Zeek conn.log rows, one connection each, from `first` on.
fn conn_rows(first: u32, n: u32) -> String {
    let ts = an_hour_ago();
    (first..first + n)
        .map(|i| {
            format!(
                "{:.6}\tC{i:05}\t10.1.0.{}\t{}\t198.51.100.{}\t443\ttcp\tssl\t1.5\t512\t4096\tSF\n",
                ts + f64::from(i),
                i % 250 + 1,
                50_000 + i,
                i % 250 + 1
            )
        })
        .collect()
}

#[test]
fn a_zeek_log_keeps_its_header_across_reads_and_restarts() {
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state");
    let log = work.path().join("conn.log");
    append(&log, &(CONN_HEADER.to_owned() + &conn_rows(0, 3)));
    let server = start(&state, &log);
    settle(&server, "zeek", 3);
    // Later rows, in a later read: no header in front of them.
    append(&log, &conn_rows(3, 2));
    let status = settle(&server, "zeek", 5);
    assert_eq!(status["skipped"], serde_json::json!({}), "{status}");
    // After a restart the tailer resumes in the middle of the file: the
    // header is learned again from its head.
    assert_eq!(server.stop(), Some(0));
    append(&log, &conn_rows(5, 4));
    let server = start(&state, &log);
    let status = settle(&server, "zeek", 4);
    assert_eq!(status["skipped"], serde_json::json!({}), "{status}");
}

/// The records of one `connect` by curl on web01 to 93.184.216.34:443, as
/// auditd writes them: SYSCALL, SOCKADDR, PROCTITLE, then (unless `eoe` is
/// false) EOE.
fn connect_records(serial: u32, eoe: bool) -> Vec<String> {
    let stamp = format!("audit({:.3}:{serial})", an_hour_ago());
    let mut records = vec![
        format!(
            "node=web01 type=SYSCALL msg={stamp}: arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=55d0c0a0 a2=10 a3=0 items=0 ppid=4100 pid={} auid=1000 uid=1000 gid=1000 euid=1000 comm=\"curl\" exe=\"/usr/bin/curl\" key=(null)",
            5000 + serial
        ),
        format!("node=web01 type=SOCKADDR msg={stamp}: saddr=020001BB5DB8D8220000000000000000"),
        format!(
            "node=web01 type=PROCTITLE msg={stamp}: proctitle=6375726C0068747470733A2F2F6578616D706C652E636F6D"
        ),
    ];
    if eoe {
        records.push(format!("node=web01 type=EOE msg={stamp}: "));
    }
    records
}

#[test]
fn an_audit_event_split_across_reads_is_assembled_into_one() {
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state");
    let log = work.path().join("audit.log");
    let records = connect_records(700, true);
    // The SYSCALL record alone, read; then the event's other records.
    append(&log, &format!("{}\n", records[0]));
    let server = start(&state, &log);
    read_to_end(&server, &log);
    append(&log, &(records[1..].join("\n") + "\n"));
    let status = settle(&server, "audit", 1);
    assert_eq!(status["skipped"], serde_json::json!({}), "{status}");
    // An event with no EOE is complete once its file stops growing: it is
    // not held for ever.
    append(&log, &(connect_records(701, false).join("\n") + "\n"));
    settle(&server, "audit", 2);
}

/// A Zeek conn record as JSON, padded with an unread field to `length`
/// bytes (without its newline).
fn padded_conn_json(i: u32, length: usize) -> String {
    let head = format!(
        r#"{{"_path":"conn","ts":{:.6},"uid":"J{i}","id.orig_h":"10.2.0.{i}","id.orig_p":{},"id.resp_h":"198.51.100.{i}","id.resp_p":443,"proto":"tcp","conn_state":"SF","pad":""#,
        an_hour_ago() + f64::from(i),
        40_000 + i
    );
    let tail = "\"}";
    let pad = length
        .checked_sub(head.len() + tail.len())
        .expect("room for the record");
    format!("{head}{}{tail}", "x".repeat(pad))
}

#[test]
fn long_lines_are_framed_as_scan_frames_them() {
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("state");
    let log = work.path().join("zeek.jsonl");
    // At the bound: a line. One byte over: skipped, once. Then a short line.
    let text = [
        padded_conn_json(1, MAX_LINE_BYTES),
        padded_conn_json(2, MAX_LINE_BYTES + 1),
        padded_conn_json(3, 300),
    ]
    .join("\n")
        + "\n";
    append(&log, &text);

    let stats_file = work.path().join("scan-stats.json");
    let output = seldom()
        .arg("scan")
        .arg(&log)
        .args(["--activation-days", "0", "-o", "/dev/null", "--stats"])
        .arg(&stats_file)
        .output()
        .unwrap();
    assert_success(&output);
    let scanned = read_json(&stats_file);
    assert_eq!(
        scanned["events_by_format"]["zeek"]["network_connection"], 2,
        "{scanned}"
    );
    assert_eq!(scanned["skipped"]["line_too_long"]["count"], 1, "{scanned}");

    let server = start(&state, &log);
    read_to_end(&server, &log);
    let status = settle(&server, "zeek", 2);
    assert_eq!(status["skipped"]["line_too_long"], 1, "{status}");
}
