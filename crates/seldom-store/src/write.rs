//! Every write to the store, each one redb transaction: a service's
//! checkpoint, a scan's save, an acknowledged ingest batch, an alert's
//! triage, an allowlist change.

use anyhow::{Context, Result};
use redb::ReadableTable;
use seldom_detect::DetectorState;
use seldom_detect::reorder::ReorderDelta;

use crate::codec::{Encoded, body_digest, decode, state_digest, stored_key};
use crate::open::Store;
use crate::tables::{
    ALERTS, ALLOWLIST, BATCH_DIGESTS, BATCH_IDS, BATCH_IDS_KEPT, INBOX, META, REORDER, STATE,
    StoredKey,
};

/// What a service's checkpoint commits: one consistent moment.
pub struct Checkpoint {
    /// The detector's state ([`Encoded::of`] a `DetectorState`).
    pub state: Encoded,
    /// The tailed files' offsets.
    pub offsets: Encoded,
    /// Every inbox batch up to this one has been detected.
    pub inbox_done: u64,
    /// Alert records changed since the last checkpoint, by alert id.
    pub alerts: Vec<(String, Encoded)>,
    pub expired_alerts: Vec<String>,
    /// The reorder buffer's changes.
    pub reorder: EncodedReorder,
}

/// A [`ReorderDelta`] with its events encoded: the events that arrived and
/// the prefix that left, never the whole buffer, which can hold a million
/// events.
pub struct EncodedReorder {
    released_through: Option<StoredKey>,
    added: Vec<(StoredKey, Encoded)>,
}

impl EncodedReorder {
    pub fn of(delta: &ReorderDelta) -> Result<EncodedReorder> {
        Ok(EncodedReorder {
            released_through: delta.released_through.as_ref().map(stored_key),
            added: delta
                .added
                .iter()
                .map(|(key, event)| Ok((stored_key(key), Encoded::of(event)?)))
                .collect::<Result<_>>()?,
        })
    }
}

/// One ingest batch for [`Store::append_inbox_group`]: its body, and for a
/// batch its client named, that name and the body's [`body_digest`].
#[derive(Debug, Clone, Copy)]
pub struct InboxBatch<'a> {
    pub body: &'a [u8],
    pub named: Option<(&'a str, u128)>,
}

impl Store {
    /// Commits a service's checkpoint in one transaction.
    pub fn checkpoint(&self, cp: Checkpoint) -> Result<()> {
        let done = Encoded::of(&cp.inbox_done)?;
        let checksum = state_digest(&cp.state.0);
        let db = self.db()?;
        let write = db.begin_write()?;
        {
            let mut table = write.open_table(STATE)?;
            table.insert("detector", cp.state.0.as_slice())?;
            table.insert("offsets", cp.offsets.0.as_slice())?;
            table.insert("inbox_done", done.0.as_slice())?;
            write
                .open_table(META)?
                .insert("checksum", checksum.as_str())?;
            write
                .open_table(INBOX)?
                .retain(|seq, _| seq > cp.inbox_done)?;
            let oldest = cp.inbox_done.saturating_sub(BATCH_IDS_KEPT);
            write.open_table(BATCH_IDS)?.retain(|_, seq| seq > oldest)?;
            write
                .open_table(BATCH_DIGESTS)?
                .retain(|seq, _| seq > oldest)?;
            let mut alerts = write.open_table(ALERTS)?;
            for (id, record) in &cp.alerts {
                alerts.insert(id.as_str(), record.0.as_slice())?;
            }
            for id in &cp.expired_alerts {
                alerts.remove(id.as_str())?;
            }
            let mut reorder = write.open_table(REORDER)?;
            if let Some(through) = cp.reorder.released_through {
                reorder.retain_in(..=through, |_, _| false)?;
            }
            for (key, event) in &cp.reorder.added {
                reorder.insert(key, event.0.as_slice())?;
            }
        }
        write.commit().context("committing a checkpoint")?;
        Ok(())
    }

    /// Saves the detector's state after a finished scan, in one commit. A
    /// scan ends with its reorder buffer released, so the stored buffer (a
    /// service's, restored into the scan's detector) is emptied with it.
    /// The service's other records are left as they are.
    pub fn save_scan(&self, state: &DetectorState) -> Result<()> {
        let state = Encoded::of(state)?;
        let checksum = state_digest(&state.0);
        let db = self.db()?;
        let write = db.begin_write()?;
        {
            write
                .open_table(STATE)?
                .insert("detector", state.0.as_slice())?;
            write
                .open_table(META)?
                .insert("checksum", checksum.as_str())?;
            write.open_table(REORDER)?.retain(|_, _| false)?;
        }
        write.commit().context("committing the state")?;
        Ok(())
    }

    /// The sequence an earlier batch with this client id got, if any, and
    /// its body's [`body_digest`] (`None` for a batch stored before digests).
    pub fn batch_seen(&self, batch_id: &str) -> Result<Option<(u64, Option<u128>)>> {
        use redb::ReadableDatabase;
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
        let named = batch_id.map(|id| (id, body_digest(body)));
        let seqs = self.append_inbox_group(&[InboxBatch { body, named }])?;
        seqs.first().copied().context("the inbox numbered no batch")
    }

    /// Adds ingest batches durably in one transaction (one disk sync for
    /// all: a group commit); returns their sequence numbers, in order. All
    /// are stored or none. A named batch comes with its id and its body's
    /// [`body_digest`], which its caller has already computed to tell a
    /// resend from a reused id.
    pub fn append_inbox_group(&self, batches: &[InboxBatch<'_>]) -> Result<Vec<u64>> {
        let db = self.db()?;
        let write = db.begin_write()?;
        let mut seqs = Vec::with_capacity(batches.len());
        {
            let mut inbox = write.open_table(INBOX)?;
            let last = inbox.last()?.map(|(k, _)| k.value());
            let done: u64 = match write.open_table(STATE)?.get("inbox_done")? {
                Some(bytes) => decode(bytes.value(), "inbox position")?,
                None => 0,
            };
            let mut seq = last.unwrap_or(done).max(done);
            let mut ids = write.open_table(BATCH_IDS)?;
            let mut digests = write.open_table(BATCH_DIGESTS)?;
            for InboxBatch { body, named } in batches {
                seq += 1;
                inbox.insert(seq, *body)?;
                if let Some((id, digest)) = named {
                    ids.insert(*id, seq)?;
                    digests.insert(seq, *digest)?;
                }
                seqs.push(seq);
            }
        }
        write.commit().context("committing ingest batches")?;
        Ok(seqs)
    }

    /// Saves alert records now, in one transaction (a triage decision must
    /// be durable when answered).
    pub fn put_alerts(&self, records: &[(&str, Encoded)]) -> Result<()> {
        let db = self.db()?;
        let write = db.begin_write()?;
        {
            let mut table = write.open_table(ALERTS)?;
            for (id, record) in records {
                table.insert(*id, record.0.as_slice())?;
            }
        }
        write.commit().context("committing alerts")?;
        Ok(())
    }

    pub fn put_allow(&self, id: &str, entry: &Encoded) -> Result<()> {
        let db = self.db()?;
        let write = db.begin_write()?;
        write
            .open_table(ALLOWLIST)?
            .insert(id, entry.0.as_slice())?;
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
