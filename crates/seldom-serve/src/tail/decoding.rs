//! A followed file's lines: the framing and decoding state that lives as
//! long as its stream, so that a file read a little at a time decodes as
//! `scan` decodes it whole. seldom-ingest's [`LineFramer`] cuts each read
//! into lines with the bound `scan` uses, and one [`TextDecoder`] per
//! stream keeps what later lines need: the layout, a Zeek log's `#fields`
//! header, the audit events whose records are still arriving.
//!
//! A read's whole lines are decoded and done with. An unfinished line is
//! left to be read again, whole, once its end is written, so that the
//! offset a checkpoint keeps always falls between lines; a line longer than
//! the bound is counted once, as `scan` counts it, and dropped as it
//! arrives, so that it cannot stall the file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use seldom_ingest::{IngestOptions, IngestStats, Line, LineFramer, NormalizeOptions, TextDecoder};
use seldom_model::{Event, HostNaming};

/// The longest line taken: `scan`'s bound (`IngestOptions`' default).
pub(super) const MAX_LINE_BYTES: usize = 4 << 20;

/// How much of a file's head is read again for what lines after a resume
/// point need. A Zeek header is well under a kilobyte.
const HEAD_BYTES: u64 = 64 << 10;

/// One stream's framer and decoder, and the line being framed.
pub(super) struct StreamDecoder {
    framer: LineFramer,
    decoder: TextDecoder,
    line: Vec<u8>,
}

/// What a read (or a flush) gave.
#[derive(Default)]
pub(super) struct Batch {
    pub events: Vec<Event>,
    pub stats: IngestStats,
}

impl Batch {
    /// Nothing to hand on or to count.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.stats.records_read == 0
            && self.stats.skipped.is_empty()
            && self.stats.ignored.is_empty()
    }
}

impl StreamDecoder {
    /// The decoder of `path`'s lines from `offset` on. Events are located
    /// as lines counted from there (`path:line`, or `path@offset:line`
    /// past the start). Resuming in the
    /// middle of a file (after a restart), it first learns from the file's
    /// head what the lines after need: a Zeek header.
    pub fn new(
        path: &Path,
        offset: u64,
        file: &mut File,
        host_naming: HostNaming,
    ) -> std::io::Result<Self> {
        let options = IngestOptions {
            normalize: NormalizeOptions {
                host_naming,
                ..NormalizeOptions::default()
            },
            max_line_bytes: MAX_LINE_BYTES,
            decode_threads: 1,
            ..IngestOptions::default()
        };
        let name = path.display().to_string();
        // Lines are counted from where the decoder starts: a file followed
        // from its start is located as `scan` locates it.
        let source = if offset == 0 {
            Arc::from(name.as_str())
        } else {
            Arc::from(format!("{name}@{offset}"))
        };
        let mut lines = StreamDecoder {
            framer: LineFramer::new(MAX_LINE_BYTES),
            decoder: TextDecoder::new(&name, source, &options),
            line: Vec::new(),
        };
        if offset > 0 {
            lines.learn_head(file, offset)?;
        }
        Ok(lines)
    }

    /// Feeds the decoder the file's first lines (before `offset`) for as
    /// long as they are a header.
    fn learn_head(&mut self, file: &mut File, offset: u64) -> std::io::Result<()> {
        let mut head = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.take(offset.min(HEAD_BYTES)).read_to_end(&mut head)?;
        let mut framer = LineFramer::new(MAX_LINE_BYTES);
        let mut line = Vec::new();
        let mut at = 0;
        while at < head.len() {
            let (taken, ended) = framer.push(&head[at..], &mut line);
            at += taken;
            match ended {
                Some(Line::Complete) if self.decoder.learn_from_head(&line) => {}
                _ => break,
            }
        }
        Ok(())
    }

