//! OCSF 1.x events: Process Activity (1007), Network Activity (4001), DNS
//! Activity (4003).
//!
//! Field meanings from the OCSF schema (1.1): `class_uid` and `activity_id`
//! (process: 1 Launch, 2 Terminate; network: 1 Open; DNS: 1 Query, 2
//! Response); `time` in epoch milliseconds; `device.hostname` and
//! `device.os.type_id` (100 Windows, 200 Linux, 300 macOS); `process` (1007)
//! or `actor.process` (4001, 4003) with `pid`, `uid` (the sensor's unique id),
//! `file.path`, `cmd_line`, `user.name` and `parent_process`;
//! `dst_endpoint.ip` / `.port` / `.hostname`; `connection_info.direction_id`
//! (1 Inbound, 2 Outbound) and `.protocol_name`; `query.hostname` and
//! `answers[].rdata`.

use seldom_model::{
    DnsQuery, Event, EventKind, HostName, Location, NetworkConnection, Platform, ProcessEnd,
    ProcessIdentity, ProcessStart, SourceFormat, Timestamp,
};
use serde_json::Value;

use crate::normalize::{Decoded, NormalizeOptions, parse_ip};
use crate::stats::{IgnoreReason, Malformed, SkipReason};
use crate::value_path::{at, number, text};

pub fn is_ocsf(value: &Value) -> bool {
    at(value, "class_uid").is_some() && at(value, "metadata").is_some()
}

pub fn decode(
    value: &Value,
    origin: Location,
    options: &NormalizeOptions,
) -> Result<Decoded, Malformed> {
    let class = text(value, "class_uid")
        .and_then(|c| c.parse::<u32>().ok())
        .unwrap_or(0);
    let activity = text(value, "activity_id")
        .and_then(|a| a.parse::<u32>().ok())
        .unwrap_or(0);
    let kind = match (class, activity) {
        (1007, 1) => EventKind::ProcessStart(ProcessStart {
            process: identity(value, "process")?,
            image: text(value, "process.file.path").or_else(|| text(value, "process.name")),
            command_line: text(value, "process.cmd_line"),
            user: text(value, "process.user.name").or_else(|| text(value, "actor.user.name")),
            parent: identity(value, "process.parent_process")?,
            parent_image: text(value, "process.parent_process.file.path"),
            parent_command_line: text(value, "process.parent_process.cmd_line"),
            ..ProcessStart::default()
        }),
        (1007, 2) => EventKind::ProcessEnd(ProcessEnd {
            process: identity(value, "process")?,
            image: text(value, "process.file.path"),
        }),
        (4001, _) => {
            let Some(destination) = text(value, "dst_endpoint.ip") else {
                return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
            };
            let destination_ip = parse_ip(&destination).ok_or_else(|| {
                Malformed::new(
                    SkipReason::BadField,
                    format!("dst_endpoint.ip {destination:?}"),
                )
            })?;
            EventKind::NetworkConnection(NetworkConnection {
                process: identity(value, "actor.process")?,
                image: text(value, "actor.process.file.path"),
                user: text(value, "actor.user.name")
                    .or_else(|| text(value, "actor.process.user.name")),
                protocol: text(value, "connection_info.protocol_name")
                    .map(|p| p.to_ascii_lowercase()),
                initiated: text(value, "connection_info.direction_id").and_then(|d| {
                    match d.as_str() {
                        "2" => Some(true),
                        "1" => Some(false),
                        _ => None,
                    }
                }),
                source_ip: text(value, "src_endpoint.ip").and_then(|ip| parse_ip(&ip)),
                source_port: number(value, "src_endpoint.port")?,
                destination_ip,
                destination_port: number(value, "dst_endpoint.port")?,
                destination_hostname: text(value, "dst_endpoint.hostname"),
                bytes_sent: None,
            })
        }
        (4003, _) => {
            let Some(name) = text(value, "query.hostname") else {
                return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
            };
            let answers = match at(value, "answers") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|a| text(a, "rdata"))
                    .filter_map(|ip| parse_ip(&ip))
                    .collect(),
                _ => Vec::new(),
            };
            EventKind::DnsQuery(DnsQuery {
                process: identity(value, "actor.process")?,
                image: text(value, "actor.process.file.path"),
                query_name: name.trim_end_matches('.').to_ascii_lowercase(),
                answers,
                status: text(value, "rcode"),
            })
        }
        _ => return Ok(Decoded::Ignored(IgnoreReason::OtherEventId)),
    };
    let host_text = text(value, "device.hostname")
        .or_else(|| text(value, "device.name"))
        .ok_or_else(|| Malformed::new(SkipReason::MissingField, "device.hostname"))?;
    let host = HostName::normalize(&host_text, options.host_naming).ok_or_else(|| {
        Malformed::new(
            SkipReason::BadField,
            format!("device.hostname {host_text:?}"),
        )
    })?;
    let millis =
        text(value, "time").ok_or_else(|| Malformed::new(SkipReason::MissingField, "time"))?;
    let time = millis
        .parse::<f64>()
        .ok()
        .and_then(|ms| Timestamp::from_unix_seconds_f64(ms / 1000.0))
        .ok_or_else(|| Malformed::new(SkipReason::BadTimestamp, format!("time {millis:?}")))?;
    let platform = match text(value, "device.os.type_id").as_deref() {
        Some("200") => Platform::Linux,
        Some("300") => Platform::Macos,
        Some("100") => Platform::Windows,
        _ => match text(value, "device.os.type")
            .map(|t| t.to_ascii_lowercase())
            .as_deref()
        {
            Some("linux") => Platform::Linux,
            Some("macos") => Platform::Macos,
            _ => Platform::Windows,
        },
    };
    Ok(Decoded::Event(Box::new(Event {
        time,
        host,
        platform,
        format: SourceFormat::Ocsf,
        event_id: class,
        origin,
        kind,
    })))
}

fn identity(value: &Value, prefix: &str) -> Result<ProcessIdentity, Malformed> {
    Ok(ProcessIdentity {
        pid: number(value, &format!("{prefix}.pid"))?,
        guid: text(value, &format!("{prefix}.uid")),
    })
}
