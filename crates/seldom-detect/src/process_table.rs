//! Per-host process tables: who started whom, for causality chains.
//!
//! Processes are keyed by the sensor's GUID where it gives one (Sysmon), and
//! otherwise by pid and start time (Security 4688): a pid lookup takes the
//! latest process with that pid started at or before the moment asked about,
//! since pids are reused. A Security 5156 connection (pid only) thus joins a
//! Sysmon or a 4688 process start of the same host.
//!
//! The tables are most of the detector's memory on an organization whose
//! sensors do not report process ends, so a record holds its strings as
//! shared `Arc<str>`: images, users and command lines repeat across
//! processes and hosts, and each distinct one is kept once ([`Strings`]);
//! the GUID index shares the record's own GUID. Cloning a record (every
//! connection carries its process) copies pointers, not text.

use std::collections::BTreeMap;
use std::sync::Arc;

use seldom_model::{HostName, Location, ProcessIdentity, ProcessStart, Timestamp};
use serde::{Deserialize, Serialize};

use crate::fast_map::{FastMap, FastSet};

/// What is remembered of one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub start: Timestamp,
    pub pid: Option<u32>,
    pub guid: Option<Arc<str>>,
    pub image: Option<Arc<str>>,
    pub original_file_name: Option<Arc<str>>,
    pub command_line: Option<Arc<str>>,
    pub user: Option<Arc<str>>,
    pub parent_pid: Option<u32>,
    pub parent_guid: Option<Arc<str>>,
    /// The parent as the child's start event described it, for parents that
    /// started before the telemetry did.
    pub parent_image: Option<Arc<str>>,
    pub parent_command_line: Option<Arc<str>>,
    /// Where the process start event came from.
    pub origin: Location,
    /// When the sensor reported the process's end (Sysmon 5).
    #[serde(default)]
    pub ended: Option<Timestamp>,
}

impl ProcessRecord {
    /// The record of a process start, its strings taken from `strings`.
    pub fn from_start(
        time: Timestamp,
        p: &ProcessStart,
        origin: &Location,
        strings: &mut Strings,
    ) -> Self {
        // GUIDs are unique to their process: shared by the index, not kept
        // among the repeated strings.
        let guid = |g: &Option<String>| g.as_deref().map(Arc::from);
        ProcessRecord {
            origin: origin.clone(),
            start: time,
            pid: p.process.pid,
            guid: guid(&p.process.guid),
            image: strings.get(&p.image),
            original_file_name: strings.get(&p.original_file_name),
            command_line: strings.get(&p.command_line),
            user: strings.get(&p.user),
            parent_pid: p.parent.pid,
            parent_guid: guid(&p.parent.guid),
            parent_image: strings.get(&p.parent_image),
            parent_command_line: strings.get(&p.parent_command_line),
            ended: None,
        }
    }

    /// Its strings taken from `strings` (a record restored from a saved
    /// state holds copies of its own).
    fn share(&mut self, strings: &mut Strings) {
        for text in [
            &mut self.image,
            &mut self.original_file_name,
            &mut self.command_line,
            &mut self.user,
            &mut self.parent_image,
            &mut self.parent_command_line,
        ]
        .into_iter()
        .flatten()
        {
            *text = strings.share(text);
        }
    }
}

/// Each distinct string of the tables, kept once. A string no record holds
/// any more is dropped at the next [`ProcessTables::expire`].
#[derive(Debug, Default, Clone)]
pub struct Strings(FastSet<Arc<str>>);

impl Strings {
    fn get(&mut self, text: &Option<String>) -> Option<Arc<str>> {
        let text = text.as_deref()?;
        Some(match self.0.get(text) {
            Some(shared) => shared.clone(),
            None => {
                let shared: Arc<str> = Arc::from(text);
                self.0.insert(shared.clone());
                shared
            }
        })
    }

    fn share(&mut self, text: &Arc<str>) -> Arc<str> {
        match self.0.get(text) {
            Some(shared) => shared.clone(),
            None => {
                self.0.insert(text.clone());
                text.clone()
            }
        }
    }

