//! The lines of one JSON-lines input, decoded on several threads.
//!
//! Decoding costs several times what reading the bytes does, so a single big
//! export (a day of Winlogbeat, a simulated organization) would leave all but
//! one core idle. The reading thread cuts the input into chunks of whole lines
//! and a pool of workers decodes them, each chunk with a decoder of its own;
//! the results are handed on in input order, so events, counts and skip
//! examples are exactly those of a single-threaded read.
//!
//! The JSON decoder has one piece of state, the local-time offset it learns
//! from NXLog records that carry both clocks. A worker starts a chunk without
//! it; if a record of the chunk needed an offset the worker had not learned
//! and the stream before the chunk had taught one, the chunk is decoded again,
//! in order, with that offset. Such records are rare (one NXLog variant), and
//! the result is the same as a sequential read's in every case.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use seldom_model::{Event, Location};

use crate::decode::JsonDecoder;
use crate::normalize::{Decoded, NormalizeOptions};
use crate::stats::{IngestStats, Malformed, SkipReason};

/// A chunk holds about this many bytes of lines.
pub(crate) const CHUNK_BYTES: usize = 1 << 20;
/// ... and at most this many lines: a flood of empty or tiny lines would
/// otherwise grow one chunk's line table without bound before its bytes
/// reach [`CHUNK_BYTES`] (20 M empty lines once took 1.4 GiB).
pub(crate) const CHUNK_LINES: usize = 1 << 14;
/// Room reserved for each chunk's text: a full chunk and the usual overshoot
/// of its last line, so that filling it seldom copies it to a larger buffer.
const CHUNK_TEXT_ROOM: usize = CHUNK_BYTES + (CHUNK_BYTES >> 3);

/// One line of a chunk, or the mark of a line too long to keep.
#[derive(Debug, Clone)]
enum Entry {
    Line {
        start: usize,
        end: usize,
        number: u64,
    },
    TooLong {
        detail: String,
        number: u64,
    },
}

/// Whole lines, copied out of the reader's buffer.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    text: Vec<u8>,
    entries: Vec<Entry>,
}

impl Chunk {
    pub(crate) fn push_line(&mut self, line: &[u8], number: u64) {
        let start = self.text.len();
        self.text.extend_from_slice(line);
        self.entries.push(Entry::Line {
            start,
            end: self.text.len(),
            number,
        });
    }

    pub(crate) fn push_too_long(&mut self, detail: String, number: u64) {
        self.entries.push(Entry::TooLong { detail, number });
    }

    /// Empties the chunk, keeping its buffers for the next lines.
    fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the chunk should be handed on: by bytes or by lines.
    pub(crate) fn is_full(&self) -> bool {
        self.text.len() >= CHUNK_BYTES || self.entries.len() >= CHUNK_LINES
    }
}

/// What decoding one chunk gave; the chunk comes back for a second, ordered
/// decoding should it need one.
struct ChunkResult {
    chunk: Chunk,
    events: Vec<Event>,
    stats: IngestStats,
    needed_earlier_offset: bool,
    learned_offset: Option<i64>,
}

/// Decodes every line of `chunk` with `decoder`, as the sequential reader would.
fn decode_chunk(
    chunk: &Chunk,
    decoder: &mut JsonDecoder,
    name: &Arc<str>,
    stats: &mut IngestStats,
    events: &mut Vec<Event>,
) {
    for entry in &chunk.entries {
        match entry {
            Entry::TooLong { detail, number } => {
                stats.records_read += 1;
                stats.skip(
                    Malformed::new(SkipReason::LineTooLong, detail.clone()),
                    &Location::at_line(name.clone(), *number),
                );
            }
            &Entry::Line { start, end, number } => {
                let location = || Location::at_line(name.clone(), number);
                let text = match crate::utf8::text(&chunk.text[start..end]) {
                    Ok(text) => text.trim(),
                    Err(e) => {
                        stats.records_read += 1;
                        stats.skip(
                            Malformed::new(SkipReason::NotUtf8, e.to_string()),
                            &location(),
                        );
                        continue;
                    }
                };
                if text.is_empty() {
                    continue;
                }
                stats.records_read += 1;
                match decoder.decode(text, location()) {
                    Ok(Decoded::Event(event)) => {
                        stats.count_event(&event);
                        events.push(*event);
                    }
                    Ok(Decoded::Ignored(reason)) => stats.ignore(reason),
                    Err(malformed) => stats.skip(malformed, &location()),
                }
            }
        }
    }
}

