//! What a read saw: events by kind and format, records ignored as irrelevant,
//! records skipped as malformed (by reason, with a few locations to look at).
//!
//! Skipped means broken: bad JSON, a truncated EVTX chunk, a missing field.
//! Ignored means well formed but not ours: another event id, an inbound
//! connection, a non-telemetry file. Both are counted; neither stops a run.

use std::collections::BTreeMap;

use seldom_model::{Event, Location};
use serde::Serialize;

/// Why a record or file was skipped as malformed or unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    BadJson,
    BadXml,
    NotUtf8,
    LineTooLong,
    MissingField,
    BadField,
    BadTimestamp,
    BadEvtx,
    BadArchive,
    /// An archive member that inflates past the configured bound (a zip bomb).
    TooLarge,
    Io,
    /// A dependency panicked on this input; the run went on without it.
    DecoderPanic,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::BadJson => "bad_json",
            SkipReason::BadXml => "bad_xml",
            SkipReason::NotUtf8 => "not_utf8",
            SkipReason::LineTooLong => "line_too_long",
            SkipReason::MissingField => "missing_field",
            SkipReason::BadField => "bad_field",
            SkipReason::BadTimestamp => "bad_timestamp",
            SkipReason::BadEvtx => "bad_evtx",
            SkipReason::BadArchive => "bad_archive",
            SkipReason::TooLarge => "too_large",
            SkipReason::Io => "io_error",
            SkipReason::DecoderPanic => "decoder_panic",
        }
    }
}

/// Why a well-formed record or file was not turned into an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IgnoreReason {
    /// An event id seldom does not read (Sysmon 10, Security 4624, ...).
    OtherEventId,
    /// A JSON or XML document that is not a telemetry layout seldom knows.
    UnknownLayout,
    /// An inbound Windows Filtering Platform connection (5156 with direction in).
    InboundConnection,
    /// A file that is not telemetry: a macOS resource fork, a spreadsheet, a binary.
    NotTelemetry,
    /// A text file in a format seldom does not read yet.
    UnsupportedText,
    /// A blank line.
    Blank,
}

impl IgnoreReason {
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::OtherEventId => "other_event_id",
            IgnoreReason::UnknownLayout => "unknown_layout",
            IgnoreReason::InboundConnection => "inbound_connection",
            IgnoreReason::NotTelemetry => "not_telemetry",
            IgnoreReason::UnsupportedText => "unsupported_text",
            IgnoreReason::Blank => "blank",
        }
    }
}

/// A malformed record: why, and what exactly was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub reason: SkipReason,
    pub detail: String,
}

impl Malformed {
    pub fn new(reason: SkipReason, detail: impl Into<String>) -> Self {
        Malformed {
            reason,
            detail: detail.into(),
        }
    }
}

/// How many examples of each skip reason are kept.
pub const EXAMPLES_PER_REASON: usize = 5;

#[derive(Debug, Clone, Default, Serialize)]
pub struct SkipCount {
    pub count: u64,
    pub examples: Vec<SkipExample>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkipExample {
    pub location: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestStats {
    /// Files (and archive members) opened.
    pub files_read: u64,
    /// Records seen: lines of text, EVTX records.
    pub records_read: u64,
    /// Records turned into events.
    pub events_read: u64,
    /// Events by kind.
    pub events: BTreeMap<&'static str, u64>,
    /// Events by source format, then kind.
    pub events_by_format: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    /// Well-formed records and files that are not ours, by reason.
    pub ignored: BTreeMap<&'static str, u64>,
    /// Malformed records and unreadable files, by reason.
    pub skipped: BTreeMap<&'static str, SkipCount>,
    /// Bytes read from the inputs as given (compressed bytes for archives).
    pub bytes_read: u64,
    /// Inputs that could not be opened or read at all (also counted under
    /// `skipped.io_error`): a run that has any did not read what it was given.
    pub files_unreadable: u64,
}

impl IngestStats {
    pub fn count_event(&mut self, event: &Event) {
        let kind = event.kind.name();
        self.events_read += 1;
        *self.events.entry(kind).or_default() += 1;
        *self
            .events_by_format
            .entry(event.format.as_str())
            .or_default()
            .entry(kind)
            .or_default() += 1;
    }

    pub fn ignore(&mut self, reason: IgnoreReason) {
        *self.ignored.entry(reason.as_str()).or_default() += 1;
    }

    pub fn skip(&mut self, malformed: Malformed, location: &Location) {
        self.skip_many(malformed, location, 1);
    }

    /// `count` records lost to one fault (the cut records of a truncated
    /// chunk), with one example.
    pub fn skip_many(&mut self, malformed: Malformed, location: &Location, count: u64) {
        let entry = self.skipped.entry(malformed.reason.as_str()).or_default();
        entry.count += count;
        if entry.examples.len() < EXAMPLES_PER_REASON {
            entry.examples.push(SkipExample {
                location: location.to_string(),
                detail: truncate(&malformed.detail, 300),
            });
        }
    }

    /// Adds the counts of a part read apart (a chunk decoded on another
    /// thread); parts absorbed in input order keep the first examples first.
    pub fn absorb(&mut self, part: IngestStats) {
        self.files_read += part.files_read;
        self.records_read += part.records_read;
        self.events_read += part.events_read;
        self.bytes_read += part.bytes_read;
        self.files_unreadable += part.files_unreadable;
        for (kind, n) in part.events {
            *self.events.entry(kind).or_default() += n;
        }
        for (format, kinds) in part.events_by_format {
            let mine = self.events_by_format.entry(format).or_default();
            for (kind, n) in kinds {
                *mine.entry(kind).or_default() += n;
            }
        }
        for (reason, n) in part.ignored {
            *self.ignored.entry(reason).or_default() += n;
        }
        for (reason, part) in part.skipped {
            let mine = self.skipped.entry(reason).or_default();
            mine.count += part.count;
            let room = EXAMPLES_PER_REASON.saturating_sub(mine.examples.len());
            mine.examples.extend(part.examples.into_iter().take(room));
        }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().map(|s| s.count).sum()
    }

    /// Events of one kind from one format (for tests and reports).
    pub fn events_of(&self, format: &str, kind: &str) -> u64 {
        self.events_by_format
            .get(format)
            .and_then(|k| k.get(kind))
            .copied()
            .unwrap_or(0)
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
