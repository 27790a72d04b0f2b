//! The detection thread.
//!
//! DESIGN §4: only the edges are async. HTTP handlers and the file tailer
//! decode their input and hand over batches of events through one channel;
//! a single thread owns the [`Detector`], keeps the alert index up to date
//! (visible to the API at once) and checkpoints everything at an interval
//! and on shutdown. Each batch holds a queue slot of the [`Service`] until
//! it is detected (ingest answers 429 when none is free), so memory stays
//! bounded when detection lags.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::Result;
use seldom_detect::Detector;
use seldom_model::{Event, Timestamp};

use crate::alert_sink::AlertIndexSink;
use crate::alerts::AlertRecord;
use crate::queue::{Question, Work, decode_bytes, name_batch};
use crate::service::Service;
use crate::store::{Checkpoint, TailOffset};

/// The detection thread's own state.
pub struct Detection {
    pub detector: Detector,
    pub offsets: BTreeMap<String, TailOffset>,
    pub inbox_done: u64,
    pub retention: Duration,
    pub checkpoint_interval: Duration,
    /// How long (wall time) events may wait in the reorder buffer.
    pub reorder_wall_timeout: Duration,
    /// Per detected batch, when it arrived and its latest event time: once a
    /// batch has waited `reorder_wall_timeout`, the buffer is released up to
    /// its time, whether or not the organization's clock has passed it.
    held: VecDeque<(Instant, Timestamp)>,
    /// Whether anything was detected since the last checkpoint: an idle
    /// service writes nothing.
    changed: bool,
    dirty: BTreeSet<String>,
}

impl Detection {
    pub fn new(
        detector: Detector,
        offsets: BTreeMap<String, TailOffset>,
        inbox_done: u64,
        retention: Duration,
        checkpoint_interval: Duration,
    ) -> Self {
        Detection {
            detector,
            offsets,
            inbox_done,
            retention,
            checkpoint_interval,
            reorder_wall_timeout: Duration::from_secs(5),
            held: VecDeque::new(),
            changed: false,
            dirty: BTreeSet::new(),
        }
    }

    /// Detects the batches acknowledged after the last checkpoint again, in
    /// order, decoded exactly as live (under the name `http`, then named
    /// after their batch).
    pub fn replay(&mut self, inbox: Vec<(u64, Vec<u8>)>, shared: &Service) {
        // What the last checkpoint left in the reorder buffer waits its
        // wall-time turn like a batch that has just arrived.
        if let Some(latest) = self.detector.latest_buffered() {
            self.held.push_back((Instant::now(), latest));
        }
        self.publish_status(shared);
        let replayed = inbox.len();
        for (seq, body) in inbox {
            let (mut events, stats) = decode_bytes(&body, "http", shared.host_naming());
            name_batch(&mut events, seq);
            shared.metrics().count(&stats);
            self.detect(events, shared);
            self.inbox_done = seq;
        }
        if replayed > 0 {
            eprintln!("seldom serve: replayed {replayed} ingest batches from the inbox");
        }
    }

