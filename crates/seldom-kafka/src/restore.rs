//! Partitions' state from their changelog: each one's last committed
//! snapshot, read by a consumer of its own (no group, `read_committed`) from the start of
//! the changelog partition to its end. Compaction keeps one snapshot per
//! partition; until it runs, the last one read wins. With a local copy
//! ([`StateCache`]) committed at offset `o`, only what follows `o` is read:
//! the copy stands if nothing committed comes after it.
//!
//! A restore first waits until no transaction is open on the partitions it
//! reads: until their last stable offset reaches their high watermark.
//! Kafka answers a producer's commit before the commit markers reach the
//! partitions, and the group's committed input offsets are fetched stable
//! (they wait for the markers). A restore that read only to the last stable
//! offset could therefore take the snapshot *before* the previous owner's
//! last commit while the input resumes *after* it: that batch's state
//! (dedup entries, baseline counts) would be lost, and its repeats and
//! rarer-looking destinations raised as extra alerts. Waiting for the
//! markers makes the snapshot and the offsets agree; an open transaction of
//! a dead worker ends by its timeout, which the wait outlasts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::WorkerError;
use crate::state_cache::StateCache;
use crate::topics::MAX_STATE_BYTES;

/// How long a restore may wait for the changelog before the session starts
/// afresh.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a restore may wait for the transactions open on a changelog to
/// end: a dead worker's is aborted by the coordinator once its
/// `transaction.timeout.ms` has passed (checked every 10 s by default).
pub const SETTLE_TIMEOUT: Duration =
    Duration::from_secs(crate::config::TRANSACTION_TIMEOUT.as_secs() + 30);
/// How often a restore asks whether the open transactions have ended.
const SETTLE_POLL: Duration = Duration::from_millis(100);

/// What a restore found.
#[derive(Debug, Default)]
pub struct Restored {
    /// Each partition's last snapshot (`None`: no snapshot yet).
    pub snapshots: BTreeMap<i32, Option<Vec<u8>>>,
    /// Bytes read from the changelog.
    pub bytes_read: u64,
    /// Partitions whose local copy stood.
    pub from_cache: usize,
}

/// The last snapshot of each of `partitions` of `topic`, read by one
/// consumer (after the offset of a sound local copy, if `cache` has one).
pub fn latest_snapshots(
    client: &ClientConfig,
    topic: &str,
    partitions: &[i32],
    cache: Option<&StateCache>,
) -> Result<Restored, WorkerError> {
    let fail = |partition: i32, problem: String| WorkerError::Restore {
        topic: topic.to_owned(),
        partition,
        problem,
    };
    let mut latest: BTreeMap<i32, Option<Vec<u8>>> =
        partitions.iter().map(|p| (*p, None)).collect();
    let mut restored = Restored::default();
    if partitions.is_empty() {
        restored.snapshots = latest;
        return Ok(restored);
    }
    let mut config = client.clone();
    config
        .set("group.id", "seldom-restore")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .set("fetch.message.max.bytes", MAX_STATE_BYTES.to_string())
        .set(
            "receive.message.max.bytes",
            (MAX_STATE_BYTES * 2).to_string(),
        );
    let consumer: BaseConsumer = config.create()?;
    let mut assignment = TopicPartitionList::new();
    // Partitions still to read to their end.
    let mut open = BTreeSet::new();
    // Partitions whose copy stands unless a record comes after it.
    let mut copies = BTreeSet::new();
    let settled = settled_ends(client, &consumer, topic, partitions)?;
    for (p, (low, high)) in partitions.iter().zip(settled) {
        let copy = cache
            .and_then(|c| c.load(topic, *p))
            .filter(|c| low <= c.offset && c.offset < high);
        if let Some(copy) = copy {
            latest.insert(*p, Some(copy.snapshot));
            copies.insert(*p);
            assignment.add_partition_offset(topic, *p, Offset::Offset(copy.offset + 1))?;
            open.insert(*p);
        } else if high > low {
            assignment.add_partition_offset(topic, *p, Offset::Beginning)?;
            open.insert(*p);
        }
    }
    if open.is_empty() {
        restored.snapshots = latest;
        return Ok(restored);
    }
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + RESTORE_TIMEOUT;
    while !open.is_empty() {
        if Instant::now() > deadline {
            let p = open.first().copied().unwrap_or_default();
            return Err(fail(
                p,
                format!("not read to its end in {RESTORE_TIMEOUT:?}"),
            ));
        }
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Ok(message)) => {
                let payload = message.payload().map(<[u8]>::to_vec);
                restored.bytes_read += payload.as_ref().map_or(0, Vec::len) as u64;
                copies.remove(&message.partition());
                latest.insert(message.partition(), payload);
            }
            // The end of what is committed (an open transaction may hold
            // records past it that are not the state yet).
            Some(Err(KafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(KafkaError::MessageConsumption(code))) if code != RDKafkaErrorCode::Fatal => {}
            Some(Err(e)) => {
                let p = open.first().copied().unwrap_or_default();
                return Err(fail(p, e.to_string()));
            }
        }
    }
    restored.from_cache = copies.len();
    restored.snapshots = latest;
    Ok(restored)
}

/// Each partition's low watermark and end once no transaction is open on it
/// (its last stable offset has reached the high watermark it had when
/// asked), waiting up to [`SETTLE_TIMEOUT`]. `committed` is a
/// `read_committed` client: librdkafka asks its watermarks at that
/// isolation level, so its "high" is the last stable offset; a
/// `read_uncommitted` one gives the high watermark.
fn settled_ends(
    client: &ClientConfig,
    committed: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
) -> Result<Vec<(i64, i64)>, WorkerError> {
    let mut config = client.clone();
    config.set("isolation.level", "read_uncommitted");
    let uncommitted: BaseConsumer = config.create()?;
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut ends = Vec::with_capacity(partitions.len());
    for p in partitions {
        loop {
            // The high watermark first: every record written before it
            // (the previous owner's last commit among them) is settled once
            // the last stable offset, asked after, has reached it.
            let (_, high) = uncommitted.fetch_watermarks(topic, *p, remaining(deadline))?;
            let (low, stable) = committed.fetch_watermarks(topic, *p, remaining(deadline))?;
            if stable >= high {
                ends.push((low, stable));
                break;
            }
            if Instant::now() > deadline {
                return Err(WorkerError::Restore {
                    topic: topic.to_owned(),
                    partition: *p,
                    problem: format!(
                        "a transaction still open at offset {stable} (high watermark {high}) after {SETTLE_TIMEOUT:?}"
                    ),
                });
            }
            std::thread::sleep(SETTLE_POLL);
        }
    }
    Ok(ends)
}

/// What is left of a wait until `deadline`, for one more request (a second
/// at least, so that a request made at the deadline can still answer).
fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(1))
}
