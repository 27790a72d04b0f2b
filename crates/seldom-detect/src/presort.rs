//! The presort in bounded memory: events in time order, exactly as a stable
//! sort of the whole input orders them, holding a bounded number at once.
//!
//! A scan of unordered archives must see every event before it judges the
//! first (the last recording read could hold the earliest event), so a
//! presort keeps all of them somewhere. Up to [`SortBuffer::bytes`] they are
//! held and sorted in memory, as they always were. Past it, each full buffer
//! is sorted and written to a temporary file as a *run* (CBOR, one event after
//! another, in a flat form of its own: `Spilled`), the last buffer too, and
//! the runs are merged: the earliest head
//! first and, among heads of one instant, the run read earlier. Events of one
//! instant therefore keep their input order, as the stable in-memory sort
//! keeps it, and the detector sees the very same sequence: the same alerts
//! with the same ids, whatever the bound.
//!
//! Runs are unnamed temporary files: the system removes them when the
//! process ends, however it ends. A run that cannot be written or read back
//! (a full disk) stops the run with that error; nothing is judged from half
//! the input.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::PathBuf;

use seldom_model::{
    DnsQuery, Event, EventKind, HostName, Location, NetworkConnection, Platform, ProcessEnd,
    ProcessStart, SourceFormat, Timestamp,
};
use serde::{Deserialize, Serialize};

/// How much of a presort is held in memory, and where the rest goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortBuffer {
    /// Bytes of events held in memory at most, as `Event::approx_bytes`
    /// counts them (default 384 MiB: about 1.4 million Sysmon events, 700 MiB
    /// resident with the sort's own buffer); 0 holds everything.
    pub bytes: usize,
    /// Where runs are written (default: the system's temporary folder).
    pub spill_dir: Option<PathBuf>,
}

impl Default for SortBuffer {
    fn default() -> Self {
        SortBuffer {
            bytes: 384 << 20,
            spill_dir: None,
        }
    }
}

/// What a presort did, for the run's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PresortStats {
    pub events: u64,
    /// Runs written to disk (0: the input fitted in memory).
    pub runs: u64,
    pub spilled_events: u64,
}

/// A sorted run on disk, and how many events it holds.
struct Run {
    file: File,
    events: u64,
}

/// Events taken in input order, handed out in time order.
pub struct Presort {
    buffer: SortBuffer,
    held: Vec<Event>,
    held_bytes: usize,
    runs: Vec<Run>,
    stats: PresortStats,
}

impl Presort {
    pub fn new(buffer: SortBuffer) -> Self {
        Presort {
            buffer,
            held: Vec::new(),
            held_bytes: 0,
            runs: Vec::new(),
            stats: PresortStats::default(),
        }
    }

    /// Takes the next event of the input; writes a run when the buffer is full.
    pub fn push(&mut self, event: Event) -> io::Result<()> {
        self.held_bytes += event.approx_bytes();
        self.held.push(event);
        self.stats.events += 1;
        if self.buffer.bytes > 0 && self.held_bytes >= self.buffer.bytes {
            self.spill()?;
        }
        Ok(())
    }

    pub fn stats(&self) -> PresortStats {
        self.stats
    }

    fn spill(&mut self) -> io::Result<()> {
        // Stable: events of one instant keep their input order.
        self.held.sort_by_key(|event| event.time);
        let mut held = std::mem::take(&mut self.held);
        let run = self.write_run(held.drain(..).map(Ok));
        self.held = held; // empty, its capacity kept for the next run
        self.held_bytes = 0;
        let run = run?;
        self.stats.runs += 1;
        self.stats.spilled_events += run.events;
        self.runs.push(run);
        if self.runs.len() >= MAX_RUNS {
            // Too many files to keep open for the merge: merge the runs so
            // far into one, which keeps their order (it is their merge).
            let sources = self
                .runs
                .drain(..)
                .map(Source::disk)
                .collect::<io::Result<_>>()?;
            let merged = self.write_run(Sorted::new(sources, self.stats)?)?;
            self.runs.push(merged);
        }
        Ok(())
    }

    fn write_run(&self, events: impl Iterator<Item = io::Result<Event>>) -> io::Result<Run> {
        let file = match &self.buffer.spill_dir {
            Some(dir) => tempfile::tempfile_in(dir)?,
            None => tempfile::tempfile()?,
        };
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        let mut count = 0;
        for event in events {
            ciborium::into_writer(&Spilled::from(event?), &mut writer).map_err(io::Error::other)?;
            count += 1;
        }
        writer.flush()?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        Ok(Run {
            file,
            events: count,
        })
    }

