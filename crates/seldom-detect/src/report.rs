//! What the detector reports besides its alerts: the update a sink applies,
//! its counters, what the baseline knows of a destination, and how far each
//! platform's activation has come.

use seldom_model::{Event, Platform, Timestamp};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::destination::DestinationKey;
use crate::engine::Detector;

/// What the detector tells its sink.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertUpdate {
    /// A new alert, with the connection event it was raised on (for a
    /// service that keeps evidence beside its alerts).
    New(Box<Alert>, Box<Event>),
    /// A repeat inside the dedup period of an open alert.
    Repeat {
        id: String,
        count: u64,
        last_seen: Timestamp,
    },
}

/// A destination key as the baseline knows it ([`Detector::destination`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestinationView {
    pub key: String,
    pub key_type: &'static str,
    /// Hosts among the K kept whose last contact is inside the window (all
    /// of them while the key is rare).
    pub hosts_in_window: usize,
    /// The K most recent hosts, most recent first.
    pub recent_hosts: Vec<String>,
    pub first_seen: Timestamp,
    pub connections: u64,
    pub window_days: u32,
    /// `(UTC day number, hosts that day)` inside the window, oldest first.
    pub daily: Vec<(i64, u32)>,
}

/// How far one platform's activation period has come.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivationProgress {
    pub platform: Platform,
    pub days_seen: u32,
    pub activation_days: u32,
    pub active: bool,
}

/// Counters of what the detector saw and decided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectStats {
    pub events: u64,
    pub connections: u64,
    pub inbound: u64,
    pub internal: u64,
    pub rare: u64,
    /// Rare connections seen before their platform's activation completed.
    pub rare_while_training: u64,
    pub alerts: u64,
    pub repeats: u64,
    /// Events that arrived after the watermark had passed their time.
    pub late_events: u64,
    /// Events released early because the reorder buffer was full.
    #[serde(default)]
    pub reorder_overflow: u64,
    /// Events ahead of the organization's clock by more than
    /// `future_tolerance`: at the end of a scan, processed without moving the
    /// clock; in a service, ahead of the wall clock, refused.
    #[serde(default)]
    pub future_events: u64,
    pub evicted_keys: u64,
    /// Ended processes forgotten after `process_retention`.
    #[serde(default)]
    pub expired_processes: u64,
    /// Rare connections judged early because the pending buffer was full.
    pub pending_overflow: u64,
    /// Network-sensor connections of hosts whose endpoint sensor reports them.
    pub covered_by_endpoint: u64,
    /// Destinations an old Sysmon wrote as IPv6 text holding IPv4 bytes,
    /// read as that IPv4 address (`destination::unmangle_ipv6`).
    #[serde(default)]
    pub mangled_ipv6: u64,
}

impl Detector {
    /// What the organization knows of a destination key (a registered domain
    /// or an address, as alerts name it), for an analyst.
    pub fn destination(&self, key: &str) -> Option<DestinationView> {
        let key = match key.parse::<std::net::IpAddr>() {
            Ok(ip) => DestinationKey::Ip(ip),
            Err(_) => DestinationKey::Domain(key.trim().to_ascii_lowercase()),
        };
        let known = self.state.baseline.get(&key)?;
        let today = self.state.current_day.unwrap_or(0);
        let start = today - i64::from(self.config.training_days) + 1;
        let recent: Vec<(String, i64)> = known
            .recent()
            .iter()
            .filter_map(|(id, day)| Some((self.state.hosts.name(*id)?.to_string(), *day)))
            .collect();
        Some(DestinationView {
            key_type: match key {
                DestinationKey::Ip(_) => "ip",
                DestinationKey::Domain(_) => "domain",
            },
            key: key.to_string(),
            hosts_in_window: recent.iter().filter(|(_, day)| *day >= start).count(),
            recent_hosts: recent.into_iter().map(|(host, _)| host).collect(),
            first_seen: known.first_seen,
            connections: known.connections,
            window_days: self.config.training_days,
            daily: known
                .daily()
                .iter()
                .filter(|(day, _)| *day >= start)
                .map(|(day, hosts)| (*day, *hosts))
                .collect(),
        })
    }

    /// Per platform seen, how far its activation period has come, in event time.
    pub fn activation(&self) -> Vec<ActivationProgress> {
        let now = self.state.clock.now();
        self.state
            .clock
            .platforms()
            .map(|(platform, first)| {
                let seen = now.map_or(0, |n| n.since(first).whole_days());
                ActivationProgress {
                    platform,
                    days_seen: u32::try_from(seen.max(0)).unwrap_or(u32::MAX),
                    activation_days: self.config.activation_days,
                    active: now.is_some_and(|n| self.activated(platform, n)),
                }
            })
            .collect()
    }
}
