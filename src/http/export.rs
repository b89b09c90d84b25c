//! `GET /api/export/sites.csv|sites.xlsx|sites.geojson`: every site passing the items
//! filters (`status`, `kind`, `subdistrict`, `late`), no page cap; `lang=en` for English
//! headers. The GeoJSON is streamed a batch of features at a time (gzip when accepted), so a
//! large data set is never held as one string; CSV and XLSX are built whole (XLSX is a zip).

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, FILTER_PARAMS, Params, clip, site_filter};
use super::tiles::accepts_gzip;
use crate::export::sites::{self, GEOJSON_HEAD, GEOJSON_TAIL, Lang};

/// Features serialised per streamed chunk of the GeoJSON export.
pub const GEOJSON_BATCH: usize = 256;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub(super) async fn export(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let allowed: Vec<&str> = FILTER_PARAMS.iter().copied().chain(["lang"]).collect();
    params.allow(&allowed)?;
    let lang: Lang = match params.get("lang") {
        Some(l) => l.parse().map_err(ApiError::bad_param)?,
        None => Lang::Zh,
    };
    let snap = state.current();
    let today = state.config.today();
    let filter = site_filter(&params, &snap, today)?;
    let selected = sites::select(&snap, &filter);
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!("export {file}: {e}");
        ApiError::Internal
    };
    match file.as_str() {
        "sites.csv" => {
            let body = tokio::task::spawn_blocking(move || {
                let mut buf = Vec::new();
                sites::write_csv(&selected, today, lang, &mut buf).map(|()| buf)
            })
            .await
            .map_err(|e| internal(&e))?
            .map_err(|e| internal(&e))?;
            Ok(attachment("text/csv; charset=utf-8", "sites.csv", body))
        }
        "sites.xlsx" => {
            let body =
                tokio::task::spawn_blocking(move || sites::xlsx(&snap, &selected, today, lang))
                    .await
                    .map_err(|e| internal(&e))?
                    .map_err(|e| internal(&e))?;
            Ok(attachment(XLSX_TYPE, "sites.xlsx", body))
        }
        "sites.geojson" => {
            let gzip = accepts_gzip(&headers);
            let (tx, rx) = mpsc::channel::<Bytes>(4);
            tokio::task::spawn_blocking(move || stream_geojson(&selected, today, gzip, &tx));
            let mut resp = (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/geo+json"),
                    (header::VARY, "Accept-Encoding"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"sites.geojson\"",
                    ),
                ],
                Body::from_stream(Chunks(rx)),
            )
                .into_response();
            if gzip {
                resp.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            Ok(resp)
        }
        other => Err(ApiError::not_found(
            "unknown_export",
            format!(
                "no export {:?}; use sites.csv, sites.xlsx or sites.geojson",
                clip(other)
            ),
        )),
    }
}

fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type)],
        Body::from(body),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// Serialises the FeatureCollection in batches and sends each (gzipped, when asked) as a
/// chunk; stops quietly when the client has gone.
fn stream_geojson(
    sites: &[std::sync::Arc<crate::model::Site>],
    today: crate::model::Date,
    gzip: bool,
    tx: &mpsc::Sender<Bytes>,
) {
    let mut sink = ChunkSink::new(gzip);
    let mut ok = sink.write(GEOJSON_HEAD.as_bytes());
    for (i, batch) in sites.chunks(GEOJSON_BATCH).enumerate() {
        for (j, s) in batch.iter().enumerate() {
            if i + j > 0 {
                ok = ok && sink.write(b",\n");
            }
            let feature = sites::geojson_feature(s, today).to_string();
            ok = ok && sink.write(feature.as_bytes());
        }
        if !ok || tx.blocking_send(sink.take()).is_err() {
            return;
        }
    }
    if sink.write(GEOJSON_TAIL.as_bytes()) {
        let _ = tx.blocking_send(sink.finish());
    }
}

/// Collects output, optionally through a gzip encoder, and hands it out chunk by chunk.
enum ChunkSink {
    Plain(Vec<u8>),
    Gzip(Box<flate2::write::GzEncoder<Vec<u8>>>),
}

impl ChunkSink {
    fn new(gzip: bool) -> ChunkSink {
        if gzip {
            ChunkSink::Gzip(Box::new(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            )))
        } else {
            ChunkSink::Plain(Vec::new())
        }
    }

    fn write(&mut self, data: &[u8]) -> bool {
        match self {
            ChunkSink::Plain(v) => {
                v.extend_from_slice(data);
                true
            }
            ChunkSink::Gzip(g) => g.write_all(data).is_ok(),
        }
    }

    fn take(&mut self) -> Bytes {
        match self {
            ChunkSink::Plain(v) => Bytes::from(std::mem::take(v)),
            ChunkSink::Gzip(g) => Bytes::from(std::mem::take(g.get_mut())),
        }
    }

    fn finish(self) -> Bytes {
        match self {
            ChunkSink::Plain(v) => Bytes::from(v),
            ChunkSink::Gzip(g) => Bytes::from(g.finish().unwrap_or_default()),
        }
    }
}

/// The receiving end of the chunk channel as a body stream.
struct Chunks(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|c| c.map(Ok))
    }
}
