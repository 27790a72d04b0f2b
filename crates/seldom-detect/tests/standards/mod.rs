//! Validators for the two schemas seldom's alerts claim, each built from the
//! schema's own published files (`../shared/standards`): ECS 8.11's
//! `ecs_flat.yml` and OCSF 1.1.0's classes, profiles, objects and dictionary.
//! They check what the schemas themselves state (every field known, with a
//! compatible type, required ones present, allowed / expected values and
//! enums respected, no explicit null, profile attributes only under a declared
//! profile), so a renderer cannot pass by agreeing with its own test.
//!
//! Shared by the detect crate's tests and, through `#[path]`, the CLI's.

#![allow(dead_code)] // each test binary uses part of it

pub mod ecs;
pub mod ocsf;

use std::path::PathBuf;

/// `../shared/standards` beside the repository; `None` (skip) when missing,
/// unless `CI=true`, where a missing snapshot fails loudly.
pub fn standards_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // From crates/<crate>: ../../../shared/standards.
    let dir = dir.join("../../../shared/standards");
    if dir.join("ecs-8.11/ecs_flat.yml").is_file()
        && dir.join("ocsf-1.1.0/dictionary.json").is_file()
    {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the schema files are missing at {}",
        dir.display()
    );
    eprintln!("skipped: no schema files at {}", dir.display());
    None
}

/// Every explicit `null` in a document, by path.
pub fn nulls(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => out.push(format!("{path}: explicit null")),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                nulls(v, &join(path, k), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                nulls(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}
