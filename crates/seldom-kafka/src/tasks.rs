//! The partitions one worker owns, as tasks of the partitioned detector
//! ([`seldom_detect::partitioned`]): records in, records out, with no Kafka
//! client in sight, so the worker's loop only moves bytes and commits.
//!
//! - an input partition's record is decoded (any format `scan` reads) and
//!   each event goes to the by-host partition of its host;
//! - a by-host record feeds that partition's [`HostTask`]; its contacts go to
//!   the by-key partition of their destination key;
//! - a by-key record feeds that partition's [`KeyTask`]; its alerts go to the
//!   alerts topic, keyed by alert id, a repeat as the whole alert again;
//!   a new alert an allowlist entry covers is not published.
//!
//! After each batch every task that moved sends its progress mark to every
//! partition downstream, if it changed.

use std::collections::{BTreeMap, BTreeSet};

use seldom_detect::partitioned::{
    HostTask, HostTaskState, KeyTask, KeyTaskState, Progress, SourceTask, contact_partition,
    host_partition,
};
use seldom_detect::{Alert, AlertUpdate, Catalog, ConfigError, DetectConfig};
use seldom_ingest::{BytesSource, IngestOptions, IngestStats, Ingestor, Source};
use seldom_model::Micros;
use serde::{Deserialize, Serialize};

use crate::allowlist::Allowlist;
use crate::config::Topics;
use crate::wire::{ToHosts, ToKeys, decode, encode};

/// A record to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub topic: String,
    /// `None`: the producer's partitioner picks by key.
    pub partition: Option<i32>,
    pub key: Vec<u8>,
    pub payload: Vec<u8>,
}

/// How many partitions each stage has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub input: u32,
    pub internal: u32,
}

/// An input partition's reader.
struct SourcePartition {
    task: SourceTask,
    last_sent: Option<Progress>,
}

struct HostPartition {
    task: HostTask,
    last_sent: Option<Progress>,
    /// Changed since its last snapshot.
    dirty: bool,
}

/// A key partition's task and the alerts it may still repeat (a repeat is
/// published as the whole alert, with its count and last time).
struct KeyPartition {
    task: KeyTask,
    open: BTreeMap<String, Alert>,
    dirty: bool,
}

/// A key partition's snapshot in its changelog, read back.
#[derive(Deserialize)]
pub struct KeySnapshot {
    task: KeyTaskState,
    open: BTreeMap<String, Alert>,
}

/// The same, as written: borrowed, copying nothing.
#[derive(Serialize)]
struct KeySnapshotRef<'a> {
    task: &'a KeyTaskState,
    open: &'a BTreeMap<String, Alert>,
}

/// What went wrong with a record, counted by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TaskCounters {
    /// Internal records that did not decode (a stranger writing to an
    /// internal topic, or a version mismatch): skipped.
    pub bad_internal_records: u64,
    /// New alerts an allowlist entry covered: not published.
    pub suppressed_by_allowlist: u64,
}

pub struct Tasks {
    topics: Topics,
    layout: Layout,
    detect: DetectConfig,
    catalog: Catalog,
    dedup: Micros,
    sources: BTreeMap<u32, SourcePartition>,
    hosts: BTreeMap<u32, HostPartition>,
    keys: BTreeMap<u32, KeyPartition>,
    /// Host and key partitions that received records in this batch.
    touched_hosts: BTreeSet<u32>,
    touched_keys: BTreeSet<u32>,
    ingestor: Ingestor,
    pub counters: TaskCounters,
    /// The entries whose alerts are not published (kept current by the
    /// worker from the allowlist topic).
    pub allowlist: Allowlist,
}

impl Tasks {
    pub fn new(
        topics: Topics,
        layout: Layout,
        detect: DetectConfig,
        catalog: Catalog,
        ingest: IngestOptions,
    ) -> Result<Tasks, ConfigError> {
        // Checked once here, so that a task's construction cannot fail later.
        detect.build(catalog.clone())?;
        Ok(Tasks {
            ingestor: Ingestor::new(ingest),
            dedup: Micros::days(detect.dedup_days),
            topics,
            layout,
            detect,
            catalog,
            sources: BTreeMap::new(),
            hosts: BTreeMap::new(),
            keys: BTreeMap::new(),
            touched_hosts: BTreeSet::new(),
            touched_keys: BTreeSet::new(),
            counters: TaskCounters::default(),
            allowlist: Allowlist::default(),
        })
    }

