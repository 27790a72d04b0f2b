//! The detector: events in (any order within the reorder window), alerts out.
//!
//! Events wait in a reorder buffer until the watermark (the organization's
//! clock of [`crate::clock`], less the reorder window) passes them, and are
//! then processed in event time order, so results do not depend on arrival
//! order inside the window. Upkeep (the window sliding, dedup and process
//! expiry) follows the organization's clock, never one record's time.
//! Each connection is judged against the baseline at its own time; a rare one
//! whose process is not yet known waits (bounded) for its process start until
//! the window has passed, then is classified with what is known.

use seldom_model::{
    Event, EventKind, HostName, Micros, NetworkConnection, Platform, ProcessIdentity, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertDestination, AlertProcess, PrevalenceEvidence};
use crate::baseline::{Baseline, HostId, HostInterner, Prevalence};
use crate::catalog::{Catalog, MatchSubject, ProcessView};
use crate::clock::OrgClock;
use crate::config::DetectConfig;
use crate::dedup::{DedupKey, DedupTable};
use crate::destination::{DestinationClassifier, DestinationKey, registered_domain};
use crate::dns::DnsAttribution;
use crate::fast_map::FastMap;
use crate::image::image_name;
use crate::pending::Pending;
use crate::process_table::{Ancestor, ProcessRecord, ProcessTables};
use crate::reorder::{ReorderBuffer, kind_rank};
use crate::report::{AlertUpdate, DetectStats};
use crate::spans::Spans;

/// A rare connection waiting for its process's details.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Candidate {
    event: Event,
    forward_name: Option<String>,
    key: DestinationKey,
    prevalence: Prevalence,
    deadline: Timestamp,
}

/// Everything the detector remembers; saved and restored as a whole. Built
/// complete from a validated configuration ([`DetectorState::new`]): no part
/// of it is filled in later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectorState {
    /// Events waiting for the clock. Not part of the encoded state: a
    /// service stores it incrementally ([`Detector::reorder_delta`]), and a
    /// scan flushes it before saving.
    #[serde(skip)]
    pub(crate) reorder: ReorderBuffer,
    pub(crate) seq: u64,
    /// The latest event time seen, shown to an analyst; never decides anything.
    pub(crate) max_seen: Option<Timestamp>,
    pub(crate) released_upto: Option<Timestamp>,
    pub(crate) clock: OrgClock,
    pub(crate) hosts: HostInterner,
    pub(crate) baseline: Baseline,
    pub(crate) activity: FastMap<HostId, i64>,
    pub(crate) processes: ProcessTables,
    pub(crate) dns: DnsAttribution,
    pub(crate) pending: Pending<Candidate>,
    pub(crate) dedup: DedupTable,
    pub(crate) current_day: Option<i64>,
    /// Addresses endpoint sensors reported as a host's own (source of its
    /// connections): a network sensor's event from one is that host's.
    pub(crate) address_hosts: FastMap<std::net::IpAddr, HostName>,
    pub(crate) stats: DetectStats,
}

impl DetectorState {
    /// The memory of a detector that has seen nothing yet.
    pub fn new(config: &DetectConfig) -> DetectorState {
        DetectorState {
            reorder: ReorderBuffer::default(),
            seq: 0,
            max_seen: None,
            released_upto: None,
            clock: OrgClock::default(),
            hosts: HostInterner::default(),
            baseline: Baseline::new(config.training_days, config.rare_hosts as usize + 1),
            activity: FastMap::default(),
            processes: ProcessTables::new(config.max_processes_per_host),
            dns: DnsAttribution::new(Micros::of(config.dns_window).0),
            pending: Pending::default(),
            dedup: DedupTable::default(),
            current_day: None,
            address_hosts: FastMap::default(),
            stats: DetectStats::default(),
        }
    }
}

#[derive(Debug)]
pub struct Detector {
    pub(crate) config: DetectConfig,
    classifier: DestinationClassifier,
    catalog: Catalog,
    pub(crate) spans: Spans,
    pub(crate) state: DetectorState,
}

