//! Writes the LOLBIN lists of `catalog.toml` from the pinned LOLBAS and
//! GTFOBins snapshots; see `generate.rs` for what qualifies. Run it through
//! `scripts/update-catalog-lists [SOURCES]` (default `../shared/catalog-sources`
//! from the repository root); `--check` only says whether the file is current.

#![allow(clippy::print_stdout)] // a command-line tool reports on stdout

mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn run() -> Result<bool, String> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut check = false;
    let mut sources = crate_dir.join("../../../shared/catalog-sources");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: update-catalog-lists [--check] [SOURCES]");
                return Ok(true);
            }
            path => sources = PathBuf::from(path),
        }
    }
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let catalog_path = crate_dir.join("catalog.toml");
    let catalog = read(&catalog_path)?;
    let curation = read(&crate_dir.join("catalog-curation.toml"))?;
    let section = generate::generate(&sources, &curation)?;
    let updated = generate::splice(&catalog, &section)?;
    if updated == catalog {
        println!("{}: up to date", catalog_path.display());
        return Ok(true);
    }
    if check {
        println!(
            "{}: out of date; run scripts/update-catalog-lists",
            catalog_path.display()
        );
        return Ok(false);
    }
    std::fs::write(&catalog_path, updated)
        .map_err(|e| format!("{}: {e}", catalog_path.display()))?;
    println!("{}: lists written", catalog_path.display());
    Ok(true)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("update-catalog-lists: {e}");
            ExitCode::from(2)
        }
    }
}
