//! Decoding on several threads gives exactly what one thread gives: the same
//! events in the same order, the same counts and the same first examples, on
//! real files and on an input built to put the decoder's one piece of state
//! (the learned local-time offset) across chunk boundaries.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use seldom_ingest::{IngestOptions, IngestStats, Ingestor};
use seldom_model::Event;

fn options(threads: usize) -> IngestOptions {
    IngestOptions {
        decode_threads: threads,
        ..IngestOptions::default()
    }
}

fn read_path(path: &std::path::Path, threads: usize) -> (Vec<Event>, IngestStats) {
    let mut events = Vec::new();
    let mut ingestor = Ingestor::new(options(threads));
    ingestor
        .read_path(path, &mut |e| events.push(e))
        .expect("input opens");
    (events, ingestor.into_stats())
}

fn assert_same(one: &(Vec<Event>, IngestStats), many: &(Vec<Event>, IngestStats)) {
    assert_eq!(one.0.len(), many.0.len(), "event counts differ");
    assert!(one.0 == many.0, "events differ");
    assert_eq!(
        serde_json::to_value(&one.1).unwrap(),
        serde_json::to_value(&many.1).unwrap(),
        "statistics differ"
    );
}

/// A flat NXLog record whose `TimeCreated` is local time.
fn security_5156(local: &str, port: u32) -> String {
    format!(
        r#"{{"EventID":5156,"Hostname":"WS1","Channel":"Security","TimeCreated":"{local}","Application":"\\device\\harddiskvolume2\\windows\\system32\\x.exe","Direction":"%%14593","SourceAddress":"10.0.0.5","SourcePort":"50000","DestAddress":"93.184.216.34","DestPort":"{port}","Protocol":"6","ProcessID":"123"}}"#
    )
}

/// A Sysmon record carrying both clocks: it teaches the offset (+02:00).
const TEACHER: &str = r#"{"EventID":3,"Hostname":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational","TimeCreated":"2020-07-22 05:27:50","UtcTime":"2020-07-22 03:27:50.123","ProcessGuid":"{a}","ProcessId":"7","Image":"C:\\x.exe","Protocol":"tcp","Initiated":"true","SourceIp":"10.0.0.5","SourcePort":"50001","DestinationIp":"93.184.216.34","DestinationPort":"443"}"#;

#[test]
fn state_learned_in_an_early_chunk_reaches_records_chunks_later() {
    // Records needing the offset before anything taught it (skipped), then
    // the teacher, then more than three chunks of records that need it, with
    // a malformed line, a non-UTF-8 line and an over-long line among them.
    let mut input = Vec::new();
    for port in 0..3 {
        input.extend(security_5156("2020-07-22 05:00:00", port).bytes());
        input.push(b'\n');
    }
    input.extend(TEACHER.bytes());
    input.push(b'\n');
    let mut port = 1000;
    while input.len() < 5 << 20 {
        input.extend(security_5156("2020-07-22 05:30:00", port).bytes());
        input.push(b'\n');
        port += 1;
        match port % 4000 {
            1 => input.extend(b"{\"EventID\":3,\n"),
            2 => input.extend(b"\xff\xfe not text\n"),
            3 => input.extend(format!("{{\"x\":\"{}\"}}\n", "y".repeat(3000)).bytes()),
            _ => {}
        }
    }
    let read = |threads| {
        let mut events = Vec::new();
        let mut ingestor = Ingestor::new(IngestOptions {
            max_line_bytes: 2048,
            ..options(threads)
        });
        ingestor.read_reader(&input[..], "input", &mut |e| events.push(e));
        (events, ingestor.into_stats())
    };
    let one = read(1);
    assert_eq!(one.1.skipped["bad_timestamp"].count, 3);
    assert!(one.0.len() > 10_000, "{} events", one.0.len());
    for skip in ["bad_json", "not_utf8", "line_too_long"] {
        assert!(one.1.skipped[skip].count > 0, "{skip}");
    }
    for threads in [2, 3] {
        assert_same(&one, &read(threads));
    }
}

#[test]
fn real_json_lines_decode_the_same_on_several_threads() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    // The NXLog recording whose first records need an offset not yet learned,
    // and two large recordings of many chunks each.
    for file in [
        "open/wmic_remote_xsl_jscript.zip",
        "otrf/datasets/atomic/windows/persistence/host/empire_persistence_registry_modification_run_keys_standard_user.zip",
        "otrf/datasets/compound/LSASS_campaign_07/metasploit_nanodump_lsass_memory_dump.zip",
    ] {
        let path = corpus.join(file);
        let one = read_path(&path, 1);
        assert!(!one.0.is_empty(), "{file}: no events");
        assert_same(&one, &read_path(&path, 2));
    }
}

/// The parallel reader takes whole lines straight from the reader's buffer;
/// lines cut by the buffer's end, lines at and just past the bound, a line
/// longer than the buffer, CRLF endings and a last line without `\n` must
/// frame exactly as the one-thread reader frames them.
#[test]
fn lines_at_every_edge_of_the_buffer_frame_as_on_one_thread() {
    let max = 64 << 10; // within the 256 KiB read buffer
    let record = |port: usize, pad: usize| {
        format!(
            r#"{{"EventID":3,"Hostname":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2020-07-22 03:27:50.123","ProcessGuid":"{{a}}","ProcessId":"7","Image":"C:\\x.exe","Initiated":"true","SourceIp":"10.0.0.5","SourcePort":"1","DestinationIp":"93.184.216.34","DestinationPort":"{port}","Pad":"{}"}}"#,
            "p".repeat(pad)
        )
    };
    let mut input = Vec::new();
    let mut port = 0;
    while input.len() < 6 << 20 {
        port += 1;
        let pad = match port % 97 {
            0 => max - record(port, 0).len(),     // exactly the bound
            1 => max + 1 - record(port, 0).len(), // one byte past it
            2 => 700 << 10,                       // longer than the buffer
            3 | 4 => max - 700,                   // within the bound, often cut by the buffer's end
            _ => port % 3000,
        };
        input.extend(record(port, pad).bytes());
        input.extend(if port % 5 == 0 { &b"\r\n"[..] } else { b"\n" });
    }
    input.extend(record(port + 1, 10).bytes()); // no newline at the end
    let read = |threads| {
        let mut events = Vec::new();
        let mut ingestor = Ingestor::new(IngestOptions {
            max_line_bytes: max,
            ..options(threads)
        });
        ingestor.read_reader(&input[..], "input", &mut |e| events.push(e));
        (events, ingestor.into_stats())
    };
    let one = read(1);
    assert!(one.1.skipped["line_too_long"].count > 5);
    assert_eq!(one.1.records_read as usize, port + 1);
    assert_same(&one, &read(2));
}