impl Detector {
    pub(crate) fn new(
        config: DetectConfig,
        classifier: DestinationClassifier,
        catalog: Catalog,
    ) -> Self {
        Detector {
            state: DetectorState::new(&config),
            spans: Spans::of(&config),
            config,
            classifier,
            catalog,
        }
    }

    pub fn config(&self) -> &DetectConfig {
        &self.config
    }

    pub fn stats(&self) -> &DetectStats {
        &self.state.stats
    }

    pub fn state(&self) -> &DetectorState {
        &self.state
    }

    /// The latest event time seen (one host's, possibly an outlier's): for
    /// display only.
    pub fn latest_event_time(&self) -> Option<Timestamp> {
        self.state.max_seen
    }

    /// The organization's clock: the latest time `clock_quorum` hosts have
    /// reached. Retention and expiry follow this, never one record.
    pub fn clock(&self) -> Option<Timestamp> {
        self.state.clock.now()
    }

    /// Destination keys the baseline holds.
    pub fn baseline_keys(&self) -> usize {
        self.state.baseline.key_count()
    }

    /// Continues from a saved state (the caller checked it was written under
    /// the same configuration).
    pub fn restore(&mut self, state: DetectorState) {
        self.state = state;
    }

    /// Takes one event; alerts whose time has come are pushed to `out`.
    pub fn push(&mut self, event: Event, out: &mut Vec<AlertUpdate>) {
        if self
            .state
            .released_upto
            .is_some_and(|upto| event.time < upto)
        {
            // Too late to be put in order: process it now.
            self.state.stats.late_events += 1;
            self.process(event, out);
            return;
        }
        self.state.max_seen = Some(
            self.state
                .max_seen
                .map_or(event.time, |m| m.max(event.time)),
        );
        let rank = kind_rank(&event.kind);
        let seq = self.state.seq;
        self.state.seq += 1;
        let host_hash = xxhash_rust::xxh3::xxh3_64(event.host.as_str().as_bytes());
        self.state
            .clock
            .observe(host_hash, event.time, self.config.clock_quorum as usize);
        self.state
            .reorder
            .insert((event.time, rank, host_hash, seq), event);
        // Past its bounds the buffer gives up its earliest events early: a
        // flood (or one host far ahead) costs ordering, never memory.
        while self.state.reorder.len() > self.config.max_buffered_events
            || self.state.reorder.bytes() > self.config.max_buffered_bytes
        {
            let Some(event) = self.state.reorder.pop_first_upto(None) else {
                break;
            };
            self.state.stats.reorder_overflow += 1;
            self.state.released_upto = Some(event.time);
            self.process(event, out);
        }
        if let Some(now) = self.state.clock.now() {
            self.release_upto(now.minus(self.spans.reorder), out);
        }
    }

    /// Processes everything still buffered or pending (end of a scan). What
    /// is ahead of the organization's clock (the last minutes of the latest
    /// host, or one host's far-future records) is processed in time order
    /// without moving the clock or the late-event mark, so that a `--state`
    /// run that follows is not made late by it.
    pub fn flush(&mut self, out: &mut Vec<AlertUpdate>) {
        let now = self.state.clock.now();
        if let Some(now) = now {
            self.release_upto(now, out);
        }
        let horizon = now.map(|n| n.plus(self.spans.future));
        while let Some(event) = self.state.reorder.pop_first_upto(None) {
            if horizon.is_some_and(|h| event.time > h) {
                self.state.stats.future_events += 1;
            }
            self.process(event, out);
        }
        while let Some(candidate) = self.state.pending.pop_due(None) {
            self.emit(candidate, out);
        }
    }

    pub(crate) fn release_upto(&mut self, watermark: Timestamp, out: &mut Vec<AlertUpdate>) {
        while let Some(event) = self.state.reorder.pop_first_upto(Some(watermark)) {
            self.state.released_upto = Some(event.time);
            self.process(event, out);
        }
    }

