//! The second stage: one host partition. A detector of the host side only
//! ([`crate::engine::Stage::Hosts`]) keeps the process tables and DNS
//! attribution of the partition's hosts and turns each external connection
//! into a [`Contact`]. Its reorder buffer is released through the watermark
//! of the source partitions' marks, never past the organization's clock less
//! the reorder window, so events are processed in the order one detector
//! would process them.

use seldom_model::{Event, Micros, Timestamp};
use serde::{Deserialize, Serialize};

use super::Progress;
use super::progress::{Upstream, Watermark};
use crate::engine::{Detector, DetectorState, Stage};
use crate::reorder::ReorderKey;
use crate::report::DetectStats;
use crate::{Catalog, ConfigError, Contact, DetectConfig};

pub struct HostTask {
    partition: u32,
    detector: Detector,
    upstream: Upstream,
    /// Every event up to here has been processed.
    released: Option<Timestamp>,
}

/// What a host task remembers: its snapshot in a changelog, read back.
#[derive(Debug, Clone, Deserialize)]
pub struct HostTaskState {
    detector: DetectorState,
    reorder: Vec<(ReorderKey, Event)>,
    upstream: Upstream,
    released: Option<Timestamp>,
}

/// The same snapshot as written: borrowed from the task, so that writing
/// one copies nothing (a partition's state is written after every batch
/// that changed it).
#[derive(Serialize)]
pub struct HostTaskSnapshot<'a> {
    detector: &'a DetectorState,
    reorder: Vec<(&'a ReorderKey, &'a Event)>,
    upstream: &'a Upstream,
    released: Option<Timestamp>,
}

impl HostTask {
    /// The task of host partition `partition`, downstream of `sources`
    /// input partitions.
    pub fn new(
        partition: u32,
        config: &DetectConfig,
        catalog: Catalog,
        sources: u32,
    ) -> Result<Self, ConfigError> {
        let mut detector = config.build(catalog)?;
        detector.stage = Stage::Hosts;
        Ok(HostTask {
            partition,
            detector,
            upstream: Upstream::new(sources),
            released: None,
        })
    }

    /// Takes one event of the partition's hosts (in any order within the
    /// reorder window).
    pub fn push(&mut self, event: Event) {
        let mut none = Vec::new();
        self.detector.push(event, &mut none);
        debug_assert!(none.is_empty(), "the host side raises no alert");
    }

    /// Takes a source partition's mark.
    pub fn note(&mut self, mark: Progress) {
        let quorum = self.detector.config.clock_quorum as usize;
        for (host, time) in &mark.leaders {
            self.detector.state.clock.observe(*host, *time, quorum);
        }
        self.upstream.note(mark);
    }

    /// Processes what the marks allow; the contacts made go to `out`, each for
    /// the key partition of its destination key.
    pub fn advance(&mut self, out: &mut Vec<Contact>) {
        let mut none = Vec::new();
        match self.upstream.watermark() {
            Watermark::Unknown => {}
            Watermark::Through(through) => {
                let reorder = self.detector.spans.reorder;
                let now = self.detector.clock().map_or(through, |n| n.min(through));
                let upto = now.minus(reorder);
                if self.released.is_none_or(|r| upto > r) {
                    self.detector.release_upto(upto, &mut none);
                    // Another partition's event has passed these deadlines:
                    // one detector would have ended their wait by now.
                    self.detector.release_waiting_upto(upto, &mut none);
                    self.released = Some(upto);
                }
            }
            Watermark::AllIdle => self.detector.flush(&mut none),
        }
        out.append(&mut self.detector.state.contacts);
    }

    /// Its mark for the key partitions, sent after the contacts of
    /// [`HostTask::advance`].
    pub fn progress(&self) -> Progress {
        let state = &self.detector.state;
        let reorder = self.detector.spans.reorder;
        let before = |t: Timestamp| t.minus(Micros::of(std::time::Duration::from_micros(1)));
        // Below every contact still held: one waiting for its process
        // counts at its own time, a network sensor's at the end of its hold.
        let held = [
            state
                .pending
                .first_deadline()
                .map(|d| before(d.minus(reorder))),
            state.held_network.first_deadline().map(before),
        ];
        let through = held.into_iter().flatten().chain(self.released).min();
        let idle = self.upstream.all_idle()
            && state.reorder.is_empty()
            && state.pending.len() == 0
            && state.held_network.len() == 0;
        let mut activity = std::collections::BTreeMap::<i64, u32>::new();
        for day in state.activity.values() {
            *activity.entry(*day).or_default() += 1;
        }
        Progress {
            from: self.partition,
            through,
            idle,
            leaders: state.clock.leaders().to_vec(),
            platforms: state.clock.spans().collect(),
            activity: activity.into_iter().collect(),
        }
    }

    /// Where the task stands, for an operator's trace.
    pub fn describe(&self) -> String {
        let state = &self.detector.state;
        format!(
            "host {}: {} buffered, {} waiting, released {:?}; {}",
            self.partition,
            state.reorder.len(),
            state.pending.len() + state.held_network.len(),
            self.released.map(|t| t.to_string()),
            self.upstream.describe()
        )
    }

    pub fn stats(&self) -> &DetectStats {
        self.detector.stats()
    }

    /// Its state, for a changelog (read back as a [`HostTaskState`]).
    pub fn snapshot(&self) -> HostTaskSnapshot<'_> {
        HostTaskSnapshot {
            detector: &self.detector.state,
            reorder: self.detector.state.reorder.entries().collect(),
            upstream: &self.upstream,
            released: self.released,
        }
    }

    /// Continues from a snapshot (written under the same configuration).
    pub fn restore(&mut self, state: HostTaskState) {
        self.detector.restore(state.detector);
        self.detector.restore_reorder(state.reorder);
        self.upstream = state.upstream;
        self.released = state.released;
    }
}
