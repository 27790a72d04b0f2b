//! The service object: what the HTTP edge, the file tailer and the
//! detection thread share (the store, the alert index, the allowlist, the
//! queue to the detection thread, the counters and the health), behind
//! methods that keep its rules in one place: a batch takes a queue slot
//! before any work and gives it back when its [`QueueSlot`] drops, whatever
//! path returns; the service is ready only when detection runs, the store
//! takes writes and the inbox has been replayed; a status is one
//! [`StatusSnapshot`].
//!
//! What an ingest request does is in [`ingest`]; what analysts read and
//! decide (triage, allowlist, destinations) in [`triage`].

pub mod ingest;
pub mod triage;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use anyhow::{Result, anyhow};
use seldom_model::HostNaming;

use crate::alerts::AlertIndex;
use crate::allowlist::Entry;
use crate::queue::{QueueSlot, Work};
use crate::status::{DetectorStatus, Metrics, SnapshotParts, StatusSnapshot, TailSnapshot};
use crate::store::Store;
use crate::tail_status::{InputOffset, TailStatus};

/// Everything the edges and the detection thread share.
pub struct Service {
    store: Store,
    alerts: RwLock<AlertIndex>,
    allowlist: RwLock<Vec<Entry>>,
    detector: RwLock<DetectorStatus>,
    health: Health,
    work: Mutex<Sender<Work>>,
    /// Ingest batches waiting to be stored, and the outcomes of the ones a
    /// group commit stored for their callers (see [`ingest`]).
    ingest_group: ingest::GroupCommit,
    started: Instant,
    /// The catalog's variation ids, which allowlist entries must name.
    variations: Arc<[String]>,
    // Crate-visible for the tailer (`tail.rs`, reworked elsewhere), which
    // counts its own queue slots, names its events and publishes its status
    // through them; the detection thread adds to the counters. Once the
    // tailer takes a `QueueSlot` through `try_slot`, and the counters have
    // methods, they can be private.
    metrics: Metrics,
    /// Batches handed to the detection thread and not yet processed; shared
    /// with every [`QueueSlot`].
    queued: Arc<AtomicUsize>,
    queue_capacity: usize,
    host_naming: HostNaming,
    /// The tailed files as the tailer last saw them.
    tail: Mutex<TailStatus>,
    /// Set when the service follows a Kafka cluster (`serve --kafka`).
    cluster: Option<ClusterLink>,
}

/// What a service following a Kafka cluster writes there: allowlist
/// entries, confirmed before they are answered.
pub struct ClusterLink {
    pub publisher: seldom_kafka::publish::Publisher,
    pub topics: seldom_kafka::config::Topics,
}

/// Whether the service can take work, and why not.
struct Health {
    /// The inbox has been replayed after a start.
    replayed: AtomicBool,
    /// The store takes writes; false from a failed write (a full disk) until
    /// a checkpoint after reopening it succeeds.
    store_ok: AtomicBool,
    store_error: Mutex<Option<String>>,
    /// The detection thread runs (an [`AliveGuard`] in it clears this as it
    /// ends, panics included).
    detection_alive: AtomicBool,
    /// What the service does before it is ready: replaying its inbox, or
    /// reading a cluster's alerts and allowlist to their end.
    catching_up: &'static str,
}

/// What the store gave back at start, for the service to hold.
pub struct Opened {
    pub store: Store,
    pub alerts: AlertIndex,
    pub allowlist: Vec<Entry>,
    /// The tailed files as the last checkpoint left them: a file read to its
    /// end before a restart has nothing new to report, yet is not unread.
    pub inputs: BTreeMap<String, InputOffset>,
}

/// Why a batch was given no queue slot.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not ready (replaying, the store cannot write, detection stopped).
    Unready(String),
    /// `serve.queue_batches` batches are waiting.
    Full,
    /// This service detects nothing itself (it follows a Kafka cluster);
    /// telemetry goes to the cluster's input topic.
    Elsewhere(String),
}

impl Service {
    pub fn new(
        opened: Opened,
        queue_capacity: usize,
        host_naming: HostNaming,
        variations: Arc<[String]>,
        work: Sender<Work>,
    ) -> Service {
        Service {
            store: opened.store,
            alerts: RwLock::new(opened.alerts),
            allowlist: RwLock::new(opened.allowlist),
            detector: RwLock::new(DetectorStatus {
                inputs: opened.inputs,
                ..DetectorStatus::default()
            }),
            health: Health {
                replayed: AtomicBool::new(false),
                store_ok: AtomicBool::new(true),
                store_error: Mutex::new(None),
                detection_alive: AtomicBool::new(true),
                catching_up: "replaying the inbox after a restart",
            },
            work: Mutex::new(work),
            ingest_group: ingest::GroupCommit::default(),
            started: Instant::now(),
            variations,
            metrics: Metrics::default(),
            queued: Arc::new(AtomicUsize::new(0)),
            queue_capacity,
            host_naming,
            tail: Mutex::default(),
            cluster: None,
        }
    }

