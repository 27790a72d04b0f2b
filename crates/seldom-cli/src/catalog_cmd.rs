//! `seldom catalog`: print the variation catalog (whose generated lists carry
//! each entry's provenance), list the entries with their provenance, or check
//! a catalog file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use seldom_detect::Catalog;

use crate::cli::CatalogArgs;

pub fn run(args: &CatalogArgs) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    if args.lists {
        let catalog = Catalog::builtin().context("the built-in catalog")?;
        for (name, list) in &catalog.file().lists {
            for member in &list.names {
                writeln!(stdout, "{name}\t{member}\t{}", list.source)?;
            }
            for entry in &list.entries {
                writeln!(stdout, "{name}\t{}\t{}", entry.name, entry.from)?;
            }
            for hosted in &list.hosted {
                writeln!(
                    stdout,
                    "{name}\t{} running {}\t{}",
                    hosted.host,
                    hosted.runs.join(" or "),
                    hosted.from
                )?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
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
