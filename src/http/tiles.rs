//! `GET /tiles/{z}/{x}/{y}.mvt` (or `.mlt`); `GET /tiles.json` is in `tilejson`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, FILTER_PARAMS, Params, clip, site_filter};
use super::tile_format::{Chosen, FORMAT_PARAM, TileFormat};
use crate::snapshot::Snapshot;
use crate::tiles::cache::{CacheOutcome, Claim, EncodedTile, MLT_ETAG_SUFFIX, TileCache};
use crate::tiles::compress::ContentCoding;
use crate::tiles::encode::TileRequest;
use crate::tiles::{TileCoord, TileCoordError};

/// Tiles may be stored but must be revalidated, so an edit shows in the very next request.
const TILE_CACHE_CONTROL: &str = "public, no-cache";

/// Parses one path segment as a whole number; the message names the segment.
fn segment(name: &str, raw: &str) -> Result<u64, ApiError> {
    if raw.is_empty() || raw.len() > 10 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_param(format!(
            "tile {name} must be a whole number, got {:?}",
            clip(raw)
        )));
    }
    raw.parse()
        .map_err(|_| ApiError::bad_param(format!("tile {name} is out of range")))
}

pub(super) async fn tile(
    State(state): State<AppState>,
    ApiPath((z, x, y)): ApiPath<(String, String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // `.mvt` is the long-standing path: `?f=` or `Accept` may still ask for MLT there.
    // `.mlt` is always MLT.
    let (y, by_path) = match (y.strip_suffix(".mvt"), y.strip_suffix(".mlt")) {
        (Some(y), _) => (y, None),
        (_, Some(y)) => (y, Some(TileFormat::Mlt)),
        _ => {
            return Err(ApiError::not_found(
                "unknown_format",
                "tiles are served as {z}/{x}/{y}.mvt or {z}/{x}/{y}.mlt",
            ));
        }
    };
    let (z, x, y) = (segment("z", &z)?, segment("x", &x)?, segment("y", y)?);
    let tile = TileCoord::new(z, x, y).map_err(|e| match e {
        TileCoordError::Zoom { .. } => ApiError::not_found("zoom_out_of_range", e.to_string()),
        TileCoordError::Grid { .. } => ApiError::bad_param(e.to_string()),
    })?;
    serve_tile(&state, tile, &params, &headers, None, by_path).await
}

/// The query parameters a tile takes: the site filters and a CQL2 filter over the sites.
pub(super) const TILE_PARAMS: [&str; 6] = [
    FILTER_PARAMS[0],
    FILTER_PARAMS[1],
    FILTER_PARAMS[2],
    FILTER_PARAMS[3],
    "filter",
    "filter-lang",
];

/// The site filter of a tile request: the site parameters and, when given, a CQL2 `filter`
/// over the `sites` collection's queryables (evaluated here, once, into the matching ids).
fn tile_filter(
    params: &Params,
    snap: &crate::snapshot::Snapshot,
    today: crate::model::Date,
) -> Result<crate::model::SiteFilter, ApiError> {
    let mut filter = site_filter(params, snap, today)?;
    if let Some(cql) = super::ogc::cql_filter(params, crate::features::Collection::Sites)? {
        let ids: std::collections::BTreeSet<u64> = (0..snap.sites.len())
            .filter(|&i| {
                cql.matches(&crate::features::collection_feature(
                    snap,
                    crate::features::Collection::Sites,
                    i,
                    today,
                ))
            })
            .map(|i| snap.sites[i].fid)
            .collect();
        filter.fids = Some(Arc::new(ids));
    }
    Ok(filter)
}

/// The parameters a tile route takes: [`TILE_PARAMS`], `as_of` and the format `f`.
const TILE_ROUTE_PARAMS: [&str; 8] = [
    TILE_PARAMS[0],
    TILE_PARAMS[1],
    TILE_PARAMS[2],
    TILE_PARAMS[3],
    TILE_PARAMS[4],
    TILE_PARAMS[5],
    super::as_of::AS_OF,
    FORMAT_PARAM,
];

/// A non-empty tile ready to send: its body in the negotiated format and coding and its ETag.
struct Content {
    body: Bytes,
    etag: String,
    /// The ETag without the coding's suffix (`<hash>` or `<hash>-mlt`).
    tag: String,
    /// Bytes of the MVT before coding (for the metrics).
    mvt_len: usize,
}

/// The whole tile's content in `format` and `coding`: with `made_only` only from forms
/// already made (`None` when one is missing, so nothing slow runs), else making them now.
/// `None` too for an empty tile.
fn whole(
    t: &EncodedTile,
    format: TileFormat,
    coding: ContentCoding,
    made_only: bool,
) -> Result<Option<Content>, ApiError> {
    let Some(mvt_len) = t.mvt.as_ref().map(Bytes::len) else {
        return Ok(None);
    };
    let body = match format {
        TileFormat::Mvt => t.mvt_body(),
        TileFormat::Mlt if made_only => t.mlt_if_made(),
        TileFormat::Mlt => t.mlt().map_err(|e| {
            tracing::error!("{e}");
            ApiError::Internal
        })?,
    };
    let Some(b) = body else { return Ok(None) };
    let coded = if made_only {
        b.coded_if_made(coding)
    } else {
        Some(b.coded(coding))
    };
    Ok(coded.map(|body| Content {
        body,
        etag: b.etag(coding).to_owned(),
        tag: b.etag(ContentCoding::Identity).trim_matches('"').to_owned(),
        mvt_len,
    }))
}

/// The tile (or with `layer` that layer of it) in `format` and `coding`, from what `claim`
/// found: the cached tile, or the flight it joined or started. May encode, convert and compress: runs on the blocking pool.
fn prepare(
    cache: &TileCache,
    snap: &Snapshot,
    req: TileRequest<'_>,
    claim: Claim,
    layer: Option<&'static str>,
    format: TileFormat,
    coding: ContentCoding,
) -> Result<(CacheOutcome, Option<Content>), ApiError> {
    let (encoded, outcome) = match claim {
        Claim::Ready(tile) => (tile, CacheOutcome::Hit),
        Claim::Flight(flight) => cache.finish(snap, req, flight).map_err(|e| {
            tracing::error!("{e}");
            ApiError::Internal
        })?,
    };
    let content = match (layer, &encoded.mvt) {
        (_, None) => None,
        (None, Some(_)) => whole(&encoded, format, coding, false)?,
        (Some(name), Some(mvt)) => match super::ogc_tiles::only_layer(mvt, name) {
            None => None,
            Some(part) => Some(layer_content(part, format, coding)?),
        },
    };
    Ok((outcome, content))
}

/// One layer's MVT bytes as content in `format` and `coding` (made per request: the OGC
/// collection tiles are not cached apart from the whole tile).
fn layer_content(
    part: Vec<u8>,
    format: TileFormat,
    coding: ContentCoding,
) -> Result<Content, ApiError> {
    let mvt_len = part.len();
    let (bytes, suffix) = match format {
        TileFormat::Mvt => (part, ""),
        TileFormat::Mlt => (
            crate::tiles::mlt::mvt_to_mlt(&part).map_err(|e| {
                tracing::error!("{e}");
                ApiError::Internal
            })?,
            MLT_ETAG_SUFFIX,
        ),
    };
    let tag = format!("{}{suffix}", super::ogc_tiles::content_hash(&bytes));
    Ok(Content {
        body: Bytes::from(coding.compress(&bytes)),
        etag: format!("\"{tag}{}\"", coding.etag_suffix()),
        tag,
        mvt_len,
    })
}

/// Serves one tile: every layer, or with `layer` only that one (the OGC collection tiles),
/// as MVT or MLT (`by_path`: the format the path's extension names, else `?f=` or `Accept`
/// decide; see `tile_format`). Shared by `/tiles/…` and the OGC API – Tiles routes, so both
/// give the same bytes and headers. A whole tile already cached in the negotiated format and
/// coding is answered here on the async thread; anything that may encode, convert or
/// compress goes to the blocking pool.
pub(super) async fn serve_tile(
    state: &AppState,
    tile: TileCoord,
    params: &Params,
    headers: &HeaderMap,
    layer: Option<&'static str>,
    by_path: Option<TileFormat>,
) -> Result<Response, ApiError> {
    params.allow(&TILE_ROUTE_PARAMS)?;
    let chosen = super::tile_format::choose(by_path, params, headers)?;
    let format = chosen.format;
    let view = super::as_of::view(state, params).await?;
    let today = state.config.today();
    let filter = tile_filter(params, &view.snap, today)?;
    let coding = super::encoding::negotiate(headers);
    let started = std::time::Instant::now();
    let req = TileRequest {
        tile,
        filter: &filter,
        today,
    };
    let hit = match layer {
        None => view
            .tiles
            .cached(&view.snap, req)
            .and_then(|t| match &t.mvt {
                None => Some((CacheOutcome::Hit, None)),
                // Cannot fail when only taking forms already made.
                Some(_) => whole(&t, format, coding, true)
                    .ok()
                    .flatten()
                    .map(|c| (CacheOutcome::Hit, Some(c))),
            }),
        Some(_) => None,
    };
    let (outcome, content) = match hit {
        Some(hit) => hit,
        None => {
            let claim = view.tiles.claim(&view.snap, req);
            let (cache, snap) = (Arc::clone(&view.tiles), Arc::clone(&view.snap));
            let turns = Arc::clone(&state.tile_turns);
            // A task of its own rather than this request's future: a claim that started an
            // encoding is finished even if the client leaves while waiting for its turn.
            let work = tokio::spawn(async move {
                // The semaphore is never closed; were it, the work would just run.
                let _turn = turns.acquire_owned().await.ok();
                tokio::task::spawn_blocking(move || {
                    let req = TileRequest {
                        tile,
                        filter: &filter,
                        today,
                    };
                    prepare(&cache, &snap, req, claim, layer, format, coding)
                })
                .await
            });
            work.await.map_err(task_failed)?.map_err(task_failed)??
        }
    };
    let bytes = content.as_ref().map_or(0, |c| c.mvt_len);
    super::metrics::tile_served(outcome.as_str(), tile.z, bytes, started.elapsed());
    let mut resp = match content {
        Some(c) => tile_response(c, chosen, coding, headers),
        None => (
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, TILE_CACHE_CONTROL)],
        )
            .into_response(),
    };
    resp.headers_mut()
        .insert("x-tile-cache", HeaderValue::from_static(outcome.as_str()));
    Ok(super::as_of::mark(&view, resp, None))
}