    /// Every event taken, in time order.
    ///
    /// When the bound was reached, the events still held are written as a
    /// last run too. Kept in memory, they (and the buffer's capacity) would
    /// stay allocated through the whole merge, beside the detector's state,
    /// which grows as the merge feeds it: on an input in time order they are
    /// the latest events, read last, when that state is largest. Within the
    /// bound, nothing is written.
    pub fn into_sorted(mut self) -> io::Result<Sorted> {
        if !self.runs.is_empty() {
            if !self.held.is_empty() {
                self.spill()?;
            }
            // The buffer's capacity (the size of a full run of events) is
            // given back before the merge instead of kept for another run.
            self.held = Vec::new();
        }
        self.held.sort_by_key(|event| event.time);
        let mut sources: Vec<Source> = self
            .runs
            .into_iter()
            .map(Source::disk)
            .collect::<io::Result<_>>()?;
        // The events still held are the input's last: they merge after
        // every run at equal times.
        sources.push(Source::Memory(self.held.into_iter()));
        Sorted::new(sources, self.stats)
    }
}

/// Runs kept apart at most; past this many they are merged into one, so
/// that a small buffer over a large input never runs out of open files.
const MAX_RUNS: usize = 64;

/// An event as a run stores it: a tuple and an externally tagged kind.
/// `Event`'s own form (a flattened, internally tagged kind, time as text) is
/// made for readers of JSON; read back, it costs serde a buffered copy of
/// every map. This one reads in one pass, and keeps time in microseconds.
#[derive(Serialize, Deserialize)]
struct Spilled(
    i64,
    HostName,
    Platform,
    SourceFormat,
    u32,
    Location,
    SpilledKind,
);

#[derive(Serialize, Deserialize)]
enum SpilledKind {
    ProcessStart(ProcessStart),
    ProcessEnd(ProcessEnd),
    NetworkConnection(NetworkConnection),
    DnsQuery(DnsQuery),
}

impl From<Event> for Spilled {
    fn from(event: Event) -> Self {
        let kind = match event.kind {
            EventKind::ProcessStart(start) => SpilledKind::ProcessStart(start),
            EventKind::ProcessEnd(end) => SpilledKind::ProcessEnd(end),
            EventKind::NetworkConnection(connection) => SpilledKind::NetworkConnection(connection),
            EventKind::DnsQuery(query) => SpilledKind::DnsQuery(query),
        };
        Spilled(
            event.time.as_micros(),
            event.host,
            event.platform,
            event.format,
            event.event_id,
            event.origin,
            kind,
        )
    }
}

impl From<Spilled> for Event {
    fn from(Spilled(micros, host, platform, format, event_id, origin, kind): Spilled) -> Self {
        let kind = match kind {
            SpilledKind::ProcessStart(start) => EventKind::ProcessStart(start),
            SpilledKind::ProcessEnd(end) => EventKind::ProcessEnd(end),
            SpilledKind::NetworkConnection(connection) => EventKind::NetworkConnection(connection),
            SpilledKind::DnsQuery(query) => EventKind::DnsQuery(query),
        };
        Event {
            time: Timestamp::from_micros(micros),
            host,
            platform,
            format,
            event_id,
            origin,
            kind,
        }
    }
}

/// One sorted source of the merge.
enum Source {
    Disk { reader: BufReader<File>, left: u64 },
    Memory(std::vec::IntoIter<Event>),
}

impl Source {
    fn disk(mut run: Run) -> io::Result<Source> {
        run.file.seek(SeekFrom::Start(0))?;
        Ok(Source::Disk {
            reader: BufReader::with_capacity(256 << 10, run.file),
            left: run.events,
        })
    }

    fn next(&mut self) -> io::Result<Option<Event>> {
        match self {
            Source::Disk { left: 0, .. } => Ok(None),
            Source::Disk { reader, left } => {
                *left -= 1;
                ciborium::from_reader(reader)
                    .map(|spilled: Spilled| Some(spilled.into()))
                    .map_err(|e| io::Error::other(format!("reading a presort run back: {e}")))
            }
            Source::Memory(events) => Ok(events.next()),
        }
    }
}

