//! The allowlist as a worker holds it: every entry of the allowlist topic
//! (published by `seldom serve --kafka`), latest record per entry id, a
//! tombstone deleting one. A new alert an entry covers is not published;
//! the rule is the detector's ([`seldom_detect::allow::covers`]), the same
//! one a single service applies.

use std::collections::BTreeMap;

use seldom_detect::Alert;
use seldom_detect::allow::{AllowKind, covers};
use serde::Deserialize;

use crate::reader::Record;

/// What a worker needs of an entry (the topic carries more: who added it
/// and when).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AllowEntry {
    pub id: String,
    pub kind: AllowKind,
    pub value: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Default, Clone)]
pub struct Allowlist {
    entries: BTreeMap<String, AllowEntry>,
    /// Records that were no entry (skipped, counted).
    pub bad_records: u64,
}

impl Allowlist {
    /// Applies one record of the allowlist topic.
    pub fn apply(&mut self, record: &Record) {
        let id = String::from_utf8_lossy(&record.key).into_owned();
        match record.payload.as_deref() {
            None => {
                self.entries.remove(&id);
            }
            Some(payload) => match serde_json::from_slice::<AllowEntry>(payload) {
                Ok(entry) if entry.id == id => {
                    self.entries.insert(id, entry);
                }
                _ => self.bad_records += 1,
            },
        }
    }

    /// Adds or replaces an entry directly (tests, and a worker's own view).
    pub fn insert(&mut self, entry: AllowEntry) {
        self.entries.insert(entry.id.clone(), entry);
    }

    /// The first entry that covers `alert`.
    pub fn covering(&self, alert: &Alert) -> Option<&AllowEntry> {
        self.entries
            .values()
            .find(|e| covers(e.kind, &e.value, alert))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, payload: Option<&str>) -> Record {
        Record {
            partition: 0,
            offset: 0,
            key: key.as_bytes().to_vec(),
            payload: payload.map(|p| p.as_bytes().to_vec()),
        }
    }

    #[test]
    fn the_latest_record_per_id_wins_and_a_tombstone_deletes() {
        let mut list = Allowlist::default();
        list.apply(&record(
            "a1",
            Some(r#"{"id":"a1","kind":"host","value":"ws-1","reason":"lab","created_by":"x"}"#),
        ));
        list.apply(&record(
            "a2",
            Some(r#"{"id":"a2","kind":"ip","value":"203.0.113.9","reason":"cdn"}"#),
        ));
        assert_eq!(list.len(), 2);
        list.apply(&record("a1", None));
        assert_eq!(list.len(), 1);
        // Not an entry, or an entry under another id's key: skipped, counted.
        list.apply(&record("a3", Some("{not json")));
        list.apply(&record(
            "a4",
            Some(r#"{"id":"a5","kind":"host","value":"h"}"#),
        ));
        list.apply(&record(
            "a6",
            Some(r#"{"id":"a6","kind":"planet","value":"h"}"#),
        ));
        assert_eq!(list.len(), 1);
        assert_eq!(list.bad_records, 3);
    }
}
