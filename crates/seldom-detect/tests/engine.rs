//! The detector over generated streams in event time: activation, the sliding
//! window, dedup, out-of-order tolerance, DNS attribution and the catalog rows
//! end to end (events in, alerts out).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use seldom_detect::{Alert, AlertUpdate, DetectConfig};
use seldom_model::{
    DnsQuery, Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform,
    ProcessIdentity, SourceFormat, Timestamp,
};

const HOSTS: [&str; 5] = ["ws1", "ws2", "ws3", "ws4", "ws5"];

#[test]
fn nothing_alerts_before_activation_and_the_platforms_activate_apart() {
    let mut events = background(&HOSTS, 0..40);
    events.push(start("ws1", at(5, 10), "early", "C:\\tools\\a.exe", None));
    events.push(connect(
        "ws1",
        at(5, 11),
        "early",
        "C:\\tools\\a.exe",
        "198.18.0.1",
    ));
    events.push(start("ws1", at(15, 10), "late", "C:\\tools\\b.exe", None));
    events.push(connect(
        "ws1",
        at(15, 11),
        "late",
        "C:\\tools\\b.exe",
        "198.18.0.2",
    ));
    // Linux telemetry starts on day 10: it activates on day 24.
    events.push(start("srv1", at(10, 0), "l0", "/usr/sbin/cron", None));
    events.push(start("srv1", at(20, 10), "l1", "/usr/bin/wget", Some("l0")));
    events.push(connect(
        "srv1",
        at(20, 11),
        "l1",
        "/usr/bin/wget",
        "198.18.0.3",
    ));
    events.push(start("srv1", at(25, 10), "l2", "/usr/bin/wget", Some("l0")));
    events.push(connect(
        "srv1",
        at(25, 11),
        "l2",
        "/usr/bin/wget",
        "198.18.0.4",
    ));
    let (alerts, d) = run(DetectConfig::default(), sorted(events));
    let destinations: Vec<String> = alerts
        .iter()
        .map(|a| a.destination.ip.to_string())
        .collect();
    assert_eq!(destinations, ["198.18.0.2", "198.18.0.4"], "{alerts:#?}");
    assert_eq!(alerts[1].variation, "unix-lolbin");
    // The two early rare contacts, and the first three hosts to reach the common
    // destination on day 0 (each saw fewer than 3 others before it).
    assert_eq!(d.stats().rare_while_training, 5);
}

#[test]
fn a_destination_is_common_inside_the_window_and_rare_again_after_it() {
    let mut events = background(&HOSTS, 0..60);
    for (i, host) in ["ws2", "ws3", "ws4"].iter().enumerate() {
        let guid = format!("{host}-upd");
        events.push(start(
            host,
            at(15, 100 + i as i64),
            &guid,
            "C:\\upd.exe",
            None,
        ));
        events.push(connect(
            host,
            at(15, 110 + i as i64),
            &guid,
            "C:\\upd.exe",
            "198.51.99.7",
        ));
    }
    events.push(start("ws1", at(20, 100), "ws1-a", "C:\\upd.exe", None));
    events.push(connect(
        "ws1",
        at(20, 101),
        "ws1-a",
        "C:\\upd.exe",
        "198.51.99.7",
    ));
    // Day 45 is 30 days after the others' last contact on day 15.
    events.push(start("ws1", at(45, 100), "ws1-b", "C:\\upd.exe", None));
    events.push(connect(
        "ws1",
        at(45, 101),
        "ws1-b",
        "C:\\upd.exe",
        "198.51.99.7",
    ));
    let (alerts, _) = run(DetectConfig::default(), sorted(events));
    let on_key: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.destination.ip.to_string() == "198.51.99.7")
        .collect();
    // Day 15: the three first contacts are rare; day 20: 3 others seen, common;
    // day 45: ws1's own day-20 contact does not count, the others have faded.
    let days: Vec<i64> = on_key
        .iter()
        .map(|a| (a.first_seen.as_micros() - EPOCH) / DAY)
        .collect();
    assert_eq!(days, [15, 15, 15, 45], "{on_key:#?}");
    let last = on_key.last().unwrap();
    assert_eq!(last.prevalence.hosts_in_window, 0);
    assert_eq!(
        (last.prevalence.first_seen_in_org.as_micros() - EPOCH) / DAY,
        15
    );
    assert_eq!(last.prevalence.active_hosts, 5);
}

