//! `seldom serve`: the config file, then the flags over it, then the service.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_detect::DetectConfig;
use seldom_serve::{ServeConfig, TlsFiles};

use crate::cli::ServeArgs;
use crate::settings;

pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    let default_state = PathBuf::from("seldom-state");
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ServeConfig::from_toml(&text, default_state)
                .with_context(|| format!("in {}", path.display()))?
        }
        None => ServeConfig::new(DetectConfig::default(), default_state),
    };
    if let Some(listen) = &args.listen {
        config.listen = listen
            .parse()
            .with_context(|| format!("--listen: {listen:?} is not an address:port"))?;
    }
    if let Some(state) = &args.state {
        config.state_dir = state.clone();
    }
    if let Some(token) = &args.token {
        config.token = Some(token.clone());
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    config.tail.extend(args.tail.iter().cloned());
    if let Some(interval) = args.checkpoint_interval {
        config.checkpoint_interval = interval;
    }
    if let Some(days) = args.activation_days {
        config.detect.activation_days = days;
    }
    let catalog = settings::catalog(args.catalog.as_deref())?;
    seldom_serve::serve(config, catalog)?;
    Ok(ExitCode::SUCCESS)
}
