//! What analysts decide: an alert's triage, allowlist entries (an entry
//! resolves the open alerts it covers at once), and what the baseline knows
//! of a destination. Each change is written to the store before it is
//! answered. Blocking, except [`Service::destination`].

use anyhow::{Result, anyhow};
use seldom_detect::DestinationView;
use seldom_model::Timestamp;

use super::Service;
use crate::alerts::{AlertRecord, Status, TriageChange};
use crate::allowlist::{Entry, NewEntry};
use crate::queue::Work;

/// Why a destination could not be looked up.
#[derive(Debug, PartialEq, Eq)]
pub struct DetectionStopping;

impl Service {
    /// The catalog's variation ids, which allowlist entries must name.
    pub fn variations(&self) -> &[String] {
        &self.variations
    }

    /// Applies an analyst's change to alert `id`, saved at once; `None` when
    /// there is no such alert.
    pub fn triage(&self, id: &str, change: TriageChange) -> Result<Option<AlertRecord>> {
        let mut alerts = self.alerts_mut()?;
        let Some(record) = alerts.get_mut(id) else {
            return Ok(None);
        };
        if let Some(status) = change.status {
            record.triage.status = status;
        }
        if change.note.is_some() {
            record.triage.note = change.note;
        }
        record.triage.by = Some(change.by.unwrap_or_else(|| "analyst".into()));
        record.triage.at = Some(Timestamp::now());
        self.store.put_alert(record)?;
        Ok(Some(record.clone()))
    }

    pub fn allow_entries(&self) -> Vec<Entry> {
        self.allowlist().map(|a| a.clone()).unwrap_or_default()
    }

    /// Adds a checked entry, then resolves the open alerts it covers; returns
    /// it and how many it resolved. Following a cluster, the entry is first
    /// published to the allowlist topic (every worker suppresses what it
    /// covers from then on), and kept only once the cluster has it.
    pub fn add_allow(&self, new: NewEntry) -> Result<(Entry, usize)> {
        let now = Timestamp::now();
        let entry = Entry {
            id: format!(
                "{:016x}",
                xxhash_rust::xxh3::xxh3_64(
                    format!("{:?}{}{}", new.kind, new.value, now).as_bytes()
                )
            ),
            kind: new.kind,
            value: new.value,
            reason: new.reason,
            created_at: now,
            created_by: new.by.unwrap_or_else(|| "analyst".into()),
        };
        if let Some(link) = &self.cluster {
            let payload = serde_json::to_vec(&entry)?;
            link.publisher
                .publish(&link.topics.allowlist, entry.id.as_bytes(), Some(&payload))
                .map_err(|e| anyhow!(e))?;
        }
        let resolved = self.adopt_allow(entry.clone())?;
        Ok((entry, resolved))
    }

    /// Keeps an entry (unless it is kept already) and resolves the open
    /// alerts it covers; returns how many. Also how a cluster's entry,
    /// published by another service, arrives.
    pub fn adopt_allow(&self, entry: Entry) -> Result<usize> {
        let now = Timestamp::now();
        let mut list = self
            .allowlist
            .write()
            .map_err(|_| anyhow!("allowlist poisoned"))?;
        if list.iter().any(|e| e.id == entry.id) {
            return Ok(0);
        }
        self.store.put_allow(&entry)?;
        list.push(entry.clone());
        // Lock order, as everywhere: allowlist, then alerts.
        let mut alerts = self.alerts_mut()?;
        let mut changed = Vec::new();
        for record in alerts.iter_mut() {
            if record.triage.status.is_open() && entry.covers(&record.alert) {
                record.triage.status = Status::Resolved;
                record.triage.reason = Some(entry.describe());
                record.triage.by = Some(entry.created_by.clone());
                record.triage.at = Some(now);
                changed.push(record.clone());
            }
        }
        // Written while the index is still locked, so that no triage or
        // checkpoint in between is overwritten by these copies.
        self.store.put_alerts(&changed)?;
        Ok(changed.len())
    }

    /// Deletes entry `id`; false when there was none. Following a cluster,
    /// the deletion (a tombstone) is published first.
    pub fn delete_allow(&self, id: &str) -> Result<bool> {
        if let Some(link) = &self.cluster {
            if !self.allow_entries().iter().any(|e| e.id == id) {
                return Ok(false);
            }
            link.publisher
                .publish(&link.topics.allowlist, id.as_bytes(), None)
                .map_err(|e| anyhow!(e))?;
        }
        self.forget_allow(id)
    }

    /// Deletes entry `id` here only; false when there was none.
    pub fn forget_allow(&self, id: &str) -> Result<bool> {
        let existed = self.store.delete_allow(id)?;
        if let Ok(mut list) = self.allowlist.write() {
            list.retain(|e| e.id != id);
        }
        Ok(existed)
    }

    /// What the baseline knows of destination `key`, asked of the detection
    /// thread (which owns the detector) and awaited without blocking.
    pub async fn destination(
        &self,
        key: &str,
    ) -> Result<Option<DestinationView>, DetectionStopping> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let asked = Work::Destination {
            key: key.to_owned(),
            reply,
        };
        if !self.send(asked) {
            return Err(DetectionStopping);
        }
        answer.await.map_err(|_| DetectionStopping)
    }

    /// Asks the detection thread why something did or did not alert, and
    /// awaits the answer without blocking.
    pub async fn explain(
        &self,
        question: crate::queue::Question,
    ) -> Result<seldom_detect::explain::Verdict, DetectionStopping> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if !self.send(Work::Explain { question, reply }) {
            return Err(DetectionStopping);
        }
        answer.await.map_err(|_| DetectionStopping)
    }

    /// The latest `limit` alerts on destination `key`, most recent first.
    pub fn alerts_on(&self, key: &str, limit: usize) -> Vec<AlertRecord> {
        let Ok(index) = self.alerts() else {
            return Vec::new();
        };
        let mut recent: Vec<&AlertRecord> = index
            .values()
            .filter(|r| r.alert.destination.key.to_string() == key)
            .collect();
        recent.sort_by_key(|r| std::cmp::Reverse(r.alert.first_seen));
        recent.truncate(limit);
        recent.into_iter().cloned().collect()
    }
}
