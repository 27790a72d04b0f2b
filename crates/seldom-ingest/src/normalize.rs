//! Raw fields to events: what each Sysmon and Security event id means.
//!
//! | source | id | event |
//! |---|---|---|
//! | Sysmon (Windows, Linux) | 1 | process start |
//! | Sysmon | 3 | network connection (`Initiated` says the direction) |
//! | Sysmon | 5 | process end |
//! | Sysmon | 22 | DNS query |
//! | Security | 4688 | process start (pids in hex) |
//! | Security | 5156 | network connection, outbound only |
//!
//! Field meanings differ by event: in 4688 `ProcessId` is the *creator*, in
//! Sysmon it is the process itself. Windows writes `-` for "none"; it becomes
//! `None` here. Time is Sysmon's `UtcTime` where given (the sensor's clock at the
//! event), else the record's `SystemTime`, else what the shipper stamped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use seldom_model::{
    DnsQuery, Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform,
    ProcessEnd, ProcessIdentity, ProcessStart, SourceFormat, Timestamp,
};

use crate::fields::{Field, RawRecord};
use crate::stats::{IgnoreReason, Malformed, SkipReason};

/// Settings that shape normalized events.
#[derive(Debug, Clone, Copy)]
pub struct NormalizeOptions {
    pub host_naming: HostNaming,
    /// Count JSON lines whose event id no source reads from their bytes,
    /// without parsing them (`prefilter`); on by default. Off, every line is
    /// parsed: the plain path the prefilter is tested against.
    pub prefilter: bool,
    /// Read EVTX records from their templates where the template reader can
    /// (`evtx_template`); on by default. Off, every record is rendered to XML
    /// and walked: the plain path the template reader is tested against.
    pub evtx_templates: bool,
    /// Walk JSON lines with seldom's own scanner (`json_scan`) where it can;
    /// on by default. Off, every line is walked by serde_json's deserializer:
    /// the plain path the scanner is tested against.
    pub json_scanner: bool,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            host_naming: HostNaming::default(),
            prefilter: true,
            evtx_templates: true,
            json_scanner: true,
        }
    }
}

/// What one well-formed record became. Comparable, so that two ways of
/// decoding one record can be held to the same outcome.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    Event(Box<Event>),
    Ignored(IgnoreReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Sysmon,
    Security,
}

/// Turns the fields of one record into an event, or says why not.
pub fn normalize(
    fields: &RawRecord<'_>,
    format: SourceFormat,
    origin: Location,
    options: &NormalizeOptions,
    local_offset_micros: Option<i64>,
) -> Result<Decoded, Malformed> {
    let Some(id_text) = fields.get(Field::EventId) else {
        return Ok(Decoded::Ignored(IgnoreReason::UnknownLayout));
    };
    let event_id: u32 = id_text
        .parse()
        .map_err(|_| Malformed::new(SkipReason::BadField, format!("EventID {id_text:?}")))?;
    let Some(family) = family(fields, event_id) else {
        return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
    };
    let kind = match (family, event_id) {
        (Family::Sysmon, 1) => EventKind::ProcessStart(sysmon_process_start(fields)?),
        (Family::Sysmon, 3) => EventKind::NetworkConnection(sysmon_connection(fields)?),
        (Family::Sysmon, 5) => EventKind::ProcessEnd(sysmon_process_end(fields)?),
        (Family::Sysmon, 22) => EventKind::DnsQuery(sysmon_dns_query(fields)?),
        (Family::Security, 4688) => EventKind::ProcessStart(security_process_start(fields)?),
        (Family::Security, 5156) => match security_connection(fields)? {
            Some(connection) => EventKind::NetworkConnection(connection),
            None => return Ok(Decoded::Ignored(IgnoreReason::InboundConnection)),
        },
        _ => return Ok(Decoded::Ignored(IgnoreReason::OtherEventId)),
    };
    let host_text = fields
        .get_present(Field::Computer)
        .or_else(|| fields.get_present(Field::BeatHostName))
        .ok_or_else(|| Malformed::new(SkipReason::MissingField, "no host name (Computer)"))?;
    let host = HostName::normalize(host_text, options.host_naming)
        .ok_or_else(|| Malformed::new(SkipReason::BadField, format!("host name {host_text:?}")))?;
    let time = event_time(fields, family, local_offset_micros)?;
    Ok(Decoded::Event(Box::new(Event {
        time,
        host,
        platform: platform(fields),
        format,
        event_id,
        origin,
        kind,
    })))
}

