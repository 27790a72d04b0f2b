//! Files followed as they grow (`[[input.file]]`, paths or globs), by
//! identity rather than by name, as Filebeat and Vector do: each file is a
//! stream keyed by device and inode with a fingerprint of its first bytes
//! ([`crate::file_identity`]), so that no line is lost or read twice across
//! rotation and restarts.
//!
//! - Renamed (rename-and-create): the stream follows the inode. Under a name
//!   the patterns still match, it is found there; under one they do not, it
//!   is read to its end through the handle still open (after a restart, from
//!   the name's folder: a file whose name starts with the old one).
//! - Rewritten in place (copytruncate, or an inode given to a new file): its
//!   first bytes changed, so the old stream ended there; its rest is read
//!   from the copy (a file with the same full fingerprint, among the matches
//!   or in the folder), and the new content is a new stream from byte 0.
//!   A copy found while the original is still whole is a duplicate: skipped.
//! - Compressed (`.gz`, gzip's magic bytes): never followed; its lines were
//!   read from the file it was made of.
//! - Symlinks are followed to their target; two names of one file are one
//!   stream.
//! - A stream whose file is gone with bytes unread is reported (status and
//!   metrics) with how many, and forgotten.
//!
//! Only whole lines are taken; the offset after the last one goes to the
//! detection thread with the events and is committed with the checkpoint
//! that covers them, so a restart resumes exactly there. Each stream keeps
//! its line framing and decoding state from read to read (`decoding`), so
//! that a file read a little at a time decodes as `scan` decodes it whole.

mod decoding;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use seldom_model::Timestamp;

use crate::file_identity::{FileId, Seen, compressed_length, look};
use crate::queue::Work;
use crate::service::Service;
use crate::store::TailOffset;
pub use crate::tail_status::{FileStatus, InputOffset, TailStatus, Vanished, inputs};
use decoding::{Batch, MAX_LINE_BYTES, StreamDecoder};

/// At most this much of one file is read per look, so that one busy file
/// cannot hold the others back. More than the longest line: a line within
/// the bound always fits in a read that starts where it does.
const READ_PER_LOOK: u64 = 2 * MAX_LINE_BYTES as u64;
const _: () = assert!(READ_PER_LOOK > MAX_LINE_BYTES as u64);

/// A file that has not grown for this long has finished what it was
/// writing: the events its decoder still holds open (an audit event with no
/// EOE record) are complete. auditd writes an event's records together.
const PAUSE_ENDS_EVENTS: Duration = Duration::from_secs(5);

/// A file renamed out of the patterns is kept open this long after it last
/// grew: a writer that has not yet reopened its log still appends to it.
const ROTATED_GRACE: Duration = Duration::from_secs(5);

/// Vanished files listed in the status (their count and bytes are totals).
const VANISHED_SHOWN: usize = 20;

/// One followed file.
struct Stream {
    id: FileId,
    path: PathBuf,
    /// `None` for a stream known from the store and not yet found again.
    file: Option<File>,
    /// Bytes handed on (whole lines).
    offset: u64,
    size: u64,
    /// The framing and decoding state of the lines from `offset` on; made
    /// at the first read, and again when the content starts over.
    lines: Option<StreamDecoder>,
    /// Rotated (renamed, or found again elsewhere): read to its end before
    /// the files that are still written.
    rotated: bool,
    /// No pattern matches it any more: closed once read to its end and idle.
    absent_since: Option<Instant>,
    last_grew: Instant,
    last_read: Option<Timestamp>,
}

impl Stream {
    fn saved(&self) -> TailOffset {
        TailOffset {
            id: self.id,
            path: self.path.to_string_lossy().into_owned(),
            offset: self.offset,
            size: self.size,
        }
    }

    fn follow(&mut self, path: PathBuf, file: File, seen: Seen) {
        if path != self.path {
            self.rotated = true; // renamed, while running or stopped
        }
        self.path = path;
        self.id = seen.id;
        self.size = seen.size;
        self.file = Some(file);
        self.absent_since = None;
    }
}

/// Where a stream's content went, when not where it was.
enum Found {
    /// A file to go on reading (renamed, or a copy).
    Plain((PathBuf, File, Seen)),
    /// A compressed rotation, and its content's length.
    Compressed(PathBuf, u64),
}

pub struct Tailer {
    patterns: Vec<String>,
    interval: Duration,
    /// By [`FileId::key`].
    streams: BTreeMap<String, Stream>,
}

