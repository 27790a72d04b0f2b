//! The alerts the service keeps: each with its triage (status, who, when,
//! note) and the events it was raised on, queried by the API with filters,
//! sorting and pages.

use std::collections::BTreeMap;

use seldom_detect::Alert;
use seldom_detect::catalog::Severity;
use seldom_model::{Event, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Acknowledged,
    Resolved,
    FalsePositive,
}

impl Status {
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::Acknowledged)
    }
}

/// An analyst's (or an allowlist entry's) decision on an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    pub status: Status,
    pub by: Option<String>,
    pub at: Option<Timestamp>,
    pub note: Option<String>,
    /// Why it was closed without an analyst (an allowlist entry).
    pub reason: Option<String>,
}

impl Default for Triage {
    fn default() -> Self {
        Triage {
            status: Status::New,
            by: None,
            at: None,
            note: None,
            reason: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub alert: Alert,
    pub triage: Triage,
    /// The normalized events the alert was raised on.
    #[serde(default)]
    pub source_events: Vec<Event>,
}

/// A query of `GET /api/v1/alerts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub severity: Option<String>,
    pub variation: Option<String>,
    pub host: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// A page of alerts, without their source events (those come with one alert).
#[derive(Debug, Serialize)]
pub struct AlertPage<'a> {
    pub total: usize,
    pub alerts: Vec<AlertSummary<'a>>,
}

#[derive(Debug, Serialize)]
pub struct AlertSummary<'a> {
    pub alert: &'a Alert,
    pub triage: &'a Triage,
}

/// Every alert kept, by id.
#[derive(Debug, Default)]
pub struct AlertIndex {
    by_id: BTreeMap<String, AlertRecord>,
}

/// A query value the API refuses, naming the parameter.
#[derive(Debug)]
pub struct BadQuery(pub String);

fn parse_time(name: &str, text: &Option<String>) -> Result<Option<Timestamp>, BadQuery> {
    match text.as_deref().filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Timestamp::parse(t)
            .map(Some)
            .ok_or_else(|| BadQuery(format!("{name}: {t:?} is not a time (RFC 3339)"))),
    }
}

/// One of an enum's snake_case names, or absent when empty.
fn parse_choice<T: for<'de> Deserialize<'de>>(
    name: &str,
    text: &Option<String>,
    expected: &str,
) -> Result<Option<T>, BadQuery> {
    match text.as_deref().filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => serde_json::from_value(serde_json::Value::String(t.to_owned()))
            .map(Some)
            .map_err(|_| BadQuery(format!("{name}: {t:?} is not {expected}"))),
    }
}

impl AlertIndex {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&AlertRecord> {
        self.by_id.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut AlertRecord> {
        self.by_id.get_mut(id)
    }

    pub fn insert(&mut self, record: AlertRecord) {
        self.by_id.insert(record.alert.id.clone(), record);
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut AlertRecord> {
        self.by_id.values_mut()
    }

    pub fn values(&self) -> impl Iterator<Item = &AlertRecord> {
        self.by_id.values()
    }

    /// Drops alerts last seen before `cutoff`; returns their ids.
    pub fn expire(&mut self, cutoff: Timestamp) -> Vec<String> {
        let old: Vec<String> = self
            .by_id
            .values()
            .filter(|r| r.alert.last_seen < cutoff)
            .map(|r| r.alert.id.clone())
            .collect();
        for id in &old {
            self.by_id.remove(id);
        }
        old
    }

    pub fn query(&self, q: &AlertQuery) -> Result<AlertPage<'_>, BadQuery> {
        let from = parse_time("from", &q.from)?;
        let to = parse_time("to", &q.to)?;
        let status: Option<Status> = parse_choice(
            "status",
            &q.status,
            "new, acknowledged, resolved or false_positive",
        )?;
        let severity: Option<Severity> = parse_choice(
            "severity",
            &q.severity,
            "high, medium, low or informational",
        )?;
        let text =
            q.q.as_deref()
                .map(str::to_lowercase)
                .filter(|t| !t.is_empty());
        let mut hits: Vec<&AlertRecord> = self
            .by_id
            .values()
            .filter(|r| {
                let a = &r.alert;
                from.is_none_or(|f| a.last_seen >= f)
                    && to.is_none_or(|t| a.first_seen <= t)
                    && severity.is_none_or(|s| a.severity == s)
                    && status.is_none_or(|s| r.triage.status == s)
                    && q.variation
                        .as_deref()
                        .is_none_or(|v| v.is_empty() || a.variation == v)
                    && q.host
                        .as_deref()
                        .is_none_or(|h| h.is_empty() || a.host.eq_ignore_ascii_case(h))
                    && text.as_deref().is_none_or(|t| matches_text(r, t))
            })
            .collect();
        match q.sort.as_deref().unwrap_or("-time") {
            "time" => hits.sort_by_key(|r| (r.alert.first_seen, r.alert.id.clone())),
            "-time" => {
                hits.sort_by_key(|r| std::cmp::Reverse((r.alert.first_seen, r.alert.id.clone())))
            }
            "severity" => hits.sort_by_key(|r| (r.alert.severity, r.alert.first_seen)),
            "-severity" => {
                hits.sort_by_key(|r| std::cmp::Reverse((r.alert.severity, r.alert.first_seen)))
            }
            other => {
                return Err(BadQuery(format!(
                    "sort: {other:?} is not time, -time, severity or -severity"
                )));
            }
        }
        let total = hits.len();
        let offset = q.offset.unwrap_or(0);
        let limit = q.limit.unwrap_or(50).min(1000);
        let alerts = hits
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|r| AlertSummary {
                alert: &r.alert,
                triage: &r.triage,
            })
            .collect();
        Ok(AlertPage { total, alerts })
    }
}

/// Free text: the fields an analyst searches, case-insensitively.
fn matches_text(record: &AlertRecord, text: &str) -> bool {
    let a = &record.alert;
    let fields = [
        Some(a.host.as_str()),
        Some(a.variation.as_str()),
        Some(a.explanation.as_str()),
        a.user.as_deref(),
        a.process.image.as_deref(),
        a.process.command_line.as_deref(),
        a.destination.forward_name.as_deref(),
        a.destination.registered_domain.as_deref(),
        record.triage.note.as_deref(),
    ];
    fields
        .into_iter()
        .flatten()
        .any(|f| f.to_lowercase().contains(text))
        || a.destination.ip.to_string().contains(text)
}
