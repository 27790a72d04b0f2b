//! W4 of `bench/run`: the detector's memory at organization scale, generated
//! directly (no JSON), so that what is measured is the state and not a parser.
//!
//! - `scale baseline HOSTS KEYS DAYS`: every key contacted by a Zipf-like
//!   share of HOSTS over DAYS days, through the baseline alone; prints the
//!   key count and peak RSS.
//! - `scale flood EVENTS MAX_KEYS`: a full detector takes EVENTS connections,
//!   each to a destination never seen before, with the key cap at MAX_KEYS;
//!   prints RSS every tenth of the way and the evictions counted.
//!
//! Output is JSON lines on stdout, read by `bench/run`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark driver

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use seldom_detect::baseline::Baseline;
use seldom_detect::destination::DestinationKey;
use seldom_detect::{Catalog, DetectConfig};
use seldom_model::{
    Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform, ProcessIdentity,
    SourceFormat, Timestamp,
};

/// The allocator of the `seldom` binary, so that RSS is what seldom would show.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DAY_MICROS: i64 = 86_400_000_000;
const START: i64 = 1_704_067_200_000_000; // 2024-01-01

/// The value in kB of one `/proc/self/status` line (`VmRSS`, `VmHWM`).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn arg(args: &[String], i: usize, default: u64) -> u64 {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("baseline") => baseline(
            arg(&args, 2, 100_000) as u32,
            arg(&args, 3, 1_000_000) as u32,
            arg(&args, 4, 30) as i64,
        ),
        Some("flood") => flood(arg(&args, 2, 10_000_000), arg(&args, 3, 1_000_000) as usize),
        _ => eprintln!("usage: scale baseline HOSTS KEYS DAYS | scale flood EVENTS MAX_KEYS"),
    }
}

/// A registered domain for key `i`: about 20 bytes, like real ones.
fn domain(i: u32) -> DestinationKey {
    DestinationKey::Domain(format!("site{i:07}.example.com"))
}

fn baseline(hosts: u32, keys: u32, days: i64) {
    let started = std::time::Instant::now();
    let rss_before = status_kb("VmRSS:");
    // K = rare_hosts + 1 with the default rare_hosts of 3.
    let mut baseline = Baseline::new(days as u32, 4);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut contacts: u64 = 0;
    // Popularity falls with the key's rank (a Zipf-like law): key i is
    // contacted by about hosts / (i + 1) hosts over the window, at least one.
    for i in 0..keys {
        let key = domain(i);
        let reach = (hosts / (i + 1)).max(1).min(hosts);
        for _ in 0..reach.min(64) {
            // Each key meets up to 64 distinct contacts: enough to fill K and
            // keep recency moving, without a 100k-contact inner loop per key.
            let host = rng.u32(0..hosts);
            let day = rng.i64(0..days);
            baseline.record(&key, host, Timestamp::from_micros(START + day * DAY_MICROS));
            contacts += 1;
        }
    }
    println!(
        "{{\"workload\":\"baseline\",\"hosts\":{hosts},\"keys\":{},\"days\":{days},\"contacts\":{contacts},\"rss_kib\":{},\"rss_before_kib\":{rss_before},\"peak_rss_kib\":{},\"seconds\":{:.2}}}",
        baseline.key_count(),
        status_kb("VmRSS:"),
        status_kb("VmHWM:"),
        started.elapsed().as_secs_f64()
    );
}

fn flood(events: u64, max_keys: usize) {
    let config = DetectConfig {
        max_keys,
        ..DetectConfig::default()
    };
    let mut detector = config
        .build(Catalog::builtin().expect("built-in catalog"))
        .expect("config");
    let source: Arc<str> = Arc::from("flood");
    let host = HostName::normalize("victim", HostNaming::Short).expect("host");
    let mut updates = Vec::new();
    let started = std::time::Instant::now();
    let step = (events / 10).max(1);
    for n in 0..events {
        // A new public address each time: 20.0.0.0/8 holds 16.7 M addresses
        // outside every private and shared range (100.64.0.0/10, the carrier
        // NAT range, counts as internal and would skip the baseline).
        let ip = IpAddr::V4(Ipv4Addr::from(0x1400_0000u32 + n as u32));
        let event = Event {
            // Forty days, so that detection is active for most of the flood.
            time: Timestamp::from_micros(START + (n as i64 * 40 * DAY_MICROS) / events as i64),
            host: host.clone(),
            platform: Platform::Windows,
            format: SourceFormat::Winlogbeat,
            event_id: 3,
            origin: Location::at_line(source.clone(), n + 1),
            kind: EventKind::NetworkConnection(NetworkConnection {
                process: ProcessIdentity {
                    pid: Some(4242),
                    guid: None,
                },
                image: Some("C:\\Users\\x\\beacon.exe".to_owned()),
                user: None,
                protocol: Some("tcp".to_owned()),
                initiated: Some(true),
                source_ip: None,
                source_port: None,
                destination_ip: ip,
                destination_port: Some(443),
                destination_hostname: None,
                bytes_sent: None,
            }),
        };
        detector.push(event, &mut updates);
        updates.clear(); // the alerts are not what is measured
        if (n + 1) % step == 0 {
            println!(
                "{{\"workload\":\"flood\",\"events\":{},\"rss_kib\":{},\"evicted_keys\":{},\"seconds\":{:.2}}}",
                n + 1,
                status_kb("VmRSS:"),
                detector.stats().evicted_keys,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "{{\"workload\":\"flood_end\",\"events\":{events},\"max_keys\":{max_keys},\"peak_rss_kib\":{},\"evicted_keys\":{}}}",
        status_kb("VmHWM:"),
        detector.stats().evicted_keys
    );
}
