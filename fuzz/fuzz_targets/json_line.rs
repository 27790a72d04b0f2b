//! Fuzzes `JsonDecoder::decode`, the decoder of one JSON line in any layout
//! (flat NXLog, Winlogbeat 6 and 7+, Azure `WindowsEvent` rows with a JSON or
//! XML `EventData` string, Azure `Syslog` rows embedding a Sysmon for Linux
//! `<Event>` document, `evtx_dump` JSON).
//!
//! Every line of a JSON-lines file, and every body of other transports, goes
//! through this decoder, and its input is whatever a shipper or an attacker
//! wrote: a malformed record must be reported as `Malformed`, never panic.
//! The only property checked is "does not panic".

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{JsonDecoder, NormalizeOptions};
use seldom_model::Location;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut decoder = JsonDecoder::new(NormalizeOptions::default());
    let _ = decoder.decode(text, Location::at_line(Arc::from("fuzz"), 1));
    // The decoder keeps per-stream state: the host's local-time offset learnt
    // from one record is applied to the later records without a zone. When
    // the input has several lines, also decode them one by one with the same
    // decoder, as a JSON-lines file is read, so that state crosses records.
    if text.contains('\n') {
        for (index, line) in text.split('\n').enumerate() {
            let _ = decoder.decode(line, Location::at_line(Arc::from("fuzz"), index as u64 + 1));
        }
    }
});
