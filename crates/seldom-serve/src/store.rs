//! The service's view of its store: the shared format of `seldom-store`
//! (the same file `scan --state` writes), typed with the service's own
//! records (alerts with their triage, allowlist entries, tailed files'
//! offsets).
//!
//! A checkpoint writes the detector's state, the offsets, the alerts changed
//! since the last one, the reorder buffer's changes and the inbox position in
//! one transaction, so that after a crash at any point the store describes
//! one consistent moment: the batches after it are still in the inbox, the
//! file lines after it are past the saved offsets, and replaying both gives
//! the same alerts again (alert ids are stable), neither losing one nor
//! raising one twice.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use seldom_detect::reorder::{ReorderDelta, ReorderKey};
use seldom_detect::{DetectConfig, DetectorState};
use seldom_model::Event;
use seldom_store::{Encoded, EncodedReorder};
use serde::{Deserialize, Serialize};

use crate::alerts::AlertRecord;
use crate::allowlist::Entry;
use crate::file_identity::FileId;

pub use seldom_store::{InboxBatch, body_digest};

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
    pub state: Encoded,
    pub offsets: &'a BTreeMap<String, TailOffset>,
    /// Every inbox batch up to this one has been detected.
    pub inbox_done: u64,
    pub alerts: Vec<&'a AlertRecord>,
    pub expired_alerts: Vec<String>,
    /// The reorder buffer's changes, encoded by [`encode_reorder`].
    pub reorder: EncodedReorder,
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

/// The detector's state as a checkpoint stores it (encoded before any lock
/// is taken).
pub fn encode(state: &DetectorState) -> Result<Encoded> {
    Encoded::of(state)
}

/// Encodes the reorder buffer's changes for a checkpoint.
pub fn encode_reorder(delta: &ReorderDelta) -> Result<EncodedReorder> {
    EncodedReorder::of(delta)
}

pub struct Store(seldom_store::Store);

impl Store {
    /// Opens (or creates) `dir/seldom.redb`, refusing a store of another
    /// format or written with another detection configuration.
    pub fn open(dir: &Path, config: &DetectConfig) -> Result<(Store, Restored)> {
        let (store, found) = seldom_store::Store::open(dir, config)?;
        let restored = Restored {
            state: found.state,
            offsets: match &found.offsets {
                Some(offsets) => offsets.decode("file offsets")?,
                None => BTreeMap::new(),
            },
            inbox_done: found.inbox_done,
            inbox: found.inbox,
            alerts: decode_all(&found.alerts, "alert")?,
            allowlist: decode_all(&found.allowlist, "allowlist")?,
            reorder: found.reorder,
        };
        Ok((Store(store), restored))
    }

    /// Closes the database and opens it again: after a write error, the only
    /// way it takes writes again.
    pub fn reopen(&self) -> Result<()> {
        self.0.reopen()
    }

    pub fn batch_seen(&self, batch_id: &str) -> Result<Option<(u64, Option<u128>)>> {
        self.0.batch_seen(batch_id)
    }

    pub fn append_inbox_group(&self, batches: &[InboxBatch<'_>]) -> Result<Vec<u64>> {
        self.0.append_inbox_group(batches)
    }

    pub fn checkpoint(&self, cp: Checkpoint<'_>) -> Result<()> {
        self.0.checkpoint(seldom_store::Checkpoint {
            state: cp.state,
            offsets: Encoded::of(cp.offsets)?,
            inbox_done: cp.inbox_done,
            alerts: cp
                .alerts
                .iter()
                .map(|record| Ok((record.alert.id.clone(), Encoded::of(record)?)))
                .collect::<Result<_>>()?,
            expired_alerts: cp.expired_alerts,
            reorder: cp.reorder,
        })
    }

    /// Saves one alert now (a triage decision must be durable when answered).
    pub fn put_alert(&self, record: &AlertRecord) -> Result<()> {
        self.put_alerts(std::slice::from_ref(record))
    }

    /// Saves several alerts in one transaction.
    pub fn put_alerts(&self, records: &[AlertRecord]) -> Result<()> {
        let encoded = records
            .iter()
            .map(|record| Ok((record.alert.id.as_str(), Encoded::of(record)?)))
            .collect::<Result<Vec<_>>>()?;
        self.0.put_alerts(&encoded)
    }

    pub fn put_allow(&self, entry: &Entry) -> Result<()> {
        self.0.put_allow(&entry.id, &Encoded::of(entry)?)
    }

    pub fn delete_allow(&self, id: &str) -> Result<bool> {
        self.0.delete_allow(id)
    }
}

fn decode_all<T: for<'de> Deserialize<'de>>(values: &[Encoded], what: &str) -> Result<Vec<T>> {
    values.iter().map(|value| value.decode(what)).collect()
}
