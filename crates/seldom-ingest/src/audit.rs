//! Linux audit: raw `audit.log` lines and Microsoft auoms records.
//!
//! auditd writes one event as several records sharing a serial
//! (`msg=audit(1604994496.155:92733)`): SYSCALL, EXECVE, CWD, PATH, SOCKADDR,
//! PROCTITLE, then EOE. [`AuditAssembler`] gathers them by serial and turns
//! a successful `execve` into a process start and a `connect` to a non-local
//! address into an outbound connection, so the UNIX LOLBIN and curl rows work
//! on audit data. Values auditd did not quote are hex (untrusted strings,
//! `proctitle`, `saddr`) and are decoded. auoms (the Azure Monitor agent) folds
//! an event into one `AUOMS_EXECVE` (or `AUOMS_SYSCALL`) record; the same
//! fields are read from it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use seldom_model::{
    Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform, ProcessIdentity,
    ProcessStart, SourceFormat, Timestamp,
};

use crate::normalize::Decoded;
use crate::stats::{IgnoreReason, Malformed, SkipReason};

/// Events whose records may still be arriving; past this, the oldest is closed.
const OPEN_EVENTS: usize = 32;

/// One parsed record line.
#[derive(Debug)]
pub struct AuditRecord {
    pub node: Option<String>,
    pub kind: String,
    pub time: Timestamp,
    pub serial: u64,
    pub fields: Vec<(String, String)>,
}

impl AuditRecord {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `[node=N ]type=T msg=audit(S.ms:SERIAL): k=v ...` (auditd) or
/// `type=T audit(S.ms:SERIAL): k=v ...` (auoms).
pub fn parse_record(line: &str) -> Result<AuditRecord, Malformed> {
    let bad = |what: &str| Malformed::new(SkipReason::BadField, format!("audit record: {what}"));
    let mut rest = line.trim();
    let mut node = None;
    if let Some(after) = rest.strip_prefix("node=") {
        let (value, tail) = after
            .split_once(' ')
            .ok_or_else(|| bad("nothing after node="))?;
        node = Some(value.to_owned());
        rest = tail.trim_start();
    }
    let after_type = rest.strip_prefix("type=").ok_or_else(|| bad("no type="))?;
    let (kind, tail) = after_type
        .split_once(' ')
        .ok_or_else(|| bad("nothing after type="))?;
    let open = tail
        .find("audit(")
        .ok_or_else(|| bad("no audit(time:serial)"))?;
    let close = tail[open..]
        .find("):")
        .ok_or_else(|| bad("unclosed audit("))?
        + open;
    let stamp = &tail[open + 6..close];
    let (seconds, serial) = stamp.split_once(':').ok_or_else(|| bad("no serial"))?;
    let time = seconds
        .parse::<f64>()
        .ok()
        .and_then(Timestamp::from_unix_seconds_f64)
        .ok_or_else(|| Malformed::new(SkipReason::BadTimestamp, format!("audit({stamp})")))?;
    let serial = serial.parse().map_err(|_| bad("serial is not a number"))?;
    let fields = parse_fields(&tail[close + 2..]);
    if node.is_none() {
        node = fields
            .iter()
            .find(|(k, _)| k == "node")
            .map(|(_, v)| v.clone());
    }
    Ok(AuditRecord {
        node,
        kind: kind.to_owned(),
        time,
        serial,
        fields,
    })
}

/// `key=value` pairs; a quoted value runs to the quote that is followed by
/// another `key=` or the end (auoms nests unescaped quotes in `cmdline`); a
/// `[..]` value runs to its bracket.
fn parse_fields(text: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_owned();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = closing_quote(quoted);
            (
                quoted[..end].to_owned(),
                quoted.get(end + 1..).unwrap_or(""),
            )
        } else if after.starts_with('[') {
            let end = after.find(']').map_or(after.len(), |i| i + 1);
            (after[..end].to_owned(), &after[end..])
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        if !key.is_empty() && !key.contains(' ') {
            fields.push((key, value));
        }
        rest = next.trim_start();
    }
    fields
}

fn closing_quote(quoted: &str) -> usize {
    let bytes = quoted.as_bytes();
    let mut first = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'"' {
            continue;
        }
        first.get_or_insert(i);
        let tail = &quoted[i + 1..];
        if tail.is_empty() || starts_with_key(tail) {
            return i;
        }
    }
    first.unwrap_or(quoted.len())
}

/// ` key=` next?
fn starts_with_key(tail: &str) -> bool {
    let Some(t) = tail.strip_prefix(' ') else {
        return false;
    };
    let key_len = t
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        .count();
    key_len > 0 && t[key_len..].starts_with('=')
}

