//! The alert: what happened, which variation and why, and the evidence that
//! makes the destination rare, in one self-contained document an analyst can
//! act on without the reference text.

use std::net::IpAddr;

use seldom_model::{Location, Platform, Timestamp};
use serde::{Deserialize, Serialize};

use crate::beacon::Beacon;
use crate::catalog::{Attack, Severity};
use crate::destination::DestinationKey;
use crate::image::image_name;
use crate::process_table::Ancestor;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Derived from the dedup key and the first event time: a replay of the
    /// same data yields the same id, so a sink can upsert.
    pub id: String,
    pub variation: String,
    pub name: String,
    pub severity: Severity,
    pub attack: Vec<Attack>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub count: u64,
    pub host: String,
    pub platform: Platform,
    pub user: Option<String>,
    pub process: AlertProcess,
    /// Ancestors, nearest first.
    pub chain: Vec<Ancestor>,
    pub destination: AlertDestination,
    pub prevalence: PrevalenceEvidence,
    /// Why the winning variation matched.
    pub matched_because: String,
    /// Other variations that matched, less specific than the winner.
    pub also_matched: Vec<String>,
    /// One human sentence.
    pub explanation: String,
    pub description: String,
    pub attacker_goals: String,
    pub investigative_actions: String,
    /// Where the events behind the alert came from (the first connection, and
    /// the process start when known).
    pub source_events: Vec<Location>,
    /// The incident the alert belongs to: the alerts and spread of its
    /// destination within `incident_window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentRef>,
    /// Set when its contacts are periodic (its severity was raised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<Beacon>,
    /// Set on a digest: the alerts of its variation and day past the
    /// `max_alerts_per_day` budget, folded into this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertProcess {
    pub image: Option<String>,
    pub command_line: Option<String>,
    pub pid: Option<u32>,
    pub guid: Option<String>,
    pub original_file_name: Option<String>,
    /// When the process started (from its process-creation event), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertDestination {
    pub ip: IpAddr,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    /// The name as the sensor logged it (usually a reverse, PTR, name).
    pub hostname: Option<String>,
    /// The name the host asked DNS for, when a query answered with this IP.
    pub forward_name: Option<String>,
    pub registered_domain: Option<String>,
    /// What prevalence is counted on.
    pub key: DestinationKey,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceEvidence {
    /// Distinct hosts, other than this one, that contacted the key in the window.
    pub hosts_in_window: usize,
    /// Hosts seen sending any telemetry in the window.
    pub active_hosts: usize,
    pub window_days: u32,
    pub rare_threshold: u32,
    /// When the organization first contacted the key (this event, if never before).
    pub first_seen_in_org: Timestamp,
}

/// What an alert carries of its incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRef {
    pub id: String,
    /// Every host that contacted the destination inside the incident, in the
    /// order of their first contact (alerted or not).
    pub hosts: Vec<String>,
}

/// What a digest alert carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// The UTC day (days since 1970-01-01) it covers.
    pub day: i64,
    /// The budget that was reached.
    pub budget: u32,
    /// Alerts folded into it.
    pub alerts: u64,
    /// Destination keys with their folded alerts, most first.
    pub top_destinations: Vec<(String, u64)>,
    /// Hosts with their folded alerts, most first.
    pub top_hosts: Vec<(String, u64)>,
}

impl Alert {
    /// The explanation: one sentence an analyst reads first, made from the
    /// alert's own evidence (so a stored alert can be explained again).
    pub fn sentence(&self) -> String {
        let process_name = match (
            self.platform,
            self.process.image.as_deref().and_then(image_name),
        ) {
            (Platform::Network, _) => {
                "a process no sensor attributed (seen by a network sensor)".to_owned()
            }
            (_, Some(name)) => name,
            (_, None) => "an unknown process".to_owned(),
        };
        let parent = self
            .chain
            .first()
            .and_then(|a| a.image.as_deref())
            .and_then(image_name);
        let d = &self.destination;
        let shown_destination = match &d.forward_name {
            Some(name) => format!("{name} ({})", d.ip),
            None => d.ip.to_string(),
        };
        let p = &self.prevalence;
        let others = match p.hosts_in_window {
            0 => "no other host".to_owned(),
            1 => "1 other host".to_owned(),
            n => format!("{n} other hosts"),
        };
        let beacon = self
            .beacon
            .as_ref()
            .map(|b| format!(" {}", b.sentence()))
            .unwrap_or_default();
        format!(
            "{process_name}{} on {} connected to {}{}, which {others} of the {} active in the last {} days contacted (rare: fewer than {}); first seen in the organization {}. Variation {}: {}.{beacon}",
            parent
                .map(|p| format!(" (child of {p})"))
                .unwrap_or_default(),
            self.host,
            shown_destination,
            d.port.map(|p| format!(":{p}")).unwrap_or_default(),
            p.active_hosts,
            p.window_days,
            p.rare_threshold,
            ago(p.first_seen_in_org, self.first_seen),
            self.variation,
            self.matched_because,
        )
    }
}

/// "just now", "5 minutes ago", "3 days ago".
pub fn ago(then: Timestamp, now: Timestamp) -> String {
    let seconds = (now.as_micros() - then.as_micros()).max(0) / 1_000_000;
    let (n, unit) = match seconds {
        0 => return "just now (this connection)".to_owned(),
        s if s < 120 => (s, "second"),
        s if s < 7200 => (s / 60, "minute"),
        s if s < 172_800 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}
