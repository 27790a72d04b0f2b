//! A load generator for `seldom serve`'s ingest (bench/serve): CONNECTIONS
//! threads post a JSON-lines file in batches of LINES lines, each batch as
//! soon as the previous answer came back; a 429 is retried after its
//! Retry-After. Prints one JSON line: events/s, acknowledgement latency
//! percentiles (time from sending a batch to its durable answer), and how
//! often the queue was full.
//!
//! usage: load URL FILE CONNECTIONS LINES [TOKEN]

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark driver

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: load URL FILE CONNECTIONS LINES [TOKEN]");
        std::process::exit(2);
    }
    let url = format!("{}/api/v1/ingest", args[1].trim_end_matches('/'));
    let text = std::fs::read_to_string(&args[2]).expect("telemetry file");
    let connections: usize = args[3].parse().expect("CONNECTIONS");
    let per_batch: usize = args[4].parse().expect("LINES");
    let token = args.get(5).cloned();
    let lines: Vec<&str> = text.lines().collect();
    let batches: Vec<String> = lines
        .chunks(per_batch)
        .map(|c| c.join("\n") + "\n")
        .collect();
    let next = AtomicUsize::new(0);
    let refused = AtomicU64::new(0);
    let latencies = Mutex::new(Vec::with_capacity(batches.len()));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = batches.get(i) else {
                        return;
                    };
                    loop {
                        let sent = Instant::now();
                        let mut request = agent.post(&url);
                        if let Some(token) = &token {
                            request = request.header("Authorization", format!("Bearer {token}"));
                        }
                        let response = request.send(body.as_bytes()).expect("request sent");
                        match response.status().as_u16() {
                            200 => {
                                latencies.lock().unwrap().push(sent.elapsed());
                                break;
                            }
                            429 => {
                                refused.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(Duration::from_millis(200));
                            }
                            other => panic!("ingest answered {other}"),
                        }
                    }
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies = latencies.into_inner().unwrap();
    latencies.sort();
    let pick = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{{\"events\":{},\"batches\":{},\"lines_per_batch\":{per_batch},\"connections\":{connections},\"seconds\":{seconds:.2},\"events_per_second\":{:.0},\"ack_ms_p50\":{:.1},\"ack_ms_p99\":{:.1},\"ack_ms_max\":{:.1},\"refused_429\":{}}}",
        lines.len(),
        batches.len(),
        lines.len() as f64 / seconds,
        pick(0.5),
        pick(0.99),
        pick(1.0),
        refused.load(Ordering::Relaxed)
    );
}
