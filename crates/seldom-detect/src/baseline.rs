//! The organization's memory of where it connects: per destination key, which
//! hosts contacted it and when, over a sliding training window of event time.
//!
//! Memory per key is O(K): only the K most recent distinct hosts are kept, each
//! with its last-contact day (UTC day buckets), plus first-seen time and a
//! connection count. The rare decision stays exact as long as K > rare_hosts:
//! if at least `rare_hosts` hosts other than the current one were seen in the
//! window, the most recent of them are among the K kept (at most one of the K
//! is the current host). Host names are interned to integers.

use seldom_model::{HostName, Timestamp};
use serde::{Deserialize, Serialize};

use crate::destination::DestinationKey;
use crate::fast_map::FastMap;

/// An interned host.
pub type HostId = u32;

/// Host names to small integers, so that per-key memory holds no strings.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct HostInterner {
    ids: FastMap<HostName, HostId>,
    names: Vec<HostName>,
}

impl HostInterner {
    pub fn intern(&mut self, host: &HostName) -> HostId {
        if let Some(id) = self.ids.get(host) {
            return *id;
        }
        let id = HostId::try_from(self.names.len()).unwrap_or(HostId::MAX);
        self.ids.insert(host.clone(), id);
        self.names.push(host.clone());
        id
    }

    /// The id of a host already seen.
    pub fn id(&self, host: &HostName) -> Option<HostId> {
        self.ids.get(host).copied()
    }

    pub fn name(&self, id: HostId) -> Option<&HostName> {
        self.names.get(id as usize)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What the baseline knows of one key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyPrevalence {
    /// Up to K distinct hosts, most recent contact first.
    recent: Vec<(HostId, i64)>,
    pub first_seen: Timestamp,
    pub connections: u64,
    /// Per day of the window with contacts, how many hosts contacted the key
    /// that day, for an analyst's timeline. Exact while the key is rare (its
    /// hosts are all among the K kept); beyond, a host that dropped out of the
    /// K counts again, so the figure is an upper bound for popular keys.
    #[serde(default)]
    daily: Vec<(i64, u32)>,
}

impl KeyPrevalence {
    /// The K most recent hosts, most recent first, with their last contact day.
    pub fn recent(&self) -> &[(HostId, i64)] {
        &self.recent
    }

    /// Hosts kept other than `host` whose last contact is on `start` (a UTC
    /// day) or later.
    fn others_since(&self, host: HostId, start: i64) -> usize {
        self.recent
            .iter()
            .filter(|(h, day)| *h != host && *day >= start)
            .count()
    }

    /// `(day, hosts)` for the days of the window with contacts, oldest first.
    pub fn daily(&self) -> &[(i64, u32)] {
        &self.daily
    }
}

/// The evidence behind a rare decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prevalence {
    /// Distinct hosts other than the asking one that contacted the key in the window.
    pub other_hosts_in_window: usize,
    /// When the key was first seen in the organization (`None`: never before).
    pub first_seen_in_org: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    training_days: i64,
    keep: usize,
    keys: FastMap<DestinationKey, KeyPrevalence>,
}

impl Baseline {
    /// `keep` is K, the distinct hosts remembered per key; it must exceed the
    /// rare threshold for decisions to be exact.
    pub fn new(training_days: u32, keep: usize) -> Self {
        Baseline {
            training_days: i64::from(training_days.max(1)),
            keep: keep.max(1),
            keys: FastMap::default(),
        }
    }

    /// The first day inside the window that ends on `day` (inclusive).
    fn window_start(&self, day: i64) -> i64 {
        day - self.training_days + 1
    }

    /// What the organization knew of `key` before this contact.
    pub fn prevalence(&self, key: &DestinationKey, host: HostId, at: Timestamp) -> Prevalence {
        let Some(known) = self.keys.get(key) else {
            return Prevalence {
                other_hosts_in_window: 0,
                first_seen_in_org: None,
            };
        };
        Prevalence {
            other_hosts_in_window: known.others_since(host, self.window_start(at.day())),
            first_seen_in_org: Some(known.first_seen),
        }
    }

