//! The HTTP edge: ingest, the REST API, health and metrics, and the embedded
//! web UI. Handlers are thin: they take the request apart, call the
//! [`Service`] (on blocking threads where it writes the store) and answer;
//! every answer is JSON (the UI's assets, the probes and `/metrics` aside).
//! One module per resource: [`ingest`], [`alerts`] (and destinations),
//! [`allowlist`], [`explain`], [`status`] (status, probes, metrics); [`openapi`] is the
//! document, generated from the handlers' annotations and types as the
//! routes are registered, so a route cannot be missing from it. Guards are
//! in [`crate::guards`], body rules in [`crate::request_body`].

pub mod alerts;
pub mod allowlist;
pub mod explain;
pub mod incidents;
pub mod ingest;
pub mod openapi;
pub mod status;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;
use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error_body::{ErrorBody, error};
use crate::guards::{require_token, same_origin, security_headers};
use crate::request_body;
use crate::service::Service;

/// The state every handler sees.
#[derive(Clone)]
pub struct App {
    pub service: Arc<Service>,
    pub token: Option<Arc<str>>,
    pub max_body_bytes: usize,
}

/// Every route: the API behind the token, the probes and the document open,
/// the UI's assets; the guards around all of them.
pub fn router(app: App) -> Router {
    let max_body_bytes = app.max_body_bytes;
    let (api, document) = api_routes(app.clone()).split_for_parts();
    Router::new()
        .merge(crate::ui_assets::router())
        .merge(api)
        .layer(Extension(openapi::Document::new(&document)))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(
            max_body_bytes,
            request_body::refuse_declared_oversize,
        ))
        .layer(middleware::from_fn_with_state(
            app.token.clone(),
            same_origin,
        ))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// The routes the OpenAPI document describes, each registered from its
/// handler's annotation (method, path, parameters, bodies, answers).
fn api_routes(app: App) -> OpenApiRouter<App> {
    let guarded = OpenApiRouter::new()
        .routes(routes!(ingest::ingest))
        .routes(routes!(alerts::list_alerts))
        .routes(routes!(alerts::get_alert, alerts::patch_alert))
        .routes(routes!(alerts::destination))
        .routes(routes!(incidents::list_incidents))
        .routes(routes!(incidents::get_incident))
        .routes(routes!(incidents::alert_groups))
        .routes(routes!(explain::explain_alert))
        .routes(routes!(explain::explain_connection))
        .routes(routes!(allowlist::list_allow, allowlist::add_allow))
        .routes(routes!(allowlist::delete_allow))
        .routes(routes!(status::status))
        .routes(routes!(status::metrics))
        .route_layer(middleware::from_fn_with_state(app.token, require_token));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(status::healthz))
        .routes(routes!(status::readyz))
        .routes(routes!(openapi::document))
        .merge(guarded)
}

/// The OpenAPI document of every route, as served.
pub fn document(app: App) -> utoipa::openapi::OpenApi {
    api_routes(app).into_openapi()
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

/// A service following a Kafka cluster has no detector of its own (its
/// workers are the detectors): what needs one is answered 404, saying
/// where to look `instead`.
fn in_a_cluster(app: &App, instead: &str) -> Option<Response> {
    app.service.cluster().is_some().then(|| {
        error(
            StatusCode::NOT_FOUND,
            format!(
                "this service follows a Kafka cluster, whose workers are the detectors: {instead}"
            ),
        )
    })
}

/// A query that does not parse into its type (an unknown or malformed
/// parameter): refused naming it.
fn bad_query(rejection: axum::extract::rejection::QueryRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!(
            "unknown or malformed query parameter: {}",
            rejection.body_text()
        ),
    )
}

/// A path segment the router matched but could not decode (bad percent
/// escapes): refused in JSON like every other request.
fn bad_path(rejection: axum::extract::rejection::PathRejection) -> Response {
    error(StatusCode::BAD_REQUEST, rejection.body_text())
}