impl Tailer {
    /// `saved`: the offsets of the last checkpoint, by identity key.
    pub fn new(
        patterns: Vec<String>,
        interval: Duration,
        saved: BTreeMap<String, TailOffset>,
    ) -> Self {
        let now = Instant::now();
        let streams = saved
            .into_values()
            .map(|at| {
                let stream = Stream {
                    id: at.id,
                    path: PathBuf::from(at.path),
                    file: None,
                    offset: at.offset,
                    size: at.size,
                    lines: None,
                    rotated: false,
                    absent_since: None,
                    last_grew: now,
                    last_read: None,
                };
                (at.id.key(), stream)
            })
            .collect();
        Tailer {
            patterns,
            interval,
            streams,
        }
    }

    pub fn run(mut self, shared: Arc<Service>, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Acquire) {
            self.look(&shared);
            std::thread::sleep(self.interval);
        }
        // Stopping: the events still open are as complete as they will be
        // (their offset is past them), and detection takes work until the
        // tailer is joined.
        for (key, stream) in &mut self.streams {
            finish_decoding(key, stream, &shared);
        }
    }

    /// The files the patterns match now, opened, one per identity; gzip
    /// files counted and left.
    fn matches(&self, compressed: &mut usize) -> Vec<(PathBuf, File, Seen)> {
        let mut found = Vec::new();
        let mut keys = BTreeSet::new();
        for pattern in &self.patterns {
            let paths = match glob::glob(pattern) {
                Ok(paths) => paths,
                Err(e) => {
                    eprintln!("seldom serve: input.file {pattern:?}: {e}");
                    continue;
                }
            };
            // `is_file` follows symlinks: a link is followed to its target.
            for path in paths.flatten().filter(|p| p.is_file()) {
                let Ok((file, seen)) = open(&path) else {
                    continue; // gone between the listing and the open
                };
                if seen.gzip {
                    *compressed += 1;
                } else if keys.insert(seen.id.key()) {
                    found.push((path, file, seen));
                }
            }
        }
        found
    }

    /// One pass: match the files to the streams, then read.
    fn look(&mut self, shared: &Service) {
        let mut compressed = 0;
        let found = self.matches(&mut compressed);
        let mut present = BTreeSet::new();
        let mut ended = Vec::new();
        let mut unknown = Vec::new();
        for (path, file, seen) in found {
            let key = seen.id.key();
            let same = match self.streams.get(&key) {
                Some(stream) => stream.id.same_start(&seen, &file).unwrap_or(false),
                None => {
                    unknown.push((path, file, seen));
                    continue;
                }
            };
            if same && let Some(stream) = self.streams.get_mut(&key) {
                if seen.size < stream.offset {
                    // Shrank below what was read with its first bytes
                    // unchanged: truncated and rewritten alike; read again.
                    finish_decoding(&key, stream, shared);
                    stream.offset = 0;
                }
                stream.follow(path, file, seen);
                present.insert(key);
            } else if let Some(old) = self.streams.remove(&key) {
                // Rewritten in place or a reused inode: the old content ends
                // here; the new one is a new file.
                ended.push(old);
                unknown.push((path, file, seen));
            }
        }
        // Streams no pattern matches: read through their handle, or (known
        // from the store only) looked for.
        let absent: Vec<String> = self
            .streams
            .iter()
            .filter(|(key, _)| !present.contains(*key))
            .map(|(key, _)| key.clone())
            .collect();
        for key in absent {
            let Some(stream) = self.streams.get_mut(&key) else {
                continue;
            };
            if stream.file.is_some() {
                if stream.absent_since.is_none() {
                    stream.absent_since = Some(Instant::now());
                    stream.rotated = true;
                }
            } else if let Some(old) = self.streams.remove(&key) {
                ended.push(old);
            }
        }
        for old in ended {
            self.continue_elsewhere(old, &mut unknown, shared);
        }
        for (path, file, seen) in unknown {
            let key = seen.id.key();
            if self.streams.contains_key(&key) {
                continue;
            }
            // A copy of a file still followed whole (copytruncate between
            // its copy and its truncation): its lines come from the original.
            let copy = self
                .streams
                .values()
                .any(|s| s.file.is_some() && s.absent_since.is_none() && s.id.is_copy(&seen));
            if copy {
                continue;
            }
            let stream = Stream {
                id: seen.id,
                path,
                file: Some(file),
                offset: 0,
                size: seen.size,
                lines: None,
                rotated: false,
                absent_since: None,
                last_grew: Instant::now(),
                last_read: None,
            };
            self.streams.insert(key, stream);
        }
        self.read(shared);
        self.publish(shared, compressed);
    }

    /// A stream whose file is no longer where it was: its rest is read from
    /// the file that now holds its content, if any; else it vanished.
    fn continue_elsewhere(
        &mut self,
        mut old: Stream,
        unknown: &mut Vec<(PathBuf, File, Seen)>,
        shared: &Service,
    ) {
        let old_key = old.id.key();
        let among = unknown.iter().position(|(_, _, seen)| old.id.is_copy(seen));
        let matched = among.is_some();
        let found = match among {
            Some(i) => Some(Found::Plain(unknown.swap_remove(i))),
            None => self.find_in_folder(&old),
        };
        match found {
            Some(Found::Plain((path, file, seen))) => {
                let key = seen.id.key();
                eprintln!(
                    "seldom serve: {} continues in {} at byte {}",
                    old.path.display(),
                    path.display(),
                    old.offset
                );
                old.follow(path, file, seen);
                old.rotated = true;
                // Found outside the patterns: closed once read to its end.
                old.absent_since = (!matched).then(Instant::now);
                self.forget(&old_key, shared);
                // Saved under its new key at once: should it be at its end
                // already, a restart must still know it was read.
                send(&key, &old, Vec::new(), shared);
                self.streams.insert(key, old);
            }
            found => {
                finish_decoding(&old_key, &mut old, shared);
                // Gone; or compressed, its rest never to be read: its length
                // then says exactly how much.
                let size = match found {
                    Some(Found::Compressed(path, length)) => {
                        eprintln!(
                            "seldom serve: {} was compressed to {} before it was read to its end",
                            old.path.display(),
                            path.display()
                        );
                        length
                    }
                    _ => old.size,
                };
                let unread = size.saturating_sub(old.offset);
                if unread > 0 {
                    shared.update_tail(|tail| {
                        eprintln!(
                            "seldom serve: {} vanished with {unread} bytes never read",
                            old.path.display()
                        );
                        tail.vanished_files += 1;
                        tail.vanished_unread_bytes += unread;
                        tail.vanished.push(Vanished {
                            identity: old.id.display(),
                            path: old.path.to_string_lossy().into_owned(),
                            offset: old.offset,
                            unread_bytes: unread,
                            at: Timestamp::now(),
                        });
                        let excess = tail.vanished.len().saturating_sub(VANISHED_SHOWN);
                        tail.vanished.drain(..excess);
                    });
                }
                self.forget(&old_key, shared);
            }
        }
    }

    /// The file that holds a stream's content in its folder: the same inode
    /// and first bytes (renamed), or the same full fingerprint (copied);
    /// only names that start with the stream's (`x.log.1`, `x.log-2026...`),
    /// as rotation names them.
    fn find_in_folder(&self, old: &Stream) -> Option<Found> {
        let folder = old.path.parent().filter(|p| !p.as_os_str().is_empty());
        let folder = folder.unwrap_or(Path::new("."));
        let name = old.path.file_name()?.to_string_lossy().into_owned();
        let mut compressed = Vec::new();
        for entry in std::fs::read_dir(folder).ok()?.flatten() {
            let path = entry.path();
            let candidate = entry.file_name().to_string_lossy().into_owned();
            if !candidate.starts_with(&name) || !path.is_file() {
                continue;
            }
            let Ok((file, seen)) = open(&path) else {
                continue;
            };
            if seen.gzip {
                compressed.push((path, file));
                continue;
            }
            if self.streams.contains_key(&seen.id.key()) {
                continue;
            }
            let renamed = old.id.same_inode(&seen.id)
                && old.id.same_start(&seen, &file).unwrap_or(false)
                && seen.size >= old.offset;
            let copied = old.id.is_copy(&seen) && seen.size >= old.offset;
            if renamed || copied {
                return Some(Found::Plain((path, file, seen)));
            }
        }
        compressed.into_iter().find_map(|(path, file)| {
            let length = compressed_length(&old.id, file).ok()??;
            Some(Found::Compressed(path, length))
        })
    }

    /// Tells detection to keep no offset for this key any more (through the
    /// same queue as the lines, so after them).
    fn forget(&self, key: &str, shared: &Service) {
        // Unsent (the detection thread has stopped), the slot is given back.
        shared.send(Work::TailDone {
            key: key.to_owned(),
            slot: shared.tail_slot(),
        });
    }

    /// Reads the rotated streams to their end first (a file before its
    /// successor), then one read's worth of each other stream, the least
    /// recently written first: files rotated before the tailer ever saw
    /// them (while it was down) come before the file that replaced them,
    /// whatever their names.
    fn read(&mut self, shared: &Service) {
        let mut order: Vec<(bool, Option<SystemTime>, PathBuf, String)> = self
            .streams
            .iter()
            .map(|(key, s)| {
                let written = s.file.as_ref().and_then(|f| f.metadata().ok());
                let written = written.and_then(|m| m.modified().ok());
                (!s.rotated, written, s.path.clone(), key.clone())
            })
            .collect();
        order.sort();
        let mut closed = Vec::new();
        for (still_written, _, _, key) in order {
            let Some(stream) = self.streams.get_mut(&key) else {
                continue;
            };
            loop {
                if shared.queue_full() {
                    return; // detection is behind: the files wait, nothing is lost
                }
                match read_lines(&key, stream, shared) {
                    Ok(true) if !still_written => continue,
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("seldom serve: following {}: {e}", stream.path.display());
                        stream.file = None; // looked for again at the next look
                    }
                }
                break;
            }
            let idle = stream.last_grew.elapsed() >= ROTATED_GRACE;
            if stream.absent_since.is_some() && stream.offset >= stream.size && idle {
                closed.push(key);
            }
        }
        for key in closed {
            // Read to its end and no longer matched: done with.
            if let Some(mut stream) = self.streams.remove(&key) {
                finish_decoding(&key, &mut stream, shared);
            }
            self.forget(&key, shared);
        }
    }

    fn publish(&self, shared: &Service, compressed: usize) {
        let files = self
            .streams
            .values()
            .map(|s| FileStatus {
                identity: s.id.display(),
                path: s.path.to_string_lossy().into_owned(),
                offset: s.offset,
                size: s.size,
                lag_bytes: s.size.saturating_sub(s.offset),
                last_read: s.last_read,
                rotated: s.rotated,
            })
            .collect();
        shared.update_tail(|tail| {
            tail.files = files;
            tail.compressed_skipped = compressed;
        });
    }
}

