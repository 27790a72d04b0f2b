//! `seldom kafka produce`: files into the input topic, one record per
//! message, for tests, demos and backfills. Lines of a text file (JSON
//! lines, gzip or not) are records; an EVTX file's records are sent as their
//! XML. Formats whose records do not stand alone (a Zeek TSV log needs its
//! header, a Linux audit event spans lines) are refused by name: one message
//! per line would lose them.
//!
//! Messages have no key, so the producer spreads them over the partitions:
//! the workers make no assumption about the input's partitioning.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;

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

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            collect_files(&entry, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Calls `each` with every record of `path`.
fn for_each_record(
    path: &Path,
    unreadable: &mut u64,
    each: &mut dyn FnMut(&[u8]) -> Result<(), WorkerError>,
) -> Result<(), WorkerError> {
    let mut file = File::open(path).map_err(|e| setup(path, e))?;
    let mut magic = [0u8; 8];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| setup(path, e))?;
    let magic = &magic[..n];
    if magic.starts_with(b"ElfFile\0") {
        let mut parser = evtx::EvtxParser::from_path(path).map_err(|e| setup(path, e))?;
        for record in parser.records() {
            match record {
                Ok(record) => each(record.data.as_bytes())?,
                Err(_) => *unreadable += 1,
            }
        }
        return Ok(());
    }
    let file = File::open(path).map_err(|e| setup(path, e))?;
    let reader: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut lines = BufReader::with_capacity(1 << 20, reader);
    let mut line = Vec::new();
    let mut first = true;
    loop {
        line.clear();
        if lines
            .read_until(b'\n', &mut line)
            .map_err(|e| setup(path, e))?
            == 0
        {
            return Ok(());
        }
        let record = line.trim_ascii();
        if first {
            first = false;
            if record.starts_with(b"#separator") || record.starts_with(b"type=") {
                return Err(setup(
                    path,
                    "a Zeek TSV log or a Linux audit log: its records do not stand alone \
                     (send Zeek JSON logs, or audit events through a shipper that joins them)",
                ));
            }
        }
        if !record.is_empty() {
            each(record)?;
        }
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
