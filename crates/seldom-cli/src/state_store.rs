//! `--state`: the detector's memory in an embedded store file (redb).
//!
//! redb commits are atomic and crash-safe: a run either saves its whole state
//! or leaves the previous one. The file records the state format version and
//! the configuration values the state depends on; a file of another version,
//! another configuration, or not a seldom state at all is refused with a clear
//! error, never silently reset.
//!
//! Two more refusals guard against a state that is not what was saved. An
//! existing empty file is not a new state (redb would format it as one): it
//! is what a truncation, a full disk or a script's `> state` leaves, and
//! starting afresh would forget the baseline and re-raise every alert. And the
//! state is stored with an xxh3-128 digest of its bytes, checked on load:
//! redb keeps its pages consistent, not their contents unchanged, so a byte
//! changed on disk would otherwise be read as a valid, different state.

use std::path::Path;

use anyhow::{Context, Result, bail};
use redb::{Database, ReadableDatabase, TableDefinition};
use seldom_detect::{DetectConfig, DetectorState};

const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
/// Bumped whenever `DetectorState`'s encoding changes. The state is CBOR: self-
/// describing (the event model skips absent fields) and with non-string map keys.
const FORMAT: &str = "seldom-state/3";

pub struct StateStore {
    db: Database,
}

impl StateStore {
    /// Opens (or creates) the store; returns the saved state, if any.
    pub fn open(path: &Path, config: &DetectConfig) -> Result<(StateStore, Option<DetectorState>)> {
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            bail!(
                "state file {} is empty (0 bytes): it is not a saved state, and starting afresh would forget the baseline; remove it to start a new state",
                path.display()
            );
        }
        let db = Database::create(path).with_context(|| {
            format!(
                "opening state file {} (is it a seldom state file?)",
                path.display()
            )
        })?;
        let read = db.begin_read().context("reading the state file")?;
        let meta = match read.open_table(META) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok((StateStore { db }, None)),
            Err(e) => return Err(e).context("reading the state file's metadata"),
        };
        let format = meta
            .get("format")?
            .map(|v| v.value().to_owned())
            .unwrap_or_default();
        if format != FORMAT {
            bail!(
                "state file {} has format {format:?}; this seldom reads {FORMAT:?}",
                path.display()
            );
        }
        let fingerprint = meta
            .get("fingerprint")?
            .map(|v| v.value().to_owned())
            .unwrap_or_default();
        let expected = config.state_fingerprint();
        if fingerprint != expected {
            bail!(
                "state file {} was written with another configuration:\n  saved:   {fingerprint}\n  current: {expected}\nuse a new state file, or the configuration it was written with",
                path.display()
            );
        }
        let table = read.open_table(STATE).context("reading the saved state")?;
        let bytes = table
            .get("detector")?
            .context("the state file has metadata but no state")?;
        let saved_digest = meta.get("checksum")?.map(|v| v.value().to_owned());
        // Files saved before the digest was kept have none; every save writes one.
        if let Some(saved) = saved_digest
            && saved != digest(bytes.value())
        {
            bail!(
                "state file {} is corrupt: its state does not match the checksum saved with it (a changed or damaged byte); use a new state file, or a backup",
                path.display()
            );
        }
        let state: DetectorState = ciborium::from_reader(bytes.value())
            .with_context(|| format!("state file {} is corrupt", path.display()))?;
        drop(table);
        drop(read);
        Ok((StateStore { db }, Some(state)))
    }

    /// Saves the whole state in one atomic commit.
    pub fn save(&self, config: &DetectConfig, state: &DetectorState) -> Result<()> {
        let mut bytes = Vec::new();
        ciborium::into_writer(state, &mut bytes).context("encoding the state")?;
        let write = self.db.begin_write().context("writing the state file")?;
        {
            let mut meta = write.open_table(META)?;
            meta.insert("format", FORMAT)?;
            meta.insert("fingerprint", config.state_fingerprint().as_str())?;
            meta.insert("checksum", digest(&bytes).as_str())?;
            let mut table = write.open_table(STATE)?;
            table.insert("detector", bytes.as_slice())?;
        }
        write.commit().context("committing the state file")?;
        Ok(())
    }
}

/// The checksum kept beside the state: xxh3-128 of its encoded bytes, in hex.
fn digest(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}
