//! The destination side of the decision on one external connection: its
//! prevalence in the baseline (before it counts), then whether it is rare
//! and its platform's activation period has passed. A whole detector decides
//! here from [`crate::judge`]; a destination-key partition
//! ([`crate::partitioned::KeyTask`]) decides here on the contacts it owns.

use seldom_model::{Event, Micros, Timestamp};

use crate::baseline::{Baseline, HostId, Prevalence};
use crate::config::DetectConfig;
use crate::destination::DestinationKey;
use crate::incident::IncidentTable;
use crate::report::{AlertUpdate, DetectStats};
use crate::spans::Spans;

/// What the decision reads.
pub(crate) struct KeyDecision<'a> {
    pub config: &'a DetectConfig,
    pub spans: &'a Spans,
}

/// What the decision changes.
pub(crate) struct KeyState<'a> {
    pub baseline: &'a mut Baseline,
    pub incidents: &'a mut IncidentTable,
    pub stats: &'a mut DetectStats,
}

impl KeyDecision<'_> {
    /// Counts `event`'s contact with `key` in the baseline, and in the key's
    /// open incident (a host new to it is its spread: the update goes to
    /// `out`). Returns its prevalence before it counted if it is rare and its
    /// platform (whose telemetry began at `platform_start`) activated; else
    /// `None`.
    pub fn decide(
        &self,
        state: KeyState<'_>,
        event: &Event,
        key: &DestinationKey,
        host: HostId,
        platform_start: Option<Timestamp>,
        out: &mut Vec<AlertUpdate>,
    ) -> Option<Prevalence> {
        if let Some(incident) =
            state
                .incidents
                .on_contact(key, &event.host, event.time, self.spans.incident)
        {
            out.push(AlertUpdate::Incident(Box::new(incident.clone())));
        }
        let baseline = state.baseline;
        let prevalence = baseline.prevalence(key, host, event.time);
        baseline.record(key, host, event.time);
        if baseline.key_count() > self.config.max_keys {
            state.stats.evicted_keys += baseline.evict_to(self.config.max_keys * 9 / 10) as u64;
        }
        if prevalence.other_hosts_in_window >= self.config.rare_hosts as usize {
            return None;
        }
        if !activated(platform_start, event.time, self.spans.activation) {
            state.stats.rare_while_training += 1;
            return None;
        }
        state.stats.rare += 1;
        Some(prevalence)
    }
}

/// Whether a platform whose telemetry began at `start` has passed its
/// activation period (`activation`) at `at`.
pub(crate) fn activated(start: Option<Timestamp>, at: Timestamp, activation: Micros) -> bool {
    start.is_some_and(|first| at.since(first) >= activation)
}
