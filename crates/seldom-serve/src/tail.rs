//! Files followed as they grow (`[[input.file]]`, paths or globs), like
//! `tail -F`: across rotation (a new inode under the path: the old file is
//! read to its end first, through the handle still open) and truncation (the
//! file shrank: read again from the start). Only whole lines are taken; the
//! offset after the last one goes to the detection thread with the events and
//! is committed with the checkpoint that covers them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::pipeline::{Shared, Work, decode_bytes};
use crate::store::TailOffset;

/// At most this much of one file is read per look, so that one busy file
/// cannot hold the others back.
const READ_PER_LOOK: u64 = 4 << 20;

struct Followed {
    file: File,
    inode: u64,
    offset: u64,
    /// Inside a line longer than a whole read: its bytes are dropped up to
    /// its end, so that one such line cannot stall the file.
    skipping: bool,
}

pub struct Tailer {
    patterns: Vec<String>,
    interval: Duration,
    saved: BTreeMap<String, TailOffset>,
    open: BTreeMap<String, Followed>,
}

impl Tailer {
    pub fn new(
        patterns: Vec<String>,
        interval: Duration,
        saved: BTreeMap<String, TailOffset>,
    ) -> Self {
        Tailer {
            patterns,
            interval,
            saved,
            open: BTreeMap::new(),
        }
    }

    pub fn run(mut self, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Acquire) {
            self.look(&shared);
            std::thread::sleep(self.interval);
        }
    }

    /// One pass over every matching file.
    fn look(&mut self, shared: &Shared) {
        let mut paths = Vec::new();
        for pattern in &self.patterns {
            match glob::glob(pattern) {
                Ok(found) => paths.extend(found.flatten().filter(|p| p.is_file())),
                Err(e) => eprintln!("seldom serve: input.file {pattern:?}: {e}"),
            }
        }
        for path in paths {
            if shared.queued.load(Ordering::Acquire) >= shared.queue_capacity {
                return; // detection is behind: the files wait, nothing is lost
            }
            let name = path.to_string_lossy().into_owned();
            if let Err(e) = self.follow(&name, shared) {
                eprintln!("seldom serve: following {name}: {e}");
                self.open.remove(&name);
            }
        }
    }

    fn follow(&mut self, name: &str, shared: &Shared) -> std::io::Result<()> {
        let meta = std::fs::metadata(name)?;
        if !self.open.contains_key(name) {
            let file = File::open(name)?;
            let inode = file.metadata()?.ino();
            // Resume where the last checkpoint left off, if it is the same file.
            let offset = match self.saved.get(name) {
                Some(saved) if saved.inode == inode && saved.offset <= meta.len() => saved.offset,
                _ => 0,
            };
            self.open.insert(
                name.to_owned(),
                Followed {
                    file,
                    inode,
                    offset,
                    skipping: false,
                },
            );
        }
        let Some(followed) = self.open.get_mut(name) else {
            return Ok(());
        };
        if meta.ino() == followed.inode && meta.len() < followed.offset {
            followed.offset = 0; // truncated in place
        }
        if meta.ino() != followed.inode {
            // Rotated: the old file is read to its end through the handle
            // still open, however far behind it was; the new one starts at
            // its beginning.
            while read_lines(name, followed, shared)? {}
            let file = File::open(name)?;
            let inode = file.metadata()?.ino();
            *followed = Followed {
                file,
                inode,
                offset: 0,
                skipping: false,
            };
        }
        read_lines(name, followed, shared)?;
        // Where to resume should this file be reopened (after an error).
        self.saved.insert(
            name.to_owned(),
            TailOffset {
                inode: followed.inode,
                offset: followed.offset,
            },
        );
        Ok(())
    }
}

/// Reads whole lines after the offset (one read's worth) and hands them on;
/// returns whether the offset moved.
fn read_lines(name: &str, followed: &mut Followed, shared: &Shared) -> std::io::Result<bool> {
    let mut buf = Vec::new();
    followed.file.seek(SeekFrom::Start(followed.offset))?;
    (&mut followed.file)
        .take(READ_PER_LOOK)
        .read_to_end(&mut buf)?;
    let mut from = 0;
    if followed.skipping {
        match buf.iter().position(|b| *b == b'\n') {
            Some(end) => {
                followed.skipping = false;
                from = end + 1;
            }
            None => {
                followed.offset += buf.len() as u64;
                return Ok(!buf.is_empty());
            }
        }
    }
    let Some(end) = memchr_last_newline(&buf[from..]).map(|e| from + e) else {
        if (buf.len() - from) as u64 == READ_PER_LOOK {
            // A line longer than a whole read: counted, dropped to its end.
            followed.skipping = true;
            followed.offset += buf.len() as u64;
            if let Ok(mut skipped) = shared.metrics.skipped.lock() {
                *skipped.entry("line_too_long").or_default() += 1;
            }
            return Ok(true);
        }
        followed.offset += from as u64;
        return Ok(from > 0); // no whole line yet
    };
    followed.offset += from as u64;
    let buf = &buf[from..];
    let end = end - from;
    let start = followed.offset;
    let (events, stats) =
        decode_bytes(&buf[..=end], &format!("{name}@{start}"), shared.host_naming);
    shared.metrics.count(&stats);
    followed.offset = start + end as u64 + 1;
    shared
        .queued
        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    let sent = shared.send(Work::Tail {
        path: name.to_owned(),
        offset: TailOffset {
            inode: followed.inode,
            offset: followed.offset,
        },
        events,
    });
    if !sent {
        shared
            .queued
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
    Ok(true)
}

fn memchr_last_newline(buf: &[u8]) -> Option<usize> {
    buf.iter().rposition(|b| *b == b'\n')
}
