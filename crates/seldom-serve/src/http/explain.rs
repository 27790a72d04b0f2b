//! `/api/v1/explain/...`: why something did or did not alert, asked of the
//! detection thread's detector. For a stored alert (`alerts/{id}`), from the
//! evidence it was raised with and the settings and catalog in use now; for
//! a host and a destination (`connection`), what a connection would meet
//! with the baseline as it stands (the service keeps no telemetry to
//! replay: `seldom explain` over the files explains a past connection as it
//! was judged).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use seldom_detect::explain::{StepOutcome, Verdict};
use seldom_model::{HostName, Platform};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{App, ErrorBody, bad_path, bad_query, error, in_a_cluster};
use crate::alerts::any_time;
use crate::queue::Question;
use crate::schema::{choice, time_filter};

/// A connection that may not have happened: what it would meet now.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WhatIf {
    /// A host name (as alerts name it).
    #[param(min_length = 1, pattern = r"\S")]
    pub host: String,
    /// An address or a DNS name.
    #[param(min_length = 1, pattern = r"\S")]
    pub destination: String,
    /// The process image to check the catalog with (a file name or a path).
    pub image: Option<String>,
    /// The host's platform (default windows).
    #[param(schema_with = platform_choice)]
    pub platform: Option<String>,
    /// When (RFC 3339; empty or absent: the organization's clock now).
    #[param(schema_with = time_filter)]
    pub time: Option<String>,
}

fn platform_choice() -> utoipa::openapi::Object {
    choice(&["windows", "linux", "macos", "network", ""])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExplainStep {
    pub check: String,
    /// `pass`: the connection goes on; `stop`: no alert; `note`: found, deciding nothing.
    #[schema(schema_with = step_outcome)]
    pub outcome: String,
    pub detail: String,
}

fn step_outcome() -> utoipa::openapi::Object {
    choice(&["pass", "stop", "note"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogRow {
    pub variation: String,
    pub severity: String,
    pub matched: bool,
    /// Why it matched, or the first condition that failed.
    pub because: String,
}

/// One connection's decision, step by step.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    #[schema(format = DateTime)]
    pub time: String,
    pub host: String,
    pub image: Option<String>,
    pub destination_ip: String,
    pub destination_port: Option<u16>,
    pub forward_name: Option<String>,
    pub key: Option<String>,
    pub steps: Vec<ExplainStep>,
    /// Every row of the catalog, matched or not (empty when the decision
    /// stopped before the catalog, or no image was given).
    pub catalog: Vec<CatalogRow>,
    pub outcome: String,
}

impl From<Verdict> for Explanation {
    fn from(v: Verdict) -> Self {
        Explanation {
            time: v.time.to_string(),
            host: v.host,
            image: v.image,
            destination_ip: v.destination_ip.to_string(),
            destination_port: v.destination_port,
            forward_name: v.forward_name,
            key: v.key,
            steps: v
                .steps
                .into_iter()
                .map(|s| ExplainStep {
                    check: s.check.to_owned(),
                    outcome: match s.outcome {
                        StepOutcome::Pass => "pass",
                        StepOutcome::Stop => "stop",
                        StepOutcome::Note => "note",
                    }
                    .to_owned(),
                    detail: s.detail,
                })
                .collect(),
            catalog: v
                .catalog
                .into_iter()
                .map(|r| CatalogRow {
                    variation: r.variation,
                    severity: format!("{:?}", r.severity).to_lowercase(),
                    matched: r.matched,
                    because: r.because,
                })
                .collect(),
            outcome: v.outcome,
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/explain/alerts/{id}",
    tag = "explain",
    summary = "Why an alert was raised: its evidence, step by step, with every catalog row checked",
    params(("id" = String, Path, description = "alert id")),
    responses(
        (status = 200, description = "The decision, step by step", body = Explanation),
        (status = 400, description = "A path that does not decode", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such alert, or the service follows a Kafka cluster (whose workers hold the detectors)", body = ErrorBody),
        (status = 503, description = "Detection is stopping", body = ErrorBody),
    ),
)]
pub(super) async fn explain_alert(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(id) = match id {
        Ok(id) => id,
        Err(rejection) => return bad_path(rejection),
    };
    if let Some(refused) = in_a_cluster(&app, "run `seldom explain` over the telemetry") {
        return refused;
    }
    let alert = app
        .service
        .alerts()
        .ok()
        .and_then(|index| index.get(&id).map(|r| r.alert.clone()));
    match alert {
        Some(alert) => answer(&app, Question::Alert(Box::new(alert))).await,
        None => error(StatusCode::NOT_FOUND, format!("no alert {id}")),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/explain/connection",
    tag = "explain",
    summary = "What a connection of a host to a destination would meet now: internal or not, prevalence, activation, and the catalog for an image",
    params(WhatIf),
    responses(
        (status = 200, description = "The decision, step by step", body = Explanation),
        (status = 400, description = "A parameter that does not parse (the error names it)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "A host that names no host, or the service follows a Kafka cluster (whose workers hold the detectors)", body = ErrorBody),
        (status = 503, description = "Detection is stopping", body = ErrorBody),
    ),
)]
pub(super) async fn explain_connection(
    State(app): State<App>,
    query: Result<Query<WhatIf>, QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(rejection) => return bad_query(rejection),
    };
    if let Some(refused) = in_a_cluster(&app, "run `seldom explain` over the telemetry") {
        return refused;
    }
    let Some(host) = HostName::normalize(&q.host, app.service.host_naming()) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("host: {:?} names no host", q.host),
        );
    };
    if q.destination.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "destination: name an address or a DNS name",
        );
    }
    let platform = match q.platform.as_deref().map(str::trim) {
        None | Some("") => Platform::Windows,
        Some(p) => {
            match serde_json::from_value(serde_json::Value::String(p.to_ascii_lowercase())) {
                Ok(platform) => platform,
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("platform: {p:?} is not windows, linux, macos or network"),
                    );
                }
            }
        }
    };
    let at = match q.time.as_deref().filter(|t| !t.trim().is_empty()) {
        None => None,
        Some(t) => match any_time(t) {
            Some(at) => Some(at),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("time: {t:?} is not an RFC 3339 time"),
                );
            }
        },
    };
    let question = Question::WhatIf {
        host,
        destination: q.destination,
        image: q.image.filter(|i| !i.trim().is_empty()),
        platform,
        at,
    };
    answer(&app, question).await
}

async fn answer(app: &App, question: Question) -> Response {
    match app.service.explain(question).await {
        Ok(verdict) => Json(Explanation::from(verdict)).into_response(),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "detection is stopping"),
    }
}