    /// Makes this a service that follows a Kafka cluster: ingest is refused
    /// (telemetry goes to the input topic), allowlist entries are published
    /// before they are kept.
    pub fn follow_cluster(&mut self, link: ClusterLink) {
        self.health.catching_up = "reading the cluster's alerts and allowlist to their end";
        self.cluster = Some(link);
    }

    /// The cluster this service follows, if it follows one.
    pub fn cluster(&self) -> Option<&ClusterLink> {
        self.cluster.as_ref()
    }

    /// Why the service cannot take work now, if it cannot: `/readyz` and
    /// ingest answer 503 with it.
    pub fn unready_reason(&self) -> Option<String> {
        let h = &self.health;
        if !h.detection_alive.load(Ordering::Acquire) {
            return Some("detection has stopped".to_owned());
        }
        if !h.store_ok.load(Ordering::Acquire) {
            let error = h
                .store_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_default();
            return Some(format!("the store cannot write ({error}); retrying"));
        }
        if !h.replayed.load(Ordering::Acquire) {
            return Some(h.catching_up.to_owned());
        }
        None
    }

    pub fn is_ready(&self) -> bool {
        self.unready_reason().is_none()
    }

    /// The inbox acknowledged before the last stop has been detected again
    /// (or, following a cluster, its topics have been read to their end).
    pub fn mark_replayed(&self) {
        self.health.replayed.store(true, Ordering::Release);
    }

    /// A write to the store failed: not ready until a checkpoint succeeds.
    pub fn store_failed(&self, error: &anyhow::Error) {
        if let Ok(mut slot) = self.health.store_error.lock() {
            *slot = Some(format!("{error:#}"));
        }
        self.health.store_ok.store(false, Ordering::Release);
    }

    /// Whether the store takes writes (no failed write since the last
    /// committed checkpoint).
    pub fn store_ok(&self) -> bool {
        self.health.store_ok.load(Ordering::Acquire)
    }

    /// A checkpoint committed after a failed write.
    pub fn store_recovered(&self) {
        self.health.store_ok.store(true, Ordering::Release);
    }

    /// For the detection thread to hold: as it ends (a panic included), the
    /// service stops saying it is ready.
    pub fn alive_guard(self: &Arc<Self>) -> AliveGuard {
        AliveGuard(self.clone())
    }

    /// A queue slot if one is free, without the readiness check (the tailer
    /// waits for a slot instead of being refused).
    pub fn try_slot(&self) -> Option<QueueSlot> {
        QueueSlot::take(&self.queued, self.queue_capacity)
    }

    /// Whether the queue is full: the tailer then leaves its files for
    /// later (nothing is lost; they are read when detection catches up).
    pub fn queue_full(&self) -> bool {
        self.queued.load(Ordering::Acquire) >= self.queue_capacity
    }

    /// A slot for the tailer's work, counted whatever the queue holds: it
    /// checked [`Service::queue_full`] before reading, and a file's end
    /// (`Work::TailDone`) must not be dropped.
    pub fn tail_slot(&self) -> QueueSlot {
        QueueSlot::counted(&self.queued)
    }

    /// The service's counters (atomics: the threads count without a lock).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// How host names are written, for decoding.
    pub fn host_naming(&self) -> HostNaming {
        self.host_naming
    }

    /// Changes what the status shows of the followed files.
    pub fn update_tail(&self, update: impl FnOnce(&mut TailStatus)) {
        if let Ok(mut tail) = self.tail.lock() {
            update(&mut tail);
        }
    }

    /// An ingest request asks for a place in the queue: counted, refused when
    /// the service is not ready or the queue is full.
    pub fn admit(&self) -> Result<QueueSlot, Refusal> {
        self.metrics.ingest_requests.fetch_add(1, Ordering::Relaxed);
        if let Some(link) = &self.cluster {
            return Err(Refusal::Elsewhere(format!(
                "this service follows a Kafka cluster and detects nothing itself: send telemetry to the topic {} (seldom kafka produce)",
                link.topics.input
            )));
        }
        if let Some(reason) = self.unready_reason() {
            return Err(Refusal::Unready(reason));
        }
        self.try_slot().ok_or_else(|| {
            self.metrics
                .ingest_refused_full
                .fetch_add(1, Ordering::Relaxed);
            Refusal::Full
        })
    }

    /// Hands work to the detection thread; false once it has stopped taking
    /// any (the work, and a slot in it, is dropped).
    pub fn send(&self, work: Work) -> bool {
        self.work.lock().is_ok_and(|tx| tx.send(work).is_ok())
    }

