//! The decision on one connection: inbound, internal, a network sensor's
//! view of a host an endpoint sensor covers; then its destination key, its
//! prevalence in the baseline, rarity and the platform's activation. A rare
//! connection whose process is known goes on to [`crate::emit`]; one whose
//! process start has not arrived waits for it (bounded) until the reorder
//! window has passed.

use seldom_model::{
    Event, EventKind, HostName, NetworkConnection, Platform, ProcessIdentity, Timestamp,
};

use crate::baseline::{HostId, Prevalence};
use crate::destination::DestinationKey;
use crate::engine::{Detector, Stage};
use crate::enriched::EnrichedConnection;
use crate::process_table::ProcessRecord;
use crate::rarity::{KeyDecision, KeyState};
use crate::report::AlertUpdate;

impl Detector {
    pub(crate) fn judge(&mut self, mut event: Event, host_id: HostId, out: &mut Vec<AlertUpdate>) {
        // Read before anything looks at the address: the IPv4 address an old
        // Sysmon wrote as IPv6 text is the one keyed, shown and attributed.
        if let EventKind::NetworkConnection(c) = &mut event.kind
            && let Some(v4) = crate::destination::unmangle_ipv6(c.destination_ip)
        {
            c.destination_ip = std::net::IpAddr::V4(v4);
            self.state.stats.mangled_ipv6 += 1;
        }
        if self.probe.is_some() {
            self.probe_connection(&event, host_id);
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
            // reports: the endpoint's event, with its process, is the one
            // judged, and the host counts once in the baseline. Held for the
            // reorder window before it counts at all, so that the endpoint's
            // report of the same moment can claim the address first.
            if self.covered_by_endpoint(c) {
                self.state.stats.covered_by_endpoint += 1;
            } else {
                self.hold_network(event, out);
            }
            return;
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
        self.assess(event, host_id, out);
    }

    /// Whether an endpoint sensor reported this network-sensor connection's
    /// source address as its own.
    fn covered_by_endpoint(&self, c: &NetworkConnection) -> bool {
        self.state
            .address_hosts
            .contains_key(&c.source_ip.unwrap_or(c.destination_ip))
    }

    /// Holds a network sensor's connection for the reorder window.
    fn hold_network(&mut self, event: Event, out: &mut Vec<AlertUpdate>) {
        if self.state.held_network.len() >= self.config.max_pending {
            self.state.stats.pending_overflow += 1;
            self.release_held_network(None, 1, out);
        }
        let deadline = event.time.plus(self.spans.reorder);
        let host = event.host.clone();
        self.state.held_network.push(&host, deadline, event);
    }

    /// Judges held network-sensor connections whose wait ended by `upto`
    /// (any, with `None`), at most `limit` of them.
    pub(crate) fn release_held_network(
        &mut self,
        upto: Option<Timestamp>,
        limit: usize,
        out: &mut Vec<AlertUpdate>,
    ) {
        for _ in 0..limit {
            let Some(event) = self.state.held_network.pop_due(upto) else {
                return;
            };
            let EventKind::NetworkConnection(c) = &event.kind else {
                continue;
            };
            if self.covered_by_endpoint(c) {
                self.state.stats.covered_by_endpoint += 1;
                continue;
            }
            let host_id = self.state.hosts.intern(&event.host);
            self.assess(event, host_id, out);
        }
    }

    /// An external connection through the baseline: its destination key,
    /// its prevalence, and whether it is rare and the platform activated.
    fn assess(&mut self, event: Event, host_id: HostId, out: &mut Vec<AlertUpdate>) {
        let EventKind::NetworkConnection(c) = &event.kind else {
            return;
        };
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
        let (prevalence, tune) = match (self.stage, &self.tuning) {
            // Tuning: rare in some cell of the grid, counted as in a scan.
            (Stage::Whole, Some(tuning)) => {
                let counts = tuning.counts(
                    &self.state.baseline,
                    &key,
                    host_id,
                    event.platform,
                    event.time,
                    self.spans.activation,
                );
                self.rare_and_active(&event, &key, host_id, out);
                match counts {
                    Some(counts) => (Prevalence::default(), Some(counts)),
                    None => return,
                }
            }
            (Stage::Whole, None) => match self.rare_and_active(&event, &key, host_id, out) {
                Some(prevalence) => (prevalence, None),
                None => return,
            },
            // Judged by the partition of its key; every contact goes there.
            (Stage::Hosts, _) => (Prevalence::default(), None),
        };
        let deadline = event.time.plus(self.spans.reorder);
        // A network sensor's connection has waited out the reorder window
        // already (held before it counted); one whose process is unknown
        // waits for its start.
        let process = if event.platform == Platform::Network || c.process.is_empty() {
            None
        } else {
            self.find_process(&event, c).cloned()
        };
        let known =
            event.platform == Platform::Network || c.process.is_empty() || process.is_some();
        // A network sensor's connection counts when its hold ends.
        let judged_at = if event.platform == Platform::Network {
            deadline
        } else {
            event.time
        };
        let candidate = EnrichedConnection {
            event,
            forward_name,
            key,
            prevalence,
            deadline,
            judged_at,
            process,
            tune,
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

    /// Counts the contact in the baseline; its prevalence before it counted
    /// if it is rare and its platform activated, else `None`.
    fn rare_and_active(
        &mut self,
        event: &Event,
        key: &DestinationKey,
        host_id: HostId,
        out: &mut Vec<AlertUpdate>,
    ) -> Option<Prevalence> {
        let decision = KeyDecision {
            config: &self.config,
            spans: &self.spans,
        };
        let platform_start = self.state.clock.platform_start(event.platform);
        decision.decide(
            KeyState {
                baseline: &mut self.state.baseline,
                incidents: &mut self.state.incidents,
                stats: &mut self.state.stats,
            },
            event,
            key,
            host_id,
            platform_start,
            out,
        )
    }

    /// The name the host asked DNS for: from its own sensor's DNS events, else
    /// from a network sensor's answers to its address (Zeek `dns.log`).
    pub(crate) fn forward_name(&self, event: &Event, c: &NetworkConnection) -> Option<String> {
        let dns = &self.state.dns;
        dns.forward_name(&event.host, c.destination_ip, event.time, &c.process)
            .or_else(|| {
                let client = HostName::of_address(c.source_ip?);
                dns.forward_name(
                    &client,
                    c.destination_ip,
                    event.time,
                    &ProcessIdentity::default(),
                )
            })
            .map(str::to_owned)
    }

    pub(crate) fn find_process(
        &self,
        event: &Event,
        c: &NetworkConnection,
    ) -> Option<&ProcessRecord> {
        self.state
            .processes
            .find(&event.host, &c.process, event.time)
    }

    pub(crate) fn resolve_pending_for(&mut self, host: &HostName, out: &mut Vec<AlertUpdate>) {
        let processes = &self.state.processes;
        let ready = self.state.pending.take_ready(host, |candidate| {
            matches!(&candidate.event.kind, EventKind::NetworkConnection(c)
                if processes.find(host, &c.process, candidate.deadline).is_some())
        });
        for candidate in ready {
            self.emit(candidate, out);
        }
    }

    pub(crate) fn release_expired_pending(&mut self, out: &mut Vec<AlertUpdate>) {
        if let Some(now) = self.state.released_upto {
            self.release_waiting_upto(now, out);
        }
    }

    /// Ends the wait of held network-sensor connections and of connections
    /// waiting for their process whose deadline is at or before `now`.
    pub(crate) fn release_waiting_upto(&mut self, now: Timestamp, out: &mut Vec<AlertUpdate>) {
        self.release_held_network(Some(now), usize::MAX, out);
        while let Some(candidate) = self.state.pending.pop_due(Some(now)) {
            self.emit(candidate, out);
        }
    }
}
