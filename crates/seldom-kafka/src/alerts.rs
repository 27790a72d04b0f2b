//! `seldom kafka alerts`: the alerts topic as an analyst or a script reads
//! it: `read_committed` (nothing of an aborted transaction), from the
//! beginning, each alert id's latest record only (a repeat is a newer record
//! with the same key), in JSON lines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::WorkerError;

/// When to stop reading.
#[derive(Debug, Clone, Copy)]
pub struct Until {
    /// Stop once this many distinct alert ids have come (and `idle` passed
    /// without a record), rather than at the first `idle`.
    pub ids: Option<usize>,
    /// Quiet time that ends the read.
    pub idle: Duration,
    /// The longest the read may take.
    pub timeout: Duration,
}

/// Each alert id's latest record, as raw JSON bytes, by id.
pub fn latest(
    client: &ClientConfig,
    topic: &str,
    until: Until,
) -> Result<BTreeMap<String, Vec<u8>>, WorkerError> {
    let mut config = client.clone();
    config
        .set("group.id", "seldom-alerts-reader")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed");
    let consumer: BaseConsumer = config.create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(30))?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len());
    if partitions == 0 {
        return Err(WorkerError::Setup(format!("topic {topic} does not exist")));
    }
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        assignment.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let started = Instant::now();
    let mut last_record = Instant::now();
    let mut latest = BTreeMap::new();
    while started.elapsed() < until.timeout {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            let id = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
            latest.insert(id, message.payload().unwrap_or_default().to_vec());
            last_record = Instant::now();
        }
        let enough = until.ids.is_none_or(|n| latest.len() >= n);
        if enough && last_record.elapsed() >= until.idle {
            break;
        }
    }
    Ok(latest)
}
