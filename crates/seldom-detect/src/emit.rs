//! A connection's process becomes known: its process as of the connection
//! (or of the deadline, for a start stamped late) and its causality chain
//! make it a [`Contact`]. A whole detector raises the contact's alert at once
//! ([`crate::raise`]); a host partition forwards it to the partition of its
//! destination key ([`crate::partitioned`]).

use seldom_model::EventKind;

use crate::contact::Contact;
use crate::engine::{Detector, Stage};
use crate::enriched::EnrichedConnection;
use crate::process_table::Ancestor;
use crate::raise::{Raise, RaiseState};
use crate::report::AlertUpdate;

impl Detector {
    pub(crate) fn emit(&mut self, candidate: EnrichedConnection, out: &mut Vec<AlertUpdate>) {
        let EnrichedConnection {
            event,
            forward_name,
            key,
            prevalence,
            deadline,
            judged_at,
            process,
            tune,
        } = candidate;
        let EventKind::NetworkConnection(c) = &event.kind else {
            return;
        };
        let tables = &self.state.processes;
        // Found when it was judged; else, after its wait, the process as of
        // the connection, failing that as of the deadline, since its start
        // may be stamped after the connection. (With a pid only, the first
        // lookup keeps a pid reused later from being taken.)
        let record = process.or_else(|| {
            tables
                .find(&event.host, &c.process, event.time)
                .or_else(|| tables.find(&event.host, &c.process, deadline))
                .cloned()
        });
        let depth = self.config.chain_depth as usize;
        let chain: Vec<Ancestor> = match &record {
            Some(r) => tables.chain(&event.host, r, depth),
            None => Vec::new(),
        };
        let contact = Contact {
            event,
            forward_name,
            key,
            judged_at,
            process: record,
            chain,
        };
        let raise = Raise {
            config: &self.config,
            spans: &self.spans,
            catalog: &self.catalog,
        };
        // A tuning detector keeps the candidate instead of raising it.
        if let (Some(tuning), Some(counts)) = (&mut self.tuning, tune) {
            if let Some(dedup) = raise.classify(&contact) {
                tuning.candidate(dedup, contact.event.time, counts);
            }
            return;
        }
        match self.stage {
            Stage::Whole => {
                let active_hosts = self.active_hosts(contact.event.time);
                let state = RaiseState {
                    today: self.state.current_day,
                    dedup: &mut self.state.dedup,
                    budget: &mut self.state.budget,
                    incidents: &mut self.state.incidents,
                    stats: &mut self.state.stats,
                };
                raise.raise(state, contact, prevalence, active_hosts, out);
            }
            Stage::Hosts => self.state.contacts.push(contact),
        }
    }

    /// Hosts with any event in the window that ends on `at`'s day.
    pub(crate) fn active_hosts(&self, at: seldom_model::Timestamp) -> usize {
        let window_start = at.day() - i64::from(self.config.training_days) + 1;
        self.state
            .activity
            .values()
            .filter(|d| **d >= window_start)
            .count()
    }
}
