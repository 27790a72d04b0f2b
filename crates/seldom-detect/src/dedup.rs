//! Deduplication: one alert per (variation, host, process image, destination
//! key) per dedup period, counted from the alert's first event; repeats inside
//! the period raise its count and last-seen time instead of a new alert.
//!
//! Each open alert keeps its contacts' times, so that periodic contacts are
//! found ([`crate::beacon`]).
//!
//! The alert id is derived from the dedup key and the first event time, so a
//! replay of the same data yields the same ids and a sink can upsert.

use seldom_model::{HostName, Micros, Timestamp};
use serde::{Deserialize, Serialize};

use crate::beacon::{self, Beat};
use crate::catalog::Severity;
use crate::destination::DestinationKey;
use crate::fast_map::FastMap;
use crate::report::AlertUpdate;

/// What one alert stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DedupKey {
    pub variation: String,
    pub host: HostName,
    /// The image's folded base name (`powershell`), empty when unknown.
    pub image: String,
    pub destination: DestinationKey,
}

impl DedupKey {
    /// A stable id from the key and the first event time (xxh3, 64 bits).
    pub fn alert_id(&self, first: Timestamp) -> String {
        let text = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.variation,
            self.host,
            self.image,
            self.destination,
            first.as_micros()
        );
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenAlert {
    id: String,
    first_seen: Timestamp,
    last_seen: Timestamp,
    count: u64,
    /// The variation's severity, which a beacon raises.
    #[serde(default)]
    severity: Option<Severity>,
    /// Its contacts (time, bytes sent), sorted, for the beacon test
    /// ([`crate::beacon`]).
    #[serde(default)]
    beats: Vec<Beat>,
}

/// The alerts still inside their dedup period.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DedupTable {
    open: FastMap<DedupKey, OpenAlert>,
}

impl DedupTable {
    /// If `key` has an open alert whose period covers `time`, counts the
    /// repeat, pushes its update (and, when its contacts have become
    /// periodic, the beacon's) and returns `true`.
    pub fn repeat(
        &mut self,
        key: &DedupKey,
        beat: Beat,
        period: Micros,
        out: &mut Vec<AlertUpdate>,
    ) -> bool {
        let time = beat.at;
        let Some(open) = self.open.get_mut(key) else {
            return false;
        };
        if time.since(open.first_seen) >= period || time < open.first_seen {
            return false;
        }
        open.count += 1;
        open.last_seen = open.last_seen.max(time);
        // Tested only when the contact is not part of a burst: the verdict
        // cannot change otherwise.
        let at = open.beats.partition_point(|b| b.at <= time);
        let near = |i: usize| {
            open.beats
                .get(i)
                .is_some_and(|b| time.since(b.at).0.abs() < beacon::BURST.0)
        };
        let new_contact = !(near(at) || (at > 0 && near(at - 1)));
        beacon::record(&mut open.beats, beat);
        out.push(AlertUpdate::Repeat {
            id: open.id.clone(),
            count: open.count,
            last_seen: open.last_seen,
        });
        if new_contact
            && let Some(base) = open.severity
            && let Some(found) = beacon::test(&open.beats, base)
        {
            out.push(AlertUpdate::Beacon {
                id: open.id.clone(),
                severity: beacon::escalate(base),
                beacon: found,
            });
        }
        true
    }

    /// The open alert a contact of `key` at `time` would repeat: its id,
    /// first time and count so far (read only, for `seldom explain`).
    pub fn peek(
        &self,
        key: &DedupKey,
        time: Timestamp,
        period: Micros,
    ) -> Option<(&str, Timestamp, u64)> {
        let open = self.open.get(key)?;
        if time.since(open.first_seen) >= period || time < open.first_seen {
            return None;
        }
        Some((open.id.as_str(), open.first_seen, open.count))
    }

    /// Opens a new alert of `severity` for `key` at its first contact.
    pub fn open(&mut self, key: DedupKey, id: String, beat: Beat, severity: Severity) {
        let time = beat.at;
        self.open.insert(
            key,
            OpenAlert {
                id,
                first_seen: time,
                last_seen: time,
                count: 1,
                severity: Some(severity),
                beats: vec![beat],
            },
        );
    }

    /// Forgets alerts whose period ended before `now`.
    pub fn expire(&mut self, now: Timestamp, period: Micros) {
        self.open
            .retain(|_, open| now.since(open.first_seen) < period);
    }
}