/// An unquoted value is hex when auditd chose to encode it; NULs separate arguments.
fn decode_hex_text(value: &str) -> Option<String> {
    if value.len() < 2 || value.len() % 2 != 0 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Vec<u8> = (0..value.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&value[i..i + 2], 16).ok())
        .map(|b| if b == 0 { b' ' } else { b })
        .collect();
    Some(String::from_utf8_lossy(&bytes).trim_end().to_owned())
}

/// A field as text: quoted values as they are, hex-encoded ones decoded.
fn text_field(record: &AuditRecord, key: &str, raw_line_quoted: bool) -> Option<String> {
    let value = record.get(key)?;
    if value.is_empty() || value == "(null)" || value == "(none)" {
        return None;
    }
    if raw_line_quoted {
        return Some(value.to_owned());
    }
    Some(decode_hex_text(value).unwrap_or_else(|| value.to_owned()))
}

/// `saddr` hex as auditd writes `struct sockaddr` (little-endian family).
pub fn decode_sockaddr(hex: &str) -> Option<(IpAddr, u16)> {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let family = u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]);
    let port = u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]);
    match family {
        2 => {
            let a = bytes.get(4..8)?;
            Some((IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])), port))
        }
        10 => {
            let a: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            let v6 = Ipv6Addr::from(a);
            Some((v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4), port))
        }
        _ => None,
    }
}

fn syscall_name(record: &AuditRecord) -> Option<&'static str> {
    let syscall = record.get("syscall")?;
    let arch = record.get("arch").unwrap_or("c000003e");
    let aarch64 = arch.eq_ignore_ascii_case("c00000b7") || arch == "aarch64";
    Some(match syscall {
        "execve" | "execveat" => "execve",
        "connect" => "connect",
        "59" | "322" if !aarch64 => "execve",
        "42" if !aarch64 => "connect",
        "221" | "281" if aarch64 => "execve",
        "203" if aarch64 => "connect",
        _ => return None,
    })
}

/// The records of one event, as they arrive.
#[derive(Debug)]
struct OpenEvent {
    serial: u64,
    records: Vec<AuditRecord>,
    origin: Location,
}

/// Gathers audit records into events by serial.
#[derive(Debug)]
pub struct AuditAssembler {
    open: Vec<OpenEvent>,
    fallback_host: String,
    format: SourceFormat,
}

impl AuditAssembler {
    /// `fallback_host` names the host when no record carries `node=`.
    pub fn new(fallback_host: &str, format: SourceFormat) -> Self {
        AuditAssembler {
            open: Vec::new(),
            fallback_host: fallback_host.to_owned(),
            format,
        }
    }

    /// Adds one record; returns the events it completed.
    pub fn push(
        &mut self,
        record: AuditRecord,
        origin: Location,
    ) -> Vec<Result<Decoded, Malformed>> {
        let mut done = Vec::new();
        // auoms records are whole events.
        if record.kind.starts_with("AUOMS_") {
            done.push(self.finish(vec![record], true, origin));
            return done;
        }
        if record.kind == "EOE" {
            if let Some(i) = self.open.iter().position(|e| e.serial == record.serial) {
                let event = self.open.remove(i);
                done.push(self.finish(event.records, false, event.origin));
            }
            return done;
        }
        match self.open.iter_mut().find(|e| e.serial == record.serial) {
            Some(event) => event.records.push(record),
            None => {
                // Records of one event are written together: an event older than
                // the open window will not grow again.
                if self.open.len() >= OPEN_EVENTS {
                    let oldest = self.open.remove(0);
                    done.push(self.finish(oldest.records, false, oldest.origin));
                }
                self.open.push(OpenEvent {
                    serial: record.serial,
                    records: vec![record],
                    origin,
                });
            }
        }
        done
    }

    /// Closes every open event (end of input).
    pub fn flush(&mut self) -> Vec<Result<Decoded, Malformed>> {
        let open = std::mem::take(&mut self.open);
        open.into_iter()
            .map(|e| self.finish(e.records, false, e.origin))
            .collect()
    }

