//! One text stream's lines in, events out, with the stream's state kept from
//! line to line however the lines arrive: the layout its first line decided
//! (JSON lines, `<Event>` XML, Zeek TSV, Linux audit), a Zeek log's header,
//! the audit events whose records are still arriving, the local-time offset
//! JSON records taught. `scan` feeds one a file's lines in one go
//! (`source::text`); `seldom serve` keeps one per followed file and feeds it
//! the lines of each read, so that a row read after its header, or a record
//! read after the first records of its event, decodes as it would in a file.

use std::sync::Arc;

use seldom_model::{Event, Location, SourceFormat};

use crate::audit::{AuditAssembler, parse_record};
use crate::decode::{JsonDecoder, decode_xml};
use crate::normalize::{Decoded, NormalizeOptions};
use crate::options::IngestOptions;
use crate::stats::{IgnoreReason, IngestStats, Malformed, SkipReason};
use crate::zeek::ZeekTsv;

/// The decoding state of one text stream (see the module's paragraph).
#[derive(Debug)]
pub struct TextDecoder {
    source: Arc<str>,
    normalize: NormalizeOptions,
    /// Only for the message of a line too long.
    max_line_bytes: usize,
    /// Lines handed in so far (too long ones included).
    line_no: u64,
    /// Decided by the first non-blank line.
    mode: Option<TextMode>,
    json: JsonDecoder,
    zeek: ZeekTsv,
    audit: AuditAssembler,
}

impl TextDecoder {
    /// A decoder of the lines of `file`, whose events are located as lines
    /// of `source` (the file's name, or the place where a reader of its
    /// rest began). Raw audit records that name no host (`node=`) get
    /// `options.audit_host`, else `file`'s name without its extensions.
    pub fn new(file: &str, source: Arc<str>, options: &IngestOptions) -> Self {
        let host = options
            .audit_host
            .clone()
            .unwrap_or_else(|| host_of_file(file));
        TextDecoder {
            source,
            normalize: options.normalize,
            max_line_bytes: options.max_line_bytes,
            line_no: 0,
            mode: None,
            json: JsonDecoder::new(options.normalize),
            zeek: ZeekTsv::new(),
            audit: AuditAssembler::new(&host, SourceFormat::Audit),
        }
    }

    /// Lines handed in so far.
    pub fn lines(&self) -> u64 {
        self.line_no
    }

    /// Whether the stream turned out to be text of a kind seldom does not
    /// read: it was counted once as `unsupported_text`, and its other lines
    /// are dropped.
    pub fn unsupported(&self) -> bool {
        self.mode == Some(TextMode::Unsupported)
    }

    /// A line longer than the bound (dropped by the framer): a record
    /// skipped as `line_too_long`.
    pub fn too_long(&mut self, length: u64, stats: &mut IngestStats) {
        self.line_no += 1;
        if self.unsupported() {
            return;
        }
        stats.records_read += 1;
        let detail = format!("{length} bytes, more than {}", self.max_line_bytes);
        stats.skip(
            Malformed::new(SkipReason::LineTooLong, detail),
            &self.location(),
        );
    }

