//! The serve loop: accepts TCP connections and serves the router over HTTP/1.1 with hyper,
//! with every timeout and limit of [`ServerLimits`] and a graceful shutdown that has a deadline.
//!
//! `axum::serve` installs no timer, so hyper's header timeout never applies, and it has no
//! connection cap and no shutdown deadline. This loop uses hyper's and hyper-util's own
//! mechanisms instead of hand-rolled timers:
//!
//! - **header and idle timeout**: hyper's `header_read_timeout` with hyper-util's
//!   `TokioTimer`; hyper starts the timer whenever it waits for a request head, so a silent,
//!   slow-header or idle kept-alive connection is closed when it expires;
//! - **write timeout**: `tokio-io-timeout`'s `TimeoutStream` fails a socket write that has
//!   waited longer than `write_timeout` for the client to read, which closes the connection;
//! - **body timeout**: applied by the authentication gate (`throttle.rs`), which reads a
//!   write's body only after the token was checked, under `body_timeout`;
//! - **connection cap**: a semaphore of `max_connections` permits, taken before `accept`, so
//!   connections beyond it wait in the kernel's listen queue while the open ones are served;
//!   the cap is lowered to fit the open-file limit, and running out of descriptors anyway
//!   pauses accepting instead of spinning;
//! - **graceful shutdown**: hyper-util's `GracefulShutdown` lets in-flight requests finish and
//!   closes idle connections; event streams see [`shutting_down`], send a final comment and
//!   end, so they do not hold the deadline; at `shutdown_timeout` whatever is still open (a
//!   slow client) is dropped and `serve` returns.
//!
//! Every request carries `axum::extract::ConnectInfo<SocketAddr>` with the peer address.
//! Connection-level errors are the client's doing (timeouts, garbage, resets) and are logged
//! at DEBUG, never higher.

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

use crate::config::ServerLimits;

/// Descriptors kept free of connections for the store, the lock, static files and logs.
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// How long accepting pauses when the process is out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Set once [`serve`] begins its graceful shutdown (one server per process).
static SHUTTING_DOWN: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// Resolves once the server began shutting down: long-lived responses (event streams) end
/// themselves on it, so graceful shutdown does not wait for them until its deadline.
pub async fn shutting_down() {
    let mut rx = SHUTTING_DOWN.subscribe();
    let _ = rx.wait_for(|down| *down).await;
}

/// The connection cap actually used: `configured`, lowered so that connections cannot take
/// the descriptors the process needs for everything else (see [`RESERVED_DESCRIPTORS`]).
pub fn connection_cap(configured: usize) -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    match soft {
        Some(soft) => {
            let room = soft
                .saturating_sub(RESERVED_DESCRIPTORS)
                .max(soft / 2)
                .max(1);
            configured.min(usize::try_from(room).unwrap_or(usize::MAX))
        }
        None => configured,
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then shuts down gracefully within
/// `limits.shutdown_timeout`. Returns once every connection is closed or the deadline passed
/// (connections still open then are dropped with the runtime).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let cap = connection_cap(limits.max_connections);
    if cap < limits.max_connections {
        tracing::info!(
            "serving at most {cap} connections at once (the open-file limit leaves no room for {})",
            limits.max_connections
        );
    }
    let permits = Arc::new(Semaphore::new(cap));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes)
        .keep_alive(true);
    let write_timeout = limits.write_timeout;
    tokio::pin!(shutdown);
    let mut out_of_descriptors = false;
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    out_of_descriptors = false;
                    accepted
                }
                Err(e) => {
                    if is_descriptor_exhaustion(&e) {
                        // Logged once per burst; the backlog holds new clients meanwhile.
                        if !out_of_descriptors {
                            tracing::warn!("cannot accept connections: {e}; pausing accepts");
                            out_of_descriptors = true;
                        }
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    } else {
                        tracing::debug!("accept failed: {e}");
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut io = TimeoutStream::new(stream);
        io.set_write_timeout(Some(write_timeout));
        let io = TokioIo::new(Box::pin(io));
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                if !is_origin_or_absolute_form(req.uri()) {
                    return Ok(bad_target());
                }
                router.oneshot(req.map(axum::body::Body::new)).await
            }
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection closed: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    SHUTTING_DOWN.send_replace(true);
    let open = graceful.count();
    tracing::info!(
        "shutting down: {open} connections open, up to {:?} for them to finish",
        limits.shutdown_timeout
    );
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown deadline of {:?} passed; closing the connections still open",
            limits.shutdown_timeout
        );
    }
}

/// Whether a request target is a path (`/health`) or an absolute URL, the forms a server
/// accepts (RFC 9112 §3.2); `GET health` parses as an authority and is refused.
fn is_origin_or_absolute_form(uri: &axum::http::Uri) -> bool {
    uri.scheme().is_some() || uri.path().starts_with('/')
}

fn bad_target() -> axum::response::Response {
    use axum::response::IntoResponse;
    super::error::ApiError::BadRequest {
        code: "invalid_request_target",
        message: "the request target must be a path starting with /".into(),
    }
    .into_response()
}

/// Whether an `accept` error means the process or system ran out of file descriptors.
fn is_descriptor_exhaustion(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == rustix::io::Errno::MFILE.raw_os_error()
            || code == rustix::io::Errno::NFILE.raw_os_error()
            || code == rustix::io::Errno::NOBUFS.raw_os_error()
            || code == rustix::io::Errno::NOMEM.raw_os_error()
    )
}