/// Whether any source seldom reads gives events under this id.
pub(crate) fn is_read_event_id(id: u32) -> bool {
    matches!(id, 1 | 3 | 5 | 22 | 4688 | 5156)
}

/// Sysmon or Security, from the channel or provider; `None` for anything else.
fn family(fields: &RawRecord<'_>, event_id: u32) -> Option<Family> {
    let channel = fields.get(Field::Channel).unwrap_or("");
    let provider = fields.get(Field::Provider).unwrap_or("");
    if contains_ignore_case(channel, "sysmon") || contains_ignore_case(provider, "sysmon") {
        return Some(Family::Sysmon);
    }
    if channel.eq_ignore_ascii_case("security")
        || provider.eq_ignore_ascii_case("Microsoft-Windows-Security-Auditing")
    {
        return Some(Family::Security);
    }
    // Some exports drop the channel; Sysmon's data fields still identify it.
    if channel.is_empty() && provider.is_empty() {
        if matches!(event_id, 1 | 3 | 5 | 22) && fields.has(Field::UtcTime) {
            return Some(Family::Sysmon);
        }
        if event_id == 4688 && fields.has(Field::NewProcessName)
            || event_id == 5156 && fields.has(Field::DestAddress)
        {
            return Some(Family::Security);
        }
    }
    None
}

fn platform(fields: &RawRecord<'_>) -> Platform {
    let channel = fields.get(Field::Channel).unwrap_or("");
    let provider = fields.get(Field::Provider).unwrap_or("");
    if starts_with_ignore_case(channel, "linux-") || starts_with_ignore_case(provider, "linux-") {
        Platform::Linux
    } else {
        Platform::Windows
    }
}

fn event_time(
    fields: &RawRecord<'_>,
    family: Family,
    local_offset_micros: Option<i64>,
) -> Result<Timestamp, Malformed> {
    let candidates: &[Field] = match family {
        Family::Sysmon => &[
            Field::UtcTime,
            Field::SystemTime,
            Field::AtTimestamp,
            Field::TimeGenerated,
            Field::TimeCreatedText,
        ],
        Family::Security => &[
            Field::SystemTime,
            Field::AtTimestamp,
            Field::TimeGenerated,
            Field::TimeCreatedText,
        ],
    };
    let (field, text) = candidates
        .iter()
        .find_map(|f| fields.get(*f).map(|t| (*f, t)))
        .ok_or_else(|| Malformed::new(SkipReason::MissingField, "no event time"))?;
    let parsed = Timestamp::parse(text)
        .ok_or_else(|| Malformed::new(SkipReason::BadTimestamp, format!("{field:?} {text:?}")))?;
    if field == Field::TimeCreatedText && !crate::zone::has_zone(text) {
        // Local time of the host: usable once the stream has shown its offset.
        let offset = local_offset_micros.ok_or_else(|| {
            Malformed::new(
                SkipReason::BadTimestamp,
                format!("TimeCreated {text:?} is local time, and no record with UtcTime came before it to learn the offset"),
            )
        })?;
        return Ok(Timestamp::from_micros(parsed.as_micros() - offset));
    }
    Ok(parsed)
}

