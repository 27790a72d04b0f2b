//! Incidents and beacons on synthetic organizations: a destination that
//! reaches five hosts is one incident listing all five (the last two are
//! spread: they no longer alert), and a rare destination contacted on a timer
//! is escalated while irregular contacts are not.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use common::*;
use seldom_detect::catalog::Severity;
use seldom_detect::{Alert, AlertBook, DetectConfig, Order};
use seldom_model::Event;

const RUNDLL: &str = "C:\\Windows\\System32\\rundll32.exe";

fn hosts() -> Vec<String> {
    (0..30).map(|i| format!("ws{i}")).collect()
}

/// 30 hosts past their activation (16 days of background).
fn organization() -> Vec<Event> {
    let hosts = hosts();
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    background(&names, 0..18)
}

fn tool_contact(host: &str, day: i64, second: i64, ip: &str) -> [Event; 2] {
    let guid = format!("{host}-tool-{day}-{second}");
    [
        start(host, at(day, second - 1), &guid, RUNDLL, None),
        connect(host, at(day, second), &guid, RUNDLL, ip),
    ]
}

fn detect(events: Vec<Event>) -> Vec<Alert> {
    let mut d = detector(DetectConfig::default());
    let mut book = AlertBook::default();
    seldom_detect::run(&mut d, [sorted(events)], Order::Stream, &mut book).unwrap();
    let mut alerts: Vec<Alert> = book.0.into_values().collect();
    alerts.sort_by_key(|a| a.first_seen);
    alerts
}

#[test]
fn a_spread_is_one_incident_with_every_host_though_the_late_ones_do_not_alert() {
    let mut events = organization();
    // Five hosts reach the destination within three hours on day 16; a sixth
    // two days later, after the incident's window.
    for (i, host) in ["ws0", "ws1", "ws2", "ws3", "ws4"].iter().enumerate() {
        events.extend(tool_contact(
            host,
            16,
            7_200 + 2_000 * i as i64,
            "45.33.20.7",
        ));
    }
    events.extend(tool_contact("ws5", 17, 80_000, "45.33.20.7"));
    let alerts: Vec<Alert> = detect(events)
        .into_iter()
        .filter(|a| a.destination.ip.to_string() == "45.33.20.7")
        .collect();
    // Fewer than 3 other hosts: the first three alert, the fourth and fifth
    // do not, nor does the sixth.
    let alerted: Vec<&str> = alerts.iter().map(|a| a.host.as_str()).collect();
    assert_eq!(alerted, ["ws0", "ws1", "ws2"]);
    let incident = alerts[0]
        .incident
        .clone()
        .expect("the alert carries its incident");
    for alert in &alerts {
        assert_eq!(alert.incident.as_ref(), Some(&incident), "{}", alert.id);
    }
    assert_eq!(incident.hosts, ["ws0", "ws1", "ws2", "ws3", "ws4"]);
}

