//! `POST /api/v1/ingest`: a batch of telemetry in any format `scan` reads,
//! answered once it is durable. The refusals say what to fix and that
//! nothing was stored; the work is [`crate::service::ingest`]'s.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use seldom_ingest::IngestStats;
use serde::Serialize;
use utoipa::ToSchema;

use super::{App, ErrorBody, error};
use crate::request_body;
use crate::schema::{BinaryBatch, TextBatch};
use crate::service::Refusal;
use crate::service::ingest::{Accepted, NotStored};

/// A client may name its batch: a batch resent with the same id after a
/// lost answer is acknowledged again without being detected twice.
const BATCH_ID: &str = "x-seldom-batch-id";

/// A batch stored and queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stored {
    /// The batch's number in the inbox.
    pub batch: u64,
    /// Always true: the batch is in the store, and survives a crash.
    pub durable: bool,
    /// Records read (lines of text, EVTX records).
    pub records: u64,
    /// Events handed to detection.
    pub accepted: usize,
    /// Malformed records skipped, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// A few skipped records per reason, located.
    pub skipped_examples: BTreeMap<String, Vec<SkippedExample>>,
    /// Well-formed records that are not telemetry seldom reads, by reason.
    pub ignored: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedExample {
    pub location: String,
    pub detail: String,
}

/// A resend of a batch already stored (same id, same bytes).
#[derive(Debug, Serialize, ToSchema)]
pub struct Duplicate {
    pub batch: u64,
    pub durable: bool,
    /// Always true.
    pub duplicate: bool,
}

/// The answer to a batch taken: stored now, or stored before.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum IngestAnswer {
    Stored(Stored),
    Duplicate(Duplicate),
}

impl Stored {
    fn new(batch: u64, stats: &IngestStats, accepted: usize) -> Stored {
        Stored {
            batch,
            durable: true,
            records: stats.records_read,
            accepted,
            skipped: stats
                .skipped
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.count))
                .collect(),
            skipped_examples: stats
                .skipped
                .iter()
                .map(|(k, v)| {
                    let examples = v
                        .examples
                        .iter()
                        .map(|e| SkippedExample {
                            location: e.location.clone(),
                            detail: e.detail.clone(),
                        })
                        .collect();
                    ((*k).to_owned(), examples)
                })
                .collect(),
            ignored: stats
                .ignored
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
        }
    }
}

/// A refusal of ingest: nothing of the batch was stored.
fn not_durable(status: StatusCode, message: impl Into<String>) -> (StatusCode, Json<ErrorBody>) {
    let body = ErrorBody {
        durable: Some(false),
        ..ErrorBody::new(message)
    };
    (status, Json(body))
}

/// Stores the body durably, then queues its events; answers with the counts.
#[utoipa::path(
    post,
    path = "/api/v1/ingest",
    tag = "ingest",
    summary = "Ingest telemetry: any format `scan` reads (JSON lines of every layout, EVTX, archives; gzip bodies recognized). Answers once the batch is durable.",
    params(
        ("X-Seldom-Batch-Id" = Option<String>, Header, min_length = 1, max_length = 128,
            description = "Names the batch: a resend with the same id and the same bytes is acknowledged again (`duplicate`), not detected twice"),
    ),
    request_body(
        description = "Records, as sent or gzip-compressed (Content-Encoding: gzip). A body of nothing but white space is refused (400).",
        content(
            (TextBatch = "application/x-ndjson"),
            (BinaryBatch = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "Stored durably and queued, or a resend of a stored batch", body = IngestAnswer),
        (status = 400, description = "An empty body, or a batch id that is not 1 to 128 visible ASCII characters; nothing stored", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "A cross-origin write", body = ErrorBody),
        (status = 409, description = "X-Seldom-Batch-Id already names another body (a resend must be the same bytes), or the service follows a Kafka cluster (telemetry goes to its input topic); nothing stored", body = ErrorBody),
        (status = 413, description = "Body over serve.max_body_bytes, refused from Content-Length when declared; names `max_body_bytes`", body = ErrorBody),
        (status = 415, description = "Content-Encoding other than gzip, a charset other than UTF-8, or a body that is neither UTF-8 text nor an archive seldom reads (UTF-16); nothing stored", body = ErrorBody),
        (status = 429, description = "Detection queue full; retry after the Retry-After header", body = ErrorBody,
            headers(("Retry-After" = u32, description = "seconds"))),
        (status = 500, description = "The request failed inside the server", body = ErrorBody),
        (status = 503, description = "Not ready (replaying after a restart, or the store cannot write): not stored; retry", body = ErrorBody,
            headers(("Retry-After" = u32, description = "seconds"))),
    ),
)]
pub(super) async fn ingest(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(refused) = request_body::refuse_unreadable_headers(&headers) {
        return refused;
    }
    let body = match request_body::buffered(body, app.max_body_bytes) {
        Ok(body) => body,
        Err(refused) => return *refused,
    };
    // An empty batch would be stored, numbered and replayed for nothing; a
    // shipper that sends one has a bug worth naming.
    if body.iter().all(u8::is_ascii_whitespace) {
        return not_durable(
            StatusCode::BAD_REQUEST,
            "the body is empty: send one or more records",
        )
        .into_response();
    }
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
    let service = app.service.clone();
    let slot = match service.admit() {
        Ok(slot) => slot,
        Err(refusal) => {
            let (status, message) = match refusal {
                Refusal::Unready(reason) => {
                    (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}; retry"))
                }
                Refusal::Full => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "the detection queue is full; retry after a second".to_owned(),
                ),
                Refusal::Elsewhere(message) => {
                    return not_durable(StatusCode::CONFLICT, message).into_response();
                }
            };
            return ([(header::RETRY_AFTER, "1")], not_durable(status, message)).into_response();
        }
    };
    // The slot moves into the task: a panic there drops it, and gives it back.
    let outcome =
        tokio::task::spawn_blocking(move || service.ingest(slot, body, batch_id.as_deref())).await;
    match outcome {
        Ok(Ok(Accepted::Stored {
            batch,
            stats,
            accepted,
        })) => Json(IngestAnswer::Stored(Stored::new(batch, &stats, accepted))).into_response(),
        Ok(Ok(Accepted::Duplicate { batch })) => Json(IngestAnswer::Duplicate(Duplicate {
            batch,
            durable: true,
            duplicate: true,
        }))
        .into_response(),
        Ok(Err(NotStored::NotText)) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(request_body::not_readable_text()),
        )
            .into_response(),
        Ok(Err(NotStored::IdReused { id, batch })) => {
            let (status, Json(mut body)) = not_durable(
                StatusCode::CONFLICT,
                format!(
                    "X-Seldom-Batch-Id {id:?} was given to another body (batch {batch}); a resend must be the same bytes, a new batch needs a new id"
                ),
            );
            body.batch = Some(batch);
            (status, Json(body)).into_response()
        }
        Ok(Err(NotStored::Store(e))) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the batch was not stored (not durable; resend it): {e:#}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")),
    }
}
