//! Where a connection goes: internal or external, and the key the
//! organization's prevalence is counted on.
//!
//! The key is the *forward* name the process asked for, reduced to its
//! registered domain with the Public Suffix List (private section included, so
//! `x.cloudfront.net` and `y.cloudfront.net` stay apart), else the IP address.
//! Sysmon's `DestinationHostname` is a reverse (PTR) name: shown, never keyed
//! on, or every VPS at a large hoster would look common.
//!
//! Some addresses are no host at all (multicast, broadcast, unspecified) and
//! are internal whatever `internal_networks` says; and old Sysmon versions
//! write some IPv4 addresses as IPv6 text, which [`unmangle_ipv6`] reads back.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The default internal networks: private, shared, loopback, link-local,
/// multicast, broadcast, unspecified and documentation ranges (DESIGN §2),
/// and the cloud platforms' own endpoints that every virtual machine talks to.
pub const DEFAULT_INTERNAL_NETWORKS: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "224.0.0.0/4",
    "255.255.255.255/32",
    "0.0.0.0/8",
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "::1/128",
    "::/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
    "2001:db8::/32",
    // Azure's WireServer (DHCP, DNS, health probes, the VM agent): every Azure
    // VM talks to it, from the first boot. AWS, GCP and Oracle use
    // 169.254.169.254 and Alibaba 100.100.100.200, already covered above.
    "168.63.129.16/32",
];

/// Names that are internal by default: single labels and private suffixes.
pub const DEFAULT_INTERNAL_DOMAINS: &[&str] =
    &[".local", ".lan", ".internal", ".home.arpa", ".corp"];

/// What prevalence is counted on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum DestinationKey {
    Domain(String),
    Ip(IpAddr),
}

impl fmt::Display for DestinationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DestinationKey::Domain(d) => f.write_str(d),
            DestinationKey::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Decides what is internal, and keys what is not.
#[derive(Debug, Clone)]
pub struct DestinationClassifier {
    networks: Vec<IpNet>,
    domains: Vec<String>,
}

impl DestinationClassifier {
    pub fn new(networks: Vec<IpNet>, domains: &[String]) -> Self {
        let domains = domains
            .iter()
            .map(|d| {
                let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
                if d.starts_with('.') {
                    d
                } else {
                    format!(".{d}")
                }
            })
            .collect();
        DestinationClassifier { networks, domains }
    }

    /// The default internal networks and domains (DESIGN §2).
    pub fn with_defaults() -> Self {
        let networks = DEFAULT_INTERNAL_NETWORKS
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        let domains: Vec<String> = DEFAULT_INTERNAL_DOMAINS
            .iter()
            .map(|d| d.to_string())
            .collect();
        DestinationClassifier::new(networks, &domains)
    }

    /// In the configured networks, or no host at all ([`is_no_host`]).
    pub fn is_internal_ip(&self, ip: IpAddr) -> bool {
        is_no_host(ip) || self.networks.iter().any(|net| net.contains(&ip))
    }

    /// Why `ip` is internal, in words; `None` when it is external.
    pub fn internal_because(&self, ip: IpAddr) -> Option<String> {
        if is_no_host(ip) {
            return Some(format!(
                "{ip} names no host (multicast, broadcast or unspecified)"
            ));
        }
        self.networks
            .iter()
            .find(|net| net.contains(&ip))
            .map(|net| format!("{ip} is in {net} (internal_networks, or a special-use range)"))
    }

    /// A single-label name, or one under a configured internal suffix.
    pub fn is_internal_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        if !name.contains('.') {
            return true;
        }
        self.domains.iter().any(|suffix| is_under(name, suffix))
    }

    /// The key for a connection to `ip`, asked for as `forward_name` if known.
    pub fn key(&self, ip: IpAddr, forward_name: Option<&str>) -> DestinationKey {
        forward_name
            .and_then(registered_domain)
            .map_or(DestinationKey::Ip(ip), DestinationKey::Domain)
    }
}

/// Whether `"." + name`, its ASCII letters lowered, ends with `suffix` (a
/// configured domain: lowered, with its leading dot), without building it:
/// every connection to a name asks this of every internal domain.
fn is_under(name: &str, suffix: &str) -> bool {
    let (name, suffix) = (name.as_bytes(), suffix.as_bytes());
    match suffix.len().cmp(&(name.len() + 1)) {
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => suffix[0] == b'.' && name.eq_ignore_ascii_case(&suffix[1..]),
        std::cmp::Ordering::Less => name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix),
    }
}

/// Addresses that name no host: multicast, the limited broadcast and the
/// unspecified address. A connection "to" one is discovery or a sensor's
/// placeholder, never a host to learn or alert on, whatever the settings.
pub fn is_no_host(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified(),
        IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified(),
    }
}

/// The IPv4 address an old Sysmon wrote as IPv6 text, bytes first and garbage
/// after (`ac1e:101::` is 172.30.1.1, `e000:fc::` is 224.0.0.252): an IPv6
/// address outside every range actually in use (global unicast 2000::/3,
/// unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8,
/// IPv4-mapped, loopback, unspecified) is read as the IPv4 address in its
/// first four bytes. `None` for every address in use.
pub fn unmangle_ipv6(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else {
        return None;
    };
    let first = v6.segments()[0];
    let in_use = first & 0xe000 == 0x2000 // 2000::/3
        || first & 0xfe00 == 0xfc00 // fc00::/7
        || first & 0xffc0 == 0xfe80 // fe80::/10
        || first & 0xff00 == 0xff00 // ff00::/8
        || v6.to_ipv4_mapped().is_some()
        || v6 == Ipv6Addr::LOCALHOST
        || v6.is_unspecified();
    if in_use {
        return None;
    }
    let [a, b, c, d, ..] = v6.octets();
    Some(Ipv4Addr::new(a, b, c, d))
}