fn sysmon_identity(
    fields: &RawRecord<'_>,
    guid: Field,
    pid: Field,
) -> Result<ProcessIdentity, Malformed> {
    Ok(ProcessIdentity {
        pid: opt_pid(fields, pid)?,
        guid: opt_string(fields, guid),
    })
}

fn sysmon_process_start(f: &RawRecord<'_>) -> Result<ProcessStart, Malformed> {
    let process = sysmon_identity(f, Field::ProcessGuid, Field::ProcessId)?;
    require_identity(&process)?;
    Ok(ProcessStart {
        process,
        image: opt_string(f, Field::Image),
        original_file_name: opt_string(f, Field::OriginalFileName),
        command_line: opt_string(f, Field::CommandLine),
        current_directory: opt_string(f, Field::CurrentDirectory),
        user: opt_string(f, Field::User),
        parent: sysmon_identity(f, Field::ParentProcessGuid, Field::ParentProcessId)?,
        parent_image: opt_string(f, Field::ParentImage),
        parent_command_line: opt_string(f, Field::ParentCommandLine),
        integrity_level: opt_string(f, Field::IntegrityLevel),
        hashes: opt_string(f, Field::Hashes),
    })
}

fn sysmon_process_end(f: &RawRecord<'_>) -> Result<ProcessEnd, Malformed> {
    let process = sysmon_identity(f, Field::ProcessGuid, Field::ProcessId)?;
    require_identity(&process)?;
    Ok(ProcessEnd {
        process,
        image: opt_string(f, Field::Image),
    })
}

fn sysmon_connection(f: &RawRecord<'_>) -> Result<NetworkConnection, Malformed> {
    Ok(NetworkConnection {
        process: sysmon_identity(f, Field::ProcessGuid, Field::ProcessId)?,
        image: opt_string(f, Field::Image),
        user: opt_string(f, Field::User),
        protocol: f.get_present(Field::Protocol).map(str::to_ascii_lowercase),
        initiated: opt_bool(f, Field::Initiated)?,
        source_ip: opt_ip(f, Field::SourceIp)?,
        source_port: opt_port(f, Field::SourcePort)?,
        destination_ip: required_ip(f, Field::DestinationIp)?,
        destination_port: opt_port(f, Field::DestinationPort)?,
        destination_hostname: opt_string(f, Field::DestinationHostname),
        bytes_sent: None,
    })
}

fn sysmon_dns_query(f: &RawRecord<'_>) -> Result<DnsQuery, Malformed> {
    let name = f
        .get_present(Field::QueryName)
        .ok_or_else(|| Malformed::new(SkipReason::MissingField, "QueryName"))?;
    Ok(DnsQuery {
        process: sysmon_identity(f, Field::ProcessGuid, Field::ProcessId)?,
        image: opt_string(f, Field::Image),
        query_name: name.trim_end_matches('.').to_ascii_lowercase(),
        answers: f
            .get(Field::QueryResults)
            .map(query_results)
            .unwrap_or_default(),
        status: opt_string(f, Field::QueryStatus),
    })
}

/// Sysmon's `QueryResults`: `type:  5 edge.microsoft.com;::ffff:13.107.21.200;`.
/// CNAME entries (`type: N name`) are not addresses; IPv4-mapped IPv6 becomes IPv4.
pub fn query_results(text: &str) -> Vec<IpAddr> {
    // A byte loop, not `str::split`: its searcher's set-up, once per item,
    // cost more than parsing the item (two or three a query).
    let mut answers = Vec::new();
    let mut start = 0;
    while start <= text.len() {
        let end = text.as_bytes()[start..]
            .iter()
            .position(|&b| b == b';')
            .map_or(text.len(), |at| start + at);
        let item = text[start..end].trim();
        if let Some(ip) = (!item.is_empty()).then(|| parse_ip(item)).flatten() {
            answers.push(ip);
        }
        start = end + 1;
    }
    answers
}