#[test]
fn repeats_inside_the_dedup_period_fold_into_one_alert() {
    let mut events = background(&HOSTS, 0..20);
    events.push(start(
        "ws1",
        at(16, 0),
        "beacon",
        "C:\\Users\\u\\AppData\\x.exe",
        None,
    ));
    for minute in 0..30 {
        events.push(connect(
            "ws1",
            at(16, 60 + minute * 60),
            "beacon",
            "C:\\Users\\u\\AppData\\x.exe",
            "198.18.7.7",
        ));
    }
    // 25 hours after the first: a new alert.
    events.push(connect(
        "ws1",
        at(17, 3600 + 60),
        "beacon",
        "C:\\Users\\u\\AppData\\x.exe",
        "198.18.7.7",
    ));
    let mut d = detector(DetectConfig::default());
    let mut out = Vec::new();
    for e in sorted(events) {
        d.push(e, &mut out);
    }
    d.flush(&mut out);
    let new: Vec<&Alert> = out
        .iter()
        .filter_map(|u| {
            if let AlertUpdate::New(a, _) = u {
                Some(a.as_ref())
            } else {
                None
            }
        })
        .collect();
    let repeats: Vec<u64> = out
        .iter()
        .filter_map(|u| {
            if let AlertUpdate::Repeat { count, .. } = u {
                Some(*count)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(new.len(), 2);
    assert_ne!(new[0].id, new[1].id);
    assert_eq!(repeats.last(), Some(&30));
}

#[test]
fn replays_give_the_same_alert_ids() {
    let mut events = background(&HOSTS, 0..20);
    events.push(start("ws1", at(16, 0), "p", "C:\\x.exe", None));
    events.push(connect("ws1", at(16, 1), "p", "C:\\x.exe", "198.18.1.1"));
    let (a, _) = run(DetectConfig::default(), sorted(events.clone()));
    let (b, _) = run(DetectConfig::default(), sorted(events));
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
}

#[test]
fn office_lolbin_rows_end_to_end_with_near_misses() {
    let mut events = background(&HOSTS, 0..20);
    let word = "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE";
    events.push(start("ws1", at(16, 0), "word", word, None));
    // A LOLBIN spawned by Word that never connects: no alert of its own.
    events.push(start(
        "ws1",
        at(16, 5),
        "quiet",
        "C:\\Windows\\System32\\rundll32.exe",
        Some("word"),
    ));
    // Word itself connecting somewhere rare: the base row only.
    events.push(connect("ws1", at(16, 6), "word", word, "198.18.2.1"));
    // mshta spawned by Word; its connection is stamped 2 s before its own start.
    events.push(connect(
        "ws1",
        at(16, 8),
        "mshta",
        "C:\\Windows\\System32\\mshta.exe",
        "198.18.2.2",
    ));
    events.push(start(
        "ws1",
        at(16, 10),
        "mshta",
        "C:\\Windows\\System32\\mshta.exe",
        Some("word"),
    ));
    let (alerts, _) = run(DetectConfig::default(), sorted(events));
    let summary: Vec<(String, String)> = alerts
        .iter()
        .map(|a| (a.variation.clone(), a.destination.ip.to_string()))
        .collect();
    assert_eq!(
        summary,
        [
            ("rare-external-host".into(), "198.18.2.1".into()),
            ("office-lolbin".into(), "198.18.2.2".into())
        ]
    );
    let lolbin = &alerts[1];
    assert_eq!(lolbin.chain[0].image.as_deref(), Some(word));
    assert_eq!(lolbin.also_matched, ["rare-external-host"]);
    assert!(
        lolbin.explanation.contains("child of winword"),
        "{}",
        lolbin.explanation
    );
    assert!(
        lolbin.matched_because.contains("winword"),
        "{}",
        lolbin.matched_because
    );
    assert_eq!(
        lolbin.source_events.len(),
        2,
        "connection and process start"
    );
}

#[test]
fn dns_attribution_keys_on_the_registered_domain() {
    let mut events = background(&HOSTS, 0..20);
    // Three hosts reach cdn.example-saas.com through rotating addresses.
    for (i, host) in ["ws2", "ws3", "ws4"].iter().enumerate() {
        let guid = format!("{host}-saas");
        let ip = format!("198.18.3.{i}");
        events.push(start(host, at(16, 0), &guid, "C:\\saas.exe", None));
        events.push(dns(host, at(16, 1), &guid, "cdn.example-saas.com", &[&ip]));
        events.push(connect(host, at(16, 2), &guid, "C:\\saas.exe", &ip));
    }
    // ws1 reaches it at a fourth address: common by name, though the IP is new.
    events.push(start("ws1", at(16, 10), "ws1-saas", "C:\\saas.exe", None));
    events.push(dns(
        "ws1",
        at(16, 11),
        "ws1-saas",
        "api.example-saas.com",
        &["198.18.3.9"],
    ));
    events.push(connect(
        "ws1",
        at(16, 12),
        "ws1-saas",
        "C:\\saas.exe",
        "198.18.3.9",
    ));
    let (alerts, _) = run(DetectConfig::default(), sorted(events));
    let mut hosts: Vec<&str> = alerts.iter().map(|a| a.host.as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["ws2", "ws3", "ws4"]);
    assert_eq!(
        alerts[0].destination.forward_name.as_deref(),
        Some("cdn.example-saas.com")
    );
    assert_eq!(
        alerts[0].destination.registered_domain.as_deref(),
        Some("example-saas.com")
    );
    assert_eq!(alerts[0].destination.key.to_string(), "example-saas.com");
}

#[test]
fn internal_destinations_never_alert() {
    let mut events = background(&HOSTS, 0..20);
    events.push(start("ws1", at(16, 0), "p", "C:\\x.exe", None));
    events.push(connect("ws1", at(16, 1), "p", "C:\\x.exe", "10.1.2.3"));
    events.push(dns(
        "ws1",
        at(16, 2),
        "p",
        "fileserver.corp.local",
        &["198.18.9.9"],
    ));
    events.push(connect("ws1", at(16, 3), "p", "C:\\x.exe", "198.18.9.9"));
    let (alerts, d) = run(DetectConfig::default(), sorted(events));
    assert!(alerts.is_empty(), "{alerts:#?}");
    assert_eq!(d.stats().internal, 2);
}

#[test]
fn a_flood_of_unique_destinations_stays_bounded() {
    let config = DetectConfig {
        max_keys: 1000,
        activation_days: 0,
        ..DetectConfig::default()
    };
    let mut d = detector(config);
    let mut out = Vec::new();
    d.push(start("ws1", at(0, 0), "p", "C:\\x.exe", None), &mut out);
    for i in 0..20_000u32 {
        let ip = IpAddr::from([198, 18, (i >> 8) as u8, i as u8]).to_string();
        d.push(
            connect("ws1", at(0, 1 + i64::from(i)), "p", "C:\\x.exe", &ip),
            &mut out,
        );
        out.clear();
    }
    d.flush(&mut out);
    assert!(d.baseline_keys() <= 1000, "{}", d.baseline_keys());
    assert!(d.stats().evicted_keys >= 19_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Shuffling arrival order inside the reorder window changes no alert.
    #[test]
    fn alerts_do_not_depend_on_order_inside_the_reorder_window(seed in any::<u64>()) {
        let mut events = background(&HOSTS, 0..20);
        for (i, host) in HOSTS.iter().enumerate() {
            let guid = format!("{host}-x");
            events.push(start(host, at(16, 100), &guid, "C:\\Windows\\System32\\mshta.exe", Some(&format!("{host}-browser-16"))));
            events.push(connect(host, at(16, 99), &guid, "C:\\Windows\\System32\\mshta.exe", &format!("198.18.4.{}", i % 2)));
        }
        let config = DetectConfig { reorder_window: Duration::from_secs(60), ..DetectConfig::default() };
        let ordered = sorted(events.clone());
        // Arrival order: each event may be delayed by up to 50 s.
        let mut rng = seed;
        let mut keyed: Vec<(i64, Event)> = ordered.iter().cloned().map(|e| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((e.time.as_micros() + ((rng >> 33) % 50_000_000) as i64), e)
        }).collect();
        keyed.sort_by_key(|(arrival, _)| *arrival);
        let shuffled: Vec<Event> = keyed.into_iter().map(|(_, e)| e).collect();
        let (a, _) = run(config.clone(), ordered);
        let (b, _) = run(config, shuffled);
        prop_assert!(!a.is_empty());
        prop_assert_eq!(a, b);
    }
}

fn network(time: Timestamp, kind: EventKind, client: &str) -> Event {
    Event {
        time,
        host: HostName::normalize(client, HostNaming::Short).unwrap(),
        platform: Platform::Network,
        format: SourceFormat::Zeek,
        event_id: 0,
        origin: Location::at_line(Arc::from("zeek"), 1),
        kind,
    }
}

#[test]
fn a_network_sensors_dns_answer_names_an_endpoint_connection_by_client_address() {
    let config = DetectConfig {
        activation_days: 0,
        ..DetectConfig::default()
    };
    let mut endpoint = connect("ws1", at(0, 10), "p", "C:\\x.exe", "198.18.5.5");
    if let EventKind::NetworkConnection(c) = &mut endpoint.kind {
        c.source_ip = Some("10.9.0.7".parse().unwrap());
    }
    let answer = network(
        at(0, 9),
        EventKind::DnsQuery(DnsQuery {
            process: ProcessIdentity::default(),
            image: None,
            query_name: "c2.bad-example.net".into(),
            answers: vec!["198.18.5.5".parse().unwrap()],
            status: None,
        }),
        "10.9.0.7",
    );
    // Zeek also logs the connection itself: the endpoint's event covers it.
    let seen_on_the_wire = wire(at(0, 10), "10.9.0.7", "198.18.5.5");
    let events = vec![
        start("ws1", at(0, 1), "p", "C:\\x.exe", None),
        answer,
        endpoint,
        seen_on_the_wire,
    ];
    let (alerts, d) = run(config, events);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].host, "ws1");
    assert_eq!(
        alerts[0].destination.forward_name.as_deref(),
        Some("c2.bad-example.net")
    );
    assert_eq!(alerts[0].destination.key.to_string(), "bad-example.net");
    assert_eq!(d.stats().covered_by_endpoint, 1);
}

/// Zeek's record of `client`'s connection to `ip` at `time`.
fn wire(time: Timestamp, client: &str, ip: &str) -> Event {
    network(
        time,
        EventKind::NetworkConnection(NetworkConnection {
            process: ProcessIdentity::default(),
            image: None,
            user: None,
            protocol: Some("tcp".into()),
            initiated: Some(true),
            source_ip: Some(client.parse().unwrap()),
            source_port: None,
            destination_ip: ip.parse().unwrap(),
            destination_port: Some(443),
            destination_hostname: None,
            bytes_sent: None,
        }),
        client,
    )
}

#[test]
fn a_host_both_sensors_see_counts_once_even_when_the_wire_is_first() {
    // Zeek logs ws1's connection two seconds before Sysmon does, and before
    // ws1's endpoint sensor has reported its address at all. The host is
    // one host of the destination's baseline, not two ("10.9.0.7" and
    // "ws1"), so a second host's contact is still rare at rare_hosts = 2.
    let config = DetectConfig {
        activation_days: 0,
        rare_hosts: 2,
        ..DetectConfig::default()
    };
    let mut endpoint = connect("ws1", at(0, 12), "p", "C:\\x.exe", "198.18.5.5");
    if let EventKind::NetworkConnection(c) = &mut endpoint.kind {
        c.source_ip = Some("10.9.0.7".parse().unwrap());
    }
    let events = vec![
        start("ws1", at(0, 1), "p", "C:\\x.exe", None),
        start("ws2", at(0, 1), "q", "C:\\y.exe", None),
        wire(at(0, 10), "10.9.0.7", "198.18.5.5"),
        endpoint,
        connect("ws2", at(0, 900), "q", "C:\\y.exe", "198.18.5.5"),
        // Someone else entirely, seen only on the wire: still one host more.
        wire(at(0, 950), "10.9.0.8", "198.18.77.7"),
    ];
    let (alerts, d) = run(config, events);
    let view = d.destination("198.18.5.5").unwrap();
    assert_eq!(view.recent_hosts, ["ws2", "ws1"], "{view:?}");
    let hosts: Vec<&str> = alerts.iter().map(|a| a.host.as_str()).collect();
    assert_eq!(hosts, ["ws1", "ws2", "10.9.0.8"], "{alerts:#?}");
    assert_eq!(d.stats().covered_by_endpoint, 1);
}

#[test]
fn ended_processes_leave_the_tables_after_their_retention() {
    // A long-running service must not remember every process ever started:
    // an ended process is forgotten after `process_retention` (1 day), at the
    // daily upkeep; one still running stays.
    let end = |host: &str, time: Timestamp, guid: &str| {
        event(
            host,
            Platform::Windows,
            time,
            EventKind::ProcessEnd(seldom_model::ProcessEnd {
                process: ProcessIdentity {
                    pid: Some(100),
                    guid: Some(guid.to_owned()),
                },
                image: None,
            }),
        )
    };
    let mut events = background(&["ws1", "ws2"], 0..5);
    events.push(start("ws1", at(0, 10), "{short}", "C:\\x\\short.exe", None));
    events.push(end("ws1", at(0, 20), "{short}"));
    events.push(start("ws1", at(0, 30), "{long}", "C:\\x\\long.exe", None));
    let (_, detector) = run(DetectConfig::default(), sorted(events));
    assert_eq!(detector.stats().expired_processes, 1);
}

/// Every host's background, then a rare tool on ws1 on day 20: in time
/// order, one alert.
fn month_with_one_rare_tool() -> Vec<Event> {
    let mut events = background(&HOSTS, 0..25);
    events.push(start("ws1", at(20, 10), "tool", "C:\\tools\\t.exe", None));
    events.push(connect(
        "ws1",
        at(20, 11),
        "tool",
        "C:\\tools\\t.exe",
        "198.18.0.9",
    ));
    sorted(events)
}

#[test]
fn the_presorted_run_of_reversed_input_is_the_run_of_sorted_input() {
    let events = month_with_one_rare_tool();
    let (in_order, _) = run(DetectConfig::default(), events.clone());
    assert_eq!(in_order.len(), 1, "{in_order:?}");

    // The same events newest first, in batches: presorted, the same alert.
    let mut reversed = events;
    reversed.reverse();
    let batches: Vec<Vec<Event>> = reversed.chunks(7).map(<[Event]>::to_vec).collect();
    let mut presorted: Vec<Alert> = Vec::new();
    let mut d = detector(DetectConfig::default());
    seldom_detect::run(
        &mut d,
        batches.clone(),
        seldom_detect::Order::Presort,
        &mut presorted,
    )
    .unwrap();
    assert_eq!(presorted, in_order);

    // As a stream, newest first, everything is late or in training: none.
    let mut streamed: Vec<Alert> = Vec::new();
    let mut d = detector(DetectConfig::default());
    seldom_detect::run(&mut d, batches, seldom_detect::Order::Stream, &mut streamed).unwrap();
    assert!(streamed.is_empty(), "{streamed:?}");
}

#[test]
fn a_sink_error_stops_the_run_and_is_returned() {
    struct Full(usize);
    impl seldom_detect::Sink for Full {
        fn apply(&mut self, _: AlertUpdate) -> Result<(), seldom_detect::SinkError> {
            self.0 += 1;
            Err("no space left on device".into())
        }
    }
    let mut events = month_with_one_rare_tool();
    // A second rare tool later: the run must stop at the first failure.
    events.push(start("ws2", at(22, 10), "tool2", "C:\\tools\\u.exe", None));
    events.push(connect(
        "ws2",
        at(22, 11),
        "tool2",
        "C:\\tools\\u.exe",
        "198.18.0.10",
    ));
    let mut full = Full(0);
    let mut kept: Vec<Alert> = Vec::new();
    let mut d = detector(DetectConfig::default());
    let mut sinks: [&mut dyn seldom_detect::Sink; 2] = [&mut kept, &mut full];
    let error = seldom_detect::run(
        &mut d,
        [events],
        seldom_detect::Order::Stream,
        &mut seldom_detect::Fanout(&mut sinks),
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "no space left on device");
    assert_eq!(
        (kept.len(), full.0),
        (1, 1),
        "both sinks saw the first alert only"
    );
}
