//! The service's durable memory, one redb file: the detector's state, the
//! tailed files' offsets, the inbox of acknowledged ingest batches not yet
//! covered by a checkpoint, the alerts with their triage, and the allowlist.
//!
//! A checkpoint writes the detector's state, the offsets, the alerts changed
//! since the last one, the reorder buffer's changes (events that arrived and
//! the prefix that left: never the whole buffer, which can hold a million
//! events) and the inbox position in one transaction, so that
//! after a crash at any point the store describes one consistent moment: the
//! batches after it are still in the inbox, the file lines after it are past
//! the saved offsets, and replaying both gives the same alerts again (alert
//! ids are stable), neither losing one nor raising one twice.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

use anyhow::{Context, Result, bail};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use seldom_detect::reorder::{ReorderDelta, ReorderKey};
use seldom_detect::{DetectConfig, DetectorState};
use seldom_model::{Event, Timestamp};
use serde::{Deserialize, Serialize};

use crate::alerts::AlertRecord;
use crate::allowlist::Entry;
use crate::file_identity::FileId;

const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
const INBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("inbox");
const ALERTS: TableDefinition<&str, &[u8]> = TableDefinition::new("alerts");
const ALLOWLIST: TableDefinition<&str, &[u8]> = TableDefinition::new("allowlist");
/// The reorder buffer's events by their key (time in µs, kind rank, host
/// hash, arrival number): in key order, as the buffer releases them.
const REORDER: TableDefinition<StoredKey, &[u8]> = TableDefinition::new("reorder");
/// A reorder key as the store keeps it.
type StoredKey = (i64, u8, u64, u64);
/// A client's batch id (`X-Seldom-Batch-Id`) → the inbox sequence it got, so
/// that a batch resent after a lost answer is not detected twice.
const BATCH_IDS: TableDefinition<&str, u64> = TableDefinition::new("batch_ids");
const BATCH_IDS_KEPT: u64 = 100_000;
/// The digest of each named batch's body, by inbox sequence: the same id
/// with another body is a client bug (a reused id), refused rather than
/// silently dropped as a resend. Forgotten with the ids.
const BATCH_DIGESTS: TableDefinition<u64, u128> = TableDefinition::new("batch_digests");

/// The digest a named batch's body is compared on (not a defence against a
/// client forging collisions: the same client names and sends the batch).
pub fn body_digest(body: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(body)
}
/// Bumped whenever an encoding in this file changes.
/// (3: tail offsets are kept per file identity, not per path.)
const FORMAT: &str = "seldom-serve/3";

/// Where a tailed file was read up to, kept under its identity's key
/// ([`FileId::key`]): a rotated file keeps its offset under its new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailOffset {
    pub id: FileId,
    /// The name it had when last read: where a restart looks for it (its
    /// folder) if no pattern matches it any more.
    pub path: String,
    pub offset: u64,
    /// Its size when last read: a file that vanishes left at least
    /// `size - offset` bytes unread.
    pub size: u64,
}

/// What a checkpoint commits.
pub struct Checkpoint<'a> {
    /// The detector's state, encoded by [`encode`].
    pub state: Vec<u8>,
    pub offsets: &'a BTreeMap<String, TailOffset>,
    /// Every inbox batch up to this one has been detected.
    pub inbox_done: u64,
    pub alerts: Vec<&'a AlertRecord>,
    pub expired_alerts: Vec<String>,
    /// The reorder buffer's changes, events encoded by [`encode_reorder`].
    pub reorder: EncodedReorder,
}

/// A [`ReorderDelta`] with its events encoded (before any lock is taken).
pub struct EncodedReorder {
    released_through: Option<StoredKey>,
    added: Vec<(StoredKey, Vec<u8>)>,
}

fn stored_key(key: &ReorderKey) -> StoredKey {
    (key.0.as_micros(), key.1, key.2, key.3)
}

/// Encodes the reorder buffer's changes for a checkpoint.
pub fn encode_reorder(delta: &ReorderDelta) -> Result<EncodedReorder> {
    Ok(EncodedReorder {
        released_through: delta.released_through.as_ref().map(stored_key),
        added: delta
            .added
            .iter()
            .map(|(key, event)| Ok((stored_key(key), cbor(event)?)))
            .collect::<Result<_>>()?,
    })
}

/// What a start finds in the store.
#[derive(Default)]
pub struct Restored {
    pub state: Option<DetectorState>,
    pub offsets: BTreeMap<String, TailOffset>,
    pub inbox_done: u64,
    /// Acknowledged batches after the last checkpoint, in order.
    pub inbox: Vec<(u64, Vec<u8>)>,
    pub alerts: Vec<AlertRecord>,
    pub allowlist: Vec<Entry>,
    /// The reorder buffer as of the last checkpoint.
    pub reorder: Vec<(ReorderKey, Event)>,
}

pub struct Store {
    path: PathBuf,
    /// `None` between a failed reopen and the next attempt. After a failed
    /// write (a full disk), redb refuses every later one until the database
    /// is closed and opened again: [`Store::reopen`].
    db: RwLock<Option<Database>>,
}

