//! `GET /style.json`: the map page's MapLibre style (spec v8), built here so the palette, the
//! dashing of illustrative boundaries and the layer list have one owner. Tile URLs are
//! absolute, from the public base of `proxy` (`Forwarded` / `X-Forwarded-*` from trusted
//! proxies only), so the style is right behind a proxy that says where it mounts the service. Site layers carry
//! `metadata["renewal:site"] = true`; the page and tests find them by it. There is no
//! `glyphs` URL: MapLibre draws labels with the browser's local fonts.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::Params;
use super::meta::{BACKGROUND, DISTRICT_FILL, LATE_OUTLINE, status_color};
use super::proxy::PublicBase;
use crate::model::RenewalStatus;

/// Fill opacity of site areas: even for every site, so progress never weakens a colour.
const FILL_OPACITY: f64 = 0.8;
fn status_match() -> Value {
    let mut m = vec![json!("match"), json!(["get", "status"])];
    for s in RenewalStatus::ALL {
        m.push(json!(s.as_str()));
        m.push(json!(status_color(s)));
    }
    m.push(json!("#999999"));
    Value::Array(m)
}

fn site(mut layer: Value) -> Value {
    layer["metadata"] = json!({"renewal:site": true});
    layer
}

fn area_layers(id: &str, source_layer: &str) -> [Value; 3] {
    let selected = json!(["boolean", ["feature-state", "selected"], false]);
    let hovered = json!(["boolean", ["feature-state", "hover"], false]);
    [
        site(json!({
            "id": format!("{id}-fill"), "type": "fill", "source": "renewal", "source-layer": source_layer,
            "paint": {"fill-color": status_match(), "fill-opacity": FILL_OPACITY},
        })),
        site(json!({
            "id": format!("{id}-outline"), "type": "line", "source": "renewal", "source-layer": source_layer,
            "paint": {
                "line-color": ["case", selected, "#111111", status_match()],
                "line-width": ["case", selected, 3.5, hovered, 2, 1],
            },
        })),
        site(json!({
            "id": format!("{id}-late"), "type": "line", "source": "renewal", "source-layer": source_layer,
            "filter": ["==", ["get", "late"], true],
            "paint": {"line-color": LATE_OUTLINE, "line-width": 2.5, "line-dasharray": [2, 1.5], "line-offset": -1.5},
        })),
    ]
}

