//! The run loop: events in, through the detector, alert updates out to a
//! [`Sink`]. `seldom scan`, `seldom demo` and the tests call [`run`]; a
//! service keeps its detector between batches and calls [`feed_live`] for
//! each batch it takes in, and [`release_live`] when its feed goes quiet.
//!
//! Where events come from is the caller's: any iterator of batches in input
//! order (`seldom-ingest`'s sources decode files, archives, stdin, tailed
//! files and HTTP bodies into such batches). Where alerts go is a [`Sink`]:
//! JSON lines, a table, ECS, OCSF, a service's store, or a `Vec` in a test.

use seldom_model::{Event, Timestamp};

use crate::alert::Alert;
use crate::engine::Detector;
use crate::presort::{Presort, PresortStats, SortBuffer};
use crate::report::AlertUpdate;

/// Why a sink could not take an update (a full disk, a closed pipe).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where alert updates go.
pub trait Sink {
    /// Takes one update: a new alert, or a repeat of one inside its dedup
    /// period.
    fn apply(&mut self, update: AlertUpdate) -> Result<(), SinkError>;

    /// Called once after the last update (a writer flushes here).
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// The alerts in the order they were raised, each as its latest revision
/// stands (repeats, beacons and incidents applied; a revision is found from
/// the latest alert back, so this suits tests and small runs: a large one
/// keeps an [`AlertBook`]).
impl Sink for Vec<Alert> {
    fn apply(&mut self, update: AlertUpdate) -> Result<(), SinkError> {
        match update {
            AlertUpdate::New(alert, _) => self.push(*alert),
            revision => {
                for id in revision.revises() {
                    if let Some(alert) = self.iter_mut().rev().find(|a| a.id == id) {
                        revision.revise(alert);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Alerts by id as their latest revision stands: every repeat, beacon and
/// incident update applied. The sink a caller that keeps alerts starts from.
#[derive(Debug, Default)]
pub struct AlertBook(pub std::collections::BTreeMap<String, Alert>);

impl Sink for AlertBook {
    fn apply(&mut self, update: AlertUpdate) -> Result<(), SinkError> {
        match update {
            AlertUpdate::New(alert, _) => {
                self.0.insert(alert.id.clone(), *alert);
            }
            revision => {
                for id in revision.revises() {
                    if let Some(alert) = self.0.get_mut(id) {
                        revision.revise(alert);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Several sinks as one: every update to each in turn (a scan that writes
/// JSON lines and fills a store, say).
pub struct Fanout<'a, 'b>(pub &'a mut [&'b mut dyn Sink]);

impl Sink for Fanout<'_, '_> {
    fn apply(&mut self, update: AlertUpdate) -> Result<(), SinkError> {
        let Some((last, rest)) = self.0.split_last_mut() else {
            return Ok(());
        };
        for sink in rest {
            sink.apply(update.clone())?;
        }
        last.apply(update)
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.0.iter_mut().try_for_each(|sink| sink.finish())
    }
}

/// How a run orders its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The whole input ordered by event time first: a scan of unordered
    /// archives (lab recordings from many dates) gives the alerts of a
    /// replay. Holds up to a bound of events in memory and the rest in
    /// sorted runs on disk ([`run_presorted`]).
    Presort,
    /// Events as they come, ordered within the reorder window only: memory
    /// bounded by the window, for input that is (nearly) in time order.
    Stream,
}

/// Runs every batch through `detector` to `sink`, then releases what is
/// still buffered, and finishes the sink. The first sink error stops the
/// run and is returned.
pub fn run(
    detector: &mut Detector,
    batches: impl IntoIterator<Item = Vec<Event>>,
    order: Order,
    sink: &mut dyn Sink,
) -> Result<(), SinkError> {
    let mut updates = Vec::new();
    match order {
        Order::Stream => {
            for batch in batches {
                for event in batch {
                    detector.push(event, &mut updates);
                    drain(&mut updates, sink)?;
                }
            }
        }
        Order::Presort => {
            return run_presorted(detector, batches, &SortBuffer::default(), sink).map(|_| ());
        }
    }
    finish(detector, &mut updates, sink)
}

/// [`run`] in [`Order::Presort`], holding at most `buffer.bytes` of events in
/// memory (the rest goes to sorted runs on disk: [`crate::presort`]). The
/// detector sees the same sequence whatever the bound. Returns what the
/// presort did; a run that cannot be written or read back stops the run.
pub fn run_presorted(
    detector: &mut Detector,
    batches: impl IntoIterator<Item = Vec<Event>>,
    buffer: &SortBuffer,
    sink: &mut dyn Sink,
) -> Result<PresortStats, SinkError> {
    let mut updates = Vec::new();
    let mut presort = Presort::new(buffer.clone());
    for event in batches.into_iter().flatten() {
        presort.push(event)?;
    }
    let sorted = presort.into_sorted()?;
    let stats = sorted.stats();
    for event in sorted {
        detector.push(event?, &mut updates);
        drain(&mut updates, sink)?;
    }
    finish(detector, &mut updates, sink)?;
    Ok(stats)
}

/// The end of a run: what is still buffered is released, and the sink finished.
fn finish(
    detector: &mut Detector,
    updates: &mut Vec<AlertUpdate>,
    sink: &mut dyn Sink,
) -> Result<(), SinkError> {
    detector.flush(updates);
    drain(updates, sink)?;
    sink.finish()
}

/// A live batch through a long-running detector: each event is pushed with
/// the wall time it arrived at (`Detector::push_live`, which refuses one
/// stamped too far ahead of it); nothing is flushed, the reorder buffer
/// carries over to the next batch. Returns the latest time among the events
/// taken.
pub fn feed_live(
    detector: &mut Detector,
    batch: impl IntoIterator<Item = Event>,
    wall_now: Timestamp,
    sink: &mut dyn Sink,
) -> Result<Option<Timestamp>, SinkError> {
    let mut updates = Vec::new();
    let mut latest = None::<Timestamp>;
    for event in batch {
        let time = event.time;
        if detector.push_live(event, wall_now, &mut updates) {
            latest = Some(latest.map_or(time, |l| l.max(time)));
        }
        drain(&mut updates, sink)?;
    }
    Ok(latest)
}

/// Releases what is buffered up to `upto` on a feed gone quiet
/// (`Detector::release_through`), its alerts to the sink.
pub fn release_live(
    detector: &mut Detector,
    upto: Timestamp,
    sink: &mut dyn Sink,
) -> Result<(), SinkError> {
    let mut updates = Vec::new();
    detector.release_through(upto, &mut updates);
    drain(&mut updates, sink)
}

fn drain(updates: &mut Vec<AlertUpdate>, sink: &mut dyn Sink) -> Result<(), SinkError> {
    updates.drain(..).try_for_each(|update| sink.apply(update))
}