fn security_process_start(f: &RawRecord<'_>) -> Result<ProcessStart, Malformed> {
    let pid = opt_pid(f, Field::NewProcessId)?
        .ok_or_else(|| Malformed::new(SkipReason::MissingField, "NewProcessId"))?;
    let user = match f.get_present(Field::TargetUserName) {
        Some(target) => Some(qualified_user(
            f.get_present(Field::TargetDomainName),
            target,
        )),
        None => f
            .get_present(Field::SubjectUserName)
            .map(|u| qualified_user(f.get_present(Field::SubjectDomainName), u)),
    };
    Ok(ProcessStart {
        process: ProcessIdentity {
            pid: Some(pid),
            guid: None,
        },
        image: opt_string(f, Field::NewProcessName),
        command_line: opt_string(f, Field::CommandLine),
        user,
        // In 4688 `ProcessId` names the creator.
        parent: ProcessIdentity {
            pid: opt_pid(f, Field::ProcessId)?,
            guid: None,
        },
        parent_image: opt_string(f, Field::ParentProcessName),
        integrity_level: f.get_present(Field::MandatoryLabel).map(integrity_label),
        ..ProcessStart::default()
    })
}

fn qualified_user(domain: Option<&str>, user: &str) -> String {
    match domain {
        Some(domain) => format!("{domain}\\{user}"),
        None => user.to_owned(),
    }
}

/// The mandatory-label SID as the integrity level name Sysmon uses.
fn integrity_label(sid: &str) -> String {
    match sid {
        "S-1-16-0" => "Untrusted",
        "S-1-16-4096" => "Low",
        "S-1-16-8192" => "Medium",
        "S-1-16-8448" => "MediumPlus",
        "S-1-16-12288" => "High",
        "S-1-16-16384" => "System",
        "S-1-16-20480" => "Protected",
        other => other,
    }
    .to_owned()
}

/// 5156: `None` for an inbound connection.
fn security_connection(f: &RawRecord<'_>) -> Result<Option<NetworkConnection>, Malformed> {
    let direction = f.get(Field::Direction).unwrap_or("");
    // `%%14593` is the message id for "Outbound", `%%14592` for "Inbound".
    let outbound = match direction {
        "%%14593" => true,
        "%%14592" => false,
        d if d.eq_ignore_ascii_case("outbound") => true,
        d if d.eq_ignore_ascii_case("inbound") => false,
        other => {
            return Err(Malformed::new(
                SkipReason::BadField,
                format!("Direction {other:?}"),
            ));
        }
    };
    if !outbound {
        return Ok(None);
    }
    Ok(Some(NetworkConnection {
        process: ProcessIdentity {
            pid: opt_pid(f, Field::ProcessId)?,
            guid: None,
        },
        image: opt_string(f, Field::Application),
        user: None,
        protocol: f.get_present(Field::Protocol).map(protocol_name),
        initiated: Some(true),
        source_ip: opt_ip(f, Field::SourceAddress)?,
        source_port: opt_port(f, Field::SourcePort)?,
        destination_ip: required_ip(f, Field::DestAddress)?,
        destination_port: opt_port(f, Field::DestPort)?,
        destination_hostname: None,
        bytes_sent: None,
    }))
}

