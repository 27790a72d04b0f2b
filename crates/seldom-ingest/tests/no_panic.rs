//! Property tests: no byte sequence panics a decoder. Random bytes, and real
//! records mutated at random, go through every entry point.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

use std::sync::Arc;

use proptest::prelude::*;
use seldom_ingest::{IngestOptions, Ingestor, JsonDecoder, NormalizeOptions, decode_xml};
use seldom_model::{Location, SourceFormat};

const JSON_SEED: &str = r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2020-07-22 03:27:52.776","ProcessGuid":"{g}","ProcessId":"1","Image":"C:\\x.exe","DestinationIp":"8.8.8.8","DestinationPort":"443","Initiated":"true","EventData":"{\"Image\":\"a\"}","winlog":{"event_data":{"QueryResults":"type: 5 a;::ffff:1.2.3.4;"}}}"#;
const AUDIT_SEED: &str = "type=SYSCALL msg=audit(1652292622.100:900): arch=c000003e syscall=42 success=yes exit=0 pid=4242 exe=\"/usr/bin/curl\"\ntype=SOCKADDR msg=audit(1652292622.100:900): saddr=020001BB5DB8D8220000000000000000\ntype=EXECVE msg=audit(1652292622.100:900): argc=2 a0=\"curl\" a1=2D61\n";
const XML_SEED: &str = r#"<Event><System><Provider Name="Linux-Sysmon"/><EventID>1</EventID><TimeCreated SystemTime="2022-05-11T18:10:20.465735000Z"/><Computer>U</Computer></System><EventData><Data Name="ProcessId">7</Data><Data Name="Image">&lt;x&gt;</Data></EventData></Event>"#;

fn origin() -> Location {
    Location::at_line(Arc::from("prop"), 1)
}

fn mutate(seed: &str, edits: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for &(at, byte) in edits {
        let i = at % bytes.len();
        bytes[i] = byte;
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn json_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = JsonDecoder::new(NormalizeOptions::default()).decode(text, origin());
        }
    }

    #[test]
    fn json_decoder_survives_mutated_records(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let bytes = mutate(JSON_SEED, &edits);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = JsonDecoder::new(NormalizeOptions::default()).decode(text, origin());
        }
    }

    #[test]
    fn audit_reader_survives_mutated_records(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let bytes = mutate(AUDIT_SEED, &edits);
        let mut ingestor = Ingestor::new(IngestOptions::default());
        ingestor.read_reader(&bytes[..], "prop", &mut |_| {});
    }

    #[test]
    fn xml_decoder_survives_mutated_records(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let bytes = mutate(XML_SEED, &edits);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = decode_xml(text, SourceFormat::EventXml, origin(), &NormalizeOptions::default());
        }
    }

    #[test]
    fn any_stream_never_panics(head in prop_oneof![Just(&b"ElfFile\0"[..]), Just(&b"PK\x03\x04"[..]), Just(&[0x1f, 0x8b][..]), Just(&b"{"[..]), Just(&b"<Event"[..]), Just(&b"type=SYSCALL msg=audit(1.0:1): "[..]), Just(&b"#separator \\x09\n#fields\tts\tid.orig_h\n"[..]), Just(&b"{\"class_uid\":4001,\"metadata\":{},"[..]), Just(&b"{\"event.category\":\"network\","[..])],
                               rest in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut input = head.to_vec();
        input.extend_from_slice(&rest);
        let options = IngestOptions { evtx_threads: 1, ..IngestOptions::default() };
        let mut ingestor = Ingestor::new(options);
        ingestor.read_reader(&input[..], "prop", &mut |_| {});
        prop_assert!(!ingestor.stats().skipped.contains_key("decoder_panic"));
    }
}
