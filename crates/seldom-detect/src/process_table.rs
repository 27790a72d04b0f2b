//! Per-host process tables: who started whom, for causality chains.
//!
//! Processes are keyed by the sensor's GUID where it gives one (Sysmon), and
//! otherwise by pid and start time (Security 4688): a pid lookup takes the
//! latest process with that pid started at or before the moment asked about,
//! since pids are reused. A Security 5156 connection (pid only) thus joins a
//! Sysmon or a 4688 process start of the same host.

use std::collections::BTreeMap;

use seldom_model::{HostName, Location, ProcessIdentity, ProcessStart, Timestamp};
use serde::{Deserialize, Serialize};

use crate::fast_map::FastMap;

/// What is remembered of one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub start: Timestamp,
    pub pid: Option<u32>,
    pub guid: Option<String>,
    pub image: Option<String>,
    pub original_file_name: Option<String>,
    pub command_line: Option<String>,
    pub user: Option<String>,
    pub parent_pid: Option<u32>,
    pub parent_guid: Option<String>,
    /// The parent as the child's start event described it, for parents that
    /// started before the telemetry did.
    pub parent_image: Option<String>,
    pub parent_command_line: Option<String>,
    /// Where the process start event came from.
    pub origin: Location,
    /// When the sensor reported the process's end (Sysmon 5).
    #[serde(default)]
    pub ended: Option<Timestamp>,
}

impl ProcessRecord {
    pub fn from_start(time: Timestamp, p: &ProcessStart, origin: &Location) -> Self {
        ProcessRecord {
            origin: origin.clone(),
            start: time,
            pid: p.process.pid,
            guid: p.process.guid.clone(),
            image: p.image.clone(),
            original_file_name: p.original_file_name.clone(),
            command_line: p.command_line.clone(),
            user: p.user.clone(),
            parent_pid: p.parent.pid,
            parent_guid: p.parent.guid.clone(),
            parent_image: p.parent_image.clone(),
            parent_command_line: p.parent_command_line.clone(),
            ended: None,
        }
    }
}

/// An ancestor in a causality chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ancestor {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub command_line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub original_file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub guid: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct HostTable {
    /// Records by insertion number; the maps below point into it.
    records: BTreeMap<u64, ProcessRecord>,
    by_guid: FastMap<String, u64>,
    /// Per pid, (start, record) in start order.
    by_pid: FastMap<u32, Vec<(Timestamp, u64)>>,
    next: u64,
}

impl HostTable {
    fn insert(&mut self, record: ProcessRecord, cap: usize) {
        if let Some(guid) = &record.guid
            && self.by_guid.contains_key(guid)
        {
            return; // a duplicate of a start already known (the same event read twice)
        }
        let id = self.next;
        self.next += 1;
        if let Some(guid) = &record.guid {
            self.by_guid.insert(guid.clone(), id);
        }
        if let Some(pid) = record.pid {
            let list = self.by_pid.entry(pid).or_default();
            let at = list.partition_point(|(t, _)| *t <= record.start);
            list.insert(at, (record.start, id));
        }
        self.records.insert(id, record);
        while self.records.len() > cap {
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((&id, _)) = self.records.first_key_value() {
            self.remove(id);
        }
    }

    fn remove(&mut self, id: u64) {
        let Some(record) = self.records.remove(&id) else {
            return;
        };
        if let Some(guid) = &record.guid {
            self.by_guid.remove(guid);
        }
        if let Some(pid) = record.pid
            && let Some(list) = self.by_pid.get_mut(&pid)
        {
            list.retain(|(_, r)| *r != id);
            if list.is_empty() {
                self.by_pid.remove(&pid);
            }
        }
    }

    fn find(&self, identity: &ProcessIdentity, at: Timestamp) -> Option<&ProcessRecord> {
        if let Some(guid) = &identity.guid
            && let Some(id) = self.by_guid.get(guid)
        {
            return self.records.get(id);
        }
        let pid = identity.pid?;
        // With a GUID the sensor would have told us; without one, the latest
        // process with this pid started at or before `at`.
        let list = self.by_pid.get(&pid)?;
        let upto = list.partition_point(|(t, _)| *t <= at);
        let (_, id) = list.get(upto.checked_sub(1)?)?;
        let record = self.records.get(id)?;
        // A GUID-keyed record is found by GUID only when both sides have one.
        match (&identity.guid, &record.guid) {
            (Some(a), Some(b)) if a != b => None,
            _ => Some(record),
        }
    }
}

impl HostTable {
    fn record_end(&mut self, identity: &ProcessIdentity, at: Timestamp) {
        let id = match (&identity.guid, identity.pid) {
            (Some(guid), _) => self.by_guid.get(guid).copied(),
            (None, Some(pid)) => self.by_pid.get(&pid).and_then(|list| {
                let upto = list.partition_point(|(t, _)| *t <= at);
                list.get(upto.checked_sub(1)?).map(|(_, id)| *id)
            }),
            (None, None) => None,
        };
        if let Some(record) = id.and_then(|id| self.records.get_mut(&id)) {
            record.ended = Some(at);
        }
    }

