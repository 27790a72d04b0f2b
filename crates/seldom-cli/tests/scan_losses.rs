//! `seldom scan` never reports a clean run of less than it was given: an
//! unreadable file fails the run, inputs that cannot seek (FIFOs,
//! `/dev/stdin`, `<(...)`) are read as streams, and a state file that is
//! empty or was changed on disk is refused instead of silently replaced.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Write;
use std::path::Path;

use common::{assert_refused, assert_success, json_lines, seldom};

/// Three Sysmon lines of one host: a process start and two connections.
fn telemetry(host: &str) -> String {
    let common = r#""Channel":"Microsoft-Windows-Sysmon/Operational""#;
    [
        format!(r#"{{"EventID":1,{common},"Hostname":"{host}","UtcTime":"2024-03-01 08:00:00.000","ProcessGuid":"{{p}}","ProcessId":"100","Image":"C:\\app.exe","CommandLine":"app.exe"}}"#),
        format!(r#"{{"EventID":3,{common},"Hostname":"{host}","UtcTime":"2024-03-01 08:00:05.000","ProcessGuid":"{{p}}","ProcessId":"100","Image":"C:\\app.exe","DestinationIp":"93.184.216.34","DestinationPort":"443","Initiated":"true"}}"#),
        format!(r#"{{"EventID":3,{common},"Hostname":"{host}","UtcTime":"2024-03-01 08:00:09.000","ProcessGuid":"{{p}}","ProcessId":"100","Image":"C:\\app.exe","DestinationIp":"198.18.0.9","DestinationPort":"443","Initiated":"true"}}"#),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn an_unreadable_input_fails_the_run_and_the_rest_is_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, telemetry("WS1")).unwrap();
    // Opens as a regular file, and fails on read (EIO) even for root, unlike
    // a file without read permission.
    let output = seldom()
        .arg("scan")
        .arg(&good)
        .arg("/proc/self/mem")
        .arg("--events")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/proc/self/mem"), "{stderr}");
    assert_eq!(json_lines(&output.stdout).len(), 3, "the good file is read");
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn fifos_dev_stdin_and_process_substitution_are_read_as_streams() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("events.fifo");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        // Opening a FIFO for writing waits for its reader: the scan below.
        std::thread::spawn(move || {
            let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            pipe.write_all(telemetry("WS1").as_bytes()).unwrap();
        })
    };
    let output = seldom()
        .arg("scan")
        .arg(&fifo)
        .arg("--events")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_success(&output);
    assert_eq!(json_lines(&output.stdout).len(), 3);

    let output = seldom()
        .args(["scan", "/dev/stdin", "--events"])
        .write_stdin(telemetry("WS2"))
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(json_lines(&output.stdout).len(), 3);

    let file = dir.path().join("day.json");
    std::fs::write(&file, telemetry("WS3")).unwrap();
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' scan --events <(cat '{}')",
            env!("CARGO_BIN_EXE_seldom"),
            file.display()
        ))
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(json_lines(&output.stdout).len(), 3);
}

#[test]
fn an_empty_state_file_is_refused_not_taken_as_new() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("day.json");
    std::fs::write(&input, telemetry("WS1")).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let store = state.join("seldom.redb");
    std::fs::write(&store, b"").unwrap();
    let output = seldom()
        .arg("scan")
        .arg(&input)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_refused(&output, "empty");
    assert_eq!(
        std::fs::metadata(&store).unwrap().len(),
        0,
        "left as it was"
    );
}

#[test]
fn a_state_file_with_a_changed_byte_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("day.json");
    std::fs::write(&input, telemetry("FLIPMEHOST")).unwrap();
    let state = dir.path().join("state");
    let scan = || {
        seldom()
            .arg("scan")
            .arg(&input)
            .arg("--state")
            .arg(&state)
            .args(["--format", "jsonl"])
            .output()
            .unwrap()
    };
    assert_success(&scan());
    assert_success(&scan());
    // One letter of the host name, inside the saved state: still valid CBOR,
    // so only a checksum can tell.
    let store = state.join("seldom.redb");
    let mut bytes = std::fs::read(&store).unwrap();
    let needle = b"flipmehost";
    let mut changed = 0;
    for at in 0..bytes.len() - needle.len() {
        if &bytes[at..at + needle.len()] == needle {
            bytes[at + needle.len() - 1] = b'u';
            changed += 1;
        }
    }
    assert!(changed > 0, "the host name is in the state file");
    std::fs::write(&store, &bytes).unwrap();
    let output = scan();
    assert_refused(&output, "checksum");
}