    /// Hosts other than `host` that contacted `key` within the `days` days
    /// ending on `at`'s day: exact while fewer than K - 1, since they are
    /// the most recent of the K kept (`seldom tune` asks this of several
    /// windows at once).
    pub fn others_within(
        &self,
        key: &DestinationKey,
        host: HostId,
        at: Timestamp,
        days: u32,
    ) -> usize {
        self.keys.get(key).map_or(0, |known| {
            known.others_since(host, at.day() - i64::from(days.max(1)) + 1)
        })
    }

    /// Records that `host` contacted `key` at `at`.
    pub fn record(&mut self, key: &DestinationKey, host: HostId, at: Timestamp) {
        let day = at.day();
        let keep = self.keep;
        // A lookup before the insert: most contacts are to known keys, and
        // `entry` would clone the key (a string) on every one of them.
        if !self.keys.contains_key(key) {
            self.keys.insert(
                key.clone(),
                KeyPrevalence {
                    recent: Vec::with_capacity(2),
                    first_seen: at,
                    connections: 0,
                    daily: Vec::new(),
                },
            );
        }
        let Some(entry) = self.keys.get_mut(key) else {
            return;
        };
        entry.connections += 1;
        entry.first_seen = entry.first_seen.min(at);
        let position = entry.recent.iter().position(|(h, _)| *h == host);
        let new_host_day = position.is_none_or(|i| entry.recent[i].1 != day);
        if new_host_day {
            count_host_day(&mut entry.daily, day, day - self.training_days + 1);
        }
        match position {
            Some(i) => {
                let (_, last) = entry.recent.remove(i);
                insert_by_recency(&mut entry.recent, (host, last.max(day)));
            }
            None => {
                insert_by_recency(&mut entry.recent, (host, day));
                entry.recent.truncate(keep);
            }
        }
    }

    /// Drops keys with no contact inside the window ending on `today`.
    pub fn expire(&mut self, today: i64) {
        let start = self.window_start(today);
        self.keys
            .retain(|_, k| k.recent.first().is_some_and(|(_, day)| *day >= start));
    }

