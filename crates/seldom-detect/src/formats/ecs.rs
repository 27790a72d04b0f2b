//! An alert as an ECS document in the shape of an Elastic Security alert
//! (ECS 8.11; `kibana.alert.*` fields as Kibana writes them, flattened keys).
//!
//! `event.kind: alert`, ECS's value for alerts raised outside Kibana (ECS
//! reserves `signal` for Kibana's own detection engine). `threat.*` carries
//! ATT&CK in ECS's flat form (`threat.tactic.id` and the others are arrays, one
//! framework); the per-tactic structure, sub-techniques nested under their
//! technique, is `kibana.alert.rule.threat` as Kibana writes it.
//! `process.*`, `destination.*`, `host.*`, `user.*` carry the evidence;
//! `host.os.type` only takes ECS's expected values (a network sensor's host has
//! none). What ECS has no field for (prevalence, the causality chain, the
//! other matching variations) sits under `seldom.*`. Nothing is written as
//! null: unknown fields are left out ([`super::prune`]).

use serde_json::{Value, json};

use crate::alert::Alert;
use crate::catalog::Severity;

pub const ECS_VERSION: &str = "8.11.0";

/// Kibana's severities and default risk scores (its rule form), with
/// informational placed below low.
fn kibana_severity(severity: Severity) -> (&'static str, u32) {
    match severity {
        Severity::Informational => ("low", 10),
        Severity::Low => ("low", 21),
        Severity::Medium => ("medium", 47),
        Severity::High => ("high", 73),
    }
}

/// ECS's `host.os.type` expected values that seldom's platforms map to.
fn os_type(platform: seldom_model::Platform) -> Option<&'static str> {
    use seldom_model::Platform;
    match platform {
        Platform::Windows => Some("windows"),
        Platform::Linux => Some("linux"),
        Platform::Macos => Some("macos"),
        Platform::Network => None,
    }
}

