//! The organization's clock: event-time progress that no single host can move.
//!
//! Event time is attacker-controlled. One record dated 2099 must not make the
//! rest of the organization late or expire the baseline, and one dated 1995
//! must not make a platform's activation "already passed". So each host has a
//! clock of its own (its latest event time), and the organization's clock is
//! the latest time that at least `quorum` distinct hosts have reached (2 by
//! default): a stream processor's watermark over its sources, where the
//! sources are hosts. One host racing ahead moves only its own clock; a host
//! that is behind, or has gone quiet, holds nothing back, since the clock is a
//! high point of the hosts that report, not a low one. (A low point would let
//! every sparse or switched-off host stall the reorder buffer, and a batch
//! replay has no wall clock to declare a host idle by.) While fewer hosts than
//! the quorum have been seen, the clock is the lowest of them: an organization
//! of one host is that host.
//!
//! A platform's activation starts at the first record of that platform that the
//! clock confirms: one no more than [`STALE_RECORD`] behind the organization's
//! clock when it is processed. A stray old record (1995) is processed and
//! trains the baseline, but does not date the platform's start.

use std::collections::BTreeMap;

use seldom_model::{MICROS_PER_DAY, Platform, Timestamp};
use serde::{Deserialize, Serialize};

/// How far behind the organization's clock a record may be and still date
/// its platform's start (a quiet sensor's first record after a weekend gap is
/// not stale; one from years ago is).
pub const STALE_RECORD: i64 = MICROS_PER_DAY;

/// Per-host clocks reduced to what the organization's clock needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrgClock {
    /// The `quorum` highest host clocks, highest first, one entry per host
    /// (keyed by a hash of the host name). Host clocks only move forward, so
    /// keeping the top `quorum` is exact: a host that falls out can only come
    /// back with a later time, which is compared afresh.
    leaders: Vec<(u64, Timestamp)>,
    /// When each platform's telemetry began, as the clock confirmed it.
    platform_start: BTreeMap<Platform, Timestamp>,
}

impl OrgClock {
    /// Moves `host`'s clock to `time` if that is later.
    pub fn observe(&mut self, host: u64, time: Timestamp, quorum: usize) {
        let quorum = quorum.max(1);
        if let Some(entry) = self.leaders.iter_mut().find(|(h, _)| *h == host) {
            entry.1 = entry.1.max(time);
        } else if self.leaders.len() < quorum {
            self.leaders.push((host, time));
        } else if self.leaders.last().is_some_and(|(_, t)| time > *t) {
            self.leaders.pop();
            self.leaders.push((host, time));
        } else {
            return;
        }
        self.leaders
            .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.leaders.truncate(quorum);
    }

    /// The latest time at least `quorum` hosts have reached (the lowest of
    /// the hosts seen, while fewer have been).
    pub fn now(&self) -> Option<Timestamp> {
        self.leaders.last().map(|(_, t)| *t)
    }

    /// Notes a processed record of `platform`; it dates the platform's start
    /// unless it is stale against the clock (`now`, the time events are being
    /// released up to).
    pub fn note_platform(&mut self, platform: Platform, time: Timestamp, now: Option<Timestamp>) {
        let stale =
            now.is_some_and(|now| now.as_micros().saturating_sub(time.as_micros()) > STALE_RECORD);
        if stale {
            return;
        }
        self.platform_start
            .entry(platform)
            .and_modify(|t| *t = (*t).min(time))
            .or_insert(time);
    }

    /// When `platform`'s telemetry began, if a record of it was confirmed.
    pub fn platform_start(&self, platform: Platform) -> Option<Timestamp> {
        self.platform_start.get(&platform).copied()
    }

    pub fn platforms(&self) -> impl Iterator<Item = (Platform, Timestamp)> + '_ {
        self.platform_start.iter().map(|(p, t)| (*p, *t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_micros(1_704_067_200_000_000 + seconds * 1_000_000)
    }

    #[test]
    fn one_host_cannot_move_the_clock_of_many() {
        let mut clock = OrgClock::default();
        for host in 0..5 {
            clock.observe(host, t(100), 2);
        }
        clock.observe(3, t(1_000_000_000), 2);
        assert_eq!(clock.now(), Some(t(100)));
        clock.observe(4, t(200), 2);
        assert_eq!(clock.now(), Some(t(200)), "a second host confirms");
    }

    #[test]
    fn an_organization_of_one_host_is_that_host() {
        let mut clock = OrgClock::default();
        clock.observe(7, t(10), 2);
        assert_eq!(clock.now(), Some(t(10)));
        clock.observe(7, t(20), 2);
        assert_eq!(clock.now(), Some(t(20)));
    }

    #[test]
    fn the_top_hosts_stay_exact_as_leaders_change() {
        // Against a naive model: the quorum-th highest of all host clocks.
        let mut clock = OrgClock::default();
        let mut naive = BTreeMap::new();
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..5_000 {
            let host = rng.u64(0..20);
            let time = t(rng.i64(0..10_000));
            clock.observe(host, time, 3);
            let c = naive.entry(host).or_insert(time);
            *c = (*c).max(time);
            let mut all: Vec<Timestamp> = naive.values().copied().collect();
            all.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(clock.now(), all.get(2.min(all.len() - 1)).copied());
        }
    }

    #[test]
    fn a_stale_record_does_not_date_its_platform() {
        let mut clock = OrgClock::default();
        let now = Some(t(40 * 86_400));
        clock.note_platform(Platform::Windows, t(0), now);
        assert_eq!(clock.platform_start(Platform::Windows), None);
        clock.note_platform(Platform::Windows, t(40 * 86_400 - 3_600), now);
        assert_eq!(
            clock.platform_start(Platform::Windows),
            Some(t(40 * 86_400 - 3_600))
        );
        clock.note_platform(Platform::Windows, t(39 * 86_400), now);
        assert_eq!(
            clock.platform_start(Platform::Windows),
            Some(t(39 * 86_400))
        );
    }
}
