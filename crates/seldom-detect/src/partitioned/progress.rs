//! The progress marks tasks send downstream, and what a task makes of the
//! marks of all its upstream partitions: how far it may go, the
//! organization's clock, when each platform began, and who was active.

use std::collections::BTreeMap;

use seldom_model::{Micros, Platform, Timestamp};
use serde::{Deserialize, Serialize};

use crate::clock::OrgClock;

/// One upstream partition's progress, sent after its data in each channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The sending partition.
    pub from: u32,
    /// What it sends from now on is after this time: for a source, its own
    /// organization's clock (later records up to the reorder window behind
    /// are still in order); for a host task, exact.
    pub through: Option<Timestamp>,
    /// Caught up with its input and holding nothing: it holds no one back.
    pub idle: bool,
    /// Its highest host clocks, (host hash, time).
    pub leaders: Vec<(u64, Timestamp)>,
    /// Host tasks: each platform's confirmed telemetry (start, latest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<(Platform, Timestamp, Timestamp)>,
    /// Host tasks: how many of its hosts were last active on each UTC day
    /// inside the window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity: Vec<(i64, u32)>,
}

/// How far a task may go, from its upstream partitions' marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watermark {
    /// Some upstream partition has not spoken yet, or has no time yet.
    Unknown,
    /// Every upstream partition that is not idle has come this far.
    Through(Timestamp),
    /// Every upstream partition is caught up and holds nothing.
    AllIdle,
}

/// The latest mark of each upstream partition.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Upstream {
    /// How many upstream partitions there are.
    expected: u32,
    marks: BTreeMap<u32, Progress>,
}

impl Upstream {
    pub fn new(expected: u32) -> Self {
        Upstream {
            expected: expected.max(1),
            marks: BTreeMap::new(),
        }
    }

    /// Takes a newer mark of its sender.
    pub fn note(&mut self, mark: Progress) {
        self.marks.insert(mark.from, mark);
    }

    pub fn watermark(&self) -> Watermark {
        if (self.marks.len() as u32) < self.expected {
            return Watermark::Unknown;
        }
        let mut through: Option<Timestamp> = None;
        for mark in self.marks.values().filter(|m| !m.idle) {
            let Some(t) = mark.through else {
                return Watermark::Unknown;
            };
            through = Some(through.map_or(t, |w| w.min(t)));
        }
        through.map_or(Watermark::AllIdle, Watermark::Through)
    }

    /// One line for an operator: who has spoken, who holds the others back.
    pub fn describe(&self) -> String {
        let busy: Vec<String> = self
            .marks
            .values()
            .filter(|m| !m.idle)
            .map(|m| format!("{}@{:?}", m.from, m.through.map(|t| t.to_string())))
            .collect();
        format!(
            "{}/{} upstream spoke, busy: [{}]",
            self.marks.len(),
            self.expected,
            busy.join(", ")
        )
    }

    /// Every expected upstream has spoken and is idle.
    pub fn all_idle(&self) -> bool {
        self.watermark() == Watermark::AllIdle
    }

    /// Every leader the upstream partitions report, for a task's clock.
    pub fn leaders(&self) -> impl Iterator<Item = (u64, Timestamp)> + '_ {
        self.marks.values().flat_map(|m| m.leaders.iter().copied())
    }

    /// The organization's clock over every upstream's leaders.
    pub fn clock(&self, quorum: usize) -> OrgClock {
        let mut clock = OrgClock::default();
        for (host, time) in self.leaders() {
            clock.observe(host, time, quorum);
        }
        clock
    }

    /// When `platform`'s telemetry began: the earliest start among the
    /// upstream spans still current (whose latest record is within `gap` of
    /// the platform's latest anywhere), as one detector's clock would date it.
    pub fn platform_start(&self, platform: Platform, gap: Micros) -> Option<Timestamp> {
        let spans = || {
            self.marks
                .values()
                .flat_map(|m| m.platforms.iter())
                .filter(move |(p, _, _)| *p == platform)
        };
        let latest = spans().map(|(_, _, latest)| *latest).max()?;
        spans()
            .filter(|(_, _, l)| latest.since(*l) <= gap)
            .map(|(_, start, _)| *start)
            .min()
    }

    /// Hosts last active on or after `window_start` (a UTC day number), over
    /// every upstream host partition.
    pub fn active_hosts(&self, window_start: i64) -> usize {
        self.marks
            .values()
            .flat_map(|m| m.activity.iter())
            .filter(|(day, _)| *day >= window_start)
            .map(|(_, hosts)| *hosts as usize)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_micros(1_704_067_200_000_000 + seconds * 1_000_000)
    }

    fn mark(from: u32, through: Option<i64>, idle: bool) -> Progress {
        Progress {
            from,
            through: through.map(t),
            idle,
            leaders: Vec::new(),
            platforms: Vec::new(),
            activity: Vec::new(),
        }
    }

    #[test]
    fn the_slowest_busy_upstream_sets_the_watermark() {
        let mut up = Upstream::new(3);
        up.note(mark(0, Some(100), false));
        up.note(mark(1, Some(50), false));
        assert_eq!(up.watermark(), Watermark::Unknown, "one has not spoken");
        up.note(mark(2, None, false));
        assert_eq!(up.watermark(), Watermark::Unknown, "one has no time yet");
        up.note(mark(2, Some(10), true));
        assert_eq!(
            up.watermark(),
            Watermark::Through(t(50)),
            "idle holds no one"
        );
        up.note(mark(1, Some(70), false));
        assert_eq!(up.watermark(), Watermark::Through(t(70)));
        up.note(mark(0, Some(100), true));
        up.note(mark(1, Some(70), true));
        assert_eq!(up.watermark(), Watermark::AllIdle);
    }

    #[test]
    fn the_clock_is_the_quorum_over_all_upstream_leaders() {
        let mut up = Upstream::new(2);
        let mut a = mark(0, Some(0), false);
        a.leaders = vec![(1, t(900)), (2, t(100))];
        let mut b = mark(1, Some(0), false);
        b.leaders = vec![(3, t(500)), (4, t(400))];
        up.note(a);
        up.note(b);
        assert_eq!(up.clock(2).now(), Some(t(500)));
    }

    #[test]
    fn a_platform_begins_at_the_earliest_current_start() {
        let gap = Micros::days(30);
        let mut up = Upstream::new(3);
        let day = 86_400;
        let mut a = mark(0, None, false);
        a.platforms = vec![(Platform::Windows, t(5 * day), t(40 * day))];
        let mut b = mark(1, None, false);
        b.platforms = vec![(Platform::Windows, t(day), t(39 * day))];
        // Its telemetry stopped long before the others': not the start.
        let mut c = mark(2, None, false);
        c.platforms = vec![(Platform::Windows, t(-900 * day), t(-899 * day))];
        up.note(a);
        up.note(b);
        up.note(c);
        assert_eq!(up.platform_start(Platform::Windows, gap), Some(t(day)));
        assert_eq!(up.platform_start(Platform::Linux, gap), None);
    }
}
