//! What the service reports about itself: the live counters the edges and
//! the detection thread add to ([`Metrics`]), what the detection thread
//! publishes after each batch ([`DetectorStatus`]), and the one typed
//! [`StatusSnapshot`] taken of them, which `GET /api/v1/status` serializes
//! and `/metrics` ([`crate::prometheus`]) renders. One snapshot for both
//! means a figure cannot say one thing in JSON and another to Prometheus.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use seldom_detect::ActivationProgress;
use seldom_ingest::IngestStats;
use seldom_model::{Platform, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::tail_status::{InputOffset, TailStatus};

/// Counters since the start, for `/metrics` and the status page.
#[derive(Default)]
pub struct Metrics {
    pub events_in: Mutex<BTreeMap<&'static str, u64>>,
    pub skipped: Mutex<BTreeMap<&'static str, u64>>,
    pub alerts_by_variation: Mutex<BTreeMap<String, u64>>,
    pub events_detected: AtomicU64,
    pub suppressed_by_allowlist: AtomicU64,
    pub ingest_requests: AtomicU64,
    pub ingest_refused_full: AtomicU64,
    pub checkpoints: AtomicU64,
    pub checkpoint_failures: AtomicU64,
}

impl Metrics {
    /// Adds what one decoded batch held.
    pub fn count(&self, stats: &IngestStats) {
        if let Ok(mut events) = self.events_in.lock() {
            for (format, kinds) in &stats.events_by_format {
                *events.entry(format).or_default() += kinds.values().sum::<u64>();
            }
        }
        if let Ok(mut skipped) = self.skipped.lock() {
            for (reason, count) in &stats.skipped {
                *skipped.entry(reason).or_default() += count.count;
            }
        }
    }
}

/// What the detection thread publishes after each batch.
#[derive(Default, Clone)]
pub struct DetectorStatus {
    pub baseline_keys: usize,
    pub activation: Vec<ActivationProgress>,
    pub last_checkpoint: Option<Instant>,
    pub latest_event: Option<Timestamp>,
    /// The organization's clock (see `seldom_detect::clock`).
    pub clock: Option<Timestamp>,
    pub late_events: u64,
    pub future_events: u64,
    /// Events (and about how many bytes) waiting in the reorder buffer.
    pub buffered_events: usize,
    pub buffered_bytes: usize,
    pub reorder_overflow: u64,
    /// Tailed files: bytes detected so far (committed at the next
    /// checkpoint), by identity key.
    pub inputs: BTreeMap<String, InputOffset>,
}

/// The service's figures at one moment: `GET /api/v1/status`, and every
/// family of `/metrics`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusSnapshot {
    pub version: String,
    pub uptime_seconds: f64,
    /// Events decoded from ingest and tailed files, by source format.
    pub events_in: BTreeMap<String, u64>,
    /// Events the detector has processed.
    pub events_detected: u64,
    /// `events_detected` over the uptime.
    pub events_per_second: f64,
    /// Malformed records skipped, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Alerts raised since the start, by variation.
    pub alerts_by_variation: BTreeMap<String, u64>,
    /// Alerts the service keeps (within `serve.alert_retention`).
    pub alerts_kept: usize,
    /// New alerts an allowlist entry covered.
    pub suppressed_by_allowlist: u64,
    /// Batches waiting for the detection thread.
    pub queue_depth: usize,
    /// Batches accepted before ingest answers 429.
    pub queue_capacity: usize,
    /// Ingest requests refused because the queue was full.
    pub ingest_refused_full: u64,
    pub checkpoints: u64,
    pub checkpoint_failures: u64,
    /// Seconds since the last committed checkpoint; null before the first.
    pub checkpoint_age_seconds: Option<f64>,
    /// Destination keys in the prevalence baseline.
    pub baseline_keys: usize,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub latest_event: Option<Timestamp>,
    /// The organization's clock: the latest time a quorum of hosts reached.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub clock: Option<Timestamp>,
    /// Records that arrived after the organization's clock had passed them.
    pub late_events: u64,
    /// Records stamped too far ahead of the wall clock, refused.
    pub future_events: u64,
    /// Events waiting in the reorder buffer, and about how many bytes.
    pub buffered_events: usize,
    pub buffered_bytes: usize,
    /// Events released early because the reorder buffer was full.
    pub reorder_overflow: u64,
    /// Per platform, how far its activation period has come.
    pub activation: Vec<Activation>,
    /// Tailed files' bytes detected (committed at the next checkpoint), by
    /// identity key.
    pub inputs: BTreeMap<String, DetectedInput>,
    pub tail: TailSnapshot,
    pub ready: bool,
    /// Why the service takes no ingest now (null when ready).
    pub unready_reason: Option<String>,
}

/// One platform's activation: alerts start once `days_seen` reaches
/// `activation_days`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Activation {
    #[schema(value_type = String, example = "windows")]
    pub platform: Platform,
    pub days_seen: u32,
    pub activation_days: u32,
    pub active: bool,
}

