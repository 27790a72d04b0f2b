//! Incidents: the alerts that share a destination key within
//! `incident_window` of the first of them are one story, not separate lines.
//!
//! An incident opens with an alert and then follows its destination key for
//! the window, whether or not the key is still rare: a fourth and fifth host
//! that contact it are listed as the spread although neither alone would
//! alert (the baseline has counted the first hosts by then). The window runs
//! from the incident's first alert, so an incident is bounded in time and a
//! destination everybody comes to use stops gathering hosts.
//!
//! Both a whole detector and a destination-key partition keep this table:
//! every contact of a key passes the partition that owns it, so the incident
//! is the same however the detection is cut.

use seldom_model::{HostName, Micros, Timestamp};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
pub use crate::alert::IncidentRef;
use crate::catalog::Severity;
use crate::destination::DestinationKey;
use crate::fast_map::FastMap;

/// Hosts listed per incident; past it, further contacts are only counted.
/// (Each change of the list reaches every alert of the incident, so the list
/// is kept short enough for that to stay cheap.)
const MAX_HOSTS: usize = 200;
/// Alerts an incident names for its revisions; later ones keep the incident
/// as it stood when they were raised.
const MAX_ALERTS: usize = 1_000;

/// One host of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentHost {
    pub host: String,
    pub first_contact: Timestamp,
    /// Whether one of its contacts raised an alert; `false` is spread.
    pub alerted: bool,
}

/// An incident as a sink receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub key: DestinationKey,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub hosts: Vec<IncidentHost>,
    /// Contacts by hosts past the listed ones (a destination that became
    /// popular), counted, not named.
    #[serde(default)]
    pub more_hosts: u64,
    pub variations: Vec<String>,
    pub severity: Severity,
    /// The ids of its alerts, in the order they were raised.
    pub alerts: Vec<String>,
}

impl Incident {
    /// A stable id from the key and the first alert's time (as alert ids
    /// are), so a replay gives the same incidents.
    fn id_for(key: &DestinationKey, first: Timestamp) -> String {
        let text = format!("incident\u{1f}{key}\u{1f}{}", first.as_micros());
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
    }

    /// What its alerts carry.
    pub fn reference(&self) -> IncidentRef {
        IncidentRef {
            id: self.id.clone(),
            hosts: self.hosts.iter().map(|h| h.host.clone()).collect(),
        }
    }

    /// Hosts that contacted the destination without alerting.
    pub fn spread(&self) -> impl Iterator<Item = &IncidentHost> {
        self.hosts.iter().filter(|h| !h.alerted)
    }

    fn note_host(&mut self, host: &str, time: Timestamp, alerted: bool) -> bool {
        self.last_seen = self.last_seen.max(time);
        let listed = self.hosts.len();
        match self.hosts.iter_mut().find(|h| h.host == host) {
            Some(known) => {
                let earlier = time < known.first_contact;
                let changed = (alerted && !known.alerted) || earlier;
                known.alerted |= alerted;
                known.first_contact = known.first_contact.min(time);
                if earlier {
                    self.hosts.sort_by_key(|h| h.first_contact);
                }
                changed
            }
            None if listed < MAX_HOSTS => {
                // In the order of first contact, whatever the order filed
                // (an alert that waited for its process comes late).
                let at = self.hosts.partition_point(|h| h.first_contact <= time);
                self.hosts.insert(
                    at,
                    IncidentHost {
                        host: host.to_owned(),
                        first_contact: time,
                        alerted,
                    },
                );
                true
            }
            None => {
                self.more_hosts += 1;
                false
            }
        }
    }
}

/// The incidents still inside their window, by destination key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IncidentTable {
    open: FastMap<DestinationKey, Incident>,
}

impl IncidentTable {
    /// Files a new alert: into the open incident of its key when the alert
    /// falls inside its window, else into a new one. Returns the incident,
    /// and whether what its earlier alerts carry of it changed (a new host,
    /// or an earlier first alert: one that waited for its process start can
    /// be filed after a later one, and the incident then starts, and is
    /// named, at it, as a destination-key partition names it).
    pub fn on_alert(&mut self, alert: &Alert, window: Micros) -> (&Incident, bool) {
        let key = &alert.destination.key;
        let time = alert.first_seen;
        let current = self
            .open
            .get(key)
            .is_some_and(|i| time.since(i.first_seen).0.abs() < window.0);
        if !current {
            self.open.insert(
                key.clone(),
                Incident {
                    id: Incident::id_for(key, time),
                    key: key.clone(),
                    first_seen: time,
                    last_seen: time,
                    hosts: Vec::new(),
                    more_hosts: 0,
                    variations: Vec::new(),
                    severity: alert.severity,
                    alerts: Vec::new(),
                },
            );
        }
        let Some(incident) = self.open.get_mut(key) else {
            unreachable!("inserted above")
        };
        let mut changed = false;
        if time < incident.first_seen {
            incident.first_seen = time;
            incident.id = Incident::id_for(key, time);
            changed = true;
        }
        changed |= incident.note_host(&alert.host, time, true);
        incident.severity = incident.severity.max(alert.severity);
        if !incident.variations.contains(&alert.variation) {
            incident.variations.push(alert.variation.clone());
        }
        if incident.alerts.len() < MAX_ALERTS {
            incident.alerts.push(alert.id.clone());
        }
        (incident, changed && incident.alerts.len() > 1)
    }

    /// Notes any contact of `key` by `host` at `time`: a host new to the
    /// key's open incident is its spread. Returns the incident when its list
    /// of hosts changed.
    pub fn on_contact(
        &mut self,
        key: &DestinationKey,
        host: &HostName,
        time: Timestamp,
        window: Micros,
    ) -> Option<&Incident> {
        let incident = self.open.get_mut(key)?;
        if time.since(incident.first_seen).0.abs() >= window.0 {
            return None;
        }
        incident
            .note_host(host.as_str(), time, false)
            .then_some(&*incident)
    }

    /// Forgets incidents whose window ended before `now`.
    pub fn expire(&mut self, now: Timestamp, window: Micros) {
        self.open
            .retain(|_, incident| now.since(incident.first_seen) < window);
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}
