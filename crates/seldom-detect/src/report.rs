//! What the detector reports besides its alerts: the update a sink applies,
//! its counters, what the baseline knows of a destination, and how far each
//! platform's activation has come.

use seldom_model::{Event, Platform, Timestamp};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::beacon::Beacon;
use crate::catalog::Severity;
use crate::incident::Incident;

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
    /// An open alert's contacts turned out periodic: its severity is raised
    /// and it carries the evidence.
    Beacon {
        id: String,
        severity: Severity,
        beacon: Beacon,
    },
    /// An incident's hosts changed (a host alerted, or spread to it): each of
    /// its alerts carries the new list.
    Incident(Box<Incident>),
}

impl AlertUpdate {
    /// The alerts an update revises (none for a new alert).
    pub fn revises(&self) -> Vec<&str> {
        match self {
            AlertUpdate::New(..) => Vec::new(),
            AlertUpdate::Repeat { id, .. } | AlertUpdate::Beacon { id, .. } => vec![id.as_str()],
            AlertUpdate::Incident(incident) => incident.alerts.iter().map(String::as_str).collect(),
        }
    }

    /// Applies a revision to one of the alerts it names ([`Self::revises`]);
    /// a sink that keeps alerts calls this instead of knowing each kind.
    pub fn revise(&self, alert: &mut Alert) {
        match self {
            AlertUpdate::New(..) => {}
            AlertUpdate::Repeat {
                count, last_seen, ..
            } => {
                alert.count = *count;
                alert.last_seen = *last_seen;
            }
            AlertUpdate::Beacon {
                severity, beacon, ..
            } => {
                alert.severity = *severity;
                alert.beacon = Some(beacon.clone());
                alert.explanation = alert.sentence();
            }
            AlertUpdate::Incident(incident) => alert.incident = Some(incident.reference()),
        }
    }
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
    /// New alerts past `max_alerts_per_day`, folded into a digest.
    #[serde(default)]
    pub folded_into_digest: u64,
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
