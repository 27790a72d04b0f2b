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
        (name = "incidents", description = "Alerts that share a destination, with the hosts it spread to"),
        (name = "destinations", description = "What the baseline knows"),
        (name = "allowlist", description = "What analysts judged benign"),
        (name = "explain", description = "Why something did or did not alert"),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::Value;

    use super::super::{App, document};

    fn served() -> Value {
        let dir = tempfile::tempdir().unwrap();
        let app = App {
            service: crate::service::tests::service(dir.path(), 1),
            token: None,
            max_body_bytes: 1024,
        };
        serde_json::to_value(document(app)).unwrap()
    }

    #[test]
    fn every_route_is_documented_with_what_the_server_takes() {
        let doc = served();
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/api/v1/ingest",
            "/api/v1/alerts",
            "/api/v1/alerts/{id}",
            "/api/v1/destinations/{key}",
            "/api/v1/allowlist",
            "/api/v1/allowlist/{id}",
            "/api/v1/status",
            "/api/v1/openapi.json",
            "/metrics",
            "/healthz",
            "/readyz",
        ] {
            assert!(paths.contains_key(path), "no {path}");
        }
        // What a schema-driven fuzzer found the old document allowed and
        // the server refused.
        let params = doc["paths"]["/api/v1/alerts"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap().clone();
        for name in ["limit", "offset"] {
            assert_eq!(param(name)["schema"]["minimum"], 0, "{name}");
        }
        assert_eq!(param("to")["schema"]["anyOf"][0]["format"], "date-time");
        let entry = &doc["components"]["schemas"]["NewEntry"]["properties"]["value"];
        assert!(
            entry["pattern"].as_str().unwrap().contains("\\s"),
            "{entry}"
        );
        let body = &doc["paths"]["/api/v1/ingest"]["post"]["requestBody"];
        assert_eq!(body["required"], true);
        assert_eq!(doc["components"]["schemas"]["TextBatch"]["minLength"], 1);
        assert!(
            doc["paths"]["/api/v1/ingest"]["post"]["responses"]
                .get("400")
                .is_some()
        );
    }

    #[test]
    fn the_api_needs_the_token_and_the_probes_do_not() {
        let doc = served();
        assert_eq!(doc["security"][0]["bearer"], Value::Array(Vec::new()));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for path in ["/healthz", "/readyz", "/api/v1/openapi.json"] {
            assert_eq!(
                doc["paths"][path]["get"]["security"],
                serde_json::json!([{}]),
                "{path}"
            );
        }
        for (path, method) in [("/api/v1/alerts", "get"), ("/metrics", "get")] {
            let operation = &doc["paths"][path][method];
            assert!(operation.get("security").is_none(), "{path}");
            assert!(operation["responses"].get("401").is_some(), "{path}");
        }
    }
}
