//! A [`TextDecoder`] keeps a stream's state between lines however they
//! arrive, and decodes exactly as [`Ingestor`] decodes the same bytes as a
//! whole file.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::lines::{Line, LineFramer};
use crate::source::Ingestor;

fn options() -> IngestOptions {
    IngestOptions {
        decode_threads: 1,
        max_line_bytes: 200,
        ..IngestOptions::default()
    }
}

/// Events and stats of `text` framed in pieces of `piece` bytes, as the
/// tailer hands a followed file's reads to its decoder.
fn decode_in_pieces(text: &[u8], piece: usize) -> (Vec<Event>, IngestStats) {
    let options = options();
    let mut decoder = TextDecoder::new("t.log", Arc::from("t.log"), &options);
    let mut framer = LineFramer::new(options.max_line_bytes);
    let mut line = Vec::new();
    let mut stats = IngestStats::default();
    let mut events = Vec::new();
    let mut sink = |e| events.push(e);
    for chunk in text.chunks(piece) {
        let mut at = 0;
        while at < chunk.len() {
            let (taken, ended) = framer.push(&chunk[at..], &mut line);
            at += taken;
            match ended {
                Some(Line::Complete) => decoder.line(&line, &mut stats, &mut sink),
                Some(Line::TooLong { length }) => decoder.too_long(length, &mut stats),
                Some(Line::Eof) | None => {}
            }
        }
    }
    match framer.finish() {
        Line::Complete => decoder.line(&line, &mut stats, &mut sink),
        Line::TooLong { length } => decoder.too_long(length, &mut stats),
        Line::Eof => {}
    }
    decoder.flush(&mut stats, &mut sink);
    (events, stats)
}

fn read_whole(text: &[u8]) -> (Vec<Event>, IngestStats) {
    let mut ingestor = Ingestor::new(options());
    let mut events = Vec::new();
    ingestor.read_reader(text, "t.log", &mut |e| events.push(e));
    (events, ingestor.into_stats())
}

/// What a read counted of its records (not of its files).
fn counts(stats: &IngestStats) -> serde_json::Value {
    let mut value = serde_json::to_value(stats).unwrap();
    let object = value.as_object_mut().unwrap();
    object.remove("files_read");
    object.remove("bytes_read");
    value
}

const SYSCALL: &str = r#"node=web01 type=SYSCALL msg=audit(1652292622.100:900): arch=c000003e syscall=42 success=yes exit=0 ppid=1 pid=4242 uid=0 comm="curl" exe="/usr/bin/curl""#;
const SOCKADDR: &str = "node=web01 type=SOCKADDR msg=audit(1652292622.100:900): saddr=020001BB5DB8D8220000000000000000";
const EOE: &str = "node=web01 type=EOE msg=audit(1652292622.100:900): ";

