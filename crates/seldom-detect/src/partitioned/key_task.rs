//! The third stage: one destination-key partition. Contacts from every host
//! partition wait until the marks say no earlier one can still come, and are
//! then counted in the baseline in the order one detector would count them
//! (the time they are judged at, then host); a rare one whose platform has
//! activated is classified, deduplicated and raised here.

use std::collections::BTreeMap;

use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};

use super::Progress;
use super::progress::{Upstream, Watermark};
use crate::baseline::{Baseline, HostInterner};
use crate::budget::BudgetTable;
use crate::dedup::DedupTable;
use crate::incident::IncidentTable;
use crate::raise::{Raise, RaiseState};
use crate::rarity::{KeyDecision, KeyState};
use crate::report::{AlertUpdate, DetectStats};
use crate::spans::Spans;
use crate::{Catalog, ConfigError, Contact, DetectConfig};

/// Where a contact waits: (judged at, host hash, host partition, arrival).
type ContactKey = (Timestamp, u64, u32, u64);

pub struct KeyTask {
    partition: u32,
    config: DetectConfig,
    spans: Spans,
    catalog: Catalog,
    state: KeyTaskState,
}

/// What a key task remembers: its snapshot in a changelog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyTaskState {
    baseline: Baseline,
    dedup: DedupTable,
    #[serde(default)]
    incidents: IncidentTable,
    #[serde(default)]
    budget: BudgetTable,
    hosts: HostInterner,
    stats: DetectStats,
    current_day: Option<i64>,
    waiting: BTreeMap<ContactKey, Contact>,
    arrivals: u64,
    upstream: Upstream,
    /// Every contact judged at or before here has been counted.
    released: Option<Timestamp>,
}

impl KeyTask {
    /// The task of key partition `partition`, downstream of `host_partitions`.
    pub fn new(
        partition: u32,
        config: &DetectConfig,
        catalog: Catalog,
        host_partitions: u32,
    ) -> Result<Self, ConfigError> {
        config.checked()?;
        Ok(KeyTask {
            partition,
            spans: Spans::of(config),
            state: KeyTaskState {
                baseline: Baseline::new(config.training_days, config.rare_hosts as usize + 1),
                dedup: DedupTable::default(),
                incidents: IncidentTable::default(),
                budget: BudgetTable::default(),
                hosts: HostInterner::default(),
                stats: DetectStats::default(),
                current_day: None,
                waiting: BTreeMap::new(),
                arrivals: 0,
                upstream: Upstream::new(host_partitions),
                released: None,
            },
            config: config.clone(),
            catalog,
        })
    }

    /// Takes a contact from host partition `from`; one judged before what
    /// this task has already counted is late and is counted at once.
    pub fn push(&mut self, from: u32, contact: Contact, out: &mut Vec<AlertUpdate>) {
        if self.state.released.is_some_and(|r| contact.judged_at <= r) {
            self.state.stats.late_events += 1;
            let now = self.now();
            self.judge(contact, now, out);
            return;
        }
        let host = xxhash_rust::xxh3::xxh3_64(contact.event.host.as_str().as_bytes());
        let key = (contact.judged_at, host, from, self.state.arrivals);
        self.state.arrivals += 1;
        self.state.waiting.insert(key, contact);
    }

    /// Takes a host partition's mark.
    pub fn note(&mut self, mark: Progress) {
        self.state.upstream.note(mark);
    }

    /// Counts what the marks allow; alerts and repeats go to `out`.
    pub fn advance(&mut self, out: &mut Vec<AlertUpdate>) {
        let upto = match self.state.upstream.watermark() {
            Watermark::Unknown => return,
            Watermark::Through(through) => Some(through),
            Watermark::AllIdle => None,
        };
        // The marks do not change while contacts are counted.
        let now = self.now();
        while let Some(entry) = self.state.waiting.first_entry() {
            if upto.is_some_and(|u| entry.key().0 > u) {
                break;
            }
            let contact = entry.remove();
            self.judge(contact, now, out);
        }
        if let Some(upto) = upto {
            self.state.released = Some(self.state.released.map_or(upto, |r| r.max(upto)));
        }
    }

    /// Whether nothing is waiting.
    pub fn is_drained(&self) -> bool {
        self.state.waiting.is_empty()
    }

    /// The organization's clock, from the upstream marks.
    fn now(&self) -> Option<Timestamp> {
        let quorum = self.config.clock_quorum as usize;
        self.state.upstream.clock(quorum).now()
    }

    /// Counts `contact` at the organization's clock `now`.
    fn judge(&mut self, contact: Contact, now: Option<Timestamp>, out: &mut Vec<AlertUpdate>) {
        let upstream = &self.state.upstream;
        let at = contact.judged_at;
        // Upkeep follows the organization's clock, as in one detector.
        let upkeep = now.map_or(at, |n| at.min(n));
        let day = upkeep.day();
        if self.state.current_day.is_none_or(|d| day > d) {
            self.state.budget.close_before(day, out);
            self.state.current_day = Some(day);
            self.state.baseline.expire(day);
            self.state.dedup.expire(upkeep, self.spans.dedup);
            self.state.incidents.expire(upkeep, self.spans.incident);
        }
        let event = &contact.event;
        let host = self.state.hosts.intern(&event.host);
        let platform_start = upstream.platform_start(event.platform, self.spans.training);
        let decision = KeyDecision {
            config: &self.config,
            spans: &self.spans,
        };
        let Some(prevalence) = decision.decide(
            KeyState {
                baseline: &mut self.state.baseline,
                incidents: &mut self.state.incidents,
                stats: &mut self.state.stats,
            },
            event,
            &contact.key,
            host,
            platform_start,
            out,
        ) else {
            return;
        };
        let window_start = event.time.day() - i64::from(self.config.training_days) + 1;
        let active_hosts = upstream.active_hosts(window_start);
        let raise = Raise {
            config: &self.config,
            spans: &self.spans,
            catalog: &self.catalog,
        };
        let state = RaiseState {
            today: self.state.current_day,
            dedup: &mut self.state.dedup,
            budget: &mut self.state.budget,
            incidents: &mut self.state.incidents,
            stats: &mut self.state.stats,
        };
        raise.raise(state, contact, prevalence, active_hosts, out);
    }

    /// Where the task stands, for an operator's trace.
    pub fn describe(&self) -> String {
        format!(
            "key {}: {} waiting, released {:?}; {}",
            self.partition,
            self.state.waiting.len(),
            self.state.released.map(|t| t.to_string()),
            self.state.upstream.describe()
        )
    }

    pub fn stats(&self) -> &DetectStats {
        &self.state.stats
    }

    /// Its state, for a changelog.
    pub fn snapshot(&self) -> &KeyTaskState {
        &self.state
    }

    /// Continues from a snapshot (written under the same configuration).
    pub fn restore(&mut self, state: KeyTaskState) {
        self.state = state;
    }
}