#[test]
fn alerts_on_other_destinations_are_other_incidents() {
    let mut events = organization();
    events.extend(tool_contact("ws0", 16, 7_200, "45.33.20.7"));
    events.extend(tool_contact("ws1", 16, 7_300, "45.33.20.8"));
    let alerts = detect(events);
    let ids: Vec<&str> = alerts
        .iter()
        .map(|a| a.incident.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn a_timer_is_escalated_and_irregular_contacts_are_not() {
    let mut events = organization();
    // One process on ws0 calls 45.33.30.9 every 300 s ± 10 % for 8 hours.
    let guid = "ws0-implant";
    events.push(start("ws0", at(16, 3_000), guid, RUNDLL, None));
    let mut second = 3_600;
    for i in 0..96 {
        second += 300 + [0, 17, -25, 8, -11, 29, -4, 22][i % 8];
        events.push(connect("ws0", at(16, second), guid, RUNDLL, "45.33.30.9"));
    }
    // Another on ws1 calls 45.33.30.10 as often, at irregular times.
    let guid = "ws1-tool";
    events.push(start("ws1", at(16, 3_000), guid, RUNDLL, None));
    let mut second = 3_600;
    for i in 0..96 {
        second += [5, 900, 40, 2, 1_700, 60, 300, 12][i % 8];
        events.push(connect("ws1", at(16, second), guid, RUNDLL, "45.33.30.10"));
    }
    let alerts = detect(events);
    let timer = alerts
        .iter()
        .find(|a| a.destination.ip.to_string() == "45.33.30.9")
        .unwrap();
    let beacon = timer.beacon.as_ref().expect("the timer is a beacon");
    assert_eq!(beacon.contacts, 96);
    assert_eq!(beacon.contact_times.len(), 96);
    assert!(beacon.contact_times.windows(2).all(|w| w[0] < w[1]));
    assert!((beacon.median_interval_seconds - 300.0).abs() < 15.0);
    assert!(beacon.dispersion <= 0.2);
    assert_eq!(beacon.base_severity, Severity::Informational);
    assert_eq!(timer.severity, Severity::Low, "raised one level");
    assert!(
        timer.explanation.contains("periodic"),
        "{}",
        timer.explanation
    );
    let irregular = alerts
        .iter()
        .find(|a| a.destination.ip.to_string() == "45.33.30.10")
        .unwrap();
    assert_eq!(irregular.beacon, None);
    assert_eq!(irregular.severity, Severity::Informational);
    assert_eq!(irregular.count, 96);
}

#[test]
fn past_the_daily_budget_alerts_fold_into_one_digest_and_the_next_day_starts_whole() {
    let mut events = organization();
    // Eight hosts each reach a destination of their own on day 16; one more
    // on day 17.
    for i in 0..8 {
        let host = format!("ws{i}");
        events.extend(tool_contact(
            &host,
            16,
            7_200 + 60 * i,
            &format!("45.33.40.{i}"),
        ));
    }
    events.extend(tool_contact("ws9", 17, 7_200, "45.33.41.1"));
    let config = DetectConfig {
        max_alerts_per_day: 3,
        ..DetectConfig::default()
    };
    let mut d = detector(config);
    let mut book = AlertBook::default();
    seldom_detect::run(&mut d, [sorted(events)], Order::Stream, &mut book).unwrap();
    let alerts: Vec<Alert> = book
        .0
        .into_values()
        .filter(|a| a.destination.ip.to_string().starts_with("45.33.4"))
        .collect();
    let (digests, single): (Vec<&Alert>, Vec<&Alert>) =
        alerts.iter().partition(|a| a.digest.is_some());
    assert_eq!(
        single.len(),
        4,
        "3 on day 16 within the budget, 1 on day 17"
    );
    assert_eq!(digests.len(), 1);
    let digest = digests[0].digest.as_ref().unwrap();
    assert_eq!((digest.alerts, digest.budget), (5, 3));
    assert_eq!(digests[0].count, 5);
    let hosts: Vec<&str> = digest.top_hosts.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, ["ws3", "ws4", "ws5", "ws6", "ws7"]);
    assert_eq!(digest.top_destinations.len(), 5);
    assert!(
        digests[0].explanation.contains("budget of 3"),
        "{}",
        digests[0].explanation
    );
    assert_eq!(d.stats().folded_into_digest, 5);
}

#[test]
fn an_alert_that_waited_for_its_process_joins_the_incident_a_later_one_opened() {
    let mut events = organization();
    // ws0's connection is logged before its process start (it waits for
    // it); ws1 alerts on the same destination in between.
    events.push(connect(
        "ws0",
        at(16, 7_200),
        "ws0-late",
        RUNDLL,
        "45.33.50.1",
    ));
    events.push(start("ws0", at(16, 7_300), "ws0-late", RUNDLL, None));
    events.extend(tool_contact("ws1", 16, 7_250, "45.33.50.1"));
    let alerts: Vec<Alert> = detect(events)
        .into_iter()
        .filter(|a| a.destination.ip.to_string() == "45.33.50.1")
        .collect();
    assert_eq!(alerts.len(), 2);
    let ids: Vec<&str> = alerts
        .iter()
        .map(|a| a.incident.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(ids[0], ids[1], "one incident, not two");
    assert_eq!(alerts[0].incident.as_ref().unwrap().hosts, ["ws0", "ws1"]);
}
