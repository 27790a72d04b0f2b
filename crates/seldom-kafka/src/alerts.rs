//! `seldom kafka alerts`: the alerts topic as an analyst or a script reads
//! it: `read_committed` (nothing of an aborted transaction), from the
//! beginning, each alert id's latest record only (a repeat is a newer record
//! with the same key), in JSON lines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;

use crate::error::WorkerError;
use crate::reader::TopicReader;

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
    let mut reader = TopicReader::open(client, topic, &BTreeMap::new())?;
    let started = Instant::now();
    let mut last_record = Instant::now();
    let mut latest = BTreeMap::new();
    while started.elapsed() < until.timeout {
        for record in reader.poll(Duration::from_millis(200), 10_000)? {
            let id = String::from_utf8_lossy(&record.key).into_owned();
            latest.insert(id, record.payload.unwrap_or_default());
            last_record = Instant::now();
        }
        let enough = until.ids.is_none_or(|n| latest.len() >= n);
        if enough && last_record.elapsed() >= until.idle {
            break;
        }
    }
    Ok(latest)
}