/// The merge of the runs and the last buffer: the earliest head first,
/// the earlier source among equal times.
pub struct Sorted {
    stats: PresortStats,
    sources: Vec<Source>,
    heads: Vec<Option<Event>>,
    queue: BinaryHeap<Reverse<(Timestamp, usize)>>,
}

impl Sorted {
    fn new(sources: Vec<Source>, stats: PresortStats) -> io::Result<Sorted> {
        let mut sorted = Sorted {
            stats,
            heads: Vec::with_capacity(sources.len()),
            sources,
            queue: BinaryHeap::new(),
        };
        for index in 0..sorted.sources.len() {
            let head = sorted.sources[index].next()?;
            if let Some(event) = &head {
                sorted.queue.push(Reverse((event.time, index)));
            }
            sorted.heads.push(head);
        }
        Ok(sorted)
    }
}

impl Sorted {
    /// The presort's counts, the last run written included.
    pub fn stats(&self) -> PresortStats {
        self.stats
    }
}

impl Iterator for Sorted {
    type Item = io::Result<Event>;

    fn next(&mut self) -> Option<io::Result<Event>> {
        let Reverse((_, index)) = self.queue.pop()?;
        let event = self.heads[index].take()?;
        match self.sources[index].next() {
            Ok(Some(next)) => {
                self.queue.push(Reverse((next.time, index)));
                self.heads[index] = Some(next);
            }
            Ok(None) => {}
            Err(e) => {
                self.queue.clear();
                return Some(Err(e));
            }
        }
        Some(Ok(event))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use seldom_model::{
        EventKind, HostName, Location, Platform, ProcessEnd, ProcessIdentity, SourceFormat,
    };

    use super::*;

    /// An event at `second`, its input position in its origin line.
    fn event(second: i64, position: u64) -> Event {
        Event {
            time: Timestamp::from_micros((1_700_000_000 + second) * 1_000_000 + 123_456),
            host: HostName::normalize("ws1", Default::default()).expect("a host name"),
            platform: Platform::Windows,
            format: SourceFormat::FlatJson,
            event_id: 5,
            origin: Location::at_line(Arc::from("input"), position),
            kind: EventKind::ProcessEnd(ProcessEnd {
                process: ProcessIdentity {
                    pid: Some(position as u32),
                    guid: None,
                },
                image: Some(format!("C:\\p{position:05}.exe")),
            }),
        }
    }

    fn positions(events: impl IntoIterator<Item = Event>) -> Vec<Option<u64>> {
        events.into_iter().map(|e| e.origin.line).collect()
    }

    #[test]
    fn any_bound_gives_the_order_of_a_stable_sort() {
        // Few distinct times, so that many events share an instant, in an
        // order no run boundary agrees with.
        let mut rng = fastrand::Rng::with_seed(7);
        let input: Vec<Event> = (0..5_000).map(|i| event(rng.i64(0..40), i)).collect();
        let mut expected = input.clone();
        expected.sort_by_key(|e| e.time);
        let size = input[0].approx_bytes(); // every test event is this size
        for bound in [0, 1, 2, 7, 100, 4_999, 5_000, 10_000] {
            let mut presort = Presort::new(SortBuffer {
                bytes: bound * size,
                spill_dir: None,
            });
            for e in input.clone() {
                presort.push(e).expect("spills");
            }
            let sorted = presort.into_sorted().expect("runs written");
            let stats = sorted.stats();
            assert_eq!(stats.events, 5_000);
            if bound > 0 && bound <= 5_000 {
                // Runs written (merged ones not counted), the last, partly
                // full buffer among them: nothing stays held in memory.
                assert_eq!(stats.runs, 5_000u64.div_ceil(bound as u64), "bound {bound}");
                assert_eq!(stats.spilled_events, 5_000, "bound {bound}");
            } else {
                assert_eq!(stats.runs, 0);
                assert_eq!(stats.spilled_events, 0);
            }
            let sorted: Vec<Event> = sorted.collect::<io::Result<_>>().expect("every event");
            assert_eq!(
                positions(sorted.clone()),
                positions(expected.clone()),
                "bound {bound}"
            );
            assert!(
                sorted == expected,
                "events change on the way through disk (bound {bound})"
            );
        }
    }

    #[test]
    fn an_unwritable_spill_folder_is_an_error_not_a_loss() {
        let mut presort = Presort::new(SortBuffer {
            bytes: 1,
            spill_dir: Some(PathBuf::from("/nonexistent/seldom-spill")),
        });
        assert!(presort.push(event(0, 1)).is_err());
    }
}
