//! Detection settings: one TOML file, every field documented, unknown fields
//! rejected naming the field. [`DetectConfig`] is what users write;
//! [`DetectConfig::build`] checks it and builds the runtime [`crate::Detector`].

use std::time::Duration;

use ipnet::IpNet;
use seldom_model::HostNaming;
use serde::{Deserialize, Serialize};

use crate::destination::{
    DEFAULT_INTERNAL_DOMAINS, DEFAULT_INTERNAL_NETWORKS, DestinationClassifier,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("configuration field `{field}`: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
}

fn invalid(field: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        problem: problem.into(),
    }
}

/// Settings of the detection, as written in the TOML configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Destination networks that are internal and never alerted on (CIDR).
    /// Default: RFC 1918, 100.64.0.0/10, loopback, link-local, multicast,
    /// broadcast, unspecified, fc00::/7, fe80::/10, the documentation ranges and
    /// Azure's WireServer (168.63.129.16). Multicast, broadcast and unspecified
    /// addresses are no host and stay internal whatever this says.
    /// Lab recordings put attackers on private addresses: set this per deployment.
    pub internal_networks: Vec<String>,
    /// Destination name suffixes that are internal (single-label names always are).
    pub internal_domains: Vec<String>,
    /// A destination is rare when fewer than this many hosts, other than the
    /// connecting one, contacted it within the training window.
    pub rare_hosts: u32,
    /// The sliding window of event time the baseline covers, in days.
    pub training_days: u32,
    /// Days of a platform's event time that only train before it may alert.
    pub activation_days: u32,
    /// One alert per (variation, host, image, destination) per this many days.
    pub dedup_days: u32,
    /// How long an event may arrive out of order (a connection stamped before
    /// its own process start); e.g. "10m".
    #[serde(with = "humantime_serde")]
    pub reorder_window: Duration,
    /// How long before a connection a DNS answer still names its destination.
    #[serde(with = "humantime_serde")]
    pub dns_window: Duration,
    /// How long an ended process (Sysmon 5) is remembered, for late
    /// connections and its children's chains; e.g. "1d".
    #[serde(with = "humantime_serde")]
    pub process_retention: Duration,
    /// Ancestors shown and matched in a causality chain.
    pub chain_depth: u32,
    /// How hosts are identified: "short" (first label) or "fqdn".
    pub host_naming: HostNaming,
    /// Destination keys kept in the baseline; past it, the least recently
    /// contacted are evicted (and counted), bounding memory under a flood.
    pub max_keys: usize,
    /// Processes kept per host in the process table.
    pub max_processes_per_host: usize,
    /// Rare connections that may wait for their process's details at once.
    pub max_pending: usize,
    /// Events the reorder buffer may hold; past it (or past
    /// `max_buffered_bytes`) the earliest are released early and counted as
    /// `reorder_overflow`.
    pub max_buffered_events: usize,
    /// About how many bytes of events the reorder buffer may hold.
    pub max_buffered_bytes: usize,
    /// Distinct hosts whose clocks must reach a time before the
    /// organization's clock does: no fewer hosts can move it (event time is
    /// attacker-controlled). 1 makes the latest record the clock.
    pub clock_quorum: u32,
    /// How far ahead of the wall clock (in `serve`) a record may be stamped
    /// and still be taken; later ones are counted as `future_events`. Also how
    /// far ahead of the organization's clock a record at the end of a scan
    /// is counted so; e.g. "1d".
    #[serde(with = "humantime_serde")]
    pub future_tolerance: Duration,
    /// Alerts that share a destination key within this long of the first of
    /// them form one incident, which also lists the hosts that contact the
    /// destination meanwhile without alerting (its spread); e.g. "24h".
    #[serde(with = "humantime_serde")]
    pub incident_window: Duration,
    /// New alerts per variation per day at most (0: no budget); past it,
    /// the day's further alerts of the variation fold into one digest alert
    /// raised when the day ends. On Kafka, per destination-key partition.
    pub max_alerts_per_day: u32,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            internal_networks: DEFAULT_INTERNAL_NETWORKS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            internal_domains: DEFAULT_INTERNAL_DOMAINS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            rare_hosts: 3,
            training_days: 30,
            activation_days: 14,
            dedup_days: 1,
            reorder_window: Duration::from_secs(600),
            dns_window: Duration::from_secs(3600),
            process_retention: Duration::from_secs(86_400),
            chain_depth: 8,
            host_naming: HostNaming::Short,
            max_keys: 5_000_000,
            max_processes_per_host: 100_000,
            max_pending: 100_000,
            max_buffered_events: 1_000_000,
            max_buffered_bytes: 512 << 20,
            clock_quorum: 2,
            future_tolerance: Duration::from_secs(86_400),
            incident_window: Duration::from_secs(86_400),
            max_alerts_per_day: 0,
        }
    }
}

