//! The JSON every refusal and failure answers with, whichever layer refuses
//! (a guard, a body rule, a handler): what was wrong, and what to do.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every refusal and failure: what was wrong, and what to do about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// Ingest: whether any of the batch was stored (never, on an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durable: Option<bool>,
    /// Ingest, 409: the batch the id was first given to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// 413: the limit the body passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: message.into(),
            durable: None,
            batch: None,
            max_body_bytes: None,
        }
    }
}

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody::new(message))).into_response()
}
