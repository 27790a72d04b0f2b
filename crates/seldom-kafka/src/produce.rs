//! `seldom kafka produce`: files into the input topic, one record per
//! message, for tests, demos and backfills. Lines of a text file (JSON
//! lines, gzip or not) are records; an EVTX file's records are sent as their
//! XML. Formats whose records do not stand alone (a Zeek TSV log needs its
//! header, a Linux audit event spans lines) are refused by name: one message
//! per line would lose them.
//!
//! Messages have no key, so the producer spreads them over the partitions:
//! the workers make no assumption about the input's partitioning.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;

use seldom_ingest::file_records::{EvtxAs, Framing, collect_files, each_record};

use crate::error::WorkerError;

/// What was sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Produced {
    pub files: u64,
    pub records: u64,
    pub bytes: u64,
    /// EVTX records the evtx crate could not read: not sent, counted.
    pub unreadable: u64,
}

/// Sends every record of `paths` (files, or folders read recursively in
/// name order) to `topic`, and waits until the cluster has them all.
pub fn produce(
    client: &ClientConfig,
    topic: &str,
    paths: &[PathBuf],
) -> Result<Produced, WorkerError> {
    let mut config = client.clone();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "20");
    let producer: ThreadedProducer<DefaultProducerContext> = config.create()?;
    let mut produced = Produced::default();
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files).map_err(|e| setup(path, e))?;
    }
    for file in files {
        produced.files += 1;
        let mut unreadable = 0;
        for_each_record(&file, &mut unreadable, &mut |record| {
            produced.records += 1;
            produced.bytes += record.len() as u64;
            send(&producer, topic, record)
        })?;
        produced.unreadable += unreadable;
    }
    producer.flush(Duration::from_secs(120))?;
    Ok(produced)
}

fn send(
    producer: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    record: &[u8],
) -> Result<(), WorkerError> {
    let mut base = BaseRecord::<(), [u8]>::to(topic).payload(record);
    loop {
        match producer.send(base) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                base = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(e.into()),
        }
    }
}

fn setup(path: &Path, e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Setup(format!("{}: {e}", path.display()))
}

/// Calls `each` with every record of `path`, one message each: a format
/// whose records do not stand alone is refused before anything is sent.
fn for_each_record(
    path: &Path,
    unreadable: &mut u64,
    each: &mut dyn FnMut(&[u8]) -> Result<(), WorkerError>,
) -> Result<(), WorkerError> {
    *unreadable += each_record(path, EvtxAs::Xml, &mut |framing, record| match framing {
        Framing::ZeekTsv | Framing::Audit => Err(setup(
            path,
            "a Zeek TSV log or a Linux audit log: its records do not stand alone \
             (send Zeek JSON logs, or audit events through a shipper that joins them)",
        )),
        Framing::Lines | Framing::Evtx => each(record),
    })?;
    Ok(())
}
