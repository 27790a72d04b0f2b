//! The HTTP edge: ingest, the REST API, health and metrics, and the embedded
//! web UI. Handlers decode and store on blocking threads and talk to the
//! detection thread only through [`Work`]; every answer is JSON (the UI's
//! assets and `/metrics` aside). Its guards are in [`crate::guards`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use seldom_model::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::alerts::{AlertQuery, Status};
use crate::allowlist::{Entry, NewEntry};
use crate::guards::{require_token, same_origin, security_headers};
use crate::pipeline::{Shared, Work, decode_bytes, name_batch};
use crate::request_body;
use crate::store::body_digest;

const OPENAPI: &str = include_str!("../assets/openapi.json");

/// The state every handler sees.
#[derive(Clone)]
pub struct App {
    pub shared: Arc<Shared>,
    pub token: Option<Arc<str>>,
    /// The catalog's variation ids, which allowlist entries must name.
    pub variations: Arc<[String]>,
    pub max_body_bytes: usize,
}

pub fn router(app: App, max_body_bytes: usize) -> Router {
    let api = Router::new()
        .route("/api/v1/ingest", post(ingest))
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}", get(get_alert).patch(patch_alert))
        .route("/api/v1/destinations/{key}", get(destination))
        .route("/api/v1/allowlist", get(list_allow).post(add_allow))
        .route("/api/v1/allowlist/{id}", delete(delete_allow))
        .route("/api/v1/status", get(status))
        .route("/metrics", get(crate::prometheus::metrics))
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token));
    Router::new()
        .merge(crate::ui_assets::router())
        .route(
            "/api/v1/openapi.json",
            get(|| asset(OPENAPI, "application/json")),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .merge(api)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(
            max_body_bytes,
            request_body::refuse_declared_oversize,
        ))
        .layer(middleware::from_fn_with_state(app.clone(), same_origin))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

async fn asset(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// Runs store work off the async workers; a failure becomes a 500 that
/// says what went wrong.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn readyz(State(app): State<App>) -> Response {
    match app.shared.unready_reason() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response(),
    }
}

/// Stores the body durably, then queues its events; answers with the counts.
/// A client may name its batch (`X-Seldom-Batch-Id`, up to 128 bytes): a
/// batch resent with the same id after a lost answer is acknowledged again
/// without being detected twice.
const BATCH_ID: &str = "x-seldom-batch-id";

async fn ingest(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if let Some(refused) = request_body::refuse_unreadable_headers(&headers) {
        return refused;
    }
    let body = match request_body::buffered(body, app.max_body_bytes) {
        Ok(body) => body,
        Err(refused) => return *refused,
    };
    let batch_id = match headers.get(BATCH_ID).map(|v| v.to_str()) {
        None => None,
        Some(Ok(id)) if !id.is_empty() && id.len() <= 128 => Some(id.to_owned()),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "X-Seldom-Batch-Id: 1 to 128 visible ASCII characters",
            );
        }
    };
    let shared = app.shared.clone();
    shared
        .metrics
        .ingest_requests
        .fetch_add(1, Ordering::Relaxed);
    if let Some(reason) = shared.unready_reason() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(json!({"error": format!("{reason}; retry"), "durable": false})),
        )
            .into_response();
    }
    // A slot is taken before the work, so that concurrent requests cannot
    // all pass a check that none of them has yet counted against.
    if shared.queued.fetch_add(1, Ordering::AcqRel) >= shared.queue_capacity {
        shared.queued.fetch_sub(1, Ordering::AcqRel);
        shared
            .metrics
            .ingest_refused_full
            .fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            Json(json!({"error": "the detection queue is full; retry after a second", "durable": false})),
        )
            .into_response();
    }
    let slot = shared.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        // Decoded before the lock, so that requests decode on every core;
        // the events are named after their batch once it has its number.
        let (mut events, stats) = decode_bytes(&body, "http", shared.host_naming);
        if events.is_empty()
            && stats.records_read == 0
            && stats.ignored.contains_key("not_telemetry")
        {
            // Binary (UTF-16 text among others): storing it would accept nothing.
            shared.queued.fetch_sub(1, Ordering::AcqRel);
            return anyhow::Ok((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                request_body::not_readable_text(),
            ));
        }
        let _order = shared
            .ingest_order
            .lock()
            .map_err(|_| anyhow::anyhow!("ingest lock poisoned"))?;
        if let Some(id) = &batch_id
            && let Some((seq, digest)) = shared.store.batch_seen(id)?
        {
            shared.queued.fetch_sub(1, Ordering::AcqRel);
            // A resend is byte for byte the batch it repeats; another body
            // under the same id is a reused id, and dropping it would lose it.
            if digest.is_some_and(|d| d != body_digest(&body)) {
                return anyhow::Ok((
                    StatusCode::CONFLICT,
                    json!({
                        "error": format!("X-Seldom-Batch-Id {id:?} was given to another body (batch {seq}); a resend must be the same bytes, a new batch needs a new id"),
                        "batch": seq,
                        "durable": false,
                    }),
                ));
            }
            return anyhow::Ok((
                StatusCode::OK,
                json!({"batch": seq, "durable": true, "duplicate": true}),
            ));
        }
        let seq = match shared.store.append_inbox(&body, batch_id.as_deref()) {
            Ok(seq) => seq,
            Err(e) => {
                shared.queued.fetch_sub(1, Ordering::AcqRel);
                // Not ready until a checkpoint gets through again.
                shared.store_failed(&e);
                return Err(e);
            }
        };
        name_batch(&mut events, seq);
        shared.metrics.count(&stats);
        let accepted = events.len();
        if !shared.send(Work::Http { seq, events }) {
            shared.queued.fetch_sub(1, Ordering::AcqRel);
        }
        anyhow::Ok((StatusCode::OK, json!({
            "batch": seq,
            "durable": true,
            "records": stats.records_read,
            "accepted": accepted,
            "skipped": stats.skipped.iter().map(|(k, v)| (k.to_string(), v.count)).collect::<BTreeMap<_, _>>(),
            "skipped_examples": stats.skipped.iter().map(|(k, v)| (k.to_string(), &v.examples)).collect::<BTreeMap<_, _>>(),
            "ignored": stats.ignored,
        })))
    })
    .await;
    match outcome {
        Ok(Ok((status, answer))) => (status, Json(answer)).into_response(),
        Ok(Err(e)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the batch was not stored (not durable; resend it): {e:#}"),
        ),
        Err(e) => {
            // The task died before it could give the slot back.
            slot.queued.fetch_sub(1, Ordering::AcqRel);
            error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}"))
        }
    }
}