    /// Decodes one line (without its `\n`); events go to `sink`, as the
    /// records that complete them arrive.
    pub fn line(&mut self, bytes: &[u8], stats: &mut IngestStats, sink: &mut dyn FnMut(Event)) {
        self.line_no += 1;
        if self.unsupported() {
            return;
        }
        let text = match crate::utf8::text(without_bom(bytes, self.line_no == 1)) {
            Ok(text) => text.trim(),
            Err(e) => {
                stats.records_read += 1;
                let malformed = Malformed::new(SkipReason::NotUtf8, e.to_string());
                stats.skip(malformed, &self.location());
                return;
            }
        };
        if text.is_empty() {
            return;
        }
        let mode = match self.mode {
            Some(mode) => mode,
            None => {
                let mode = TextMode::of(text);
                self.mode = Some(mode);
                if mode == TextMode::Unsupported {
                    stats.ignore(IgnoreReason::UnsupportedText);
                }
                mode
            }
        };
        if mode == TextMode::Zeek && self.zeek.header(text) {
            return;
        }
        if mode == TextMode::Unsupported {
            return; // counted once, above
        }
        stats.records_read += 1;
        let location = self.location();
        let decoded = match mode {
            TextMode::Json => self.json.decode(text, location.clone()),
            TextMode::Xml => decode_xml(
                text,
                SourceFormat::EventXml,
                location.clone(),
                &self.normalize,
            ),
            TextMode::Zeek => self.zeek.row(text, location.clone()),
            TextMode::Audit | TextMode::Unsupported => {
                match parse_record(text) {
                    Ok(record) => {
                        for decoded in self.audit.push(record, location.clone()) {
                            take(decoded, &location, stats, sink);
                        }
                    }
                    Err(malformed) => stats.skip(malformed, &location),
                }
                return;
            }
        };
        take(decoded, &location, stats, sink);
    }

    /// Closes the audit events still waiting for records: at the end of the
    /// input, or when a followed file has paused long enough that no more of
    /// them are coming. The layout and a Zeek header are kept.
    pub fn flush(&mut self, stats: &mut IngestStats, sink: &mut dyn FnMut(Event)) {
        if self.mode != Some(TextMode::Audit) {
            return;
        }
        let location = Location::file(self.source.clone());
        for decoded in self.audit.flush() {
            take(decoded, &location, stats, sink);
        }
    }

    /// Learns from a line before the point where this decoder starts (a
    /// followed file resumed in its middle) what the lines after it need:
    /// a Zeek header is the only such thing. Returns whether the line was
    /// part of a header, so that the next one may be too.
    pub fn learn_from_head(&mut self, bytes: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(strip_bom(bytes)) else {
            return false;
        };
        let text = text.trim();
        if self.mode.is_none() && text.starts_with('#') && TextMode::of(text) == TextMode::Zeek {
            self.mode = Some(TextMode::Zeek);
        }
        self.mode == Some(TextMode::Zeek) && self.zeek.header(text)
    }

    /// The line's text when it is the first line of JSON lines, the layout
    /// `source::text` decodes on every core; counted nowhere yet.
    pub(crate) fn json_start<'b>(&self, bytes: &'b [u8]) -> Option<&'b str> {
        if self.mode.is_some() {
            return None;
        }
        let text = std::str::from_utf8(without_bom(bytes, self.line_no == 0))
            .ok()?
            .trim();
        (TextMode::of(text) == TextMode::Json).then_some(text)
    }

    fn location(&self) -> Location {
        Location::at_line(self.source.clone(), self.line_no)
    }
}

/// Counts one decoding outcome and hands an event to the sink.
fn take(
    decoded: Result<Decoded, Malformed>,
    location: &Location,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) {
    match decoded {
        Ok(Decoded::Event(event)) => {
            stats.count_event(&event);
            sink(*event);
        }
        Ok(Decoded::Ignored(reason)) => stats.ignore(reason),
        Err(malformed) => stats.skip(malformed, location),
    }
}

/// A file's name without its folder and extensions (`/var/log/web01.log`
/// is `web01`): the host of its raw audit records that name none.
fn host_of_file(name: &str) -> String {
    let base = name.rsplit(['/', '\\', '!']).next().unwrap_or(name);
    base.split('.')
        .next()
        .filter(|b| !b.is_empty())
        .unwrap_or("unknown")
        .to_owned()
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A stream's first line may start with a UTF-8 byte order mark.
fn without_bom(bytes: &[u8], first: bool) -> &[u8] {
    if first { strip_bom(bytes) } else { bytes }
}

/// The layout of a text stream, from its first non-blank line.
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

#[cfg(test)]
mod tests;
