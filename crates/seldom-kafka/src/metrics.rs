//! A worker's own counters, in the Prometheus text format
//! (`prometheus-client`): transactions committed and aborted, sessions
//! restarted, records in and out, events processed, and what restoring
//! partitions from the changelogs cost. Consumer lag per partition is
//! measured by the worker's loop and set here. Beside them, the worker's
//! readiness: `/readyz` answers 503 with the reason while a session starts,
//! restores partitions or has just aborted a transaction.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Default)]
pub struct WorkerMetrics {
    pub commits: Counter,
    pub aborts: Counter,
    pub sessions_restarted: Counter,
    pub records_in: Counter,
    pub records_out: Counter,
    /// Events the worker's host partitions have processed.
    pub events: Gauge,
    /// Input records that did not decode (counted by the ingestor, skipped).
    pub malformed_records: Gauge,
    pub restored_bytes: Counter,
    /// Partitions restored from a local copy (`--state`) the changelog
    /// confirmed.
    pub restored_from_cache: Counter,
    /// How long the last restore of newly assigned partitions took.
    pub restore_seconds: Gauge<f64, AtomicU64>,
    /// Bytes of the last snapshot written, per partition of a changelog.
    pub state_bytes: Family<Vec<(String, String)>, Gauge>,
    /// Records behind the end, per partition consumed.
    pub lag: Family<Vec<(String, String)>, Gauge>,
    /// New alerts an allowlist entry covered, not published.
    pub suppressed_by_allowlist: Counter,
    /// Entries of the allowlist topic this worker holds.
    pub allowlist_entries: Gauge,
    registry: Mutex<Option<Registry>>,
    /// Why the worker is not ready (`None`: ready). It starts unready.
    unready: Mutex<Option<String>>,
}

impl WorkerMetrics {
    pub fn new() -> Self {
        let metrics = WorkerMetrics::default();
        metrics.set_unready("starting");
        metrics
    }

    /// The worker cannot do its work now, and why.
    pub fn set_unready(&self, reason: impl Into<String>) {
        *self
            .unready
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason.into());
    }

    /// A transaction committed (or there was nothing to commit) with every
    /// assigned partition restored.
    pub fn set_ready(&self) {
        *self
            .unready
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    pub fn unready_reason(&self) -> Option<String> {
        self.unready
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn observe_restore(&self, took: Duration) {
        self.restore_seconds.set(took.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut guard = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let registry = guard.get_or_insert_with(|| self.registry());
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, registry);
        text
    }

    fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("seldom_worker");
        r.register(
            "transactions_committed",
            "Transactions committed",
            self.commits.clone(),
        );
        r.register(
            "transactions_aborted",
            "Transactions aborted",
            self.aborts.clone(),
        );
        r.register(
            "sessions_restarted",
            "Sessions torn down and started afresh from what was committed",
            self.sessions_restarted.clone(),
        );
        r.register(
            "records_in",
            "Records consumed and committed",
            self.records_in.clone(),
        );
        r.register(
            "records_out",
            "Records produced and committed",
            self.records_out.clone(),
        );
        r.register(
            "events",
            "Events processed by this worker's host partitions",
            self.events.clone(),
        );
        r.register(
            "malformed_records",
            "Input records that did not decode, skipped",
            self.malformed_records.clone(),
        );
        r.register(
            "restored_bytes",
            "Bytes of state restored from the changelogs",
            self.restored_bytes.clone(),
        );
        r.register(
            "restored_from_local_copy",
            "Partitions restored from the local copy (--state), confirmed by the changelog",
            self.restored_from_cache.clone(),
        );
        r.register(
            "restore_seconds",
            "Time the last restore of newly assigned partitions took",
            self.restore_seconds.clone(),
        );
        r.register(
            "state_bytes",
            "Bytes of the last snapshot written, per changelog partition",
            self.state_bytes.clone(),
        );
        r.register(
            "suppressed_by_allowlist",
            "New alerts an allowlist entry covered, not published",
            self.suppressed_by_allowlist.clone(),
        );
        r.register(
            "allowlist_entries",
            "Allowlist entries this worker holds",
            self.allowlist_entries.clone(),
        );
        r.register(
            "consumer_lag",
            "Records behind the end, per partition",
            self.lag.clone(),
        );
        r
    }
}

/// Answers `GET /metrics`, `/healthz` (the process answers) and `/readyz`
/// (200, or 503 with the reason) on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, metrics: std::sync::Arc<WorkerMetrics>) {
    use axum::http::StatusCode;
    let readiness = metrics.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.render(),
                    )
                }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let reason = readiness.unready_reason();
                async move {
                    match reason {
                        None => (StatusCode::OK, "ready\n".to_owned()),
                        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
                    }
                }
            }),
        );
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("seldom worker: metrics endpoint: {e}");
    }
}
