//! What a request body must be before it is read, and an ingest body before
//! it is stored: refusals that say what was wrong, in JSON, so that a
//! shipper's log names the fix instead of a 200 that accepted nothing.
//!
//! - A `Content-Length` past `serve.max_body_bytes` is refused from the
//!   header (413), before a byte of the body is read; a chunked body is
//!   refused (413) the moment it passes the limit. Both answers name it.
//! - Ingest takes the body as sent or gzip-compressed (`Content-Encoding`
//!   absent, `identity`, `gzip`); another encoding (`deflate`, `br`, `zstd`)
//!   would be read as binary and accept nothing, so it is refused (415).
//!   So are a declared charset other than UTF-8, and a body that decodes to
//!   no record because it is binary (UTF-16 text among others): shippers
//!   write UTF-8.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// 413 naming the limit.
pub fn too_large(max_body_bytes: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(json!({
            "error": format!("the request body is larger than serve.max_body_bytes ({max_body_bytes} bytes); send smaller batches"),
            "max_body_bytes": max_body_bytes,
            "durable": false,
        })),
    )
        .into_response()
}

fn unsupported(message: String) -> Response {
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Json(json!({"error": message, "durable": false})),
    )
        .into_response()
}

/// Middleware: a declared length over the limit is refused before the body
/// is read (the framework's limit would read up to it first, then answer in
/// plain text).
pub async fn refuse_declared_oversize(
    State(max_body_bytes): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body_bytes as u64) {
        return too_large(max_body_bytes);
    }
    next.run(request).await
}

/// Refuses an ingest request whose headers say its body cannot be read: an
/// encoding other than gzip, a charset other than UTF-8.
pub fn refuse_unreadable_headers(headers: &HeaderMap) -> Option<Response> {
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING) {
        let encoding = encoding.to_str().unwrap_or("").trim().to_ascii_lowercase();
        if !matches!(encoding.as_str(), "" | "identity" | "gzip" | "x-gzip") {
            return Some(unsupported(format!(
                "Content-Encoding {encoding:?} is not supported; send the body as is or gzip-compressed (Content-Encoding: gzip)"
            )));
        }
    }
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or("").to_ascii_lowercase();
        let charset = kind
            .split(';')
            .skip(1)
            .filter_map(|p| p.trim().strip_prefix("charset="))
            .map(|c| c.trim_matches('"'))
            .next();
        if let Some(charset) = charset
            && !matches!(charset, "utf-8" | "utf8" | "us-ascii")
        {
            return Some(unsupported(format!(
                "charset {charset:?} is not supported; send UTF-8"
            )));
        }
    }
    None
}

/// The body as the framework buffered it (up to `serve.max_body_bytes`), or
/// a JSON refusal: 413 naming the limit when a chunked body passed it.
pub fn buffered(
    body: Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
) -> Result<Bytes, Box<Response>> {
    body.map_err(|rejection| {
        Box::new(match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                too_large(max_body_bytes)
            }
            // A broken or abandoned upload: nothing was stored.
            other => (
                other.status(),
                Json(json!({"error": other.body_text(), "durable": false})),
            )
                .into_response(),
        })
    })
}

/// The answer to an ingest body that decoded to nothing because it is not
/// text nor a container seldom reads (UTF-16 text is the common case).
pub fn not_readable_text() -> serde_json::Value {
    json!({
        "error": "the body is neither UTF-8 text nor an archive seldom reads (UTF-16 text is not supported: send UTF-8)",
        "durable": false,
    })
}
