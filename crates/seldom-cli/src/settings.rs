//! The detection settings of a run: the config file, then the flags over it.

use anyhow::{Context, Result};
use seldom_detect::{Catalog, DetectConfig};
use seldom_model::HostNaming;

use crate::cli::{DetectArgs, HostNamingArg};

pub fn detect_config(args: &DetectArgs) -> Result<DetectConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            DetectConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => DetectConfig::default(),
    };
    if let Some(networks) = &args.internal_networks {
        config.internal_networks = networks
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
    }
    macro_rules! flag {
        ($field:ident) => {
            if let Some(value) = args.$field {
                config.$field = value;
            }
        };
    }
    flag!(activation_days);
    flag!(training_days);
    flag!(dedup_days);
    flag!(rare_hosts);
    flag!(reorder_window);
    flag!(incident_window);
    flag!(max_alerts_per_day);
    if let Some(naming) = args.host_naming {
        config.host_naming = match naming {
            HostNamingArg::Short => HostNaming::Short,
            HostNamingArg::Fqdn => HostNaming::Fqdn,
        };
    }
    Ok(config)
}

pub fn catalog(path: Option<&std::path::Path>) -> Result<Catalog> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Catalog::from_toml(&text).with_context(|| format!("in catalog {}", path.display()))
        }
        None => Catalog::builtin().context("the built-in catalog"),
    }
}
