//! Zeek `conn.log` and `dns.log`, as TSV (with `#fields` headers) or JSON.
//!
//! Zeek sees addresses, not processes: a connection's host is its originator
//! address (`id.orig_h`) on the `network` platform, and a DNS answer names the
//! destinations of that client's later connections, whichever sensor logs them.
//! JSON writers spell the id fields `id.orig_h` or `id_orig_h`; both are read.

use std::collections::HashMap;

use seldom_model::{
    DnsQuery, Event, EventKind, HostName, HostNaming, Location, NetworkConnection, Platform,
    ProcessIdentity, SourceFormat, Timestamp,
};

use crate::normalize::{Decoded, parse_ip};
use crate::stats::{IgnoreReason, Malformed, SkipReason};

/// Which Zeek log a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeekLog {
    Conn,
    Dns,
    Other,
}

impl ZeekLog {
    /// From the log's path (`#path`, `_path` or `@stream`), else from its fields.
    pub fn detect(path: Option<&str>, has: impl Fn(&str) -> bool) -> ZeekLog {
        match path {
            Some("conn") => ZeekLog::Conn,
            Some("dns") => ZeekLog::Dns,
            Some(_) => ZeekLog::Other,
            None if has("query") => ZeekLog::Dns,
            None if has("conn_state") => ZeekLog::Conn,
            None => ZeekLog::Other,
        }
    }
}

/// Turns one Zeek record, given by a field lookup, into an event.
pub fn zeek_record<'v>(
    log: ZeekLog,
    get: impl Fn(&str) -> Option<&'v str>,
    origin: Location,
) -> Result<Decoded, Malformed> {
    if log == ZeekLog::Other {
        return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
    }
    let field = |name: &str| {
        get(name)
            .or_else(|| get(&name.replace('.', "_")))
            .filter(|v| !v.is_empty() && *v != "-" && *v != "(empty)")
    };
    let ts = field("ts").ok_or_else(|| Malformed::new(SkipReason::MissingField, "ts"))?;
    let time = ts
        .parse::<f64>()
        .ok()
        .and_then(Timestamp::from_unix_seconds_f64)
        .or_else(|| Timestamp::parse(ts))
        .ok_or_else(|| Malformed::new(SkipReason::BadTimestamp, format!("ts {ts:?}")))?;
    let orig =
        field("id.orig_h").ok_or_else(|| Malformed::new(SkipReason::MissingField, "id.orig_h"))?;
    let orig_ip = parse_ip(orig)
        .ok_or_else(|| Malformed::new(SkipReason::BadField, format!("id.orig_h {orig:?}")))?;
    let host = HostName::normalize(&orig_ip.to_string(), HostNaming::Short)
        .ok_or_else(|| Malformed::new(SkipReason::BadField, "id.orig_h"))?;
    let port = |name: &str| -> Result<Option<u16>, Malformed> {
        field(name)
            .map(|p| {
                p.parse()
                    .map_err(|_| Malformed::new(SkipReason::BadField, format!("{name} {p:?}")))
            })
            .transpose()
    };
    let kind = match log {
        ZeekLog::Conn => {
            let resp = field("id.resp_h")
                .ok_or_else(|| Malformed::new(SkipReason::MissingField, "id.resp_h"))?;
            let destination_ip = parse_ip(resp).ok_or_else(|| {
                Malformed::new(SkipReason::BadField, format!("id.resp_h {resp:?}"))
            })?;
            EventKind::NetworkConnection(NetworkConnection {
                process: ProcessIdentity::default(),
                image: None,
                user: None,
                protocol: field("proto").map(str::to_ascii_lowercase),
                // The originator opened the connection.
                initiated: Some(true),
                source_ip: Some(orig_ip),
                source_port: port("id.orig_p")?,
                destination_ip,
                destination_port: port("id.resp_p")?,
                destination_hostname: None,
                // Unset (`-`) when Zeek saw no payload count; a bad one is
                // no count, not a bad record.
                bytes_sent: field("orig_bytes").and_then(|b| b.parse().ok()),
            })
        }
        ZeekLog::Dns => {
            let Some(query) = field("query") else {
                // A failed lookup with no question logged: nothing to attribute.
                return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
            };
            let answers = field("answers")
                .map(|a| {
                    a.split(',')
                        .filter_map(|item| parse_ip(item.trim()))
                        .collect()
                })
                .unwrap_or_default();
            EventKind::DnsQuery(DnsQuery {
                process: ProcessIdentity::default(),
                image: None,
                query_name: query.trim_end_matches('.').to_ascii_lowercase(),
                answers,
                status: field("rcode_name").map(str::to_owned),
            })
        }
        ZeekLog::Other => return Ok(Decoded::Ignored(IgnoreReason::OtherEventId)),
    };
    Ok(Decoded::Event(Box::new(Event {
        time,
        host,
        platform: Platform::Network,
        format: SourceFormat::Zeek,
        event_id: 0,
        origin,
        kind,
    })))
}

