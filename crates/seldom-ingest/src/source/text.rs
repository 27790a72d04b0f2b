//! Text inputs: JSON lines, one `<Event>` XML document per line, Zeek TSV,
//! or Linux audit records, read line by line with bounded lines
//! ([`crate::lines`]) and decoded by one [`TextDecoder`], whose first
//! non-blank line decides the layout; JSON lines are decoded on every core.

use std::io::{self, BufRead};
use std::sync::Arc;

use seldom_model::{Event, Location};

use super::Ingestor;
use crate::limits::is_too_large;
use crate::lines::{Line, LineFramer, read_line_bounded};
use crate::parallel::{Chunk, LineSource, decode_json_lines};
use crate::stats::{Malformed, SkipReason};
use crate::text_stream::TextDecoder;

impl Ingestor {
    /// Text: JSON lines, one `<Event>` XML document per line, Zeek TSV, or
    /// Linux audit records. The first non-blank line decides; a text file of
    /// any other kind is counted once as unsupported rather than once per line.
    pub(super) fn read_text(
        &mut self,
        mut reader: impl BufRead,
        name: &Arc<str>,
        sink: &mut dyn FnMut(Event),
    ) {
        let mut buf = Vec::with_capacity(64 << 10);
        let mut decoder = TextDecoder::new(name, name.clone(), &self.options);
        loop {
            let line = match read_line_bounded(&mut reader, &mut buf, self.options.max_line_bytes) {
                Ok(line) => line,
                Err(e) => {
                    let location = Location::at_line(name.clone(), decoder.lines() + 1);
                    self.stats.skip(read_failure(&e), &location);
                    return;
                }
            };
            match line {
                Line::Eof => {
                    decoder.flush(&mut self.stats, sink);
                    return;
                }
                Line::TooLong { length } => {
                    decoder.too_long(length, &mut self.stats);
                    continue;
                }
                Line::Complete => {}
            }
            if self.options.decode_threads > 1
                && let Some(text) = decoder.json_start(&buf)
            {
                let line_no = decoder.lines() + 1;
                let first = Some(text.as_bytes().to_vec());
                let mut lines = BoundedLines {
                    reader,
                    first,
                    buf,
                    framer: LineFramer::new(self.options.max_line_bytes),
                    line_no,
                    max: self.options.max_line_bytes,
                };
                let failure = decode_json_lines(
                    self.options.decode_threads,
                    self.options.normalize,
                    name,
                    &mut lines,
                    &mut self.spare_chunks,
                    &mut self.stats,
                    sink,
                );
                if let Some(e) = failure {
                    let location = Location::at_line(name.clone(), lines.line_no + 1);
                    self.stats.skip(read_failure(&e), &location);
                }
                return;
            }
            decoder.line(&buf, &mut self.stats, sink);
            if decoder.unsupported() {
                return;
            }
        }
    }
}

/// A read that failed part way: past an inflation guard's bound, or I/O.
fn read_failure(e: &io::Error) -> Malformed {
    let reason = if is_too_large(e) {
        SkipReason::TooLarge
    } else {
        SkipReason::Io
    };
    Malformed::new(reason, e.to_string())
}

/// The rest of a text input, line by line, for the parallel JSON decoder.
///
/// Whole lines within the bound go from the reader's buffer straight into
/// the chunk, found with one `memchr` pass; only a line cut by the end of the
/// buffer, or too long, goes through the [`LineFramer`], as every other text
/// does. Copying each line once more through a line buffer cost the reading
/// thread a third of its time, and it feeds every decoding thread.
struct BoundedLines<R> {
    reader: R,
    /// The line that showed the input is JSON, read before the others and
    /// handed on first (line `line_no`).
    first: Option<Vec<u8>>,
    buf: Vec<u8>,
    framer: LineFramer,
    line_no: u64,
    max: usize,
}

impl<R: BufRead> BoundedLines<R> {
    fn push(&mut self, line: Line, chunk: &mut Chunk) {
        self.line_no += 1;
        match line {
            Line::TooLong { length } => chunk.push_too_long(
                format!("{length} bytes, more than {}", self.max),
                self.line_no,
            ),
            Line::Complete => chunk.push_line(&self.buf, self.line_no),
            Line::Eof => self.line_no -= 1,
        }
    }
}

impl<R: BufRead> LineSource for BoundedLines<R> {
    fn next_into(&mut self, chunk: &mut Chunk) -> io::Result<bool> {
        if let Some(first) = self.first.take() {
            chunk.push_line(&first, self.line_no);
            return Ok(true);
        }
        let available = loop {
            match self.reader.fill_buf() {
                Ok(available) => break available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if available.is_empty() {
            let last = self.framer.finish();
            let more = last != Line::Eof;
            self.push(last, chunk);
            return Ok(more);
        }
        let mut taken = 0;
        if self.framer.at_line_start() {
            for newline in memchr::memchr_iter(b'\n', available) {
                let line = &available[taken..newline];
                if line.len() > self.max {
                    break;
                }
                self.line_no += 1;
                chunk.push_line(line, self.line_no);
                taken = newline + 1;
                if chunk.is_full() {
                    self.reader.consume(taken);
                    return Ok(true);
                }
            }
        }
        let (framed, ended) = self.framer.push(&available[taken..], &mut self.buf);
        self.reader.consume(taken + framed);
        if let Some(line) = ended {
            self.push(line, chunk);
        }
        Ok(true)
    }
}