    /// Evicts the least recently contacted keys until `target` remain; returns
    /// how many went. Bounds memory when an attacker floods unique destinations.
    pub fn evict_to(&mut self, target: usize) -> usize {
        if self.keys.len() <= target {
            return 0;
        }
        let mut days: Vec<i64> = self
            .keys
            .values()
            .map(|k| k.recent.first().map_or(i64::MIN, |(_, d)| *d))
            .collect();
        let excess = self.keys.len() - target;
        let (_, cutoff, _) = days.select_nth_unstable(excess - 1);
        let cutoff = *cutoff;
        let before = self.keys.len();
        let mut to_drop = excess;
        self.keys.retain(|_, k| {
            let day = k.recent.first().map_or(i64::MIN, |(_, d)| *d);
            if to_drop > 0 && day <= cutoff {
                to_drop -= 1;
                false
            } else {
                true
            }
        });
        before - self.keys.len()
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    pub fn get(&self, key: &DestinationKey) -> Option<&KeyPrevalence> {
        self.keys.get(key)
    }
}

/// One more host on `day` in the daily counts, dropping days before `start`.
/// Contacts arrive nearly in day order, so the day is almost always the last.
fn count_host_day(daily: &mut Vec<(i64, u32)>, day: i64, start: i64) {
    match daily.iter().rposition(|(d, _)| *d <= day) {
        Some(i) if daily[i].0 == day => daily[i].1 += 1,
        Some(i) => daily.insert(i + 1, (day, 1)),
        None => daily.insert(0, (day, 1)),
    }
    let stale = daily.iter().take_while(|(d, _)| *d < start).count();
    daily.drain(..stale);
}

/// Keeps `recent` ordered by day, most recent first (ties: newest insert first).
fn insert_by_recency(recent: &mut Vec<(HostId, i64)>, item: (HostId, i64)) {
    let at = recent
        .iter()
        .position(|(_, day)| *day <= item.1)
        .unwrap_or(recent.len());
    recent.insert(at, item);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use seldom_model::HostNaming;
    use std::collections::{HashMap, HashSet};
    use std::net::IpAddr;

    const DAY: i64 = seldom_model_day();

    const fn seldom_model_day() -> i64 {
        86_400 * 1_000_000
    }

    fn t(day: i64) -> Timestamp {
        Timestamp::from_micros(19_000 * DAY + day * DAY + 3_600_000_000)
    }

    fn key(n: u8) -> DestinationKey {
        DestinationKey::Ip(IpAddr::from([203, 0, 113, n]))
    }

    #[test]
    fn a_key_fades_out_of_the_window() {
        let mut b = Baseline::new(30, 4);
        b.record(&key(1), 1, t(0));
        assert_eq!(b.prevalence(&key(1), 2, t(29)).other_hosts_in_window, 1);
        assert_eq!(b.prevalence(&key(1), 2, t(30)).other_hosts_in_window, 0);
        assert_eq!(
            b.prevalence(&key(1), 2, t(30)).first_seen_in_org,
            Some(t(0))
        );
        b.expire(t(30).day());
        assert_eq!(b.key_count(), 0);
    }

    #[test]
    fn the_asking_host_never_counts() {
        let mut b = Baseline::new(30, 4);
        for _ in 0..5 {
            b.record(&key(1), 7, t(1));
        }
        assert_eq!(b.prevalence(&key(1), 7, t(2)).other_hosts_in_window, 0);
        assert_eq!(b.get(&key(1)).map(|k| k.connections), Some(5));
    }

    #[test]
    fn daily_counts_hosts_once_per_day_and_slide_with_the_window() {
        let mut b = Baseline::new(3, 4);
        let key = DestinationKey::Ip("203.0.113.9".parse().unwrap());
        let day = |d: i64| Timestamp::from_micros(d * 86_400_000_000 + 3_600_000_000);
        b.record(&key, 1, day(10));
        b.record(&key, 1, day(10));
        b.record(&key, 2, day(10));
        b.record(&key, 1, day(11));
        b.record(&key, 3, day(13));
        assert_eq!(b.get(&key).unwrap().daily(), &[(11, 1), (13, 1)]);
    }

    #[test]
    fn eviction_drops_the_least_recently_contacted_keys() {
        let mut b = Baseline::new(30, 4);
        for n in 0..10u8 {
            b.record(&key(n), 1, t(i64::from(n)));
        }
        assert_eq!(b.evict_to(4), 6);
        assert_eq!(b.key_count(), 4);
        assert!(b.get(&key(9)).is_some() && b.get(&key(0)).is_none());
    }

    #[test]
    fn interner_gives_stable_ids() {
        let mut i = HostInterner::default();
        let a = HostName::normalize("A", HostNaming::Short).unwrap();
        let b = HostName::normalize("b", HostNaming::Short).unwrap();
        assert_eq!(i.intern(&a), 0);
        assert_eq!(i.intern(&b), 1);
        assert_eq!(i.intern(&a), 0);
        assert_eq!(i.name(1), Some(&b));
    }

    /// The naive model: every (key, host, day) ever seen.
    #[derive(Default)]
    struct Naive {
        contacts: HashMap<DestinationKey, HashSet<(HostId, i64)>>,
    }

    impl Naive {
        fn others_in_window(
            &self,
            key: &DestinationKey,
            host: HostId,
            day: i64,
            window: i64,
        ) -> usize {
            let hosts: HashSet<HostId> = self
                .contacts
                .get(key)
                .into_iter()
                .flatten()
                .filter(|(h, d)| *h != host && *d > day - window && *d <= day)
                .map(|(h, _)| *h)
                .collect();
            hosts.len()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Over random streams in time order, the bounded baseline makes the same
        /// rare decision as the naive model, for every threshold below K.
        #[test]
        fn bounded_baseline_decides_like_the_naive_model(
            steps in proptest::collection::vec((0u8..6, 0u32..12, 0i64..3), 1..400),
            rare_hosts in 1usize..4,
        ) {
            let window = 30;
            let keep = rare_hosts + 1;
            let mut baseline = Baseline::new(window as u32, keep);
            let mut naive = Naive::default();
            let mut day = 0i64;
            for (k, host, advance) in steps {
                day += advance;
                let key = key(k);
                let naive_count = naive.others_in_window(&key, host, day, window);
                let ours = baseline.prevalence(&key, host, t(day)).other_hosts_in_window;
                prop_assert_eq!(ours < rare_hosts, naive_count < rare_hosts, "day {} key {:?} host {}: ours {} naive {}", day, key, host, ours, naive_count);
                if naive_count < rare_hosts {
                    prop_assert_eq!(ours, naive_count);
                }
                baseline.record(&key, host, t(day));
                naive.contacts.entry(key).or_default().insert((host, day));
            }
        }
    }
}
