//! Park access routes: `/api/access` (coverage by method, per sub-district and per compound)
//! and `/api/access/next-parks` (which planned park brings the most households within reach).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{Params, clip};
use crate::access::rank::next_parks;
use crate::access::{AccessModel, Method};
use crate::snapshot::Snapshot;

/// Largest radius a request may ask for, metres.
pub const MAX_RADIUS_M: f64 = 5_000.0;
/// Most radii in one `/api/access` request.
pub const MAX_RADII: usize = 8;
/// Largest `limit` of `/api/access/next-parks`.
pub const MAX_RANKED: usize = 1_000;
/// Ranked parks returned when `limit` is not given.
pub const DEFAULT_RANKED: usize = 50;
/// Radius of `/api/access/next-parks` when none is given, metres.
pub const DEFAULT_RANK_RADIUS_M: f64 = 500.0;

fn method(params: &Params) -> Result<Method, ApiError> {
    match params.get("method") {
        None => Ok(Method::Network),
        Some(raw) => raw
            .parse::<Method>()
            .map_err(|e| ApiError::bad_param(e.to_string())),
    }
}

fn flag(params: &Params, name: &str) -> Result<bool, ApiError> {
    match params.get(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_param(format!(
            "{name} must be true or false, got {:?}",
            clip(other)
        ))),
    }
}

fn radii(params: &Params, method: Method, default: &[f64]) -> Result<Vec<f64>, ApiError> {
    let Some(raw) = params.get("radius") else {
        return Ok(default.to_vec());
    };
    if method == Method::Indicator {
        return Err(ApiError::bad_param(
            "the indicator method sets the radius by park size (500 m for 5,000 m² or more, 300 m for 2,000–5,000 m²); leave out radius",
        ));
    }
    let list: Vec<f64> = raw
        .split(',')
        .map(|s| match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_RADIUS_M => Ok(v),
            _ => Err(ApiError::bad_param(format!(
                "radius must be a comma list of metres, each above 0 and at most {MAX_RADIUS_M}, got {:?}",
                clip(s)
            ))),
        })
        .collect::<Result<_, _>>()?;
    if list.len() > MAX_RADII {
        return Err(ApiError::bad_param(format!(
            "radius takes at most {MAX_RADII} values"
        )));
    }
    Ok(list)
}

/// The access model of the current snapshot, off the async threads.
async fn model_of(
    state: &AppState,
) -> Result<(std::sync::Arc<Snapshot>, std::sync::Arc<AccessModel>), ApiError> {
    let snap = state.current();
    let cache = std::sync::Arc::clone(&state.access);
    let s = std::sync::Arc::clone(&snap);
    let model = tokio::task::spawn_blocking(move || cache.get(&s))
        .await
        .map_err(|e| {
            tracing::error!("access task failed: {e}");
            ApiError::Internal
        })?;
    Ok((snap, model))
}

fn to_json<T: serde::Serialize>(v: T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!("access serialisation failed: {e}");
        ApiError::Internal
    })
}

pub(super) async fn access(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&["method", "radius", "route", "compounds"])?;
    let method = method(&params)?;
    let routes = flag(&params, "route")?;
    let with_compounds = params.get("compounds") != Some("false");
    flag(&params, "compounds")?;
    let snap = state.current();
    let radii = radii(&params, method, &snap.fixed.plan.park_service_radii_m)?;
    let (snap, model) = model_of(&state).await?;
    let mut body = to_json(model.summary(&snap, method, &radii))?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("generation".into(), json!(snap.generation));
        obj.insert("network".into(), to_json(model.network.summary)?);
        if with_compounds {
            obj.insert(
                "per_compound".into(),
                Value::Array(model.compound_rows(&snap, method, routes)),
            );
        }
    }
    Ok(Json(body))
}

pub(super) async fn next(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&["method", "radius", "limit"])?;
    let method = method(&params)?;
    let radius = radii(&params, method, &[DEFAULT_RANK_RADIUS_M])?;
    let [radius] = radius[..] else {
        return Err(ApiError::bad_param("radius takes one value here (metres)"));
    };
    let limit = params
        .usize_in("limit", 1..=MAX_RANKED)?
        .unwrap_or(DEFAULT_RANKED);
    let (snap, model) = model_of(&state).await?;
    let mut ranking =
        tokio::task::spawn_blocking(move || next_parks(&model, &snap, method, radius))
            .await
            .map_err(|e| {
                tracing::error!("ranking task failed: {e}");
                ApiError::Internal
            })?;
    ranking.picks.truncate(limit);
    let mut body = to_json(&ranking)?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("limit".into(), json!(limit));
    }
    Ok(Json(body))
}

/// The three methods' district and sub-district coverage at the plan's radii, for
/// `/api/stats`.
pub(super) async fn stats_methods(state: &AppState) -> Result<Value, ApiError> {
    let (snap, model) = model_of(state).await?;
    let radii = snap.fixed.plan.park_service_radii_m.clone();
    let list: Vec<Value> = Method::ALL
        .into_iter()
        .map(|m| to_json(model.summary(&snap, m, &radii)))
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(list))
}
