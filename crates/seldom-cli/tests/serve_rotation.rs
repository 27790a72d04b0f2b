//! Tailed files across rotation and restarts, on real files: each case
//! writes telemetry lines (one event each), rotates them the way logrotate
//! and agents do, and compares the events detected with the lines written:
//! none lost (the count is reached) and none read twice (it stays there
//! after the tailer has looked again many times).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::serve::{self, Server};
use serde_json::Value;

/// Telemetry lines handed out in order, never twice.
struct Lines {
    lines: Vec<String>,
    next: usize,
}

impl Lines {
    fn new(dir: &Path) -> Lines {
        common::seldom()
            .args(["simulate", "--hosts", "20", "--days", "3", "--seed", "5"])
            .arg("--out")
            .arg(dir)
            .assert()
            .success();
        let text = std::fs::read_to_string(dir.join("telemetry.jsonl")).unwrap();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        assert!(lines.len() > 3000, "{} lines", lines.len());
        Lines { lines, next: 0 }
    }

    fn take(&mut self, n: usize) -> String {
        let text = self.lines[self.next..self.next + n].join("\n") + "\n";
        self.next += n;
        text
    }
}

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

/// Waits until exactly `n` events were detected with nothing queued, then
/// lets the tailer look a dozen more times: the count must not move.
fn settle(server: &Server, n: u64) -> Value {
    server.wait_for("/api/v1/status", |s| {
        s["events_detected"].as_u64() >= Some(n) && s["queue_depth"] == 0
    });
    std::thread::sleep(Duration::from_secs(3));
    let (_, status) = server.get("/api/v1/status");
    assert_eq!(
        status["events_detected"].as_u64(),
        Some(n),
        "lines read twice: {status}"
    );
    status
}

fn vanished(status: &Value) -> (u64, u64) {
    (
        status["tail"]["vanished_files"].as_u64().unwrap(),
        status["tail"]["vanished_unread_bytes"].as_u64().unwrap(),
    )
}

struct Case {
    _work: tempfile::TempDir,
    dir: PathBuf,
    state: PathBuf,
    path: PathBuf,
    lines: Lines,
}

fn case() -> Case {
    let work = tempfile::tempdir().unwrap();
    let lines = Lines::new(&work.path().join("sim"));
    let dir = work.path().join("logs");
    std::fs::create_dir_all(&dir).unwrap();
    Case {
        state: work.path().join("state"),
        path: dir.join("events.jsonl"),
        dir,
        _work: work,
        lines,
    }
}

impl Case {
    fn rotated(&self, n: u32) -> PathBuf {
        self.dir.join(format!("events.jsonl.{n}"))
    }
    fn glob(&self) -> PathBuf {
        self.dir.join("events.jsonl*")
    }
}

#[test]
fn a_file_renamed_while_running_is_read_to_its_end_before_its_successor() {
    let mut c = case();
    append(&c.path, &c.lines.take(300));
    let server = start(&c.state, &c.path);
    settle(&server, 300);
    // Lines the tailer has not seen yet, then the rename, the new file, and
    // a writer that still appends to the old one before it reopens.
    append(&c.path, &c.lines.take(200));
    std::fs::rename(&c.path, c.rotated(1)).unwrap();
    append(&c.path, &c.lines.take(200));
    append(&c.rotated(1), &c.lines.take(100));
    let status = settle(&server, 800);
    assert_eq!(vanished(&status), (0, 0), "{status}");
}

#[test]
fn a_file_renamed_while_stopped_is_found_in_its_folder_and_finished() {
    let mut c = case();
    append(&c.path, &c.lines.take(300));
    let server = start(&c.state, &c.path);
    settle(&server, 300);
    assert_eq!(server.stop(), Some(0));
    append(&c.path, &c.lines.take(200));
    std::fs::rename(&c.path, c.rotated(1)).unwrap();
    append(&c.path, &c.lines.take(150));
    let server = start(&c.state, &c.path);
    let status = settle(&server, 350);
    assert_eq!(vanished(&status), (0, 0), "{status}");
    // And once more, now that the old file is done with.
    assert_eq!(server.stop(), Some(0));
    append(&c.path, &c.lines.take(50));
    let server = start(&c.state, &c.path);
    settle(&server, 50);
}