async fn list_alerts(
    State(app): State<App>,
    query: Result<Query<AlertQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "unknown or malformed query parameter",
        );
    };
    let Ok(alerts) = app.shared.alerts.read() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "alert index unavailable");
    };
    match alerts.query(&query) {
        Ok(page) => Json(page).into_response(),
        Err(bad) => error(StatusCode::BAD_REQUEST, bad.0),
    }
}

async fn get_alert(State(app): State<App>, Path(id): Path<String>) -> Response {
    let Ok(alerts) = app.shared.alerts.read() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "alert index unavailable");
    };
    match alerts.get(&id) {
        Some(record) => Json(record).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such alert"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageChange {
    status: Option<Status>,
    note: Option<String>,
    by: Option<String>,
}

async fn patch_alert(
    State(app): State<App>,
    Path(id): Path<String>,
    change: Result<Json<TriageChange>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let change = match change {
        Ok(Json(change)) => change,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let shared = app.shared.clone();
    let outcome = blocking(move || {
        let mut alerts = shared
            .alerts
            .write()
            .map_err(|_| anyhow::anyhow!("alert index poisoned"))?;
        let Some(record) = alerts.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(status) = change.status {
            record.triage.status = status;
        }
        if change.note.is_some() {
            record.triage.note = change.note;
        }
        record.triage.by = Some(change.by.unwrap_or_else(|| "analyst".into()));
        record.triage.at = Some(Timestamp::now());
        shared.store.put_alert(record)?;
        anyhow::Ok(Some(record.clone()))
    })
    .await;
    match outcome {
        Ok(Some(record)) => Json(record).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such alert"),
        Err(failed) => failed,
    }
}

async fn destination(State(app): State<App>, Path(key): Path<String>) -> Response {
    let (reply, answer) = tokio::sync::oneshot::channel();
    if !app.shared.send(Work::Destination {
        key: key.clone(),
        reply,
    }) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "detection is stopping");
    }
    let Ok(view) = answer.await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "detection is stopping");
    };
    let Some(view) = view else {
        return error(
            StatusCode::NOT_FOUND,
            "the baseline holds no such destination",
        );
    };
    let alerts: Vec<Value> = app
        .shared
        .alerts
        .read()
        .map(|index| {
            let mut recent: Vec<Value> = index
                .values()
                .filter(|r| r.alert.destination.key.to_string() == view.key)
                .map(|r| {
                    json!({"id": r.alert.id, "host": r.alert.host, "severity": r.alert.severity,
                           "variation": r.alert.variation, "first_seen": r.alert.first_seen,
                           "status": r.triage.status})
                })
                .collect();
            recent.sort_by(|a, b| b["first_seen"].as_str().cmp(&a["first_seen"].as_str()));
            recent.truncate(20);
            recent
        })
        .unwrap_or_default();
    let daily: Vec<Value> = view
        .daily
        .iter()
        .map(|(day, hosts)| json!({"day": day_text(*day), "hosts": hosts}))
        .collect();
    Json(json!({
        "key": view.key,
        "key_type": view.key_type,
        "hosts_in_window": view.hosts_in_window,
        "recent_hosts": view.recent_hosts,
        "first_seen": view.first_seen,
        "connections": view.connections,
        "window_days": view.window_days,
        "daily": daily,
        "alerts": alerts,
    }))
    .into_response()
}

