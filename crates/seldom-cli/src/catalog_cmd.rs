//! `seldom catalog`: print the variation catalog, or check a catalog file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_detect::Catalog;

use crate::cli::CatalogArgs;

pub fn run(args: &CatalogArgs) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match &args.check {
        None => {
            stdout
                .write_all(Catalog::builtin_text().as_bytes())
                .context("writing the catalog")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            match Catalog::from_toml(&text) {
                Ok(catalog) => {
                    writeln!(
                        stdout,
                        "{}: ok, {} variations",
                        path.display(),
                        catalog.variations().len()
                    )
                    .context("writing")?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("seldom: {}: {e}", path.display());
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}
