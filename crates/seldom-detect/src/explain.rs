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

use seldom_model::{Event, EventKind, HostName, Platform, Timestamp};

use crate::Alert;
use crate::baseline::HostId;
use crate::catalog::{MatchSubject, ProcessView};
use crate::dedup::DedupKey;
use crate::destination::{DestinationKey, registered_domain};
use crate::engine::Detector;
use crate::image::image_name;
use crate::rarity::activated;
use crate::verdict::Probe;
pub use crate::verdict::{ExplainTarget, Step, StepOutcome, Verdict};

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

    /// The destination side of the decision: prevalence, then activation.
    /// Whether both pass.
    fn rarity_steps(
        &self,
        steps: &mut Vec<Step>,
        key: &DestinationKey,
        host_id: HostId,
        platform: Platform,
        at: Timestamp,
    ) -> bool {
        record(steps, self.prevalence_step(key, host_id, at))
            && record(steps, self.activation_step(platform, at))
    }

    /// The prevalence step: what the baseline knows of `key` at `at`, for a
    /// connection of host `host_id`; it stops the decision unless rare.
    fn prevalence_step(&self, key: &DestinationKey, host_id: HostId, at: Timestamp) -> Step {
        let prevalence = self.state.baseline.prevalence(key, host_id, at);
        let window = self.config.training_days;
        let seen_by: Vec<String> = self
            .state
            .baseline
            .get(key)
            .map(|k| {
                k.recent()
                    .iter()
                    .filter(|(h, day)| *h != host_id && *day > at.day() - i64::from(window))
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
        let outcome = if rare {
            StepOutcome::Pass
        } else {
            StepOutcome::Stop
        };
        Step {
            check: "prevalence",
            outcome,
            detail,
        }
    }

    /// The internal-address step: an internal address ends the decision.
    fn address_step(&self, ip: IpAddr) -> Step {
        match self.classifier.internal_because(ip) {
            Some(why) => Step {
                check: "internal address",
                outcome: StepOutcome::Stop,
                detail: why,
            },
            None => Step {
                check: "internal address",
                outcome: StepOutcome::Pass,
                detail: format!("{ip} is external"),
            },
        }
    }

    /// The activation step: whether `platform` has passed its activation
    /// period at `at`.
    fn activation_step(&self, platform: Platform, at: Timestamp) -> Step {
        let start = self.state.clock.platform_start(platform);
        let active = activated(start, at, self.spans.activation);
        let detail = match start {
            Some(start) => format!(
                "{platform:?} telemetry began {start}; with activation_days = {}, alerts from {}",
                self.config.activation_days,
                start.plus(self.spans.activation)
            ),
            None => format!("no {platform:?} telemetry has started the activation clock"),
        };
        Step {
            check: "activation",
            outcome: if active {
                StepOutcome::Pass
            } else {
                StepOutcome::Stop
            },
            detail: if active {
                detail
            } else {
                format!("still training: {detail}")
            },
        }
    }

    /// A stored alert's decision, from its own evidence (the prevalence and
    /// chain it was raised with) and the settings and catalog in use now:
    /// what a service can say of an alert without the telemetry.
    pub fn explain_alert(&self, alert: &Alert) -> Verdict {
        let d = &alert.destination;
        let mut verdict = Verdict {
            time: alert.first_seen,
            host: alert.host.clone(),
            image: alert.process.image.clone(),
            destination_ip: d.ip,
            destination_port: d.port,
            forward_name: d.forward_name.clone(),
            key: Some(d.key.to_string()),
            steps: Vec::new(),
            catalog: Vec::new(),
            outcome: String::new(),
        };
        let steps = &mut verdict.steps;
        step(steps, "direction", StepOutcome::Pass, "outbound".into());
        match self.classifier.internal_because(d.ip) {
            Some(why) => step(
                steps,
                "internal address",
                StepOutcome::Note,
                format!("now internal ({why}): the settings changed after the alert"),
            ),
            None => step(
                steps,
                "internal address",
                StepOutcome::Pass,
                format!("{} is external", d.ip),
            ),
        };
        step(
            steps,
            "name",
            StepOutcome::Note,
            match &d.forward_name {
                Some(name) => format!("the host asked DNS for {name}"),
                None => "no DNS answer for this address on this host: keyed by address".into(),
            },
        );
        let p = &alert.prevalence;
        step(
            steps,
            "prevalence",
            StepOutcome::Pass,
            format!(
                "{} other hosts contacted {} in the {}-day window before this connection (first seen {}); rare means fewer than {}",
                p.hosts_in_window, d.key, p.window_days, p.first_seen_in_org, p.rare_threshold
            ),
        );
        let activation = self.activation_step(alert.platform, alert.first_seen);
        step(steps, "activation", StepOutcome::Note, activation.detail);
        let names: Vec<String> = std::iter::once(alert.process.image.as_deref())
            .chain(alert.chain.iter().map(|a| a.image.as_deref()))
            .map(|i| i.and_then(image_name).unwrap_or_else(|| "unknown".into()))
            .collect();
        step(
            steps,
            "process",
            StepOutcome::Note,
            format!("process and chain: {}", names.join(" <- ")),
        );
        let subject = MatchSubject::new(
            alert.platform,
            ProcessView {
                image: alert.process.image.as_deref(),
                original_file_name: alert.process.original_file_name.as_deref(),
                command_line: alert.process.command_line.as_deref(),
            },
            &alert.chain,
        );
        step(
            steps,
            "catalog",
            StepOutcome::Pass,
            format!(
                "{} ({:?}) won among the rows that match",
                alert.variation, alert.severity
            ),
        );
        step(
            steps,
            "dedup",
            StepOutcome::Note,
            format!(
                "{} contacts from {} to {}: one alert per variation, host, image and destination per {} day(s)",
                alert.count, alert.first_seen, alert.last_seen, self.config.dedup_days
            ),
        );
        verdict.catalog = self.catalog.evaluate(&subject);
        verdict.outcome = format!(
            "alert {} raised: {} ({:?})",
            alert.id, alert.variation, alert.severity
        );
        verdict
    }

    /// What a connection of `host` to `destination` (an address or a name)
    /// at `at` would meet with the baseline as it stands now. Without the
    /// connection's own telemetry there is no chain: the catalog sees
    /// `image` alone, on `platform`.
    pub fn explain_what_if(
        &self,
        host: &HostName,
        destination: &str,
        image: Option<&str>,
        platform: Platform,
        at: Timestamp,
    ) -> Verdict {
        let ip: Option<IpAddr> = destination.trim().parse().ok();
        let name = destination
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let mut verdict = Verdict {
            time: at,
            host: host.to_string(),
            image: image.map(str::to_owned),
            destination_ip: ip.unwrap_or(IpAddr::from([0, 0, 0, 0])),
            destination_port: None,
            forward_name: ip.is_none().then(|| name.clone()),
            key: None,
            steps: Vec::new(),
            catalog: Vec::new(),
            outcome: String::new(),
        };
        let key = match ip {
            Some(ip) => {
                let address = self.address_step(ip);
                let go_on = record(&mut verdict.steps, address);
                if !go_on {
                    return finish(verdict);
                }
                DestinationKey::Ip(ip)
            }
            None if self.classifier.is_internal_name(&name) => {
                step(
                    &mut verdict.steps,
                    "internal name",
                    StepOutcome::Stop,
                    format!("{name} is an internal name (single label or under internal_domains)"),
                );
                return finish(verdict);
            }
            None => match registered_domain(&name) {
                Some(domain) => DestinationKey::Domain(domain),
                None => {
                    step(
                        &mut verdict.steps,
                        "name",
                        StepOutcome::Stop,
                        format!("{name} is neither an address nor a name under a public suffix"),
                    );
                    return finish(verdict);
                }
            },
        };
        verdict.key = Some(key.to_string());
        let host_id = self.state.hosts.id(host).unwrap_or(HostId::MAX);
        if !self.rarity_steps(&mut verdict.steps, &key, host_id, platform, at) {
            return finish(verdict);
        }
        if let Some(image) = image {
            let subject = MatchSubject {
                platform,
                process: ProcessView {
                    image: Some(image),
                    original_file_name: None,
                    command_line: None,
                },
                ancestors: Vec::new(),
            };
            verdict.catalog = self.catalog.evaluate(&subject);
            match self.catalog.classify(&subject) {
                Some(m) => step(
                    &mut verdict.steps,
                    "catalog",
                    StepOutcome::Pass,
                    format!(
                        "{} ({:?}) wins for {image} alone (a real connection's chain may match a more specific row)",
                        m.variation.id, m.variation.severity
                    ),
                ),
                None => step(
                    &mut verdict.steps,
                    "catalog",
                    StepOutcome::Stop,
                    "no row of the catalog matches".into(),
                ),
            };
        }
        finish(verdict)
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
        } && {
            let address = self.address_step(c.destination_ip);
            record(&mut verdict.steps, address)
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
        if !self.rarity_steps(
            &mut verdict.steps,
            &key,
            host_id,
            event.platform,
            event.time,
        ) {
            return finish(verdict);
        }
        let tables = &self.state.processes;
        let record = tables.find(&event.host, &c.process, event.time);
        let chain = record
            .map(|r| tables.chain(&event.host, r, self.config.chain_depth as usize))
            .unwrap_or_default();
        let image = record
            .and_then(|r| r.image.as_deref().map(str::to_owned))
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
        let subject = MatchSubject::new(
            event.platform,
            ProcessView {
                image: image.as_deref(),
                original_file_name: record.and_then(|r| r.original_file_name.as_deref()),
                command_line: record.and_then(|r| r.command_line.as_deref()),
            },
            &chain,
        );
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
fn record(steps: &mut Vec<Step>, done: Step) -> bool {
    let goes_on = done.outcome != StepOutcome::Stop;
    steps.push(done);
    goes_on
}

/// A step from its parts, written down.
fn step(steps: &mut Vec<Step>, check: &'static str, outcome: StepOutcome, detail: String) -> bool {
    record(
        steps,
        Step {
            check,
            outcome,
            detail,
        },
    )
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