/// A UTC day number as `YYYY-MM-DD`.
fn day_text(day: i64) -> String {
    let t = Timestamp::from_micros(day * 86_400_000_000);
    t.to_string().chars().take(10).collect()
}

async fn list_allow(State(app): State<App>) -> Response {
    let entries = app
        .shared
        .allowlist
        .read()
        .map(|a| a.clone())
        .unwrap_or_default();
    Json(json!({ "entries": entries })).into_response()
}

/// Adds an entry, then resolves the open alerts it covers.
async fn add_allow(
    State(app): State<App>,
    new: Result<Json<NewEntry>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let new = match new {
        Ok(Json(new)) => match new.validate(&app.variations) {
            Ok(new) => new,
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        },
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let shared = app.shared.clone();
    let outcome = blocking(move || {
        let now = Timestamp::now();
        let entry = Entry {
            id: format!(
                "{:016x}",
                xxhash_rust::xxh3::xxh3_64(
                    format!("{:?}{}{}", new.kind, new.value, now).as_bytes()
                )
            ),
            kind: new.kind,
            value: new.value,
            reason: new.reason,
            created_at: now,
            created_by: new.by.unwrap_or_else(|| "analyst".into()),
        };
        shared.store.put_allow(&entry)?;
        shared
            .allowlist
            .write()
            .map_err(|_| anyhow::anyhow!("allowlist poisoned"))?
            .push(entry.clone());
        let mut resolved = 0;
        let mut alerts = shared
            .alerts
            .write()
            .map_err(|_| anyhow::anyhow!("alert index poisoned"))?;
        let mut changed = Vec::new();
        for record in alerts.iter_mut() {
            if record.triage.status.is_open() && entry.covers(&record.alert) {
                record.triage.status = Status::Resolved;
                record.triage.reason = Some(entry.describe());
                record.triage.by = Some(entry.created_by.clone());
                record.triage.at = Some(now);
                changed.push(record.clone());
                resolved += 1;
            }
        }
        // Written while the index is still locked, so that no triage or
        // checkpoint in between is overwritten by these copies.
        shared.store.put_alerts(&changed)?;
        drop(alerts);
        anyhow::Ok(json!({"entry": entry, "resolved_alerts": resolved}))
    })
    .await;
    match outcome {
        Ok(answer) => (StatusCode::CREATED, Json(answer)).into_response(),
        Err(failed) => failed,
    }
}

async fn delete_allow(State(app): State<App>, Path(id): Path<String>) -> Response {
    let shared = app.shared.clone();
    let outcome = blocking(move || {
        let existed = shared.store.delete_allow(&id)?;
        if let Ok(mut list) = shared.allowlist.write() {
            list.retain(|e| e.id != id);
        }
        anyhow::Ok(existed)
    })
    .await;
    match outcome {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, "no such allowlist entry"),
        Err(failed) => failed,
    }
}

/// The figures of the status page and of `/metrics`.
pub(crate) fn status_value(shared: &Shared) -> Value {
    let m = &shared.metrics;
    let status = shared.status.read().map(|s| s.clone()).unwrap_or_default();
    let uptime = shared.started.elapsed().as_secs_f64();
    let detected = m.events_detected.load(Ordering::Relaxed);
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": uptime,
        "events_in": m.events_in.lock().map(|e| e.clone()).unwrap_or_default(),
        "events_detected": detected,
        "events_per_second": if uptime > 0.0 { detected as f64 / uptime } else { 0.0 },
        "skipped": m.skipped.lock().map(|e| e.clone()).unwrap_or_default(),
        "alerts_by_variation": m.alerts_by_variation.lock().map(|e| e.clone()).unwrap_or_default(),
        "alerts_kept": shared.alerts.read().map(|a| a.len()).unwrap_or(0),
        "suppressed_by_allowlist": m.suppressed_by_allowlist.load(Ordering::Relaxed),
        "queue_depth": shared.queued.load(Ordering::Relaxed),
        "queue_capacity": shared.queue_capacity,
        "ingest_refused_full": m.ingest_refused_full.load(Ordering::Relaxed),
        "checkpoints": m.checkpoints.load(Ordering::Relaxed),
        "checkpoint_failures": m.checkpoint_failures.load(Ordering::Relaxed),
        "checkpoint_age_seconds": status.last_checkpoint.map(|t| t.elapsed().as_secs_f64()),
        "baseline_keys": status.baseline_keys,
        "latest_event": status.latest_event,
        "clock": status.clock,
        "late_events": status.late_events,
        "future_events": status.future_events,
        "buffered_events": status.buffered_events,
        "buffered_bytes": status.buffered_bytes,
        "reorder_overflow": status.reorder_overflow,
        "activation": status.activation,
        "inputs": status.inputs,
        "tail": shared.tail.lock().map(|t| t.clone()).unwrap_or_default(),
        "ready": shared.unready_reason().is_none(),
        "unready_reason": shared.unready_reason(),
    })
}

async fn status(State(app): State<App>) -> Response {
    Json(status_value(&app.shared)).into_response()
}
