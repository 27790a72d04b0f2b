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
use crate::stories::StoryRecord;

/// One line of `truth.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TruthLine {
    Organization(OrganizationSummary),
    Attack(TruthRecord),
    Story(StoryRecord),
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
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub incident: Option<IncidentSummary>,
    /// Present when the alert's contacts were found periodic.
    #[serde(default)]
    pub beacon: Option<BeaconSummary>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IncidentSummary {
    pub id: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BeaconSummary {
    pub contacts: u64,
}

/// How the injected stories were found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoryScore {
    pub spreads: u64,
    /// Spreads whose alerts are one incident that lists every host reached.
    pub spreads_found_as_one_incident: u64,
    pub beacons: u64,
    pub beacons_escalated: u64,
    /// Escalated alerts that are no injected beacon (benign periodic
    /// traffic, or another attack's timer).
    pub escalated_not_a_beacon: u64,
    /// What was not found, one line each.
    pub misses: Vec<String>,
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
    pub stories: StoryScore,
}

const WINDOW_MICROS: i64 = 86_400_000_000;
const EARLY_MICROS: i64 = 60_000_000;

fn matches(alert: &AlertSummary, truth: &TruthRecord) -> bool {
    let delta = alert.first_seen.as_micros() - truth.time.as_micros();
    alert.host == truth.host
        && alert.destination.ip == IpAddr::V4(truth.ip)
        && (-EARLY_MICROS..=WINDOW_MICROS).contains(&delta)
}

/// Scores the stories: a spread is found when the alerts on its address are
/// one incident whose hosts include every host it reached; a beacon when an
/// alert of its host on its address carries the beacon evidence.
pub fn score_stories(stories: &[StoryRecord], alerts: &[AlertSummary]) -> StoryScore {
    let mut score = StoryScore::default();
    let on = |ip: std::net::Ipv4Addr| -> Vec<&AlertSummary> {
        alerts
            .iter()
            .filter(|a| a.destination.ip == IpAddr::V4(ip))
            .collect()
    };
    for story in stories {
        let matched = on(story.ip);
        match story.story.as_str() {
            "spread" => {
                score.spreads += 1;
                let incidents: Vec<&IncidentSummary> =
                    matched.iter().filter_map(|a| a.incident.as_ref()).collect();
                let one = !incidents.is_empty()
                    && incidents.len() == matched.len()
                    && incidents.iter().all(|i| i.id == incidents[0].id);
                let every_host = incidents
                    .iter()
                    .any(|i| story.hosts.iter().all(|h| i.hosts.contains(h)));
                if one && every_host {
                    score.spreads_found_as_one_incident += 1;
                } else {
                    score.misses.push(format!(
                        "spread to {} at {}: {} alert(s), incidents {:?}",
                        story.hosts.join(", "),
                        story.ip,
                        matched.len(),
                        incidents
                            .iter()
                            .map(|i| (&i.id, &i.hosts))
                            .collect::<Vec<_>>()
                    ));
                }
            }
            _ => {
                score.beacons += 1;
                if matched
                    .iter()
                    .any(|a| story.hosts.contains(&a.host) && a.beacon.is_some())
                {
                    score.beacons_escalated += 1;
                } else {
                    score.misses.push(format!(
                        "beacon of {} to {}: not escalated ({} alert(s))",
                        story.hosts.join(", "),
                        story.ip,
                        matched.len()
                    ));
                }
            }
        }
    }
    score.escalated_not_a_beacon = alerts
        .iter()
        .filter(|a| a.beacon.is_some())
        .filter(|a| {
            !stories.iter().any(|s| {
                s.story == "beacon"
                    && s.hosts.contains(&a.host)
                    && a.destination.ip == IpAddr::V4(s.ip)
            })
        })
        .count() as u64;
    score
}

pub fn evaluate(
    truth: &[TruthRecord],
    stories: &[StoryRecord],
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
        stories: score_stories(stories, alerts),
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
        let s = &self.stories;
        out.push_str(&format!(
            "stories: {} of {} spreads found as one incident with every host; {} of {} beacons escalated; {} escalated alerts that are no injected beacon (benign periodic traffic)\n",
            s.spreads_found_as_one_incident, s.spreads, s.beacons_escalated, s.beacons, s.escalated_not_a_beacon
        ));
        for miss in &s.misses {
            out.push_str(&format!("missed story: {miss}\n"));
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
            id: format!("{host}-{ip}-{second}"),
            incident: None,
            beacon: None,
        }
    }

    fn in_incident(mut alert: AlertSummary, id: &str, hosts: &[&str]) -> AlertSummary {
        alert.incident = Some(IncidentSummary {
            id: id.into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        });
        alert
    }

    fn story(kind: &str, hosts: &[&str], ip: &str) -> StoryRecord {
        StoryRecord {
            story: kind.into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ip: ip.parse().unwrap(),
            domain: None,
            first: Timestamp::from_micros(0),
            last: Timestamp::from_micros(0),
        }
    }

    #[test]
    fn a_spread_counts_only_as_one_incident_with_every_host() {
        let hosts = ["ws1", "ws2", "ws3", "ws4", "ws5"];
        let spread = [story("spread", &hosts, "45.1.2.3")];
        let whole = [
            in_incident(
                alert("office-lolbin", "high", "ws1", "45.1.2.3", 0),
                "i1",
                &hosts,
            ),
            in_incident(
                alert("rare-external-host", "informational", "ws2", "45.1.2.3", 9),
                "i1",
                &hosts,
            ),
        ];
        assert_eq!(
            score_stories(&spread, &whole).spreads_found_as_one_incident,
            1
        );
        // Two incidents, or one that misses the spread hosts, is not it.
        let split = [
            in_incident(
                alert("office-lolbin", "high", "ws1", "45.1.2.3", 0),
                "i1",
                &hosts,
            ),
            in_incident(
                alert("rare-external-host", "informational", "ws2", "45.1.2.3", 9),
                "i2",
                &hosts,
            ),
        ];
        let short = [in_incident(
            alert("office-lolbin", "high", "ws1", "45.1.2.3", 0),
            "i1",
            &hosts[..3],
        )];
        for alerts in [&split[..], &short[..]] {
            let score = score_stories(&spread, alerts);
            assert_eq!(score.spreads_found_as_one_incident, 0);
            assert_eq!(score.misses.len(), 1);
        }
    }

    #[test]
    fn beacons_escalated_and_escalations_that_are_none_are_counted() {
        let beacons = [story("beacon", &["ws7"], "91.1.2.3")];
        let mut found = alert("rare-external-host", "low", "ws7", "91.1.2.3", 0);
        found.beacon = Some(BeaconSummary { contacts: 96 });
        let mut benign = alert("rare-external-host", "low", "ws8", "8.8.4.4", 0);
        benign.beacon = Some(BeaconSummary { contacts: 20 });
        let score = score_stories(&beacons, &[found, benign]);
        assert_eq!((score.beacons, score.beacons_escalated), (1, 1));
        assert_eq!(score.escalated_not_a_beacon, 1);
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
        let e = evaluate(&truth, &[], &alerts, 2000);
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
            &[],
            &[alert("msbuild", "high", "ws1", "45.1.2.3", 86_401)],
            10,
        );
        assert_eq!(e.found, 0);
        assert_eq!(e.false_alerts_non_informational, 1);
    }
}
