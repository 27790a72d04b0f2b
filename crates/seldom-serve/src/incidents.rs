//! Incidents as the service shows them: the stored alerts grouped by the
//! incident each carries (the detector files alerts into incidents and tells
//! every alert of one its hosts, spread included), with what an analyst
//! reads first: the destination, every host (alerted or spread), the highest
//! severity, the variations and how many alerts are still open. Derived from
//! the alert index on each request, so triage and retention apply as they do
//! to alerts and nothing more is stored.

use std::collections::BTreeMap;

use seldom_detect::catalog::Severity;
use seldom_model::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::alerts::{AlertIndex, AlertRecord, BadQuery, count_param, parse_time};
use crate::schema::time_filter;

/// One incident: its alerts' union.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IncidentSummary {
    pub id: String,
    /// The destination key the incident follows.
    pub destination: String,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: Timestamp,
    #[schema(value_type = String)]
    pub severity: Severity,
    pub variations: Vec<String>,
    /// Every host that contacted the destination in the incident, in the
    /// order of their first contact.
    pub hosts: Vec<String>,
    /// Hosts whose own contact alerted.
    pub alerted_hosts: Vec<String>,
    /// Hosts that contacted it without alerting (it was no longer rare).
    pub spread: Vec<String>,
    /// Its alerts' ids, earliest first.
    pub alerts: Vec<String>,
    /// Alerts still new or acknowledged.
    pub open_alerts: usize,
    /// Whether one of its alerts is a beacon.
    pub beacon: bool,
}

/// A page of incidents, the most severe and most recent first.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentPage {
    pub total: usize,
    pub incidents: Vec<IncidentSummary>,
}

/// A query of `GET /api/v1/incidents`; an empty filter is no filter.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// Incidents last seen at or after this time (RFC 3339).
    #[param(schema_with = time_filter)]
    pub from: Option<String>,
    /// Incidents first seen at or before this time (RFC 3339).
    #[param(schema_with = time_filter)]
    pub to: Option<String>,
    /// Only incidents with at least this many hosts (default 1).
    #[param(minimum = 0)]
    pub min_hosts: Option<i64>,
    /// Only incidents with an open alert (`true`), or all (default).
    pub open: Option<bool>,
    /// Page size (default 50; more than 1000 is 1000).
    #[param(minimum = 0)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl AlertIndex {
    /// Every incident its alerts belong to.
    pub fn incidents(&self) -> Vec<IncidentSummary> {
        let mut groups: BTreeMap<&str, Vec<&AlertRecord>> = BTreeMap::new();
        for record in self.values() {
            if let Some(incident) = &record.alert.incident {
                groups.entry(&incident.id).or_default().push(record);
            }
        }
        groups.into_values().map(summarize).collect()
    }

    /// One incident by id.
    pub fn incident(&self, id: &str) -> Option<IncidentSummary> {
        let members: Vec<&AlertRecord> = self
            .values()
            .filter(|r| r.alert.incident.as_ref().is_some_and(|i| i.id == id))
            .collect();
        (!members.is_empty()).then(|| summarize(members))
    }

    pub fn query_incidents(&self, q: &IncidentQuery) -> Result<IncidentPage, BadQuery> {
        let from = parse_time("from", &q.from)?;
        let to = parse_time("to", &q.to)?;
        let min_hosts = count_param("min_hosts", q.min_hosts, 1)?;
        let offset = count_param("offset", q.offset, 0)?;
        let limit = count_param("limit", q.limit, 50)?.min(1000);
        let mut hits: Vec<IncidentSummary> = self
            .incidents()
            .into_iter()
            .filter(|i| {
                from.is_none_or(|f| i.last_seen >= f)
                    && to.is_none_or(|t| i.first_seen <= t)
                    && i.hosts.len() >= min_hosts
                    && q.open.is_none_or(|open| !open || i.open_alerts > 0)
            })
            .collect();
        hits.sort_by(|a, b| {
            (b.severity, b.hosts.len(), b.last_seen).cmp(&(a.severity, a.hosts.len(), a.last_seen))
        });
        let total = hits.len();
        let incidents = hits.into_iter().skip(offset).take(limit).collect();
        Ok(IncidentPage { total, incidents })
    }
}

fn summarize(mut members: Vec<&AlertRecord>) -> IncidentSummary {
    members.sort_by_key(|r| (r.alert.first_seen, r.alert.id.clone()));
    let first = &members[0].alert;
    // The latest list the detector sent holds every host; alerts revised
    // earlier may hold fewer, so the longest one stands.
    let hosts: Vec<String> = members
        .iter()
        .filter_map(|r| r.alert.incident.as_ref())
        .map(|i| i.hosts.clone())
        .max_by_key(Vec::len)
        .unwrap_or_default();
    let mut alerted_hosts: Vec<String> = Vec::new();
    let mut variations: Vec<String> = Vec::new();
    for record in &members {
        if !alerted_hosts.contains(&record.alert.host) {
            alerted_hosts.push(record.alert.host.clone());
        }
        if !variations.contains(&record.alert.variation) {
            variations.push(record.alert.variation.clone());
        }
    }
    let spread = hosts
        .iter()
        .filter(|h| !alerted_hosts.contains(h))
        .cloned()
        .collect();
    IncidentSummary {
        id: first
            .incident
            .as_ref()
            .map(|i| i.id.clone())
            .unwrap_or_default(),
        destination: first.destination.key.to_string(),
        first_seen: first.first_seen,
        last_seen: members
            .iter()
            .map(|r| r.alert.last_seen)
            .max()
            .unwrap_or(first.last_seen),
        severity: members
            .iter()
            .map(|r| r.alert.severity)
            .max()
            .unwrap_or(first.severity),
        variations,
        hosts,
        alerted_hosts,
        spread,
        alerts: members.iter().map(|r| r.alert.id.clone()).collect(),
        open_alerts: members.iter().filter(|r| r.triage.status.is_open()).count(),
        beacon: members.iter().any(|r| r.alert.beacon.is_some()),
    }
}
