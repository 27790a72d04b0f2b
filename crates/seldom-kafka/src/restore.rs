//! A partition's state from its changelog: the last committed snapshot, read
//! by a consumer of its own (no group, `read_committed`) from the start of
//! the changelog partition to its end. Compaction keeps one snapshot per
//! partition; until it runs, the last one read wins.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::WorkerError;
use crate::topics::MAX_STATE_BYTES;

/// How long a restore may wait for the changelog before the session starts
/// afresh.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(60);

/// The last snapshot in partition `partition` of `topic`, if any.
pub fn latest_snapshot(
    client: &ClientConfig,
    topic: &str,
    partition: i32,
) -> Result<Option<Vec<u8>>, WorkerError> {
    let fail = |problem: String| WorkerError::Restore {
        topic: topic.to_owned(),
        partition,
        problem,
    };
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
    let (low, high) = consumer.fetch_watermarks(topic, partition, RESTORE_TIMEOUT)?;
    if high <= low {
        return Ok(None);
    }
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + RESTORE_TIMEOUT;
    let mut latest = None;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Ok(message)) => {
                latest = message.payload().map(<[u8]>::to_vec);
                if message.offset() + 1 >= high {
                    return Ok(latest);
                }
            }
            // The end of what is committed (an open transaction may hold
            // records past it that are not the state yet).
            Some(Err(KafkaError::PartitionEOF(_))) => return Ok(latest),
            Some(Err(KafkaError::MessageConsumption(code))) if code != RDKafkaErrorCode::Fatal => {}
            Some(Err(e)) => return Err(fail(e.to_string())),
        }
    }
    Err(fail(format!("not read to its end in {RESTORE_TIMEOUT:?}")))
}
