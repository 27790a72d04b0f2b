//! An alert as an OCSF 1.1 Detection Finding (class 2004).
//!
//! `finding_info` names the finding, its analytic (the variation) and its
//! ATT&CK `attacks`; `evidences` carry the process with its causality chain
//! (as nested `parent_process`), the actor and the destination endpoint;
//! `severity_id` maps informational 1, low 2, medium 3, high 4, and so does
//! `confidence_id` (low for the informational and low rows, whose match is
//! wide). `metadata.profiles` declares `host`, the profile `device` belongs to
//! (ocsf-server rejects a profile attribute whose profile is not declared).
//! Recommended attributes are given where seldom knows them: the process's
//! name and start, the destination as a server endpoint, the IANA protocol
//! number, `timezone_offset` 0 (all times are UTC). Objects that would say
//! nothing (a user without a name, a process without pid or uid) are left
//! out, never written empty or null ([`super::prune`]). What OCSF has no
//! attribute for (prevalence, the full chain, other matching variations) sits
//! in `unmapped.seldom`. Times are epoch milliseconds, as OCSF's `timestamp_t`.

use serde_json::{Value, json};

use crate::alert::Alert;
use crate::catalog::Severity;
use crate::process_table::Ancestor;

pub const OCSF_VERSION: &str = "1.1.0";
pub const CLASS_UID: u32 = 2004;
pub const CATEGORY_UID: u32 = 2;
pub const ACTIVITY_CREATE: u32 = 1;

fn severity(severity: Severity) -> (u32, &'static str) {
    match severity {
        Severity::Informational => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
    }
}

/// OCSF's `confidence_id`: how specific the matching row is.
fn confidence(severity: Severity) -> (u32, &'static str) {
    match severity {
        Severity::Informational | Severity::Low => (1, "Low"),
        Severity::Medium => (2, "Medium"),
        Severity::High => (3, "High"),
    }
}

/// IANA protocol numbers of the transports sensors name.
fn protocol_num(protocol: Option<&str>) -> Option<u8> {
    match protocol?.to_ascii_lowercase().as_str() {
        "icmp" => Some(1),
        "tcp" => Some(6),
        "udp" => Some(17),
        "ipv6-icmp" | "icmpv6" => Some(58),
        "sctp" => Some(132),
        _ => None,
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

fn millis(t: seldom_model::Timestamp) -> i64 {
    t.as_micros() / 1000
}

fn os(platform: seldom_model::Platform) -> Value {
    use seldom_model::Platform;
    let (type_id, name) = match platform {
        Platform::Windows => (100, "Windows"),
        Platform::Linux => (200, "Linux"),
        Platform::Macos => (300, "macOS"),
        Platform::Network => (0, "Unknown"),
    };
    json!({ "type_id": type_id, "name": name })
}

fn file(path: Option<&str>) -> Value {
    match path {
        Some(path) => json!({
            "path": path,
            "name": base_name(path),
            "type_id": 1,
        }),
        None => Value::Null,
    }
}

/// The chain as nested `parent_process`, nearest first. OCSF requires a pid
/// or uid of each process, so the nesting stops at the first ancestor known
/// only by its image (the whole chain is in `unmapped.seldom.chain`).
fn lineage(chain: &[Ancestor]) -> Value {
    let known = chain
        .iter()
        .position(|a| a.pid.is_none() && a.guid.is_none())
        .unwrap_or(chain.len());
    chain[..known]
        .iter()
        .rev()
        .fold(Value::Null, |parent, ancestor| {
            let mut process = json!({
                "pid": ancestor.pid,
                "uid": ancestor.guid,
                "name": ancestor.image.as_deref().map(base_name),
                "cmd_line": ancestor.command_line,
                "file": file(ancestor.image.as_deref()),
            });
            if !parent.is_null() {
                process["parent_process"] = parent;
            }
            process
        })
}

pub fn render(alert: &Alert) -> Value {
    let (severity_id, severity_name) = severity(alert.severity);
    let attacks: Vec<Value> = alert
        .attack
        .iter()
        .map(|a| {
            let ((technique, technique_name), sub) =
                super::split_technique(&a.technique, &a.technique_name);
            let mut attack = json!({
                "tactic": { "uid": a.tactic, "name": a.tactic_name },
                "technique": { "uid": technique, "name": technique_name },
                "version": "v15",
            });
            if let Some((sub_id, sub_name)) = sub {
                attack["sub_technique"] = json!({ "uid": sub_id, "name": sub_name });
            }
            attack
        })
        .collect();
    let (confidence_id, confidence_name) = confidence(alert.severity);
    let process = match (alert.process.pid, &alert.process.guid) {
        // A process OCSF can name needs a pid or a uid (a network sensor's
        // connection has neither: no process object at all).
        (None, None) => Value::Null,
        _ => {
            let mut process = json!({
                "pid": alert.process.pid,
                "uid": alert.process.guid,
                "name": alert.process.image.as_deref().map(base_name),
                "cmd_line": alert.process.command_line,
                "created_time": alert.process.start.map(millis),
                "file": file(alert.process.image.as_deref()),
                "user": { "name": alert.user },
            });
            let parents = lineage(&alert.chain);
            if !parents.is_null() {
                process["parent_process"] = parents;
            }
            process
        }
    };
    let d = &alert.destination;
    super::prune(json!({
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "time": millis(alert.first_seen),
        "start_time": millis(alert.first_seen),
        "end_time": millis(alert.last_seen),
        "timezone_offset": 0,
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": 1,
        "status": "New",
        "confidence_id": confidence_id,
        "confidence": confidence_name,
        "count": alert.count,
        "message": alert.explanation,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": alert.id,
            "profiles": ["host"],
            "log_provider": "seldom",
            "product": { "name": "seldom", "vendor_name": "seldom", "version": env!("CARGO_PKG_VERSION") },
        },
        "finding_info": {
            "uid": alert.id,
            "title": alert.name,
            "desc": alert.description,
            "types": ["Rare external destination"],
            "created_time": millis(alert.first_seen),
            "first_seen_time": millis(alert.first_seen),
            "last_seen_time": millis(alert.last_seen),
            "analytic": { "uid": alert.variation, "name": alert.name, "type_id": 1, "type": "Rule" },
            "attacks": attacks,
        },
        "device": { "hostname": alert.host, "os": os(alert.platform), "type_id": 0 },
        "evidences": [{
            "process": process,
            "actor": { "process": process, "user": { "name": alert.user } },
            // The far end of an outbound connection serves it.
            "dst_endpoint": {
                "ip": d.ip,
                "port": d.port,
                "hostname": d.forward_name.clone().or_else(|| d.hostname.clone()),
                "type_id": 1,
                "type": "Server",
            },
            "connection_info": {
                "protocol_name": d.protocol,
                "protocol_num": protocol_num(d.protocol.as_deref()),
                "direction_id": 2,
                "direction": "Outbound",
            },
            "query": d.forward_name.as_ref().map(|name| json!({ "hostname": name })),
        }],
        "unmapped": {
            "seldom": {
                "variation": alert.variation,
                "prevalence": alert.prevalence,
                "destination_key": d.key,
                "chain": alert.chain,
                "registered_domain": d.registered_domain,
                "matched_because": alert.matched_because,
                "also_matched": alert.also_matched,
                "attacker_goals": alert.attacker_goals,
                "investigative_actions": alert.investigative_actions,
                "source_events": alert.source_events,
                "incident": alert.incident,
                "beacon": alert.beacon,
                "digest": alert.digest,
            }
        },
    }))
}
