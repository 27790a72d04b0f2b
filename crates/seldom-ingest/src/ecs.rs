//! Elastic Common Schema documents (Elastic Agent, Auditbeat, Winlogbeat with
//! ECS mapping and no `winlog` block).
//!
//! Field meanings from the ECS reference (8.x): `event.category` is `process`
//! or `network` (DNS: `network` with `dns.question.name`); `event.type` says
//! `start` / `end` / `connection`; `process.entity_id` is the sensor's unique
//! process id (our GUID); `process.executable` the image path;
//! `process.pe.original_file_name`; `destination.ip` / `.port` / `.domain`;
//! `network.direction` `egress` or `outbound` for connections this host
//! opened, `ingress` / `inbound` for the others; `dns.resolved_ip` the answers;
//! `host.name` the host and `host.os.type` its platform.

use seldom_model::{
    DnsQuery, Event, EventKind, HostName, Location, NetworkConnection, Platform, ProcessEnd,
    ProcessIdentity, ProcessStart, SourceFormat, Timestamp,
};
use serde_json::Value;

use crate::normalize::{Decoded, NormalizeOptions, parse_ip};
use crate::stats::{IgnoreReason, Malformed, SkipReason};
use crate::value_path::{number, text, texts};

/// Whether a document looks like ECS: an `event.category` (nested or dotted).
pub fn is_ecs(value: &Value) -> bool {
    crate::value_path::at(value, "event.category").is_some()
}

pub fn decode(
    value: &Value,
    origin: Location,
    options: &NormalizeOptions,
) -> Result<Decoded, Malformed> {
    let categories = texts(value, "event.category");
    let types = texts(value, "event.type");
    let has = |list: &[String], item: &str| list.iter().any(|c| c == item);
    let process = ProcessIdentity {
        pid: number(value, "process.pid")?,
        guid: text(value, "process.entity_id"),
    };
    let image = text(value, "process.executable").or_else(|| text(value, "process.name"));
    let user = match (text(value, "user.domain"), text(value, "user.name")) {
        (Some(domain), Some(name)) => Some(format!("{domain}\\{name}")),
        (None, name) => name,
        (Some(_), None) => None,
    };
    let kind = if has(&categories, "process") && has(&types, "start") {
        EventKind::ProcessStart(ProcessStart {
            process,
            image,
            original_file_name: text(value, "process.pe.original_file_name"),
            command_line: text(value, "process.command_line"),
            current_directory: text(value, "process.working_directory"),
            user,
            parent: ProcessIdentity {
                pid: number(value, "process.parent.pid")?,
                guid: text(value, "process.parent.entity_id"),
            },
            parent_image: text(value, "process.parent.executable"),
            parent_command_line: text(value, "process.parent.command_line"),
            integrity_level: None,
            hashes: None,
        })
    } else if has(&categories, "process") && has(&types, "end") {
        EventKind::ProcessEnd(ProcessEnd { process, image })
    } else if let Some(question) = text(value, "dns.question.name") {
        let answers = texts(value, "dns.resolved_ip")
            .iter()
            .filter_map(|ip| parse_ip(ip))
            .collect();
        EventKind::DnsQuery(DnsQuery {
            process,
            image,
            query_name: question.trim_end_matches('.').to_ascii_lowercase(),
            answers,
            status: text(value, "dns.response_code"),
        })
    } else if has(&categories, "network") {
        let Some(destination) = text(value, "destination.ip") else {
            return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
        };
        let destination_ip = parse_ip(&destination).ok_or_else(|| {
            Malformed::new(
                SkipReason::BadField,
                format!("destination.ip {destination:?}"),
            )
        })?;
        let initiated = text(value, "network.direction").and_then(|d| match d.as_str() {
            "egress" | "outbound" => Some(true),
            "ingress" | "inbound" => Some(false),
            _ => None,
        });
        EventKind::NetworkConnection(NetworkConnection {
            process,
            image,
            user,
            protocol: text(value, "network.transport").map(|t| t.to_ascii_lowercase()),
            initiated,
            source_ip: text(value, "source.ip").and_then(|ip| parse_ip(&ip)),
            source_port: number(value, "source.port")?,
            destination_ip,
            destination_port: number(value, "destination.port")?,
            destination_hostname: text(value, "destination.domain"),
            bytes_sent: None,
        })
    } else {
        return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
    };
    let host_text = text(value, "host.name")
        .or_else(|| text(value, "host.hostname"))
        .ok_or_else(|| Malformed::new(SkipReason::MissingField, "host.name"))?;
    let host = HostName::normalize(&host_text, options.host_naming)
        .ok_or_else(|| Malformed::new(SkipReason::BadField, format!("host.name {host_text:?}")))?;
    let time_text = text(value, "@timestamp")
        .ok_or_else(|| Malformed::new(SkipReason::MissingField, "@timestamp"))?;
    let time = Timestamp::parse(&time_text).ok_or_else(|| {
        Malformed::new(
            SkipReason::BadTimestamp,
            format!("@timestamp {time_text:?}"),
        )
    })?;
    let platform = match text(value, "host.os.type")
        .or_else(|| text(value, "host.os.family"))
        .as_deref()
    {
        Some("linux") | Some("debian") | Some("redhat") | Some("ubuntu") => Platform::Linux,
        Some("macos") | Some("darwin") => Platform::Macos,
        _ => Platform::Windows,
    };
    Ok(Decoded::Event(Box::new(Event {
        time,
        host,
        platform,
        format: SourceFormat::Ecs,
        event_id: 0,
        origin,
        kind,
    })))
}
