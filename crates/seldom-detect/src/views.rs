//! What an analyst can ask the detector between events: what the
//! organization knows of a destination, and how far each platform is
//! through its activation period.

use crate::destination::DestinationKey;
use crate::engine::Detector;
use crate::rarity::activated;
use crate::report::{ActivationProgress, DestinationView};

impl Detector {
    /// What the organization knows of a destination key (a registered domain
    /// or an address, as alerts name it), for an analyst.
    pub fn destination(&self, key: &str) -> Option<DestinationView> {
        let key = match key.parse::<std::net::IpAddr>() {
            Ok(ip) => DestinationKey::Ip(ip),
            Err(_) => DestinationKey::Domain(key.trim().to_ascii_lowercase()),
        };
        let known = self.state.baseline.get(&key)?;
        let today = self.state.current_day.unwrap_or(0);
        let start = today - i64::from(self.config.training_days) + 1;
        let recent: Vec<(String, i64)> = known
            .recent()
            .iter()
            .filter_map(|(id, day)| Some((self.state.hosts.name(*id)?.to_string(), *day)))
            .collect();
        Some(DestinationView {
            key_type: match key {
                DestinationKey::Ip(_) => "ip",
                DestinationKey::Domain(_) => "domain",
            },
            key: key.to_string(),
            hosts_in_window: recent.iter().filter(|(_, day)| *day >= start).count(),
            recent_hosts: recent.into_iter().map(|(host, _)| host).collect(),
            first_seen: known.first_seen,
            connections: known.connections,
            window_days: self.config.training_days,
            daily: known
                .daily()
                .iter()
                .filter(|(day, _)| *day >= start)
                .map(|(day, hosts)| (*day, *hosts))
                .collect(),
        })
    }

    /// Per platform seen, how far its activation period has come, in event time.
    pub fn activation(&self) -> Vec<ActivationProgress> {
        let now = self.state.clock.now();
        self.state
            .clock
            .platforms()
            .map(|(platform, first)| {
                let seen = now.map_or(0, |n| n.since(first).whole_days());
                ActivationProgress {
                    platform,
                    days_seen: u32::try_from(seen.max(0)).unwrap_or(u32::MAX),
                    activation_days: self.config.activation_days,
                    active: now.is_some_and(|n| activated(Some(first), n, self.spans.activation)),
                }
            })
            .collect()
    }
}
