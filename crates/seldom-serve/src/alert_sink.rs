//! The service's [`Sink`]: alert updates into the alert index the API reads,
//! and into the set of alerts the next checkpoint writes. A new alert an
//! allowlist entry covers is counted and dropped; one raised again by a
//! replay after a crash keeps the analyst's triage, saved at once.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use seldom_detect::{AlertUpdate, Sink, SinkError};

use crate::alerts::{AlertRecord, Triage};
use crate::service::Service;

pub(crate) struct AlertIndexSink<'a> {
    pub shared: &'a Service,
    /// Alert ids changed since the last checkpoint.
    pub dirty: &'a mut BTreeSet<String>,
}

impl Sink for AlertIndexSink<'_> {
    fn apply(&mut self, update: AlertUpdate) -> Result<(), SinkError> {
        let shared = self.shared;
        // Lock order, as everywhere: allowlist, then alerts.
        let allowlist = shared.allowlist().map_err(|e| e.to_string())?;
        let mut alerts = shared.alerts_mut().map_err(|e| e.to_string())?;
        match update {
            AlertUpdate::New(alert, event) => {
                if allowlist.iter().any(|e| e.covers(&alert)) {
                    shared
                        .metrics()
                        .suppressed_by_allowlist
                        .fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                if let Ok(mut by) = shared.metrics().alerts_by_variation.lock() {
                    *by.entry(alert.variation.clone()).or_default() += 1;
                }
                self.dirty.insert(alert.id.clone());
                match alerts.get_mut(&alert.id) {
                    Some(known) => {
                        known.alert = *alert;
                        known.source_events = vec![*event];
                    }
                    None => alerts.insert(AlertRecord {
                        alert: *alert,
                        triage: Triage::default(),
                        source_events: vec![*event],
                    }),
                }
            }
            revision => {
                for id in revision.revises() {
                    if let Some(record) = alerts.get_mut(id) {
                        revision.revise(&mut record.alert);
                        self.dirty.insert(id.to_owned());
                    }
                }
            }
        }
        Ok(())
    }
}