    /// Runs until `Shutdown` (or every sender is gone), then checkpoints;
    /// returns whether that final checkpoint was committed.
    pub fn run(mut self, shared: Arc<Service>, work: Receiver<Work>) -> bool {
        let mut last = Instant::now();
        loop {
            let mut wait = self.checkpoint_interval.saturating_sub(last.elapsed());
            if let Some((arrived, _)) = self.held.front() {
                wait = wait.min(self.reorder_wall_timeout.saturating_sub(arrived.elapsed()));
            }
            match work.recv_timeout(wait) {
                Ok(Work::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(item) => self.handle(item, &shared),
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.release_held(&shared);
            if last.elapsed() >= self.checkpoint_interval {
                self.checkpoint(&shared);
                last = Instant::now();
            }
        }
        // Work still queued behind the shutdown was acknowledged: finish it.
        while let Ok(item) = work.try_recv() {
            if !matches!(item, Work::Shutdown) {
                self.handle(item, &shared);
            }
        }
        self.checkpoint(&shared)
    }

    pub fn handle(&mut self, item: Work, shared: &Service) {
        match item {
            Work::Http { seq, events, slot } => {
                self.detect(events, shared);
                self.inbox_done = self.inbox_done.max(seq);
                // Detected: its place in the queue is free.
                drop(slot);
            }
            Work::Tail {
                key,
                offset,
                events,
                slot,
            } => {
                if !events.is_empty() {
                    self.detect(events, shared);
                }
                self.changed |= self.offsets.get(&key) != Some(&offset);
                self.offsets.insert(key, offset);
                self.publish_inputs(shared);
                drop(slot);
            }
            Work::TailDone { key, slot } => {
                self.changed |= self.offsets.remove(&key).is_some();
                self.publish_inputs(shared);
                drop(slot);
            }
            Work::Destination { key, reply } => {
                let _ = reply.send(self.detector.destination(&key));
            }
            Work::Explain { question, reply } => {
                let verdict = match question {
                    Question::Alert(alert) => self.detector.explain_alert(&alert),
                    Question::WhatIf {
                        host,
                        destination,
                        image,
                        platform,
                        at,
                    } => {
                        // By default, now as the organization's clock has it.
                        let at = at
                            .or_else(|| self.detector.clock())
                            .unwrap_or_else(Timestamp::now);
                        self.detector.explain_what_if(
                            &host,
                            &destination,
                            image.as_deref(),
                            platform,
                            at,
                        )
                    }
                };
                let _ = reply.send(verdict);
            }
            Work::Shutdown => {}
        }
    }

    /// Detects one batch (also used to replay the inbox at start). Events
    /// stamped more than `future_tolerance` ahead of the wall clock are
    /// counted and refused: they would hold the buffer for ever.
    pub fn detect(&mut self, events: Vec<Event>, shared: &Service) {
        let n = events.len() as u64;
        self.changed = true;
        let mut sink = AlertIndexSink {
            shared,
            dirty: &mut self.dirty,
        };
        match seldom_detect::run::feed_live(&mut self.detector, events, Timestamp::now(), &mut sink)
        {
            Ok(Some(latest)) => self.held.push_back((Instant::now(), latest)),
            Ok(None) => {}
            Err(e) => eprintln!("seldom serve: alerts not indexed: {e}"),
        }
        shared
            .metrics()
            .events_detected
            .fetch_add(n, Ordering::Relaxed);
        self.publish_status(shared);
    }

    /// The tailed files' detected offsets, by identity key.
    fn publish_inputs(&self, shared: &Service) {
        shared.publish(|status| status.inputs = crate::tail_status::inputs(&self.offsets));
    }

    /// What the status page and metrics show of the detector.
    fn publish_status(&self, shared: &Service) {
        shared.publish(|status| {
            status.baseline_keys = self.detector.baseline_keys();
            status.activation = self.detector.activation();
            status.latest_event = self.detector.latest_event_time();
            status.clock = self.detector.clock();
            status.late_events = self.detector.stats().late_events;
            status.future_events = self.detector.stats().future_events;
            (status.buffered_events, status.buffered_bytes) = self.detector.buffered();
            status.reorder_overflow = self.detector.stats().reorder_overflow;
        });
    }

    /// Releases the reorder buffer up to the latest time of the batches that
    /// have waited `reorder_wall_timeout`: on a quiet feed, nothing else would.
    fn release_held(&mut self, shared: &Service) {
        let mut upto = None::<Timestamp>;
        while let Some((arrived, latest)) = self.held.front() {
            if arrived.elapsed() < self.reorder_wall_timeout {
                break;
            }
            upto = Some(upto.map_or(*latest, |u| u.max(*latest)));
            self.held.pop_front();
        }
        if let Some(upto) = upto {
            self.changed = true;
            let mut sink = AlertIndexSink {
                shared,
                dirty: &mut self.dirty,
            };
            if let Err(e) = seldom_detect::run::release_live(&mut self.detector, upto, &mut sink) {
                eprintln!("seldom serve: alerts not indexed: {e}");
            }
            self.publish_status(shared);
        }
    }

    /// Commits the detector's state, offsets, inbox position and changed
    /// alerts together; drops alerts past retention. After a failed write
    /// the store is reopened first (redb takes no write until then), and the
    /// service is ready again only once a checkpoint has been committed.
    pub fn checkpoint(&mut self, shared: &Service) -> bool {
        let store_ok = shared.store_ok();
        let result = if store_ok {
            self.try_checkpoint(shared)
        } else {
            shared
                .store()
                .reopen()
                .and_then(|()| self.try_checkpoint(shared))
        };
        match result {
            Ok(()) => {
                shared.metrics().checkpoints.fetch_add(1, Ordering::Relaxed);
                shared.publish(|status| status.last_checkpoint = Some(Instant::now()));
                if !store_ok {
                    eprintln!("seldom serve: the store takes writes again");
                    shared.store_recovered();
                }
                true
            }
            Err(e) => {
                shared
                    .metrics()
                    .checkpoint_failures
                    .fetch_add(1, Ordering::Relaxed);
                if store_ok {
                    eprintln!("seldom serve: checkpoint failed (not ready; will retry): {e:#}");
                }
                shared.store_failed(&e);
                false
            }
        }
    }

    fn try_checkpoint(&mut self, shared: &Service) -> Result<()> {
        let store_ok = shared.store_ok();
        if store_ok && !self.changed && self.dirty.is_empty() {
            return Ok(());
        }
        // Encoded before the alert index is locked: the API keeps reading
        // alerts while the (large) state is encoded.
        let state = crate::store::encode(self.detector.state())?;
        let delta = self.detector.reorder_delta();
        let reorder = crate::store::encode_reorder(&delta)?;
        let mut alerts = shared.alerts_mut()?;
        // Retention follows the organization's clock (which no single host
        // moves), and never runs ahead of the wall clock.
        let expired = match self.detector.clock() {
            Some(clock) => {
                let now = clock.min(Timestamp::now());
                let retention = i64::try_from(self.retention.as_micros()).unwrap_or(i64::MAX);
                alerts.expire(Timestamp::from_micros(
                    now.as_micros().saturating_sub(retention),
                ))
            }
            None => Vec::new(),
        };
        let changed: Vec<&AlertRecord> =
            self.dirty.iter().filter_map(|id| alerts.get(id)).collect();
        shared.store().checkpoint(Checkpoint {
            state,
            offsets: &self.offsets,
            inbox_done: self.inbox_done,
            alerts: changed,
            expired_alerts: expired,
            reorder,
        })?;
        self.detector.reorder_committed(&delta);
        self.changed = false;
        self.dirty.clear();
        Ok(())
    }
}
