//! `seldom tune`: what every cell of a grid of `rare_hosts` and
//! `training_days` would raise, from one pass over the data.
//!
//! One detector runs with the largest threshold and the longest window of
//! the grid, so its baseline keeps enough hosts per key (K = largest
//! threshold + 1) over enough days to answer every cell: the hosts other
//! than the connecting one that contacted a key within the last W days are a
//! prefix of the K most recent, so each window's count is exact below the
//! largest threshold. Each window also has its own platform clocks, since a
//! platform silent for longer than the window starts its activation anew.
//!
//! Every contact that could alert in some cell (rare in some window whose
//! platform has activated) goes on through the process table and the catalog
//! as in a scan, and is kept as a candidate: its dedup key, time, and count
//! per window. A cell is then the candidates rare in it, deduplicated as the
//! detector does (one alert per key per dedup period) and grouped into
//! incidents by destination key as the detector does; so the cell at the
//! settings in use is what `scan` raises on the same data (before any
//! `max_alerts_per_day` budget; and under a flood past `max_keys` the widest
//! baseline evicts differently).

use std::collections::{BTreeMap, BTreeSet};

use seldom_model::{Micros, Platform, Timestamp};
use serde::Serialize;

use crate::baseline::{Baseline, HostId};
use crate::clock::OrgClock;
use crate::dedup::DedupKey;
use crate::destination::DestinationKey;
use crate::fast_map::FastMap;
use crate::rarity::activated;

/// The grid a tune covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TuneGrid {
    /// Thresholds, ascending (a destination is rare below one).
    pub rare_hosts: Vec<u32>,
    /// Windows in days, ascending.
    pub training_days: Vec<u32>,
}

impl Default for TuneGrid {
    fn default() -> Self {
        TuneGrid {
            rare_hosts: (1..=10).collect(),
            training_days: vec![7, 14, 30],
        }
    }
}

impl TuneGrid {
    /// The grid with the settings in use added, so that their cell is in it.
    pub fn with(mut self, rare_hosts: u32, training_days: u32) -> Self {
        self.rare_hosts.push(rare_hosts);
        self.training_days.push(training_days);
        for list in [&mut self.rare_hosts, &mut self.training_days] {
            list.retain(|v| *v > 0);
            list.sort_unstable();
            list.dedup();
        }
        self
    }

    pub fn max_rare_hosts(&self) -> u32 {
        self.rare_hosts.last().copied().unwrap_or(1)
    }

    pub fn max_training_days(&self) -> u32 {
        self.training_days.last().copied().unwrap_or(1)
    }
}

/// A contact's rarity in each window of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowCounts {
    /// Other hosts within each window (in the grid's order).
    pub others: Vec<usize>,
    /// Whether the platform had activated, per window.
    pub activated: Vec<bool>,
}

/// A contact that alerts in some cell.
#[derive(Debug, Clone)]
struct Candidate {
    dedup: DedupKey,
    time: Timestamp,
    counts: WindowCounts,
}

/// What a tuning detector gathers beside its detection.
#[derive(Debug)]
pub(crate) struct Tuning {
    grid: TuneGrid,
    /// Per window, platform clocks (the leaders as the detector's own; the
    /// platform spans with the window as their gap).
    clocks: Vec<OrgClock>,
    host_days: BTreeSet<(HostId, i64)>,
    candidates: Vec<Candidate>,
}

impl Tuning {
    pub fn new(grid: TuneGrid) -> Self {
        Tuning {
            clocks: vec![OrgClock::default(); grid.training_days.len()],
            grid,
            host_days: BTreeSet::new(),
            candidates: Vec::new(),
        }
    }

    /// An event arrived: every window's clock sees its host.
    pub fn observe(&mut self, host_hash: u64, time: Timestamp, quorum: usize) {
        for clock in &mut self.clocks {
            clock.observe(host_hash, time, quorum);
        }
    }

    /// An event was processed: a host-day (`day`, the detector's upkeep day,
    /// which a record ahead of the organization's clock does not move), and
    /// its platform in each window.
    pub fn processed(&mut self, host: HostId, day: i64, platform: Platform, time: Timestamp) {
        self.host_days.insert((host, day));
        for (clock, days) in self.clocks.iter_mut().zip(&self.grid.training_days) {
            clock.note_platform(platform, time, Micros::days(*days));
        }
    }

