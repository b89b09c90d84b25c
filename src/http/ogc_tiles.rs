//! OGC API – Tiles 1.0 under `/ogc`: the WebMercatorQuad tile matrix set, the dataset's vector
//! tileset (`/ogc/tiles/…`, every layer) and one per collection (`/ogc/collections/{c}/tiles/…`,
//! that collection's layer only). Tiles come from the same code, cache and headers as
//! `/tiles/{z}/{x}/{y}.mvt`; the path is `{tileMatrix}/{tileRow}/{tileCol}`, row before column.
//!
//! Errors: an unknown tile matrix set or tile matrix, or a row or column outside the matrix,
//! is 404; a row or column that is not a whole number is 400; an in-range tile with nothing
//! in it is 204.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, Params, clip};
use super::ogc::{find_collection, json_only, link};
use super::proxy::PublicBase;
use crate::features::Collection;
use crate::tiles::{MAX_ZOOM, TileCoord};

/// Link relation to vector tilesets.
pub const REL_TILESETS_VECTOR: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";
/// Link relation to tile matrix sets (tiling schemes).
pub const REL_TILING_SCHEMES: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes";
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";
/// The one tile matrix set served.
pub const TMS_ID: &str = "WebMercatorQuad";
const TMS_URI: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
const EPSG_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";
const MVT: &str = "application/vnd.mapbox-vector-tile";
/// Half the width of the Web Mercator world in metres.
const ORIGIN_M: f64 = 20_037_508.342_789_244;

/// The MVT layer that holds a collection's features.
pub fn layer_of(c: Collection) -> &'static str {
    match c {
        Collection::Sites => "site_points",
        Collection::Roads => "roads",
        Collection::Compounds => "compounds",
        Collection::Parks => "parks",
        Collection::Plazas => "plazas",
        Collection::SubDistricts => "subdistricts",
        Collection::Streets => "streets",
        Collection::District => "district",
        Collection::Landmarks => "landmarks",
    }
}

fn check_tms(id: &str) -> Result<(), ApiError> {
    if id == TMS_ID {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "unknown_tile_matrix_set",
            format!("no tile matrix set {:?}; there is {TMS_ID}", clip(id)),
        ))
    }
}

/// `GET /ogc/tileMatrixSets`.
pub(super) async fn tile_matrix_sets(
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    Ok(Json(json!({
        "tileMatrixSets": [{
            "id": TMS_ID,
            "title": "Google Maps Compatible for the World",
            "uri": TMS_URI,
            "links": [link(format!("{base}/ogc/tileMatrixSets/{TMS_ID}"), "self", "application/json", TMS_ID)],
        }],
    })))
}

/// `GET /ogc/tileMatrixSets/{id}`: the OGC 2D TMS 2.0 definition, zooms 0 to 22.
pub(super) async fn tile_matrix_set(
    ApiPath(id): ApiPath<String>,
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    check_tms(&id)?;
    let matrices: Vec<Value> = (0..=MAX_ZOOM)
        .map(|z| {
            let n = 1u64 << z;
            let cell = 2.0 * ORIGIN_M / 256.0 / n as f64;
            json!({
                "id": z.to_string(),
                "scaleDenominator": cell / 0.000_28,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-ORIGIN_M, ORIGIN_M],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": n,
                "matrixHeight": n,
            })
        })
        .collect();
    Ok(Json(json!({
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
        "links": [link(format!("{base}/ogc/tileMatrixSets/{TMS_ID}"), "self", "application/json", TMS_ID)],
    })))
}

