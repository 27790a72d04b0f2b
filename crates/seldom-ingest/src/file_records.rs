//! A file's records as bytes, for transports that carry records rather than
//! files (`seldom kafka produce`, `seldom send`): the lines of a text file,
//! gzip or not, or an EVTX file's records rendered one per line. Each record
//! comes with the file's [`Framing`], read from its first line, because some
//! formats' records do not stand alone: a Zeek TSV log needs its header
//! lines, and a Linux audit event spans several lines.
//!
//! Folders are read recursively, in name order.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use evtx::{EvtxParser, ParserSettings};

/// How a file's records relate to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Each line stands alone (JSON lines, `<Event>` XML lines, ...).
    Lines,
    /// A Zeek TSV log: its `#` header lines say what the columns are.
    ZeekTsv,
    /// A Linux audit log: an event's records share one `msg=audit(...)` id.
    Audit,
    /// An EVTX file's records, each rendered alone.
    Evtx,
}

/// How an EVTX file's records are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvtxAs {
    /// The record's XML (several lines): a record per message.
    Xml,
    /// The record as one line of JSON (the evtx crate's `evtx_dump` layout,
    /// which seldom reads): records that can be batched as lines.
    JsonLine,
}

/// What is called with each record, and the file's framing.
pub type EachRecord<'a, E> = dyn FnMut(Framing, &[u8]) -> Result<(), E> + 'a;

/// The files under `path` (itself, if it is a file), in name order.
pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            collect_files(&entry, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Calls `each` with every record of `path` (blank lines left out); returns
/// how many EVTX records the evtx crate could not read (not passed on).
pub fn each_record<E: From<io::Error>>(
    path: &Path,
    evtx_as: EvtxAs,
    each: &mut EachRecord<'_, E>,
) -> Result<u64, E> {
    let located = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let mut file = File::open(path).map_err(located)?;
    let mut magic = [0u8; 8];
    let n = read_up_to(&mut file, &mut magic).map_err(located)?;
    let magic = &magic[..n];
    if magic.starts_with(b"ElfFile\0") {
        return each_evtx_record(path, evtx_as, each);
    }
    let file = File::open(path).map_err(located)?;
    let reader: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut lines = BufReader::with_capacity(1 << 20, reader);
    let mut line = Vec::new();
    let mut framing = None;
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).map_err(located)? == 0 {
            return Ok(0);
        }
        let record = line.trim_ascii();
        if record.is_empty() {
            continue;
        }
        let framing = *framing.get_or_insert(if record.starts_with(b"#separator") {
            Framing::ZeekTsv
        } else if is_audit_record(record) {
            Framing::Audit
        } else {
            Framing::Lines
        });
        each(framing, record)?;
    }
}

/// A Linux audit record: `type=... msg=audit(...)`, with `node=...` first
/// when the log names its host.
fn is_audit_record(line: &[u8]) -> bool {
    (line.starts_with(b"type=") || line.starts_with(b"node="))
        && memchr::memmem::find(line, b" msg=audit(").is_some()
}

/// The id an audit record shares with the other records of its event: what
/// is between `msg=audit(` and `)`.
pub fn audit_event_id(line: &[u8]) -> Option<&[u8]> {
    let start = memchr::memmem::find(line, b"msg=audit(")? + b"msg=audit(".len();
    let end = start + memchr::memchr(b')', &line[start..])?;
    Some(&line[start..end])
}

fn each_evtx_record<E: From<io::Error>>(
    path: &Path,
    evtx_as: EvtxAs,
    each: &mut EachRecord<'_, E>,
) -> Result<u64, E> {
    let broken = |e: evtx::err::EvtxError| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    };
    let settings = ParserSettings::new().num_threads(1).indent(false);
    let mut parser = EvtxParser::from_path(path)
        .map_err(broken)?
        .with_configuration(settings);
    let mut unreadable = 0;
    match evtx_as {
        EvtxAs::Xml => {
            for record in parser.records() {
                match record {
                    Ok(record) => each(Framing::Evtx, record.data.as_bytes())?,
                    Err(_) => unreadable += 1,
                }
            }
        }
        EvtxAs::JsonLine => {
            for record in parser.records_json() {
                match record {
                    Ok(record) => each(Framing::Evtx, record.data.trim_ascii().as_bytes())?,
                    Err(_) => unreadable += 1,
                }
            }
        }
    }
    Ok(unreadable)
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_records_are_told_by_their_message_id() {
        let named = br#"node=web01 type=EOE msg=audit(1704067200.000:10): "#;
        let plain = br#"type=SYSCALL msg=audit(1652292620.465:245754): arch=c000003e"#;
        assert!(is_audit_record(named) && is_audit_record(plain));
        assert!(!is_audit_record(br#"{"type=": "msg=audit(1:2)"}"#));
        assert_eq!(audit_event_id(named), Some(&b"1704067200.000:10"[..]));
        assert_eq!(audit_event_id(plain), Some(&b"1652292620.465:245754"[..]));
        assert_eq!(audit_event_id(b"type=X msg=audit(1:2"), None);
    }
}
