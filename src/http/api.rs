//! The service's own JSON endpoints: health, progress, nearest parks, one site.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, Params, clip};
use crate::features::site_feature;
use crate::model::{Date, SiteId};
use crate::nearest::{ParkScope, nearest_parks as find_nearest};
use crate::progress::progress;

pub(super) async fn health(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&[])?;
    let snap = state.current();
    // Reads keep working on a full or read-only disk; writes do not, and health says why.
    let fault = state.store.as_ref().and_then(|s| s.fault(None));
    let mut body = json!({
        "status": if fault.is_some() { "degraded" } else { "ok" },
        "generation": snap.generation,
        "sites": snap.sites.len(),
        "district": snap.fixed.plan.district_name,
    });
    if let (Some(fault), Some(obj)) = (fault, body.as_object_mut()) {
        obj.insert(
            "reason".into(),
            json!(format!("{fault}; writes are refused")),
        );
    }
    Ok(Json(body))
}

pub(super) async fn stats(
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    params.allow(&["late_as_of", super::as_of::AS_OF])?;
    let today = match params.get("late_as_of") {
        Some(raw) => raw.parse::<Date>().map_err(|_| {
            ApiError::bad_param(format!(
                "late_as_of must be a date YYYY-MM-DD, got {:?}",
                clip(raw)
            ))
        })?,
        None => state.config.today(),
    };
    let view = super::as_of::view(&state, &params).await?;
    let snap = std::sync::Arc::clone(&view.snap);
    let report = tokio::task::spawn_blocking(move || progress(&snap, today))
        .await
        .map_err(|e| {
            tracing::error!("stats task failed: {e}");
            ApiError::Internal
        })?;
    let mut body = serde_json::to_value(report).map_err(|e| {
        tracing::error!("stats serialisation failed: {e}");
        ApiError::Internal
    })?;
    // Walking access describes the current map; a past instant's stats leave it out.
    if view.at.is_none() {
        let methods = super::access::stats_methods(&state).await?;
        if let Some(obj) = body.as_object_mut() {
            obj.insert("park_access_methods".into(), methods);
        }
    }
    Ok(super::as_of::json_response(
        &view,
        "application/json",
        &body,
    ))
}

pub(super) async fn nearest_parks(
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    params.allow(&[
        "lon",
        "lat",
        "limit",
        "include",
        "order",
        "route",
        super::as_of::AS_OF,
    ])?;
    let limits = &state.config.limits;
    let lon = params
        .f64_in("lon", -180.0..=180.0)?
        .ok_or_else(|| ApiError::bad_param("lon is required (WGS84 degrees)"))?;
    let lat = params
        .f64_in("lat", -90.0..=90.0)?
        .ok_or_else(|| ApiError::bad_param("lat is required (WGS84 degrees)"))?;
    let limit = params
        .usize_in("limit", 1..=limits.max_nearest)?
        .unwrap_or(limits.default_nearest);
    let scope = match params.get("include") {
        None | Some("open") => ParkScope::Open,
        Some("all") => ParkScope::All,
        Some(other) => {
            return Err(ApiError::bad_param(format!(
                "include must be open or all, got {:?}",
                clip(other)
            )));
        }
    };
    let by_walk = match params.get("order") {
        None | Some("distance") => false,
        Some("walk") => true,
        Some(other) => {
            return Err(ApiError::bad_param(format!(
                "order must be distance or walk, got {:?}",
                clip(other)
            )));
        }
    };
    let route = match params.get("route") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_param(format!(
                "route must be true or false, got {:?}",
                clip(other)
            )));
        }
    };
    let view = super::as_of::view(&state, &params).await?;
    let snap = std::sync::Arc::clone(&view.snap);
    let today = state.config.today();
    let cache = std::sync::Arc::clone(&state.access);
    let past = view.at.is_some();
    let s = std::sync::Arc::clone(&snap);
    let found = tokio::task::spawn_blocking(move || {
        // A past instant gets its own model, so the shared one keeps following the current map.
        let model = if past {
            std::sync::Arc::new(crate::access::AccessModel::build(&s))
        } else {
            cache.get(&s)
        };
        let green = green_space_features(&s, lon, lat, limit);
        let parks = if by_walk {
            crate::access::nearest_by_walk(&model, &s, lon, lat, limit, scope)
        } else {
            let found = find_nearest(&s, lon, lat, limit, scope);
            crate::access::walking_parks(&model, &s, lon, lat, found)
        };
        (parks, green)
    })
    .await
    .map_err(|e| {
        tracing::error!("nearest parks task failed: {e}");
        ApiError::Internal
    })?;
    let (found, green_space) = found;
    let features: Vec<Value> = found
        .iter()
        .map(|wp| {
            let n = &wp.nearby;
            let mut f = site_feature(&n.site, today);
            if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
                let walk_m = wp.walk.as_ref().map(|w| (w.walk_m * 10.0).round() / 10.0);
                p.insert("walk_m".into(), json!(walk_m));
                p.insert(
                    "walk_min".into(),
                    json!(
                        wp.walk
                            .as_ref()
                            .map(|w| crate::walk::walk_minutes(w.walk_m))
                    ),
                );
                if route {
                    p.insert(
                        "route".into(),
                        wp.walk
                            .as_ref()
                            .map_or(Value::Null, |w| crate::access::line_string(&w.route)),
                    );
                }
                p.insert(
                    "distance_m".into(),
                    json!((n.distance_m * 10.0).round() / 10.0),
                );
                let opens = if n.site.is_open() {
                    Value::Null
                } else {
                    json!(n.site.planned_finish)
                };
                p.insert("opens".into(), opens);
            }
            f
        })
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "query": {"lon": lon, "lat": lat, "limit": limit, "include": if scope == ParkScope::Open { "open" } else { "all" }, "order": if by_walk { "walk" } else { "distance" }, "route": route},
        "walk_m_per_min": crate::walk::WALK_M_PER_MIN,
        "numberReturned": features.len(),
        "features": features,
        "green_space": green_space,
    });
    Ok(super::as_of::json_response(
        &view,
        "application/geo+json",
        &body,
    ))
}

/// The existing green spaces (the data set's imported OpenStreetMap `green` layer) nearest a
/// point, as GeoJSON Features with `distance_m`; empty when the data set has none.
fn green_space_features(
    snap: &crate::snapshot::Snapshot,
    lon: f64,
    lat: f64,
    limit: usize,
) -> Vec<Value> {
    crate::nearest::nearest_green(snap, lon, lat, limit)
        .into_iter()
        .map(|g| {
            let mut f = crate::features::base_feature(g.feature);
            if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
                p.insert(
                    "distance_m".into(),
                    json!((g.distance_m * 10.0).round() / 10.0),
                );
            }
            f
        })
        .collect()
}

pub(super) async fn site(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.allow(&[])?;
    if !SiteId::is_well_formed(&id) {
        return Err(ApiError::bad_param(format!(
            "{:?} is not a site id (letters, digits, - and _)",
            clip(&id)
        )));
    }
    let snap = state.current();
    let site = snap
        .site(&id)
        .ok_or_else(|| ApiError::not_found("unknown_site", format!("no site with id {id:?}")))?;
    let body = site_feature(site, state.config.today());
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json".to_owned()),
            (header::ETAG, format!("\"{}\"", site.version)),
        ],
        Json(body),
    )
        .into_response())
}
