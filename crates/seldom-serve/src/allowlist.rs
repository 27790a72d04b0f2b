//! Allowlist entries: destinations, processes, hosts or variations an analyst
//! has judged benign, with the reason. An entry suppresses new alerts it
//! covers and, when added, resolves the open alerts it covers, naming itself
//! as the reason.

use ipnet::IpNet;
use seldom_detect::Alert;
use seldom_detect::image::image_name;
use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A registered domain; covers its subdomains.
    Domain,
    Ip,
    Cidr,
    /// A process image: a file name (`curl.exe`) or a full path.
    Image,
    Host,
    Variation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub kind: Kind,
    pub value: String,
    pub reason: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// What `POST /api/v1/allowlist` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    pub kind: Kind,
    pub value: String,
    pub reason: String,
    pub by: Option<String>,
}

impl NewEntry {
    /// Checks the value against its kind and gives it its canonical form.
    pub fn validate(self) -> Result<NewEntry, String> {
        let value = self.value.trim().to_owned();
        if value.is_empty() {
            return Err("value: empty".into());
        }
        if self.reason.trim().is_empty() {
            return Err("reason: an allowlist entry needs a reason".into());
        }
        let value = match self.kind {
            Kind::Ip => value
                .parse::<std::net::IpAddr>()
                .map_err(|_| format!("value: {value:?} is not an IP address"))?
                .to_string(),
            Kind::Cidr => value
                .parse::<IpNet>()
                .map_err(|_| format!("value: {value:?} is not a network (CIDR)"))?
                .trunc()
                .to_string(),
            Kind::Domain => value.trim_end_matches('.').to_ascii_lowercase(),
            Kind::Image | Kind::Host => value.to_lowercase(),
            Kind::Variation => value,
        };
        Ok(NewEntry { value, ..self })
    }
}

impl Entry {
    /// Whether this entry covers the alert.
    pub fn covers(&self, alert: &Alert) -> bool {
        let d = &alert.destination;
        match self.kind {
            Kind::Domain => [d.registered_domain.as_deref(), d.forward_name.as_deref()]
                .into_iter()
                .flatten()
                .any(|name| {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    name == self.value || name.ends_with(&format!(".{}", self.value))
                }),
            Kind::Ip => d.ip.to_string() == self.value,
            Kind::Cidr => self
                .value
                .parse::<IpNet>()
                .is_ok_and(|net| net.contains(&d.ip)),
            Kind::Image => alert.process.image.as_deref().is_some_and(|image| {
                let image = image.to_lowercase();
                image == self.value
                    || image_name(&image).is_some_and(|n| Some(n) == image_name(&self.value))
            }),
            Kind::Host => alert.host.eq_ignore_ascii_case(&self.value),
            Kind::Variation => alert.variation == self.value,
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "allowlist entry {} ({:?} {}): {}",
            self.id, self.kind, self.value, self.reason
        )
    }
}
