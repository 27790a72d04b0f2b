//! Alerts grouped for an analyst who should not read them one by one: the
//! (usually Informational) alerts of one process image, or of one registered
//! domain, with how many there are, how many are open, on how many hosts,
//! and a daily count for a sparkline. The overview opens on these instead of
//! a thousand rows; a group opens as the alert list filtered by `image` or
//! `domain`.

use std::collections::{BTreeMap, BTreeSet};

use seldom_detect::catalog::Severity;
use seldom_model::MICROS_PER_DAY;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::alerts::{
    AlertIndex, BadQuery, count_param, domain_of, image_of, parse_choice, severity_choice,
};
use crate::schema::choice;

fn by_choice() -> utoipa::openapi::Object {
    choice(&["image", "domain"])
}

/// One group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertGroup {
    /// The image's base name, or the registered domain.
    pub key: String,
    pub alerts: usize,
    /// Alerts still new or acknowledged.
    pub open: usize,
    pub hosts: usize,
    /// Alerts per day over the last `days` days that end on the latest
    /// alert's day, oldest first.
    pub daily: Vec<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertGroups {
    /// `image` or `domain`.
    pub by: String,
    /// Groups, the largest first.
    pub groups: Vec<AlertGroup>,
}

/// A query of `GET /api/v1/alert-groups`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    /// `image` (default) or `domain`.
    #[param(schema_with = by_choice)]
    pub by: Option<String>,
    /// Only alerts of this severity (default informational; empty: all).
    #[param(schema_with = severity_choice)]
    pub severity: Option<String>,
    /// Days of the sparkline (default 14, at most 90).
    #[param(minimum = 0)]
    pub days: Option<i64>,
    /// Groups at most (default 50; more than 1000 is 1000).
    #[param(minimum = 0)]
    pub limit: Option<i64>,
}

impl AlertIndex {
    pub fn groups(&self, q: &GroupQuery) -> Result<AlertGroups, BadQuery> {
        let by = q.by.clone().unwrap_or_else(|| "image".to_owned());
        if by != "image" && by != "domain" {
            return Err(BadQuery(format!("by: {by:?} is not image or domain")));
        }
        // Absent: Informational; empty: every severity.
        let severity: Option<Severity> = match &q.severity {
            None => Some(Severity::Informational),
            given => parse_choice("severity", given, "high, medium, low or informational")?,
        };
        let days = count_param("days", q.days, 14)?.clamp(1, 90);
        let limit = count_param("limit", q.limit, 50)?.min(1000);
        let members: Vec<_> = self
            .values()
            .filter(|r| severity.is_none_or(|s| r.alert.severity == s))
            .collect();
        let last_day = members
            .iter()
            .map(|r| r.alert.first_seen.as_micros().div_euclid(MICROS_PER_DAY))
            .max()
            .unwrap_or(0);
        struct Acc {
            alerts: usize,
            open: usize,
            hosts: BTreeSet<String>,
            daily: Vec<usize>,
        }
        let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
        for record in members {
            let a = &record.alert;
            let key = if by == "image" {
                image_of(a).to_lowercase()
            } else {
                domain_of(a).to_lowercase()
            };
            let acc = groups.entry(key).or_insert_with(|| Acc {
                alerts: 0,
                open: 0,
                hosts: BTreeSet::new(),
                daily: vec![0; days],
            });
            acc.alerts += 1;
            acc.open += usize::from(record.triage.status.is_open());
            acc.hosts.insert(a.host.clone());
            let ago = last_day - a.first_seen.as_micros().div_euclid(MICROS_PER_DAY);
            if let Ok(ago) = usize::try_from(ago)
                && ago < days
            {
                acc.daily[days - 1 - ago] += 1;
            }
        }
        let mut groups: Vec<AlertGroup> = groups
            .into_iter()
            .map(|(key, acc)| AlertGroup {
                key,
                alerts: acc.alerts,
                open: acc.open,
                hosts: acc.hosts.len(),
                daily: acc.daily,
            })
            .collect();
        groups.sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.key.cmp(&b.key)));
        groups.truncate(limit);
        Ok(AlertGroups { by, groups })
    }
}
