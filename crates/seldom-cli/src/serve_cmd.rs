//! `seldom serve`: the config file, then the flags over it, then the service.

use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_serve::ServeConfig;
use seldom_serve::config::FileInput;

use crate::cli::ServeArgs;
use crate::settings;

pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ServeConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => ServeConfig::default(),
    };
    let serve = &mut config.serve;
    if let Some(listen) = &args.listen {
        serve.listen = listen
            .parse()
            .with_context(|| format!("--listen: {listen:?} is not an address:port"))?;
    }
    if let Some(state) = &args.state {
        serve.state = state.clone();
    }
    if let Some(token) = &args.token {
        serve.token = Some(token.clone());
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        serve.tls_cert = Some(cert.clone());
        serve.tls_key = Some(key.clone());
    }
    if let Some(interval) = args.checkpoint_interval {
        serve.checkpoint_interval = interval;
    }
    let tails = args
        .tail
        .iter()
        .map(|path| FileInput { path: path.clone() });
    config.input.file.extend(tails);
    if let Some(bootstrap) = &args.kafka {
        config.kafka.get_or_insert_with(Default::default).bootstrap = bootstrap.clone();
    }
    if let Some(days) = args.activation_days {
        config.detect.activation_days = days;
    }
    let catalog = settings::catalog(args.catalog.as_deref())?;
    seldom_serve::serve(config, catalog)?;
    Ok(ExitCode::SUCCESS)
}
