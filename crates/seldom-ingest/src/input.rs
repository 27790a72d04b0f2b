//! The inputs of a run behind one trait, and the decoding thread that turns
//! them into batches of events.
//!
//! A [`Source`] is something that holds telemetry: a file, a folder or an
//! archive ([`PathSource`]), standard input ([`StdinSource`]), an HTTP body
//! or a tailed file's new bytes ([`BytesSource`]). Each reads itself through
//! an [`Ingestor`], which recognizes the container and the record format and
//! counts what it reads; the events carry their position (`Event::origin`).
//! [`decode_in_background`] reads a list of sources on a thread of its own
//! and hands the events over in batches, in input order, so that one core
//! decodes while another detects.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

use seldom_model::Event;

use crate::options::IngestOptions;
use crate::source::{Ingestor, OpenError};
use crate::stats::IngestStats;

/// Something that holds telemetry.
pub trait Source: Send {
    /// How counts and errors name it.
    fn name(&self) -> &str;

    /// Reads everything it holds now, handing each event on. Malformed
    /// records are counted in the ingestor's stats, never returned; an error
    /// is an input that could not be opened at all.
    fn read(
        &mut self,
        ingestor: &mut Ingestor,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), OpenError>;
}

/// A file, a folder (every file under it, sorted) or an archive.
pub struct PathSource {
    path: PathBuf,
    name: String,
}

impl PathSource {
    pub fn new(path: impl Into<PathBuf>) -> PathSource {
        let path = path.into();
        let name = path.display().to_string();
        PathSource { path, name }
    }
}

impl Source for PathSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(
        &mut self,
        ingestor: &mut Ingestor,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), OpenError> {
        ingestor.read_path(&self.path, on_event)
    }
}

/// Standard input, read to its end.
pub struct StdinSource;

impl Source for StdinSource {
    fn name(&self) -> &str {
        "-"
    }

    fn read(
        &mut self,
        ingestor: &mut Ingestor,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), OpenError> {
        ingestor.read_reader(std::io::stdin().lock(), "-", on_event);
        Ok(())
    }
}

/// Bytes already in memory: an HTTP body, a tailed file's new bytes.
pub struct BytesSource<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

impl Source for BytesSource<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn read(
        &mut self,
        ingestor: &mut Ingestor,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), OpenError> {
        ingestor.read_reader(self.bytes, self.name, on_event);
        Ok(())
    }
}

/// The source a command-line path names: `-` is standard input.
pub fn source_for(path: &Path) -> Box<dyn Source> {
    if path.as_os_str() == "-" {
        Box::new(StdinSource)
    } else {
        Box::new(PathSource::new(path))
    }
}

/// Batches of this many events cross from the decoding thread...
const BATCH: usize = 4096;
/// ...and at most this many batches wait, bounding memory.
const BATCHES_IN_FLIGHT: usize = 8;

/// What the decoding thread leaves when it is done.
pub struct ReadSummary {
    pub stats: IngestStats,
    /// The inputs that could not be opened at all, with why.
    pub unopened: Vec<OpenError>,
}

/// Events decoded on a thread of their own, in batches, in input order.
pub struct Batches {
    received: Receiver<Vec<Event>>,
    reader: JoinHandle<ReadSummary>,
}

impl Iterator for Batches {
    type Item = Vec<Event>;
    fn next(&mut self) -> Option<Vec<Event>> {
        self.received.recv().ok()
    }
}

impl Batches {
    /// Waits for the decoding thread (dropping what was not taken) and
    /// returns its counts.
    pub fn finish(self) -> ReadSummary {
        drop(self.received);
        self.reader.join().unwrap_or_else(|_| ReadSummary {
            stats: IngestStats::default(),
            unopened: vec![OpenError {
                path: "(decoding thread)".to_owned(),
                source: std::io::Error::other("the decoding thread panicked"),
            }],
        })
    }
}

/// Starts reading `sources` in order on a thread of its own.
pub fn decode_in_background(
    sources: Vec<Box<dyn Source>>,
    options: IngestOptions,
    progress: Option<Arc<AtomicU64>>,
) -> std::io::Result<Batches> {
    let (sender, received) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
    let reader = std::thread::Builder::new()
        .name("seldom-decode".into())
        .spawn(move || read_all(sources, options, progress, sender))?;
    Ok(Batches { received, reader })
}

fn read_all(
    sources: Vec<Box<dyn Source>>,
    options: IngestOptions,
    progress: Option<Arc<AtomicU64>>,
    batches: SyncSender<Vec<Event>>,
) -> ReadSummary {
    let mut ingestor = Ingestor::new(options);
    if let Some(progress) = progress {
        ingestor = ingestor.with_progress(progress);
    }
    let mut batch = Vec::with_capacity(BATCH);
    let mut on_event = |event: Event| {
        batch.push(event);
        if batch.len() >= BATCH {
            // A closed channel means the consumer stopped; the rest is dropped.
            let _ = batches.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    };
    let mut unopened = Vec::new();
    for mut source in sources {
        if let Err(e) = source.read(&mut ingestor, &mut on_event) {
            unopened.push(e);
        }
    }
    if !batch.is_empty() {
        let _ = batches.send(batch);
    }
    ReadSummary {
        stats: ingestor.into_stats(),
        unopened,
    }
}
