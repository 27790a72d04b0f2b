//! Crash safety of `seldom serve`: a simulated organization is fed over HTTP
//! and then through a tailed file while the server is killed with SIGKILL at
//! random points and restarted; the final alert set (ids and repeat counts)
//! must equal that of a run never killed: no alert lost, none raised twice.
//! While the server is down after a kill, the tailed file is rotated (renamed
//! to `tail.jsonl.N`, a new one created): the restarted server finishes the
//! old file by its identity before the new one, and reads no line twice.
//! A last kill comes once everything is detected and committed, so that the
//! restarted server has nothing new to read.
//!
//! CI runs a small organization with 3 kills. `bench/crash` runs the full
//! size: SELDOM_CRASH_HOSTS, SELDOM_CRASH_DAYS and SELDOM_CRASH_KILLS set the
//! size and the kills, SELDOM_CRASH_SEED the random points (printed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::serve::{self, Server};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), seeded per run.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The input, cut into steps: HTTP batches first, then pieces appended to the tailed file.
struct Feed {
    http: Vec<String>,
    tail: Vec<String>,
    events: usize,
}

fn feed(dir: &Path, hosts: u64, days: u64) -> Feed {
    common::seldom()
        .args(["simulate", "--seed", "4", "--hosts", &hosts.to_string()])
        .args(["--days", &days.to_string(), "--out"])
        .arg(dir)
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.join("telemetry.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let chunk = (lines.len() / 40).max(500);
    let pieces: Vec<String> = lines.chunks(chunk).map(|c| c.join("\n") + "\n").collect();
    let split = pieces.len() * 3 / 5;
    Feed {
        http: pieces[..split].to_vec(),
        tail: pieces[split..].to_vec(),
        events: lines.len(),
    }
}

/// Follows the tailed file and its rotations (`tail.jsonl*`).
fn start(state: &Path, tail: &Path) -> Server {
    let pattern = format!("{}*", tail.to_str().unwrap());
    serve::start(
        state,
        None,
        &["--tail", &pattern, "--checkpoint-interval", "150ms"],
    )
}

/// Every alert the server keeps: id → (repeat count, last seen).
fn alerts(server: &Server) -> BTreeMap<String, (u64, String)> {
    let mut all = BTreeMap::new();
    let mut offset = 0;
    loop {
        let (status, page) = server.get(&format!("/api/v1/alerts?limit=1000&offset={offset}"));
        assert_eq!(status, 200);
        let items = page["alerts"].as_array().unwrap();
        for item in items {
            let a = &item["alert"];
            all.insert(
                a["id"].as_str().unwrap().to_owned(),
                (a["count"].as_u64().unwrap(), a["last_seen"].to_string()),
            );
        }
        offset += items.len();
        if items.is_empty() || offset >= page["total"].as_u64().unwrap() as usize {
            return all;
        }
    }
}

/// Feeds everything, killing the server after the given steps; returns the
/// final alerts once every byte of the tailed file has been detected.
fn run(
    feed: &Feed,
    dir: &Path,
    kills: &[usize],
    random: &mut Random,
) -> BTreeMap<String, (u64, String)> {
    let state = dir.join("state");
    let tail = dir.join("tail.jsonl");
    std::fs::write(&tail, b"").unwrap();
    let mut server = start(&state, &tail);
    let steps = feed.http.len() + feed.tail.len();
    let mut tail_bytes = 0u64;
    for step in 0..steps {
        if step < feed.http.len() {
            let id = format!("batch-{step}");
            loop {
                let (status, answer) = server.send(
                    "POST",
                    "/api/v1/ingest",
                    feed.http[step].as_bytes(),
                    &[("X-Seldom-Batch-Id", &id)],
                );
                match status {
                    200 => {
                        assert_eq!(answer["durable"], true);
                        break;
                    }
                    429 | 503 => std::thread::sleep(Duration::from_millis(50)),
                    other => panic!("ingest answered {other}: {answer}"),
                }
            }
        } else {
            let piece = &feed.tail[step - feed.http.len()];
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&tail)
                .unwrap();
            file.write_all(piece.as_bytes()).unwrap();
            tail_bytes += piece.len() as u64;
        }
        if kills.contains(&step) {
            // Land somewhere inside detection or a checkpoint.
            std::thread::sleep(Duration::from_millis(random.below(400)));
            server.crash();
            if step >= feed.http.len() && std::env::var_os("SELDOM_CRASH_NO_ROTATE").is_none() {
                // Rotated while down, with lines the server may not have read.
                let rotated = dir.join(format!("tail.jsonl.{step}"));
                std::fs::rename(&tail, rotated).unwrap();
                std::fs::write(&tail, b"").unwrap();
            }
            server = start(&state, &tail);
        }
    }
    // Every byte of every file, old and current, detected once.
    let read_to_end = |server: &Server| {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let (_, status) = server.get("/api/v1/status");
            let detected: u64 = status["inputs"]
                .as_object()
                .map(|files| files.values().map(|f| f["offset"].as_u64().unwrap()).sum())
                .unwrap_or(0);
            if detected == tail_bytes && status["queue_depth"] == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the tail was never read to its end: {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    read_to_end(&server);
    if !kills.is_empty() {
        // One more kill once everything is detected and committed: the
        // restarted server has nothing new to read, and must still know it
        // read the file to its end.
        std::thread::sleep(Duration::from_millis(500));
        server.crash();
        server = start(&state, &tail);
        read_to_end(&server);
    }
    let found = alerts(&server);
    assert_eq!(server.stop(), Some(0));
    found
}

#[test]
fn sigkill_at_random_points_loses_no_alert_and_doubles_none() {
    let hosts = env_or("SELDOM_CRASH_HOSTS", 30);
    let days = env_or("SELDOM_CRASH_DAYS", 16);
    let kill_count = env_or("SELDOM_CRASH_KILLS", 3) as usize;
    let seed = env_or(
        "SELDOM_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!(
        "serve_crash: {hosts} hosts x {days} days, {kill_count} kills, SELDOM_CRASH_SEED={seed}"
    );
    let work = tempfile::tempdir().unwrap();
    let feed = feed(work.path(), hosts, days);
    let steps = feed.http.len() + feed.tail.len();
    let mut random = Random(seed);
    // Distinct steps, drawn without replacement.
    let mut kills: Vec<usize> = Vec::new();
    while kills.len() < kill_count.min(steps) {
        let step = random.below(steps as u64) as usize;
        if !kills.contains(&step) {
            kills.push(step);
        }
    }
    // At least one kill in the tailed part: a rotation while down.
    if !feed.tail.is_empty() && kills.iter().all(|k| *k < feed.http.len()) && kill_count > 0 {
        kills.pop();
        kills.push(feed.http.len() + random.below(feed.tail.len() as u64) as usize);
    }
    kills.sort_unstable();

    let clean_dir = work.path().join("clean");
    let crash_dir = work.path().join("crash");
    std::fs::create_dir_all(&clean_dir).unwrap();
    std::fs::create_dir_all(&crash_dir).unwrap();
    let clean = run(&feed, &clean_dir, &[], &mut random);
    let crashed = run(&feed, &crash_dir, &kills, &mut random);
    assert!(!clean.is_empty(), "the clean run raised no alert");
    let lost: Vec<&String> = clean
        .keys()
        .filter(|id| !crashed.contains_key(*id))
        .collect();
    let extra: Vec<&String> = crashed
        .keys()
        .filter(|id| !clean.contains_key(*id))
        .collect();
    let changed: Vec<&String> = clean
        .iter()
        .filter(|(id, v)| crashed.get(*id).is_some_and(|w| w != *v))
        .map(|(id, _)| id)
        .collect();
    eprintln!(
        "serve_crash: {} events; {} kills, after steps {kills:?} of {steps}; {} alerts clean, {} after kills; lost {}, extra {}, changed {}",
        feed.events,
        kills.len(),
        clean.len(),
        crashed.len(),
        lost.len(),
        extra.len(),
        changed.len()
    );
    assert!(
        lost.is_empty() && extra.is_empty() && changed.is_empty(),
        "lost {lost:?}, extra {extra:?}, changed {changed:?} (SELDOM_CRASH_SEED={seed})"
    );
}
