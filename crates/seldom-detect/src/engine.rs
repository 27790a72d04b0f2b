//! The detector: events in (any order within the reorder window), alerts out.
//!
//! Events wait in a reorder buffer until the watermark (the organization's
//! clock of [`crate::clock`], less the reorder window) passes them, and are
//! then processed in event time order, so results do not depend on arrival
//! order inside the window. Upkeep (the window sliding, dedup and process
//! expiry) follows the organization's clock, never one record's time.
//! Process starts, DNS answers and ends update the per-host tables here; each
//! connection is judged at its own time by [`crate::judge`] (internal,
//! prevalence, rarity, activation) and a rare one becomes an alert in
//! [`crate::emit`] (process and chain, catalog, dedup, evidence).

use seldom_model::{Event, EventKind, HostName, Micros, Timestamp};
use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, HostId, HostInterner};
use crate::budget::BudgetTable;
use crate::catalog::Catalog;
use crate::clock::OrgClock;
use crate::config::{ConfigError, DetectConfig};
use crate::contact::Contact;
use crate::dedup::DedupTable;
use crate::destination::DestinationClassifier;
use crate::dns::DnsAttribution;
use crate::enriched::EnrichedConnection;
use crate::fast_map::FastMap;
use crate::incident::IncidentTable;
use crate::pending::Pending;
use crate::process_table::ProcessTables;
use crate::reorder::{ReorderBuffer, kind_rank};
use crate::report::{AlertUpdate, DetectStats};
use crate::spans::Spans;
use crate::tune::{TuneGrid, TuneReport, Tuning};

/// Everything the detector remembers; saved and restored as a whole. Built
/// complete from a validated configuration ([`DetectorState::new`]): no part
/// of it is filled in later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectorState {
    /// Events waiting for the clock. Not part of the encoded state: a
    /// service stores it incrementally ([`Detector::reorder_delta`]), and a
    /// scan flushes it before saving.
    #[serde(skip)]
    pub(crate) reorder: ReorderBuffer,
    pub(crate) seq: u64,
    /// The latest event time seen, shown to an analyst; never decides anything.
    pub(crate) max_seen: Option<Timestamp>,
    pub(crate) released_upto: Option<Timestamp>,
    pub(crate) clock: OrgClock,
    pub(crate) hosts: HostInterner,
    pub(crate) baseline: Baseline,
    pub(crate) activity: FastMap<HostId, i64>,
    pub(crate) processes: ProcessTables,
    pub(crate) dns: DnsAttribution,
    pub(crate) pending: Pending<EnrichedConnection>,
    /// Network sensors' external connections, held for the reorder window
    /// before they count (see `Detector::hold_network`).
    pub(crate) held_network: Pending<Event>,
    pub(crate) dedup: DedupTable,
    /// Incidents still gathering alerts and spread.
    #[serde(default)]
    pub(crate) incidents: IncidentTable,
    /// New alerts per variation today, and the digest past the budget.
    #[serde(default)]
    pub(crate) budget: BudgetTable,
    pub(crate) current_day: Option<i64>,
    /// Addresses endpoint sensors reported as a host's own (source of its
    /// connections): a network sensor's event from one is that host's.
    pub(crate) address_hosts: FastMap<std::net::IpAddr, HostName>,
    pub(crate) stats: DetectStats,
    /// A host partition's contacts not yet taken by its task
    /// ([`Stage::Hosts`]); always empty in a whole detector.
    #[serde(skip)]
    pub(crate) contacts: Vec<Contact>,
}

impl DetectConfig {
    /// Checks every field and builds the detector.
    pub fn build(&self, catalog: Catalog) -> Result<Detector, ConfigError> {
        let classifier = self.checked()?;
        Ok(Detector::new(self.clone(), classifier, catalog))
    }
}

impl DetectorState {
    /// The memory of a detector that has seen nothing yet.
    pub fn new(config: &DetectConfig) -> DetectorState {
        DetectorState {
            reorder: ReorderBuffer::default(),
            seq: 0,
            max_seen: None,
            released_upto: None,
            clock: OrgClock::default(),
            hosts: HostInterner::default(),
            baseline: Baseline::new(config.training_days, config.rare_hosts as usize + 1),
            activity: FastMap::default(),
            processes: ProcessTables::new(config.max_processes_per_host),
            dns: DnsAttribution::new(Micros::of(config.dns_window)),
            pending: Pending::default(),
            held_network: Pending::default(),
            dedup: DedupTable::default(),
            incidents: IncidentTable::default(),
            budget: BudgetTable::default(),
            current_day: None,
            address_hosts: FastMap::default(),
            stats: DetectStats::default(),
            contacts: Vec::new(),
        }
    }
}