/// A tile task that panicked or was cancelled: logged here, a 500 to the client.
fn task_failed(e: tokio::task::JoinError) -> ApiError {
    tracing::error!("tile task failed: {e}");
    ApiError::Internal
}

/// Builds the 200 or 304 for a non-empty tile sent in the `chosen` format and `coding`.
fn tile_response(c: Content, chosen: Chosen, coding: ContentCoding, req: &HeaderMap) -> Response {
    let mut headers = HeaderMap::with_capacity(6);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(TILE_CACHE_CONTROL),
    );
    let vary = if chosen.by_accept {
        "Accept, Accept-Encoding"
    } else {
        "Accept-Encoding"
    };
    headers.insert(header::VARY, HeaderValue::from_static(vary));
    if let Ok(v) = HeaderValue::from_str(&c.etag) {
        headers.insert(header::ETAG, v);
    }
    if if_none_match(req, &c.tag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(chosen.format.media_type()),
    );
    if coding != ContentCoding::Identity {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    (StatusCode::OK, headers, Body::from(c.body)).into_response()
}

/// Whether `If-None-Match` names this content (in any coding, weak or strong); `tag` is its
/// ETag without the coding's suffix (`<hash>` for MVT, `<hash>-mlt` for MLT).
fn if_none_match(h: &HeaderMap, tag_of_content: &str) -> bool {
    h.get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
            tag == "*"
                || tag.strip_prefix(tag_of_content).is_some_and(|rest| {
                    rest.is_empty()
                        || ContentCoding::COMPRESSED
                            .iter()
                            .any(|c| c.etag_suffix() == rest)
                })
        })
}

/// Whether `Accept-Encoding` lists gzip with a non-zero quality.
pub(super) fn accepts_gzip(h: &HeaderMap) -> bool {
    h.get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q_zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip(&headers(
            header::ACCEPT_ENCODING,
            "br, gzip;q=0.8"
        )));
        assert!(!accepts_gzip(&headers(header::ACCEPT_ENCODING, "gzip;q=0")));
        assert!(!accepts_gzip(&headers(header::ACCEPT_ENCODING, "identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn etag_matching() {
        assert!(if_none_match(
            &headers(header::IF_NONE_MATCH, "\"abc\""),
            "abc"
        ));
        assert!(if_none_match(
            &headers(header::IF_NONE_MATCH, "W/\"x\", \"abc-gz\""),
            "abc"
        ));
        assert!(!if_none_match(
            &headers(header::IF_NONE_MATCH, "\"abd\""),
            "abc"
        ));
    }
}