    /// Partitions this worker owns, per stage.
    pub fn owned(&self) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
        (
            self.sources.keys().copied().collect(),
            self.hosts.keys().copied().collect(),
            self.keys.keys().copied().collect(),
        )
    }

    /// Takes input partition `p`.
    pub fn own_source(&mut self, p: u32) {
        self.sources.entry(p).or_insert_with(|| SourcePartition {
            task: SourceTask::new(p, self.detect.clock_quorum),
            last_sent: None,
        });
    }

    /// Takes host partition `p`, from its snapshot if it has one.
    pub fn own_host(&mut self, p: u32, snapshot: Option<&[u8]>) -> Result<(), String> {
        let mut task = HostTask::new(p, &self.detect, self.catalog.clone(), self.layout.input)
            .map_err(|e| e.to_string())?;
        if let Some(bytes) = snapshot {
            task.restore(decode::<HostTaskState>(bytes)?);
        }
        self.hosts.insert(
            p,
            HostPartition {
                task,
                last_sent: None,
                dirty: false,
            },
        );
        Ok(())
    }

    /// Takes key partition `p`, from its snapshot if it has one.
    pub fn own_key(&mut self, p: u32, snapshot: Option<&[u8]>) -> Result<(), String> {
        let mut task = KeyTask::new(p, &self.detect, self.catalog.clone(), self.layout.internal)
            .map_err(|e| e.to_string())?;
        let mut open = BTreeMap::new();
        if let Some(bytes) = snapshot {
            let snapshot = decode::<KeySnapshot>(bytes)?;
            task.restore(snapshot.task);
            open = snapshot.open;
        }
        self.keys.insert(
            p,
            KeyPartition {
                task,
                open,
                dirty: false,
            },
        );
        Ok(())
    }

    /// Gives up partitions no longer assigned (their new owner restores them
    /// from the changelog, at the offsets committed with it).
    pub fn retain(&mut self, sources: &BTreeSet<u32>, hosts: &BTreeSet<u32>, keys: &BTreeSet<u32>) {
        self.sources.retain(|p, _| sources.contains(p));
        self.hosts.retain(|p, _| hosts.contains(p));
        self.keys.retain(|p, _| keys.contains(p));
    }

    /// Forgets every task (after an aborted transaction: their memory is
    /// ahead of what was committed).
    pub fn clear(&mut self) {
        self.sources.clear();
        self.hosts.clear();
        self.keys.clear();
    }

    /// A record of input partition `p` at `offset`.
    pub fn input(&mut self, p: u32, offset: i64, payload: &[u8], out: &mut Vec<Outgoing>) {
        let Some(source) = self.sources.get_mut(&p) else {
            return;
        };
        let name = format!("kafka:{}/{p}@{offset}", self.topics.input);
        let mut events = Vec::new();
        // In-memory bytes always open; what is wrong in them is counted.
        let _ = BytesSource {
            name: &name,
            bytes: payload,
        }
        .read(&mut self.ingestor, &mut |e| events.push(e));
        for event in events {
            source.task.observe(&event);
            let to = host_partition(&event.host, self.layout.internal);
            out.push(Outgoing {
                topic: self.topics.by_host.clone(),
                partition: Some(to as i32),
                key: event.host.as_str().as_bytes().to_vec(),
                payload: encode(&ToHosts::Event(Box::new(event))),
            });
        }
    }

    /// A record of by-host partition `p`.
    pub fn by_host(&mut self, p: u32, payload: &[u8]) {
        let Some(host) = self.hosts.get_mut(&p) else {
            return;
        };
        match decode::<ToHosts>(payload) {
            Ok(ToHosts::Event(event)) => host.task.push(*event),
            Ok(ToHosts::Mark(mark)) => host.task.note(mark),
            Err(_) => {
                self.counters.bad_internal_records += 1;
                return;
            }
        }
        host.dirty = true;
        self.touched_hosts.insert(p);
    }

    /// A record of by-key partition `p`.
    pub fn by_key(&mut self, p: u32, payload: &[u8], out: &mut Vec<Outgoing>) {
        let Some(key) = self.keys.get_mut(&p) else {
            return;
        };
        let mut updates = Vec::new();
        match decode::<ToKeys>(payload) {
            Ok(ToKeys::Contact { from, contact }) => key.task.push(from, *contact, &mut updates),
            Ok(ToKeys::Mark(mark)) => key.task.note(mark),
            Err(_) => {
                self.counters.bad_internal_records += 1;
                return;
            }
        }
        key.dirty = true;
        self.touched_keys.insert(p);
        self.publish(p, updates, out);
    }

    /// The end of a batch: tasks that received records go as far as their
    /// marks allow, and every task whose progress changed says so
    /// downstream. `caught_up(p)` tells whether input partition `p` has
    /// nothing more to read for now.
    pub fn end_batch(&mut self, caught_up: impl Fn(u32) -> bool, out: &mut Vec<Outgoing>) {
        let internal = self.layout.internal;
        for (p, source) in &mut self.sources {
            let mark = source.task.progress(caught_up(*p));
            if source.last_sent.as_ref() != Some(&mark) {
                broadcast(
                    &self.topics.by_host,
                    internal,
                    &ToHosts::Mark(mark.clone()),
                    out,
                );
                source.last_sent = Some(mark);
            }
        }
        let mut contacts = Vec::new();
        for p in std::mem::take(&mut self.touched_hosts) {
            let Some(host) = self.hosts.get_mut(&p) else {
                continue;
            };
            host.task.advance(&mut contacts);
            for contact in contacts.drain(..) {
                let to = contact_partition(&contact, internal);
                out.push(Outgoing {
                    topic: self.topics.by_key.clone(),
                    partition: Some(to as i32),
                    key: contact.key.to_string().into_bytes(),
                    payload: encode(&ToKeys::Contact {
                        from: p,
                        contact: Box::new(contact),
                    }),
                });
            }
            let mark = host.task.progress();
            if host.last_sent.as_ref() != Some(&mark) {
                broadcast(
                    &self.topics.by_key,
                    internal,
                    &ToKeys::Mark(mark.clone()),
                    out,
                );
                host.last_sent = Some(mark);
            }
        }
        for p in std::mem::take(&mut self.touched_keys) {
            let Some(key) = self.keys.get_mut(&p) else {
                continue;
            };
            let mut updates = Vec::new();
            key.task.advance(&mut updates);
            self.publish(p, updates, out);
        }
    }

    /// Alerts and repeats of key partition `p` as records of the alerts topic.
    fn publish(&mut self, p: u32, updates: Vec<AlertUpdate>, out: &mut Vec<Outgoing>) {
        let Some(key) = self.keys.get_mut(&p) else {
            return;
        };
        for update in updates {
            let revised: Vec<Alert> = match update {
                AlertUpdate::New(alert, _) => {
                    // Suppressed as a single service suppresses it: the
                    // dedup table still holds it, so its repeats are not
                    // published either (they find no open alert).
                    if self.allowlist.covering(&alert).is_some() {
                        self.counters.suppressed_by_allowlist += 1;
                        continue;
                    }
                    // A repeat comes within the dedup period of its alert's
                    // first time; older ones can no longer repeat.
                    let horizon = alert.first_seen.minus(self.dedup);
                    key.open.retain(|_, a| a.first_seen >= horizon);
                    key.open.insert(alert.id.clone(), (*alert).clone());
                    vec![*alert]
                }
                // A repeat, a beacon or an incident's new host: each open
                // alert it names, revised, is published again.
                revision => revision
                    .revises()
                    .into_iter()
                    .filter_map(|id| {
                        let open = key.open.get_mut(id)?;
                        revision.revise(open);
                        Some(open.clone())
                    })
                    .collect(),
            };
            for alert in revised {
                out.push(Outgoing {
                    topic: self.topics.alerts.clone(),
                    partition: None,
                    key: alert.id.clone().into_bytes(),
                    payload: serde_json::to_vec(&alert).unwrap_or_default(),
                });
            }
        }
    }

    /// Snapshots of the host and key partitions that changed since their
    /// last one, for the changelogs (one record per partition, compacted).
    pub fn snapshots(&mut self, out: &mut Vec<Outgoing>) {
        for (p, host) in &mut self.hosts {
            if std::mem::take(&mut host.dirty) {
                out.push(Outgoing {
                    topic: self.topics.host_state.clone(),
                    partition: Some(*p as i32),
                    key: SNAPSHOT_KEY.to_vec(),
                    payload: encode(&host.task.snapshot()),
                });
            }
        }
        for (p, key) in &mut self.keys {
            if std::mem::take(&mut key.dirty) {
                let snapshot = KeySnapshotRef {
                    task: key.task.snapshot(),
                    open: &key.open,
                };
                out.push(Outgoing {
                    topic: self.topics.key_state.clone(),
                    partition: Some(*p as i32),
                    key: SNAPSHOT_KEY.to_vec(),
                    payload: encode(&snapshot),
                });
            }
        }
    }

    /// What decoding the input has counted (records, events, malformed).
    pub fn ingest_stats(&self) -> &IngestStats {
        self.ingestor.stats()
    }

    /// Events the owned host partitions have processed.
    pub fn events(&self) -> u64 {
        self.hosts.values().map(|h| h.task.stats().events).sum()
    }

    /// Where every owned task stands, one line each, for a trace.
    pub fn describe(&self) -> Vec<String> {
        let sources = self.sources.iter().map(|(p, s)| {
            format!(
                "source {p}: last mark {:?}",
                s.last_sent
                    .as_ref()
                    .map(|m| (m.through.map(|t| t.to_string()), m.idle))
            )
        });
        let hosts = self.hosts.values().map(|h| h.task.describe());
        let keys = self.keys.values().map(|k| k.task.describe());
        sources.chain(hosts).chain(keys).collect()
    }
}

/// Every changelog record has this key: the topic keeps the latest per
/// partition.
pub const SNAPSHOT_KEY: &[u8] = b"state";

fn broadcast<T: Serialize>(topic: &str, partitions: u32, value: &T, out: &mut Vec<Outgoing>) {
    let payload = encode(value);
    for p in 0..partitions {
        out.push(Outgoing {
            topic: topic.to_owned(),
            partition: Some(p as i32),
            key: b"mark".to_vec(),
            payload: payload.clone(),
        });
    }
}
