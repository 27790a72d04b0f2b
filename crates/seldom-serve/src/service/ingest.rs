//! One ingest batch, from bytes to the detection queue: decoded (on the
//! caller's thread, so that requests decode on every core), refused when it
//! is binary, acknowledged again when it is a resend of a batch id, stored
//! durably in the inbox, then queued with its [`QueueSlot`]. Blocking: the
//! HTTP edge calls it off its async workers.
//!
//! Storing is a group commit. Each caller puts its decoded batch in the
//! waiting list, then takes the commit lock; whoever holds it stores every
//! batch waiting in one inbox transaction (one disk sync for all), queues
//! them for detection in the order of their sequence numbers, and leaves
//! each other caller its outcome. A caller whose batch a previous holder
//! stored finds its outcome and returns. Under concurrent load the disk
//! syncs once per group instead of once per request; alone, a request
//! commits by itself as before. A group is stored whole or not at all, and
//! nothing is acknowledged before its commit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use seldom_ingest::IngestStats;
use seldom_model::Event;

use super::Service;
use crate::queue::{QueueSlot, Work, decode_bytes, name_batch};
use crate::store::{InboxBatch, body_digest};

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

type Outcome = Result<Accepted, NotStored>;

/// The batches waiting for a commit, and the outcomes left for callers.
#[derive(Default)]
pub struct GroupCommit {
    waiting: Mutex<Vec<Waiting>>,
    /// Held by the caller storing a group: groups reach the detection
    /// thread in the order of their sequence numbers.
    commit: Mutex<()>,
    outcomes: Mutex<HashMap<u64, Outcome>>,
    tickets: AtomicU64,
}

/// A decoded batch waiting to be stored.
struct Waiting {
    ticket: u64,
    body: Bytes,
    batch_id: Option<String>,
    events: Vec<Event>,
    stats: IngestStats,
    slot: QueueSlot,
}

/// What a group does with one of its batches.
enum Plan {
    /// Stored, with its body's digest if it is named.
    Store(Option<u128>),
    /// Answered without storing: a resend of a batch stored before, or its
    /// id given to another body.
    Settled(Outcome),
    /// The id of a batch earlier in this group (`index`): a resend if the
    /// bodies are the same, a reused id if not. Its answer needs that
    /// batch's number, known once the group commits.
    SameId { index: usize, same_body: bool },
}

impl Service {
    /// Decodes, stores and queues one batch. `slot` is given back on every
    /// path that does not queue it, and by the detection thread after it.
    pub fn ingest(&self, slot: QueueSlot, body: Bytes, batch_id: Option<&str>) -> Outcome {
        // Decoded before any lock, so that requests decode on every core;
        // the events are named after their batch once it has its number.
        let (events, stats) = decode_bytes(&body, "http", self.host_naming());
        if events.is_empty()
            && stats.records_read == 0
            && stats.ignored.contains_key("not_telemetry")
        {
            // Binary (UTF-16 text among others): storing it would accept nothing.
            return Err(NotStored::NotText);
        }
        let group = &self.ingest_group;
        let ticket = group.tickets.fetch_add(1, Ordering::Relaxed);
        lock(&group.waiting).push(Waiting {
            ticket,
            body,
            batch_id: batch_id.map(str::to_owned),
            events,
            stats,
            slot,
        });
        let _commit = lock(&group.commit);
        if let Some(outcome) = lock(&group.outcomes).remove(&ticket) {
            return outcome; // stored (or refused) by the previous holder
        }
        let batches = std::mem::take(&mut *lock(&group.waiting));
        let mut outcomes = self.store_group(batches);
        let mine = outcomes.remove(&ticket);
        lock(&group.outcomes).extend(outcomes);
        mine.unwrap_or_else(|| {
            Err(NotStored::Store(anyhow::anyhow!(
                "the batch was lost between its group and its caller"
            )))
        })
    }

