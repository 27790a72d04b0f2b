//! Text inputs: JSON lines, one `<Event>` XML document per line, Zeek TSV,
//! or Linux audit records, read line by line with bounded lines. The first
//! non-blank line decides the mode; JSON lines are decoded on every core.

use std::io::{self, BufRead};
use std::sync::Arc;

use seldom_model::{Event, Location, SourceFormat};

use super::Ingestor;
use crate::audit::{AuditAssembler, parse_record};
use crate::decode::{JsonDecoder, decode_xml};
use crate::limits::{Line, is_too_large, read_line_bounded};
use crate::normalize::Decoded;
use crate::parallel::{Chunk, LineSource, decode_json_lines};
use crate::stats::{IgnoreReason, Malformed, SkipReason};
use crate::zeek::ZeekTsv;

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
        let mut line_no: u64 = 0;
        let mut mode: Option<TextMode> = None;
        let mut json = JsonDecoder::new(self.options.normalize);
        let mut zeek = ZeekTsv::new();
        let mut audit = AuditAssembler::new(&self.audit_host(name), SourceFormat::Audit);
        loop {
            let line = match read_line_bounded(&mut reader, &mut buf, self.options.max_line_bytes) {
                Ok(line) => line,
                Err(e) => {
                    let location = Location::at_line(name.clone(), line_no + 1);
                    self.stats.skip(read_failure(&e), &location);
                    return;
                }
            };
            line_no += 1;
            let location = || Location::at_line(name.clone(), line_no);
            match line {
                Line::Eof => {
                    if matches!(mode, Some(TextMode::Audit)) {
                        for decoded in audit.flush() {
                            self.take(decoded, &Location::file(name.clone()), sink);
                        }
                    }
                    return;
                }
                Line::TooLong { length } => {
                    self.stats.records_read += 1;
                    let detail =
                        format!("{length} bytes, more than {}", self.options.max_line_bytes);
                    self.stats
                        .skip(Malformed::new(SkipReason::LineTooLong, detail), &location());
                    continue;
                }
                Line::Complete => {}
            }
            let bytes = if line_no == 1 {
                strip_bom(&buf)
            } else {
                &buf[..]
            };
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text.trim(),
                Err(e) => {
                    self.stats.records_read += 1;
                    self.stats.skip(
                        Malformed::new(SkipReason::NotUtf8, e.to_string()),
                        &location(),
                    );
                    continue;
                }
            };
            if text.is_empty() {
                continue;
            }
            let mode = *mode.get_or_insert_with(|| TextMode::of(text));
            if mode == TextMode::Json && self.options.decode_threads > 1 {
                let mut first = Chunk::default();
                first.push_line(text.as_bytes(), line_no);
                let mut lines = BoundedLines {
                    reader,
                    buf,
                    line_no,
                    max: self.options.max_line_bytes,
                };
                let failure = decode_json_lines(
                    self.options.decode_threads,
                    self.options.normalize,
                    name,
                    first,
                    &mut lines,
                    &mut self.stats,
                    sink,
                );
                if let Some(e) = failure {
                    let location = Location::at_line(name.clone(), lines.line_no + 1);
                    self.stats.skip(read_failure(&e), &location);
                }
                return;
            }
            if mode == TextMode::Zeek && zeek.header(text) {
                continue;
            }
            if mode == TextMode::Unsupported {
                self.stats.ignore(IgnoreReason::UnsupportedText);
                return;
            }
            self.stats.records_read += 1;
            let decoded = match mode {
                TextMode::Json => json.decode(text, location()),
                TextMode::Xml => decode_xml(
                    text,
                    SourceFormat::EventXml,
                    location(),
                    &self.options.normalize,
                ),
                TextMode::Zeek => zeek.row(text, location()),
                TextMode::Audit | TextMode::Unsupported => {
                    match parse_record(text) {
                        Ok(record) => {
                            for decoded in audit.push(record, location()) {
                                self.take(decoded, &location(), sink);
                            }
                        }
                        Err(malformed) => self.stats.skip(malformed, &location()),
                    }
                    continue;
                }
            };
            self.take(decoded, &location(), sink);
        }
    }

    /// Counts one decoding outcome and hands an event to the sink.
    fn take(
        &mut self,
        decoded: Result<Decoded, Malformed>,
        location: &Location,
        sink: &mut dyn FnMut(Event),
    ) {
        match decoded {
            Ok(Decoded::Event(event)) => {
                self.stats.count_event(&event);
                sink(*event);
            }
            Ok(Decoded::Ignored(reason)) => self.stats.ignore(reason),
            Err(malformed) => self.stats.skip(malformed, location),
        }
    }

    /// The host of raw audit records that carry no `node=`: the configured
    /// name, else the file's name without its extensions.
    fn audit_host(&self, name: &str) -> String {
        if let Some(host) = &self.options.audit_host {
            return host.clone();
        }
        let base = name.rsplit(['/', '\\', '!']).next().unwrap_or(name);
        base.split('.')
            .next()
            .filter(|b| !b.is_empty())
            .unwrap_or("unknown")
            .to_owned()
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
struct BoundedLines<R> {
    reader: R,
    buf: Vec<u8>,
    line_no: u64,
    max: usize,
}

impl<R: BufRead> LineSource for BoundedLines<R> {
    fn next_into(&mut self, chunk: &mut Chunk) -> io::Result<bool> {
        match read_line_bounded(&mut self.reader, &mut self.buf, self.max)? {
            Line::Eof => Ok(false),
            Line::TooLong { length } => {
                self.line_no += 1;
                chunk.push_too_long(
                    format!("{length} bytes, more than {}", self.max),
                    self.line_no,
                );
                Ok(true)
            }
            Line::Complete => {
                self.line_no += 1;
                chunk.push_line(&self.buf, self.line_no);
                Ok(true)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextMode {
    Json,
    Xml,
    Zeek,
    Audit,
    Unsupported,
}

impl TextMode {
    fn of(first_line: &str) -> TextMode {
        if first_line.starts_with('{') {
            TextMode::Json
        } else if first_line.starts_with("<Event") {
            TextMode::Xml
        } else if first_line.starts_with("#separator") || first_line.starts_with("#fields") {
            TextMode::Zeek
        } else if first_line.starts_with("type=") || first_line.starts_with("node=") {
            TextMode::Audit
        } else {
            TextMode::Unsupported
        }
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}
