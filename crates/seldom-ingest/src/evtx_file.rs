//! EVTX files, through the `evtx` crate, one record at a time.
//!
//! The crate parses each chunk (on its own threads when it has several) and
//! hands its records to [`RecordDecoder`], which reads each from its template
//! ([`crate::evtx_template`]) when it can, and otherwise has the crate render
//! it to XML for [`crate::xml`], the reader that also handles Sysmon for
//! Linux. Both give the same fields; the template path skips the rendering
//! and the parse of it. A bad chunk costs its records (counted as
//! `bad_evtx`), never the chunks around it.
//!
//! A file cut short (a copy taken while the log was written, a transfer
//! that stopped) ends in a partial chunk, which the crate does not see: it
//! counts whole chunks only. That chunk's complete records are read here from
//! a copy padded with zeroes, and the records its header names beyond them
//! are counted as `bad_evtx`, so that a cut file never reads as clean.

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use evtx::{EvtxParser, EvtxRecord, ParserSettings};
use seldom_model::{Event, Location, SourceFormat};

use crate::decode::decode_xml;
use crate::evtx_template::{TemplateCache, TemplateRead};
use crate::fields::RawRecord;
use crate::normalize::{Decoded, NormalizeOptions, normalize};
use crate::stats::{IgnoreReason, IngestStats, Malformed, SkipReason};

/// Reads every record of one EVTX file.
pub fn read_evtx<R: Read + Seek + Send + 'static>(
    input: R,
    source: &Arc<str>,
    options: &NormalizeOptions,
    threads: usize,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) {
    read_evtx_counted(input, source, options, threads, stats, sink);
}

/// How many records took each path, for the tests that hold them equal.
#[derive(Debug, Default)]
pub(crate) struct PathCounts {
    pub(crate) from_templates: AtomicU64,
    pub(crate) rendered: AtomicU64,
}

/// [`read_evtx`], saying how many records took each path.
pub(crate) fn read_evtx_counted<R: Read + Seek + Send + 'static>(
    mut input: R,
    source: &Arc<str>,
    options: &NormalizeOptions,
    threads: usize,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) -> Arc<PathCounts> {
    let counts = Arc::new(PathCounts::default());
    let partial_chunk = find_partial_chunk(&mut input);
    let parser = match EvtxParser::from_read_seek(input) {
        Ok(parser) => parser,
        Err(e) => {
            stats.skip(
                Malformed::new(SkipReason::BadEvtx, e.to_string()),
                &Location::file(source.clone()),
            );
            return counts;
        }
    };
    let settings = ParserSettings::new().num_threads(threads).indent(false);
    let mut parser = parser.with_configuration(settings);
    let decoder = RecordDecoder::new(source, options, &counts);
    read_records(&mut parser, &decoder, source, stats, sink);
    match partial_chunk {
        Ok(Some(partial)) => read_partial_chunk(partial, &decoder, source, stats, sink),
        Ok(None) => {}
        Err(e) => stats.skip(
            Malformed::new(
                SkipReason::Io,
                format!("looking for a truncated last chunk: {e}"),
            ),
            &Location::file(source.clone()),
        ),
    }
    counts
}

/// Every record of a parser, decoded where the crate hands it out and
/// counted here, in order.
fn read_records<R: Read + Seek>(
    parser: &mut EvtxParser<R>,
    decoder: &RecordDecoder,
    source: &Arc<str>,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) {
    // The crate clones the closure for each chunk: each chunk's templates
    // are cached for that chunk alone.
    let mut decoder = decoder.clone();
    for outcome in parser.serialized_records(move |record| decoder.decode(record)) {
        stats.records_read += 1;
        match outcome {
            Ok(RecordOutcome::Event(event)) => {
                stats.count_event(&event);
                sink(*event);
            }
            Ok(RecordOutcome::Ignored(reason)) => stats.ignore(reason),
            Ok(RecordOutcome::Skipped(malformed, origin)) => stats.skip(malformed, &origin),
            Err(e) => stats.skip(
                Malformed::new(SkipReason::BadEvtx, e.to_string()),
                &Location::file(source.clone()),
            ),
        }
    }
}

/// What one record became.
enum RecordOutcome {
    Event(Box<Event>),
    Ignored(IgnoreReason),
    Skipped(Malformed, Location),
}

/// Turns one record into its outcome: from its template when the template
/// reader can, else rendered to XML and walked.
#[derive(Clone)]
struct RecordDecoder {
    source: Arc<str>,
    options: NormalizeOptions,
    /// `None`: every record is rendered (`NormalizeOptions::evtx_templates` off).
    templates: Option<TemplateCache>,
    counts: Arc<PathCounts>,
}

impl RecordDecoder {
    fn new(source: &Arc<str>, options: &NormalizeOptions, counts: &Arc<PathCounts>) -> Self {
        RecordDecoder {
            source: source.clone(),
            options: *options,
            templates: options.evtx_templates.then(TemplateCache::default),
            counts: counts.clone(),
        }
    }