impl DetectConfig {
    pub fn from_toml(text: &str) -> Result<DetectConfig, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    pub fn internal_networks(&self) -> Result<Vec<IpNet>, ConfigError> {
        self.internal_networks
            .iter()
            .map(|n| {
                let n = n.trim();
                n.parse::<IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "internal_networks",
                            format!("{n:?} is not a CIDR network or address"),
                        )
                    })
            })
            .collect()
    }

    /// Checks every field; returns the destination classifier the settings
    /// describe (`build`, beside the detector, makes the detector of it).
    pub(crate) fn checked(&self) -> Result<DestinationClassifier, ConfigError> {
        if self.rare_hosts == 0 {
            return Err(invalid("rare_hosts", "must be at least 1"));
        }
        if self.training_days == 0 {
            return Err(invalid("training_days", "must be at least 1"));
        }
        if self.dedup_days == 0 {
            return Err(invalid("dedup_days", "must be at least 1"));
        }
        if self.incident_window.is_zero() {
            return Err(invalid("incident_window", "must be longer than zero"));
        }
        // A cluster's publisher keeps an alert for revisions for its dedup
        // period only: an incident may not outlast it.
        if self.incident_window > Duration::from_secs(86_400 * u64::from(self.dedup_days)) {
            return Err(invalid(
                "incident_window",
                "may not be longer than dedup_days (an incident revises its alerts, which a cluster keeps for the dedup period)",
            ));
        }
        if self.chain_depth == 0 || self.chain_depth > 64 {
            return Err(invalid("chain_depth", "must be between 1 and 64"));
        }
        for (field, bound) in [
            ("max_keys", self.max_keys),
            ("max_processes_per_host", self.max_processes_per_host),
            ("max_pending", self.max_pending),
            ("clock_quorum", self.clock_quorum as usize),
            ("max_buffered_events", self.max_buffered_events),
            ("max_buffered_bytes", self.max_buffered_bytes),
        ] {
            if bound == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        Ok(DestinationClassifier::new(
            self.internal_networks()?,
            &self.internal_domains,
        ))
    }

    /// What the saved state depends on: a state written under other values of
    /// these would mean something else, and is refused.
    pub fn state_fingerprint(&self) -> String {
        format!(
            "rare_hosts={} training_days={} host_naming={:?} internal_networks={:?} internal_domains={:?}",
            self.rare_hosts,
            self.training_days,
            self.host_naming,
            self.internal_networks,
            self.internal_domains
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn unknown_fields_are_rejected_by_name() {
        let err = DetectConfig::from_toml("rare_host = 3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rare_host"), "{err}");
    }

    #[test]
    fn durations_and_partial_files() {
        let c = DetectConfig::from_toml("reorder_window = \"30s\"\nrare_hosts = 5").unwrap();
        assert_eq!(c.reorder_window, Duration::from_secs(30));
        assert_eq!(c.rare_hosts, 5);
        assert_eq!(c.training_days, 30);
    }

    #[test]
    fn bad_values_name_their_field() {
        let c = DetectConfig {
            internal_networks: vec!["10.0.0.0/33".into()],
            ..DetectConfig::default()
        };
        let err = c
            .build(Catalog::builtin().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("internal_networks") && err.contains("10.0.0.0/33"),
            "{err}"
        );
        let c = DetectConfig {
            rare_hosts: 0,
            ..DetectConfig::default()
        };
        assert!(
            c.build(Catalog::builtin().unwrap())
                .unwrap_err()
                .to_string()
                .contains("rare_hosts")
        );
    }
}