    fn process(&mut self, event: Event, out: &mut Vec<AlertUpdate>) {
        self.state.stats.events += 1;
        let host_id = self.state.hosts.intern(&event.host);
        let clock = self.state.clock.now();
        // Upkeep follows the organization's clock: a record ahead of it (one
        // host's future) is processed at its own time but expires nothing.
        let upkeep_time = clock.map_or(event.time, |now| event.time.min(now));
        let day = upkeep_time.day();
        let last = self.state.activity.entry(host_id).or_insert(day);
        *last = (*last).max(day);
        self.state
            .clock
            .note_platform(event.platform, event.time, self.spans.training.0);
        if self.state.current_day.is_none_or(|d| day > d) {
            self.state.current_day = Some(day);
            self.maintain(upkeep_time);
        }
        match &event.kind {
            EventKind::ProcessStart(start) => {
                self.state
                    .processes
                    .record_start(&event.host, event.time, start, &event.origin);
                self.resolve_pending_for(&event.host, out);
            }
            EventKind::DnsQuery(query) => {
                self.state.dns.record(
                    &event.host,
                    event.time,
                    &query.query_name,
                    &query.answers,
                    &query.process,
                );
            }
            EventKind::ProcessEnd(end) => {
                self.state
                    .processes
                    .record_end(&event.host, event.time, &end.process);
            }
            EventKind::NetworkConnection(_) => {}
        }
        if matches!(event.kind, EventKind::NetworkConnection(_)) {
            self.judge(event, host_id, out);
        }
        self.release_expired_pending(out);
    }

    /// Daily upkeep in event time: the window slides, old state goes.
    fn maintain(&mut self, now: Timestamp) {
        let today = now.day();
        let window_start = today - i64::from(self.config.training_days) + 1;
        self.state.baseline.expire(today);
        self.state.dns.expire(now);
        self.state.stats.expired_processes +=
            self.state
                .processes
                .expire(now.minus(self.spans.process_retention)) as u64;
        self.state.activity.retain(|_, day| *day >= window_start);
        self.state.dedup.expire(now, self.spans.dedup.0);
    }

    pub(crate) fn activated(&self, platform: Platform, at: Timestamp) -> bool {
        self.state
            .clock
            .platform_start(platform)
            .is_some_and(|first| at.since(first) >= self.spans.activation)
    }

