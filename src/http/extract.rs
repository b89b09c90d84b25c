//! Request extractors whose rejections are [`ApiError`]s, and typed parsing of query
//! parameters with messages that say which parameter was wrong and why.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Path parameters; a path that does not decode is a 400, not axum's plain-text rejection.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| ApiPath(t))
            .map_err(|e| ApiError::bad_param(format!("bad path: {}", e.body_text())))
    }
}

/// The query string as decoded `(name, value)` pairs, checked against the names a route takes.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

/// Longest query string accepted, in bytes.
const MAX_QUERY_BYTES: usize = 4096;

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        if query.len() > MAX_QUERY_BYTES {
            return Err(ApiError::bad_param(format!(
                "query string longer than {MAX_QUERY_BYTES} bytes"
            )));
        }
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| Params(q.0))
            .map_err(|_| {
                ApiError::bad_param("malformed query string (bad percent-encoding or UTF-8)")
            })
    }
}

impl Params {
    /// Rejects names the route does not take, and repeated names.
    pub fn allow(&self, names: &[&str]) -> Result<&Self, ApiError> {
        for (i, (k, _)) in self.0.iter().enumerate() {
            if !names.contains(&k.as_str()) {
                let shown: String = k.chars().take(40).collect();
                return Err(ApiError::bad_param(format!(
                    "unknown parameter {shown:?}; this endpoint takes: {}",
                    names.join(", ")
                )));
            }
            if self.0[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(ApiError::bad_param(format!(
                    "parameter {k:?} given more than once"
                )));
            }
        }
        Ok(self)
    }

    /// The raw value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A finite number within `range`, if given.
    pub fn f64_in(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Result<Option<f64>, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        match raw.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && range.contains(&v) => Ok(Some(v)),
            Ok(_) => Err(ApiError::bad_param(format!(
                "{name} must be a number from {} to {}",
                range.start(),
                range.end()
            ))),
            Err(_) => Err(ApiError::bad_param(format!(
                "{name} must be a number, got {:?}",
                clip(raw)
            ))),
        }
    }

    /// A whole number within `range`, if given.
    pub fn usize_in(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<Option<usize>, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        match raw.trim().parse::<usize>() {
            Ok(v) if range.contains(&v) => Ok(Some(v)),
            _ => Err(ApiError::bad_param(format!(
                "{name} must be a whole number from {} to {}, got {:?}",
                range.start(),
                range.end(),
                clip(raw)
            ))),
        }
    }

    /// A comma-separated list parsed item by item, if given.
    pub fn list<T: std::str::FromStr>(&self, name: &str) -> Result<Option<Vec<T>>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        raw.split(',')
            .map(|s| {
                s.trim()
                    .parse::<T>()
                    .map_err(|e| ApiError::bad_param(format!("{name}: {e}")))
            })
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
    }
}

/// At most 40 characters of user input, for error messages.
pub fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The query parameters that filter sites, shared by tiles and OGC API items.
pub const FILTER_PARAMS: [&str; 4] = ["status", "kind", "subdistrict", "late"];

/// Builds a site filter from `status`, `kind` (comma lists), `subdistrict` (code or name of a
/// known sub-district) and `late` (`true`/`false`).
pub fn site_filter(
    params: &Params,
    snap: &crate::snapshot::Snapshot,
    today: crate::model::Date,
) -> Result<crate::model::SiteFilter, ApiError> {
    let subdistrict = match params.get("subdistrict") {
        Some(d)
            if snap
                .fixed
                .subdistricts
                .iter()
                .any(|s| s.code == d || s.name == d) =>
        {
            Some(d.to_owned())
        }
        Some(d) => {
            return Err(ApiError::bad_param(format!(
                "unknown subdistrict {:?}; use a code or name from /ogc/collections/subdistricts/items",
                clip(d)
            )));
        }
        None => None,
    };
    let late_as_of = match params.get("late") {
        // GDAL's OGC API driver sends booleans as 1 and 0.
        None | Some("false") | Some("0") => None,
        Some("true") | Some("1") => Some(today),
        Some(other) => {
            return Err(ApiError::bad_param(format!(
                "late must be true or false (or 1 or 0), got {:?}",
                clip(other)
            )));
        }
    };
    Ok(crate::model::SiteFilter {
        statuses: params.list("status")?,
        kinds: params.list("kind")?,
        subdistrict,
        late_as_of,
        fids: None,
    })
}
