//! `seldom serve`'s settings: one serde struct, [`ServeConfig`], read whole
//! from a TOML file with the detection's own keys under `[detect]` (the
//! keys of `scan --config`), the service's under `[serve]`, and
//! `[[input.file]]` tails; flags override the file. Unknown keys and values
//! of the wrong type are refused by the parser, naming the key; values that
//! parse but cannot work by [`ServeConfig::validate`], naming the field.
//! [`crate::serve`] builds the running service from it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use seldom_detect::DetectConfig;
use seldom_kafka::KafkaConfig;
use serde::Deserialize;

/// Everything the service needs to start, as the file says it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// The detection's settings (`scan --config`'s keys).
    pub detect: DetectConfig,
    /// The service's own settings.
    pub serve: ServiceSettings,
    /// What is read besides HTTP ingest.
    pub input: Inputs,
    /// `[kafka]` (the workers' section): with it, the service follows a
    /// cluster of `seldom worker`s instead of detecting itself: it reads the
    /// alerts topic into its store and publishes allowlist entries to the
    /// allowlist topic.
    pub kafka: Option<KafkaConfig>,
}

/// `[serve]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSettings {
    /// Address and port to listen on (`127.0.0.1:8470`).
    pub listen: SocketAddr,
    /// The folder of the state store (`seldom.redb`).
    pub state: PathBuf,
    /// Bearer token for the API; without one, only loopback is served.
    pub token: Option<String>,
    /// TLS certificate chain (PEM); with `tls_key`, serves HTTPS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The baseline, tables, alerts and input offsets are committed together this often.
    #[serde(with = "humantime_serde")]
    pub checkpoint_interval: Duration,
    /// Ingest batches accepted but not yet detected; past it, ingest answers 429.
    pub queue_batches: usize,
    /// A larger request body is refused with 413.
    pub max_body_bytes: usize,
    /// A client must send a request's head (and a new connection its first
    /// bytes) within this; an idle keep-alive connection closes after it.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// Open connections at most; one more is closed at once.
    pub max_connections: usize,
    /// Alerts older than this (by last seen) are dropped at a checkpoint.
    #[serde(with = "humantime_serde")]
    pub alert_retention: Duration,
    /// How often tailed files are looked at.
    #[serde(with = "humantime_serde")]
    pub tail_interval: Duration,
    /// Events held in the reorder buffer this long (wall time) are released
    /// even if the organization's clock has not passed them: a quiet feed
    /// still alerts within seconds.
    #[serde(with = "humantime_serde")]
    pub reorder_wall_timeout: Duration,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            state: PathBuf::from("seldom-state"),
            token: None,
            tls_cert: None,
            tls_key: None,
            checkpoint_interval: Duration::from_secs(5),
            queue_batches: 64,
            max_body_bytes: 64 << 20,
            // Long enough for a kept-alive connection between a client's
            // requests (ureq pools for 15 s), short enough that a slot held
            // by a client that says nothing comes back soon.
            header_timeout: Duration::from_secs(20),
            // Under the common 1,024 file descriptors, with room for the
            // store, tailed files and the runtime.
            max_connections: 512,
            alert_retention: Duration::from_secs(90 * 86_400),
            tail_interval: Duration::from_millis(250),
            reorder_wall_timeout: Duration::from_secs(5),
        }
    }
}

/// `[input]`: files (paths or globs) followed as they grow, one
/// `[[input.file]]` each.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    #[serde(default)]
    pub file: Vec<FileInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    pub path: String,
}

