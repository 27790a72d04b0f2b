//! The whole real corpus, read end to end: no panic, every layout understood,
//! Security events joinable to Sysmon's by host and pid.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::collections::HashSet;

use seldom_ingest::{IngestOptions, Ingestor};
use seldom_model::EventKind;

#[test]
fn every_corpus_file_is_read_without_panic_and_every_layout_yields_connections() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut ingestor = Ingestor::new(IngestOptions::default());
    let mut count = 0u64;
    ingestor
        .read_path(&corpus, &mut |_| count += 1)
        .expect("corpus folder opens");
    let stats = ingestor.into_stats();
    assert_eq!(stats.events_read, count);
    assert!(stats.files_read >= 700, "files read: {}", stats.files_read);
    assert!(
        !stats.skipped.contains_key("decoder_panic"),
        "{:?}",
        stats.skipped
    );
    for format in [
        "evtx",
        "winlogbeat",
        "flat_json",
        "syslog_sysmon_xml",
        "azure_windows_event",
    ] {
        assert!(
            stats.events_of(format, "network_connection") > 0,
            "no network connections decoded from {format}: {:?}",
            stats.events_by_format
        );
    }
    // Malformed records exist in the corpus on purpose (evtx-crate-samples), and
    // must stay a small, located minority.
    let skipped = stats.skipped_total();
    assert!(
        skipped > 0 && skipped < stats.records_read / 1000,
        "skipped {skipped}"
    );
    for count in stats.skipped.values() {
        assert!(
            !count.examples.is_empty() && count.examples.iter().all(|e| !e.location.is_empty())
        );
    }
}

#[test]
fn known_files_yield_connections_in_each_layout() {
    for (file, format) in [
        ("open/panache_sysmon_vs_EDRTestingScript.evtx", "evtx"),
        (
            "otrf/datasets/atomic/windows/defense_evasion/host/empire_wdigest_downgrade.tar.gz",
            "winlogbeat",
        ),
        ("open/empire_launcher_sct_regsvr32.zip", "flat_json"),
        (
            "otrf/datasets/compound/Log4Shell/syslog_sysmon_log4shell_cve2021_44228_jndi_reference.zip",
            "syslog_sysmon_xml",
        ),
    ] {
        let Some((_, stats)) = common::read_corpus_file(file) else {
            return;
        };
        assert!(
            stats.events_of(format, "network_connection") > 0,
            "{file}: {:?}",
            stats.events_by_format
        );
    }
}

#[test]
fn security_events_join_sysmon_events_by_host_and_pid() {
    let Some((events, _)) = common::read_corpus_file("open/empire_launcher_sct_regsvr32.zip")
    else {
        return;
    };
    let sysmon_starts: HashSet<(String, u32)> = events
        .iter()
        .filter(|e| e.event_id == 1)
        .filter_map(|e| match &e.kind {
            EventKind::ProcessStart(p) => Some((e.host.to_string(), p.process.pid?)),
            _ => None,
        })
        .collect();
    let security_starts: Vec<(String, u32, String)> = events
        .iter()
        .filter(|e| e.event_id == 4688)
        .filter_map(|e| match &e.kind {
            EventKind::ProcessStart(p) => {
                Some((e.host.to_string(), p.process.pid?, p.image.clone()?))
            }
            _ => None,
        })
        .collect();
    let regsvr32 = security_starts
        .iter()
        .find(|(_, _, image)| image.to_ascii_lowercase().ends_with("regsvr32.exe"))
        .expect("4688 for regsvr32");
    assert!(
        sysmon_starts.contains(&(regsvr32.0.clone(), regsvr32.1)),
        "4688 regsvr32 has no Sysmon twin"
    );

    // The 5156 connection to the attacker joins the same process.
    let joined = events.iter().any(|e| match &e.kind {
        EventKind::NetworkConnection(c) if e.event_id == 5156 => {
            c.destination_ip.to_string() == "10.10.10.5"
                && c.process.pid == Some(regsvr32.1)
                && e.host.as_str() == regsvr32.0
        }
        _ => false,
    });
    assert!(joined, "5156 to 10.10.10.5 does not carry regsvr32's pid");
}
