//! Beacons: an alert's contacts that come at a regular interval.
//!
//! Implants call home on a timer with a little jitter; people and most
//! software do not. For each open alert the dedup table keeps the times of
//! its contacts (up to [`MAX_CONTACTS`]); contacts less than
//! [`BURST`] apart are one contact (a client opens several connections at
//! once). The contacts are periodic when there are at least
//! [`MIN_CONTACTS`] of them and the intervals between them have a robust
//! dispersion (median absolute deviation over the median) of at most
//! [`MAX_DISPERSION`]: a 300 s timer with ±10 % jitter has about 0.05, a
//! browser's visits are in the units. The median and MAD ignore a few missed
//! or extra contacts, where a mean and standard deviation would not. Where
//! the sensor counts the bytes each contact sent (Zeek's `orig_bytes`), the
//! evidence adds their median and dispersion: an implant's check-ins are as
//! alike in size as in timing (the verdict stays the timing's).

use seldom_model::{Micros, Timestamp};
use serde::{Deserialize, Serialize};

use crate::catalog::Severity;

/// Contacts needed before the test is made.
pub const MIN_CONTACTS: usize = 8;
/// The largest dispersion (MAD / median of the intervals) called periodic.
pub const MAX_DISPERSION: f64 = 0.2;
/// Contacts closer than this are one contact.
pub const BURST: Micros = Micros(1_000_000);
/// Contact times kept per open alert (the latest win).
pub const MAX_CONTACTS: usize = 256;
/// Contact times a beacon's evidence shows.
pub const SHOWN_CONTACTS: usize = 200;

/// One contact of an open alert: when, and the bytes it sent if counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beat {
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// The evidence that an alert's contacts are periodic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beacon {
    /// Contacts tested (bursts counted once).
    pub contacts: usize,
    pub median_interval_seconds: f64,
    /// Median absolute deviation of the intervals over their median.
    pub dispersion: f64,
    pub first: Timestamp,
    pub last: Timestamp,
    /// The severity the variation gave before the escalation.
    pub base_severity: Severity,
    /// The contact times tested (bursts counted once; the latest
    /// [`SHOWN_CONTACTS`]), for an analyst's timeline.
    #[serde(default)]
    pub contact_times: Vec<Timestamp>,
    /// The median bytes a contact sent, when every contact's were counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_median: Option<f64>,
    /// Their median absolute deviation over the median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_dispersion: Option<f64>,
}

impl Beacon {
    /// The sentence an alert's explanation ends with.
    pub fn sentence(&self) -> String {
        let sizes = match (self.bytes_median, self.bytes_dispersion) {
            (Some(median), Some(dispersion)) => {
                format!(", each sending about {median:.0} bytes (dispersion {dispersion:.2})")
            }
            _ => String::new(),
        };
        format!(
            "Its contacts are periodic: {} contacts about every {} (dispersion {:.2}) over {}{sizes}, so its severity was raised from {:?}.",
            self.contacts,
            duration(self.median_interval_seconds),
            self.dispersion,
            duration(self.last.since(self.first).0 as f64 / 1e6),
            self.base_severity,
        )
    }
}

/// The severity one level above `severity`, never above High.
pub fn escalate(severity: Severity) -> Severity {
    match severity {
        Severity::Informational => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium | Severity::High => Severity::High,
    }
}

/// Adds `beat` to `beats` (kept sorted by time, at most [`MAX_CONTACTS`]).
pub fn record(beats: &mut Vec<Beat>, beat: Beat) {
    let at = beats.partition_point(|b| b.at <= beat.at);
    beats.insert(at, beat);
    if beats.len() > MAX_CONTACTS {
        beats.remove(0);
    }
}

/// The beacon evidence when `beats` (sorted) are periodic.
pub fn test(beats: &[Beat], base_severity: Severity) -> Option<Beacon> {
    // A burst is one contact, its bytes summed.
    let mut merged: Vec<Beat> = Vec::with_capacity(beats.len());
    for beat in beats {
        match merged.last_mut() {
            Some(last) if beat.at.since(last.at) < BURST => {
                last.bytes = match (last.bytes, beat.bytes) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                };
            }
            _ => merged.push(*beat),
        }
    }
    let contacts: Vec<Timestamp> = merged.iter().map(|b| b.at).collect();
    if contacts.len() < MIN_CONTACTS {
        return None;
    }
    let intervals: Vec<f64> = contacts
        .windows(2)
        .map(|w| w[1].since(w[0]).0 as f64 / 1e6)
        .collect();
    let median = median_of(&intervals)?;
    if median <= 0.0 {
        return None;
    }
    let dispersion = dispersion_of(&intervals, median)?;
    let sizes: Option<Vec<f64>> = merged.iter().map(|b| b.bytes.map(|n| n as f64)).collect();
    let (bytes_median, bytes_dispersion) = match sizes.as_deref().and_then(median_of) {
        Some(m) if m > 0.0 => (Some(m), sizes.as_deref().and_then(|s| dispersion_of(s, m))),
        _ => (None, None),
    };
    (dispersion <= MAX_DISPERSION).then(|| Beacon {
        contacts: contacts.len(),
        median_interval_seconds: median,
        dispersion,
        first: contacts[0],
        last: contacts[contacts.len() - 1],
        base_severity,
        contact_times: contacts[contacts.len().saturating_sub(SHOWN_CONTACTS)..].to_vec(),
        bytes_median,
        bytes_dispersion,
    })
}

