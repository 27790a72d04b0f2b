//! `/api/v1/incidents`: alerts that share a destination, with every host it
//! reached (alerted or spread), the most severe and most recent first; one
//! incident by id (its alerts are `/api/v1/alerts?incident=ID`); and
//! `/api/v1/alert-groups`, the alerts of one image or domain counted
//! together, as the overview shows the Informational ones.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{App, ErrorBody, bad_path, bad_query, error};
use crate::alert_groups::{AlertGroups, GroupQuery};
use crate::incidents::{IncidentPage, IncidentQuery, IncidentSummary};

#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    summary = "List incidents, most severe and most recent first",
    params(IncidentQuery),
    responses(
        (status = 200, description = "A page", body = IncidentPage),
        (status = 400, description = "An unknown parameter, or a value it cannot take (the error names it)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 500, description = "The alert index is unavailable", body = ErrorBody),
    ),
)]
pub(super) async fn list_incidents(
    State(app): State<App>,
    query: Result<Query<IncidentQuery>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return bad_query(rejection),
    };
    let Ok(alerts) = app.service.alerts() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "alert index unavailable");
    };
    match alerts.query_incidents(&query) {
        Ok(page) => Json(page).into_response(),
        Err(bad) => error(StatusCode::BAD_REQUEST, bad.0),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    summary = "One incident",
    params(("id" = String, Path, description = "incident id")),
    responses(
        (status = 200, description = "The incident", body = IncidentSummary),
        (status = 400, description = "A path that does not decode", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 500, description = "The alert index is unavailable", body = ErrorBody),
    ),
)]
pub(super) async fn get_incident(
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
    match alerts.incident(&id) {
        Some(incident) => Json(incident).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such incident"),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/alert-groups",
    tag = "incidents",
    summary = "Alerts grouped by process image or registered domain, with daily counts",
    params(GroupQuery),
    responses(
        (status = 200, description = "The groups, largest first", body = AlertGroups),
        (status = 400, description = "An unknown parameter, or a value it cannot take (the error names it)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 500, description = "The alert index is unavailable", body = ErrorBody),
    ),
)]
pub(super) async fn alert_groups(
    State(app): State<App>,
    query: Result<Query<GroupQuery>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return bad_query(rejection),
    };
    let Ok(alerts) = app.service.alerts() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "alert index unavailable");
    };
    match alerts.groups(&query) {
        Ok(groups) => Json(groups).into_response(),
        Err(bad) => error(StatusCode::BAD_REQUEST, bad.0),
    }
}