/// Which part of the detection a detector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// All of it: one process (`scan`, `serve`).
    Whole,
    /// The host side only, for the hosts of one partition: process tables,
    /// DNS attribution and destination keys; every external connection leaves
    /// as a [`Contact`] for the partition of its destination key, and the
    /// reorder buffer is released by the partition's task
    /// ([`crate::partitioned::HostTask`]), not by the clock alone.
    Hosts,
}

#[derive(Debug)]
pub struct Detector {
    pub(crate) stage: Stage,
    pub(crate) config: DetectConfig,
    pub(crate) classifier: DestinationClassifier,
    pub(crate) catalog: Catalog,
    pub(crate) spans: Spans,
    pub(crate) state: DetectorState,
    /// What `seldom explain` asked to have explained, and what it gathered.
    pub(crate) probe: Option<Box<crate::verdict::Probe>>,
    /// What `seldom tune` gathers: when set, contacts become candidates of
    /// the grid's cells instead of alerts.
    pub(crate) tuning: Option<Box<Tuning>>,
}

impl Detector {
    pub(crate) fn new(
        config: DetectConfig,
        classifier: DestinationClassifier,
        catalog: Catalog,
    ) -> Self {
        Detector {
            stage: Stage::Whole,
            state: DetectorState::new(&config),
            spans: Spans::of(&config),
            config,
            classifier,
            catalog,
            probe: None,
            tuning: None,
        }
    }

    /// A detector that tunes instead of alerting: built with the grid's
    /// largest threshold and window (`config` is the one in use, whose cell
    /// the grid includes); [`Detector::tune_report`] gives every cell after
    /// the run. It raises no alerts.
    pub fn tuning(
        config: &DetectConfig,
        catalog: Catalog,
        grid: TuneGrid,
    ) -> Result<Detector, ConfigError> {
        let grid = grid.with(config.rare_hosts, config.training_days);
        let widest = DetectConfig {
            rare_hosts: grid.max_rare_hosts(),
            training_days: grid.max_training_days(),
            ..config.clone()
        };
        let mut detector = widest.build(catalog)?;
        detector.tuning = Some(Box::new(Tuning::new(grid)));
        Ok(detector)
    }

    /// Every cell of a tuning detector's grid (`None` for a detector that
    /// does not tune).
    pub fn tune_report(&self) -> Option<TuneReport> {
        let tuning = self.tuning.as_ref()?;
        Some(tuning.report(self.spans.dedup, self.spans.incident))
    }

    pub fn config(&self) -> &DetectConfig {
        &self.config
    }

    pub fn stats(&self) -> &DetectStats {
        &self.state.stats
    }

    pub fn state(&self) -> &DetectorState {
        &self.state
    }

    /// The latest event time seen (one host's, possibly an outlier's): for
    /// display only.
    pub fn latest_event_time(&self) -> Option<Timestamp> {
        self.state.max_seen
    }

    /// The organization's clock: the latest time `clock_quorum` hosts have
    /// reached. Retention and expiry follow this, never one record.
    pub fn clock(&self) -> Option<Timestamp> {
        self.state.clock.now()
    }

    /// Destination keys the baseline holds.
    pub fn baseline_keys(&self) -> usize {
        self.state.baseline.key_count()
    }

    /// Continues from a saved state (the caller checked it was written under
    /// the same configuration).
    pub fn restore(&mut self, state: DetectorState) {
        self.state = state;
        self.state.processes.share_strings();
    }

    /// Takes one event; alerts whose time has come are pushed to `out`.
    pub fn push(&mut self, event: Event, out: &mut Vec<AlertUpdate>) {
        if self
            .state
            .released_upto
            .is_some_and(|upto| event.time < upto)
        {
            // Too late to be put in order: process it now.
            self.state.stats.late_events += 1;
            self.process(event, out);
            return;
        }
        self.state.max_seen = Some(
            self.state
                .max_seen
                .map_or(event.time, |m| m.max(event.time)),
        );
        let rank = kind_rank(&event.kind);
        let seq = self.state.seq;
        self.state.seq += 1;
        let host_hash = xxhash_rust::xxh3::xxh3_64(event.host.as_str().as_bytes());
        self.state
            .clock
            .observe(host_hash, event.time, self.config.clock_quorum as usize);
        if let Some(tuning) = &mut self.tuning {
            tuning.observe(host_hash, event.time, self.config.clock_quorum as usize);
        }
        self.state
            .reorder
            .insert((event.time, rank, host_hash, seq), event);
        // Past its bounds the buffer gives up its earliest events early: a
        // flood (or one host far ahead) costs ordering, never memory.
        while self.state.reorder.len() > self.config.max_buffered_events
            || self.state.reorder.bytes() > self.config.max_buffered_bytes
        {
            let Some(event) = self.state.reorder.pop_first_upto(None) else {
                break;
            };
            self.state.stats.reorder_overflow += 1;
            self.state.released_upto = Some(event.time);
            self.process(event, out);
        }
        if self.stage == Stage::Whole
            && let Some(now) = self.state.clock.now()
        {
            self.release_upto(now.minus(self.spans.reorder), out);
        }
    }

