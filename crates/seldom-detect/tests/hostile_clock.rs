//! Event time is attacker-controlled: one record from one host, dated 1995 or
//! 2099, must not move the organization's clock, skip a platform's activation,
//! make the rest of the organization late or expire the baseline; and a flood
//! the clock never passes stays bounded in memory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use common::*;
use seldom_detect::{AlertUpdate, DetectConfig, Detector};
use seldom_model::{Event, Timestamp};

/// 30 workstations that all use one common destination every day.
fn org_background(days: std::ops::Range<i64>) -> Vec<Event> {
    let hosts: Vec<String> = (0..30).map(|i| format!("ws{i}")).collect();
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    background(&names, days)
}

/// Each host contacts a destination of its own on each of `days`: every one
/// of these is rare, so each would alert once the platform is active.
fn rare_contacts(days: std::ops::Range<i64>) -> Vec<Event> {
    let mut events = Vec::new();
    for day in days {
        for i in 0..30 {
            let host = format!("ws{i}");
            let guid = format!("{host}-tool-{day}");
            events.push(start(&host, at(day, 7200), &guid, "C:\\tools\\t.exe", None));
            events.push(connect(
                &host,
                at(day, 7201),
                &guid,
                "C:\\tools\\t.exe",
                &format!("198.18.{i}.{day}"),
            ));
        }
    }
    events
}

/// Inside the range timestamps are accepted in (1990–2100).
fn year_2099() -> Timestamp {
    Timestamp::parse("2099-01-01T00:00:00Z").unwrap()
}

fn year_1995() -> Timestamp {
    Timestamp::parse("1995-06-01T00:00:00Z").unwrap()
}

fn new_alerts(out: &[AlertUpdate]) -> Vec<String> {
    out.iter()
        .filter_map(|u| match u {
            AlertUpdate::New(a, _) => Some(a.destination.ip.to_string()),
            _ => None,
        })
        .collect()
}

fn push_all(d: &mut Detector, events: Vec<Event>, out: &mut Vec<AlertUpdate>) {
    for e in events {
        d.push(e, out);
    }
}

fn default_detector() -> Detector {
    detector(DetectConfig::default())
}

#[test]
fn one_record_from_1995_does_not_pass_a_platforms_activation() {
    // Ten days of telemetry: the 14-day activation has not passed, so none of
    // the 210 rare contacts may alert, whether the old record comes first (a
    // sorted scan) or in the middle of the feed (a service).
    let old = start("ws7", year_1995(), "ancient", "C:\\tools\\old.exe", None);
    let mut events = org_background(0..10);
    events.extend(rare_contacts(3..10));
    let mut sorted_events = events.clone();
    sorted_events.push(old.clone());
    let (alerts, d) = run(DetectConfig::default(), sorted(sorted_events));
    assert!(alerts.is_empty(), "sorted: {} alerts", alerts.len());
    assert!(d.activation().iter().all(|a| !a.active && a.days_seen < 14));

    let mut live = sorted(events);
    live.insert(live.len() / 2, old);
    let (alerts, _) = run(DetectConfig::default(), live);
    assert!(alerts.is_empty(), "live: {} alerts", alerts.len());
}