    fn judge(&mut self, mut event: Event, host_id: HostId, out: &mut Vec<AlertUpdate>) {
        // Read before anything looks at the address: the IPv4 address an old
        // Sysmon wrote as IPv6 text is the one keyed, shown and attributed.
        if let EventKind::NetworkConnection(c) = &mut event.kind
            && let Some(v4) = crate::destination::unmangle_ipv6(c.destination_ip)
        {
            c.destination_ip = std::net::IpAddr::V4(v4);
            self.state.stats.mangled_ipv6 += 1;
        }
        let EventKind::NetworkConnection(c) = &event.kind else {
            return;
        };
        let stats = &mut self.state.stats;
        stats.connections += 1;
        if c.initiated == Some(false) {
            stats.inbound += 1;
            return;
        }
        if self.classifier.is_internal_ip(c.destination_ip) {
            stats.internal += 1;
            return;
        }
        if event.platform == Platform::Network {
            // A network sensor's view of a host that an endpoint sensor also
            // reports: the endpoint's event, with its process, is the one judged.
            if self
                .state
                .address_hosts
                .contains_key(&c.source_ip.unwrap_or(c.destination_ip))
            {
                stats.covered_by_endpoint += 1;
                return;
            }
        } else if let Some(source) = c
            .source_ip
            .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        {
            // Checked first: a host's address rarely changes, and the insert
            // would copy its name on every connection.
            if self.state.address_hosts.get(&source) != Some(&event.host) {
                self.state.address_hosts.insert(source, event.host.clone());
            }
        }
        let forward_name = self.forward_name(&event, c);
        if forward_name
            .as_deref()
            .is_some_and(|n| self.classifier.is_internal_name(n))
        {
            self.state.stats.internal += 1;
            return;
        }
        let key = self
            .classifier
            .key(c.destination_ip, forward_name.as_deref());
        let baseline = &mut self.state.baseline;
        let prevalence = baseline.prevalence(&key, host_id, event.time);
        baseline.record(&key, host_id, event.time);
        if baseline.key_count() > self.config.max_keys {
            self.state.stats.evicted_keys +=
                baseline.evict_to(self.config.max_keys * 9 / 10) as u64;
        }
        if prevalence.other_hosts_in_window >= self.config.rare_hosts as usize {
            return;
        }
        if !self.activated(event.platform, event.time) {
            self.state.stats.rare_while_training += 1;
            return;
        }
        self.state.stats.rare += 1;
        let deadline = event.time.plus(self.spans.reorder);
        // A network sensor's connection waits out the reorder window like one
        // whose process is unknown: an endpoint sensor may yet claim its address.
        let known = event.platform != Platform::Network
            && (c.process.is_empty() || self.find_process(&event, c).is_some());
        let candidate = Candidate {
            event,
            forward_name,
            key,
            prevalence,
            deadline,
        };
        if known {
            self.emit(candidate, out);
        } else {
            if self.state.pending.len() >= self.config.max_pending {
                self.state.stats.pending_overflow += 1;
                if let Some(earliest) = self.state.pending.pop_due(None) {
                    self.emit(earliest, out);
                }
            }
            let host = candidate.event.host.clone();
            self.state.pending.push(&host, deadline, candidate);
        }
    }

    /// The name the host asked DNS for: from its own sensor's DNS events, else
    /// from a network sensor's answers to its address (Zeek `dns.log`).
    fn forward_name(&self, event: &Event, c: &NetworkConnection) -> Option<String> {
        let dns = &self.state.dns;
        dns.forward_name(&event.host, c.destination_ip, event.time, &c.process)
            .or_else(|| {
                let client = HostName::normalize(
                    &c.source_ip?.to_string(),
                    seldom_model::HostNaming::Short,
                )?;
                dns.forward_name(
                    &client,
                    c.destination_ip,
                    event.time,
                    &ProcessIdentity::default(),
                )
            })
            .map(str::to_owned)
    }

    fn find_process(&self, event: &Event, c: &NetworkConnection) -> Option<&ProcessRecord> {
        self.state
            .processes
            .find(&event.host, &c.process, event.time)
    }

    fn resolve_pending_for(&mut self, host: &HostName, out: &mut Vec<AlertUpdate>) {
        let processes = &self.state.processes;
        let ready = self.state.pending.take_ready(host, |candidate| {
            matches!(&candidate.event.kind, EventKind::NetworkConnection(c)
                if processes.find(host, &c.process, candidate.deadline).is_some())
        });
        for candidate in ready {
            self.emit(candidate, out);
        }
    }

    fn release_expired_pending(&mut self, out: &mut Vec<AlertUpdate>) {
        let Some(now) = self.state.released_upto else {
            return;
        };
        while let Some(candidate) = self.state.pending.pop_due(Some(now)) {
            self.emit(candidate, out);
        }
    }

