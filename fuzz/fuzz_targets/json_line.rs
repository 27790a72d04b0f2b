//! Fuzzes `JsonDecoder::decode`, the decoder of one JSON line in any layout
//! (flat NXLog, Winlogbeat 6 and 7+, Azure `WindowsEvent` rows with a JSON or
//! XML `EventData` string, Azure `Syslog` rows embedding a Sysmon for Linux
//! `<Event>` document, `evtx_dump` JSON).
//!
//! Every line of a JSON-lines file, and every body of other transports, goes
//! through this decoder, and its input is whatever a shipper or an attacker
//! wrote: a malformed record must be reported as `Malformed`, never panic.
//!
//! Two properties are checked: it does not panic, and the fast paths change
//! no outcome. The byte prefilter (`prefilter/`) and seldom's own JSON
//! scanner (`json_scan.rs`) together against neither (every line walked by
//! serde_json): a line gives the same event, the same ignore reason or the
//! same error, except that a malformed line may be counted as an unread event
//! id without being parsed.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{Decoded, IgnoreReason, JsonDecoder, NormalizeOptions};
use seldom_model::Location;

fn decoder(fast: bool) -> JsonDecoder {
    JsonDecoder::new(NormalizeOptions {
        prefilter: fast,
        json_scanner: fast,
        ..NormalizeOptions::default()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let at = |line: usize| Location::at_line(Arc::from("fuzz"), line as u64 + 1);
    let mut filtered = decoder(true);
    let mut plain = decoder(false);
    let lines: Vec<&str> = if text.contains('\n') {
        // The decoder keeps per-stream state (the local-time offset learnt
        // from one record applies to later ones): decode the lines in turn
        // with one decoder, as a JSON-lines file is read.
        std::iter::once(text).chain(text.split('\n')).collect()
    } else {
        vec![text]
    };
    for (index, line) in lines.into_iter().enumerate() {
        let a = plain.decode(line, at(index));
        let b = filtered.decode(line, at(index));
        // Unreadable lines may be counted as unread ids unparsed.
        let same = a == b
            || matches!(
                (&a, &b),
                (Err(_), Ok(Decoded::Ignored(IgnoreReason::OtherEventId)))
            );
        assert!(same, "the fast paths changed {line:?}: {a:?} vs {b:?}");
    }
});