/// A tailed file's bytes handed to detection.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectedInput {
    pub path: String,
    pub offset: u64,
}

/// The followed files as the tailer last saw them.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TailSnapshot {
    pub files: Vec<TailedFile>,
    /// Followed files that vanished with bytes unread, and those bytes (at
    /// least: a file may have grown after its last look).
    pub vanished_files: u64,
    pub vanished_unread_bytes: u64,
    pub vanished: Vec<VanishedFile>,
    /// Compressed rotations the patterns match, not followed.
    pub compressed_skipped: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TailedFile {
    pub identity: String,
    pub path: String,
    /// Bytes read and handed to detection.
    pub offset: u64,
    pub size: u64,
    pub lag_bytes: u64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_read: Option<Timestamp>,
    pub rotated: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VanishedFile {
    pub identity: String,
    pub path: String,
    pub offset: u64,
    pub unread_bytes: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

impl From<&ActivationProgress> for Activation {
    fn from(p: &ActivationProgress) -> Self {
        Activation {
            platform: p.platform,
            days_seen: p.days_seen,
            activation_days: p.activation_days,
            active: p.active,
        }
    }
}

/// The tailer's own view, copied field by field: a field the tailer adds
/// shows in the status (and its schema) once it is named here.
impl From<&TailStatus> for TailSnapshot {
    fn from(t: &TailStatus) -> Self {
        TailSnapshot {
            files: t
                .files
                .iter()
                .map(|f| TailedFile {
                    identity: f.identity.clone(),
                    path: f.path.clone(),
                    offset: f.offset,
                    size: f.size,
                    lag_bytes: f.lag_bytes,
                    last_read: f.last_read,
                    rotated: f.rotated,
                })
                .collect(),
            vanished_files: t.vanished_files,
            vanished_unread_bytes: t.vanished_unread_bytes,
            vanished: t
                .vanished
                .iter()
                .map(|v| VanishedFile {
                    identity: v.identity.clone(),
                    path: v.path.clone(),
                    offset: v.offset,
                    unread_bytes: v.unread_bytes,
                    at: v.at,
                })
                .collect(),
            compressed_skipped: t.compressed_skipped,
        }
    }
}

/// The parts a snapshot is taken from, each read under its own lock by
/// [`crate::service::Service::status`].
pub(crate) struct SnapshotParts<'a> {
    pub metrics: &'a Metrics,
    pub detector: DetectorStatus,
    pub tail: TailSnapshot,
    pub uptime_seconds: f64,
    pub alerts_kept: usize,
    pub queue_depth: usize,
    pub queue_capacity: usize,
    pub unready_reason: Option<String>,
}

impl StatusSnapshot {
    pub(crate) fn take(parts: SnapshotParts<'_>) -> StatusSnapshot {
        use std::sync::atomic::Ordering::Relaxed;
        let m = parts.metrics;
        let names = |map: &Mutex<BTreeMap<&'static str, u64>>| -> BTreeMap<String, u64> {
            map.lock()
                .map(|m| m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
                .unwrap_or_default()
        };
        let d = parts.detector;
        let uptime = parts.uptime_seconds;
        let detected = m.events_detected.load(Relaxed);
        StatusSnapshot {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: uptime,
            events_in: names(&m.events_in),
            events_detected: detected,
            events_per_second: if uptime > 0.0 {
                detected as f64 / uptime
            } else {
                0.0
            },
            skipped: names(&m.skipped),
            alerts_by_variation: m
                .alerts_by_variation
                .lock()
                .map(|a| a.clone())
                .unwrap_or_default(),
            alerts_kept: parts.alerts_kept,
            suppressed_by_allowlist: m.suppressed_by_allowlist.load(Relaxed),
            queue_depth: parts.queue_depth,
            queue_capacity: parts.queue_capacity,
            ingest_refused_full: m.ingest_refused_full.load(Relaxed),
            checkpoints: m.checkpoints.load(Relaxed),
            checkpoint_failures: m.checkpoint_failures.load(Relaxed),
            checkpoint_age_seconds: d.last_checkpoint.map(|t| t.elapsed().as_secs_f64()),
            baseline_keys: d.baseline_keys,
            latest_event: d.latest_event,
            clock: d.clock,
            late_events: d.late_events,
            future_events: d.future_events,
            buffered_events: d.buffered_events,
            buffered_bytes: d.buffered_bytes,
            reorder_overflow: d.reorder_overflow,
            activation: d.activation.iter().map(Activation::from).collect(),
            inputs: d
                .inputs
                .into_iter()
                .map(|(key, at)| {
                    let input = DetectedInput {
                        path: at.path,
                        offset: at.offset,
                    };
                    (key, input)
                })
                .collect(),
            tail: parts.tail,
            ready: parts.unready_reason.is_none(),
            unready_reason: parts.unready_reason,
        }
    }
}