    /// A contact's counts per window, before it counts in the baseline;
    /// `None` when no cell would call it rare and activated.
    pub fn counts(
        &self,
        baseline: &Baseline,
        key: &DestinationKey,
        host: HostId,
        platform: Platform,
        at: Timestamp,
        activation: Micros,
    ) -> Option<WindowCounts> {
        let others: Vec<usize> = self
            .grid
            .training_days
            .iter()
            .map(|days| baseline.others_within(key, host, at, *days))
            .collect();
        let activated: Vec<bool> = self
            .clocks
            .iter()
            .map(|clock| activated(clock.platform_start(platform), at, activation))
            .collect();
        let largest = self.grid.max_rare_hosts() as usize;
        let could = others
            .iter()
            .zip(&activated)
            .any(|(n, on)| *on && *n < largest);
        could.then_some(WindowCounts { others, activated })
    }

    /// A candidate the catalog classified.
    pub fn candidate(&mut self, dedup: DedupKey, time: Timestamp, counts: WindowCounts) {
        self.candidates.push(Candidate {
            dedup,
            time,
            counts,
        });
    }

    /// Every cell of the grid.
    pub fn report(&self, dedup_period: Micros, incident_window: Micros) -> TuneReport {
        let host_days = self.host_days.len() as u64;
        let mut cells = Vec::new();
        for (w, days) in self.grid.training_days.iter().enumerate() {
            for rare in &self.grid.rare_hosts {
                let rare_now = self
                    .candidates
                    .iter()
                    .filter(|c| c.counts.activated[w] && c.counts.others[w] < *rare as usize);
                let cell = replay(rare_now, dedup_period, incident_window);
                let per = |n: u64| {
                    if host_days == 0 {
                        0.0
                    } else {
                        n as f64 * 1000.0 / host_days as f64
                    }
                };
                cells.push(TuneCell {
                    rare_hosts: *rare,
                    training_days: *days,
                    alerts: cell.alerts,
                    incidents: cell.incidents,
                    alerts_per_1000_host_days: per(cell.alerts),
                    incidents_per_1000_host_days: per(cell.incidents),
                    by_variation: cell.by_variation,
                });
            }
        }
        TuneReport { host_days, cells }
    }
}

struct Replayed {
    alerts: u64,
    incidents: u64,
    by_variation: BTreeMap<String, u64>,
}

/// Deduplicates and groups candidates as the detector does
/// ([`crate::dedup::DedupTable::repeat`], [`crate::incident::IncidentTable::on_alert`]).
fn replay<'a>(
    candidates: impl Iterator<Item = &'a Candidate>,
    dedup_period: Micros,
    incident_window: Micros,
) -> Replayed {
    let mut open: FastMap<&DedupKey, Timestamp> = FastMap::default();
    let mut incidents: FastMap<&DestinationKey, Timestamp> = FastMap::default();
    let mut out = Replayed {
        alerts: 0,
        incidents: 0,
        by_variation: BTreeMap::new(),
    };
    for c in candidates {
        let repeat = open
            .get(&c.dedup)
            .is_some_and(|first| c.time >= *first && c.time.since(*first) < dedup_period);
        if repeat {
            continue;
        }
        open.insert(&c.dedup, c.time);
        out.alerts += 1;
        *out.by_variation
            .entry(c.dedup.variation.clone())
            .or_default() += 1;
        let key = &c.dedup.destination;
        match incidents.get_mut(key) {
            // Within the window either side; an earlier alert (one that
            // waited for its process) moves the incident's start.
            Some(first) if c.time.since(*first).0.abs() < incident_window.0 => {
                *first = (*first).min(c.time);
            }
            _ => {
                incidents.insert(key, c.time);
                out.incidents += 1;
            }
        }
    }
    out
}

/// What `seldom tune` prints.
#[derive(Debug, Clone, Serialize)]
pub struct TuneReport {
    /// Hosts × days with any telemetry.
    pub host_days: u64,
    pub cells: Vec<TuneCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TuneCell {
    pub rare_hosts: u32,
    pub training_days: u32,
    pub alerts: u64,
    pub incidents: u64,
    pub alerts_per_1000_host_days: f64,
    pub incidents_per_1000_host_days: f64,
    pub by_variation: BTreeMap<String, u64>,
}