/// The registered domain of a name (`a.b.example.co.uk` → `example.co.uk`), or
/// `None` for a name that has none (a bare suffix, an address, a single label).
pub fn registered_domain(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    // Only text with a colon (IPv6) or ending in a digit (IPv4) can be an
    // address: the usual name skips the parse.
    let may_be_address = name.contains(':') || name.ends_with(|c: char| c.is_ascii_digit());
    if name.is_empty() || (may_be_address && name.parse::<IpAddr>().is_ok()) {
        return None;
    }
    let domain = psl::domain(name.as_bytes())?;
    // Names under suffixes missing from the list get psl's wildcard rule; one
    // label past an unknown suffix is still a sensible key.
    std::str::from_utf8(domain.as_bytes())
        .ok()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier() -> DestinationClassifier {
        DestinationClassifier::with_defaults()
    }

    #[test]
    fn every_default_network_parses() {
        assert_eq!(classifier().networks.len(), DEFAULT_INTERNAL_NETWORKS.len());
    }

    #[test]
    fn private_and_special_addresses_are_internal() {
        let c = classifier();
        for ip in [
            "10.10.10.5",
            "192.168.2.6",
            "172.31.255.1",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "224.0.0.251",
            "255.255.255.255",
            "fe80::1",
            "fd00::1",
            "::1",
            "203.0.113.9",
        ] {
            assert!(c.is_internal_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["151.101.0.133", "8.8.8.8", "172.32.0.1", "2606:4700::1111"] {
            assert!(!c.is_internal_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn no_host_addresses_are_internal_whatever_the_networks() {
        let none = DestinationClassifier::new(Vec::new(), &[]);
        for ip in [
            "224.0.0.252",
            "239.255.255.250",
            "255.255.255.255",
            "0.0.0.0",
            "ff02::fb",
            "::",
        ] {
            assert!(none.is_internal_ip(ip.parse().unwrap()), "{ip}");
        }
        assert!(!none.is_internal_ip("10.0.0.1".parse().unwrap()));
        assert!(classifier().is_internal_ip("168.63.129.16".parse().unwrap()));
    }

    #[test]
    fn old_sysmon_ipv6_text_is_read_as_the_ipv4_it_carries() {
        let read = |text: &str| unmangle_ipv6(text.parse().unwrap());
        assert_eq!(read("ac1e:101::"), Some(Ipv4Addr::new(172, 30, 1, 1)));
        assert_eq!(read("e000:fc::"), Some(Ipv4Addr::new(224, 0, 0, 252)));
        assert_eq!(
            read("5db8:d822:0:1:2::"),
            Some(Ipv4Addr::new(93, 184, 216, 34))
        );
        for in_use in [
            "2606:4700::1111",
            "3fff::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:1.2.3.4",
            "::1",
            "::",
            "8.8.8.8",
        ] {
            assert_eq!(read(in_use), None, "{in_use}");
        }
    }

    proptest::proptest! {
        #[test]
        fn internal_names_are_found_as_the_dotted_copy_found_them(
            name in "[a-zA-Z.É]{0,12}\\.?",
            domains in proptest::collection::vec("\\.?[a-zA-Z.É]{0,8}", 0..4),
        ) {
            let c = DestinationClassifier::new(Vec::new(), &domains);
            // The random name, and names in, at and next to each domain.
            let mut names = vec![name];
            for domain in &domains {
                let bare = domain.trim_start_matches('.');
                names.push(format!("host.{bare}"));
                names.push(format!("HOST.{}", bare.to_uppercase()));
                names.push(bare.to_owned());
                names.push(format!("x{bare}"));
            }
            for name in names {
                let trimmed = name.trim_end_matches('.');
                let dotted = format!(".{}", trimmed.to_ascii_lowercase());
                let by_copy = !trimmed.contains('.')
                    || c.domains.iter().any(|suffix| dotted.ends_with(suffix.as_str()));
                proptest::prop_assert_eq!(c.is_internal_name(&name), by_copy, "{}", name);
            }
        }
    }

    #[test]
    fn internal_names() {
        let c = classifier();
        assert!(c.is_internal_name("fileserver"));
        assert!(c.is_internal_name("dc01.mordor.local"));
        assert!(c.is_internal_name("printer.home.arpa."));
        assert!(!c.is_internal_name("example.com"));
        assert!(!c.is_internal_name("a.notlocal"));
    }

    #[test]
    fn registered_domains_use_the_private_section() {
        assert_eq!(
            registered_domain("www.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            registered_domain("d1234.cloudfront.net").as_deref(),
            Some("d1234.cloudfront.net")
        );
        assert_eq!(
            registered_domain("a.b.c.github.io").as_deref(),
            Some("c.github.io")
        );
        assert_eq!(
            registered_domain("Edge.Microsoft.COM.").as_deref(),
            Some("microsoft.com")
        );
        assert_eq!(registered_domain("co.uk"), None);
        assert_eq!(registered_domain("1.2.3.4"), None);
    }

    #[test]
    fn key_prefers_the_forward_name() {
        let c = classifier();
        let ip: IpAddr = "151.101.0.133".parse().unwrap();
        assert_eq!(
            c.key(ip, Some("cdn.evil.example.com")),
            DestinationKey::Domain("example.com".into())
        );
        assert_eq!(c.key(ip, None), DestinationKey::Ip(ip));
    }
}