/// The tileset description of the dataset (`collection: None`) or of one collection.
fn tileset(state: &AppState, base: &PublicBase, collection: Option<Collection>) -> Value {
    let prefix = match collection {
        Some(c) => format!("{base}/ogc/collections/{}/tiles", c.id()),
        None => format!("{base}/ogc/tiles"),
    };
    let here = format!("{prefix}/{TMS_ID}");
    let [w, s, e, n] = state.current().fixed.lnglat_bounds;
    let layers: Vec<Value> = match collection {
        Some(c) => vec![json!({"id": layer_of(c), "dataType": "vector",
            "geometryDimension": geometry_dimension(crate::queryables::geometry_type(c)),
            "minTileMatrix": "0", "maxTileMatrix": MAX_ZOOM.to_string()})],
        None => crate::tiles::encode::LAYERS
            .iter()
            .map(|(id, description)| {
                json!({"id": id, "description": description, "dataType": "vector",
                "minTileMatrix": "0", "maxTileMatrix": MAX_ZOOM.to_string()})
            })
            .collect(),
    };
    let title = match collection {
        Some(c) => format!("{} (vector tiles)", c.title()),
        None => "renewal-map: every layer (vector tiles)".to_owned(),
    };
    json!({
        "title": title,
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "boundingBox": {"lowerLeft": [w, s], "upperRight": [e, n], "crs": super::ogc::CRS84},
        "layers": layers,
        "links": [
            link(here.clone(), "self", "application/json", "This tileset"),
            link(format!("{base}/ogc/tileMatrixSets/{TMS_ID}"), REL_TILING_SCHEME, "application/json", TMS_ID),
            json!({"href": format!("{here}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"), "rel": "item", "type": MVT, "templated": true, "title": "Tiles"}),
            json!({"href": format!("{here}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?f=mlt"), "rel": "item", "type": "application/vnd.maplibre-tile", "templated": true, "title": "Tiles as MapLibre Tiles"}),
        ],
    })
}

fn geometry_dimension(geometry_type: &str) -> u8 {
    match geometry_type {
        "Point" => 0,
        "LineString" => 1,
        _ => 2,
    }
}

fn tileset_list(state: &AppState, base: &PublicBase, collection: Option<Collection>) -> Value {
    let mut t = tileset(state, base, collection);
    if let Some(obj) = t.as_object_mut() {
        obj.remove("layers");
        obj.remove("boundingBox");
    }
    json!({"tilesets": [t]})
}

/// `GET /ogc/tiles`.
pub(super) async fn dataset_tilesets(
    State(state): State<AppState>,
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    Ok(Json(tileset_list(&state, &base, None)))
}

/// `GET /ogc/tiles/{tms}`.
pub(super) async fn dataset_tileset(
    State(state): State<AppState>,
    ApiPath(tms): ApiPath<String>,
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    check_tms(&tms)?;
    Ok(Json(tileset(&state, &base, None)))
}

/// `GET /ogc/collections/{c}/tiles`.
pub(super) async fn collection_tilesets(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let c = find_collection(&id)?;
    Ok(Json(tileset_list(&state, &base, Some(c))))
}

/// `GET /ogc/collections/{c}/tiles/{tms}`.
pub(super) async fn collection_tileset(
    State(state): State<AppState>,
    ApiPath((id, tms)): ApiPath<(String, String)>,
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let c = find_collection(&id)?;
    check_tms(&tms)?;
    Ok(Json(tileset(&state, &base, Some(c))))
}

/// The tile at `{tileMatrix}/{tileRow}/{tileCol}` of WebMercatorQuad.
fn tile_coord(tms: &str, matrix: &str, row: &str, col: &str) -> Result<TileCoord, ApiError> {
    check_tms(tms)?;
    let z = matrix
        .parse::<u8>()
        .ok()
        .filter(|z| *z <= MAX_ZOOM && matrix.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_tile_matrix",
                format!(
                    "no tile matrix {:?} in {TMS_ID}; they are 0 to {MAX_ZOOM}",
                    clip(matrix)
                ),
            )
        })?;
    let number = |name: &str, raw: &str| -> Result<u64, ApiError> {
        if raw.is_empty() || raw.len() > 10 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::bad_param(format!(
                "{name} must be a whole number, got {:?}",
                clip(raw)
            )));
        }
        raw.parse()
            .map_err(|_| ApiError::bad_param(format!("{name} is out of range")))
    };
    let (y, x) = (number("tileRow", row)?, number("tileCol", col)?);
    let size = 1u64 << z;
    if x >= size || y >= size {
        return Err(ApiError::not_found(
            "tile_out_of_range",
            format!("tile matrix {z} has rows and columns 0 to {}", size - 1),
        ));
    }
    TileCoord::new(u64::from(z), x, y)
        .map_err(|e| ApiError::not_found("tile_out_of_range", e.to_string()))
}

