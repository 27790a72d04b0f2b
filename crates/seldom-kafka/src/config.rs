//! The `[kafka]` section of the configuration: where the cluster is, the
//! topics, the consumer group, and any librdkafka property passed through
//! as it is (`security.protocol`, `sasl.mechanism`, `ssl.ca.location`, ...),
//! so that SASL and TLS clusters need nothing of seldom's own.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `host:port,host:port`; `--kafka` on the command line overrides it.
    pub bootstrap: String,
    /// The consumer group every worker of one deployment joins.
    pub group_id: String,
    pub topics: Topics,
    /// Partitions of the internal topics (by host, by destination key, and
    /// their changelogs): the most workers that can share the work.
    pub partitions: u32,
    /// Replication factor of the topics the workers create.
    pub replication_factor: u16,
    /// How often a worker commits its transaction (output, changelog and
    /// input offsets together): the latency of an alert, and the work
    /// repeated after a crash.
    #[serde(with = "humantime_serde")]
    pub commit_interval: Duration,
    /// librdkafka properties for every client, as they are.
    pub properties: BTreeMap<String, String>,
}

/// Topic names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Topics {
    /// Telemetry in: one record per message, any format `scan` reads.
    pub input: String,
    /// Internal: events keyed by host.
    pub by_host: String,
    /// Internal: contacts keyed by destination key.
    pub by_key: String,
    /// Alerts out: key the alert id, value the alert as `scan --format
    /// jsonl` writes it; a repeat is a newer record with the same key.
    pub alerts: String,
    /// Internal, compacted: each host partition's state.
    pub host_state: String,
    /// Internal, compacted: each key partition's state.
    pub key_state: String,
    /// Compacted, one partition: allowlist entries (key the entry id, value
    /// the entry as `serve` shows it, a tombstone when deleted), published
    /// by `seldom serve --kafka` and read whole by every worker.
    pub allowlist: String,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            input: "seldom.telemetry".into(),
            by_host: "seldom.by-host".into(),
            by_key: "seldom.by-key".into(),
            alerts: "seldom.alerts".into(),
            host_state: "seldom.host-state".into(),
            key_state: "seldom.key-state".into(),
            allowlist: "seldom.allowlist".into(),
        }
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            bootstrap: "127.0.0.1:9092".into(),
            group_id: "seldom".into(),
            topics: Topics::default(),
            partitions: 6,
            replication_factor: 3,
            commit_interval: Duration::from_millis(500),
            properties: BTreeMap::new(),
        }
    }
}

/// The workers' producers' `transaction.timeout.ms` (set by seldom, after
/// the operator's properties): a transaction a dead worker left open is
/// aborted by the coordinator after this long, which a restore outwaits.
pub const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// A `[kafka]` value that cannot work, naming its field.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("kafka.{field}: {problem}")]
pub struct KafkaConfigError {
    pub field: &'static str,
    pub problem: String,
}

impl KafkaConfig {
    pub fn checked(&self) -> Result<(), KafkaConfigError> {
        let bad = |field, problem: &str| {
            Err(KafkaConfigError {
                field,
                problem: problem.into(),
            })
        };
        if self.bootstrap.trim().is_empty() {
            return bad("bootstrap", "is empty");
        }
        if self.group_id.trim().is_empty() {
            return bad("group_id", "is empty");
        }
        if self.partitions == 0 {
            return bad("partitions", "must be at least 1");
        }
        if self.replication_factor == 0 {
            return bad("replication_factor", "must be at least 1");
        }
        if self.commit_interval.is_zero() {
            return bad("commit_interval", "must be more than 0");
        }
        let t = &self.topics;
        let names = [
            ("topics.input", &t.input),
            ("topics.by_host", &t.by_host),
            ("topics.by_key", &t.by_key),
            ("topics.alerts", &t.alerts),
            ("topics.host_state", &t.host_state),
            ("topics.key_state", &t.key_state),
            ("topics.allowlist", &t.allowlist),
        ];
        for (i, (field, name)) in names.iter().enumerate() {
            if name.is_empty() || name.len() > 249 || !name.bytes().all(legal_topic_byte) {
                return bad(field, "is not a legal topic name ([a-zA-Z0-9._-], 1-249)");
            }
            if names[..i].iter().any(|(_, other)| other == name) {
                return bad(field, "is the same topic as another");
            }
        }
        for key in self.properties.keys() {
            // These are what exactly-once rests on: set by the worker. (The
            // worker drops what it polled before a rebalance, which is right
            // only with the eager protocol: every partition fetched anew.)
            const OWN: [&str; 8] = [
                "group.id",
                "isolation.level",
                "enable.auto.commit",
                "transactional.id",
                "enable.idempotence",
                "bootstrap.servers",
                "group.protocol",
                "partition.assignment.strategy",
            ];
            if OWN.contains(&key.as_str()) {
                return Err(KafkaConfigError {
                    field: "properties",
                    problem: format!("{key} is set by seldom (exactly-once depends on it)"),
                });
            }
        }
        Ok(())
    }
}

fn legal_topic_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_their_field() {
        let mut c = KafkaConfig::default();
        assert_eq!(c.checked(), Ok(()));
        c.topics.by_key = c.topics.by_host.clone();
        assert_eq!(c.checked().unwrap_err().field, "topics.by_key");
        let mut c = KafkaConfig::default();
        c.topics.alerts = "alerts/../x".into();
        assert_eq!(c.checked().unwrap_err().field, "topics.alerts");
        let mut c = KafkaConfig::default();
        c.properties
            .insert("isolation.level".into(), "read_uncommitted".into());
        assert_eq!(c.checked().unwrap_err().field, "properties");
        let mut c = KafkaConfig::default();
        c.properties.insert(
            "partition.assignment.strategy".into(),
            "cooperative-sticky".into(),
        );
        assert_eq!(c.checked().unwrap_err().field, "properties");
        let c = KafkaConfig {
            partitions: 0,
            ..KafkaConfig::default()
        };
        assert_eq!(c.checked().unwrap_err().field, "partitions");
    }

    #[test]
    fn a_section_in_toml() {
        let c: KafkaConfig = toml_like(
            r#"{"bootstrap": "b:1", "topics": {"input": "in"}, "commit_interval": "2s",
                "properties": {"security.protocol": "SASL_SSL"}}"#,
        );
        assert_eq!(c.topics.input, "in");
        assert_eq!(c.topics.alerts, "seldom.alerts");
        assert_eq!(c.commit_interval, Duration::from_secs(2));
        assert_eq!(c.properties["security.protocol"], "SASL_SSL");
    }

    fn toml_like(json: &str) -> KafkaConfig {
        serde_json::from_str(json).expect("a valid section")
    }
}
