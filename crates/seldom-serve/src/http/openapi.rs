//! The OpenAPI 3.1 document at `/api/v1/openapi.json`. Its paths come from
//! the handlers' `#[utoipa::path]` annotations as [`super::router`]
//! registers them, its schemas from the request and answer types; this
//! module adds only what no handler says: the title, the bearer scheme and
//! the schemas of other crates' types ([`crate::schema`]).

use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::schema::{AlertSchema, EventSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "seldom serve",
        description = "A process connected to a rare external host: a long-running detection service. Every /api/v1 path except this document, and /metrics, need `Authorization: Bearer TOKEN` when the server has a token. Alerts have the schema of `seldom scan --format jsonl`.",
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    components(schemas(AlertSchema, EventSchema)),
    tags(
        (name = "ingest", description = "Telemetry in"),
        (name = "alerts", description = "Alerts and their triage"),
        (name = "destinations", description = "What the baseline knows"),
        (name = "allowlist", description = "What analysts judged benign"),
        (name = "status", description = "Status, probes, metrics and this document"),
    ),
)]
pub struct ApiDoc;

/// The `bearer` scheme every operation needs unless it says otherwise.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as served, written once at start.
#[derive(Clone)]
pub struct Document(Arc<str>);

impl Document {
    pub fn new(openapi: &utoipa::openapi::OpenApi) -> Document {
        // Serializing a document of plain strings and maps cannot fail; an
        // empty object would still be JSON.
        let json = openapi.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
        Document(Arc::from(json))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "status",
    summary = "This document",
    security(()),
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)),
)]
pub(super) async fn document(Extension(document): Extension<Document>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.0.to_string(),
    )
        .into_response()
}