    /// Processes everything still buffered or pending (end of a scan). What
    /// is ahead of the organization's clock (the last minutes of the latest
    /// host, or one host's far-future records) is processed in time order
    /// without moving the clock or the late-event mark, so that a `--state`
    /// run that follows is not made late by it.
    pub fn flush(&mut self, out: &mut Vec<AlertUpdate>) {
        let now = self.state.clock.now();
        if let Some(now) = now {
            self.release_upto(now, out);
        }
        let horizon = now.map(|n| n.plus(self.spans.future));
        while let Some(event) = self.state.reorder.pop_first_upto(None) {
            if horizon.is_some_and(|h| event.time > h) {
                self.state.stats.future_events += 1;
            }
            self.process(event, out);
        }
        self.release_held_network(None, usize::MAX, out);
        while let Some(candidate) = self.state.pending.pop_due(None) {
            self.emit(candidate, out);
        }
        // The last day's digests: the run ends with it.
        self.state.budget.close(out);
    }

    pub(crate) fn release_upto(&mut self, watermark: Timestamp, out: &mut Vec<AlertUpdate>) {
        while let Some(event) = self.state.reorder.pop_first_upto(Some(watermark)) {
            self.state.released_upto = Some(event.time);
            self.process(event, out);
        }
    }

    fn process(&mut self, event: Event, out: &mut Vec<AlertUpdate>) {
        self.state.stats.events += 1;
        let host_id = self.state.hosts.intern(&event.host);
        let clock = self.state.clock.now();
        // Upkeep follows the organization's clock: a record ahead of it (one
        // host's future) is processed at its own time but expires nothing.
        let upkeep_time = clock.map_or(event.time, |now| event.time.min(now));
        let day = upkeep_time.day();
        let last = self.state.activity.entry(host_id).or_insert(day);
        *last = (*last).max(day);
        self.state
            .clock
            .note_platform(event.platform, event.time, self.spans.training);
        if let Some(tuning) = &mut self.tuning {
            tuning.processed(host_id, day, event.platform, event.time);
        }
        if self.state.current_day.is_none_or(|d| day > d) {
            // What waited past its deadline (for its process start, or a
            // network sensor's hold) is judged before the day's upkeep, as
            // of its own time: after a gap in the data, the upkeep would
            // otherwise expire the dedup period it falls in.
            self.release_waiting_upto(upkeep_time, out);
            self.state.budget.close_before(day, out);
            self.state.current_day = Some(day);
            self.maintain(upkeep_time);
        }
        match &event.kind {
            EventKind::ProcessStart(start) => {
                self.state
                    .processes
                    .record_start(&event.host, event.time, start, &event.origin);
                self.resolve_pending_for(&event.host, out);
            }
            EventKind::DnsQuery(query) => {
                self.state.dns.record(
                    &event.host,
                    event.time,
                    &query.query_name,
                    &query.answers,
                    &query.process,
                );
            }
            EventKind::ProcessEnd(end) => {
                self.state
                    .processes
                    .record_end(&event.host, event.time, &end.process);
            }
            EventKind::NetworkConnection(_) => {}
        }
        if matches!(event.kind, EventKind::NetworkConnection(_)) {
            self.judge(event, host_id, out);
        }
        self.release_expired_pending(out);
    }

    /// Daily upkeep in event time: the window slides, old state goes.
    fn maintain(&mut self, now: Timestamp) {
        let today = now.day();
        let window_start = today - i64::from(self.config.training_days) + 1;
        self.state.baseline.expire(today);
        self.state.dns.expire(now);
        self.state.stats.expired_processes +=
            self.state
                .processes
                .expire(now.minus(self.spans.process_retention)) as u64;
        self.state.activity.retain(|_, day| *day >= window_start);
        self.state.dedup.expire(now, self.spans.dedup);
        self.state.incidents.expire(now, self.spans.incident);
    }
}
