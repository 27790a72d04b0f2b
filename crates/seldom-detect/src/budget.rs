//! The noise budget: at most `max_alerts_per_day` new alerts per variation
//! per day (of event time); past it, that day's further alerts of the
//! variation fold into one digest alert (how many, the top destinations, the
//! top hosts) raised when the day ends, instead of vanishing. The detector
//! is never switched off: every contact is still counted, deduplicated and
//! filed, and tomorrow's budget is whole again.
//!
//! (A commercial peer disables a detector past 5,000 matches a day; a digest
//! keeps what it would have hidden one click away.)

use std::collections::BTreeMap;

use seldom_model::{Event, Timestamp};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
pub use crate::alert::Digest;
use crate::fast_map::FastMap;
use crate::report::AlertUpdate;

/// Distinct destinations and hosts counted per digest; past it, only the
/// total grows (the top ones are found long before).
const MAX_DISTINCT: usize = 10_000;
/// Destinations and hosts a digest names.
const TOP: usize = 10;

/// One variation's folded alerts of one day.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Folded {
    /// The first folded alert and its event: the digest's evidence.
    first: Box<Alert>,
    event: Box<Event>,
    last_seen: Timestamp,
    alerts: u64,
    destinations: BTreeMap<String, u64>,
    hosts: BTreeMap<String, u64>,
}

/// New alerts per variation today, and what was folded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BudgetTable {
    day: Option<i64>,
    budget: u32,
    raised: FastMap<String, u32>,
    folded: BTreeMap<String, Folded>,
}

impl BudgetTable {
    /// Whether `alert` may be raised under `budget` (0: no budget) on the
    /// organization's `today` (the detector's upkeep day, which one host's
    /// clock running ahead does not move; the alert's own day without one).
    /// One that may not is folded into its variation's digest of the day;
    /// the digests of an earlier day are raised first, into `out`.
    pub fn admit(
        &mut self,
        alert: &Alert,
        event: &Event,
        budget: u32,
        today: Option<i64>,
        out: &mut Vec<AlertUpdate>,
    ) -> bool {
        if budget == 0 {
            return true;
        }
        let day = today.unwrap_or_else(|| alert.first_seen.day());
        match self.day {
            Some(today) if day < today => {
                // A late alert of a closed day: raised, not counted against
                // today's budget (its day's digest is already out).
                return true;
            }
            Some(today) if day > today => self.close(out),
            _ => {}
        }
        self.day = Some(day);
        self.budget = budget;
        let raised = self.raised.entry(alert.variation.clone()).or_default();
        if *raised < budget {
            *raised += 1;
            return true;
        }
        let folded = self
            .folded
            .entry(alert.variation.clone())
            .or_insert_with(|| Folded {
                first: Box::new(alert.clone()),
                event: Box::new(event.clone()),
                last_seen: alert.first_seen,
                alerts: 0,
                destinations: BTreeMap::new(),
                hosts: BTreeMap::new(),
            });
        folded.alerts += 1;
        folded.last_seen = folded.last_seen.max(alert.first_seen);
        for (counts, name) in [
            (&mut folded.destinations, alert.destination.key.to_string()),
            (&mut folded.hosts, alert.host.clone()),
        ] {
            if counts.len() < MAX_DISTINCT || counts.contains_key(&name) {
                *counts.entry(name).or_default() += 1;
            }
        }
        false
    }

    /// Raises the digests of the day the table holds, and starts afresh
    /// (at a new day, and at the end of a scan).
    pub fn close(&mut self, out: &mut Vec<AlertUpdate>) {
        let Some(day) = self.day.take() else {
            return;
        };
        self.raised.clear();
        for (_, folded) in std::mem::take(&mut self.folded) {
            out.push(digest_alert(folded, day, self.budget));
        }
    }

    /// Closes the day the table holds if it is before `day`.
    pub fn close_before(&mut self, day: i64, out: &mut Vec<AlertUpdate>) {
        if self.day.is_some_and(|d| d < day) {
            self.close(out);
        }
    }
}

fn top(counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(TOP);
    list
}

fn digest_alert(folded: Folded, day: i64, budget: u32) -> AlertUpdate {
    let Folded {
        first,
        event,
        last_seen,
        alerts,
        destinations,
        hosts,
    } = folded;
    let mut alert = *first;
    // The first folded alert names the digest: two digests of one variation
    // and day (two key partitions, or two `--state` runs) keep both.
    let id_text = format!(
        "digest\u{1f}{}\u{1f}{day}\u{1f}{}",
        alert.variation, alert.id
    );
    alert.id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(id_text.as_bytes()));
    alert.name = format!("{} (digest of the day)", alert.name);
    alert.count = alerts;
    alert.last_seen = last_seen;
    alert.incident = None;
    alert.beacon = None;
    let digest = Digest {
        day,
        budget,
        alerts,
        top_destinations: top(destinations),
        top_hosts: top(hosts),
    };
    let names = |list: &[(String, u64)]| {
        list.iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    alert.explanation = format!(
        "The daily budget of {budget} alerts of variation {} was reached on {}; {alerts} further alerts folded into this digest. Top destinations: {}. Top hosts: {}. The first folded alert is the evidence below: {}",
        alert.variation,
        Timestamp::from_micros(day * seldom_model::MICROS_PER_DAY)
            .to_string()
            .get(..10)
            .unwrap_or_default(),
        names(&digest.top_destinations),
        names(&digest.top_hosts),
        alert.explanation,
    );
    alert.digest = Some(digest);
    AlertUpdate::New(Box::new(alert), event)
}