/// The style for a data set whose `dashed` layers have illustrative geometry.
fn style(
    tiles: &str,
    bounds: [f64; 4],
    attribution: Option<&str>,
    dashed: impl Fn(&str) -> bool,
) -> Value {
    let dash = |layer: &str, paint: Value| -> Value {
        let mut p = paint;
        if dashed(layer) {
            p["line-dasharray"] = json!([3, 2]);
        }
        p
    };
    let late = json!(["==", ["get", "late"], true]);
    let selected = json!(["boolean", ["feature-state", "selected"], false]);
    let label = json!(["coalesce", ["get", "name"], ""]);
    let empty = json!({"type": "geojson", "data": {"type": "FeatureCollection", "features": []}});
    let mut layers = vec![
        json!({"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}}),
        json!({"id": "district-fill", "type": "fill", "source": "renewal", "source-layer": "district",
               "paint": {"fill-color": DISTRICT_FILL, "fill-opacity": 0.85}}),
        json!({"id": "subdistricts-line", "type": "line", "source": "renewal", "source-layer": "subdistricts",
               "paint": dash("subdistricts", json!({"line-color": "#6b675c", "line-width": 1.2}))}),
        // Imported (OSM) base layers; empty in the generated data set.
        json!({"id": "green-fill", "type": "fill", "source": "renewal", "source-layer": "green",
               "paint": {"fill-color": "#cfe3bf", "fill-opacity": 0.9}}),
        json!({"id": "water-fill", "type": "fill", "source": "renewal", "source-layer": "water",
               "filter": ["==", ["geometry-type"], "Polygon"], "paint": {"fill-color": "#b5d3e7"}}),
        json!({"id": "water-line", "type": "line", "source": "renewal", "source-layer": "water",
               "filter": ["==", ["geometry-type"], "LineString"], "paint": {"line-color": "#8fbcdb", "line-width": 2}}),
        json!({"id": "buildings-fill", "type": "fill", "source": "renewal", "source-layer": "buildings",
               "minzoom": 14, "paint": {"fill-color": "#e0dbd0", "fill-outline-color": "#c9c2b3"}}),
        json!({"id": "streets-line", "type": "line", "source": "renewal", "source-layer": "streets",
               "layout": {"line-cap": "round", "line-join": "round"},
               "paint": {"line-color": "#d3cdbd", "line-width": ["interpolate", ["linear"], ["zoom"], 11, 1, 14, 3, 17, 8]}}),
        json!({"id": "railways-line", "type": "line", "source": "renewal", "source-layer": "railways",
               "paint": {"line-color": "#8a8577", "line-width": 1.5, "line-dasharray": [4, 2]}}),
        json!({"id": "district-line", "type": "line", "source": "renewal", "source-layer": "district",
               "paint": dash("district", json!({"line-color": "#4a4740", "line-width": 2.5}))}),
    ];
    for (id, source_layer) in [
        ("compounds", "compounds"),
        ("parks", "parks"),
        ("plazas", "plazas"),
    ] {
        layers.extend(area_layers(id, source_layer));
    }
    layers.extend([
        site(json!({"id": "roads-late", "type": "line", "source": "renewal", "source-layer": "roads", "filter": late,
            "layout": {"line-cap": "round", "line-join": "round"},
            "paint": {"line-color": LATE_OUTLINE, "line-width": ["interpolate", ["linear"], ["zoom"], 11, 6, 15, 11, 18, 17],
                      "line-dasharray": [1.2, 0.8]}})),
        site(json!({"id": "roads-line", "type": "line", "source": "renewal", "source-layer": "roads",
            "layout": {"line-cap": "round", "line-join": "round"},
            "paint": {"line-color": ["case", selected, "#111111", status_match()],
                      "line-width": ["interpolate", ["linear"], ["zoom"], 11, 2.5, 15, 6, 18, 11]}})),
        json!({"id": "landmarks-circle", "type": "circle", "source": "renewal", "source-layer": "landmarks",
            "paint": {"circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": "#4a4740", "circle-stroke-width": 1.5}}),
        site(json!({"id": "site-points-late", "type": "circle", "source": "renewal", "source-layer": "site_points", "filter": late,
            "paint": {"circle-color": "#ffffff", "circle-radius": ["interpolate", ["linear"], ["zoom"], 11, 7.5, 15, 10.5],
                      "circle-stroke-color": LATE_OUTLINE, "circle-stroke-width": 2,
                      "circle-opacity": ["interpolate", ["linear"], ["zoom"], 14, 1, 16.5, 0.35],
                      "circle-stroke-opacity": ["interpolate", ["linear"], ["zoom"], 14, 1, 16.5, 0.5]}})),
        site(json!({"id": "site-points", "type": "circle", "source": "renewal", "source-layer": "site_points",
            "paint": {"circle-color": status_match(), "circle-radius": ["interpolate", ["linear"], ["zoom"], 11, 4, 15, 6],
                      "circle-stroke-color": ["case", selected, "#111111", "#ffffff"],
                      "circle-stroke-width": ["case", selected, 3, 1],
                      "circle-opacity": ["interpolate", ["linear"], ["zoom"], 14, 1, 16.5, 0.35],
                      "circle-stroke-opacity": ["interpolate", ["linear"], ["zoom"], 14, 1, 16.5, 0.5]}})),
        json!({"id": "subdistricts-label", "type": "symbol", "source": "subdistrict-labels", "minzoom": 10.5, "maxzoom": 15.5,
            "layout": {"text-field": label, "text-font": ["sans-serif"], "text-size": ["interpolate", ["linear"], ["zoom"], 11, 12, 14, 15]},
            "paint": {"text-color": "#6b675c", "text-halo-color": DISTRICT_FILL, "text-halo-width": 1.5}}),
        json!({"id": "landmarks-label", "type": "symbol", "source": "renewal", "source-layer": "landmarks", "minzoom": 13,
            "layout": {"text-field": label, "text-font": ["sans-serif"], "text-size": 11, "text-offset": [0, 0.9],
                       "text-anchor": "top", "text-max-width": 9},
            "paint": {"text-color": "#4a4740", "text-halo-color": "#ffffff", "text-halo-width": 1.2}}),
        site(json!({"id": "site-labels", "type": "symbol", "source": "renewal", "source-layer": "site_points", "minzoom": 15,
            "layout": {"text-field": ["concat", ["get", "name"], " ", ["to-string", ["get", "progress"]], "%"],
                       "text-font": ["sans-serif"], "text-size": 11, "text-offset": [0, 1], "text-anchor": "top", "text-max-width": 10},
            "paint": {"text-color": "#222222", "text-halo-color": "#ffffff", "text-halo-width": 1.5}})),
        json!({"id": "nearest-fill", "type": "fill", "source": "nearest", "filter": ["==", ["geometry-type"], "Polygon"],
            "paint": {"fill-color": ["case", ["get", "open"], status_color(RenewalStatus::Completed), status_color(RenewalStatus::UnderConstruction)],
                      "fill-opacity": 0.55}}),
        json!({"id": "nearest-outline", "type": "line", "source": "nearest", "filter": ["==", ["geometry-type"], "Polygon"],
            "paint": {"line-color": "#0b5d2a", "line-width": 3, "line-dasharray": [2, 1]}}),
        json!({"id": "nearest-late", "type": "line", "source": "nearest",
            "filter": ["all", ["==", ["geometry-type"], "Polygon"], ["==", ["get", "late"], true]],
            "paint": {"line-color": LATE_OUTLINE, "line-width": 2.5, "line-dasharray": [1, 1], "line-offset": -3}}),
        json!({"id": "nearest-route", "type": "line", "source": "nearest-route",
            "layout": {"line-cap": "round", "line-join": "round"},
            "paint": {"line-color": "#1c7ed6", "line-width": 4, "line-opacity": 0.85, "line-dasharray": [1.5, 1]}}),
        json!({"id": "nearest-origin", "type": "circle", "source": "nearest-origin",
            "paint": {"circle-radius": 7, "circle-color": "#1c7ed6", "circle-stroke-color": "#ffffff", "circle-stroke-width": 3}}),
        json!({"id": "nearest-rank-circle", "type": "circle", "source": "nearest-labels",
            "paint": {"circle-radius": 11, "circle-color": "#0b5d2a", "circle-stroke-color": "#ffffff", "circle-stroke-width": 2}}),
        json!({"id": "nearest-rank", "type": "symbol", "source": "nearest-labels",
            "layout": {"text-field": ["to-string", ["get", "rank"]], "text-font": ["sans-serif"], "text-size": 13,
                       "text-allow-overlap": true, "text-ignore-placement": true},
            "paint": {"text-color": "#ffffff"}}),
    ]);
    let [w, s, e, n] = bounds;
    json!({
        "version": 8,
        "name": "renewal-map",
        "center": [(w + e) / 2.0, (s + n) / 2.0],
        "zoom": 12,
        "sources": {
            "renewal": {"type": "vector", "tiles": [tiles], "minzoom": 0, "maxzoom": 16, "bounds": bounds,
                        "attribution": attribution.map_or_else(
                            || "renewal-map; see /api/meta for what is real and what is illustrative".to_owned(),
                            |a| format!("{a}; renewal-map")),
                        },
            "nearest": empty.clone(),
            "nearest-origin": empty.clone(),
            "nearest-route": empty.clone(),
            "nearest-labels": empty.clone(),
            "subdistrict-labels": empty,
        },
        "layers": layers,
    })
}

pub(super) async fn style_json(
    State(state): State<AppState>,
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    params.allow(&[])?;
    let snap = state.current();
    // Scheme, host and prefix as the client sees them (proxy headers only from trusted peers).
    let tiles = format!("{base}/tiles/{{z}}/{{x}}/{{y}}.mvt");
    let provenance = &snap.fixed.provenance;
    let attribution = provenance.attribution.as_deref();
    Ok(Json(style(
        &tiles,
        snap.fixed.lnglat_bounds,
        attribution,
        |layer| {
            provenance
                .layer(layer)
                .is_some_and(|l| l.geometry.is_illustrative())
        },
    )))
}