/// Values in first-seen order, each once.
fn distinct(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn technique_reference(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

/// ATT&CK in ECS's own `threat.*` fields: one framework, the tactic,
/// technique and sub-technique fields as arrays (ECS normalizes them so).
fn ecs_threat(alert: &Alert) -> Value {
    if alert.attack.is_empty() {
        return Value::Null;
    }
    let split: Vec<_> = alert
        .attack
        .iter()
        .map(|a| super::split_technique(&a.technique, &a.technique_name))
        .collect();
    let tactics = distinct(alert.attack.iter().map(|a| a.tactic.clone()));
    let tactic_names = distinct(alert.attack.iter().map(|a| a.tactic_name.clone()));
    let techniques = distinct(split.iter().map(|((id, _), _)| (*id).to_owned()));
    let technique_names = distinct(split.iter().map(|((_, name), _)| (*name).to_owned()));
    let subs = distinct(
        split
            .iter()
            .filter_map(|(_, s)| s.map(|(id, _)| id.to_owned())),
    );
    let sub_names = distinct(
        split
            .iter()
            .filter_map(|(_, s)| s.map(|(_, n)| n.to_owned())),
    );
    let subtechnique = match subs.is_empty() {
        true => Value::Null,
        false => json!({
            "id": subs,
            "name": sub_names,
            "reference": subs.iter().map(|s| technique_reference(s)).collect::<Vec<_>>(),
        }),
    };
    json!({
        "framework": "MITRE ATT&CK",
        "tactic": {
            "id": tactics,
            "name": tactic_names,
            "reference": tactics.iter().map(|t| format!("https://attack.mitre.org/tactics/{t}/")).collect::<Vec<_>>(),
        },
        "technique": {
            "id": techniques,
            "name": technique_names,
            "reference": techniques.iter().map(|t| technique_reference(t)).collect::<Vec<_>>(),
            "subtechnique": subtechnique,
        },
    })
}

pub fn render(alert: &Alert) -> Value {
    let (severity, risk) = kibana_severity(alert.severity);
    let threat: Vec<Value> = alert
        .attack
        .iter()
        .map(|a| {
            let ((technique, technique_name), sub) =
                super::split_technique(&a.technique, &a.technique_name);
            let mut technique_value = json!({
                "id": technique,
                "name": technique_name,
                "reference": format!("https://attack.mitre.org/techniques/{technique}/"),
            });
            if let Some((sub_id, sub_name)) = sub {
                technique_value["subtechnique"] = json!([{
                    "id": sub_id,
                    "name": sub_name,
                    "reference": technique_reference(sub_id),
                }]);
            }
            json!({
                "framework": "MITRE ATT&CK",
                "tactic": {
                    "id": a.tactic,
                    "name": a.tactic_name,
                    "reference": format!("https://attack.mitre.org/tactics/{}/", a.tactic),
                },
                "technique": [technique_value],
            })
        })
        .collect();
    let process_name = alert
        .process
        .image
        .as_deref()
        .map(|i| i.rsplit(['\\', '/']).next().unwrap_or(i).to_owned());
    let parent = alert.chain.first();
    super::prune(json!({
        "@timestamp": alert.first_seen,
        "ecs": { "version": ECS_VERSION },
        "message": alert.explanation,
        "event": {
            "kind": "alert",
            "category": ["network"],
            "type": ["connection"],
            "module": "seldom",
            "dataset": "seldom.alerts",
            "severity": risk,
            "risk_score": risk,
            "start": alert.first_seen,
            "end": alert.last_seen,
        },
        "kibana.alert.uuid": alert.id,
        "kibana.alert.status": "active",
        "kibana.alert.workflow_status": "open",
        "kibana.alert.severity": severity,
        "kibana.alert.risk_score": risk,
        "kibana.alert.reason": alert.explanation,
        "kibana.alert.original_time": alert.first_seen,
        "kibana.alert.start": alert.first_seen,
        "kibana.alert.last_detected": alert.last_seen,
        "kibana.alert.rule.uuid": alert.variation,
        "kibana.alert.rule.rule_id": alert.variation,
        "kibana.alert.rule.name": alert.name,
        "kibana.alert.rule.description": alert.description,
        "kibana.alert.rule.threat": threat,
        "threat": ecs_threat(alert),
        "rule": { "id": alert.variation, "name": alert.name, "description": alert.description },
        "host": { "name": alert.host, "os": { "type": os_type(alert.platform) } },
        "user": { "name": alert.user },
        "process": {
            "name": process_name,
            "executable": alert.process.image,
            "command_line": alert.process.command_line,
            "pid": alert.process.pid,
            "entity_id": alert.process.guid,
            "start": alert.process.start,
            "pe": { "original_file_name": alert.process.original_file_name },
            "parent": {
                "executable": parent.and_then(|p| p.image.clone()),
                "command_line": parent.and_then(|p| p.command_line.clone()),
                "pid": parent.and_then(|p| p.pid),
                "entity_id": parent.and_then(|p| p.guid.clone()),
            },
        },
        "destination": {
            "ip": alert.destination.ip,
            "port": alert.destination.port,
            "domain": alert.destination.forward_name.clone().or_else(|| alert.destination.hostname.clone()),
            "registered_domain": alert.destination.registered_domain,
        },
        "network": { "transport": alert.destination.protocol, "direction": "egress" },
        "seldom": {
            "severity": alert.severity,
            "count": alert.count,
            "prevalence": alert.prevalence,
            "destination_key": alert.destination.key,
            "reverse_hostname": alert.destination.hostname,
            "chain": alert.chain,
            "matched_because": alert.matched_because,
            "also_matched": alert.also_matched,
            "attacker_goals": alert.attacker_goals,
            "investigative_actions": alert.investigative_actions,
            "source_events": alert.source_events,
            "incident": alert.incident,
            "beacon": alert.beacon,
            "digest": alert.digest,
        },
    }))
}
