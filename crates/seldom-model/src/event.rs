//! The events seldom understands: process start and end, network connection, DNS query.
//!
//! Each carries the host, the event time, the platform and where it came from.
//! Fields a sensor did not give are `None`, never an invented value: a Security
//! 5156 connection has a pid but no process GUID, a Sysmon one has both.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{HostName, Location, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Windows,
    Linux,
    Macos,
    /// Seen by a network sensor (Zeek): the endpoint's system is unknown, and
    /// no process is attributable.
    Network,
}

impl Platform {
    pub const ALL: [Platform; 4] = [
        Platform::Windows,
        Platform::Linux,
        Platform::Macos,
        Platform::Network,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Windows => "windows",
            Platform::Linux => "linux",
            Platform::Macos => "macos",
            Platform::Network => "network",
        }
    }
}

/// The layout a record was decoded from; kept for statistics and for the analyst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// A Windows event log file (`.evtx`).
    Evtx,
    /// Winlogbeat JSON: `winlog.event_data` (7 and later) or `event_data` (6).
    Winlogbeat,
    /// Flat JSON with the event data at the top level (NXLog and similar shippers).
    FlatJson,
    /// Azure Sentinel `WindowsEvent` rows, whose `EventData` is a JSON string.
    AzureWindowsEvent,
    /// Azure `Syslog` rows whose message is a Sysmon for Linux `<Event>` document.
    SyslogSysmonXml,
    /// A bare `<Event>` XML document, one per line.
    EventXml,
    /// `evtx_dump`'s JSON rendering of EVTX records (`Event.System`, `Event.EventData`).
    EvtxJson,
    /// Linux audit records (`audit.log`), reassembled by serial.
    Audit,
    /// Microsoft's auoms audit records, as Azure `Syslog` rows.
    Auoms,
    /// Zeek `conn.log` and `dns.log`, TSV or JSON.
    Zeek,
    /// Elastic Common Schema documents.
    Ecs,
    /// OCSF 1.x events (Process, Network and DNS Activity).
    Ocsf,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Evtx => "evtx",
            SourceFormat::Winlogbeat => "winlogbeat",
            SourceFormat::FlatJson => "flat_json",
            SourceFormat::AzureWindowsEvent => "azure_windows_event",
            SourceFormat::SyslogSysmonXml => "syslog_sysmon_xml",
            SourceFormat::EventXml => "event_xml",
            SourceFormat::EvtxJson => "evtx_json",
            SourceFormat::Audit => "audit",
            SourceFormat::Auoms => "auoms",
            SourceFormat::Zeek => "zeek",
            SourceFormat::Ecs => "ecs",
            SourceFormat::Ocsf => "ocsf",
        }
    }
}

/// One normalized telemetry event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub time: Timestamp,
    pub host: HostName,
    pub platform: Platform,
    pub format: SourceFormat,
    /// The sensor's own event id (Sysmon 3, Security 5156, ...).
    pub event_id: u32,
    pub origin: Location,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// About how many bytes this event holds (itself and the text it owns),
    /// for the memory bounds of buffers that hold events.
    pub fn approx_bytes(&self) -> usize {
        fn text(value: &Option<String>) -> usize {
            value.as_ref().map_or(0, String::len)
        }
        fn id(identity: &ProcessIdentity) -> usize {
            text(&identity.guid)
        }
        let owned = match &self.kind {
            EventKind::ProcessStart(s) => {
                id(&s.process)
                    + id(&s.parent)
                    + [
                        &s.image,
                        &s.original_file_name,
                        &s.command_line,
                        &s.current_directory,
                        &s.user,
                        &s.parent_image,
                        &s.parent_command_line,
                        &s.integrity_level,
                        &s.hashes,
                    ]
                    .into_iter()
                    .map(text)
                    .sum::<usize>()
            }
            EventKind::ProcessEnd(e) => id(&e.process) + text(&e.image),
            EventKind::NetworkConnection(c) => {
                id(&c.process)
                    + text(&c.image)
                    + text(&c.user)
                    + text(&c.protocol)
                    + text(&c.destination_hostname)
            }
            EventKind::DnsQuery(q) => {
                id(&q.process)
                    + text(&q.image)
                    + q.query_name.len()
                    + q.answers.len() * std::mem::size_of::<IpAddr>()
                    + text(&q.status)
            }
        };
        std::mem::size_of::<Event>() + self.host.as_str().len() + owned
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    ProcessStart(ProcessStart),
    ProcessEnd(ProcessEnd),
    NetworkConnection(NetworkConnection),
    DnsQuery(DnsQuery),
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::ProcessStart(_) => "process_start",
            EventKind::ProcessEnd(_) => "process_end",
            EventKind::NetworkConnection(_) => "network_connection",
            EventKind::DnsQuery(_) => "dns_query",
        }
    }
}

