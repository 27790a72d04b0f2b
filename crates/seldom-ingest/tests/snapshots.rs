//! Snapshots of normalized events from real records of each layout, including
//! the traps the corpus README lists: `Initiated` as a string and as a boolean,
//! `DestinationHostname` as `-` or empty, `Image` as `<unknown process>` or a
//! bare `bash`. A change in what seldom understands shows up here as a diff.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use seldom_ingest::{IngestOptions, NormalizeOptions};
use seldom_model::{Event, EventKind};

fn first(events: &[Event], what: &str, pick: impl Fn(&Event) -> bool) -> Event {
    events
        .iter()
        .find(|e| pick(e))
        .unwrap_or_else(|| panic!("no event: {what}"))
        .clone()
}

fn connection_to(events: &[Event], ip: &str, event_id: u32) -> Event {
    first(events, ip, |e| {
        e.event_id == event_id
            && matches!(&e.kind, EventKind::NetworkConnection(c) if c.destination_ip.to_string() == ip)
    })
}

fn image_of(e: &Event) -> Option<&str> {
    match &e.kind {
        EventKind::ProcessStart(p) => p.image.as_deref(),
        EventKind::ProcessEnd(p) => p.image.as_deref(),
        EventKind::NetworkConnection(c) => c.image.as_deref(),
        EventKind::DnsQuery(d) => d.image.as_deref(),
    }
}

#[test]
fn evtx_sysmon_mshta_connection() {
    let Some((events, _)) =
        common::read_corpus_file("open/panache_sysmon_vs_EDRTestingScript.evtx")
    else {
        return;
    };
    insta::assert_json_snapshot!(connection_to(&events, "93.184.220.29", 3));
}

#[test]
fn evtx_unknown_process_image() {
    let file = "evtx-attack-samples/Lateral Movement/ImpersonateUser-via local Pass The Hash Sysmon and Security.evtx";
    let Some((events, _)) = common::read_corpus_file(file) else {
        return;
    };
    insta::assert_json_snapshot!(first(&events, "<unknown process>", |e| image_of(e)
        == Some("<unknown process>")));
}

#[test]
fn flat_json_sysmon_security_and_wfp_views_of_regsvr32() {
    let Some((events, _)) = common::read_corpus_file("open/empire_launcher_sct_regsvr32.zip")
    else {
        return;
    };
    let sysmon = connection_to(&events, "10.10.10.5", 3);
    let wfp = connection_to(&events, "10.10.10.5", 5156);
    let creation = first(&events, "4688 regsvr32", |e| {
        e.event_id == 4688
            && image_of(e).is_some_and(|i| i.to_ascii_lowercase().ends_with("regsvr32.exe"))
    });
    // `DestinationHostname` is `-` in this recording: it must read as absent.
    insta::assert_json_snapshot!("flat_sysmon_3_string_initiated_dash_hostname", sysmon);
    insta::assert_json_snapshot!("flat_security_5156_outbound", wfp);
    insta::assert_json_snapshot!("flat_security_4688_hex_pids", creation);
}

#[test]
fn winlogbeat6_connection_with_empty_hostname() {
    let file = "otrf/datasets/atomic/windows/defense_evasion/host/empire_wdigest_downgrade.tar.gz";
    let Some((events, _)) = common::read_corpus_file(file) else {
        return;
    };
    insta::assert_json_snapshot!(first(&events, "connection", |e| e.event_id == 3));
}

#[test]
fn azure_windows_event_rows() {
    let file = "otrf/datasets/compound/Log4Shell/sysmon_log4shell_cve2021_44228_java_serialized_object.zip";
    let Some((events, _)) = common::read_corpus_file(file) else {
        return;
    };
    insta::assert_json_snapshot!("azure_sysmon_3", connection_to(&events, "192.168.3.5", 3));
    insta::assert_json_snapshot!(
        "azure_sysmon_1",
        first(&events, "process start", |e| e.event_id == 1)
    );
}

#[test]
fn syslog_sysmon_for_linux_bare_bash_and_unknown_process() {
    let file =
        "otrf/datasets/compound/Log4Shell/syslog_sysmon_log4shell_cve2021_44228_jndi_reference.zip";
    let Some((events, _)) = common::read_corpus_file(file) else {
        return;
    };
    insta::assert_json_snapshot!(
        "syslog_bash_reverse_shell",
        first(&events, "bash", |e| image_of(e) == Some("bash"))
    );
    insta::assert_json_snapshot!(
        "syslog_unknown_process_mended_escapes",
        first(&events, "<unknown process>", |e| image_of(e)
            == Some("<unknown process>"))
    );
}

/// Winlogbeat 7 and later nest everything under `winlog` and write booleans as
/// booleans. None is in the corpus; this record is the Winlogbeat 6 record of
/// `empire_wdigest_downgrade` reshaped as Winlogbeat 8 writes it.
#[test]
fn winlogbeat7_boolean_initiated() {
    let line = r#"{"@timestamp":"2019-05-18T20:19:21.130Z","host":{"name":"WECserver"},"winlog":{"event_id":3,"computer_name":"HR001.shire.com","channel":"Microsoft-Windows-Sysmon/Operational","provider_name":"Microsoft-Windows-Sysmon","record_id":2187870,"event_data":{"Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","UtcTime":"2019-05-07 11:32:37.933","SourceIp":"172.18.39.106","ProcessGuid":"{03ba39f5-50b2-5ce0-0000-00109995c501}","ProcessId":5452,"Initiated":true,"User":"SHIRE\\nmartha","Protocol":"tcp","DestinationIp":"10.0.10.106","SourcePort":52416,"SourceHostname":"HR001.shire.com","DestinationPort":443,"DestinationHostname":""}}}"#;
    let (events, stats) = common::read_bytes(
        line.as_bytes(),
        IngestOptions {
            normalize: NormalizeOptions::default(),
            ..IngestOptions::default()
        },
    );
    assert_eq!(stats.skipped_total(), 0, "{:?}", stats.skipped);
    insta::assert_json_snapshot!(events);
}