/// IANA protocol numbers as the names Sysmon writes.
fn protocol_name(number: &str) -> String {
    match number {
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "58" => "ipv6-icmp".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

fn require_identity(identity: &ProcessIdentity) -> Result<(), Malformed> {
    if identity.is_empty() {
        Err(Malformed::new(
            SkipReason::MissingField,
            "no ProcessGuid nor ProcessId",
        ))
    } else {
        Ok(())
    }
}

fn opt_string(f: &RawRecord<'_>, field: Field) -> Option<String> {
    f.get_present(field).map(str::to_owned)
}

/// A pid in decimal (Sysmon, 5156) or `0x` hex (4688).
fn opt_pid(f: &RawRecord<'_>, field: Field) -> Result<Option<u32>, Malformed> {
    let Some(text) = f.get_present(field) else {
        return Ok(None);
    };
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed
        .map(Some)
        .map_err(|_| Malformed::new(SkipReason::BadField, format!("{field:?} {text:?}")))
}

fn opt_port(f: &RawRecord<'_>, field: Field) -> Result<Option<u16>, Malformed> {
    let Some(text) = f.get_present(field) else {
        return Ok(None);
    };
    text.parse()
        .map(Some)
        .map_err(|_| Malformed::new(SkipReason::BadField, format!("{field:?} {text:?}")))
}

/// `true`/`false` as a string or boolean, in any case (the corpus has both).
fn opt_bool(f: &RawRecord<'_>, field: Field) -> Result<Option<bool>, Malformed> {
    let Some(text) = f.get_present(field) else {
        return Ok(None);
    };
    if text.eq_ignore_ascii_case("true") || text == "1" {
        Ok(Some(true))
    } else if text.eq_ignore_ascii_case("false") || text == "0" {
        Ok(Some(false))
    } else {
        Err(Malformed::new(
            SkipReason::BadField,
            format!("{field:?} {text:?}"),
        ))
    }
}

fn opt_ip(f: &RawRecord<'_>, field: Field) -> Result<Option<IpAddr>, Malformed> {
    let Some(text) = f.get_present(field) else {
        return Ok(None);
    };
    parse_ip(text)
        .map(Some)
        .ok_or_else(|| Malformed::new(SkipReason::BadField, format!("{field:?} {text:?}")))
}

fn required_ip(f: &RawRecord<'_>, field: Field) -> Result<IpAddr, Malformed> {
    opt_ip(f, field)?.ok_or_else(|| Malformed::new(SkipReason::MissingField, format!("{field:?}")))
}

/// An address as sensors write it: a zone id (`fe80::1%12`) is dropped, and an
/// IPv4-mapped IPv6 address is the IPv4 address it maps.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    // Nearly every address is IPv4 text, which holds no zone: it is read
    // before the zone is looked for (text an IPv4 reader takes has no `%`).
    if let Some(v4) = ipv4_text(text) {
        return Some(IpAddr::V4(v4));
    }
    // A byte loop, not a `str` search: on a dozen bytes, a searcher's set-up
    // cost more than the whole parse.
    let bare = match text.bytes().position(|b| b == b'%') {
        Some(zone) => &text[..zone],
        None => text,
    };
    if bare.len() < text.len()
        && let Some(v4) = ipv4_text(bare)
    {
        return Some(IpAddr::V4(v4));
    }
    let v6: Ipv6Addr = bare.parse().ok()?;
    Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4))
}

/// Dotted IPv4 text, or an IPv4-mapped address in its dotted form (every
/// address in Sysmon's DNS answers), read as the IPv4 address it carries:
/// the general IPv6 parser took several times as long over the same text,
/// to the same end.
fn ipv4_text(text: &str) -> Option<Ipv4Addr> {
    dotted_ipv4(text).or_else(|| strip_prefix_ignore_case(text, "::ffff:").and_then(dotted_ipv4))
}

