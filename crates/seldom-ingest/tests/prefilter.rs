//! The byte prefilter never changes what is read: with it and without it,
//! the same events in the same order and the same counts, on the whole
//! corpus and on every JSON layout, whatever form its event id is written in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::sync::Arc;

use proptest::prelude::*;
use seldom_ingest::{
    Decoded, IgnoreReason, IngestOptions, IngestStats, Ingestor, JsonDecoder, NormalizeOptions,
};
use seldom_model::{Event, Location};

fn options(prefilter: bool) -> IngestOptions {
    IngestOptions {
        normalize: NormalizeOptions {
            prefilter,
            ..NormalizeOptions::default()
        },
        ..IngestOptions::default()
    }
}

fn read_path(path: &std::path::Path, prefilter: bool) -> (Vec<Event>, IngestStats) {
    let mut events = Vec::new();
    let mut ingestor = Ingestor::new(options(prefilter));
    ingestor
        .read_path(path, &mut |e| events.push(e))
        .expect("corpus opens");
    (events, ingestor.into_stats())
}

#[test]
fn the_whole_corpus_reads_the_same_with_and_without_the_prefilter() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let plain = read_path(&corpus, false);
    let filtered = read_path(&corpus, true);
    assert_eq!(plain.0.len(), filtered.0.len(), "event counts differ");
    assert!(plain.0 == filtered.0, "events differ");
    assert_eq!(
        serde_json::to_value(&plain.1).unwrap(),
        serde_json::to_value(&filtered.1).unwrap(),
        "statistics differ"
    );
    // The prefilter had something to do: most corpus records are unread ids.
    let unread = plain.1.ignored.get("other_event_id").copied().unwrap_or(0);
    assert!(unread > 100_000, "only {unread} unread records");
}

/// One line decoded by a fresh decoder, with or without the prefilter.
fn decode(line: &str, prefilter: bool) -> Result<Decoded, String> {
    let mut decoder = JsonDecoder::new(NormalizeOptions {
        prefilter,
        ..NormalizeOptions::default()
    });
    decoder
        .decode(line, Location::at_line(Arc::from("t"), 1))
        .map_err(|e| format!("{e:?}"))
}

/// Same outcome, or the one documented difference: a malformed line the
/// prefilter counted as an unread id without parsing it.
fn assert_same_outcome(line: &str) {
    let plain = decode(line, false);
    let filtered = decode(line, true);
    match (&plain, &filtered) {
        (Ok(Decoded::Event(a)), Ok(Decoded::Event(b))) => assert!(a == b, "{line}"),
        (Ok(Decoded::Ignored(a)), Ok(Decoded::Ignored(b))) => assert_eq!(a, b, "{line}"),
        (Err(a), Err(b)) => assert_eq!(a, b, "{line}"),
        (Err(_), Ok(Decoded::Ignored(IgnoreReason::OtherEventId))) => {}
        _ => panic!("{line}\nplain: {plain:?}\nfiltered: {filtered:?}"),
    }
}