    /// Drops the strings of a record leaving the tables that no other
    /// record holds.
    fn release(&mut self, record: ProcessRecord) {
        for text in [
            record.image,
            record.original_file_name,
            record.command_line,
            record.user,
            record.parent_image,
            record.parent_command_line,
        ]
        .into_iter()
        .flatten()
        {
            // Held here and by the set only.
            if Arc::strong_count(&text) == 2 {
                self.0.remove(&text);
            }
        }
    }

    /// Drops the strings only this set still holds.
    fn sweep(&mut self) {
        self.0.retain(|s| Arc::strong_count(s) > 1);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An ancestor in a causality chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ancestor {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub command_line: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub original_file_name: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub guid: Option<Arc<str>>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct HostTable {
    /// Records by insertion number; the maps below point into it.
    records: BTreeMap<u64, ProcessRecord>,
    by_guid: FastMap<Arc<str>, u64>,
    /// Per pid, (start, record) in start order.
    by_pid: FastMap<u32, Vec<(Timestamp, u64)>>,
    next: u64,
}

impl HostTable {
    /// Takes a record; returns the records that left the table with it
    /// (itself, when it repeats a known start; the oldest past the cap).
    fn insert(&mut self, mut record: ProcessRecord, cap: usize) -> Vec<ProcessRecord> {
        if let Some(guid) = &record.guid
            && self.by_guid.contains_key(&**guid)
        {
            // A duplicate of a start already known (the same event read twice).
            return vec![record];
        }
        // A known parent's GUID is shared with its record, not copied.
        if let Some(parent) = &mut record.parent_guid
            && let Some((shared, _)) = self.by_guid.get_key_value(&**parent)
        {
            *parent = shared.clone();
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
        let mut evicted = Vec::new();
        while self.records.len() > cap {
            match self.records.first_key_value().map(|(id, _)| *id) {
                Some(oldest) => evicted.extend(self.remove(oldest)),
                None => break,
            }
        }
        evicted
    }

    fn remove(&mut self, id: u64) -> Option<ProcessRecord> {
        let record = self.records.remove(&id)?;
        if let Some(guid) = &record.guid {
            self.by_guid.remove(&**guid);
        }
        if let Some(pid) = record.pid
            && let Some(list) = self.by_pid.get_mut(&pid)
        {
            list.retain(|(_, r)| *r != id);
            if list.is_empty() {
                self.by_pid.remove(&pid);
            }
        }
        Some(record)
    }

    fn find(&self, identity: &ProcessIdentity, at: Timestamp) -> Option<&ProcessRecord> {
        if let Some(guid) = &identity.guid
            && let Some(id) = self.by_guid.get(guid.as_str())
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
            (Some(a), Some(b)) if a.as_str() != &**b => None,
            _ => Some(record),
        }
    }
}

impl HostTable {
    fn record_end(&mut self, identity: &ProcessIdentity, at: Timestamp) {
        let id = match (&identity.guid, identity.pid) {
            (Some(guid), _) => self.by_guid.get(guid.as_str()).copied(),
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
    /// Rebuilt from the records on restore ([`Self::share_strings`]).
    #[serde(skip)]
    strings: Strings,
}

impl ProcessTables {
    pub fn new(max_per_host: usize) -> Self {
        ProcessTables {
            hosts: FastMap::default(),
            max_per_host,
            strings: Strings::default(),
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
        let record = ProcessRecord::from_start(time, start, origin, &mut self.strings);
        let gone = match self.hosts.get_mut(host) {
            Some(table) => table.insert(record, cap),
            None => {
                let mut table = HostTable::default();
                let gone = table.insert(record, cap);
                self.hosts.insert(host.clone(), table);
                gone
            }
        };
        // A host at its cap sheds a process per start: its strings go with
        // it at once, or a day of unique command lines would stay.
        for record in gone {
            self.strings.release(record);
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
        self.strings.sweep();
        gone
    }

    /// Makes the records of a restored state share their strings again (a
    /// saved state holds each record's own copies).
    pub fn share_strings(&mut self) {
        let strings = &mut self.strings;
        for table in self.hosts.values_mut() {
            // The GUID index shares each record's GUID, and a known parent's
            // GUID is its record's, as when they were built live.
            let mut by_guid = FastMap::default();
            for (id, record) in &table.records {
                if let Some(guid) = &record.guid {
                    by_guid.insert(guid.clone(), *id);
                }
            }
            for record in table.records.values_mut() {
                record.share(strings);
                if let Some(parent) = &mut record.parent_guid
                    && let Some((shared, _)) = by_guid.get_key_value(&**parent)
                {
                    *parent = shared.clone();
                }
            }
            table.by_guid = by_guid;
        }
    }

    /// The distinct strings the records share.
    pub fn strings(&self) -> &Strings {
        &self.strings
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
                guid: current.parent_guid.as_deref().map(str::to_owned),
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
    fn repeated_strings_are_kept_once_and_dropped_when_no_record_holds_them() {
        let mut tables = ProcessTables::new(100);
        let h = host();
        let other = HostName::normalize("ws2", HostNaming::Short).unwrap();
        tables.record_start_at(&h, t(0), &start(10, Some("{a}"), "a.exe", None, None));
        tables.record_start_at(&other, t(1), &start(10, Some("{b}"), "a.exe", None, None));
        tables.record_start_at(
            &h,
            t(2),
            &start(11, Some("{c}"), "c.exe", Some(10), Some("{a}")),
        );
        let find = |tables: &ProcessTables, host: &HostName, guid: &str| {
            tables
                .find(
                    host,
                    &ProcessIdentity {
                        pid: None,
                        guid: Some(guid.into()),
                    },
                    t(3),
                )
                .unwrap()
                .clone()
        };
        let (a, b, c) = (
            find(&tables, &h, "{a}"),
            find(&tables, &other, "{b}"),
            find(&tables, &h, "{c}"),
        );
        let shared = |x: &Option<Arc<str>>, y: &Option<Arc<str>>| {
            Arc::ptr_eq(x.as_ref().unwrap(), y.as_ref().unwrap())
        };
        assert!(shared(&a.image, &b.image), "one a.exe for both hosts");
        assert!(
            shared(&c.parent_guid, &a.guid),
            "the parent's GUID is its record's"
        );
        // "a.exe", "parent-of-a.exe", "c.exe", "parent-of-c.exe"
        assert_eq!(tables.strings().len(), 4);

        // Restored from a saved state, the records share their strings again.
        let saved = serde_json::to_string(&tables).unwrap();
        let mut restored: ProcessTables = serde_json::from_str(&saved).unwrap();
        assert!(restored.strings().is_empty());
        restored.share_strings();
        let (a2, b2) = (find(&restored, &h, "{a}"), find(&restored, &other, "{b}"));
        assert!(shared(&a2.image, &b2.image));
        assert_eq!(restored.strings().len(), 4);

        // c.exe ends and expires: its strings go; a.exe's stay.
        let c_id = ProcessIdentity {
            pid: Some(11),
            guid: Some("{c}".into()),
        };
        drop((a, b, c, a2, b2));
        restored.record_end(&h, t(4), &c_id);
        assert_eq!(restored.expire(t(10)), 1);
        assert_eq!(restored.strings().len(), 2, "a.exe and its parent's image");
    }

    #[test]
    fn a_process_evicted_past_the_cap_takes_its_unshared_strings_with_it() {
        let mut tables = ProcessTables::new(2);
        let h = host();
        for (i, image) in ["one.exe", "two.exe", "three.exe"].into_iter().enumerate() {
            let guid = format!("{{{i}}}");
            let mut start = start(i as u32, Some(&guid), image, None, None);
            start.parent_image = Some("explorer.exe".into());
            tables.record_start_at(&h, t(i as i64), &start);
        }
        // one.exe left at the cap; explorer.exe is still held by the others.
        let mut left: Vec<&str> = tables.strings().0.iter().map(|s| &**s).collect();
        left.sort_unstable();
        assert_eq!(left, ["explorer.exe", "three.exe", "two.exe"]);
        // A repeated start is not kept, nor are strings only it brought.
        let mut again = start(2, Some("{2}"), "three.exe", None, None);
        again.command_line = Some("three.exe --only-here".into());
        tables.record_start_at(&h, t(5), &again);
        assert_eq!(tables.strings().len(), 3);
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