    /// Stores `batches` in one inbox transaction and queues them; returns
    /// each one's outcome by ticket. Called with the commit lock held.
    fn store_group(&self, batches: Vec<Waiting>) -> HashMap<u64, Outcome> {
        let failed = |e: &anyhow::Error| Err(NotStored::Store(anyhow::anyhow!("{e:#}")));
        let plans = match self.plan(&batches) {
            Ok(plans) => plans,
            Err(e) => return batches.iter().map(|b| (b.ticket, failed(&e))).collect(),
        };
        let to_store: Vec<InboxBatch<'_>> = batches
            .iter()
            .zip(&plans)
            .filter_map(|(b, plan)| match plan {
                Plan::Store(digest) => Some(InboxBatch {
                    body: &b.body[..],
                    named: b.batch_id.as_deref().zip(*digest),
                }),
                _ => None,
            })
            .collect();
        let committed = if to_store.is_empty() {
            Ok(Vec::new())
        } else {
            self.store.append_inbox_group(&to_store)
        };
        let mut seqs = match committed {
            Ok(seqs) if seqs.len() == to_store.len() => seqs.into_iter(),
            Ok(_) => {
                let e = anyhow::anyhow!("the inbox numbered a different count of batches");
                return batches.iter().map(|b| (b.ticket, failed(&e))).collect();
            }
            Err(e) => {
                // Not ready until a checkpoint gets through again.
                self.store_failed(&e);
                return batches
                    .into_iter()
                    .zip(plans)
                    .map(|(batch, plan)| match plan {
                        Plan::Settled(outcome) => (batch.ticket, outcome),
                        Plan::Store(_) | Plan::SameId { .. } => (batch.ticket, failed(&e)),
                    })
                    .collect();
            }
        };
        // Committed: queue what was stored, in sequence order.
        let mut outcomes = HashMap::with_capacity(batches.len());
        let mut numbers: Vec<Option<u64>> = Vec::with_capacity(batches.len());
        for (batch, plan) in batches.into_iter().zip(plans) {
            let (ticket, seq, outcome) = match plan {
                Plan::Store(_) => {
                    let seq = seqs.next().unwrap_or_default();
                    (batch.ticket, Some(seq), self.queue(batch, seq))
                }
                Plan::Settled(outcome) => (batch.ticket, None, outcome),
                Plan::SameId { index, same_body } => {
                    let first = numbers.get(index).copied().flatten().unwrap_or_default();
                    let outcome = if same_body {
                        Ok(Accepted::Duplicate { batch: first })
                    } else {
                        Err(NotStored::IdReused {
                            id: batch.batch_id.clone().unwrap_or_default(),
                            batch: first,
                        })
                    };
                    (batch.ticket, None, outcome)
                }
            };
            numbers.push(seq);
            outcomes.insert(ticket, outcome);
        }
        outcomes
    }

    /// What to do with each batch of a group, by its id: a resend is
    /// byte for byte the batch it repeats, and another body under the same
    /// id is a reused id (dropping it would lose it).
    fn plan(&self, batches: &[Waiting]) -> anyhow::Result<Vec<Plan>> {
        let mut in_group: HashMap<&str, (usize, u128)> = HashMap::new();
        let mut plans = Vec::with_capacity(batches.len());
        for (index, batch) in batches.iter().enumerate() {
            let Some(id) = batch.batch_id.as_deref() else {
                plans.push(Plan::Store(None));
                continue;
            };
            let digest = body_digest(&batch.body);
            let plan = if let Some((first, first_digest)) = in_group.get(id) {
                Plan::SameId {
                    index: *first,
                    same_body: *first_digest == digest,
                }
            } else {
                match self.store.batch_seen(id)? {
                    Some((batch, Some(seen))) if seen != digest => {
                        Plan::Settled(Err(NotStored::IdReused {
                            id: id.to_owned(),
                            batch,
                        }))
                    }
                    Some((batch, _)) => Plan::Settled(Ok(Accepted::Duplicate { batch })),
                    None => {
                        in_group.insert(id, (index, digest));
                        Plan::Store(Some(digest))
                    }
                }
            };
            plans.push(plan);
        }
        Ok(plans)
    }

    /// Hands a stored batch to detection.
    fn queue(&self, batch: Waiting, seq: u64) -> Outcome {
        let Waiting {
            mut events,
            stats,
            slot,
            ..
        } = batch;
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

/// A lock of the group commit, even after a panic of a holder: the list,
/// the map and the commit turn hold no invariant a panic could break, and
/// refusing them would leave waiting batches (and their queue slots) behind
/// for ever.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
