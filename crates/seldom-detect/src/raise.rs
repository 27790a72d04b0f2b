//! A rare, activated contact becomes an alert: the catalog's variation,
//! dedup, and the alert with its evidence, filed in its incident. This is the destination side of
//! the alert; the host side (process and chain) is [`crate::emit`]. Both a
//! whole detector and a destination-key partition
//! ([`crate::partitioned::KeyTask`]) raise their alerts here.

use crate::alert::{Alert, AlertDestination, AlertProcess, PrevalenceEvidence};
use crate::baseline::Prevalence;
use crate::beacon::Beat;
use crate::budget::BudgetTable;
use crate::catalog::{Catalog, MatchSubject, ProcessView};
use crate::config::DetectConfig;
use crate::contact::Contact;
use crate::dedup::{DedupKey, DedupTable};
use crate::destination::DestinationKey;
use crate::destination::registered_domain;
use crate::image::image_name;
use crate::incident::IncidentTable;
use crate::process_table::ProcessRecord;
use crate::report::{AlertUpdate, DetectStats};
use crate::spans::Spans;
use seldom_model::{Event, EventKind};

/// What raising an alert reads: the settings and the catalog.
pub(crate) struct Raise<'a> {
    pub config: &'a DetectConfig,
    pub spans: &'a Spans,
    pub catalog: &'a Catalog,
}

/// What raising an alert changes: the open alerts and the counters.
pub(crate) struct RaiseState<'a> {
    /// The detector's upkeep day (the noise budget's day).
    pub today: Option<i64>,
    pub dedup: &'a mut DedupTable,
    pub budget: &'a mut BudgetTable,
    pub incidents: &'a mut IncidentTable,
    pub stats: &'a mut DetectStats,
}

/// The process's image, original file name and command line, as the
/// process table has them, else as the connection does.
fn process_fields(
    event: &Event,
    record: Option<&ProcessRecord>,
) -> (Option<String>, Option<String>, Option<String>) {
    let image = record
        .and_then(|r| r.image.as_deref().map(str::to_owned))
        .or_else(|| match &event.kind {
            EventKind::NetworkConnection(c) => c.image.clone(),
            _ => None,
        });
    let original = record.and_then(|r| r.original_file_name.as_deref().map(str::to_owned));
    let command_line = record.and_then(|r| r.command_line.as_deref().map(str::to_owned));
    (image, original, command_line)
}

fn dedup_key(
    variation: &str,
    event: &Event,
    image: Option<&str>,
    key: &DestinationKey,
) -> DedupKey {
    DedupKey {
        variation: variation.to_owned(),
        host: event.host.clone(),
        image: image.and_then(image_name).unwrap_or_default(),
        destination: key.clone(),
    }
}

impl Raise<'_> {
    /// What `contact` would be deduplicated under, if the catalog classifies
    /// it (`seldom tune` keeps this instead of raising).
    pub fn classify(&self, contact: &Contact) -> Option<DedupKey> {
        let (image, original, command_line) =
            process_fields(&contact.event, contact.process.as_ref());
        let subject = MatchSubject::new(
            contact.event.platform,
            ProcessView {
                image: image.as_deref(),
                original_file_name: original.as_deref(),
                command_line: command_line.as_deref(),
            },
            &contact.chain,
        );
        let matched = self.catalog.classify(&subject)?;
        Some(dedup_key(
            &matched.variation.id,
            &contact.event,
            image.as_deref(),
            &contact.key,
        ))
    }

    /// Classifies `contact` by the catalog and raises its alert, or counts a
    /// repeat of an open one. `active_hosts` is the evidence's count of
    /// hosts active in the window.
    pub fn raise(
        &self,
        state: RaiseState<'_>,
        contact: Contact,
        prevalence: Prevalence,
        active_hosts: usize,
        out: &mut Vec<AlertUpdate>,
    ) {
        let Contact {
            event,
            forward_name,
            key,
            process: record,
            chain,
            ..
        } = contact;
        let EventKind::NetworkConnection(c) = &event.kind else {
            return;
        };
        let (image, original, command_line) = process_fields(&event, record.as_ref());
        let subject = MatchSubject::new(
            event.platform,
            ProcessView {
                image: image.as_deref(),
                original_file_name: original.as_deref(),
                command_line: command_line.as_deref(),
            },
            &chain,
        );
        let Some(matched) = self.catalog.classify(&subject) else {
            return;
        };
        let variation = matched.variation;
        let dedup_key = dedup_key(&variation.id, &event, image.as_deref(), &key);
        let beat = Beat {
            at: event.time,
            bytes: c.bytes_sent,
        };
        if state.dedup.repeat(&dedup_key, beat, self.spans.dedup, out) {
            state.stats.repeats += 1;
            return;
        }
        let id = dedup_key.alert_id(event.time);
        let because = self.catalog.explain(variation, &subject);
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
                .and_then(|r| r.user.as_deref().map(str::to_owned))
                .or_else(|| c.user.clone()),
            process: AlertProcess {
                image: image.clone(),
                command_line: command_line.clone(),
                pid: c.process.pid,
                guid: c.process.guid.clone(),
                original_file_name: original.clone(),
                start: record.as_ref().map(|r| r.start),
            },
            chain,
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
            incident: None,
            beacon: None,
            digest: None,
        };
        alert.explanation = alert.sentence();
        state.dedup.open(dedup_key, id, beat, variation.severity);
        // Past the day's budget the alert folds into its variation's digest
        // (its repeats then find an alert no sink knows, and are dropped).
        if !state.budget.admit(
            &alert,
            &event,
            self.config.max_alerts_per_day,
            state.today,
            out,
        ) {
            state.stats.folded_into_digest += 1;
            return;
        }
        state.stats.alerts += 1;
        let (incident, changed) = state.incidents.on_alert(&alert, self.spans.incident);
        alert.incident = Some(incident.reference());
        // The incident's earlier alerts learn of the new host (or its new
        // start); a host already listed changes nothing they carry.
        let earlier = changed.then(|| incident.clone());
        out.push(AlertUpdate::New(Box::new(alert), Box::new(event)));
        if let Some(incident) = earlier {
            out.push(AlertUpdate::Incident(Box::new(incident)));
        }
    }
}
