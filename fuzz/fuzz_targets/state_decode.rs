//! Fuzzes the loading of a saved detector state (`scan --state`, `serve`'s
//! store): the CBOR of `DetectorState`, then a detector restored from it that
//! takes events and is flushed.
//!
//! A state file is checksummed, so a changed byte is refused before this; but
//! a crafted file with a good checksum must still not crash the detector:
//! whatever decodes is a state the detector must run on. Property: does not
//! panic.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use seldom_detect::{Catalog, DetectConfig, DetectorState};
use seldom_model::{
    Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform, ProcessIdentity,
    SourceFormat, Timestamp,
};

fn connection(host: &str, second: i64) -> Option<Event> {
    Some(Event {
        time: Timestamp::from_micros(1_704_067_200_000_000 + second * 1_000_000),
        host: HostName::normalize(host, HostNaming::Short)?,
        platform: Platform::Windows,
        format: SourceFormat::FlatJson,
        event_id: 3,
        origin: Location::at_line(Arc::from("fuzz"), 1),
        kind: EventKind::NetworkConnection(NetworkConnection {
            process: ProcessIdentity {
                pid: Some(7),
                guid: Some("{g}".into()),
            },
            image: Some("C:\\a.exe".into()),
            user: None,
            protocol: Some("tcp".into()),
            initiated: Some(true),
            source_ip: None,
            source_port: None,
            destination_ip: std::net::IpAddr::from([198, 18, 0, 1]),
            destination_port: Some(443),
            destination_hostname: None,
            bytes_sent: None,
        }),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(state) = ciborium::from_reader::<DetectorState, _>(data) else {
        return;
    };
    let config = DetectConfig {
        activation_days: 0,
        ..DetectConfig::default()
    };
    // Parsed once: the catalog is not what is fuzzed here.
    static CATALOG: std::sync::OnceLock<Option<Catalog>> = std::sync::OnceLock::new();
    let Some(catalog) = CATALOG.get_or_init(|| Catalog::builtin().ok()).clone() else {
        return;
    };
    let Ok(mut detector) = config.build(catalog) else {
        return;
    };
    detector.restore(state);
    let mut out = Vec::new();
    for (host, second) in [("ws1", 0), ("ws2", 1), ("ws1", 900)] {
        if let Some(event) = connection(host, second) {
            detector.push(event, &mut out);
        }
    }
    detector.flush(&mut out);
    let _ = detector.activation();
});
