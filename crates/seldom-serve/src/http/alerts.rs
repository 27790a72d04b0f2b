//! `/api/v1/alerts` (a page of alerts, one alert, its triage) and
//! `/api/v1/destinations/{key}` (what the baseline knows of a destination,
//! with the alerts on it): what an analyst reads before deciding.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use seldom_model::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::{App, ErrorBody, bad_path, bad_query, blocking, error, in_a_cluster};
use crate::alerts::{AlertPage, AlertQuery, AlertRecord, Status, TriageChange};

#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "alerts",
    summary = "List alerts: filters, sort, pages",
    params(AlertQuery),
    responses(
        (status = 200, description = "A page", body = AlertPage),
        (status = 400, description = "An unknown parameter, or a value it cannot take (the error names it)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 500, description = "The alert index is unavailable", body = ErrorBody),
    ),
)]
pub(super) async fn list_alerts(
    State(app): State<App>,
    query: Result<Query<AlertQuery>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return bad_query(rejection),
    };
    let Ok(alerts) = app.service.alerts() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "alert index unavailable");
    };
    match alerts.query(&query) {
        Ok(page) => Json(page).into_response(),
        Err(bad) => error(StatusCode::BAD_REQUEST, bad.0),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/alerts/{id}",
    tag = "alerts",
    summary = "One alert with its source events",
    params(("id" = String, Path, description = "alert id")),
    responses(
        (status = 200, description = "The alert", body = AlertRecord),
        (status = 400, description = "A path that does not decode", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
        (status = 500, description = "The alert index is unavailable", body = ErrorBody),
    ),
)]
pub(super) async fn get_alert(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(id) = match id {
        Ok(id) => id,
        Err(rejection) => return bad_path(rejection),
    };
    let Ok(alerts) = app.service.alerts() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "alert index unavailable");
    };
    match alerts.get(&id) {
        Some(record) => Json(record).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such alert"),
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/alerts/{id}",
    tag = "alerts",
    summary = "Triage an alert: status, note, who",
    params(("id" = String, Path, description = "alert id")),
    request_body = TriageChange,
    responses(
        (status = 200, description = "The alert after the change (saved)", body = AlertRecord),
        (status = 400, description = "A body that is not such a change (the error says why)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "A cross-origin write", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
        (status = 413, description = "Body over serve.max_body_bytes", body = ErrorBody),
        (status = 500, description = "The change could not be saved", body = ErrorBody),
    ),
)]
pub(super) async fn patch_alert(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
    change: Result<Json<TriageChange>, JsonRejection>,
) -> Response {
    let Path(id) = match id {
        Ok(id) => id,
        Err(rejection) => return bad_path(rejection),
    };
    let change = match change {
        Ok(Json(change)) => change,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let service = app.service.clone();
    match blocking(move || service.triage(&id, change)).await {
        Ok(Some(record)) => Json(record).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such alert"),
        Err(failed) => failed,
    }
}

/// What the baseline knows of a destination key, with the alerts on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationAnswer {
    pub key: String,
    /// `domain` or `ip`.
    pub key_type: String,
    /// Hosts among those kept whose last contact is inside the window.
    pub hosts_in_window: usize,
    /// The most recent hosts, most recent first.
    pub recent_hosts: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: Timestamp,
    pub connections: u64,
    pub window_days: u32,
    /// Hosts per day inside the window, oldest first.
    pub daily: Vec<DailyHosts>,
    /// The 20 latest alerts on it, most recent first.
    pub alerts: Vec<DestinationAlert>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyHosts {
    /// A UTC day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub day: String,
    pub hosts: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationAlert {
    pub id: String,
    pub host: String,
    #[schema(value_type = String)]
    pub severity: seldom_detect::catalog::Severity,
    pub variation: String,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: Timestamp,
    pub status: Status,
}

#[utoipa::path(
    get,
    path = "/api/v1/destinations/{key}",
    tag = "destinations",
    summary = "What the baseline knows of a destination key (registered domain or IP)",
    params(("key" = String, Path, description = "as alerts name it: destination.key.value")),
    responses(
        (status = 200, description = "Hosts in the window, first seen, daily host counts, recent alerts", body = DestinationAnswer),
        (status = 400, description = "A path that does not decode", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The baseline holds no such destination (or the service follows a Kafka cluster, whose workers hold the baseline)", body = ErrorBody),
        (status = 503, description = "Detection is stopping", body = ErrorBody),
    ),
)]
pub(super) async fn destination(
    State(app): State<App>,
    key: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(key) = match key {
        Ok(key) => key,
        Err(rejection) => return bad_path(rejection),
    };
    if let Some(refused) = in_a_cluster(
        &app,
        "the baseline is theirs; the alerts on a destination are here (GET /api/v1/alerts?q=KEY)",
    ) {
        return refused;
    }
    let view = match app.service.destination(&key).await {
        Ok(Some(view)) => view,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "the baseline holds no such destination",
            );
        }
        Err(_) => return error(StatusCode::SERVICE_UNAVAILABLE, "detection is stopping"),
    };
    let alerts = app
        .service
        .alerts_on(&view.key, 20)
        .into_iter()
        .map(|r| DestinationAlert {
            id: r.alert.id,
            host: r.alert.host,
            severity: r.alert.severity,
            variation: r.alert.variation,
            first_seen: r.alert.first_seen,
            status: r.triage.status,
        })
        .collect();
    Json(DestinationAnswer {
        daily: view
            .daily
            .iter()
            .map(|&(day, hosts)| DailyHosts {
                day: day_text(day),
                hosts,
            })
            .collect(),
        key: view.key,
        key_type: view.key_type.to_owned(),
        hosts_in_window: view.hosts_in_window,
        recent_hosts: view.recent_hosts,
        first_seen: view.first_seen,
        connections: view.connections,
        window_days: view.window_days,
        alerts,
    })
    .into_response()
}

/// A UTC day number as `YYYY-MM-DD`.
fn day_text(day: i64) -> String {
    let t = Timestamp::from_micros(day * seldom_model::MICROS_PER_DAY);
    t.to_string().chars().take(10).collect()
}
