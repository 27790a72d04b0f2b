//! Scoring alerts against the simulator's ground truth.
//!
//! An alert *is* an injected attack when it names the attack's host and
//! destination address and starts within a day after it. Per variation: attacks
//! found with the right variation, found with another, missed; and false
//! alerts, the non-informational ones counted apart (those are what an analyst
//! is paged for) and reported per 1,000 host-days after activation.

use std::collections::BTreeMap;
use std::net::IpAddr;

use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::day::TruthRecord;

/// One line of `truth.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TruthLine {
    Organization(OrganizationSummary),
    Attack(TruthRecord),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrganizationSummary {
    pub hosts: u32,
    pub days: u32,
    pub start: String,
    pub seed: u64,
    pub activation_days: u32,
    pub host_days_after_activation: u64,
}

/// The fields of an alert that evaluation reads (any alert JSON has them).
#[derive(Debug, Clone, Deserialize)]
pub struct AlertSummary {
    pub variation: String,
    pub severity: String,
    pub host: String,
    pub first_seen: Timestamp,
    pub destination: AlertDestinationSummary,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AlertDestinationSummary {
    pub ip: IpAddr,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VariationScore {
    pub injected: u64,
    pub found: u64,
    pub found_as_other_variation: u64,
    pub missed: u64,
    pub false_alerts: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub variations: BTreeMap<String, VariationScore>,
    pub injected: u64,
    pub found: u64,
    pub missed: u64,
    pub false_alerts_non_informational: u64,
    pub false_alerts_informational: u64,
    pub host_days_after_activation: u64,
    pub false_non_informational_per_1000_host_days: f64,
    /// Attacks not found with their variation.
    pub misses: Vec<TruthRecord>,
}

const WINDOW_MICROS: i64 = 86_400_000_000;
const EARLY_MICROS: i64 = 60_000_000;

fn matches(alert: &AlertSummary, truth: &TruthRecord) -> bool {
    let delta = alert.first_seen.as_micros() - truth.time.as_micros();
    alert.host == truth.host
        && alert.destination.ip == IpAddr::V4(truth.ip)
        && (-EARLY_MICROS..=WINDOW_MICROS).contains(&delta)
}

pub fn evaluate(
    truth: &[TruthRecord],
    alerts: &[AlertSummary],
    host_days_after_activation: u64,
) -> Evaluation {
    let mut variations: BTreeMap<String, VariationScore> = BTreeMap::new();
    let mut misses = Vec::new();
    for t in truth {
        let score = variations.entry(t.variation.clone()).or_default();
        score.injected += 1;
        let matched: Vec<&AlertSummary> = alerts.iter().filter(|a| matches(a, t)).collect();
        if matched.iter().any(|a| a.variation == t.variation) {
            score.found += 1;
        } else {
            if matched.is_empty() {
                score.missed += 1;
            } else {
                score.found_as_other_variation += 1;
            }
            misses.push(t.clone());
        }
    }
    let (mut false_non_info, mut false_info) = (0, 0);
    for alert in alerts
        .iter()
        .filter(|a| !truth.iter().any(|t| matches(a, t)))
    {
        variations
            .entry(alert.variation.clone())
            .or_default()
            .false_alerts += 1;
        if alert.severity == "informational" {
            false_info += 1;
        } else {
            false_non_info += 1;
        }
    }
    let injected = truth.len() as u64;
    let found = variations.values().map(|v| v.found).sum();
    Evaluation {
        injected,
        found,
        missed: injected - found,
        false_alerts_non_informational: false_non_info,
        false_alerts_informational: false_info,
        host_days_after_activation,
        false_non_informational_per_1000_host_days: if host_days_after_activation == 0 {
            0.0
        } else {
            false_non_info as f64 * 1000.0 / host_days_after_activation as f64
        },
        variations,
        misses,
    }
}

impl Evaluation {
    /// A table for people.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "variation            injected  found  other-variation  missed  false alerts\n",
        );
        for (name, s) in &self.variations {
            out.push_str(&format!(
                "{name:<20} {:>8}  {:>5}  {:>15}  {:>6}  {:>12}\n",
                s.injected, s.found, s.found_as_other_variation, s.missed, s.false_alerts
            ));
        }
        out.push_str(&format!(
            "\nfound {} of {} injected attacks with their variation; false alerts: {} non-informational ({:.2} per 1,000 host-days after activation, over {} host-days), {} informational\n",
            self.found,
            self.injected,
            self.false_alerts_non_informational,
            self.false_non_informational_per_1000_host_days,
            self.host_days_after_activation,
            self.false_alerts_informational
        ));
        for miss in &self.misses {
            out.push_str(&format!(
                "missed: {} on {} at {} to {}:{} ({})\n",
                miss.variation, miss.host, miss.time, miss.ip, miss.port, miss.note
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn truth(variation: &str, second: i64) -> TruthRecord {
        TruthRecord {
            host: "ws1".into(),
            time: Timestamp::from_micros(1_700_000_000_000_000 + second * 1_000_000),
            variation: variation.into(),
            image: "x".into(),
            ip: Ipv4Addr::new(45, 1, 2, 3),
            port: 443,
            domain: None,
            note: String::new(),
        }
    }

    fn alert(variation: &str, severity: &str, host: &str, ip: &str, second: i64) -> AlertSummary {
        AlertSummary {
            variation: variation.into(),
            severity: severity.into(),
            host: host.into(),
            first_seen: Timestamp::from_micros(1_700_000_000_000_000 + second * 1_000_000),
            destination: AlertDestinationSummary {
                ip: ip.parse().unwrap(),
            },
        }
    }

    #[test]
    fn found_other_variation_missed_and_false_alerts() {
        let truth = [
            truth("msbuild", 0),
            truth("curl", 1000),
            truth("unix-lolbin", 2000),
        ];
        let alerts = [
            alert("msbuild", "high", "ws1", "45.1.2.3", 0),
            alert(
                "rare-external-host",
                "informational",
                "ws1",
                "45.1.2.3",
                1000,
            ),
            alert("office-lolbin", "high", "ws2", "45.1.2.3", 0),
            alert("rare-external-host", "informational", "ws3", "8.8.8.8", 0),
        ];
        let e = evaluate(&truth, &alerts, 2000);
        assert_eq!((e.injected, e.found, e.missed), (3, 1, 2));
        assert_eq!(e.variations["curl"].found_as_other_variation, 1);
        assert_eq!(e.variations["unix-lolbin"].missed, 1);
        assert_eq!(
            (
                e.false_alerts_non_informational,
                e.false_alerts_informational
            ),
            (1, 1)
        );
        assert!((e.false_non_informational_per_1000_host_days - 0.5).abs() < 1e-9);
    }

    #[test]
    fn an_alert_a_day_later_is_not_the_attack() {
        let e = evaluate(
            &[truth("msbuild", 0)],
            &[alert("msbuild", "high", "ws1", "45.1.2.3", 86_401)],
            10,
        );
        assert_eq!(e.found, 0);
        assert_eq!(e.false_alerts_non_informational, 1);
    }
}
