//! Fuzzes `decode_xml`, the decoder of one `<Event>` XML document: a line of
//! an XML-lines file, an EVTX record once rendered to XML, and the Sysmon for
//! Linux document embedded in Azure `Syslog` rows all end up here.
//!
//! Its input comes from shippers and, through EVTX files, from the hosts
//! being investigated: any byte sequence must yield an event, an ignore or a
//! `Malformed`, never a panic. The only property checked is "does not panic".

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{NormalizeOptions, decode_xml};
use seldom_model::{Location, SourceFormat};

/// The layouts `decode_xml` is called with by the ingest pipeline.
const FORMATS: [SourceFormat; 3] = [
    SourceFormat::EventXml,
    SourceFormat::Evtx,
    SourceFormat::SyslogSysmonXml,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = NormalizeOptions::default();
    for format in FORMATS {
        let origin = Location::at_line(Arc::from("fuzz"), 1);
        let _ = decode_xml(text, format, origin, &options);
    }
});
