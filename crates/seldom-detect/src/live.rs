//! The detector as a live feed drives it: events pushed with the wall time
//! they arrived at, the buffer released on wall time when the feed goes
//! quiet, and the reorder buffer's changes for incremental checkpoints.

use seldom_model::{Event, Timestamp};

use crate::engine::Detector;
use crate::reorder::{ReorderDelta, ReorderKey};
use crate::report::AlertUpdate;

/// The reorder stage as the detector's callers see it.
impl Detector {
    /// Takes one event of a live feed, whose time can be checked against the
    /// wall clock: one more than `future_tolerance` ahead of `wall_now` is
    /// counted as a future event and refused. Returns whether it was taken.
    pub fn push_live(
        &mut self,
        event: Event,
        wall_now: Timestamp,
        out: &mut Vec<AlertUpdate>,
    ) -> bool {
        if event.time > wall_now.plus(self.spans.future) {
            self.state.stats.future_events += 1;
            return false;
        }
        self.push(event, out);
        true
    }

    /// Releases what is buffered up to `upto` even though the organization's
    /// clock has not passed it, and judges the rare connections of that time
    /// still waiting for their process: a service calls this when a feed has
    /// gone quiet, so that the last events still alert.
    pub fn release_through(&mut self, upto: Timestamp, out: &mut Vec<AlertUpdate>) {
        self.release_upto(upto, out);
        let due = upto.plus(self.spans.reorder);
        self.release_held_network(Some(due), usize::MAX, out);
        while let Some(candidate) = self.state.pending.pop_due(Some(due)) {
            self.emit(candidate, out);
        }
    }

    /// Events held in the reorder buffer, and about how many bytes they hold.
    pub fn buffered(&self) -> (usize, usize) {
        (self.state.reorder.len(), self.state.reorder.bytes())
    }

    /// The time of the latest event waiting in the reorder buffer.
    pub fn latest_buffered(&self) -> Option<Timestamp> {
        self.state.reorder.latest()
    }

    /// What changed in the reorder buffer since the last committed checkpoint.
    pub fn reorder_delta(&self) -> ReorderDelta {
        self.state.reorder.delta(self.state.seq)
    }

    /// The checkpoint holding `delta` was committed.
    pub fn reorder_committed(&mut self, delta: &ReorderDelta) {
        self.state.reorder.committed(delta);
    }

    /// Refills the reorder buffer from a checkpoint (after [`Detector::restore`]).
    pub fn restore_reorder(&mut self, entries: impl IntoIterator<Item = (ReorderKey, Event)>) {
        self.state.reorder.restore(entries, self.state.seq);
    }
}
