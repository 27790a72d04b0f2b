//! Who may ask what, before any handler runs: the security headers on every
//! answer, same-origin writes (and, without a token, loopback only), and the
//! bearer token on the API. Request sizes and encodings are
//! [`crate::request_body`]'s; slow clients are [`crate::connections`]'.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error_body::error;

/// The server's bearer token, if it has one.
pub type Token = Option<Arc<str>>;

/// The UI loads nothing from elsewhere and runs no inline script.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A write (anything but GET and HEAD) whose `Origin` is another site is
/// refused: browsers send it on cross-site requests, so a page the analyst
/// happens to open cannot post telemetry or triage to the service. Without
/// a token, the `Host` must also name loopback, which defeats DNS rebinding.
pub async fn same_origin(State(token): State<Token>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token.is_none() && !is_loopback_host(host) {
        return error(
            StatusCode::FORBIDDEN,
            "without a token this server answers only requests addressed to loopback",
        );
    }
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if writes && let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .unwrap_or(origin);
        if !origin_host.eq_ignore_ascii_case(host) {
            return error(StatusCode::FORBIDDEN, "cross-origin writes are refused");
        }
    }
    next.run(request).await
}

/// `127.0.0.1:8470`, `localhost`, `[::1]:8470` and the like.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `Authorization: Bearer TOKEN` on the API and metrics, compared in constant time.
pub async fn require_token(State(token): State<Token>, request: Request, next: Next) -> Response {
    if let Some(token) = &token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(json!({"error": "a valid bearer token is required"})),
            )
                .into_response();
        }
    }
    next.run(request).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