/// Hands chunk results on in input order, carrying the decoder state across.
struct InOrder<'a> {
    options: NormalizeOptions,
    name: &'a Arc<str>,
    next: u64,
    waiting: BTreeMap<u64, ChunkResult>,
    /// The offset the stream had taught before chunk `next`.
    offset: Option<i64>,
    /// Chunks handed on, kept for the reading thread to fill again, for this
    /// input and the next: a fresh megabyte per chunk costs the kernel more
    /// in zeroed pages than the lines cost to copy.
    spare: &'a mut Vec<Chunk>,
}

impl InOrder<'_> {
    fn arrive(
        &mut self,
        seq: u64,
        result: ChunkResult,
        stats: &mut IngestStats,
        sink: &mut dyn FnMut(Event),
    ) {
        self.waiting.insert(seq, result);
        while let Some(mut result) = self.waiting.remove(&self.next) {
            self.next += 1;
            if result.needed_earlier_offset && self.offset.is_some() {
                let mut decoder = JsonDecoder::continuing(self.options, self.offset);
                let mut again = IngestStats::default();
                let mut events = Vec::with_capacity(result.events.len());
                decode_chunk(
                    &result.chunk,
                    &mut decoder,
                    self.name,
                    &mut again,
                    &mut events,
                );
                result.stats = again;
                result.events = events;
                result.learned_offset = decoder.local_offset();
            }
            self.offset = result.learned_offset.or(self.offset);
            stats.absorb(result.stats);
            for event in result.events {
                sink(event);
            }
            result.chunk.clear();
            self.spare.push(result.chunk);
        }
    }
}

/// Where the reading thread gets its lines: the caller's line reader.
pub(crate) trait LineSource {
    /// The next line into `chunk` (or its too-long mark); `Ok(false)` at the end.
    fn next_into(&mut self, chunk: &mut Chunk) -> std::io::Result<bool>;
}

/// Decodes the lines `source` gives on `threads` workers, taking empty
/// chunks from `spare` and leaving them
/// there for the next input; returns the read error that ended the input, if any,
/// after every line before it was handed on.
pub(crate) fn decode_json_lines(
    threads: usize,
    options: NormalizeOptions,
    name: &Arc<str>,
    source: &mut dyn LineSource,
    spare: &mut Vec<Chunk>,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) -> Option<std::io::Error> {
    let threads = threads.max(1);
    let (work, queue) = sync_channel::<(u64, Chunk)>(threads * 2);
    let queue: Mutex<Receiver<(u64, Chunk)>> = Mutex::new(queue);
    let (done, results) = std::sync::mpsc::channel::<(u64, ChunkResult)>();
    let mut order = InOrder {
        options,
        name,
        next: 0,
        waiting: BTreeMap::new(),
        offset: None,
        spare,
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let done = done.clone();
            let queue = &queue;
            scope.spawn(move || worker(queue, done, options, name));
        }
        drop(done);
        let mut failure = None;
        let mut sent: u64 = 0;
        let mut chunk = order.spare.pop().unwrap_or_default();
        // Room for a full chunk from the start, as for every later one: grown
        // from empty, the first chunk's text was copied a dozen times.
        chunk.text.reserve(CHUNK_TEXT_ROOM);
        loop {
            let more = match source.next_into(&mut chunk) {
                Ok(more) => more,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            };
            if (!more || chunk.is_full()) && !chunk.is_empty() {
                let next = order.spare.pop().unwrap_or_default();
                let full = std::mem::replace(&mut chunk, next);
                chunk.text.reserve(CHUNK_TEXT_ROOM);
                if work.send((sent, full)).is_err() {
                    break; // every worker is gone: nothing more can be decoded
                }
                sent += 1;
                while let Ok((seq, result)) = results.try_recv() {
                    order.arrive(seq, result, stats, sink);
                }
            }
            if !more {
                break;
            }
        }
        drop(work);
        for (seq, result) in results.iter() {
            order.arrive(seq, result, stats, sink);
        }
        chunk.clear();
        order.spare.push(chunk);
        failure
    })
}