    pub(crate) fn emit(&mut self, candidate: Candidate, out: &mut Vec<AlertUpdate>) {
        let Candidate {
            event,
            forward_name,
            key,
            prevalence,
            deadline,
        } = candidate;
        let EventKind::NetworkConnection(c) = &event.kind else {
            return;
        };
        if event.platform == Platform::Network
            && c.source_ip
                .is_some_and(|ip| self.state.address_hosts.contains_key(&ip))
        {
            self.state.stats.covered_by_endpoint += 1;
            return;
        }
        let tables = &self.state.processes;
        // The process as of the connection; failing that, as of the deadline,
        // since its start may be stamped after the connection. (With a pid
        // only, the first lookup keeps a pid reused later from being taken.)
        let record = tables
            .find(&event.host, &c.process, event.time)
            .or_else(|| tables.find(&event.host, &c.process, deadline))
            .cloned();
        let depth = self.config.chain_depth as usize;
        let chain: Vec<Ancestor> = match &record {
            Some(r) => tables.chain(&event.host, r, depth),
            None => Vec::new(),
        };
        let image = record
            .as_ref()
            .and_then(|r| r.image.clone())
            .or_else(|| c.image.clone());
        let original = record.as_ref().and_then(|r| r.original_file_name.clone());
        let command_line = record.as_ref().and_then(|r| r.command_line.clone());
        let subject = MatchSubject {
            platform: event.platform,
            process: ProcessView {
                image: image.as_deref(),
                original_file_name: original.as_deref(),
                command_line: command_line.as_deref(),
            },
            ancestors: chain
                .iter()
                .map(|a| ProcessView {
                    image: a.image.as_deref(),
                    original_file_name: a.original_file_name.as_deref(),
                    command_line: a.command_line.as_deref(),
                })
                .collect(),
        };
        let Some(matched) = self.catalog.classify(&subject) else {
            return;
        };
        let variation = matched.variation;
        let image_key = image.as_deref().and_then(image_name).unwrap_or_default();
        let dedup_key = DedupKey {
            variation: variation.id.clone(),
            host: event.host.clone(),
            image: image_key,
            destination: key.clone(),
        };
        if let Some(repeat) = self
            .state
            .dedup
            .repeat(&dedup_key, event.time, self.spans.dedup.0)
        {
            self.state.stats.repeats += 1;
            out.push(repeat);
            return;
        }
        let id = dedup_key.alert_id(event.time);
        let because = self.catalog.explain(variation, &subject);
        let window_start = event.time.day() - i64::from(self.config.training_days) + 1;
        let active_hosts = self
            .state
            .activity
            .values()
            .filter(|d| **d >= window_start)
            .count();
        let first_seen_in_org = prevalence.first_seen_in_org.unwrap_or(event.time);
        let mut source_events = vec![event.origin.clone()];
        source_events.extend(record.as_ref().map(|r| r.origin.clone()));
        let mut alert = Alert {
            id: id.clone(),
            variation: variation.id.clone(),
            name: variation.name.clone(),
            severity: variation.severity,
            attack: variation.attack.clone(),
            first_seen: event.time,
            last_seen: event.time,
            count: 1,
            host: event.host.to_string(),
            platform: event.platform,
            user: record
                .as_ref()
                .and_then(|r| r.user.clone())
                .or_else(|| c.user.clone()),
            process: AlertProcess {
                image: image.clone(),
                command_line: command_line.clone(),
                pid: c.process.pid,
                guid: c.process.guid.clone(),
                original_file_name: original.clone(),
                start: record.as_ref().map(|r| r.start),
            },
            chain: chain.clone(),
            destination: AlertDestination {
                ip: c.destination_ip,
                port: c.destination_port,
                protocol: c.protocol.clone(),
                hostname: c.destination_hostname.clone(),
                registered_domain: forward_name.as_deref().and_then(registered_domain),
                forward_name,
                key,
            },
            prevalence: PrevalenceEvidence {
                hosts_in_window: prevalence.other_hosts_in_window,
                active_hosts,
                window_days: self.config.training_days,
                rare_threshold: self.config.rare_hosts,
                first_seen_in_org,
            },
            matched_because: because,
            also_matched: matched.also_matched.iter().map(|v| v.id.clone()).collect(),
            explanation: String::new(),
            description: variation.description.clone(),
            attacker_goals: variation.attacker_goals.clone(),
            investigative_actions: variation.investigative_actions.clone(),
            source_events,
        };
        alert.explanation = alert.sentence();
        self.state.dedup.open(dedup_key, id, event.time);
        self.state.stats.alerts += 1;
        out.push(AlertUpdate::New(Box::new(alert), Box::new(event)));
    }
}
