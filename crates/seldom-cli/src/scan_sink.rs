//! Where `scan` writes its alerts, in the format asked for.
//!
//! A presorted run reads all its input before its first alert anyway, so it
//! writes its alerts when the run ends, each in its final state (count, last
//! seen, beacon, incident with every host), in the order they were raised; a
//! table is written so too, grouped by incident. A streamed run writes each
//! alert when it is raised and writes it again, under the same id, when it
//! becomes a beacon or its incident gains a host (a reader keeps the last
//! line of an id); repeats only count there, so that a busy alert does not
//! flood the output.

use std::collections::HashMap;

use seldom_detect::{Alert, AlertUpdate, Sink, SinkError, formats};
use seldom_model::Event;

use crate::alert_table;
use crate::cli::OutputFormat;
use crate::output::Output;

pub(crate) struct AlertSink<'o> {
    output: &'o mut Output,
    format: OutputFormat,
    /// Alerts raised (not revisions).
    pub new: u64,
    /// Whether alerts are written at the end rather than as raised.
    hold: bool,
    /// Every alert, in the order raised, as revised so far.
    alerts: Vec<Alert>,
    index: HashMap<String, usize>,
}

impl<'o> AlertSink<'o> {
    pub fn new(output: &'o mut Output, format: OutputFormat, presorted: bool) -> Self {
        AlertSink {
            output,
            format,
            new: 0,
            hold: presorted || format == OutputFormat::Table,
            alerts: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Writes a decoded event (a run without detection).
    pub fn event(&mut self, event: &Event) -> Result<(), SinkError> {
        Ok(self.output.json_line(event)?)
    }

    fn write(&mut self, at: usize) -> Result<(), SinkError> {
        let alert = &self.alerts[at];
        match self.format {
            OutputFormat::Jsonl => self.output.json_line(alert),
            OutputFormat::Table => self.output.text(&alert_table::render(alert)),
            OutputFormat::Ecs => self.output.json_line(&formats::ecs::render(alert)),
            OutputFormat::Ocsf => self.output.json_line(&formats::ocsf::render(alert)),
        }?;
        Ok(())
    }
}

impl Sink for AlertSink<'_> {
    fn apply(&mut self, update: AlertUpdate) -> Result<(), SinkError> {
        if let AlertUpdate::New(alert, _) = update {
            self.new += 1;
            self.index.insert(alert.id.clone(), self.alerts.len());
            self.alerts.push(*alert);
            if !self.hold {
                self.write(self.alerts.len() - 1)?;
            }
            return Ok(());
        }
        for id in update.revises() {
            let Some(&at) = self.index.get(id) else {
                continue;
            };
            // Streamed: written again when it becomes a beacon or its
            // incident gains a host, not for every repeat.
            let shown = |a: &Alert| {
                (
                    a.beacon.is_some(),
                    a.incident.as_ref().map(|i| i.hosts.len()),
                )
            };
            let before = shown(&self.alerts[at]);
            update.revise(&mut self.alerts[at]);
            if !self.hold && before != shown(&self.alerts[at]) {
                self.write(at)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        if !self.hold {
            return Ok(());
        }
        if self.format == OutputFormat::Table {
            if !self.alerts.is_empty() {
                self.output
                    .text(&alert_table::render_by_incident(&self.alerts))?;
            }
            return Ok(());
        }
        (0..self.alerts.len()).try_for_each(|at| self.write(at))
    }
}
