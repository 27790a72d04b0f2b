//! `/api/v1/allowlist`: what analysts have judged benign. An entry is
//! checked against its kind before it is stored ([`NewEntry::validate`]),
//! since adding one resolves the open alerts it covers at once.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::{App, ErrorBody, bad_path, blocking, error};
use crate::allowlist::{Entry, NewEntry};

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowlistPage {
    pub entries: Vec<Entry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowAdded {
    pub entry: Entry,
    /// Open alerts the entry covered, now resolved with it as the reason.
    pub resolved_alerts: usize,
}

#[utoipa::path(
    get,
    path = "/api/v1/allowlist",
    tag = "allowlist",
    summary = "List allowlist entries",
    responses(
        (status = 200, description = "Entries", body = AllowlistPage),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
    ),
)]
pub(super) async fn list_allow(State(app): State<App>) -> Response {
    Json(AllowlistPage {
        entries: app.service.allow_entries(),
    })
    .into_response()
}

/// Adds an entry, then resolves the open alerts it covers.
#[utoipa::path(
    post,
    path = "/api/v1/allowlist",
    tag = "allowlist",
    summary = "Add an entry: suppresses new alerts it covers and resolves the open ones",
    request_body = NewEntry,
    responses(
        (status = 201, description = "Added", body = AllowAdded),
        (status = 400, description = "A body that is no entry, or a value its kind refuses (the error names the field)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "A cross-origin write", body = ErrorBody),
        (status = 413, description = "Body over serve.max_body_bytes", body = ErrorBody),
        (status = 500, description = "The entry could not be saved", body = ErrorBody),
    ),
)]
pub(super) async fn add_allow(
    State(app): State<App>,
    new: Result<Json<NewEntry>, JsonRejection>,
) -> Response {
    let new = match new {
        Ok(Json(new)) => match new.validate(app.service.variations()) {
            Ok(new) => new,
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        },
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let service = app.service.clone();
    match blocking(move || service.add_allow(new)).await {
        Ok((entry, resolved_alerts)) => (
            StatusCode::CREATED,
            Json(AllowAdded {
                entry,
                resolved_alerts,
            }),
        )
            .into_response(),
        Err(failed) => failed,
    }
}

#[utoipa::path(
    delete,
    path = "/api/v1/allowlist/{id}",
    tag = "allowlist",
    summary = "Delete an entry (alerts it resolved stay resolved)",
    params(("id" = String, Path, description = "entry id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A path that does not decode", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "A cross-origin write", body = ErrorBody),
        (status = 404, description = "No such allowlist entry", body = ErrorBody),
        (status = 500, description = "The store could not delete it", body = ErrorBody),
    ),
)]
pub(super) async fn delete_allow(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(id) = match id {
        Ok(id) => id,
        Err(rejection) => return bad_path(rejection),
    };
    let service = app.service.clone();
    match blocking(move || service.delete_allow(&id)).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, "no such allowlist entry"),
        Err(failed) => failed,
    }
}