#[test]
fn one_record_from_2099_neither_makes_the_organization_late_nor_expires_its_baseline() {
    let mut d = default_detector();
    let mut out = Vec::new();
    push_all(&mut d, sorted(org_background(0..20)), &mut out);
    let future = connect(
        "ws3",
        year_2099(),
        "ws3-x",
        "C:\\tools\\x.exe",
        "198.18.250.9",
    );
    d.push(future, &mut out);
    push_all(&mut d, sorted(org_background(20..25)), &mut out);
    assert_eq!(d.stats().late_events, 0, "the organization was made late");
    // The common destination stays common: its baseline was not expired.
    assert!(
        !new_alerts(&out).iter().any(|ip| ip == "93.184.216.34"),
        "{out:?}"
    );
    let clock = d.clock().unwrap();
    assert!(clock < at(26, 0), "clock moved to {clock}");

    // End of the scan: the far-future record is processed and counted, and a
    // `--state` run that continues from here is not late either.
    d.flush(&mut out);
    assert_eq!(d.stats().future_events, 1);
    assert!(d.clock().unwrap() < at(26, 0));
    let mut next = default_detector();
    next.restore(d.state().clone());
    let mut out = Vec::new();
    push_all(&mut next, sorted(org_background(25..30)), &mut out);
    next.flush(&mut out);
    assert_eq!(next.stats().late_events, 0);
    assert!(
        !new_alerts(&out).iter().any(|ip| ip == "93.184.216.34"),
        "{out:?}"
    );
}

#[test]
fn a_lone_host_ahead_of_the_others_waits_for_a_second_one() {
    // One host's records ahead of all the others are held, not released: the
    // organization's clock is the latest time two hosts have reached.
    let mut d = default_detector();
    let mut out = Vec::new();
    push_all(&mut d, sorted(org_background(0..2)), &mut out);
    d.push(
        start("ws1", at(5, 0), "ahead", "C:\\tools\\a.exe", None),
        &mut out,
    );
    assert!(d.clock().unwrap() < at(2, 0), "one host moved the clock");
    d.push(
        start("ws2", at(5, 1), "ahead2", "C:\\tools\\a.exe", None),
        &mut out,
    );
    assert_eq!(d.clock(), Some(at(5, 0)), "a second host confirms the time");
}

#[test]
fn a_quiet_feed_is_released_on_request() {
    // A service asks the detector to release what a quiet feed left in the
    // reorder buffer: the last rare connection alerts with nothing after it.
    let mut d = detector(DetectConfig {
        activation_days: 0,
        ..DetectConfig::default()
    });
    let mut out = Vec::new();
    push_all(&mut d, sorted(org_background(0..2)), &mut out);
    d.push(
        start("ws4", at(2, 100), "quiet", "C:\\tools\\q.exe", None),
        &mut out,
    );
    d.push(
        connect(
            "ws4",
            at(2, 101),
            "quiet",
            "C:\\tools\\q.exe",
            "198.18.200.77",
        ),
        &mut out,
    );
    assert!(!new_alerts(&out).contains(&"198.18.200.77".to_owned()));
    d.release_through(at(2, 101), &mut out);
    assert!(
        new_alerts(&out).contains(&"198.18.200.77".to_owned()),
        "{out:?}"
    );
}

#[test]
fn a_flood_the_clock_never_passes_is_bounded_in_the_buffer() {
    // One host sends records far ahead of everyone: the clock never passes
    // them, so without a bound they would be held for ever.
    let mut d = detector(DetectConfig {
        max_buffered_events: 100,
        ..DetectConfig::default()
    });
    let mut out = Vec::new();
    push_all(&mut d, sorted(org_background(0..1)), &mut out);
    for i in 0..1_000 {
        d.push(
            start("ws9", at(300, i), &format!("f{i}"), "C:\\f.exe", None),
            &mut out,
        );
    }
    let (events, bytes) = d.buffered();
    assert_eq!(events, 100, "held at the bound");
    assert!(bytes > 0);
    // The flood, and the background still inside the reorder window.
    assert!(d.stats().reorder_overflow >= 900);
    // A byte bound holds too.
    let mut d = detector(DetectConfig {
        max_buffered_bytes: 64 << 10,
        ..DetectConfig::default()
    });
    push_all(&mut d, sorted(org_background(0..1)), &mut out);
    for i in 0..1_000 {
        d.push(
            start("ws9", at(300, i), &format!("f{i}"), "C:\\f.exe", None),
            &mut out,
        );
    }
    assert!(d.buffered().1 <= 64 << 10);
    assert!(d.stats().reorder_overflow > 0);
}