#[test]
fn a_glob_that_matches_the_rotated_names_reads_no_line_twice() {
    let mut c = case();
    append(&c.path, &c.lines.take(300));
    let server = start(&c.state, &c.glob());
    settle(&server, 300);
    append(&c.path, &c.lines.take(100));
    std::fs::rename(&c.path, c.rotated(1)).unwrap();
    append(&c.path, &c.lines.take(200));
    let status = settle(&server, 600);
    let files = status["tail"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{status}");
    assert!(files.iter().all(|f| f["lag_bytes"] == 0), "{status}");
    // Rotated twice while stopped: every file is still matched, each is
    // known by its identity whatever its name now.
    assert_eq!(server.stop(), Some(0));
    append(&c.path, &c.lines.take(100));
    std::fs::rename(c.rotated(1), c.rotated(2)).unwrap();
    std::fs::rename(&c.path, c.rotated(1)).unwrap();
    append(&c.path, &c.lines.take(100));
    std::fs::rename(c.rotated(1), c.rotated(3)).unwrap();
    std::fs::rename(&c.path, c.rotated(1)).unwrap();
    append(&c.path, &c.lines.take(100));
    let server = start(&c.state, &c.glob());
    let status = settle(&server, 300);
    assert_eq!(vanished(&status), (0, 0), "{status}");
}

/// logrotate's `copytruncate`: the lines not yet read when the file is
/// copied and emptied come from the copy, the copy is not read again.
fn copytruncate(pattern_matches_copy: bool, while_stopped: bool) {
    let mut c = case();
    let pattern = if pattern_matches_copy {
        c.glob()
    } else {
        c.path.clone()
    };
    append(&c.path, &c.lines.take(300));
    let mut server = Some(start(&c.state, &pattern));
    settle(server.as_ref().unwrap(), 300);
    let mut expected = 0;
    if while_stopped {
        assert_eq!(server.take().unwrap().stop(), Some(0));
    } else {
        expected = 300;
    }
    append(&c.path, &c.lines.take(200));
    std::fs::copy(&c.path, c.rotated(1)).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&c.path)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&c.path, &c.lines.take(100));
    let server = server.unwrap_or_else(|| start(&c.state, &pattern));
    let status = settle(&server, expected + 300);
    assert_eq!(vanished(&status), (0, 0), "{status}");
}

#[test]
fn copytruncate_while_running_reads_the_rest_from_the_copy() {
    copytruncate(false, false);
    copytruncate(true, false);
}

#[test]
fn copytruncate_while_stopped_reads_the_rest_from_the_copy() {
    copytruncate(false, true);
    copytruncate(true, true);
}

#[test]
fn a_reused_inode_is_a_new_file() {
    let mut c = case();
    append(&c.path, &c.lines.take(300));
    let inode = std::fs::metadata(&c.path).unwrap().ino();
    let server = start(&c.state, &c.path);
    settle(&server, 300);
    // While running: deleted and created again, most likely on the same inode.
    std::fs::remove_file(&c.path).unwrap();
    append(&c.path, &c.lines.take(400));
    let reused = std::fs::metadata(&c.path).unwrap().ino() == inode;
    eprintln!("inode reused while running: {reused}");
    settle(&server, 700);
    // While stopped: a new file on the old inode, longer than the saved
    // offset: a follower by inode alone would resume in its middle.
    assert_eq!(server.stop(), Some(0));
    let inode = std::fs::metadata(&c.path).unwrap().ino();
    std::fs::remove_file(&c.path).unwrap();
    append(&c.path, &c.lines.take(500));
    let reused = std::fs::metadata(&c.path).unwrap().ino() == inode;
    eprintln!("inode reused while stopped: {reused}");
    let server = start(&c.state, &c.path);
    let status = settle(&server, 500);
    assert_eq!(vanished(&status), (0, 0), "{status}");
}

#[test]
fn a_compressed_rotation_is_not_read_again_and_a_lost_rest_is_reported() {
    let mut c = case();
    append(&c.path, &c.lines.take(300));
    let server = start(&c.state, &c.glob());
    settle(&server, 300);
    std::fs::rename(&c.path, c.rotated(1)).unwrap();
    append(&c.path, &c.lines.take(200));
    settle(&server, 500);
    let gzip = |path: &Path| {
        let done = std::process::Command::new("gzip")
            .arg(path)
            .status()
            .unwrap();
        assert!(done.success());
    };
    gzip(&c.rotated(1));
    let status = settle(&server, 500);
    assert_eq!(vanished(&status), (0, 0), "{status}");
    assert_eq!(status["tail"]["compressed_skipped"], 1, "{status}");
    // Stopped, lines appended, rotated and compressed before the restart:
    // they are gone, and the status says how many bytes.
    assert_eq!(server.stop(), Some(0));
    let lost = c.lines.take(100);
    append(&c.path, &lost);
    std::fs::rename(&c.path, c.rotated(2)).unwrap();
    gzip(&c.rotated(2));
    append(&c.path, &c.lines.take(50));
    let server = start(&c.state, &c.glob());
    let status = settle(&server, 50);
    assert_eq!(vanished(&status), (1, lost.len() as u64), "{status}");
    let (_, metrics) = server.get_text("/metrics");
    assert!(
        metrics.contains(&format!(
            "seldom_tail_vanished_unread_bytes_total {}",
            lost.len()
        )),
        "{metrics}"
    );
}

#[test]
fn a_symlink_is_followed_to_its_target_and_read_once() {
    let mut c = case();
    let target = |n: u32| c.dir.join(format!("events-{n}.jsonl"));
    let link = c.dir.join("current.jsonl");
    append(&target(1), &c.lines.take(300));
    std::os::unix::fs::symlink(target(1), &link).unwrap();
    // The glob matches the link and its target: one file, read once.
    let server = start(&c.state, &c.dir.join("*.jsonl"));
    settle(&server, 300);
    append(&link, &c.lines.take(100));
    settle(&server, 400);
    // Only the link is followed: retargeted, the old target is finished first.
    assert_eq!(server.stop(), Some(0));
    let server = start(&c.state, &link);
    settle(&server, 0); // it has looked: the old target is open
    append(&target(1), &c.lines.take(100));
    append(&target(2), &c.lines.take(200));
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(target(2), &link).unwrap();
    let status = settle(&server, 300);
    let files = status["tail"]["files"].as_array().unwrap();
    assert!(
        files.iter().any(|f| f["path"] == link.to_str().unwrap()),
        "{status}"
    );
}