/// The median absolute deviation of `values` over their `median`.
fn dispersion_of(values: &[f64], median: f64) -> Option<f64> {
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    Some(median_of(&deviations)? / median)
}

fn median_of(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// "300 s", "12 min", "8.0 h".
fn duration(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{seconds:.0} s")
    } else if seconds < 7_200.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3_600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: f64) -> Beat {
        Beat {
            at: Timestamp::from_micros((1_700_000_000.0 * 1e6 + seconds * 1e6) as i64),
            bytes: None,
        }
    }

    #[test]
    fn a_timer_with_jitter_is_a_beacon_and_its_sentence_says_so() {
        // 300 s ± 10 %, a deterministic jitter pattern.
        let jitter = [0.0, 25.0, -20.0, 10.0, -28.0, 15.0, 5.0, -12.0, 29.0, -3.0];
        let mut t = 0.0;
        let times: Vec<Beat> = jitter
            .iter()
            .map(|j| {
                t += 300.0 + j;
                at(t)
            })
            .collect();
        let beacon = test(&times, Severity::Informational).expect("periodic");
        assert_eq!(beacon.contacts, 10);
        assert!((beacon.median_interval_seconds - 300.0).abs() < 30.0);
        assert!(beacon.dispersion <= MAX_DISPERSION);
        assert!(beacon.sentence().contains("about every 5 min"));
    }

    #[test]
    fn browsing_is_not_a_beacon() {
        let gaps = [
            3.0, 600.0, 45.0, 2.0, 3_000.0, 70.0, 9.0, 400.0, 12.0, 1_800.0,
        ];
        let mut t = 0.0;
        let times: Vec<Beat> = gaps
            .iter()
            .map(|g| {
                t += g;
                at(t)
            })
            .collect();
        assert_eq!(test(&times, Severity::Low), None);
    }

    #[test]
    fn too_few_contacts_and_bursts_are_not_tested() {
        let seven: Vec<Beat> = (0..7).map(|i| at(f64::from(i) * 300.0)).collect();
        assert_eq!(test(&seven, Severity::Low), None);
        // Eight contacts, each a burst of three connections in 0.2 s.
        let bursts: Vec<Beat> = (0..8)
            .flat_map(|i| (0..3).map(move |j| at(f64::from(i) * 300.0 + f64::from(j) * 0.1)))
            .collect();
        let beacon = test(&bursts, Severity::Low).expect("bursts are one contact each");
        assert_eq!(beacon.contacts, 8);
    }

    #[test]
    fn counted_bytes_add_their_regularity_to_the_evidence() {
        let sizes = [512, 520, 498, 512, 505, 530, 512, 490, 512, 515];
        let beats: Vec<Beat> = sizes
            .iter()
            .enumerate()
            .map(|(i, n)| Beat {
                bytes: Some(*n),
                ..at(i as f64 * 60.0)
            })
            .collect();
        let beacon = test(&beats, Severity::Low).expect("periodic");
        assert_eq!(beacon.bytes_median, Some(512.0));
        assert!(beacon.bytes_dispersion.is_some_and(|d| d < 0.05));
        assert!(
            beacon.sentence().contains("about 512 bytes"),
            "{}",
            beacon.sentence()
        );
        // One contact without a count: no claim about sizes.
        let mut partial = beats.clone();
        partial[3].bytes = None;
        assert_eq!(test(&partial, Severity::Low).unwrap().bytes_median, None);
    }

    #[test]
    fn escalation_stops_at_high() {
        assert_eq!(escalate(Severity::Informational), Severity::Low);
        assert_eq!(escalate(Severity::Medium), Severity::High);
        assert_eq!(escalate(Severity::High), Severity::High);
    }

    #[test]
    fn kept_times_are_sorted_and_bounded() {
        let mut times = Vec::new();
        for i in (0..600).rev() {
            record(&mut times, at(f64::from(i)));
        }
        assert_eq!(times.len(), MAX_CONTACTS);
        assert!(times.windows(2).all(|w| w[0].at <= w[1].at));
    }
}
