//! What the service says of itself: `/api/v1/status` and `/metrics` (both
//! one [`StatusSnapshot`]), and the probes `/healthz` (the process answers)
//! and `/readyz` (it takes ingest).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{App, ErrorBody};
use crate::status::StatusSnapshot;

#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "status",
    summary = "Ingest counts, queue, checkpoint age, baseline size, reorder buffer, activation per platform, tailed files, readiness",
    responses(
        (status = 200, description = "The figures now", body = StatusSnapshot),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
    ),
)]
pub(super) async fn status(State(app): State<App>) -> Json<StatusSnapshot> {
    Json(app.service.status())
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "status",
    summary = "The status figures in Prometheus's text exposition format (0.0.4)",
    responses(
        (status = 200, description = "One family per figure", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 500, description = "The figures could not be written out", body = ErrorBody),
    ),
)]
pub(super) async fn metrics(State(app): State<App>) -> Response {
    match crate::prometheus::render(app.service.status()) {
        Ok(text) => (
            [(header::CONTENT_TYPE, crate::prometheus::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(e) => super::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "status",
    summary = "Liveness: the process answers",
    security(()),
    responses((status = 200, description = "ok", body = String, content_type = "text/plain")),
)]
pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "status",
    summary = "Readiness: 503, with the reason, while the inbox is replayed after a restart, the store cannot write or detection has stopped",
    security(()),
    responses(
        (status = 200, description = "ready", body = String, content_type = "text/plain"),
        (status = 503, description = "not ready, and why", body = String, content_type = "text/plain"),
    ),
)]
pub(super) async fn readyz(State(app): State<App>) -> Response {
    match app.service.unready_reason() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response(),
    }
}
