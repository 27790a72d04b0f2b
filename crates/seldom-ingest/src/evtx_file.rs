//! EVTX files, through the `evtx` crate, one record at a time.
//!
//! Records are rendered to XML by the crate and read by [`crate::xml`], the
//! same reader that handles Sysmon for Linux. A bad chunk costs its records
//! (counted as `bad_evtx`), never the chunks around it.
//!
//! A file cut short (a copy taken while the log was written, a transfer
//! that stopped) ends in a partial chunk, which the crate does not see: it
//! counts whole chunks only. That chunk's complete records are read here from
//! a copy padded with zeroes, and the records its header names beyond them
//! are counted as `bad_evtx`, so that a cut file never reads as clean.

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

use evtx::{EvtxParser, ParserSettings};
use seldom_model::{Event, Location, SourceFormat};

use crate::decode::decode_xml;
use crate::normalize::{Decoded, NormalizeOptions};
use crate::stats::{IngestStats, Malformed, SkipReason};

/// Reads every record of one EVTX file.
pub fn read_evtx<R: Read + Seek + Send + 'static>(
    mut input: R,
    source: &Arc<str>,
    options: &NormalizeOptions,
    threads: usize,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) {
    let partial_chunk = find_partial_chunk(&mut input);
    let parser = match EvtxParser::from_read_seek(input) {
        Ok(parser) => parser,
        Err(e) => {
            stats.skip(
                Malformed::new(SkipReason::BadEvtx, e.to_string()),
                &Location::file(source.clone()),
            );
            return;
        }
    };
    let settings = ParserSettings::new().num_threads(threads).indent(false);
    let mut parser = parser.with_configuration(settings);
    for record in parser.records_bytes() {
        take_record(record, source, options, stats, sink);
    }
    match partial_chunk {
        Ok(Some(partial)) => read_partial_chunk(partial, source, options, stats, sink),
        Ok(None) => {}
        Err(e) => stats.skip(
            Malformed::new(
                SkipReason::Io,
                format!("looking for a truncated last chunk: {e}"),
            ),
            &Location::file(source.clone()),
        ),
    }
}

/// Counts one record the crate gave (or failed to give) and decodes it.
fn take_record(
    record: evtx::err::Result<evtx::SerializedEvtxRecord<Vec<u8>>>,
    source: &Arc<str>,
    options: &NormalizeOptions,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) {
    stats.records_read += 1;
    let record = match record {
        Ok(record) => record,
        Err(e) => {
            stats.skip(
                Malformed::new(SkipReason::BadEvtx, e.to_string()),
                &Location::file(source.clone()),
            );
            return;
        }
    };
    // Most records of a Windows log are event ids seldom does not read;
    // rejecting them from the id alone skips the UTF-8 check and the XML
    // walk for them.
    if quick_event_id(&record.data).is_some_and(|id| !crate::normalize::is_read_event_id(id)) {
        stats.ignore(crate::stats::IgnoreReason::OtherEventId);
        return;
    }
    let origin = Location::at_record(source.clone(), record.event_record_id);
    let Ok(xml) = std::str::from_utf8(&record.data) else {
        stats.skip(
            Malformed::new(SkipReason::BadEvtx, "the record rendered as invalid UTF-8"),
            &origin,
        );
        return;
    };
    match decode_xml(xml, SourceFormat::Evtx, origin.clone(), options) {
        Ok(Decoded::Event(event)) => {
            stats.count_event(&event);
            sink(*event);
        }
        Ok(Decoded::Ignored(reason)) => stats.ignore(reason),
        Err(malformed) => stats.skip(malformed, &origin),
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
    source: &Arc<str>,
    options: &NormalizeOptions,
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
        for record in parser.records_bytes() {
            take_record(record, source, options, stats, sink);
        }
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