#[test]
fn lines_decode_as_the_whole_file_does_however_they_arrive() {
    let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(300));
    let zeek = format!(
        "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n\
         1692161622.036086\t10.0.0.5\t50000\t198.51.100.7\t443\ttcp\tSF\n\
         {long}\n\
         \n\
         1692161623.5\t10.0.0.6\t50001\t198.51.100.8\t443\ttcp\tSF\n\
         1692161624.5\tshort row\n"
    );
    let audit = format!(
        "{SYSCALL}\ntype=\n{SOCKADDR}\n{EOE}\n{}\n{}",
        SYSCALL.replace(":900)", ":901)"),
        SOCKADDR.replace(":900)", ":901)")
    );
    let json = format!(
        "\u{feff}{{\"_path\":\"conn\",\"ts\":1692161622.5,\"id.orig_h\":\"10.0.0.9\",\"id.orig_p\":5,\"id.resp_h\":\"198.51.100.9\",\"id.resp_p\":443,\"proto\":\"tcp\",\"conn_state\":\"SF\"}}\n{{oops\n{long}\n"
    );
    let mut not_utf8 = b"#fields\tts\tid.orig_h\n".to_vec();
    not_utf8.extend_from_slice(b"\xff\xfe\tbad\n1692161622\t10.0.0.1\n");
    let fixtures: [(&str, Vec<u8>); 5] = [
        ("zeek", zeek.into_bytes()),
        ("audit", audit.into_bytes()),
        ("json", json.into_bytes()),
        ("not utf-8", not_utf8),
        (
            "unsupported",
            format!("hello\n{long}\nworld\n").into_bytes(),
        ),
    ];
    for (what, text) in fixtures {
        let (expected_events, expected_stats) = read_whole(&text);
        for piece in [1, 2, 7, 64, text.len()] {
            let (events, stats) = decode_in_pieces(&text, piece);
            assert_eq!(events, expected_events, "{what}, in pieces of {piece}");
            assert_eq!(
                counts(&stats),
                counts(&expected_stats),
                "{what}, in pieces of {piece}"
            );
        }
        assert!(
            expected_stats.records_read > 0 || what == "unsupported",
            "{what}: the fixture reads nothing"
        );
        assert!(
            !expected_events.is_empty() || matches!(what, "unsupported" | "not utf-8"),
            "{what}: the fixture makes no event: {expected_stats:?}"
        );
    }
}

#[test]
fn an_audit_event_waits_for_its_last_record_or_a_flush() {
    let mut decoder = TextDecoder::new("audit.log", Arc::from("audit.log"), &options());
    let mut stats = IngestStats::default();
    let mut events = Vec::new();
    for record in [SYSCALL, SOCKADDR] {
        decoder.line(record.as_bytes(), &mut stats, &mut |e| events.push(e));
        assert!(events.is_empty(), "the event is not complete yet");
    }
    decoder.line(EOE.as_bytes(), &mut stats, &mut |e| events.push(e));
    assert_eq!(events.len(), 1, "{stats:?}");
    // With no EOE, a flush completes it; the layout outlives the flush.
    for record in [SYSCALL, SOCKADDR] {
        let record = record.replace(":900)", ":902)");
        decoder.line(record.as_bytes(), &mut stats, &mut |e| events.push(e));
    }
    assert_eq!(events.len(), 1);
    decoder.flush(&mut stats, &mut |e| events.push(e));
    assert_eq!(events.len(), 2, "{stats:?}");
    assert_eq!(events[1].origin.record, Some(902));
    assert_eq!(events[1].host.as_str(), "web01");
}

#[test]
fn a_zeek_header_learned_from_the_head_decodes_the_rows_after_it() {
    let head = [
        "#separator \\x09",
        "#path\tconn",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state",
        "#types\ttime\taddr\tport\taddr\tport\tenum\tstring",
    ];
    let row = "1692161622.036086\t10.0.0.5\t50000\t198.51.100.7\t443\ttcp\tSF";
    let mut stats = IngestStats::default();
    let mut events = Vec::new();

    // Resumed after the header without it: the rows are not understood.
    let mut blind = TextDecoder::new("conn.log", Arc::from("conn.log@700"), &options());
    blind.line(row.as_bytes(), &mut stats, &mut |e| events.push(e));
    assert!(blind.unsupported() && events.is_empty());

    let mut resumed = TextDecoder::new("conn.log", Arc::from("conn.log@700"), &options());
    for line in head {
        assert!(resumed.learn_from_head(line.as_bytes()), "{line}");
    }
    assert!(
        !resumed.learn_from_head(row.as_bytes()),
        "a row ends the head"
    );
    resumed.line(row.as_bytes(), &mut stats, &mut |e| events.push(e));
    assert_eq!(events.len(), 1, "{stats:?}");
    assert_eq!(events[0].origin.to_string(), "conn.log@700:1");

    // The head of another layout teaches nothing.
    let mut json = TextDecoder::new("x.jsonl", Arc::from("x.jsonl"), &options());
    assert!(!json.learn_from_head(b"{\"a\":1}"));
    assert!(!json.unsupported());
}
