//! Archives are read in place, recognized by content, whatever their names.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use seldom_ingest::IngestOptions;

const LINE: &str = r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2020-07-22 03:27:52.776","ProcessId":"1","DestinationIp":"8.8.8.8"}"#;

fn json_lines(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.extend_from_slice(LINE.as_bytes());
        out.push(b'\n');
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn gzip_stream_of_json_lines() {
    let (events, stats) = common::read_bytes(&gzip(&json_lines(5)), IngestOptions::default());
    assert_eq!(events.len(), 5);
    assert_eq!(events[0].origin.source.as_ref(), "input!");
    assert_eq!(stats.files_read, 1);
}

#[test]
fn tar_gz_with_a_resource_fork_and_a_nested_gzip() {
    let nested = gzip(&json_lines(2));
    let archive = gzip(&tar(&[
        ("logs/a.json", &json_lines(3)),
        ("__MACOSX/logs/._a.json", b"\x00\x05\x16\x07binary"),
        ("logs/b.json.gz", &nested),
    ]));
    let (events, stats) = common::read_bytes(&archive, IngestOptions::default());
    assert_eq!(events.len(), 5);
    assert_eq!(stats.ignored["not_telemetry"], 1);
    assert!(
        events
            .iter()
            .any(|e| e.origin.source.as_ref() == "input!!logs/a.json")
    );
}

#[test]
fn nesting_deeper_than_the_bound_is_refused() {
    let mut data = json_lines(1);
    for _ in 0..5 {
        data = gzip(&data);
    }
    let options = IngestOptions {
        max_archive_depth: 3,
        ..IngestOptions::default()
    };
    let (events, stats) = common::read_bytes(&data, options);
    assert!(events.is_empty());
    assert_eq!(stats.skipped["too_large"].count, 1);
}

#[test]
fn zip_from_the_corpus_and_from_a_stream_agree() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let path = corpus.join("open/covenant_installutil.zip");
    let mut from_file = Vec::new();
    let mut ingestor = seldom_ingest::Ingestor::new(IngestOptions::default());
    ingestor
        .read_path(&path, &mut |e| from_file.push(e))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (from_stream, _) = common::read_bytes(&bytes, IngestOptions::default());
    assert!(!from_file.is_empty());
    assert_eq!(from_file.len(), from_stream.len());
    assert_eq!(from_file[0].kind, from_stream[0].kind);
}
