//! `seldom explain`: why a connection did or did not alert. A detector given
//! an [`ExplainTarget`] writes down, for each connection the target names and
//! at the moment it is judged (before it counts in the baseline), every step
//! of the decision: direction, internal or not, the destination key, the
//! prevalence the organization knew (which hosts, which days, since when),
//! the platform's activation, the process and its chain, every catalog row
//! matched or not and why, and dedup. The detector's decision itself is not
//! touched: the steps are read beside it, and the caller sets each verdict's
//! outcome from the alerts the run actually raised.

use std::net::IpAddr;

use seldom_model::{Event, EventKind, Timestamp};
use serde::Serialize;

use crate::baseline::HostId;
use crate::catalog::{MatchSubject, ProcessView, RowCheck};
use crate::dedup::DedupKey;
use crate::engine::Detector;
use crate::image::image_name;
use crate::rarity::activated;

/// Which connections to explain. Every given condition must hold.
#[derive(Debug, Clone, Default)]
pub struct ExplainTarget {
    /// The host's name (case-insensitive).
    pub host: Option<String>,
    /// An address, a name the host asked DNS for, or a destination key
    /// (registered domain or address).
    pub destination: Option<String>,
    /// Connections at or after this time.
    pub from: Option<Timestamp>,
    /// Connections at or before this time.
    pub to: Option<Timestamp>,
    /// Verdicts kept at most (the first ones).
    pub limit: usize,
}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// The connection goes on.
    Pass,
    /// The decision ends here: no alert.
    Stop,
    /// What the detector found, deciding nothing by itself.
    Note,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub check: &'static str,
    pub outcome: StepOutcome,
    pub detail: String,
}

/// One connection, explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub time: Timestamp,
    pub host: String,
    pub image: Option<String>,
    pub destination_ip: IpAddr,
    pub destination_port: Option<u16>,
    pub forward_name: Option<String>,
    /// The destination key, once the connection got that far.
    pub key: Option<String>,
    pub steps: Vec<Step>,
    /// Every catalog row, matched or not (empty when the decision stopped
    /// before the catalog).
    pub catalog: Vec<RowCheck>,
    /// What the steps lead to; the caller replaces it with what the run
    /// raised (an alert's id, a repeat).
    pub outcome: String,
}

/// The target and what it has gathered.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    pub target: ExplainTarget,
    pub verdicts: Vec<Verdict>,
}

impl ExplainTarget {
    fn names_host(&self, event: &Event) -> bool {
        self.host
            .as_deref()
            .is_none_or(|h| event.host.as_str().eq_ignore_ascii_case(h))
    }

    fn names_time(&self, time: Timestamp) -> bool {
        self.from.is_none_or(|f| time >= f) && self.to.is_none_or(|t| time <= t)
    }

    /// Whether `destination` names this connection: its address, the name
    /// asked for, or its key.
    fn names_destination(&self, ip: IpAddr, forward: Option<&str>, key: Option<&str>) -> bool {
        let Some(wanted) = self.destination.as_deref() else {
            return true;
        };
        let wanted = wanted.trim().trim_end_matches('.').to_ascii_lowercase();
        ip.to_string() == wanted
            || forward.is_some_and(|f| f.trim_end_matches('.').eq_ignore_ascii_case(&wanted))
            || key.is_some_and(|k| k.eq_ignore_ascii_case(&wanted))
    }
}

impl Detector {
    /// Explains every connection `target` names from now on; read them with
    /// [`Detector::verdicts`].
    pub fn explain(&mut self, target: ExplainTarget) {
        self.probe = Some(Box::new(Probe {
            target,
            verdicts: Vec::new(),
        }));
    }

    /// The verdicts gathered so far.
    pub fn verdicts(&self) -> &[Verdict] {
        self.probe.as_ref().map_or(&[], |p| &p.verdicts[..])
    }

    /// Takes down the steps for `event` if the probe names it (before the
    /// detector's own decision counts it).
    pub(crate) fn probe_connection(&mut self, event: &Event, host_id: HostId) {
        let Some(probe) = &self.probe else {
            return;
        };
        let target = &probe.target;
        if probe.verdicts.len() >= target.limit.max(1)
            || !target.names_host(event)
            || !target.names_time(event.time)
        {
            return;
        }
        let EventKind::NetworkConnection(c) = &event.kind else {
            return;
        };
        // The destination is checked against the name and key the
        // detector would find, so the steps are worked out first.
        let verdict = self.verdict(event, host_id);
        let named = target.names_destination(
            c.destination_ip,
            verdict.forward_name.as_deref(),
            verdict.key.as_deref(),
        );
        if named && let Some(probe) = &mut self.probe {
            probe.verdicts.push(verdict);
        }
    }