    fn finish(
        &self,
        records: Vec<AuditRecord>,
        auoms: bool,
        origin: Location,
    ) -> Result<Decoded, Malformed> {
        let Some(syscall) = records
            .iter()
            .find(|r| r.kind == "SYSCALL" || r.kind.starts_with("AUOMS_"))
        else {
            return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
        };
        let Some(name) = syscall_name(syscall) else {
            return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
        };
        let success = syscall.get("success").is_none_or(|s| s == "yes");
        // A non-blocking connect returns EINPROGRESS (-115) and still connects.
        let in_progress = syscall.get("exit") == Some("-115");
        let host_text = records
            .iter()
            .find_map(|r| r.node.as_deref())
            .unwrap_or(&self.fallback_host);
        let host = HostName::normalize(host_text, HostNaming::Short)
            .ok_or_else(|| Malformed::new(SkipReason::MissingField, "no host (node=)"))?;
        let pid = syscall.get("pid").and_then(|p| p.parse().ok());
        let exe = text_field(syscall, "exe", auoms);
        let user = syscall
            .get("user")
            .or_else(|| syscall.get("UID"))
            .map(str::to_owned)
            .or_else(|| syscall.get("uid").map(|u| format!("uid={u}")));
        let kind = match name {
            "execve" if success => {
                let args: Vec<String> = records
                    .iter()
                    .filter(|r| r.kind == "EXECVE")
                    .flat_map(|r| {
                        // `argc` is the record's word, not a promise: each
                        // argument is a field of the record, so no more are
                        // looked for than it has (an `argc=2626517805` from
                        // the fuzzer looked for 2.6 billion).
                        let argc = r
                            .get("argc")
                            .and_then(|a| a.parse::<usize>().ok())
                            .unwrap_or(0)
                            .min(r.fields.len());
                        (0..argc).filter_map(move |i| text_field(r, &format!("a{i}"), false))
                    })
                    .collect();
                let command_line = if auoms {
                    syscall.get("cmdline").map(str::to_owned)
                } else if !args.is_empty() {
                    Some(args.join(" "))
                } else {
                    records
                        .iter()
                        .find(|r| r.kind == "PROCTITLE")
                        .and_then(|r| text_field(r, "proctitle", false))
                };
                let cwd = records.iter().find_map(|r| {
                    if r.kind == "CWD" || auoms {
                        text_field(r, "cwd", auoms)
                    } else {
                        None
                    }
                });
                EventKind::ProcessStart(ProcessStart {
                    process: ProcessIdentity { pid, guid: None },
                    image: exe,
                    command_line,
                    current_directory: cwd,
                    user,
                    parent: ProcessIdentity {
                        pid: syscall.get("ppid").and_then(|p| p.parse().ok()),
                        guid: None,
                    },
                    ..ProcessStart::default()
                })
            }
            "connect" if success || in_progress => {
                let sockaddr = records
                    .iter()
                    .find(|r| r.kind == "SOCKADDR" || auoms)
                    .and_then(|r| r.get("saddr"))
                    .and_then(decode_sockaddr);
                let Some((ip, port)) = sockaddr else {
                    // A UNIX socket, or no address logged.
                    return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
                };
                if ip.is_loopback() || ip.is_unspecified() {
                    return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
                }
                EventKind::NetworkConnection(NetworkConnection {
                    process: ProcessIdentity { pid, guid: None },
                    image: exe,
                    user,
                    protocol: None,
                    initiated: Some(true),
                    source_ip: None,
                    source_port: None,
                    destination_ip: ip,
                    destination_port: Some(port),
                    destination_hostname: None,
                    bytes_sent: None,
                })
            }
            _ => return Ok(Decoded::Ignored(IgnoreReason::OtherEventId)),
        };
        let first = &records[0];
        Ok(Decoded::Event(Box::new(Event {
            time: first.time,
            host,
            platform: Platform::Linux,
            format: self.format,
            event_id: 0,
            origin: Location {
                record: Some(first.serial),
                ..origin
            },
            kind,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn origin() -> Location {
        Location::at_line(Arc::from("audit.log"), 1)
    }

    fn feed(lines: &[&str]) -> Vec<Event> {
        let mut assembler = AuditAssembler::new("fallback", SourceFormat::Audit);
        let mut out = Vec::new();
        for line in lines {
            out.extend(assembler.push(parse_record(line).unwrap(), origin()));
        }
        out.extend(assembler.flush());
        out.into_iter()
            .filter_map(|r| match r.unwrap() {
                Decoded::Event(e) => Some(*e),
                Decoded::Ignored(_) => None,
            })
            .collect()
    }

    #[test]
    fn execve_records_make_a_process_start() {
        let events = feed(&[
            r#"type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes exit=0 ppid=29002 pid=1631 auid=1000 uid=1000 comm="arp" exe="/usr/sbin/arp" key=(null)"#,
            r#"type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0="arp" a1=2D61"#,
            r#"type=CWD msg=audit(1604994496.155:92733): cwd="/home/wardog""#,
            r#"type=PROCTITLE msg=audit(1604994496.155:92733): proctitle=617270002D61"#,
            r#"type=EOE msg=audit(1604994496.155:92733): "#,
        ]);
        assert_eq!(events.len(), 1);
        let EventKind::ProcessStart(p) = &events[0].kind else {
            panic!()
        };
        assert_eq!(p.image.as_deref(), Some("/usr/sbin/arp"));
        assert_eq!(p.command_line.as_deref(), Some("arp -a"));
        assert_eq!((p.process.pid, p.parent.pid), (Some(1631), Some(29002)));
        assert_eq!(p.current_directory.as_deref(), Some("/home/wardog"));
        assert_eq!(events[0].host.as_str(), "fallback");
        assert_eq!(events[0].time.to_string(), "2020-11-10T07:48:16.155Z");
    }

    #[test]
    fn an_argc_larger_than_the_record_looks_for_no_more_arguments_than_it_has() {
        // The fuzzing campaign's audit_log timeout: argc=2626517805 made the
        // reader look up a0 .. a2626517804, one field scan each (minutes).
        let events = feed(&[
            r#"type=SYSCALL msg=audit(1652292620.465:245754): arch=c000003e syscall=59 success=yes exit=0 a0="/usr/bin/curl" key=(null)"#,
            r#"type=EXECVE msg=audit(1652292620.465:245754): argc=2626517805 a0="curl" a1="-s""#,
            r#"type=EOE msg=audit(1652292620.465:245754): "#,
        ]);
        assert_eq!(events.len(), 1);
        let EventKind::ProcessStart(p) = &events[0].kind else {
            panic!("{:?}", events[0].kind)
        };
        assert_eq!(p.command_line.as_deref(), Some("curl -s"));
    }

    #[test]
    fn connect_with_an_inet_sockaddr_makes_a_connection() {
        // struct sockaddr_in: family 2 (LE), port 443 (BE), 93.184.216.34.
        let events = feed(&[
            r#"node=web01 type=SYSCALL msg=audit(1652292622.100:900): arch=c000003e syscall=42 success=no exit=-115 ppid=1 pid=4242 uid=0 comm="curl" exe="/usr/bin/curl""#,
            r#"node=web01 type=SOCKADDR msg=audit(1652292622.100:900): saddr=020001BB5DB8D8220000000000000000"#,
            r#"node=web01 type=SYSCALL msg=audit(1652292622.200:901): arch=c000003e syscall=42 success=yes exit=0 pid=4243 exe="/usr/bin/nc.openbsd""#,
            r#"node=web01 type=SOCKADDR msg=audit(1652292622.200:901): saddr=0100"#,
            r#"node=web01 type=SYSCALL msg=audit(1652292622.300:902): arch=c000003e syscall=42 success=yes exit=0 pid=4244 exe="/usr/bin/python3.11""#,
            r#"node=web01 type=SOCKADDR msg=audit(1652292622.300:902): saddr=0A0011510000000000000000000000000000FFFFC0A80206000000000"#,
        ]);
        assert_eq!(
            events.len(),
            2,
            "the UNIX socket is not a connection: {events:#?}"
        );
        let EventKind::NetworkConnection(c) = &events[0].kind else {
            panic!()
        };
        assert_eq!(
            (c.destination_ip.to_string().as_str(), c.destination_port),
            ("93.184.216.34", Some(443))
        );
        assert_eq!(c.image.as_deref(), Some("/usr/bin/curl"));
        assert_eq!(events[0].host.as_str(), "web01");
        let EventKind::NetworkConnection(c) = &events[1].kind else {
            panic!()
        };
        assert_eq!(
            (c.destination_ip.to_string().as_str(), c.destination_port),
            ("192.168.2.6", Some(4433))
        );
    }

    #[test]
    fn auoms_execve_with_nested_quotes() {
        let line = r#"type=AUOMS_EXECVE audit(1652292621.990:84143): SchemaVersion="1" node=UBUNTU5 syscall=execve success=yes exit=0 ppid=1340 pid=17790 user=tomcat uid=1001 comm="bash" exe="/bin/bash" cwd="/" argc=3 cmdline="bash -c "{echo,YmFzaA==}|{base64,-d}|{bash,-i}"" redactors= containerid="#;
        let mut assembler = AuditAssembler::new("x", SourceFormat::Auoms);
        let out = assembler.push(parse_record(line).unwrap(), origin());
        let Ok(Decoded::Event(e)) = &out[0] else {
            panic!("{out:?}")
        };
        let EventKind::ProcessStart(p) = &e.kind else {
            panic!()
        };
        assert_eq!(
            p.command_line.as_deref(),
            Some(r#"bash -c "{echo,YmFzaA==}|{base64,-d}|{bash,-i}""#)
        );
        assert_eq!(p.image.as_deref(), Some("/bin/bash"));
        assert_eq!(p.user.as_deref(), Some("tomcat"));
        assert_eq!(e.host.as_str(), "ubuntu5");
        assert_eq!(e.format, SourceFormat::Auoms);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for line in [
            "type=",
            "type=SYSCALL",
            "type=SYSCALL msg=audit(x:1): a=b",
            "node=",
            "type=X msg=audit(1.0:1)",
            "type=X msg=audit(1.0:1): a=\"unterminated",
        ] {
            let _ = parse_record(line);
        }
        assert!(parse_record("type=SYSCALL msg=audit(abc:1): x=1").is_err());
        assert_eq!(decode_sockaddr("02"), None);
        assert_eq!(decode_sockaddr("zz"), None);
    }
}