    fn decode(
        &mut self,
        record: evtx::err::Result<EvtxRecord<'_>>,
    ) -> evtx::err::Result<RecordOutcome> {
        let record = record?;
        let origin = Location::at_record(self.source.clone(), record.event_record_id);
        if let Some(read) = self.read_template(&record) {
            self.counts.from_templates.fetch_add(1, Ordering::Relaxed);
            return Ok(match read {
                TemplateRead::UnreadId => RecordOutcome::Ignored(IgnoreReason::OtherEventId),
                TemplateRead::Fields(fields) => self.decode_fields(&fields, origin),
            });
        }
        self.counts.rendered.fetch_add(1, Ordering::Relaxed);
        let rendered = record.into_xml_bytes()?;
        Ok(self.decode_rendered(&rendered.data, origin))
    }

    /// The record read from its template, when it is one instance of a
    /// template the reader maps and the values it reads are all plain.
    fn read_template(&mut self, record: &EvtxRecord<'_>) -> Option<TemplateRead> {
        let templates = self.templates.as_mut()?;
        let data = record.chunk.data;
        let start = usize::try_from(record.binxml_offset).ok()?;
        let binxml = data.get(start..start.checked_add(record.binxml_size as usize)?)?;
        templates.read(data, binxml)
    }

    fn decode_fields(&self, fields: &RawRecord<'_>, origin: Location) -> RecordOutcome {
        let decoded = normalize(
            fields,
            SourceFormat::Evtx,
            origin.clone(),
            &self.options,
            None,
        );
        Self::outcome(decoded, origin)
    }

    fn decode_rendered(&self, xml: &[u8], origin: Location) -> RecordOutcome {
        // Most records of a Windows log are event ids seldom does not read;
        // rejecting them from the id alone skips the UTF-8 check and the XML
        // walk for them.
        if quick_event_id(xml).is_some_and(|id| !crate::normalize::is_read_event_id(id)) {
            return RecordOutcome::Ignored(IgnoreReason::OtherEventId);
        }
        let Ok(xml) = std::str::from_utf8(xml) else {
            let malformed =
                Malformed::new(SkipReason::BadEvtx, "the record rendered as invalid UTF-8");
            return RecordOutcome::Skipped(malformed, origin);
        };
        let decoded = decode_xml(xml, SourceFormat::Evtx, origin.clone(), &self.options);
        Self::outcome(decoded, origin)
    }

    fn outcome(decoded: Result<Decoded, Malformed>, origin: Location) -> RecordOutcome {
        match decoded {
            Ok(Decoded::Event(event)) => RecordOutcome::Event(event),
            Ok(Decoded::Ignored(reason)) => RecordOutcome::Ignored(reason),
            Err(malformed) => RecordOutcome::Skipped(malformed, origin),
        }
    }
}

const FILE_HEADER_BYTES: u64 = 4096;
const CHUNK_BYTES: usize = 65536;
const CHUNK_HEADER_BYTES: usize = 512;
const RECORD_MAGIC: &[u8; 4] = b"\x2a\x2a\x00\x00";
const RECORD_HEADER_BYTES: usize = 24;

/// The bytes of a file's last chunk when the file ends inside it.
struct PartialChunk {
    file_header: Vec<u8>,
    number: u64,
    bytes: Vec<u8>,
}

/// Reads the file header and the partial last chunk, if the file ends
/// inside a chunk; leaves the input at its start.
fn find_partial_chunk(input: &mut (impl Read + Seek)) -> io::Result<Option<PartialChunk>> {
    let len = input.seek(SeekFrom::End(0))?;
    let found = if len > FILE_HEADER_BYTES {
        let chunks = len - FILE_HEADER_BYTES;
        let partial = chunks % CHUNK_BYTES as u64;
        if partial == 0 {
            None
        } else {
            let mut file_header = vec![0; FILE_HEADER_BYTES as usize];
            input.seek(SeekFrom::Start(0))?;
            input.read_exact(&mut file_header)?;
            let mut bytes = vec![0; partial as usize];
            input.seek(SeekFrom::Start(len - partial))?;
            input.read_exact(&mut bytes)?;
            Some(PartialChunk {
                file_header,
                number: chunks / CHUNK_BYTES as u64,
                bytes,
            })
        }
    } else {
        None
    };
    input.seek(SeekFrom::Start(0))?;
    Ok(found)
}

