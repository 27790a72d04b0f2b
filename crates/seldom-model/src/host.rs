//! Host identity: one host, whatever the source calls it.
//!
//! `WORKSTATION5`, `workstation5` and `WORKSTATION5.mordor.local` name the same
//! machine in real data (the Sysmon `Computer` field, a Security event's
//! `Hostname`, a collector's `computer_name`). By default a host is its first
//! DNS label, case folded; deployments whose short names collide keep the fully
//! qualified name instead. Addresses are kept whole.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// How host names are reduced to one identity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostNaming {
    /// First DNS label, lower case: `WORKSTATION5.mordor.local` is `workstation5`.
    #[default]
    Short,
    /// The whole name, lower case, without a trailing dot.
    Fqdn,
}

/// A normalized host name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostName(String);

impl HostName {
    /// Normalizes a host name as logged; `None` for an empty or placeholder name.
    pub fn normalize(raw: &str, naming: HostNaming) -> Option<HostName> {
        let trimmed = raw.trim().trim_end_matches('.');
        if trimmed.is_empty() || trimmed == "-" {
            return None;
        }
        // Only an address starts with a hex digit or a colon (a name may
        // too, and is then tried): the usual name skips the parse.
        let may_be_address = trimmed.starts_with(|c: char| c.is_ascii_hexdigit() || c == ':');
        if may_be_address && trimmed.parse::<IpAddr>().is_ok() {
            return Some(HostName(trimmed.to_ascii_lowercase()));
        }
        let kept = match naming {
            // A byte loop: `str::split`'s searcher set-up cost more than the
            // rest of this function on a name of twenty bytes.
            HostNaming::Short => match trimmed.bytes().position(|b| b == b'.') {
                Some(dot) => &trimmed[..dot],
                None => trimmed,
            },
            HostNaming::Fqdn => trimmed,
        };
        if kept.is_empty() {
            return None;
        }
        // The same folding: ASCII text needs no Unicode tables.
        let folded = if kept.is_ascii() {
            kept.to_ascii_lowercase()
        } else {
            kept.to_lowercase()
        };
        Some(HostName(folded))
    }

    /// The host known by its address (a network sensor's client): the name
    /// `normalize` gives the address's text, without formatting it through
    /// `Display` and parsing it back (IPv4, written here, is nearly all of them).
    pub fn of_address(ip: IpAddr) -> HostName {
        HostName(match ip {
            IpAddr::V4(v4) => {
                let mut text = String::with_capacity(15);
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        text.push('.');
                    }
                    if octet >= 100 {
                        text.push(char::from(b'0' + octet / 100));
                    }
                    if octet >= 10 {
                        text.push(char::from(b'0' + octet / 10 % 10));
                    }
                    text.push(char::from(b'0' + octet % 10));
                }
                text
            }
            IpAddr::V6(v6) => v6.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_names_the_host_normalize_names() {
        let mut addresses: Vec<IpAddr> = Vec::new();
        for octet in 0..=255u8 {
            for at in 0..4 {
                let mut octets = [10, 200, 7, 99];
                octets[at] = octet;
                addresses.push(IpAddr::from(octets));
            }
        }
        for v6 in [
            "::1",
            "fe80::1",
            "2620:1ec:c11::200",
            "::ffff:1.2.3.4",
            "::",
        ] {
            addresses.push(v6.parse().unwrap());
        }
        for ip in addresses {
            for naming in [HostNaming::Short, HostNaming::Fqdn] {
                assert_eq!(
                    Some(HostName::of_address(ip)),
                    HostName::normalize(&ip.to_string(), naming),
                    "{ip}"
                );
            }
        }
    }

    #[test]
    fn short_naming_folds_case_and_domain() {
        for raw in [
            "WORKSTATION5",
            "workstation5",
            "WORKSTATION5.mordor.local",
            "workstation5.MORDOR.local.",
        ] {
            assert_eq!(
                HostName::normalize(raw, HostNaming::Short)
                    .unwrap()
                    .as_str(),
                "workstation5"
            );
        }
    }

    #[test]
    fn fqdn_naming_keeps_the_domain() {
        let h = HostName::normalize("WORKSTATION5.mordor.local", HostNaming::Fqdn).unwrap();
        assert_eq!(h.as_str(), "workstation5.mordor.local");
    }

    #[test]
    fn addresses_are_not_cut_at_dots() {
        let h = HostName::normalize("10.0.2.15", HostNaming::Short).unwrap();
        assert_eq!(h.as_str(), "10.0.2.15");
    }

    #[test]
    fn names_fold_as_unicode_lowercase_does() {
        for raw in [
            "ÄRGER-PC",
            "WS-İ",
            "DC01",
            "Straße",
            "\u{212A}ELVIN",
            "a1b2",
            "fe80-host",
        ] {
            let h = HostName::normalize(raw, HostNaming::Fqdn).unwrap();
            assert_eq!(h.as_str(), raw.to_lowercase(), "{raw}");
        }
        let v6 = HostName::normalize("FE80::1", HostNaming::Short).unwrap();
        assert_eq!(v6.as_str(), "fe80::1");
    }

    #[test]
    fn placeholders_are_no_host() {
        assert_eq!(HostName::normalize("-", HostNaming::Short), None);
        assert_eq!(HostName::normalize("  ", HostNaming::Short), None);
        assert_eq!(HostName::normalize(".", HostNaming::Short), None);
    }
}