/// The open database, borrowed for one operation.
struct DbGuard<'a>(RwLockReadGuard<'a, Option<Database>>);

impl Deref for DbGuard<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        match &*self.0 {
            Some(db) => db,
            None => unreachable!("a guard is only made over an open database"),
        }
    }
}

fn open_database(path: &Path) -> Result<Database> {
    // redb caches up to 1 GiB of pages by default; the service reads its
    // store only at start, so a small cache keeps its memory for detection.
    Database::builder()
        .set_cache_size(32 << 20)
        .create(path)
        .with_context(|| format!("opening the store {}", path.display()))
}

/// The detector's state as a checkpoint stores it.
pub fn encode(state: &DetectorState) -> Result<Vec<u8>> {
    cbor(state)
}

fn cbor<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).context("encoding for the store")?;
    Ok(bytes)
}

fn uncbor<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T> {
    ciborium::from_reader(bytes).with_context(|| format!("the store's {what} is corrupt"))
}

impl Store {
    /// Opens (or creates) `dir/seldom.redb`, refusing a store of another
    /// format or written with another detection configuration.
    pub fn open(dir: &Path, config: &DetectConfig) -> Result<(Store, Restored)> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the state folder {}", dir.display()))?;
        let path = dir.join("seldom.redb");
        let store = Store {
            db: RwLock::new(Some(open_database(&path)?)),
            path: path.clone(),
        };
        let expected = config.state_fingerprint();
        {
            let db = store.db()?;
            let write = db.begin_write()?;
            {
                let mut meta = write.open_table(META)?;
                let format = meta.get("format")?.map(|v| v.value().to_owned());
                let fingerprint = meta.get("fingerprint")?.map(|v| v.value().to_owned());
                match (format, fingerprint) {
                    (None, _) => {
                        meta.insert("format", FORMAT)?;
                        meta.insert("fingerprint", expected.as_str())?;
                    }
                    (Some(f), _) if f != FORMAT => bail!(
                        "store {} has format {f:?}; this seldom reads {FORMAT:?}",
                        path.display()
                    ),
                    (Some(_), Some(saved)) if saved != expected => bail!(
                        "store {} was written with another detection configuration:\n  saved:   {saved}\n  current: {expected}\nuse a new state folder, or the configuration it was written with",
                        path.display()
                    ),
                    _ => {}
                }
                write.open_table(STATE)?;
                write.open_table(INBOX)?;
                write.open_table(ALERTS)?;
                write.open_table(ALLOWLIST)?;
                write.open_table(BATCH_IDS)?;
                write.open_table(REORDER)?;
                write.open_table(BATCH_DIGESTS)?;
            }
            write.commit()?;
        }
        let restored = store.restore()?;
        Ok((store, restored))
    }

    fn db(&self) -> Result<DbGuard<'_>> {
        let guard = self
            .db
            .read()
            .map_err(|_| anyhow::anyhow!("the store's lock is poisoned"))?;
        if guard.is_none() {
            bail!(
                "the store {} is closed after a write error",
                self.path.display()
            );
        }
        Ok(DbGuard(guard))
    }

    /// Closes the database and opens it again (redb repairs it on open):
    /// after a write error, the only way it takes writes again.
    pub fn reopen(&self) -> Result<()> {
        let mut slot = self
            .db
            .write()
            .map_err(|_| anyhow::anyhow!("the store's lock is poisoned"))?;
        *slot = None; // closed first: redb holds a lock on the file
        *slot = Some(open_database(&self.path)?);
        Ok(())
    }

    fn restore(&self) -> Result<Restored> {
        let db = self.db()?;
        let read = db.begin_read()?;
        let state_table = read.open_table(STATE)?;
        let mut restored = Restored::default();
        if let Some(bytes) = state_table.get("detector")? {
            restored.state = Some(uncbor(bytes.value(), "detector state")?);
        }
        if let Some(bytes) = state_table.get("offsets")? {
            restored.offsets = uncbor(bytes.value(), "file offsets")?;
        }
        if let Some(bytes) = state_table.get("inbox_done")? {
            restored.inbox_done = uncbor(bytes.value(), "inbox position")?;
        }
        for row in read.open_table(INBOX)?.range((restored.inbox_done + 1)..)? {
            let (seq, body) = row?;
            restored.inbox.push((seq.value(), body.value().to_vec()));
        }
        for row in read.open_table(ALERTS)?.iter()? {
            let (_, bytes) = row?;
            restored.alerts.push(uncbor(bytes.value(), "alert")?);
        }
        for row in read.open_table(ALLOWLIST)?.iter()? {
            let (_, bytes) = row?;
            restored.allowlist.push(uncbor(bytes.value(), "allowlist")?);
        }
        for row in read.open_table(REORDER)?.iter()? {
            let (key, bytes) = row?;
            let (time, rank, host, seq) = key.value();
            let event: Event = uncbor(bytes.value(), "reorder buffer")?;
            restored
                .reorder
                .push(((Timestamp::from_micros(time), rank, host, seq), event));
        }
        Ok(restored)
    }

    /// The sequence an earlier batch with this client id got, if any, and
    /// its body's [`body_digest`] (`None` for a batch stored before digests).
    pub fn batch_seen(&self, batch_id: &str) -> Result<Option<(u64, Option<u128>)>> {
        let db = self.db()?;
        let read = db.begin_read()?;
        let Some(seq) = read
            .open_table(BATCH_IDS)?
            .get(batch_id)?
            .map(|v| v.value())
        else {
            return Ok(None);
        };
        let digest = read.open_table(BATCH_DIGESTS)?.get(seq)?.map(|v| v.value());
        Ok(Some((seq, digest)))
    }

    /// Adds an ingest batch durably; returns its sequence number.
    pub fn append_inbox(&self, body: &[u8], batch_id: Option<&str>) -> Result<u64> {
        let db = self.db()?;
        let write = db.begin_write()?;
        let seq;
        {
            let mut inbox = write.open_table(INBOX)?;
            let last = inbox.last()?.map(|(k, _)| k.value());
            let done: u64 = match write.open_table(STATE)?.get("inbox_done")? {
                Some(bytes) => uncbor(bytes.value(), "inbox position")?,
                None => 0,
            };
            seq = last.unwrap_or(done).max(done) + 1;
            inbox.insert(seq, body)?;
            if let Some(id) = batch_id {
                write.open_table(BATCH_IDS)?.insert(id, seq)?;
                write
                    .open_table(BATCH_DIGESTS)?
                    .insert(seq, body_digest(body))?;
            }
        }
        write.commit().context("committing an ingest batch")?;
        Ok(seq)
    }

    pub fn checkpoint(&self, cp: Checkpoint<'_>) -> Result<()> {
        let offsets = cbor(cp.offsets)?;
        let done = cbor(&cp.inbox_done)?;
        let db = self.db()?;
        let write = db.begin_write()?;
        {
            let mut table = write.open_table(STATE)?;
            table.insert("detector", cp.state.as_slice())?;
            table.insert("offsets", offsets.as_slice())?;
            table.insert("inbox_done", done.as_slice())?;
            let mut inbox = write.open_table(INBOX)?;
            inbox.retain(|seq, _| seq > cp.inbox_done)?;
            // Batch ids are remembered for the last BATCH_IDS_KEPT batches: a
            // resend follows its lost answer closely, and the table must not
            // grow for ever.
            let oldest = cp.inbox_done.saturating_sub(BATCH_IDS_KEPT);
            write.open_table(BATCH_IDS)?.retain(|_, seq| seq > oldest)?;
            write
                .open_table(BATCH_DIGESTS)?
                .retain(|seq, _| seq > oldest)?;
            let mut alerts = write.open_table(ALERTS)?;
            for record in cp.alerts {
                alerts.insert(record.alert.id.as_str(), cbor(record)?.as_slice())?;
            }
            for id in &cp.expired_alerts {
                alerts.remove(id.as_str())?;
            }
            let mut reorder = write.open_table(REORDER)?;
            if let Some(through) = cp.reorder.released_through {
                reorder.retain_in(..=through, |_, _| false)?;
            }
            for (key, bytes) in &cp.reorder.added {
                reorder.insert(key, bytes.as_slice())?;
            }
        }
        write.commit().context("committing a checkpoint")?;
        Ok(())
    }

    /// Saves one alert now (a triage decision must be durable when answered).
    pub fn put_alert(&self, record: &AlertRecord) -> Result<()> {
        let bytes = cbor(record)?;
        let db = self.db()?;
        let write = db.begin_write()?;
        write
            .open_table(ALERTS)?
            .insert(record.alert.id.as_str(), bytes.as_slice())?;
        write.commit().context("committing an alert")?;
        Ok(())
    }

    /// Saves several alerts in one transaction.
    pub fn put_alerts(&self, records: &[AlertRecord]) -> Result<()> {
        let db = self.db()?;
        let write = db.begin_write()?;
        {
            let mut table = write.open_table(ALERTS)?;
            for record in records {
                table.insert(record.alert.id.as_str(), cbor(record)?.as_slice())?;
            }
        }
        write.commit().context("committing alerts")?;
        Ok(())
    }

    pub fn put_allow(&self, entry: &Entry) -> Result<()> {
        let bytes = cbor(entry)?;
        let db = self.db()?;
        let write = db.begin_write()?;
        write
            .open_table(ALLOWLIST)?
            .insert(entry.id.as_str(), bytes.as_slice())?;
        write.commit().context("committing an allowlist entry")?;
        Ok(())
    }

    pub fn delete_allow(&self, id: &str) -> Result<bool> {
        let db = self.db()?;
        let write = db.begin_write()?;
        let existed = write.open_table(ALLOWLIST)?.remove(id)?.is_some();
        write.commit().context("committing an allowlist deletion")?;
        Ok(existed)
    }
}