    /// Forgets processes that ended before `cutoff`; returns how many.
    fn expire(&mut self, cutoff: Timestamp) -> usize {
        let gone: Vec<u64> = self
            .records
            .iter()
            .filter(|(_, r)| r.ended.is_some_and(|end| end < cutoff))
            .map(|(id, _)| *id)
            .collect();
        for id in &gone {
            self.remove(*id);
        }
        gone.len()
    }
}

/// Process tables for every host.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ProcessTables {
    hosts: FastMap<HostName, HostTable>,
    max_per_host: usize,
}

impl ProcessTables {
    pub fn new(max_per_host: usize) -> Self {
        ProcessTables {
            hosts: FastMap::default(),
            max_per_host,
        }
    }

    pub fn record_start(
        &mut self,
        host: &HostName,
        time: Timestamp,
        start: &ProcessStart,
        origin: &Location,
    ) {
        let cap = self.max_per_host;
        let record = ProcessRecord::from_start(time, start, origin);
        match self.hosts.get_mut(host) {
            Some(table) => table.insert(record, cap),
            None => {
                let mut table = HostTable::default();
                table.insert(record, cap);
                self.hosts.insert(host.clone(), table);
            }
        }
    }

    /// Marks a process ended (Sysmon 5); it stays findable, for late
    /// connections and for its children's chains, until [`Self::expire`].
    pub fn record_end(&mut self, host: &HostName, time: Timestamp, process: &ProcessIdentity) {
        if let Some(table) = self.hosts.get_mut(host) {
            table.record_end(process, time);
        }
    }

    /// Forgets processes that ended before `cutoff`, and hosts left with
    /// none; returns how many processes went. Without it a long-running
    /// service would remember every process ever started.
    pub fn expire(&mut self, cutoff: Timestamp) -> usize {
        let gone = self.hosts.values_mut().map(|t| t.expire(cutoff)).sum();
        self.hosts.retain(|_, t| !t.records.is_empty());
        gone
    }

    pub fn find(
        &self,
        host: &HostName,
        identity: &ProcessIdentity,
        at: Timestamp,
    ) -> Option<&ProcessRecord> {
        self.hosts.get(host)?.find(identity, at)
    }

    /// Ancestors of `process`, nearest first, at most `depth`.
    pub fn chain(&self, host: &HostName, process: &ProcessRecord, depth: usize) -> Vec<Ancestor> {
        let mut chain = Vec::new();
        let mut current = process.clone();
        let mut seen = std::collections::HashSet::new();
        while chain.len() < depth {
            let parent_identity = ProcessIdentity {
                pid: current.parent_pid,
                guid: current.parent_guid.clone(),
            };
            if parent_identity.is_empty() {
                break;
            }
            match self.find(host, &parent_identity, current.start) {
                Some(parent) if seen.insert((parent.start, parent.pid, parent.guid.clone())) => {
                    chain.push(Ancestor {
                        image: parent
                            .image
                            .clone()
                            .or_else(|| current.parent_image.clone()),
                        command_line: parent
                            .command_line
                            .clone()
                            .or_else(|| current.parent_command_line.clone()),
                        original_file_name: parent.original_file_name.clone(),
                        pid: parent.pid,
                        guid: parent.guid.clone(),
                    });
                    current = parent.clone();
                }
                _ => {
                    // The parent started before the telemetry: what the child's
                    // start event said of it is all there is.
                    if current.parent_image.is_some() || current.parent_command_line.is_some() {
                        chain.push(Ancestor {
                            image: current.parent_image.clone(),
                            command_line: current.parent_command_line.clone(),
                            original_file_name: None,
                            pid: current.parent_pid,
                            guid: current.parent_guid.clone(),
                        });
                    }
                    break;
                }
            }
        }
        chain
    }

