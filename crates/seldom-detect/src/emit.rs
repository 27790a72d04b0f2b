//! A rare connection becomes an alert: its process as of the connection
//! (or of the deadline, for a start stamped late) and its causality chain,
//! the catalog's variation, dedup, and the alert with its evidence.

use seldom_model::EventKind;

use crate::alert::{Alert, AlertDestination, AlertProcess, PrevalenceEvidence};
use crate::catalog::{MatchSubject, ProcessView};
use crate::dedup::DedupKey;
use crate::destination::registered_domain;
use crate::engine::Detector;
use crate::enriched::EnrichedConnection;
use crate::image::image_name;
use crate::process_table::Ancestor;
use crate::report::AlertUpdate;

impl Detector {
    pub(crate) fn emit(&mut self, candidate: EnrichedConnection, out: &mut Vec<AlertUpdate>) {
        let EnrichedConnection {
            event,
            forward_name,
            key,
            prevalence,
            deadline,
            process,
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
            .repeat(&dedup_key, event.time, self.spans.dedup)
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
