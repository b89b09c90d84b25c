//! The ceiling of `scripts/loadbench`: a bare axum server that answers every request with one
//! fixed body of a given size and the headers a gzipped tile carries, doing no other work.
//! What renewal-map serves is measured as a share of what this serves on the same machine.
//!
//! `tile-ceiling BIND BYTES` (e.g. `tile-ceiling 127.0.0.1:18300 2400`).

use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(bind), Some(size)) = (args.next(), args.next()) else {
        eprintln!("usage: tile-ceiling BIND BYTES");
        return ExitCode::from(2);
    };
    let Ok(size) = size.parse::<usize>() else {
        eprintln!("BYTES must be a whole number, got {size:?}");
        return ExitCode::from(2);
    };
    // Not all zeros, so nothing on the way can shortcut the body.
    let body = Bytes::from((0..size).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind).await?;
        let app = Router::new().fallback(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
                        ),
                        (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
                        (
                            header::CACHE_CONTROL,
                            HeaderValue::from_static("public, no-cache"),
                        ),
                        (header::VARY, HeaderValue::from_static("Accept-Encoding")),
                        (
                            header::ETAG,
                            HeaderValue::from_static("\"0123456789abcdef-gz\""),
                        ),
                    ],
                    body,
                )
                    .into_response()
            }
        });
        axum::serve(listener, app).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tile-ceiling: {e}");
            ExitCode::FAILURE
        }
    }
}