    /// The decision on `event`, step by step, read without changing anything.
    fn verdict(&self, event: &Event, host_id: HostId) -> Verdict {
        let EventKind::NetworkConnection(c) = &event.kind else {
            unreachable!("only connections are probed");
        };
        let mut verdict = Verdict {
            time: event.time,
            host: event.host.to_string(),
            image: c.image.clone(),
            destination_ip: c.destination_ip,
            destination_port: c.destination_port,
            forward_name: None,
            key: None,
            steps: Vec::new(),
            catalog: Vec::new(),
            outcome: String::new(),
        };
        let go_on = if c.initiated == Some(false) {
            step(
                &mut verdict.steps,
                "direction",
                StepOutcome::Stop,
                "an inbound connection: only connections a host opens are judged".into(),
            )
        } else {
            step(
                &mut verdict.steps,
                "direction",
                StepOutcome::Pass,
                "outbound".into(),
            )
        } && match self.classifier.internal_because(c.destination_ip) {
            Some(why) => step(
                &mut verdict.steps,
                "internal address",
                StepOutcome::Stop,
                why,
            ),
            None => step(
                &mut verdict.steps,
                "internal address",
                StepOutcome::Pass,
                format!("{} is external", c.destination_ip),
            ),
        };
        if !go_on {
            return finish(verdict);
        }
        if event.platform == seldom_model::Platform::Network
            && self
                .state
                .address_hosts
                .contains_key(&c.source_ip.unwrap_or(c.destination_ip))
        {
            step(
                &mut verdict.steps,
                "network sensor",
                StepOutcome::Stop,
                "a network sensor's view of a host whose endpoint sensor reports the same connection: the endpoint's event is judged".into(),
            );
            return finish(verdict);
        }
        let forward = self.forward_name(event, c);
        let name_ok = match &forward {
            Some(name) if self.classifier.is_internal_name(name) => step(
                &mut verdict.steps,
                "internal name",
                StepOutcome::Stop,
                format!(
                    "the host asked DNS for {name}, an internal name (single label or under internal_domains)"
                ),
            ),
            Some(name) => step(
                &mut verdict.steps,
                "name",
                StepOutcome::Note,
                format!("the host asked DNS for {name}"),
            ),
            None => step(
                &mut verdict.steps,
                "name",
                StepOutcome::Note,
                "no DNS answer for this address on this host: keyed by address".into(),
            ),
        };
        verdict.forward_name = forward.clone();
        if !name_ok {
            return finish(verdict);
        }
        let key = self.classifier.key(c.destination_ip, forward.as_deref());
        verdict.key = Some(key.to_string());
        let prevalence = self.state.baseline.prevalence(&key, host_id, event.time);
        let window = self.config.training_days;
        let seen_by: Vec<String> = self
            .state
            .baseline
            .get(&key)
            .map(|k| {
                k.recent()
                    .iter()
                    .filter(|(h, day)| *h != host_id && *day > event.time.day() - i64::from(window))
                    .filter_map(|(h, day)| {
                        let name = self.state.hosts.name(*h)?;
                        Some(format!("{name} (last {})", day_text(*day)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let first = prevalence
            .first_seen_in_org
            .map_or("never before".to_owned(), |t| format!("first seen {t}"));
        let rare = prevalence.other_hosts_in_window < self.config.rare_hosts as usize;
        // The baseline keeps the few most recent hosts of a key: enough to
        // decide, so a popular key's count is a lower bound.
        let at_least = if rare { "" } else { "at least " };
        let detail = format!(
            "{at_least}{} other hosts contacted {key} in the {window}-day window before this connection{} ({first}); rare means fewer than {}",
            prevalence.other_hosts_in_window,
            if seen_by.is_empty() {
                String::new()
            } else {
                format!(": {}", seen_by.join(", "))
            },
            self.config.rare_hosts
        );
        let rare_ok = step(
            &mut verdict.steps,
            "prevalence",
            if rare {
                StepOutcome::Pass
            } else {
                StepOutcome::Stop
            },
            detail,
        );
        if !rare_ok {
            return finish(verdict);
        }
        let start = self.state.clock.platform_start(event.platform);
        let active = activated(start, event.time, self.spans.activation);
        let detail = match start {
            Some(start) => format!(
                "{:?} telemetry began {start}; with activation_days = {}, alerts from {}",
                event.platform,
                self.config.activation_days,
                start.plus(self.spans.activation)
            ),
            None => format!(
                "no {:?} telemetry has started the activation clock",
                event.platform
            ),
        };
        let activation_ok = step(
            &mut verdict.steps,
            "activation",
            if active {
                StepOutcome::Pass
            } else {
                StepOutcome::Stop
            },
            if active {
                detail
            } else {
                format!("still training: {detail}")
            },
        );
        if !activation_ok {
            return finish(verdict);
        }
        let tables = &self.state.processes;
        let record = tables.find(&event.host, &c.process, event.time);
        let chain = record
            .map(|r| tables.chain(&event.host, r, self.config.chain_depth as usize))
            .unwrap_or_default();
        let image = record
            .and_then(|r| r.image.clone())
            .or_else(|| c.image.clone());
        verdict.image = image.clone();
        let names: Vec<String> = std::iter::once(image.as_deref())
            .chain(chain.iter().map(|a| a.image.as_deref()))
            .map(|i| i.and_then(image_name).unwrap_or_else(|| "unknown".into()))
            .collect();
        step(
            &mut verdict.steps,
            "process",
            StepOutcome::Note,
            if record.is_some() {
                format!("process and chain: {}", names.join(" <- "))
            } else {
                format!(
                    "the process start was not seen by this time ({}); a live run waits the reorder window for it",
                    names.join(" <- ")
                )
            },
        );
        let subject = MatchSubject {
            platform: event.platform,
            process: ProcessView {
                image: image.as_deref(),
                original_file_name: record.and_then(|r| r.original_file_name.as_deref()),
                command_line: record.and_then(|r| r.command_line.as_deref()),
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
        let rows = self.catalog.evaluate(&subject);
        let winner = self.catalog.classify(&subject).map(|m| m.variation);
        match winner {
            None => {
                step(
                    &mut verdict.steps,
                    "catalog",
                    StepOutcome::Stop,
                    "no row of the catalog matches".into(),
                );
            }
            Some(variation) => {
                step(
                    &mut verdict.steps,
                    "catalog",
                    StepOutcome::Pass,
                    format!(
                        "{} ({:?}) wins among the rows that match",
                        variation.id, variation.severity
                    ),
                );
                let dedup_key = DedupKey {
                    variation: variation.id.clone(),
                    host: event.host.clone(),
                    image: image.as_deref().and_then(image_name).unwrap_or_default(),
                    destination: key.clone(),
                };
                match self
                    .state
                    .dedup
                    .peek(&dedup_key, event.time, self.spans.dedup)
                {
                    Some((id, first, count)) => step(
                        &mut verdict.steps,
                        "dedup",
                        StepOutcome::Stop,
                        format!(
                            "repeats alert {id}, open since {first} ({count} so far): counted, not raised again"
                        ),
                    ),
                    None => step(
                        &mut verdict.steps,
                        "dedup",
                        StepOutcome::Pass,
                        format!(
                            "no open alert for this variation, host, image and destination: alert {}",
                            dedup_key.alert_id(event.time)
                        ),
                    ),
                };
            }
        }
        verdict.catalog = rows;
        finish(verdict)
    }
}

/// Writes a step down; whether the decision goes on after it.
fn step(steps: &mut Vec<Step>, check: &'static str, outcome: StepOutcome, detail: String) -> bool {
    steps.push(Step {
        check,
        outcome,
        detail,
    });
    outcome != StepOutcome::Stop
}

/// The outcome the steps lead to.
fn finish(mut verdict: Verdict) -> Verdict {
    verdict.outcome = match verdict
        .steps
        .iter()
        .find(|s| s.outcome == StepOutcome::Stop)
    {
        Some(stop) => format!("no alert: stopped at {}", stop.check),
        None => "an alert".to_owned(),
    };
    verdict
}

fn day_text(day: i64) -> String {
    Timestamp::from_micros(day * seldom_model::MICROS_PER_DAY)
        .to_string()
        .chars()
        .take(10)
        .collect()
}
