//! EVTX files, through the `evtx` crate, one record at a time.
//!
//! Records are rendered to XML by the crate and read by [`crate::xml`], the
//! same reader that handles Sysmon for Linux. A bad chunk costs its records
//! (counted as `bad_evtx`), never the chunks around it.

use std::io::{Read, Seek};
use std::sync::Arc;

use evtx::{EvtxParser, ParserSettings};
use seldom_model::{Event, Location, SourceFormat};

use crate::decode::decode_xml;
use crate::normalize::{Decoded, NormalizeOptions};
use crate::stats::{IngestStats, Malformed, SkipReason};

/// Reads every record of one EVTX file.
pub fn read_evtx<R: Read + Seek + Send + 'static>(
    input: R,
    source: &Arc<str>,
    options: &NormalizeOptions,
    threads: usize,
    stats: &mut IngestStats,
    sink: &mut dyn FnMut(Event),
) {
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
    for record in parser.records() {
        stats.records_read += 1;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                stats.skip(
                    Malformed::new(SkipReason::BadEvtx, e.to_string()),
                    &Location::file(source.clone()),
                );
                continue;
            }
        };
        // Most records of a Windows log are event ids seldom does not read;
        // rejecting them from the id alone skips the XML walk for them.
        if quick_event_id(&record.data).is_some_and(|id| !crate::normalize::is_read_event_id(id)) {
            stats.ignore(crate::stats::IgnoreReason::OtherEventId);
            continue;
        }
        let origin = Location::at_record(source.clone(), record.event_record_id);
        match decode_xml(&record.data, SourceFormat::Evtx, origin.clone(), options) {
            Ok(Decoded::Event(event)) => {
                stats.count_event(&event);
                sink(*event);
            }
            Ok(Decoded::Ignored(reason)) => stats.ignore(reason),
            Err(malformed) => stats.skip(malformed, &origin),
        }
    }
}

/// The `<EventID>` of a rendered record, read without parsing the document;
/// `None` when it is not where the renderer puts it (the full walk decides then).
fn quick_event_id(xml: &str) -> Option<u32> {
    let start = xml.find("<EventID")?;
    let rest = &xml[start..];
    let open = rest.find('>')?;
    let close = rest[open..].find('<')?;
    rest[open + 1..open + close].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_is_read_with_or_without_qualifiers() {
        assert_eq!(
            quick_event_id("<Event><System><EventID>3</EventID></System></Event>"),
            Some(3)
        );
        assert_eq!(
            quick_event_id("<System><EventID Qualifiers=\"0\">4688</EventID>"),
            Some(4688)
        );
        assert_eq!(quick_event_id("<System><EventID/></System>"), None);
        assert_eq!(quick_event_id("<System></System>"), None);
    }
}