/// The share of a chunk's lines that became events, to reserve the next
/// chunk's events from. A chunk's events are reserved at once (grown by
/// doubling, events of several hundred bytes were copied again and again),
/// but reserving one per line made a raw export, where 2 % of lines are
/// events, take fifty times the memory it used, fresh pages the kernel
/// zeroed for every chunk (13 % of `scan --events` on the OTRF recordings).
#[derive(Debug, Clone, Copy)]
struct EventShare {
    events: usize,
    lines: usize,
}

impl EventShare {
    /// Before the first chunk: every line an event.
    const EVERY_LINE: EventShare = EventShare {
        events: 1,
        lines: 1,
    };

    fn of(events: usize, lines: usize) -> EventShare {
        EventShare { events, lines }
    }

    /// The events to reserve for a chunk of `lines`: the last chunk's share
    /// of them, with an eighth more and a few over (a chunk a little richer
    /// than the last fits without growing), never more than one per line.
    fn expected(self, lines: usize) -> usize {
        let share = lines.saturating_mul(self.events) / self.lines.max(1);
        (share + share / 8 + 16).min(lines)
    }
}

fn worker(
    queue: &Mutex<Receiver<(u64, Chunk)>>,
    done: std::sync::mpsc::Sender<(u64, ChunkResult)>,
    options: NormalizeOptions,
    name: &Arc<str>,
) {
    let mut last_share = EventShare::EVERY_LINE;
    loop {
        // The lock is held only to take a chunk, never while decoding.
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok((seq, chunk)) = next else {
            return;
        };
        let mut decoder = JsonDecoder::new(options);
        let mut stats = IngestStats::default();
        let mut events = Vec::with_capacity(last_share.expected(chunk.entries.len()));
        decode_chunk(&chunk, &mut decoder, name, &mut stats, &mut events);
        last_share = EventShare::of(events.len(), chunk.entries.len());
        let result = ChunkResult {
            needed_earlier_offset: decoder.needed_earlier_offset(),
            learned_offset: decoder.local_offset(),
            chunk,
            events,
            stats,
        };
        if done.send((seq, result)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_reserves_events_for_the_last_chunks_share_of_lines() {
        assert_eq!(EventShare::EVERY_LINE.expected(4_000), 4_000);
        // 2 % of lines were events: about that, with room to spare.
        let sparse = EventShare::of(80, 4_000);
        assert!(
            (80..=120).contains(&sparse.expected(4_000)),
            "{}",
            sparse.expected(4_000)
        );
        assert_eq!(sparse.expected(8_000), 196);
        // Never more than a line each, nor less than a few; no division by zero.
        assert_eq!(EventShare::of(10, 10).expected(3), 3);
        assert_eq!(EventShare::of(0, 4_000).expected(4_000), 16);
        assert_eq!(EventShare::of(0, 0).expected(100), 16);
    }

    #[test]
    fn a_flood_of_empty_lines_fills_a_chunk_by_count() {
        let mut chunk = Chunk::default();
        for number in 1..CHUNK_LINES as u64 {
            chunk.push_line(b"", number);
            assert!(!chunk.is_full());
        }
        chunk.push_line(b"", CHUNK_LINES as u64);
        assert!(chunk.is_full(), "bounded by lines, not only by bytes");
        assert!(chunk.text.is_empty());
    }
}
