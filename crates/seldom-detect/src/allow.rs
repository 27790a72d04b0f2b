//! What an allowlist entry covers: the one rule a single service and a
//! cluster's workers both apply to a new alert. Entries themselves (ids,
//! reasons, who added them, which values are acceptable) belong to whoever
//! keeps them (`seldom serve`); here is only the match.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::Alert;
use crate::image::image_name;

/// What an entry's value names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowKind {
    /// A registered domain; covers its subdomains.
    Domain,
    Ip,
    Cidr,
    /// A process image: a file name (`curl.exe`) or a full path.
    Image,
    Host,
    Variation,
}

/// Whether an entry of `kind` with `value` (in its canonical form: a
/// network truncated to its prefix, a domain or name in lower case) covers
/// `alert`.
pub fn covers(kind: AllowKind, value: &str, alert: &Alert) -> bool {
    let d = &alert.destination;
    match kind {
        AllowKind::Domain => [d.registered_domain.as_deref(), d.forward_name.as_deref()]
            .into_iter()
            .flatten()
            .any(|name| {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == value
                    || name
                        .strip_suffix(value)
                        .is_some_and(|head| head.ends_with('.'))
            }),
        AllowKind::Ip => d.ip.to_string() == value,
        AllowKind::Cidr => value.parse::<IpNet>().is_ok_and(|net| net.contains(&d.ip)),
        AllowKind::Image => alert.process.image.as_deref().is_some_and(|image| {
            let image = image.to_lowercase();
            image == value || image_name(&image).is_some_and(|n| Some(n) == image_name(value))
        }),
        AllowKind::Host => alert.host.eq_ignore_ascii_case(value),
        AllowKind::Variation => alert.variation == value,
    }
}
