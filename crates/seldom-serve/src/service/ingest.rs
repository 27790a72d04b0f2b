//! One ingest batch, from bytes to the detection queue: decoded (on the
//! caller's thread, so that requests decode on every core), refused when it
//! is binary, acknowledged again when it is a resend of a batch id, stored
//! durably in the inbox, then queued with its [`QueueSlot`]. Blocking: the
//! HTTP edge calls it off its async workers.

use seldom_ingest::IngestStats;

use super::Service;
use crate::queue::{QueueSlot, Work, decode_bytes, name_batch};
use crate::store::body_digest;

/// A batch the service took.
pub enum Accepted {
    /// Stored in the inbox as batch `batch` and queued.
    Stored {
        batch: u64,
        stats: IngestStats,
        /// Events handed to detection.
        accepted: usize,
    },
    /// A resend (same id, same bytes) of batch `batch`: acknowledged again,
    /// not detected twice.
    Duplicate { batch: u64 },
}

/// Why a batch was not stored; none of these keeps any of it.
#[derive(Debug)]
pub enum NotStored {
    /// Neither UTF-8 text nor an archive seldom reads (UTF-16 among others).
    NotText,
    /// The batch id names another body.
    IdReused { id: String, batch: u64 },
    /// The store could not write (the service is unready until a checkpoint
    /// commits again).
    Store(anyhow::Error),
}

impl Service {
    /// Decodes, stores and queues one batch. `slot` is given back on every
    /// path that does not queue it, and by the detection thread after it.
    pub fn ingest(
        &self,
        slot: QueueSlot,
        body: &[u8],
        batch_id: Option<&str>,
    ) -> Result<Accepted, NotStored> {
        // Decoded before the lock, so that requests decode on every core;
        // the events are named after their batch once it has its number.
        let (mut events, stats) = decode_bytes(body, "http", self.host_naming());
        if events.is_empty()
            && stats.records_read == 0
            && stats.ignored.contains_key("not_telemetry")
        {
            // Binary (UTF-16 text among others): storing it would accept nothing.
            return Err(NotStored::NotText);
        }
        let _order = self
            .ingest_order
            .lock()
            .map_err(|_| NotStored::Store(anyhow::anyhow!("ingest lock poisoned")))?;
        if let Some(id) = batch_id {
            match self.store.batch_seen(id) {
                Err(e) => return Err(NotStored::Store(e)),
                // A resend is byte for byte the batch it repeats; another body
                // under the same id is a reused id, and dropping it would lose it.
                Ok(Some((batch, Some(digest)))) if digest != body_digest(body) => {
                    return Err(NotStored::IdReused {
                        id: id.to_owned(),
                        batch,
                    });
                }
                Ok(Some((batch, _))) => return Ok(Accepted::Duplicate { batch }),
                Ok(None) => {}
            }
        }
        let seq = match self.store.append_inbox(body, batch_id) {
            Ok(seq) => seq,
            Err(e) => {
                // Not ready until a checkpoint gets through again.
                self.store_failed(&e);
                return Err(NotStored::Store(e));
            }
        };
        name_batch(&mut events, seq);
        self.metrics.count(&stats);
        let accepted = events.len();
        // Stored: were detection gone, the next start replays it.
        self.send(Work::Http { seq, events, slot });
        Ok(Accepted::Stored {
            batch: seq,
            stats,
            accepted,
        })
    }
}