    pub fn process_count(&self) -> usize {
        self.hosts.values().map(|h| h.records.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seldom_model::HostNaming;

    fn host() -> HostName {
        HostName::normalize("ws1", HostNaming::Short).unwrap()
    }

    fn start(
        pid: u32,
        guid: Option<&str>,
        image: &str,
        parent: Option<u32>,
        parent_guid: Option<&str>,
    ) -> ProcessStart {
        ProcessStart {
            process: ProcessIdentity {
                pid: Some(pid),
                guid: guid.map(str::to_owned),
            },
            image: Some(image.to_owned()),
            parent: ProcessIdentity {
                pid: parent,
                guid: parent_guid.map(str::to_owned),
            },
            parent_image: Some(format!("parent-of-{image}")),
            ..ProcessStart::default()
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_micros(1_600_000_000_000_000 + s * 1_000_000)
    }

    impl ProcessTables {
        fn record_start_at(&mut self, host: &HostName, time: Timestamp, start: &ProcessStart) {
            self.record_start(
                host,
                time,
                start,
                &Location::file(std::sync::Arc::from("test")),
            );
        }
    }

    #[test]
    fn ended_processes_are_forgotten_after_the_cutoff_and_running_ones_kept() {
        let mut tables = ProcessTables::new(100);
        let h = host();
        tables.record_start_at(&h, t(0), &start(10, Some("{a}"), "a.exe", None, None));
        tables.record_start_at(&h, t(1), &start(11, None, "b.exe", None, None));
        tables.record_start_at(&h, t(2), &start(12, Some("{c}"), "c.exe", None, None));
        let by_guid = ProcessIdentity {
            pid: Some(10),
            guid: Some("{a}".into()),
        };
        let by_pid = ProcessIdentity {
            pid: Some(11),
            guid: None,
        };
        tables.record_end(&h, t(5), &by_guid);
        tables.record_end(&h, t(6), &by_pid);
        assert_eq!(tables.expire(t(5)), 0, "ended at the cutoff: kept");
        assert!(tables.find(&h, &by_guid, t(7)).is_some());
        assert_eq!(tables.expire(t(100)), 2);
        assert!(tables.find(&h, &by_guid, t(7)).is_none());
        assert!(tables.find(&h, &by_pid, t(7)).is_none());
        let running = ProcessIdentity {
            pid: Some(12),
            guid: Some("{c}".into()),
        };
        assert!(
            tables.find(&h, &running, t(7)).is_some(),
            "never ended: kept"
        );
    }

    #[test]
    fn chain_by_guid_then_stub_for_unknown_root() {
        let mut tables = ProcessTables::new(100);
        tables.record_start_at(
            &host(),
            t(1),
            &start(10, Some("a"), "explorer.exe", Some(1), Some("root")),
        );
        tables.record_start_at(
            &host(),
            t(2),
            &start(20, Some("b"), "winword.exe", Some(10), Some("a")),
        );
        tables.record_start_at(
            &host(),
            t(3),
            &start(30, Some("c"), "mshta.exe", Some(20), Some("b")),
        );
        let me = tables
            .find(
                &host(),
                &ProcessIdentity {
                    pid: Some(30),
                    guid: Some("c".into()),
                },
                t(4),
            )
            .unwrap()
            .clone();
        let chain = tables.chain(&host(), &me, 8);
        let images: Vec<_> = chain.iter().map(|a| a.image.as_deref().unwrap()).collect();
        assert_eq!(
            images,
            ["winword.exe", "explorer.exe", "parent-of-explorer.exe"]
        );
        assert_eq!(tables.chain(&host(), &me, 1).len(), 1);
    }

    #[test]
    fn pid_lookup_takes_the_latest_start_before_the_moment() {
        let mut tables = ProcessTables::new(100);
        tables.record_start_at(&host(), t(1), &start(7, None, "old.exe", None, None));
        tables.record_start_at(&host(), t(100), &start(7, None, "new.exe", None, None));
        let id = ProcessIdentity {
            pid: Some(7),
            guid: None,
        };
        assert_eq!(
            tables.find(&host(), &id, t(50)).unwrap().image.as_deref(),
            Some("old.exe")
        );
        assert_eq!(
            tables.find(&host(), &id, t(150)).unwrap().image.as_deref(),
            Some("new.exe")
        );
        assert!(tables.find(&host(), &id, t(0)).is_none());
    }

    #[test]
    fn tables_stay_bounded() {
        let mut tables = ProcessTables::new(3);
        for pid in 0..10 {
            tables.record_start_at(
                &host(),
                t(pid.into()),
                &start(pid, None, "x.exe", None, None),
            );
        }
        assert_eq!(tables.process_count(), 3);
        assert!(
            tables
                .find(
                    &host(),
                    &ProcessIdentity {
                        pid: Some(0),
                        guid: None
                    },
                    t(20)
                )
                .is_none()
        );
        assert!(
            tables
                .find(
                    &host(),
                    &ProcessIdentity {
                        pid: Some(9),
                        guid: None
                    },
                    t(20)
                )
                .is_some()
        );
    }
}