    /// Frames and decodes `bytes`, read at the stream's offset; returns how
    /// many of them are done with: whole lines, and what was dropped of a
    /// line too long. An unfinished line within the bound is left, and read
    /// again from its start next time.
    pub fn read(&mut self, bytes: &[u8], out: &mut Batch) -> u64 {
        let mut at = 0;
        let mut done = 0;
        while at < bytes.len() {
            let (taken, ended) = self.framer.push(&bytes[at..], &mut self.line);
            at += taken;
            match ended {
                Some(Line::Complete) => {
                    self.decoder
                        .line(&self.line, &mut out.stats, &mut |e| out.events.push(e));
                }
                Some(Line::TooLong { length }) => self.decoder.too_long(length, &mut out.stats),
                Some(Line::Eof) | None => continue,
            }
            done = at;
        }
        if at > done {
            if self.framer.in_long_line() {
                done = at; // dropped for good; its end is all that is left to find
            } else {
                self.framer.restart_line();
            }
        }
        done as u64
    }

    /// Closes the events the decoder holds open.
    pub fn flush(&mut self, out: &mut Batch) {
        self.decoder
            .flush(&mut out.stats, &mut |e| out.events.push(e));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn decoder(offset: u64, file: &mut File) -> StreamDecoder {
        StreamDecoder::new(Path::new("conn.log"), offset, file, HostNaming::default()).unwrap()
    }

    /// An unfinished line is not done with, and is decoded once its end
    /// arrives in a later read that starts where it does.
    #[test]
    fn an_unfinished_line_is_read_again_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("x")).unwrap();
        let mut lines = decoder(0, &mut file);
        let header = b"#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n";
        let row = b"1692161622.5\t10.0.0.5\t50000\t198.51.100.7\t443\ttcp\tSF\n";
        let mut first = header.to_vec();
        first.extend_from_slice(&row[..20]);
        let mut out = Batch::default();
        assert_eq!(lines.read(&first, &mut out), header.len() as u64);
        assert!(out.events.is_empty());
        assert_eq!(lines.read(row, &mut out), row.len() as u64);
        assert_eq!(out.events.len(), 1, "{:?}", out.stats);
        assert_eq!(out.events[0].origin.to_string(), "conn.log:3");
    }

    /// A line longer than the bound is consumed as it arrives and counted
    /// once, at its end; the line after it survives.
    #[test]
    fn a_long_line_is_dropped_across_reads_and_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("x")).unwrap();
        let mut lines = decoder(0, &mut file);
        let mut out = Batch::default();
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let (a, b) = long.split_at(MAX_LINE_BYTES - 5);
        assert_eq!(lines.read(a, &mut out), 0, "within the bound so far");
        let mut rest = a.to_vec();
        rest.extend_from_slice(b);
        assert_eq!(
            lines.read(&rest, &mut out),
            rest.len() as u64,
            "past it: dropped"
        );
        assert!(out.stats.skipped.is_empty(), "counted at its end");
        assert_eq!(lines.read(b"tail\n{\"a\":1}\n", &mut out), 13);
        assert_eq!(out.stats.skipped["line_too_long"].count, 1);
        assert_eq!(
            out.stats.skipped["line_too_long"].examples[0].detail,
            format!("{} bytes, more than {MAX_LINE_BYTES}", MAX_LINE_BYTES + 14)
        );
    }

    /// Resumed after its header (a restart), a Zeek log's rows decode with
    /// the header learned from the file's head.
    #[test]
    fn a_resumed_stream_learns_the_header_from_the_head() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conn.log");
        let header = "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n";
        let row = "1692161622.5\t10.0.0.5\t50000\t198.51.100.7\t443\ttcp\tSF\n";
        let mut file = File::create(&path).unwrap();
        write!(file, "{header}{row}{row}").unwrap();
        let mut file = File::open(&path).unwrap();
        let offset = (header.len() + row.len()) as u64;
        let mut lines = decoder(offset, &mut file);
        let mut out = Batch::default();
        assert_eq!(lines.read(row.as_bytes(), &mut out), row.len() as u64);
        assert_eq!(out.events.len(), 1, "{:?}", out.stats);
        assert_eq!(
            out.events[0].origin.to_string(),
            format!("conn.log@{offset}:1")
        );
    }
}
