//! Dirty and hostile input: every bad record is counted, located and skipped,
//! and the good records around it survive.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use seldom_ingest::IngestOptions;

const GOOD: &str = r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2020-07-22 03:27:52.776","ProcessGuid":"{g}","ProcessId":"1","Image":"C:\\x.exe","DestinationIp":"8.8.8.8","DestinationPort":"443","Initiated":"true"}"#;

fn lines(parts: &[&str]) -> Vec<u8> {
    parts.join("\n").into_bytes()
}

#[test]
fn bad_json_between_good_lines_costs_only_itself() {
    let input = lines(&[GOOD, "{not json", GOOD, r#"{"EventID":3,"#, GOOD]);
    let (events, stats) = common::read_bytes(&input, IngestOptions::default());
    assert_eq!(events.len(), 3);
    let bad = &stats.skipped["bad_json"];
    assert_eq!(bad.count, 2);
    assert_eq!(bad.examples[0].location, "input:2");
    assert_eq!(bad.examples[1].location, "input:4");
}

#[test]
fn a_huge_line_is_skipped_without_being_held() {
    let huge = format!(r#"{{"EventID":3,"pad":"{}"}}"#, "x".repeat(10 << 20));
    let input = lines(&[GOOD, &huge, GOOD]);
    let options = IngestOptions {
        max_line_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    let (events, stats) = common::read_bytes(&input, options);
    assert_eq!(events.len(), 2);
    assert_eq!(stats.skipped["line_too_long"].count, 1);
    assert_eq!(
        stats.skipped["line_too_long"].examples[0].location,
        "input:2"
    );
}

#[test]
fn missing_and_malformed_fields_are_named() {
    let no_dest = GOOD.replace(r#""DestinationIp":"8.8.8.8","#, "");
    let bad_ip = GOOD.replace("8.8.8.8", "8.8.8");
    let bad_port = GOOD.replace(r#""443""#, r#""99999""#);
    let bad_time = GOOD.replace("2020-07-22 03:27:52.776", "1601-01-01 00:00:00.000");
    let no_host = GOOD.replace(r#""Hostname":"WS1","#, "");
    let input = lines(&[&no_dest, &bad_ip, &bad_port, &bad_time, &no_host, GOOD]);
    let (events, stats) = common::read_bytes(&input, IngestOptions::default());
    assert_eq!(events.len(), 1);
    assert_eq!(stats.skipped["missing_field"].count, 2);
    assert_eq!(stats.skipped["bad_field"].count, 2);
    assert_eq!(stats.skipped["bad_timestamp"].count, 1);
    let details: Vec<&str> = stats.skipped["bad_field"]
        .examples
        .iter()
        .map(|e| e.detail.as_str())
        .collect();
    assert!(
        details[0].contains("DestinationIp") && details[1].contains("DestinationPort"),
        "{details:?}"
    );
}

#[test]
fn invalid_utf8_lines_are_skipped() {
    let mut input = GOOD.as_bytes().to_vec();
    input.extend_from_slice(b"\n{\"EventID\":\xff\xfe}\n");
    input.extend_from_slice(GOOD.as_bytes());
    let (events, stats) = common::read_bytes(&input, IngestOptions::default());
    assert_eq!(events.len(), 2);
    assert_eq!(stats.skipped["not_utf8"].count, 1);
}

#[test]
fn a_gzip_bomb_is_stopped_and_counted() {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    let options = IngestOptions {
        ratio_floor_bytes: 1 << 20,
        max_inflation_ratio: 100,
        ..IngestOptions::default()
    };
    let (events, stats) = common::read_bytes(&bomb, options);
    assert!(events.is_empty());
    assert_eq!(stats.skipped["too_large"].count, 1, "{:?}", stats.skipped);
}

#[test]
fn a_zip_bomb_member_is_stopped_and_its_neighbours_read() {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("good-before.json", options).unwrap();
    writer.write_all(GOOD.as_bytes()).unwrap();
    writer.start_file("bomb.json", options).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        writer.write_all(&zeros).unwrap();
    }
    writer.start_file("good-after.json", options).unwrap();
    writer.write_all(GOOD.as_bytes()).unwrap();
    let archive = writer.finish().unwrap().into_inner();
    let options = IngestOptions {
        ratio_floor_bytes: 1 << 20,
        max_inflation_ratio: 100,
        ..IngestOptions::default()
    };
    let (events, stats) = common::read_bytes(&archive, options);
    assert_eq!(events.len(), 2, "the members around the bomb are read");
    assert_eq!(stats.skipped["too_large"].count, 1, "{:?}", stats.skipped);
    assert!(
        stats.skipped["too_large"].examples[0]
            .location
            .contains("bomb.json")
    );
}

#[test]
fn a_truncated_evtx_file_keeps_its_readable_records() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let whole = std::fs::read(corpus.join("open/panache_sysmon_vs_EDRTestingScript.evtx")).unwrap();
    let (all, all_stats) = common::read_bytes(&whole, IngestOptions::default());
    // The file header is 4 KiB and chunks 64 KiB: cut inside the second chunk,
    // so the first chunk is intact.
    let cut = &whole[..4096 + 65536 + 1234];
    let (some, stats) = common::read_bytes(cut, IngestOptions::default());
    assert!(!some.is_empty());
    assert!(
        stats.records_read < all_stats.records_read,
        "{} of {}",
        stats.records_read,
        all_stats.records_read
    );
    assert_eq!(
        some[..],
        all[..some.len()],
        "records before the cut decode as in the whole file"
    );
    assert!(!stats.skipped.contains_key("decoder_panic"));
}

#[test]
fn a_truncated_evtx_files_last_chunk_gives_its_complete_records_and_counts_the_rest() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let whole = std::fs::read(corpus.join("open/panache_sysmon_vs_EDRTestingScript.evtx")).unwrap();
    let two_chunks = &whole[..4096 + 2 * 65536];
    let (both, both_stats) = common::read_bytes(two_chunks, IngestOptions::default());
    let (first, _) = common::read_bytes(&whole[..4096 + 65536], IngestOptions::default());
    // Cut half way into the second chunk: its first half is complete records.
    let (some, stats) =
        common::read_bytes(&whole[..4096 + 65536 + 32768], IngestOptions::default());
    assert!(
        some.len() > first.len(),
        "the cut chunk's complete records are read: {} events, {} from the first chunk alone",
        some.len(),
        first.len()
    );
    assert!(some.len() < both.len());
    assert_eq!(
        some[..],
        both[..some.len()],
        "they decode as in the whole chunk"
    );
    // Every record the chunk held is accounted for: read, or counted lost.
    assert_eq!(stats.records_read, both_stats.records_read);
    let lost = &stats.skipped["bad_evtx"];
    assert!(lost.count > 0, "{:?}", stats.skipped);
    assert!(lost.examples[0].detail.contains("truncated"), "{lost:?}");
    // A cut inside the chunk header loses the chunk, and says so.
    let (_, stats) = common::read_bytes(&whole[..4096 + 65536 + 100], IngestOptions::default());
    assert_eq!(stats.skipped["bad_evtx"].count, 1, "{:?}", stats.skipped);
}

#[test]
fn dirty_evtx_samples_are_counted_not_fatal() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut ingestor = seldom_ingest::Ingestor::new(IngestOptions::default());
    let mut events = 0;
    ingestor
        .read_path(&corpus.join("evtx-crate-samples"), &mut |_| events += 1)
        .unwrap();
    let stats = ingestor.into_stats();
    assert!(events > 0);
    assert!(stats.skipped["bad_evtx"].count > 0, "{:?}", stats.skipped);
    assert!(
        stats.skipped["bad_evtx"]
            .examples
            .iter()
            .any(|e| e.location.contains("bad_chunk_magic"))
    );
}

#[test]
fn binary_and_unsupported_text_files_are_ignored_once() {
    let (_, stats) = common::read_bytes(b"\x00\x01\x02 binary", IngestOptions::default());
    assert_eq!(stats.ignored["not_telemetry"], 1);
    let csv = "a,b,c\n1,2,3\n4,5,6\n";
    let (_, stats) = common::read_bytes(csv.as_bytes(), IngestOptions::default());
    assert_eq!(stats.ignored["unsupported_text"], 1);
    assert_eq!(stats.skipped_total(), 0);
}

#[test]
fn a_local_time_with_a_multibyte_character_at_its_zone_is_skipped_not_a_panic() {
    // Byte 19 falls inside `é`: looking for a zone there must not slice a character.
    let line = GOOD.replace(
        r#""UtcTime""#,
        r#""TimeCreated":"2020-07-22 03:27:5é","UtcTime""#,
    );
    let (events, _) = common::read_bytes(line.as_bytes(), IngestOptions::default());
    assert_eq!(events.len(), 1);
}
