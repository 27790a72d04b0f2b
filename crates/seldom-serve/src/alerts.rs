//! The alerts the service keeps: each with its triage (status, who, when,
//! note) and the events it was raised on, queried by the API with filters,
//! sorting and pages. The types the API shows derive their OpenAPI schema
//! here, beside what they mean.

use std::collections::BTreeMap;

use seldom_detect::Alert;
use seldom_detect::catalog::Severity;
use seldom_model::{Event, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::schema::{AlertSchema, EventSchema, choice, time_filter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Triage {
    pub status: Status,
    pub by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
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

/// An alert with its triage, and (from `GET /api/v1/alerts/{id}`) the
/// events it was raised on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertRecord {
    #[schema(value_type = AlertSchema)]
    pub alert: Alert,
    pub triage: Triage,
    /// The normalized events the alert was raised on.
    #[serde(default)]
    #[schema(value_type = Vec<EventSchema>)]
    pub source_events: Vec<Event>,
}

/// What `PATCH /api/v1/alerts/{id}` takes: the fields to change (`by`
/// defaults to "analyst").
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageChange {
    pub status: Option<Status>,
    pub note: Option<String>,
    pub by: Option<String>,
}

/// A query of `GET /api/v1/alerts`. An empty filter (`from=`, `severity=`,
/// ...) is no filter, as a form sends it; the document says so.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Alerts last seen at or after this time (RFC 3339; empty: no filter).
    #[param(schema_with = time_filter)]
    pub from: Option<String>,
    /// Alerts first seen at or before this time (RFC 3339; empty: no filter).
    #[param(schema_with = time_filter)]
    pub to: Option<String>,
    #[param(schema_with = severity_choice)]
    pub severity: Option<String>,
    /// Alerts of this severity or above (empty: no filter).
    #[param(schema_with = severity_choice)]
    pub min_severity: Option<String>,
    /// The process image's base name, e.g. `chrome.exe` (case-insensitive).
    pub image: Option<String>,
    /// The destination's registered domain, or its key when it has none.
    pub domain: Option<String>,
    /// A catalog row id.
    pub variation: Option<String>,
    /// A host name (case-insensitive).
    pub host: Option<String>,
    /// An incident id: its alerts only.
    pub incident: Option<String>,
    /// A triage status (empty: no filter).
    #[param(schema_with = status_choice)]
    pub status: Option<String>,
    /// Free text over host, variation, user, process, command line,
    /// destination, explanation and note (case-insensitive).
    pub q: Option<String>,
    /// The order (default `-time`, the latest first).
    #[param(schema_with = sort_choice)]
    pub sort: Option<String>,
    /// Page size (default 50; more than 1000 is 1000).
    #[param(minimum = 0)]
    pub limit: Option<i64>,
    /// Alerts skipped before the page.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

pub(crate) fn severity_choice() -> utoipa::openapi::Object {
    choice(&["high", "medium", "low", "informational", ""])
}

fn status_choice() -> utoipa::openapi::Object {
    choice(&["new", "acknowledged", "resolved", "false_positive", ""])
}

fn sort_choice() -> utoipa::openapi::Object {
    choice(&["time", "-time", "severity", "-severity"])
}

/// A page of alerts, without their source events (those come with one alert).
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage<'a> {
    /// Alerts that match, over every page.
    pub total: usize,
    pub alerts: Vec<AlertSummary<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertSummary<'a> {
    #[schema(value_type = AlertSchema)]
    pub alert: &'a Alert,
    #[schema(value_type = Triage)]
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

/// A filter's time: any RFC 3339 date-time, whatever its year (a range
/// bound of 0001 or 9999 is a fine filter, though no event has such a time),
/// or the forms event times take (a space for `T`, no offset).
pub(crate) fn parse_time(name: &str, text: &Option<String>) -> Result<Option<Timestamp>, BadQuery> {
    let Some(t) = text.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    any_time(t)
        .map(Some)
        .ok_or_else(|| BadQuery(format!("{name}: {t:?} is not a time (RFC 3339)")))
}

/// Any RFC 3339 date-time, whatever its year, or the forms event times take.
pub(crate) fn any_time(t: &str) -> Option<Timestamp> {
    Timestamp::parse(t).or_else(|| {
        chrono::DateTime::parse_from_rfc3339(t.trim())
            .ok()
            .map(|time| Timestamp::from_micros(time.timestamp_micros()))
    })
}

/// A count parameter (a page bound, a minimum): `default` when absent;
/// signed as the document's int64 is, so that the server takes exactly what
/// the document allows, and a negative one is refused naming it.
pub(crate) fn count_param(name: &str, value: Option<i64>, default: i64) -> Result<usize, BadQuery> {
    let value = value.unwrap_or(default);
    usize::try_from(value).map_err(|_| BadQuery(format!("{name}: {value} is negative")))
}

/// One of an enum's snake_case names, or absent when empty.
pub(crate) fn parse_choice<T: for<'de> Deserialize<'de>>(
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
        let min_severity: Option<Severity> = parse_choice(
            "min_severity",
            &q.min_severity,
            "high, medium, low or informational",
        )?;
        // Compared in lower case, as the alert groups name them.
        let image = q
            .image
            .as_deref()
            .filter(|i| !i.is_empty())
            .map(str::to_lowercase);
        let domain = q
            .domain
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(str::to_lowercase);
        let (image, domain) = (image.as_deref(), domain.as_deref());
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
                    && min_severity.is_none_or(|s| a.severity >= s)
                    && image.is_none_or(|i| image_of(a).to_lowercase() == i)
                    && domain.is_none_or(|d| domain_of(a).to_lowercase() == d)
                    && status.is_none_or(|s| r.triage.status == s)
                    && q.variation
                        .as_deref()
                        .is_none_or(|v| v.is_empty() || a.variation == v)
                    && q.host
                        .as_deref()
                        .is_none_or(|h| h.is_empty() || a.host.eq_ignore_ascii_case(h))
                    && q.incident.as_deref().is_none_or(|i| {
                        i.is_empty() || a.incident.as_ref().is_some_and(|inc| inc.id == i)
                    })
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
        let offset = count_param("offset", q.offset, 0)?;
        let limit = count_param("limit", q.limit, 50)?.min(1000);
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

/// The process image's base name (`chrome.exe`), empty when unknown: what
/// the alert groups and the `image` filter use.
pub(crate) fn image_of(alert: &Alert) -> &str {
    alert
        .process
        .image
        .as_deref()
        .map(|i| i.rsplit(['\\', '/']).next().unwrap_or(i))
        .unwrap_or_default()
}

/// The destination's registered domain, or its key when it has none.
pub(crate) fn domain_of(alert: &Alert) -> String {
    alert
        .destination
        .registered_domain
        .clone()
        .unwrap_or_else(|| alert.destination.key.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: AlertQuery) -> Result<usize, String> {
        AlertIndex::default()
            .query(&query)
            .map(|p| p.total)
            .map_err(|bad| bad.0)
    }

    #[test]
    fn a_filter_takes_any_rfc_3339_time_and_refuses_what_is_none() {
        for time in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999+14:00",
            "2024-01-01 00:00:00",
            "",
        ] {
            let query = AlertQuery {
                to: Some(time.into()),
                ..AlertQuery::default()
            };
            assert_eq!(page(query), Ok(0), "{time}");
        }
        let query = AlertQuery {
            to: Some("yesterday".into()),
            ..AlertQuery::default()
        };
        assert!(page(query).unwrap_err().starts_with("to:"));
    }

    #[test]
    fn a_negative_page_bound_is_refused_naming_it() {
        let query = AlertQuery {
            offset: Some(-1),
            ..AlertQuery::default()
        };
        assert!(page(query).unwrap_err().starts_with("offset:"));
        let query = AlertQuery {
            limit: Some(i64::MAX),
            ..AlertQuery::default()
        };
        assert_eq!(page(query), Ok(0));
    }
}