/// Every layout, its event id written every way a shipper does or might.
#[test]
fn every_layout_and_every_form_of_the_event_id_decodes_the_same() {
    let ids = [
        "3",
        "10",
        "4624",
        "4688",
        "\"3\"",
        "\"10\"",
        "\" 10\"",
        "\"10 \"",
        " 10 ",
        "10.0",
        "1e1",
        "-3",
        "03",
        "\"03\"",
        "null",
        "true",
        "{\"#text\":10}",
        "{\"#attributes\":{\"Qualifiers\":0},\"#text\":3}",
        "[10]",
        "4294967296",
    ];
    let sysmon = r#""Image":"C:\\Windows\\x.exe","ProcessGuid":"{a}","ProcessId":"7","UtcTime":"2020-07-22 03:27:50.123","Protocol":"tcp","Initiated":"true","SourceIp":"10.0.0.5","SourcePort":"50001","DestinationIp":"93.184.216.34","DestinationPort":"443""#;
    let layouts = [
        // flat NXLog
        format!(
            r#"{{"EventID":@ID@,"Hostname":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational",{sysmon}}}"#
        ),
        // flat, zone-less TimeCreated (the decoder learns an offset from it)
        format!(
            r#"{{"EventID":@ID@,"Hostname":"WS1","TimeCreated":"2020-07-22 05:27:50","SourceName":"Microsoft-Windows-Sysmon",{sysmon}}}"#
        ),
        // Winlogbeat 6
        format!(
            r#"{{"event_id":@ID@,"computer_name":"WS1","log_name":"Microsoft-Windows-Sysmon/Operational","event_data":{{{sysmon}}}}}"#
        ),
        // Winlogbeat 7+
        format!(
            r#"{{"@timestamp":"2020-07-22T03:27:50Z","host":{{"name":"wec"}},"winlog":{{"event_id":@ID@,"computer_name":"WS1","channel":"Microsoft-Windows-Sysmon/Operational","event_data":{{{sysmon}}}}}}}"#
        ),
        // evtx_dump JSON
        format!(
            r##"{{"Event":{{"System":{{"EventID":@ID@,"Computer":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational","TimeCreated":{{"#attributes":{{"SystemTime":"2020-07-22T03:27:50Z"}}}}}},"EventData":{{{sysmon}}}}}}}"##
        ),
        // Azure WindowsEvent, EventData a JSON string
        r#"{"EventID":@ID@,"Computer":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational","TimeGenerated":"2020-07-22T03:27:50Z","EventData":"{\"Image\":\"C:\\\\x.exe\",\"DestinationIp\":\"93.184.216.34\",\"Initiated\":\"true\"}"}"#.to_owned(),
        // Azure Syslog with a Sysmon for Linux document
        r#"{"EventID":@ID@,"Computer":"lx1","SyslogMessage":"<Event><System><EventID>3</EventID></System></Event>"}"#.to_owned(),
        // the id in a place no layout reads it, in an ECS connection
        r#"{"@timestamp":"2024-05-01T10:00:00Z","labels":{"EventID":@ID@},"event":{"category":["network"],"type":["connection"]},"host":{"name":"ws1","os":{"type":"windows"}},"process":{"entity_id":"p","executable":"C:\\a.exe"},"destination":{"ip":"198.18.0.1","port":443},"network":{"direction":"egress"}}"#.to_owned(),
        // Zeek beside an id
        r#"{"EventID":@ID@,"ts":1600000000.0,"id.orig_h":"10.0.0.5","id.resp_h":"93.184.216.34","id.resp_p":443}"#.to_owned(),
    ];
    for layout in &layouts {
        for id in ids {
            let line = layout.replace("@ID@", id);
            assert_same_outcome(&line);
            // Spaces where JSON allows them.
            assert_same_outcome(&line.replace("\":", "\" : ").replace(",\"", " , \""));
        }
    }
}

/// A record no source reads still teaches the decoder a host's local-time
/// offset when it carries both clocks; a later record with local time only
/// must be placed the same with and without the prefilter.
#[test]
fn an_unread_record_still_teaches_the_local_time_offset() {
    let teacher = r#"{"EventID":10,"Hostname":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational","TimeCreated":"2020-07-22 05:27:50","UtcTime":"2020-07-22 03:27:50.123"}"#;
    let learner = r#"{"EventID":5156,"Hostname":"WS1","Channel":"Security","TimeCreated":"2020-07-22 05:30:00","Application":"\\device\\harddiskvolume2\\x.exe","Direction":"%%14593","SourceAddress":"10.0.0.5","SourcePort":"50000","DestAddress":"93.184.216.34","DestPort":"443","Protocol":"6","ProcessID":"123"}"#;
    let times = |prefilter| {
        let mut decoder = JsonDecoder::new(NormalizeOptions {
            prefilter,
            ..NormalizeOptions::default()
        });
        let at = Location::at_line(Arc::from("t"), 1);
        let first = decoder
            .decode(teacher, at.clone())
            .expect("teacher decodes");
        assert!(matches!(
            first,
            Decoded::Ignored(IgnoreReason::OtherEventId)
        ));
        match decoder.decode(learner, at).expect("learner decodes") {
            Decoded::Event(event) => event.time,
            other => panic!("{other:?}"),
        }
    };
    let plain = times(false);
    assert_eq!(plain.to_string(), "2020-07-22T03:30:00Z");
    assert_eq!(times(true), plain);
}

/// A JSON value of a few levels, keys drawn from those the walker reads.
fn json_value() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("EventID"),
        Just("event_id"),
        Just("winlog"),
        Just("Event"),
        Just("System"),
        Just("EventData"),
        Just("Channel"),
        Just("Hostname"),
        Just("TimeCreated"),
        Just("Image"),
        Just("x"),
    ];
    let leaf = prop_oneof![
        (0u32..6000).prop_map(|n| n.to_string()),
        (0u32..6000).prop_map(|n| format!("\"{n}\"")),
        Just("\"Microsoft-Windows-Sysmon/Operational\"".to_owned()),
        Just("\"2020-07-22 05:27:50\"".to_owned()),
        Just("\"a \\\"q\\\" \\\\ b\"".to_owned()),
        Just("null".to_owned()),
        Just("[1,\"2\"]".to_owned()),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop::collection::vec((key.clone(), inner), 0..6).prop_map(|members| {
            let body: Vec<String> = members
                .into_iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            format!("{{{}}}", body.join(","))
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Random documents of the walker's keys, and their truncations.
    #[test]
    fn random_documents_decode_the_same(doc in json_value(), cut in 0usize..200) {
        assert_same_outcome(&doc);
        let cut = cut.min(doc.len());
        if doc.is_char_boundary(cut) {
            assert_same_outcome(&doc[..cut]);
        }
    }
}
