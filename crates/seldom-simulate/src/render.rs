//! Simulated events in the layouts real shippers write, so the whole decode
//! path is exercised: Winlogbeat 7+ JSON for Windows hosts, Azure `Syslog`
//! rows carrying Sysmon for Linux `<Event>` XML for Linux hosts.

use quick_xml::escape::escape;
use serde_json::{Value, json};

use crate::day::{Proc, SimEvent, SimKind};
use crate::org::Host;

/// One JSON line (without the newline) for one event.
pub fn render(event: &SimEvent, host: &Host, record_id: u64) -> String {
    let utc = event
        .time
        .to_datetime()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    let (event_id, data) = event_data(event, host, &utc);
    match host.platform() {
        seldom_model::Platform::Linux => syslog_row(event, host, event_id, &data, record_id),
        _ => winlogbeat(event, host, event_id, data, record_id),
    }
}

fn event_data(event: &SimEvent, host: &Host, utc: &str) -> (u32, Vec<(&'static str, String)>) {
    match &event.kind {
        SimKind::Start {
            process,
            parent,
            user,
        } => {
            let mut data = vec![
                ("UtcTime", utc.to_owned()),
                ("ProcessGuid", process.guid.clone()),
                ("ProcessId", process.pid.to_string()),
                ("Image", process.image.clone()),
                ("CommandLine", process.command_line.clone()),
                ("User", user.clone()),
            ];
            if let Some(original) = &process.original_file_name {
                data.push(("OriginalFileName", original.clone()));
            }
            if let Some(parent) = parent {
                data.extend(parent_fields(parent));
            }
            (1, data)
        }
        SimKind::Dns {
            process,
            name,
            answers,
            cname,
        } => {
            let mut results: String = cname.iter().map(|c| format!("type:  5 {c};")).collect();
            for ip in answers {
                results.push_str(&format!("::ffff:{ip};"));
            }
            (
                22,
                vec![
                    ("UtcTime", utc.to_owned()),
                    ("ProcessGuid", process.guid.clone()),
                    ("ProcessId", process.pid.to_string()),
                    ("QueryName", name.clone()),
                    ("QueryStatus", "0".into()),
                    ("QueryResults", results),
                    ("Image", process.image.clone()),
                ],
            )
        }
        SimKind::Connect {
            process,
            ip,
            port,
            source_port,
            user,
        } => (
            3,
            vec![
                ("UtcTime", utc.to_owned()),
                ("ProcessGuid", process.guid.clone()),
                ("ProcessId", process.pid.to_string()),
                ("Image", process.image.clone()),
                ("User", user.clone()),
                ("Protocol", "tcp".into()),
                ("Initiated", "true".into()),
                ("SourceIsIpv6", "false".into()),
                ("SourceIp", host.ip.to_string()),
                ("SourcePort", source_port.to_string()),
                ("DestinationIsIpv6", "false".into()),
                ("DestinationIp", ip.to_string()),
                ("DestinationHostname", "-".into()),
                ("DestinationPort", port.to_string()),
            ],
        ),
    }
}

fn parent_fields(parent: &Proc) -> [(&'static str, String); 4] {
    [
        ("ParentProcessGuid", parent.guid.clone()),
        ("ParentProcessId", parent.pid.to_string()),
        ("ParentImage", parent.image.clone()),
        ("ParentCommandLine", parent.command_line.clone()),
    ]
}

fn winlogbeat(
    event: &SimEvent,
    host: &Host,
    event_id: u32,
    data: Vec<(&'static str, String)>,
    record_id: u64,
) -> String {
    let event_data: serde_json::Map<String, Value> = data
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    json!({
        "@timestamp": event.time.to_string(),
        "host": { "name": host.computer_name },
        "agent": { "type": "winlogbeat", "version": "8.12.0" },
        "winlog": {
            "channel": "Microsoft-Windows-Sysmon/Operational",
            "provider_name": "Microsoft-Windows-Sysmon",
            "event_id": event_id,
            "computer_name": host.computer_name,
            "record_id": record_id,
            "event_data": event_data,
        }
    })
    .to_string()
}

fn syslog_row(
    event: &SimEvent,
    host: &Host,
    event_id: u32,
    data: &[(&'static str, String)],
    record_id: u64,
) -> String {
    let name = host.short_name().to_uppercase();
    let mut xml = format!(
        "<Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{{ff032593-a8d3-4f13-b0d6-01fc615a0f97}}\"/><EventID>{event_id}</EventID><Version>5</Version><Level>4</Level><TimeCreated SystemTime=\"{}\"/><EventRecordID>{record_id}</EventRecordID><Channel>Linux-Sysmon/Operational</Channel><Computer>{name}</Computer></System><EventData>",
        event.time
    );
    for (key, value) in data {
        xml.push_str(&format!(
            "<Data Name=\"{key}\">{}</Data>",
            escape(value.as_str())
        ));
    }
    xml.push_str("</EventData></Event>");
    json!({
        "TimeGenerated": event.time.to_string(),
        "SourceSystem": "Linux",
        "Computer": name,
        "HostName": name,
        "Facility": "user",
        "SeverityLevel": "info",
        "ProcessName": "sysmon",
        "SyslogMessage": xml,
        "HostIP": host.ip.to_string(),
        "Type": "Syslog",
    })
    .to_string()
}
