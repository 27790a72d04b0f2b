//! An alert as an ECS document in the shape of an Elastic Security alert
//! (ECS 8.11; `kibana.alert.*` fields as Kibana writes them, flattened keys).
//!
//! `event.kind: signal`; `threat.*` carries ATT&CK (sub-techniques nested under
//! their technique); `process.*`, `destination.*`, `host.*`, `user.*` the
//! evidence; what ECS has no field for (prevalence, the causality chain, the
//! other matching variations) sits under `seldom.*`.

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

pub fn render(alert: &Alert) -> Value {
    let (severity, risk) = kibana_severity(alert.severity);
    let threat: Vec<Value> = alert
        .attack
        .iter()
        .map(|a| {
            let ((technique, technique_name), sub) = super::split_technique(&a.technique, &a.technique_name);
            let mut technique_value = json!({
                "id": technique,
                "name": technique_name,
                "reference": format!("https://attack.mitre.org/techniques/{technique}/"),
            });
            if let Some((sub_id, sub_name)) = sub {
                technique_value["subtechnique"] = json!([{
                    "id": sub_id,
                    "name": sub_name,
                    "reference": format!("https://attack.mitre.org/techniques/{}/", sub_id.replace('.', "/")),
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
    json!({
        "@timestamp": alert.first_seen,
        "ecs": { "version": ECS_VERSION },
        "message": alert.explanation,
        "event": {
            "kind": "signal",
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
        "threat": threat,
        "rule": { "id": alert.variation, "name": alert.name, "description": alert.description },
        "host": { "name": alert.host, "os": { "type": alert.platform.as_str() } },
        "user": { "name": alert.user },
        "process": {
            "name": process_name,
            "executable": alert.process.image,
            "command_line": alert.process.command_line,
            "pid": alert.process.pid,
            "entity_id": alert.process.guid,
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
        },
    })
}