fn open(path: &Path) -> std::io::Result<(File, Seen)> {
    let file = File::open(path)?;
    let seen = look(&file)?;
    Ok((file, seen))
}

/// Reads after the offset (one read's worth) and hands the events of its
/// whole lines on; returns whether the offset moved. Once the file has
/// paused, the events its decoder held open are handed on too.
fn read_lines(key: &str, stream: &mut Stream, shared: &Service) -> std::io::Result<bool> {
    let Some(file) = stream.file.as_mut() else {
        return Ok(false);
    };
    let size = file.metadata()?.len();
    if size != stream.size {
        stream.last_grew = Instant::now();
        stream.size = size;
    }
    let lines = match &mut stream.lines {
        Some(lines) => lines,
        None => {
            let lines =
                StreamDecoder::new(&stream.path, stream.offset, file, shared.host_naming())?;
            stream.lines.insert(lines)
        }
    };
    let mut buf = Vec::new();
    file.seek(SeekFrom::Start(stream.offset))?;
    file.take(READ_PER_LOOK).read_to_end(&mut buf)?;
    let mut batch = Batch::default();
    let done = lines.read(&buf, &mut batch);
    if done == 0 && stream.last_grew.elapsed() >= PAUSE_ENDS_EVENTS {
        lines.flush(&mut batch);
    }
    if done == 0 && batch.is_empty() {
        return Ok(false); // no whole line yet
    }
    shared.metrics().count(&batch.stats);
    stream.offset += done;
    if done > 0 {
        stream.last_read = Some(Timestamp::now());
    }
    send(key, stream, batch.events, shared);
    Ok(done > 0)
}

/// The stream's content ended here (closed, cut short, gone, or the tailer
/// stops): the events its decoder still holds are complete, and handed on.
/// Its next content, if any, starts a decoder of its own.
fn finish_decoding(key: &str, stream: &mut Stream, shared: &Service) {
    let Some(mut lines) = stream.lines.take() else {
        return;
    };
    let mut batch = Batch::default();
    lines.flush(&mut batch);
    if batch.is_empty() {
        return;
    }
    shared.metrics().count(&batch.stats);
    send(key, stream, batch.events, shared);
}

/// Hands lines (or only the stream's position) to the detection thread.
fn send(key: &str, stream: &Stream, events: Vec<seldom_model::Event>, shared: &Service) {
    // Unsent (the detection thread has stopped), the slot is given back.
    shared.send(Work::Tail {
        key: key.to_owned(),
        offset: stream.saved(),
        events,
        slot: shared.tail_slot(),
    });
}