/// Reads the complete records of a partial last chunk and counts the ones
/// its header names past them as lost.
fn read_partial_chunk(
    partial: PartialChunk,
    decoder: &RecordDecoder,
    source: &Arc<str>,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) {
    let PartialChunk {
        file_header,
        number,
        bytes,
    } = partial;
    let location = Location::file(source.clone());
    let offset = FILE_HEADER_BYTES + number * CHUNK_BYTES as u64;
    let what = format!(
        "chunk {number} at offset {offset:#x} is truncated ({} of {CHUNK_BYTES} bytes)",
        bytes.len()
    );
    if bytes.len() < CHUNK_HEADER_BYTES || !bytes.starts_with(b"ElfChnk\0") {
        // No readable chunk header: how many records it held is unknown.
        stats.records_read += 1;
        stats.skip(
            Malformed::new(SkipReason::BadEvtx, format!("{what}; its records are lost")),
            &location,
        );
        return;
    }
    let id_at = |at: usize| {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(raw)
    };
    let (first_id, last_id) = (id_at(24), id_at(32));
    // The complete records end where the first cut one starts; zeroes from
    // there on are where the crate's walk ends, cleanly.
    let mut end = CHUNK_HEADER_BYTES;
    while end + RECORD_HEADER_BYTES <= bytes.len() && &bytes[end..end + 4] == RECORD_MAGIC {
        let size = u32::from_le_bytes([
            bytes[end + 4],
            bytes[end + 5],
            bytes[end + 6],
            bytes[end + 7],
        ]) as usize;
        if size < RECORD_HEADER_BYTES || end + size > bytes.len() {
            break;
        }
        end += size;
    }
    let mut padded = file_header;
    padded.extend_from_slice(&bytes[..end]);
    padded.resize(FILE_HEADER_BYTES as usize + CHUNK_BYTES, 0);
    let before = stats.records_read;
    if let Ok(parser) = EvtxParser::from_read_seek(Cursor::new(padded)) {
        let settings = ParserSettings::new().num_threads(1).indent(false);
        let mut parser = parser.with_configuration(settings);
        read_records(&mut parser, decoder, source, stats, sink);
    }
    let read = stats.records_read - before;
    let named = if first_id <= last_id {
        (last_id - first_id).saturating_add(1)
    } else {
        0
    };
    // At least one: the cut itself is a loss even when the header's count is absurd.
    let lost = named.saturating_sub(read).max(1);
    stats.records_read += lost;
    stats.skip_many(
        Malformed::new(
            SkipReason::BadEvtx,
            format!("{what}: {read} complete records read, {lost} lost"),
        ),
        &location,
        lost,
    );
}

/// The `<EventID>` of a rendered record, read without parsing the document;
/// `None` when it is not where the renderer puts it (the full walk decides then).
fn quick_event_id(xml: &[u8]) -> Option<u32> {
    let start = memchr::memmem::find(xml, b"<EventID")?;
    let rest = &xml[start..];
    let open = memchr::memchr(b'>', rest)?;
    let close = memchr::memchr(b'<', &rest[open..])?;
    std::str::from_utf8(&rest[open + 1..open + close])
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One EVTX input read with the template reader or without it.
    fn read(
        bytes: &[u8],
        templates: bool,
        threads: usize,
    ) -> (Vec<Event>, serde_json::Value, Arc<PathCounts>) {
        let options = NormalizeOptions {
            evtx_templates: templates,
            ..NormalizeOptions::default()
        };
        let mut stats = IngestStats::default();
        let mut events = Vec::new();
        let source: Arc<str> = Arc::from("corpus.evtx");
        let counts = read_evtx_counted(
            Cursor::new(bytes.to_vec()),
            &source,
            &options,
            threads,
            &mut stats,
            &mut |e| events.push(e),
        );
        let stats = serde_json::to_value(&stats).expect("stats serialize");
        (events, stats, counts)
    }

    #[test]
    fn every_corpus_evtx_file_reads_the_same_from_templates_as_rendered() {
        let Some(corpus) = crate::test_corpus::corpus() else {
            return;
        };
        let (mut files, mut records, mut from_templates, mut events) = (0, 0u64, 0u64, 0);
        for entry in walkdir::WalkDir::new(&corpus).sort_by_file_name() {
            let entry = entry.expect("the corpus walks");
            if entry.path().extension().is_none_or(|e| e != "evtx") {
                continue;
            }
            let bytes = std::fs::read(entry.path()).expect("a corpus file reads");
            // A copy cut inside its last chunk too: the partial-chunk path.
            let cut = &bytes[..bytes.len() - bytes.len().min(20_000)];
            for input in [&bytes[..], cut] {
                let plain = read(input, false, 1);
                let fast = read(input, true, 2);
                let name = entry.path().display();
                assert!(plain.0 == fast.0, "{name}: events differ");
                assert_eq!(plain.1, fast.1, "{name}: statistics differ");
                assert_eq!(plain.2.from_templates.load(Ordering::Relaxed), 0);
                records += fast.2.from_templates.load(Ordering::Relaxed)
                    + fast.2.rendered.load(Ordering::Relaxed);
                from_templates += fast.2.from_templates.load(Ordering::Relaxed);
                events += fast.0.len();
            }
            files += 1;
        }
        assert!(files > 250, "only {files} EVTX files in the corpus");
        assert!(events > 3_000, "only {events} events read");
        // The template reader takes almost every record; the rest are rendered.
        assert!(
            from_templates * 100 >= records * 99,
            "{from_templates} of {records} records read from templates"
        );
    }

    #[test]
    fn event_id_is_read_with_or_without_qualifiers() {
        assert_eq!(
            quick_event_id(b"<Event><System><EventID>3</EventID></System></Event>"),
            Some(3)
        );
        assert_eq!(
            quick_event_id(b"<System><EventID Qualifiers=\"0\">4688</EventID>"),
            Some(4688)
        );
        assert_eq!(quick_event_id(b"<System><EventID/></System>"), None);
        assert_eq!(quick_event_id(b"<System></System>"), None);
    }
}
