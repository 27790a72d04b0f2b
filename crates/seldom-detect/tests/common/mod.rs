//! Builders of generated events in event time, and a detector run over them,
//! shared by the detector's integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses some; fixtures fail loudly

use std::net::IpAddr;
use std::sync::Arc;

use seldom_detect::{Alert, Catalog, DetectConfig, Detector, Order};
use seldom_model::{
    DnsQuery, Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform,
    ProcessIdentity, ProcessStart, SourceFormat, Timestamp,
};

pub const DAY: i64 = 86_400_000_000;
pub const SECOND: i64 = 1_000_000;
/// 2024-01-01T00:00:00Z
pub const EPOCH: i64 = 1_704_067_200 * SECOND;

pub fn at(day: i64, second: i64) -> Timestamp {
    Timestamp::from_micros(EPOCH + day * DAY + second * SECOND)
}

pub fn event(host: &str, platform: Platform, time: Timestamp, kind: EventKind) -> Event {
    Event {
        time,
        host: HostName::normalize(host, HostNaming::Short).unwrap(),
        platform,
        format: SourceFormat::FlatJson,
        event_id: 0,
        origin: Location::at_line(Arc::from("generated"), 1),
        kind,
    }
}

pub fn start(host: &str, time: Timestamp, guid: &str, image: &str, parent: Option<&str>) -> Event {
    event(
        host,
        platform_of(image),
        time,
        EventKind::ProcessStart(ProcessStart {
            process: ProcessIdentity {
                pid: Some(100),
                guid: Some(guid.to_owned()),
            },
            image: Some(image.to_owned()),
            parent: ProcessIdentity {
                pid: None,
                guid: parent.map(str::to_owned),
            },
            ..ProcessStart::default()
        }),
    )
}

pub fn platform_of(image: &str) -> Platform {
    if image.starts_with('/') {
        Platform::Linux
    } else {
        Platform::Windows
    }
}

pub fn connect(host: &str, time: Timestamp, guid: &str, image: &str, ip: &str) -> Event {
    event(
        host,
        platform_of(image),
        time,
        EventKind::NetworkConnection(NetworkConnection {
            process: ProcessIdentity {
                pid: Some(100),
                guid: Some(guid.to_owned()),
            },
            image: Some(image.to_owned()),
            user: None,
            protocol: Some("tcp".into()),
            initiated: Some(true),
            source_ip: None,
            source_port: None,
            destination_ip: ip.parse().unwrap(),
            destination_port: Some(443),
            destination_hostname: None,
            bytes_sent: None,
        }),
    )
}

pub fn dns(host: &str, time: Timestamp, guid: &str, name: &str, ips: &[&str]) -> Event {
    event(
        host,
        Platform::Windows,
        time,
        EventKind::DnsQuery(DnsQuery {
            process: ProcessIdentity {
                pid: Some(100),
                guid: Some(guid.to_owned()),
            },
            image: None,
            query_name: name.into(),
            answers: ips.iter().map(|ip| ip.parse::<IpAddr>().unwrap()).collect(),
            status: None,
        }),
    )
}

pub fn detector(config: DetectConfig) -> Detector {
    config.build(Catalog::builtin().unwrap()).unwrap()
}

/// The library's run loop over `events` as they come (a stream), the new
/// alerts collected.
pub fn run(config: DetectConfig, events: Vec<Event>) -> (Vec<Alert>, Detector) {
    let mut d = detector(config);
    let mut alerts: Vec<Alert> = Vec::new();
    seldom_detect::run(&mut d, [events], Order::Stream, &mut alerts).unwrap();
    (alerts, d)
}

/// Every host touches a common destination each day, so that the org exists.
pub fn background(hosts: &[&str], days: std::ops::Range<i64>) -> Vec<Event> {
    let mut events = Vec::new();
    for day in days {
        for (i, host) in hosts.iter().enumerate() {
            let t = at(day, 3600 + i as i64);
            let guid = format!("{host}-browser-{day}");
            events.push(start(
                host,
                t,
                &guid,
                "C:\\Program Files\\Browser\\browser.exe",
                None,
            ));
            events.push(connect(
                host,
                at(day, 3601 + i as i64),
                &guid,
                "C:\\Program Files\\Browser\\browser.exe",
                "93.184.216.34",
            ));
        }
    }
    events
}

pub fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.time);
    events
}
