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
//! A platform's activation starts when its telemetry really began: at its
//! first record, unless the platform's records then stop for longer than the
//! training window (nothing of that time is left in the baseline then, and
//! the platform starts anew at its next record). So a stray record from 1995,
//! whether it comes first in a sorted scan or late in a live feed, does not
//! date the platform's start; and a record ahead of the organization's clock
//! (one host's future) can neither start the platform anew nor extend it.

use std::collections::BTreeMap;

use seldom_model::{Micros, Platform, Timestamp};
use serde::{Deserialize, Serialize};

/// How far ahead of the organization's clock a record may be and still
/// count as its platform's latest (an honest sensor's clock skew).
const AHEAD_OF_CLOCK: Micros = Micros::days(1);

/// One platform's telemetry as the clock has confirmed it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct PlatformSpan {
    start: Timestamp,
    latest: Timestamp,
}

/// Per-host clocks reduced to what the organization's clock needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrgClock {
    /// The `quorum` highest host clocks, highest first, one entry per host
    /// (keyed by a hash of the host name). Host clocks only move forward, so
    /// keeping the top `quorum` is exact: a host that falls out can only come
    /// back with a later time, which is compared afresh.
    leaders: Vec<(u64, Timestamp)>,
    /// When each platform's telemetry began, and its latest confirmed record.
    platforms: BTreeMap<Platform, PlatformSpan>,
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

    /// Notes a processed record of `platform` at `time`; `gap` (the training
    /// window) is the silence after which the platform starts anew.
    pub fn note_platform(&mut self, platform: Platform, time: Timestamp, gap: Micros) {
        let confirmed = self
            .now()
            .is_none_or(|now| time <= now.plus(AHEAD_OF_CLOCK));
        let Some(span) = self.platforms.get_mut(&platform) else {
            if confirmed {
                self.platforms.insert(
                    platform,
                    PlatformSpan {
                        start: time,
                        latest: time,
                    },
                );
            }
            return;
        };
        if time > span.latest.plus(gap) {
            // After a silence longer than the window nothing of before is
            // left in the baseline. (An unconfirmed record may not do this.)
            if confirmed {
                *span = PlatformSpan {
                    start: time,
                    latest: time,
                };
            }
            return;
        }
        // An earlier record extends the start back, but not across a gap:
        // one from years before is an outlier, not the telemetry's beginning.
        if time < span.start && span.start.since(time) <= gap {
            span.start = time;
        }
        if confirmed && time > span.latest {
            span.latest = time;
        }
    }

    /// When `platform`'s telemetry began, if a record of it was confirmed.
    pub fn platform_start(&self, platform: Platform) -> Option<Timestamp> {
        self.platforms.get(&platform).map(|span| span.start)
    }

    /// The `quorum` highest host clocks, highest first, as (host hash, time).
    pub fn leaders(&self) -> &[(u64, Timestamp)] {
        &self.leaders
    }

    /// Each platform's confirmed telemetry: (platform, start, latest).
    pub fn spans(&self) -> impl Iterator<Item = (Platform, Timestamp, Timestamp)> + '_ {
        self.platforms
            .iter()
            .map(|(p, span)| (*p, span.start, span.latest))
    }

    pub fn platforms(&self) -> impl Iterator<Item = (Platform, Timestamp)> + '_ {
        self.platforms.iter().map(|(p, span)| (*p, span.start))
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

    const GAP: Micros = Micros::days(30);
    const DAY: i64 = 86_400;

    #[test]
    fn an_isolated_old_record_does_not_date_its_platform() {
        // First in a sorted scan: the telemetry after the gap starts anew.
        let mut clock = OrgClock::default();
        clock.observe(1, t(-3_000 * DAY), 2);
        clock.note_platform(Platform::Windows, t(-3_000 * DAY), GAP);
        clock.observe(2, t(0), 2);
        clock.observe(3, t(10), 2);
        clock.note_platform(Platform::Windows, t(0), GAP);
        assert_eq!(clock.platform_start(Platform::Windows), Some(t(0)));
        // Late in a live feed: ignored, while a record a day early extends.
        clock.note_platform(Platform::Windows, t(-3_000 * DAY), GAP);
        assert_eq!(clock.platform_start(Platform::Windows), Some(t(0)));
        clock.note_platform(Platform::Windows, t(-DAY), GAP);
        assert_eq!(clock.platform_start(Platform::Windows), Some(t(-DAY)));
    }

    #[test]
    fn a_record_ahead_of_the_clock_neither_restarts_nor_extends_a_platform() {
        let mut clock = OrgClock::default();
        clock.observe(1, t(0), 2);
        clock.observe(2, t(0), 2);
        clock.note_platform(Platform::Linux, t(0), GAP);
        clock.observe(1, t(9_000 * DAY), 2);
        clock.note_platform(Platform::Linux, t(9_000 * DAY), GAP);
        clock.note_platform(Platform::Linux, t(20 * DAY), GAP);
        assert_eq!(clock.platform_start(Platform::Linux), Some(t(0)));
    }
}
