//! `seldom serve`'s settings: a TOML file with the detection's own keys under
//! `[detect]`, the service's under `[serve]`, and `[[input.file]]` tails;
//! flags override the file. Unknown keys are refused by name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use seldom_detect::DetectConfig;
use serde::Deserialize;

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub detect: DetectConfig,
    pub listen: SocketAddr,
    /// The folder of the state store (`seldom.redb`).
    pub state_dir: PathBuf,
    /// Bearer token for the API; without one, only loopback is served.
    pub token: Option<String>,
    pub tls: Option<TlsFiles>,
    /// The baseline, tables, alerts and input offsets are committed together this often.
    pub checkpoint_interval: Duration,
    /// Ingest batches accepted but not yet detected; past it, ingest answers 429.
    pub queue_batches: usize,
    /// A larger request body is refused with 413.
    pub max_body_bytes: usize,
    /// A client must send a request's head (and a new connection its first
    /// bytes) within this; an idle keep-alive connection closes after it.
    pub header_timeout: Duration,
    /// Open connections at most; one more is closed at once.
    pub max_connections: usize,
    /// Alerts older than this (by last seen) are dropped at a checkpoint.
    pub alert_retention: Duration,
    /// Files (paths or globs) followed as they grow.
    pub tail: Vec<String>,
    /// How often tailed files are looked at.
    pub tail_interval: Duration,
    /// Events held in the reorder buffer this long (wall time) are released
    /// even if the organization's clock has not passed them: a quiet feed
    /// still alerts within seconds.
    pub reorder_wall_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl ServeConfig {
    pub fn new(detect: DetectConfig, state_dir: PathBuf) -> Self {
        ServeConfig {
            detect,
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            state_dir,
            token: None,
            tls: None,
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
            tail: Vec::new(),
            tail_interval: Duration::from_millis(250),
            reorder_wall_timeout: Duration::from_secs(5),
        }
    }

    /// Reads a config file; `state_dir` is the default when the file names none.
    pub fn from_toml(text: &str, state_dir: PathBuf) -> Result<ServeConfig> {
        let file: ServeFile = toml::from_str(text)?;
        let detect = match file.detect {
            Some(table) => {
                DetectConfig::from_toml(&toml::to_string(&table)?).context("in [detect]")?
            }
            None => DetectConfig::default(),
        };
        let mut config = ServeConfig::new(detect, state_dir);
        let serve = file.serve.unwrap_or_default();
        if let Some(listen) = serve.listen {
            config.listen = listen
                .parse()
                .with_context(|| format!("serve.listen: {listen:?} is not an address:port"))?;
        }
        if let Some(dir) = serve.state {
            config.state_dir = dir;
        }
        config.token = serve.token.or(config.token);
        match (serve.tls_cert, serve.tls_key) {
            (Some(cert), Some(key)) => config.tls = Some(TlsFiles { cert, key }),
            (None, None) => {}
            _ => bail!("serve.tls_cert and serve.tls_key go together"),
        }
        if let Some(d) = serve.checkpoint_interval {
            config.checkpoint_interval = d;
        }
        if let Some(n) = serve.queue_batches {
            config.queue_batches = n;
        }
        if let Some(n) = serve.max_body_bytes {
            config.max_body_bytes = n;
        }
        if let Some(d) = serve.header_timeout {
            config.header_timeout = d;
        }
        if let Some(n) = serve.max_connections {
            config.max_connections = n;
        }
        if let Some(d) = serve.alert_retention {
            config.alert_retention = d;
        }
        if let Some(d) = serve.reorder_wall_timeout {
            config.reorder_wall_timeout = d;
        }
        if let Some(d) = serve.tail_interval {
            config.tail_interval = d;
        }
        config.tail = file
            .input
            .unwrap_or_default()
            .file
            .into_iter()
            .map(|f| f.path)
            .collect();
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings that cannot work, naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.token.as_deref().is_some_and(|t| t.trim().len() < 16) {
            bail!("serve.token: a token needs at least 16 characters");
        }
        if self.token.is_none() && !self.listen.ip().is_loopback() {
            bail!(
                "serve.listen: {} is not loopback; a token (--token, SELDOM_TOKEN or serve.token) is required to listen there",
                self.listen
            );
        }
        if self.checkpoint_interval.is_zero() {
            bail!("serve.checkpoint_interval: must be more than zero");
        }
        if self.queue_batches == 0 {
            bail!("serve.queue_batches: must be at least 1");
        }
        if self.max_body_bytes == 0 {
            bail!("serve.max_body_bytes: must be at least 1");
        }
        if self.header_timeout.is_zero() {
            bail!("serve.header_timeout: must be more than zero");
        }
        if self.max_connections == 0 {
            bail!("serve.max_connections: must be at least 1");
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    detect: Option<toml::Table>,
    serve: Option<ServeSection>,
    input: Option<InputSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeSection {
    listen: Option<String>,
    state: Option<PathBuf>,
    token: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default, with = "humantime_serde")]
    checkpoint_interval: Option<Duration>,
    queue_batches: Option<usize>,
    max_body_bytes: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    header_timeout: Option<Duration>,
    max_connections: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    alert_retention: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    tail_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    reorder_wall_timeout: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSection {
    #[serde(default)]
    file: Vec<FileInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileInput {
    path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

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
            PathBuf::from("state"),
        )
        .unwrap();
        assert_eq!(config.detect.activation_days, 3);
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.checkpoint_interval, Duration::from_secs(2));
        assert_eq!(config.tail, vec!["/var/log/*.json"]);
        assert_eq!(config.header_timeout, Duration::from_secs(20));
        assert_eq!(config.max_connections, 512);
        let slow = ServeConfig::from_toml(
            "[serve]\nheader_timeout = \"3s\"\nmax_connections = 9\n",
            PathBuf::new(),
        )
        .unwrap();
        assert_eq!(
            (slow.header_timeout, slow.max_connections),
            (Duration::from_secs(3), 9)
        );
        let e =
            ServeConfig::from_toml("[serve]\nmax_connections = 0\n", PathBuf::new()).unwrap_err();
        assert!(format!("{e:#}").contains("max_connections"), "{e:#}");
        let e = ServeConfig::from_toml("[serve]\nlisten_on = \"x\"\n", PathBuf::new()).unwrap_err();
        assert!(format!("{e:#}").contains("listen_on"), "{e:#}");
        let e = ServeConfig::from_toml("[detect]\nrare = 1\n", PathBuf::new()).unwrap_err();
        assert!(format!("{e:#}").contains("rare"), "{e:#}");
    }

    #[test]
    fn a_public_address_needs_a_token() {
        let e = ServeConfig::from_toml("[serve]\nlisten = \"0.0.0.0:8470\"\n", PathBuf::new())
            .unwrap_err();
        assert!(format!("{e:#}").contains("token"), "{e:#}");
        let ok = ServeConfig::from_toml(
            "[serve]\nlisten = \"0.0.0.0:8470\"\ntoken = \"0123456789abcdef0\"\n",
            PathBuf::new(),
        );
        assert!(ok.is_ok());
    }
}