/// A Zeek TSV log: header lines set the separator and the field names.
#[derive(Debug, Default)]
pub struct ZeekTsv {
    separator: String,
    set_separator: String,
    fields: Vec<String>,
    path: Option<String>,
}

impl ZeekTsv {
    pub fn new() -> Self {
        ZeekTsv {
            separator: "\t".into(),
            set_separator: ",".into(),
            ..ZeekTsv::default()
        }
    }

    /// Reads a header line (`#...`); returns whether it was one.
    pub fn header(&mut self, line: &str) -> bool {
        let Some(rest) = line.strip_prefix('#') else {
            return false;
        };
        if let Some(sep) = rest.strip_prefix("separator ") {
            self.separator = unescape_separator(sep.trim());
            return true;
        }
        let mut parts = rest.split(self.separator.as_str());
        match parts.next() {
            Some("set_separator") => self.set_separator = parts.next().unwrap_or(",").to_owned(),
            Some("path") => self.path = parts.next().map(str::to_owned),
            Some("fields") => self.fields = parts.map(str::to_owned).collect(),
            _ => {}
        }
        true
    }

    pub fn row(&self, line: &str, origin: Location) -> Result<Decoded, Malformed> {
        if self.fields.is_empty() {
            return Err(Malformed::new(
                SkipReason::MissingField,
                "a Zeek row before its #fields header",
            ));
        }
        let values: Vec<&str> = line.split(self.separator.as_str()).collect();
        if values.len() != self.fields.len() {
            let detail = format!(
                "{} columns where #fields names {}",
                values.len(),
                self.fields.len()
            );
            return Err(Malformed::new(SkipReason::BadField, detail));
        }
        let map: HashMap<&str, String> = self
            .fields
            .iter()
            .map(String::as_str)
            .zip(
                values
                    .iter()
                    .map(|v| v.replace(self.set_separator.as_str(), ",")),
            )
            .collect();
        let log = ZeekLog::detect(self.path.as_deref(), |f| map.contains_key(f));
        zeek_record(log, |name| map.get(name).map(String::as_str), origin)
    }
}

/// `\x09` → a tab.
fn unescape_separator(text: &str) -> String {
    match text
        .strip_prefix("\\x")
        .and_then(|hex| u8::from_str_radix(hex, 16).ok())
    {
        Some(byte) => char::from(byte).to_string(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn origin() -> Location {
        Location::at_line(Arc::from("t"), 1)
    }

    #[test]
    fn tsv_conn_and_dns_rows() {
        let mut tsv = ZeekTsv::new();
        assert!(tsv.header("#separator \\x09"));
        assert!(tsv.header("#path\tdns"));
        assert!(
            tsv.header("#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers")
        );
        let Decoded::Event(e) = tsv.row("1692161622.036086\t192.168.1.41\t52605\t192.168.1.4\t53\tEvil.Example.com\t203.0.113.5,cname.example.net", origin()).unwrap() else { panic!() };
        assert_eq!(e.host.as_str(), "192.168.1.41");
        assert_eq!(e.platform, Platform::Network);
        let EventKind::DnsQuery(q) = e.kind else {
            panic!()
        };
        assert_eq!(q.query_name, "evil.example.com");
        assert_eq!(
            q.answers,
            vec!["203.0.113.5".parse::<std::net::IpAddr>().unwrap()]
        );
        assert!(
            tsv.row("1\t2", origin()).is_err(),
            "short rows are malformed"
        );
    }

    #[test]
    fn a_conn_row_counts_the_bytes_its_originator_sent() {
        let mut tsv = ZeekTsv::new();
        assert!(tsv.header("#path\tconn"));
        assert!(
            tsv.header(
                "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_bytes"
            )
        );
        let sent = |row: &str| {
            let Ok(Decoded::Event(e)) = tsv.row(row, origin()) else {
                panic!("{row}")
            };
            let EventKind::NetworkConnection(c) = e.kind else {
                panic!()
            };
            c.bytes_sent
        };
        assert_eq!(
            sent("1692161622.1\t10.0.0.5\t50000\t198.18.0.9\t443\ttcp\t517"),
            Some(517)
        );
        // Unset, or not a count: no count, and the connection is kept.
        assert_eq!(
            sent("1692161622.2\t10.0.0.5\t50001\t198.18.0.9\t443\ttcp\t-"),
            None
        );
        assert_eq!(
            sent("1692161622.3\t10.0.0.5\t50002\t198.18.0.9\t443\ttcp\tx"),
            None
        );
    }
}
