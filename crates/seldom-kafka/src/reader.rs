//! A whole topic read by one consumer outside any group, `read_committed`:
//! what every worker needs of the allowlist, and what `serve --kafka` reads
//! of the alerts. Each client reads every partition itself, from the start
//! or from offsets it kept, and knows when it has caught up with what was
//! committed when it looked.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::WorkerError;

/// How long a topic's partitions are asked for before it counts as missing.
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait before asking again for a new topic's partitions.
const METADATA_RETRY: Duration = Duration::from_millis(200);

/// One record read.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Vec<u8>,
    /// `None`: a tombstone (the key was deleted).
    pub payload: Option<Vec<u8>>,
}

pub struct TopicReader {
    consumer: BaseConsumer,
    topic: String,
    /// Partitions not yet read to the end they had when reading began.
    behind: BTreeSet<i32>,
}

impl TopicReader {
    /// Reads every partition of `topic`, each from `from[p]` (the next offset
    /// to read) or from its start.
    pub fn open(
        client: &ClientConfig,
        topic: &str,
        from: &BTreeMap<i32, i64>,
    ) -> Result<TopicReader, WorkerError> {
        let mut config = client.clone();
        config
            .set("group.id", "seldom-reader")
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "true");
        let consumer: BaseConsumer = config.create()?;
        let partitions = partition_count(&consumer, topic)? as i32;
        let mut assignment = TopicPartitionList::new();
        for p in 0..partitions {
            let offset = from
                .get(&p)
                .map_or(Offset::Beginning, |o| Offset::Offset(*o));
            assignment.add_partition_offset(topic, p, offset)?;
        }
        consumer.assign(&assignment)?;
        Ok(TopicReader {
            consumer,
            topic: topic.to_owned(),
            behind: (0..partitions).collect(),
        })
    }

    /// Whether every partition has been read to the end it had when reading
    /// began (or any later end).
    pub fn caught_up(&self) -> bool {
        self.behind.is_empty()
    }

    /// Records read within `wait` (at most `max`); an empty list when none
    /// came.
    pub fn poll(&mut self, wait: Duration, max: usize) -> Result<Vec<Record>, WorkerError> {
        let deadline = Instant::now() + wait;
        let mut records = Vec::new();
        while records.len() < max {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.consumer.poll(left) {
                None => break,
                Some(Ok(message)) => records.push(Record {
                    partition: message.partition(),
                    offset: message.offset(),
                    key: message.key().unwrap_or_default().to_vec(),
                    payload: message.payload().map(<[u8]>::to_vec),
                }),
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    self.behind.remove(&p);
                }
                // A broker down or a leader moving: librdkafka retries.
                Some(Err(KafkaError::MessageConsumption(code)))
                    if code != RDKafkaErrorCode::Fatal => {}
                Some(Err(e)) => return Err(e.into()),
            }
            if left.is_zero() {
                break;
            }
        }
        Ok(records)
    }

    /// Reads until caught up (or `timeout`), handing each record to `each`.
    pub fn catch_up(
        &mut self,
        timeout: Duration,
        mut each: impl FnMut(Record),
    ) -> Result<(), WorkerError> {
        let deadline = Instant::now() + timeout;
        while !self.caught_up() {
            if Instant::now() > deadline {
                return Err(WorkerError::Setup(format!(
                    "topic {} not read to its end in {timeout:?}",
                    self.topic
                )));
            }
            for record in self.poll(Duration::from_millis(200), 10_000)? {
                each(record);
            }
        }
        Ok(())
    }
}

/// The partitions of `topic`. A topic just created reaches every broker's
/// metadata a moment later, and until then a broker answers it with none
/// (seen in CI: a service exiting at its start), so the count is asked
/// again for up to 30 s before the topic is taken as missing.
pub fn partition_count(consumer: &BaseConsumer, topic: &str) -> Result<u32, WorkerError> {
    let deadline = Instant::now() + METADATA_TIMEOUT;
    loop {
        let metadata = consumer.fetch_metadata(Some(topic), METADATA_TIMEOUT)?;
        let n = metadata
            .topics()
            .iter()
            .find(|m| m.name() == topic)
            .map_or(0, |m| m.partitions().len());
        if n > 0 {
            return Ok(n as u32);
        }
        if Instant::now() > deadline {
            return Err(WorkerError::Setup(format!(
                "topic {topic} has no partitions after {METADATA_TIMEOUT:?}"
            )));
        }
        std::thread::sleep(METADATA_RETRY);
    }
}
