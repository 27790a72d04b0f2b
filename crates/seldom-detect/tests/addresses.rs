//! Addresses that are no host, and the IPv4 addresses old Sysmon versions
//! wrote as IPv6 text, end to end: events in, alerts (or none) out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

use std::net::IpAddr;
use std::sync::Arc;

use seldom_detect::destination::DestinationKey;
use seldom_detect::{Alert, AlertUpdate, Catalog, DetectConfig, Detector};
use seldom_model::{
    Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform, ProcessIdentity,
    Timestamp,
};

/// 2024-01-01T00:00:00Z, in microseconds.
const EPOCH: i64 = 1_704_067_200_000_000;

fn connect(second: i64, ip: &str) -> Event {
    Event {
        time: Timestamp::from_micros(EPOCH + second * 1_000_000),
        host: HostName::normalize("ws1", HostNaming::Short).unwrap(),
        platform: Platform::Windows,
        format: seldom_model::SourceFormat::FlatJson,
        event_id: 3,
        origin: Location::at_line(Arc::from("generated"), 1),
        kind: EventKind::NetworkConnection(NetworkConnection {
            process: ProcessIdentity::default(),
            image: Some("C:\\x.exe".into()),
            user: None,
            protocol: Some("udp".into()),
            initiated: Some(true),
            source_ip: None,
            source_port: None,
            destination_ip: ip.parse().unwrap(),
            destination_port: Some(5355),
            destination_hostname: None,
            bytes_sent: None,
        }),
    }
}

/// Activation off, so that every external connection alerts at once.
fn config(internal_networks: &[&str]) -> DetectConfig {
    DetectConfig {
        activation_days: 0,
        internal_networks: internal_networks.iter().map(|s| s.to_string()).collect(),
        ..DetectConfig::default()
    }
}

fn run(config: DetectConfig, ips: &[&str]) -> (Vec<Alert>, Detector) {
    let mut d = config.build(Catalog::builtin().unwrap()).unwrap();
    let mut out = Vec::new();
    for (i, ip) in ips.iter().enumerate() {
        d.push(connect(i as i64, ip), &mut out);
    }
    d.flush(&mut out);
    let alerts = out
        .into_iter()
        .filter_map(|u| match u {
            AlertUpdate::New(a, _) => Some(*a),
            _ => None,
        })
        .collect();
    (alerts, d)
}

#[test]
fn multicast_broadcast_and_unspecified_never_alert_whatever_internal_networks_says() {
    let (alerts, d) = run(
        config(&[]),
        &[
            "224.0.0.252",
            "255.255.255.255",
            "0.0.0.0",
            "ff02::1:3",
            "::",
        ],
    );
    assert!(alerts.is_empty(), "{alerts:#?}");
    assert_eq!(d.stats().internal, 5);
}

#[test]
fn old_sysmon_ipv6_text_is_read_as_its_ipv4_address_and_counted() {
    // With the defaults, 172.30.1.1 is private and 224.0.0.252 multicast.
    let (alerts, d) = run(
        DetectConfig {
            activation_days: 0,
            ..DetectConfig::default()
        },
        &["ac1e:101::", "e000:fc::"],
    );
    assert!(alerts.is_empty(), "{alerts:#?}");
    assert_eq!(d.stats().mangled_ipv6, 2);
    assert_eq!(d.stats().internal, 2);

    // Where private addresses are external, the alert names the IPv4 address.
    let (alerts, d) = run(config(&[]), &["ac1e:101::"]);
    assert_eq!(alerts.len(), 1);
    let ipv4: IpAddr = "172.30.1.1".parse().unwrap();
    assert_eq!(alerts[0].destination.ip, ipv4);
    assert_eq!(alerts[0].destination.key, DestinationKey::Ip(ipv4));
    assert_eq!(d.stats().mangled_ipv6, 1);
}

#[test]
fn addresses_in_use_are_not_unmangled() {
    let (alerts, d) = run(
        config(&[]),
        &["2606:4700::1111", "fd00::5", "::ffff:8.8.8.8"],
    );
    assert_eq!(alerts.len(), 3, "{alerts:#?}");
    assert_eq!(d.stats().mangled_ipv6, 0);
}

#[test]
fn azure_wireserver_is_internal_by_default() {
    let (alerts, _) = run(
        DetectConfig {
            activation_days: 0,
            ..DetectConfig::default()
        },
        &["168.63.129.16"],
    );
    assert!(alerts.is_empty(), "{alerts:#?}");
}