    /// The figures of `/api/v1/status` and `/metrics`, at once.
    pub fn status(&self) -> StatusSnapshot {
        StatusSnapshot::take(SnapshotParts {
            metrics: &self.metrics,
            detector: self.detector.read().map(|s| s.clone()).unwrap_or_default(),
            tail: self
                .tail
                .lock()
                .map(|t| TailSnapshot::from(&*t))
                .unwrap_or_default(),
            uptime_seconds: self.started.elapsed().as_secs_f64(),
            alerts_kept: self.alerts.read().map(|a| a.len()).unwrap_or(0),
            queue_depth: self.queued.load(Ordering::Relaxed),
            queue_capacity: self.queue_capacity,
            unready_reason: self.unready_reason(),
        })
    }

    /// What the detection thread publishes of the detector.
    pub fn publish(&self, update: impl FnOnce(&mut DetectorStatus)) {
        if let Ok(mut status) = self.detector.write() {
            update(&mut status);
        }
    }

    /// The durable store (the detection thread checkpoints into it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The alert index, to read. Lock order, as everywhere: allowlist, then
    /// alerts.
    pub fn alerts(&self) -> Result<RwLockReadGuard<'_, AlertIndex>> {
        self.alerts
            .read()
            .map_err(|_| anyhow!("alert index poisoned"))
    }

    /// The alert index, to change (detection, triage, checkpoints).
    pub fn alerts_mut(&self) -> Result<RwLockWriteGuard<'_, AlertIndex>> {
        self.alerts
            .write()
            .map_err(|_| anyhow!("alert index poisoned"))
    }

    /// The allowlist, to read (detection suppresses what it covers).
    pub fn allowlist(&self) -> Result<RwLockReadGuard<'_, Vec<Entry>>> {
        self.allowlist
            .read()
            .map_err(|_| anyhow!("allowlist poisoned"))
    }
}

/// Held by the detection thread: as it ends (a panic included), the
/// service stops saying it is ready.
pub struct AliveGuard(Arc<Service>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0
            .health
            .detection_alive
            .store(false, Ordering::Release);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A service on a fresh store in `dir`, ready, with a queue of `capacity`.
    pub(crate) fn service(dir: &std::path::Path, capacity: usize) -> Arc<Service> {
        let config = seldom_detect::DetectConfig::default();
        let (store, _) = Store::open(dir, &config).unwrap();
        let (work, _) = std::sync::mpsc::channel();
        let opened = Opened {
            store,
            alerts: AlertIndex::default(),
            allowlist: Vec::new(),
            inputs: BTreeMap::new(),
        };
        let variations: Arc<[String]> = Arc::from(vec!["curl".to_owned()]);
        let service = Service::new(opened, capacity, HostNaming::Short, variations, work);
        service.mark_replayed();
        Arc::new(service)
    }

    #[test]
    fn a_detection_thread_that_dies_makes_the_service_unready() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path(), 1);
        assert_eq!(service.unready_reason(), None);
        let thread = {
            let guard = service.alive_guard();
            std::thread::spawn(move || {
                let _alive = guard;
                panic!("a bug in detection");
            })
        };
        assert!(thread.join().is_err());
        assert_eq!(
            service.unready_reason().as_deref(),
            Some("detection has stopped")
        );
        assert_eq!(
            service.admit().unwrap_err(),
            Refusal::Unready("detection has stopped".into())
        );
    }

    #[test]
    fn a_failed_write_makes_the_service_unready_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path(), 1);
        service.store_failed(&anyhow::anyhow!("No space left on device"));
        let reason = service.unready_reason().unwrap();
        assert!(reason.contains("No space left on device"), "{reason}");
        assert!(!service.status().ready);
        service.health.replayed.store(false, Ordering::Release);
        service.store_recovered();
        assert!(service.unready_reason().unwrap().contains("replaying"));
    }

    #[test]
    fn a_queue_slot_is_given_back_on_every_path() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path(), 2);
        let first = service.admit().unwrap();
        let second = service.admit().unwrap();
        assert_eq!(service.admit().unwrap_err(), Refusal::Full);
        assert_eq!(service.status().queue_depth, 2);
        assert_eq!(service.status().ingest_refused_full, 1);
        // Dropped on a path that returns early.
        drop(first);
        assert_eq!(service.status().queue_depth, 1);
        // Dropped by a panic that unwinds past it.
        let moved = std::thread::spawn(move || {
            let _slot = second;
            panic!("a bug while storing");
        });
        assert!(moved.join().is_err());
        assert_eq!(service.status().queue_depth, 0);
        // Dropped with work the detection thread will never take (its
        // receiver is gone).
        let slot = service.admit().unwrap();
        let work = Work::Http {
            seq: 1,
            events: Vec::new(),
            slot,
        };
        assert!(!service.send(work));
        assert_eq!(service.status().queue_depth, 0);
        assert!(service.try_slot().is_some());
    }
}