/// `GET /ogc/tiles/{tms}/{tileMatrix}/{tileRow}/{tileCol}`: the same tile as `/tiles/z/x/y.mvt`.
pub(super) async fn dataset_tile(
    State(state): State<AppState>,
    ApiPath((tms, matrix, row, col)): ApiPath<(String, String, String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tile = tile_coord(&tms, &matrix, &row, &col)?;
    super::tiles::serve_tile(&state, tile, &params, &headers, None, None).await
}

/// `GET /ogc/collections/{c}/tiles/{tms}/{tileMatrix}/{tileRow}/{tileCol}`: only `c`'s layer.
pub(super) async fn collection_tile(
    State(state): State<AppState>,
    ApiPath((id, tms, matrix, row, col)): ApiPath<(String, String, String, String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let c = find_collection(&id)?;
    let tile = tile_coord(&tms, &matrix, &row, &col)?;
    super::tiles::serve_tile(&state, tile, &params, &headers, Some(layer_of(c)), None).await
}

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The name (field 1) of an encoded MVT layer message.
fn layer_name(layer: &[u8]) -> Option<&str> {
    let mut i = 0;
    while i < layer.len() {
        let key = varint(layer, &mut i)?;
        match key & 7 {
            0 => {
                varint(layer, &mut i)?;
            }
            1 => i += 8,
            5 => i += 4,
            2 => {
                let len = usize::try_from(varint(layer, &mut i)?).ok()?;
                let body = layer.get(i..i.checked_add(len)?)?;
                i += len;
                if key >> 3 == 1 {
                    return std::str::from_utf8(body).ok();
                }
            }
            _ => return None,
        }
    }
    None
}

/// The tile `mvt` with only the layer `name` (its bytes as encoded, unchanged); `None` when
/// the tile has no such layer (or does not parse).
///
/// An MVT tile is a protobuf message whose field 3 repeats the layers, so a layer is kept by
/// copying its field as it is: no decoding or re-encoding of features.
pub fn only_layer(mvt: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < mvt.len() {
        let start = i;
        let key = varint(mvt, &mut i)?;
        match key & 7 {
            0 => {
                varint(mvt, &mut i)?;
            }
            1 => i += 8,
            5 => i += 4,
            2 => {
                let len = usize::try_from(varint(mvt, &mut i)?).ok()?;
                let body = mvt.get(i..i.checked_add(len)?)?;
                i += len;
                if key >> 3 == 3 && layer_name(body) == Some(name) {
                    out.extend_from_slice(&mvt[start..i]);
                }
            }
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// 16 hex digits of the SHA-256 of `bytes`, as the tile cache makes them for ETags.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tile of two layers, written by hand: field 3 twice, each a layer with a name.
    fn two_layers() -> Vec<u8> {
        let layer = |name: &str| {
            let mut l = vec![0x78, 2, 0x0a, name.len() as u8];
            l.extend_from_slice(name.as_bytes());
            l
        };
        let mut t = Vec::new();
        for name in ["parks", "roads"] {
            let l = layer(name);
            t.push(0x1a);
            t.push(l.len() as u8);
            t.extend(l);
        }
        t
    }

    #[test]
    fn keeps_one_layer_byte_for_byte() {
        let t = two_layers();
        let roads = only_layer(&t, "roads").unwrap();
        assert_eq!(roads, t[t.len() - roads.len()..]);
        assert!(only_layer(&t, "district").is_none());
        assert!(only_layer(&t[..5], "roads").is_none(), "truncated input");
    }

    #[test]
    fn tile_paths_put_the_row_first() {
        let t = tile_coord(TMS_ID, "3", "2", "5").unwrap();
        assert_eq!((t.z, t.x, t.y), (3, 5, 2));
        assert!(matches!(
            tile_coord(TMS_ID, "3", "8", "0"),
            Err(ApiError::NotFound { .. })
        ));
        assert!(matches!(
            tile_coord(TMS_ID, "23", "0", "0"),
            Err(ApiError::NotFound { .. })
        ));
        assert!(matches!(
            tile_coord(TMS_ID, "3", "x", "0"),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            tile_coord("WorldCRS84Quad", "3", "0", "0"),
            Err(ApiError::NotFound { .. })
        ));
    }
}
