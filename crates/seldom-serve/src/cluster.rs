//! `serve --kafka`: the service over a cluster of `seldom worker`s. It
//! detects nothing itself; one thread (in place of the detection thread)
//! reads two topics whole, outside any consumer group, `read_committed`:
//!
//! - the alerts topic: each record is an alert's latest state (a repeat is a
//!   newer record with the same key); it goes into the alert index with the
//!   triage the service already has for it, and into the store;
//! - the allowlist topic: entries published by this or any other service
//!   following the cluster are kept and resolve the open alerts they cover,
//!   a tombstone deletes one.
//!
//! Both are read from their start at every start: the topics are the truth
//! (compacted, one record per alert or entry), and an alert read again only
//! refreshes what the store has, keeping its triage. The service is ready
//! once both have been read to the end they had when it started.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use seldom_detect::Alert;
use seldom_kafka::config::Topics;
use seldom_kafka::reader::{Record, TopicReader};

use crate::alerts::{AlertRecord, Triage};
use crate::allowlist::Entry;
use crate::queue::Work;
use crate::service::Service;

/// Records taken from the alerts topic per round.
const ROUND: usize = 5_000;

/// The thread's body: follows both topics until `Shutdown`; returns whether
/// every alert read was saved to the store.
pub fn follow(
    shared: Arc<Service>,
    client: ClientConfig,
    topics: Topics,
    work: Receiver<Work>,
) -> bool {
    let mut unsaved: BTreeSet<String> = BTreeSet::new();
    let mut readers: Option<(TopicReader, TopicReader)> = None;
    loop {
        match work.try_recv() {
            Ok(Work::Shutdown) | Err(TryRecvError::Disconnected) => break,
            // Ingest and tails are refused while following a cluster, and
            // what needs a detector is answered at the edge: nothing else
            // comes (and anything that did would find its reply dropped).
            Ok(_) | Err(TryRecvError::Empty) => {}
        }
        // Nothing is read while the store cannot write; once it can again,
        // both topics are read afresh (what failed to be kept comes again).
        if !shared.store_ok() {
            match shared.store().reopen() {
                Ok(()) => {
                    eprintln!("seldom serve: the store takes writes again");
                    shared.store_recovered();
                    readers = None;
                }
                Err(_) => {
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            }
        }
        if readers.is_none() {
            let opened = TopicReader::open(&client, &topics.allowlist, &BTreeMap::new()).and_then(
                |allowlist| {
                    let alerts = TopicReader::open(&client, &topics.alerts, &BTreeMap::new())?;
                    Ok((allowlist, alerts))
                },
            );
            match opened {
                Ok(pair) => readers = Some(pair),
                Err(e) => {
                    eprintln!("seldom serve: reading the cluster: {e}; retrying");
                    std::thread::sleep(Duration::from_secs(2));
                    continue;
                }
            }
        }
        let Some((allowlist, alerts)) = readers.as_mut() else {
            continue;
        };
        let round = allowlist.poll(Duration::ZERO, ROUND).and_then(|entries| {
            for record in entries {
                take_entry(&shared, record);
            }
            alerts.poll(Duration::from_millis(200), ROUND)
        });
        if !shared.store_ok() {
            continue;
        }
        match round {
            Ok(records) => {
                for record in records {
                    if let Some(id) = take_alert(&shared, record) {
                        unsaved.insert(id);
                    }
                }
                if allowlist.caught_up() && alerts.caught_up() {
                    shared.mark_replayed();
                }
            }
            Err(e) => {
                // Read again from the start: what the index has is only
                // refreshed, never doubled.
                eprintln!("seldom serve: reading the cluster: {e}; reading again");
                readers = None;
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        save(&shared, &mut unsaved);
    }
    save(&shared, &mut unsaved);
    unsaved.is_empty()
}

/// An entry published by a service (this one included), or its deletion.
fn take_entry(shared: &Service, record: Record) {
    let id = String::from_utf8_lossy(&record.key).into_owned();
    let outcome = match record.payload.as_deref() {
        None => shared.forget_allow(&id).map(|_| ()),
        Some(payload) => match serde_json::from_slice::<Entry>(payload) {
            Ok(entry) if entry.id == id => shared.adopt_allow(entry).map(|_| ()),
            _ => {
                eprintln!(
                    "seldom serve: allowlist record {}@{} is no entry; skipped",
                    record.partition, record.offset
                );
                Ok(())
            }
        },
    };
    if let Err(e) = outcome {
        shared.store_failed(&e);
    }
}

/// An alert's latest record: into the index, keeping its triage. A new
/// alert an entry covers is dropped, as a worker that knew the entry would
/// have. Returns the id when the index changed.
fn take_alert(shared: &Service, record: Record) -> Option<String> {
    let alert: Alert = match record.payload.as_deref().map(serde_json::from_slice) {
        Some(Ok(alert)) => alert,
        // A tombstone (an operator's deletion) or a stranger's record.
        _ => return None,
    };
    // Lock order, as everywhere: allowlist, then alerts.
    let allowlist = shared.allowlist().ok()?;
    let mut index = shared.alerts_mut().ok()?;
    if let Some(known) = index.get_mut(&alert.id) {
        if known.alert == alert {
            return None;
        }
        known.alert = alert;
        return Some(known.alert.id.clone());
    }
    if allowlist.iter().any(|e| e.covers(&alert)) {
        shared
            .metrics()
            .suppressed_by_allowlist
            .fetch_add(1, Ordering::Relaxed);
        return None;
    }
    if let Ok(mut by) = shared.metrics().alerts_by_variation.lock() {
        *by.entry(alert.variation.clone()).or_default() += 1;
    }
    let id = alert.id.clone();
    index.insert(AlertRecord {
        alert,
        triage: Triage::default(),
        source_events: Vec::new(),
    });
    Some(id)
}

/// Writes the changed alerts in one transaction; after a failed write the
/// store is reopened first, and the service is unready until one succeeds.
fn save(shared: &Service, unsaved: &mut BTreeSet<String>) {
    if unsaved.is_empty() {
        return;
    }
    let records: Vec<AlertRecord> = match shared.alerts() {
        Ok(index) => unsaved
            .iter()
            .filter_map(|id| index.get(id).cloned())
            .collect(),
        Err(_) => return,
    };
    let store_ok = shared.store_ok();
    let written = if store_ok {
        shared.store().put_alerts(&records)
    } else {
        shared
            .store()
            .reopen()
            .and_then(|()| shared.store().put_alerts(&records))
    };
    match written {
        Ok(()) => {
            unsaved.clear();
            if !store_ok {
                eprintln!("seldom serve: the store takes writes again");
                shared.store_recovered();
            }
        }
        Err(e) => {
            if store_ok {
                eprintln!("seldom serve: saving alerts failed (not ready; will retry): {e:#}");
            }
            shared.store_failed(&e);
        }
    }
}