/// How a process is identified on its host: the sensor's GUID where it gives
/// one, and the pid, which alone is reused over time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessIdentity {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub guid: Option<String>,
}

impl ProcessIdentity {
    pub fn is_empty(&self) -> bool {
        self.pid.is_none() && self.guid.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessStart {
    pub process: ProcessIdentity,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<String>,
    /// The PE `OriginalFileName`: a renamed `mshta.exe` still says `MSHTA.EXE` here.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub original_file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub command_line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub current_directory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "ProcessIdentity::is_empty", default)]
    pub parent: ProcessIdentity,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parent_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parent_command_line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub integrity_level: Option<String>,
    /// As logged, e.g. `SHA1=...,MD5=...,IMPHASH=...`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hashes: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessEnd {
    pub process: ProcessIdentity,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkConnection {
    pub process: ProcessIdentity,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    /// `tcp`, `udp`, or the IANA protocol number when it has no common name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub protocol: Option<String>,
    /// `true` when the local process opened the connection (outbound).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub initiated: Option<bool>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        with = "ip_text::option"
    )]
    pub source_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_port: Option<u16>,
    #[serde(with = "ip_text")]
    pub destination_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destination_port: Option<u16>,
    /// The destination name as the sensor logged it. For Sysmon this is usually a
    /// reverse (PTR) name: shown to the analyst, never used as the prevalence key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destination_hostname: Option<String>,
    /// Bytes the originator sent, where the sensor counts them (Zeek's
    /// `orig_bytes`): a beacon's payloads are as regular as its timer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bytes_sent: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsQuery {
    pub process: ProcessIdentity,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<String>,
    /// The name asked for, lower case, without a trailing dot.
    pub query_name: String,
    /// Addresses in the answer (CNAME targets are not addresses and are dropped).
    #[serde(skip_serializing_if = "Vec::is_empty", default, with = "ip_text::list")]
    pub answers: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
}

/// Addresses as text in every encoding. `Event` flattens its kind, and serde
/// reads flattened fields through a buffer that always claims a human-readable
/// format: an address a binary encoding (CBOR, the state store's) wrote in its
/// compact form would then fail to read back. Text reads back everywhere.
mod ip_text {
    use std::net::IpAddr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ip: &IpAddr, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(ip)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<IpAddr, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }

    pub mod option {
        use std::net::IpAddr;

        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(ip: &Option<IpAddr>, s: S) -> Result<S::Ok, S::Error> {
            match ip {
                Some(ip) => s.collect_str(ip),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| t.parse().map_err(serde::de::Error::custom))
                .transpose()
        }
    }

    pub mod list {
        use std::net::IpAddr;

        use serde::ser::SerializeSeq;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(ips: &[IpAddr], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(ips.len()))?;
            for ip in ips {
                seq.serialize_element(&ip.to_string())?;
            }
            seq.end()
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
            Vec::<String>::deserialize(d)?
                .into_iter()
                .map(|t| t.parse().map_err(serde::de::Error::custom))
                .collect()
        }
    }
}
