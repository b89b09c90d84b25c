//! Cross-origin access (tower-http's `CorsLayer`): pages on any origin may read (or only the
//! configured ones), only configured origins may write. Preflights are answered `204` with the
//! methods and the headers the API reads (`Authorization`, `If-Match`, `Last-Event-ID`, …).
//!
//! Because a browser sends some cross-origin writes without asking first, a write carrying an
//! `Origin` that is neither this service's own nor a configured write origin is refused with
//! 403 before it reaches a handler.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::AppState;
use super::error::ApiError;
use crate::config::Config;

/// How long a browser may cache a preflight answer.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

fn is_read(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CORS layer for `config`.
pub fn layer(config: &Config) -> CorsLayer {
    let read: Arc<Vec<String>> = Arc::new(config.cors_read_origins.clone());
    let write: Arc<Vec<String>> = Arc::new(config.cors_write_origins.clone());
    let allow = AllowOrigin::predicate(move |origin: &HeaderValue, parts| {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if write.iter().any(|o| o == origin) {
            return true;
        }
        // A preflight asks for the method it will send; a plain request is that method.
        let method = if parts.method == Method::OPTIONS {
            parts
                .headers
                .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                .and_then(|m| m.to_str().ok())
                .and_then(|m| m.parse::<Method>().ok())
                .unwrap_or(Method::GET)
        } else {
            parts.method.clone()
        };
        is_read(&method) && (read.is_empty() || read.iter().any(|o| o == origin))
    });
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::CONTENT_LENGTH,
            header::LINK,
            HeaderName::from_static("x-tile-cache"),
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(PREFLIGHT_MAX_AGE)
}

/// Refuses cross-origin writes from origins not configured for writing, and answers
/// preflights `204 No Content` (tower-http answers 200 with an empty body).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if !is_read(req.method())
        && let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
        && !same_origin(origin, &req, &state)
        && !state.config.cors_write_origins.iter().any(|o| o == origin)
    {
        return ApiError::Forbidden {
            rule: "cross_origin_write",
            message: "writes from pages on another origin are allowed only from the configured write origins".into(),
        }
        .into_response();
    }
    let mut resp = next.run(req).await;
    if preflight && resp.status() == StatusCode::OK {
        *resp.status_mut() = StatusCode::NO_CONTENT;
    }
    resp
}

/// Whether `origin` is this service itself (the map page it serves): the `Host` the request
/// came to, or the public host a trusted proxy forwarded.
fn same_origin(origin: &str, req: &Request, state: &AppState) -> bool {
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !host.is_empty() && authority == host {
        return true;
    }
    let trusted = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| super::proxy::is_trusted(c.0.ip(), &state.config.trusted_proxies));
    let base = super::proxy::public_base(req.headers(), trusted).0;
    base.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        == Some(authority)
}