/// IPv4 text exactly as `Ipv4Addr::from_str` reads it (four decimal octets
/// up to 255, without leading zeros, and nothing else), in one pass over its
/// bytes: every connection has two addresses, and std's general parser (a
/// closure per octet, with backtracking) cost about 400 instructions each.
fn dotted_ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &byte in text.as_bytes() {
        match byte {
            b'0'..=b'9' => {
                if digits == 1 && value == 0 {
                    return None; // a leading zero
                }
                value = value * 10 + u32::from(byte - b'0');
                digits += 1;
                if value > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && index < 3 => {
                octets[index] = u8::try_from(value).ok()?;
                index += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if digits == 0 || index != 3 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    starts_with_ignore_case(text, prefix).then(|| &text[prefix.len()..])
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::sync::Arc;

    fn record(pairs: &[(Field, &'static str)]) -> RawRecord<'static> {
        let mut r = RawRecord::new();
        for (f, v) in pairs {
            r.set(*f, Cow::Borrowed(*v));
        }
        r
    }

    fn origin() -> Location {
        Location::at_line(Arc::from("test"), 1)
    }

    fn event(pairs: &[(Field, &'static str)]) -> Result<Decoded, Malformed> {
        normalize(
            &record(pairs),
            SourceFormat::FlatJson,
            origin(),
            &NormalizeOptions::default(),
            None,
        )
    }

    const SECURITY: (Field, &str) = (Field::Channel, "Security");
    const HOST: (Field, &str) = (Field::Computer, "WORKSTATION5.mordor.local");
    const TIME: (Field, &str) = (Field::AtTimestamp, "2020-07-22T03:27:42.455Z");

    #[test]
    fn security_4688_pids_are_hex_and_process_id_is_the_parent() {
        let Decoded::Event(e) = event(&[
            SECURITY,
            HOST,
            TIME,
            (Field::EventId, "4688"),
            (Field::NewProcessId, "0x24a8"),
            (Field::ProcessId, "0x21c8"),
            (Field::NewProcessName, "C:\\Windows\\System32\\regsvr32.exe"),
            (Field::SubjectUserName, "pgustavo"),
            (Field::SubjectDomainName, "MORDOR"),
            (Field::TargetUserName, "-"),
            (Field::MandatoryLabel, "S-1-16-12288"),
        ])
        .unwrap() else {
            panic!("not an event")
        };
        let EventKind::ProcessStart(p) = e.kind else {
            panic!("not a process start")
        };
        assert_eq!(p.process.pid, Some(0x24a8));
        assert_eq!(p.parent.pid, Some(0x21c8));
        assert_eq!(p.user.as_deref(), Some("MORDOR\\pgustavo"));
        assert_eq!(p.integrity_level.as_deref(), Some("High"));
        assert_eq!(e.host.as_str(), "workstation5");
    }

    #[test]
    fn security_5156_inbound_is_ignored_and_outbound_kept() {
        let base = [
            SECURITY,
            HOST,
            TIME,
            (Field::EventId, "5156"),
            (Field::ProcessId, "3580"),
            (Field::DestAddress, "169.254.169.254"),
            (Field::DestPort, "80"),
            (Field::Protocol, "6"),
        ];
        let inbound = [&base[..], &[(Field::Direction, "%%14592")]].concat();
        assert!(matches!(
            event(&inbound).unwrap(),
            Decoded::Ignored(IgnoreReason::InboundConnection)
        ));
        let outbound = [&base[..], &[(Field::Direction, "%%14593")]].concat();
        let Decoded::Event(e) = event(&outbound).unwrap() else {
            panic!()
        };
        let EventKind::NetworkConnection(c) = e.kind else {
            panic!()
        };
        assert_eq!(c.process.pid, Some(3580));
        assert_eq!(c.protocol.as_deref(), Some("tcp"));
        assert_eq!(c.initiated, Some(true));
    }

    #[test]
    fn sysmon_connection_without_destination_is_malformed() {
        let err = event(&[
            (Field::Channel, "Microsoft-Windows-Sysmon/Operational"),
            HOST,
            (Field::EventId, "3"),
            (Field::UtcTime, "2020-07-22 03:27:52.776"),
            (Field::ProcessId, "1"),
        ])
        .unwrap_err();
        assert_eq!(err.reason, SkipReason::MissingField);
    }

    #[test]
    fn unreadable_time_is_a_bad_timestamp() {
        let err = event(&[
            (Field::Channel, "Microsoft-Windows-Sysmon/Operational"),
            HOST,
            (Field::EventId, "5"),
            (Field::UtcTime, "yesterday"),
            (Field::ProcessId, "1"),
        ])
        .unwrap_err();
        assert_eq!(err.reason, SkipReason::BadTimestamp);
    }

    #[test]
    fn other_event_ids_are_ignored_not_skipped() {
        let r = event(&[
            (Field::Channel, "Microsoft-Windows-Sysmon/Operational"),
            HOST,
            (Field::EventId, "10"),
        ])
        .unwrap();
        assert!(matches!(r, Decoded::Ignored(IgnoreReason::OtherEventId)));
    }

    /// `parse_ip` as it was before its shortcuts: `IpAddr`'s own parser, an
    /// IPv4-mapped result read as its IPv4 address.
    fn parse_ip_plainly(text: &str) -> Option<IpAddr> {
        let bare = text.split('%').next().unwrap_or(text);
        let ip: IpAddr = bare.parse().ok()?;
        Some(match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        })
    }

    #[test]
    fn parse_ip_shortcuts_read_what_the_plain_parser_reads() {
        let cases = [
            "::ffff:54.14.173.63",
            "::FFFF:54.14.173.63",
            "::ffff:54.14.173.63%eth0",
            "54.14.173.63%eth0",
            "54.14.173.63%",
            "::ffff:0102:0304",
            "::ffff:1.2.3",
            "::ffff:1.2.3.4.5",
            "::ffff:",
            "::ffff:01.2.3.4",
            "::1",
            "fe80::1%3",
            "2001:db8::1",
            "1.2.3.4",
            "1.2.3.4:80",
            "01.2.3.4",
            "",
            ":",
            "type:  5 edge.microsoft.com",
            // Text that is not ASCII: cut and sliced on character boundaries.
            "::ffff:1.2.3.4\u{e9}",
            "\u{e9}%1",
            "1.2.3.\u{e9}",
            "::\u{c9}FFF:1.2.3.4",
        ];
        for case in cases {
            assert_eq!(parse_ip(case), parse_ip_plainly(case), "{case:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_ip_agrees_with_the_plain_parser(text in "(::[fF]{4}:)?[0-9a-fA-F:.%]{0,20}") {
            proptest::prop_assert_eq!(parse_ip(&text), parse_ip_plainly(&text));
        }

        #[test]
        fn query_results_agree_with_a_plain_split(
            text in "(( |\u{a0})*(1\\.2\\.3\\.4|::ffff:5\\.6\\.7\\.8|fe80::1%2|2620:1ec::2|type: 5 a\\.b|[0-9a-f:.%]{0,12})( |\u{a0})*;?){0,5}"
        ) {
            let plainly: Vec<IpAddr> = text
                .split(';')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .filter_map(parse_ip_plainly)
                .collect();
            let read = query_results(&text);
            proptest::prop_assert_eq!(read, plainly);
        }

        #[test]
        fn dotted_ipv4_agrees_with_std(text in "[0-9]{0,4}(\\.[0-9]{0,4}){0,4}") {
            proptest::prop_assert_eq!(dotted_ipv4(&text), text.parse::<Ipv4Addr>().ok());
        }
    }

    #[test]
    fn query_results_keep_addresses_and_drop_cnames() {
        let ips =
            query_results("type:  5 edge.microsoft.com;::ffff:13.107.21.200;2620:1ec:c11::200;");
        assert_eq!(
            ips,
            vec![
                "13.107.21.200".parse::<IpAddr>().unwrap(),
                "2620:1ec:c11::200".parse().unwrap()
            ]
        );
    }

    #[test]
    fn linux_sysmon_is_linux() {
        let Decoded::Event(e) = event(&[
            (Field::Provider, "Linux-Sysmon"),
            (Field::Channel, "Linux-Sysmon/Operational"),
            HOST,
            (Field::EventId, "5"),
            (Field::UtcTime, "2022-05-11 18:10:20.472"),
            (Field::ProcessId, "7"),
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(e.platform, Platform::Linux);
    }
}
