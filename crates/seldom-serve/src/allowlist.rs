//! Allowlist entries: destinations, processes, hosts or variations an analyst
//! has judged benign, with the reason. An entry suppresses new alerts it
//! covers and, when added, resolves the open alerts it covers, naming itself
//! as the reason.
//!
//! Because adding an entry resolves alerts at once, an entry that would cover
//! far more than an analyst can have judged is refused, not stored: a network
//! wider than /8 (IPv4) or /16 (IPv6), a bare public suffix (`com`,
//! `co.uk`), a wildcard (entries match exactly; a domain also covers its
//! subdomains), a variation the catalog does not have.

use ipnet::IpNet;
use seldom_detect::Alert;
use seldom_detect::destination::registered_domain;
use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an entry's value names (the matching rule is the detector's, shared
/// with a cluster's workers).
pub use seldom_detect::allow::AllowKind as Kind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = AllowlistEntry)]
pub struct Entry {
    pub id: String,
    #[schema(schema_with = crate::schema::allow_kind)]
    pub kind: Kind,
    /// In canonical form: a network truncated to its prefix, a domain or
    /// name in lower case.
    pub value: String,
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub created_by: String,
}

/// What `POST /api/v1/allowlist` takes. `value` must also name what `kind`
/// says: an IP address, a network no wider than /8 (IPv4) or /16 (IPv6), a
/// registered domain or a name under one (not a public suffix), a process
/// image, a host, or one of the catalog's variations; the server refuses
/// (400) a value that does not, naming the field.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    #[schema(schema_with = crate::schema::allow_kind)]
    pub kind: Kind,
    /// Matched exactly (a domain also covers its subdomains): something
    /// besides white space, and no wildcard (`*`, `?`).
    #[schema(pattern = r"^[^*?]*[^*?\s][^*?]*$")]
    pub value: String,
    /// Why: shown as the reason of every alert the entry resolves.
    #[schema(pattern = r"\S")]
    pub reason: String,
    /// Who adds it (default "analyst").
    pub by: Option<String>,
}

/// The widest networks an entry may name: a /8 is already 16 million
/// addresses; anything wider is "every alert", not a judgement.
const MIN_PREFIX_V4: u8 = 8;
const MIN_PREFIX_V6: u8 = 16;

impl NewEntry {
    /// Checks the value against its kind and gives it its canonical form;
    /// `variations` are the catalog's ids.
    pub fn validate(self, variations: &[String]) -> Result<NewEntry, String> {
        let value = self.value.trim().to_owned();
        if value.is_empty() {
            return Err("value: empty".into());
        }
        if self.reason.trim().is_empty() {
            return Err("reason: an allowlist entry needs a reason".into());
        }
        if value.contains(['*', '?']) {
            return Err(format!(
                "value: {value:?}: wildcards are not supported; an entry matches exactly (a domain also covers its subdomains)"
            ));
        }
        let value = match self.kind {
            Kind::Ip => value
                .parse::<std::net::IpAddr>()
                .map_err(|_| format!("value: {value:?} is not an IP address"))?
                .to_string(),
            Kind::Cidr => {
                let net = value
                    .parse::<IpNet>()
                    .map_err(|_| format!("value: {value:?} is not a network (CIDR)"))?
                    .trunc();
                let (prefix, min) = match net {
                    IpNet::V4(n) => (n.prefix_len(), MIN_PREFIX_V4),
                    IpNet::V6(n) => (n.prefix_len(), MIN_PREFIX_V6),
                };
                if prefix < min {
                    return Err(format!(
                        "value: {net} is wider than /{min}; allowlist narrower networks"
                    ));
                }
                net.to_string()
            }
            Kind::Domain => {
                let domain = value.trim_end_matches('.').to_ascii_lowercase();
                if registered_domain(&domain).is_none() {
                    return Err(format!(
                        "value: {domain:?} is a public suffix or not a domain name; name a registered domain (example.com) or a name under one"
                    ));
                }
                domain
            }
            Kind::Image | Kind::Host => value.to_lowercase(),
            Kind::Variation => {
                if !variations.contains(&value) {
                    return Err(format!(
                        "value: {value:?} is not a variation of the catalog ({})",
                        variations.join(", ")
                    ));
                }
                value
            }
        };
        Ok(NewEntry { value, ..self })
    }
}

impl Entry {
    /// Whether this entry covers the alert.
    pub fn covers(&self, alert: &Alert) -> bool {
        seldom_detect::allow::covers(self.kind, &self.value, alert)
    }

    pub fn describe(&self) -> String {
        format!(
            "allowlist entry {} ({:?} {}): {}",
            self.id, self.kind, self.value, self.reason
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: Kind, value: &str) -> Result<NewEntry, String> {
        let variations = ["rare-external-host".to_owned(), "curl".to_owned()];
        NewEntry {
            kind,
            value: value.into(),
            reason: "benign".into(),
            by: None,
        }
        .validate(&variations)
    }

    #[test]
    fn entries_that_would_cover_everything_are_refused() {
        for (kind, value) in [
            (Kind::Cidr, "0.0.0.0/0"),
            (Kind::Cidr, "::/0"),
            (Kind::Cidr, "128.0.0.0/1"),
            (Kind::Cidr, "2000::/3"),
            (Kind::Domain, "*"),
            (Kind::Domain, "*.example.com"),
            (Kind::Domain, "com"),
            (Kind::Domain, "co.uk"),
            (Kind::Image, "*"),
            (Kind::Host, "ws*"),
            (Kind::Variation, "*"),
            (Kind::Variation, "rare-externa-host"),
        ] {
            assert!(entry(kind, value).is_err(), "{kind:?} {value}");
        }
    }

    #[test]
    fn narrow_entries_are_kept_in_canonical_form() {
        assert_eq!(entry(Kind::Cidr, "10.1.2.3/8").unwrap().value, "10.0.0.0/8");
        assert_eq!(
            entry(Kind::Cidr, "2606:4700::/32").unwrap().value,
            "2606:4700::/32"
        );
        assert_eq!(
            entry(Kind::Domain, "CDN.Example.com.").unwrap().value,
            "cdn.example.com"
        );
        assert_eq!(entry(Kind::Variation, "curl").unwrap().value, "curl");
    }
}
