//! `GET /metrics` in the Prometheus text format (`metrics` facade with
//! `metrics-exporter-prometheus`, rendering only: no listener of its own), the middleware that
//! counts and times every request by route and status, and the one-line-per-request log
//! (tower-http's `TraceLayer`: method, path without the query, status, ms, bytes; never
//! headers, so never tokens).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route`, `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route`, `status` |
//! | `writes_total` | counter | `route`, `status` (every non-GET request) |
//! | `tile_cache_requests_total` | counter | `outcome` (`hit`, `miss`, `shared`: waited for another request's encoding) |
//! | `tile_bytes_total` | counter | `outcome` (MVT bytes before compression) |
//! | `tile_cache_entries` | gauge | |
//! | `tile_encode_seconds` | histogram | `zoom` (tiles encoded on a cache miss) |
//! | `event_streams_open` | gauge | (see [`EventStreamGuard`]) |
//! | `snapshot_generation` | gauge | |

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::trace::{OnResponse, TraceLayer};
use tracing::Span;

use super::AppState;
use super::error::ApiError;
use super::extract::Params;

/// Histogram buckets in seconds, for request latency and tile encoding.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Longest path written to the request log, in characters.
pub const LOGGED_PATH_CHARS: usize = 120;

/// The process-wide Prometheus recorder, installed on first use. When another recorder is
/// already installed, a private one is used so `/metrics` still answers (with less in it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        builder()
            .install_recorder()
            .unwrap_or_else(|_| builder().build_recorder().handle())
    })
}

/// `GET /metrics`: every metric in the Prometheus text exposition format 0.0.4.
pub(super) async fn metrics(
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    params.allow(&[])?;
    let snap = state.current();
    metrics::gauge!("snapshot_generation").set(snap.generation as f64);
    metrics::gauge!("tile_cache_entries").set(state.tiles.len() as f64);
    let body = handle().render();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// Counts and times every request under the route it matched (`unmatched` for static files
/// and unknown paths, so that labels stay few whatever paths clients try).
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| route_label(m.as_str()));
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [
        ("method", method.as_str().to_owned()),
        ("route", route.clone()),
        ("status", status.clone()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        metrics::counter!("writes_total", "route" => route, "status" => status).increment(1);
    }
    resp
}

/// A route pattern as a label value, `{name}` written `:name` (braces inside label values
/// are valid, but some scrapers' parsers drop such lines).
fn route_label(pattern: &str) -> String {
    pattern.replace('{', ":").replace('}', "")
}

/// Records a tile served: the cache outcome, its bytes and, for a miss, the time taken.
pub fn tile_served(outcome: &'static str, zoom: u8, bytes: usize, took: Duration) {
    metrics::counter!("tile_cache_requests_total", "outcome" => outcome).increment(1);
    metrics::counter!("tile_bytes_total", "outcome" => outcome).increment(bytes as u64);
    if outcome == "miss" {
        metrics::histogram!("tile_encode_seconds", "zoom" => zoom.to_string())
            .record(took.as_secs_f64());
    }
}

/// Counts one open event stream while it lives: create it when a stream opens, drop it when
/// the stream ends (`event_streams_open` goes up and back down).
#[derive(Debug)]
pub struct EventStreamGuard(());

impl EventStreamGuard {
    /// Marks one more stream open.
    pub fn open() -> EventStreamGuard {
        metrics::gauge!("event_streams_open").increment(1.0);
        EventStreamGuard(())
    }
}

impl Drop for EventStreamGuard {
    fn drop(&mut self) {
        metrics::gauge!("event_streams_open").decrement(1.0);
    }
}

/// Writes the request log line when the response head is ready.
#[derive(Debug, Clone, Copy)]
pub struct LogResponse;

impl<B: HttpBody> OnResponse<B> for LogResponse {
    fn on_response(self, resp: &Response<B>, latency: Duration, _span: &Span) {
        let bytes = resp
            .body()
            .size_hint()
            .exact()
            .map_or_else(|| "-".to_owned(), |n| n.to_string());
        tracing::info!(
            status = resp.status().as_u16(),
            ms = latency.as_millis() as u64,
            bytes = %bytes,
            "response"
        );
    }
}

/// The trace layer that writes the request log.
pub type RequestLog = TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request) -> Span,
    (),
    LogResponse,
>;

/// The request log: a span per request with the method and the path (no query string: it
/// may hold secrets), and one line when the response is ready.
pub fn request_log() -> RequestLog {
    fn span(req: &Request) -> Span {
        let path: String = req.uri().path().chars().take(LOGGED_PATH_CHARS).collect();
        tracing::info_span!("request", method = %req.method(), path = %path)
    }
    TraceLayer::new_for_http()
        .make_span_with(span as fn(&Request) -> Span)
        .on_request(())
        .on_response(LogResponse)
}