/// A certificate chain and its key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl ServeConfig {
    /// Reads a config file and checks it.
    pub fn from_toml(text: &str) -> Result<ServeConfig> {
        let config: ServeConfig = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// The TLS files, when both are given.
    pub fn tls(&self) -> Option<TlsFiles> {
        match (&self.serve.tls_cert, &self.serve.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }

    /// The patterns of the files to follow.
    pub fn tail_patterns(&self) -> Vec<String> {
        self.input.file.iter().map(|f| f.path.clone()).collect()
    }

    /// Refuses settings that cannot work, naming the field. (The detector's
    /// bounds are checked as it is built, naming theirs.)
    pub fn validate(&self) -> Result<()> {
        let s = &self.serve;
        if s.token.as_deref().is_some_and(|t| t.trim().len() < 16) {
            bail!("serve.token: a token needs at least 16 characters");
        }
        if s.token.is_none() && !s.listen.ip().is_loopback() {
            bail!(
                "serve.listen: {} is not loopback; a token (--token, SELDOM_TOKEN or serve.token) is required to listen there",
                s.listen
            );
        }
        if s.tls_cert.is_some() != s.tls_key.is_some() {
            bail!("serve.tls_cert and serve.tls_key go together");
        }
        for (field, zero) in [
            ("checkpoint_interval", s.checkpoint_interval.is_zero()),
            ("header_timeout", s.header_timeout.is_zero()),
        ] {
            if zero {
                bail!("serve.{field}: must be more than zero");
            }
        }
        for (field, n) in [
            ("queue_batches", s.queue_batches),
            ("max_body_bytes", s.max_body_bytes),
            ("max_connections", s.max_connections),
        ] {
            if n == 0 {
                bail!("serve.{field}: must be at least 1");
            }
        }
        self.detect.internal_networks().context("in [detect]")?;
        if let Some(kafka) = &self.kafka {
            kafka.checked()?;
            if !self.input.file.is_empty() {
                bail!(
                    "input.file: a service following a Kafka cluster detects nothing itself; send files to the input topic with `seldom kafka produce`"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn refused(text: &str) -> String {
        format!("{:#}", ServeConfig::from_toml(text).unwrap_err())
    }

    #[test]
    fn a_full_file_is_read_and_unknown_keys_are_named() {
        let config = ServeConfig::from_toml(
            r#"
            [detect]
            activation_days = 3
            [serve]
            listen = "127.0.0.1:9000"
            checkpoint_interval = "2s"
            [[input.file]]
            path = "/var/log/*.json"
            "#,
        )
        .unwrap();
        assert_eq!(config.detect.activation_days, 3);
        assert_eq!(config.serve.listen.port(), 9000);
        assert_eq!(config.serve.checkpoint_interval, Duration::from_secs(2));
        assert_eq!(config.tail_patterns(), vec!["/var/log/*.json"]);
        assert_eq!(config.serve.header_timeout, Duration::from_secs(20));
        assert_eq!(config.serve.max_connections, 512);
        assert_eq!(config.serve.state, PathBuf::from("seldom-state"));
        let slow =
            ServeConfig::from_toml("[serve]\nheader_timeout = \"3s\"\nmax_connections = 9\n")
                .unwrap();
        assert_eq!(
            (slow.serve.header_timeout, slow.serve.max_connections),
            (Duration::from_secs(3), 9)
        );
        let e = refused("[serve]\nmax_connections = 0\n");
        assert!(e.contains("max_connections"), "{e}");
        let e = refused("[serve]\nlisten_on = \"x\"\n");
        assert!(e.contains("listen_on"), "{e}");
        let e = refused("[detect]\nrare = 1\n");
        assert!(e.contains("rare"), "{e}");
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_refused_naming_its_field() {
        for (text, field) in [
            ("[serve]\nlisten = \"nowhere\"\n", "listen"),
            (
                "[serve]\ncheckpoint_interval = \"soon\"\n",
                "checkpoint_interval",
            ),
            ("[serve]\nqueue_batches = -1\n", "queue_batches"),
            ("[detect]\nrare_hosts = \"three\"\n", "rare_hosts"),
            (
                "[detect]\ninternal_networks = [\"10.0.0.0/33\"]\n",
                "internal_networks",
            ),
            ("[serve]\ntls_cert = \"c.pem\"\n", "tls_key"),
            ("[[input.file]]\nglob = \"*.json\"\n", "glob"),
        ] {
            let e = refused(text);
            assert!(e.contains(field), "{text}: {e}");
        }
    }

    #[test]
    fn a_cluster_section_is_checked_and_refuses_tails() {
        let config = ServeConfig::from_toml("[kafka]\nbootstrap = \"127.0.0.1:19092\"\n").unwrap();
        assert_eq!(
            config.kafka.unwrap().topics.allowlist,
            "seldom.allowlist".to_owned()
        );
        let e = refused("[kafka]\ngroup_id = \" \"\n");
        assert!(e.contains("kafka.group_id"), "{e}");
        let e = refused("[kafka]\nbootstrap = \"b:1\"\n[[input.file]]\npath = \"x.json\"\n");
        assert!(e.contains("input.file"), "{e}");
    }

    #[test]
    fn a_public_address_needs_a_token() {
        let e = refused("[serve]\nlisten = \"0.0.0.0:8470\"\n");
        assert!(e.contains("token"), "{e}");
        let ok = ServeConfig::from_toml(
            "[serve]\nlisten = \"0.0.0.0:8470\"\ntoken = \"0123456789abcdef0\"\n",
        );
        assert!(ok.is_ok());
    }
}
