//! `seldom serve` on a disk that fills up: while the store cannot write, the
//! service says so (`/readyz` and ingest answer 503, nothing is acknowledged
//! that was not stored), it recovers by itself when space returns, and a stop
//! never claims a final checkpoint it did not make.
//!
//! The disk is a real one: a 6 MiB tmpfs mounted for the test (as root, which
//! CI is). Without the right to mount, the test is skipped, except under
//! `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::serve;

const SYSMON: &str = r#""Channel":"Microsoft-Windows-Sysmon/Operational""#;

/// A small filesystem of its own, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "cannot mount a tmpfs for the disk-full test"
            );
            eprintln!("skipping: cannot mount a tmpfs (not root?)");
            return None;
        }
        Some(SmallDisk(dir.to_owned()))
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 << 10];
        while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// `n` hosts each start a process that connects to an address of its own.
fn batch(tag: u32, n: u32) -> String {
    let mut lines = Vec::new();
    for host in 0..n {
        let guid = format!("{tag}-{host}");
        let time = format!("2024-05-01 10:{:02}:{:02}.000", tag % 60, host % 60);
        lines.push(format!(r#"{{"EventID":1,{SYSMON},"Hostname":"WS{host}","UtcTime":"{time}","ProcessGuid":"{{{guid}}}","ProcessId":"7","Image":"C:\\tools\\t.exe","CommandLine":"t.exe {}"}}"#, "x".repeat(200)));
        lines.push(format!(r#"{{"EventID":3,{SYSMON},"Hostname":"WS{host}","UtcTime":"{time}","ProcessGuid":"{{{guid}}}","ProcessId":"7","Image":"C:\\tools\\t.exe","DestinationIp":"198.18.{}.{}","DestinationPort":"443","Initiated":"true"}}"#, tag % 250, host % 250));
    }
    lines.join("\n")
}

fn ingest(server: &serve::Server, body: &str) -> u16 {
    server
        .send("POST", "/api/v1/ingest", body.as_bytes(), &[])
        .0
}

#[test]
fn a_full_disk_is_reported_refused_and_recovered_from() {
    let work = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&work.path().join("disk")) else {
        return;
    };
    let state = disk.0.join("state");
    let args = ["--activation-days", "0", "--checkpoint-interval", "1s"];
    let server = serve::start(&state, None, &args);
    assert_eq!(ingest(&server, &batch(0, 20)), 200);
    assert_eq!(server.get_text("/readyz").0, 200);

    // The disk fills up: ingest stops acknowledging, readiness says why.
    let filler = disk.fill();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tag = 1;
    loop {
        let status = ingest(&server, &batch(tag, 200));
        tag += 1;
        if status == 503 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            Instant::now() < deadline,
            "ingest never noticed the full disk"
        );
    }
    let (status, reason) = server.get_text("/readyz");
    assert_eq!(status, 503);
    assert!(reason.contains("store cannot write"), "{reason}");
    assert_eq!(server.get("/api/v1/status").1["ready"], false);

    // Space returns: the store is reopened, a checkpoint commits, and the
    // service takes work again by itself.
    std::fs::remove_file(&filler).unwrap();
    server.wait_for("/api/v1/status", |s| s["ready"] == true);
    assert_eq!(server.get_text("/readyz").0, 200);
    assert_eq!(ingest(&server, &batch(tag, 20)), 200);
    // (Alerts come once the reorder buffer is released on wall time.)
    let status = server.wait_for("/api/v1/status", |s| {
        s["queue_depth"] == 0 && s["buffered_events"] == 0 && s["alerts_kept"].as_u64() > Some(0)
    });
    let kept = status["alerts_kept"].as_u64().unwrap();

    // A stop on a full disk does not claim a final checkpoint.
    let filler = disk.fill();
    assert_eq!(ingest(&server, &batch(tag + 1, 200)), 503);
    let pid = server.pid().unwrap();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let line = server
        .log_line("stopped", Duration::from_secs(30))
        .expect("a last word");
    assert!(line.contains("WITHOUT a final checkpoint"), "{line}");
    let code = server.stop();
    assert_ne!(code, Some(0), "a failed final checkpoint exits non-zero");

    // And nothing acknowledged was lost: a restart with space finds it all.
    std::fs::remove_file(&filler).unwrap();
    let server = serve::start(&state, None, &args);
    server.wait_for("/api/v1/status", |s| {
        s["ready"] == true && s["queue_depth"] == 0 && s["alerts_kept"].as_u64() == Some(kept)
    });
    assert_eq!(server.stop(), Some(0));
}
