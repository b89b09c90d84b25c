//! `as_of=<RFC 3339 date or date-time>` on tiles, TileJSON, items, `/api/stats` and
//! `/api/parks/nearest`: the answer as it stood at that instant, rebuilt by the write service
//! from the stored versions. A bare date means 00:00:00 UTC of that day; a date-time may carry
//! fractional seconds (dropped) and an offset (`Z`, `+08:00`). Before seeding or not in the
//! past: 400. Past answers are cacheable forever ([`PAST_CACHE_CONTROL`]) with their own ETag;
//! the current map keeps its headers.

use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use super::extract::{Params, clip};
use crate::model::Timestamp;
use crate::snapshot::Snapshot;
use crate::tiles::cache::TileCache;
use crate::update::AsOfError;

/// The query parameter.
pub const AS_OF: &str = "as_of";

/// `Cache-Control` of answers about a past instant: they never change.
pub const PAST_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// What a read answers from: the current map, or the map at a past instant.
pub(super) struct View {
    /// The snapshot to read.
    pub snap: Arc<Snapshot>,
    /// The tile cache that goes with it.
    pub tiles: Arc<TileCache>,
    /// The instant, when it is a past one.
    pub at: Option<Timestamp>,
}

/// Parses an RFC 3339 date or date-time into a UTC instant (seconds).
pub fn parse_instant(raw: &str) -> Option<Timestamp> {
    // RFC 3339 is ASCII; checking first keeps the byte slicing below on char boundaries.
    if !raw.is_ascii() {
        return None;
    }
    if raw.len() == 10 {
        return raw.parse().ok();
    }
    let (date_time, offset_secs) = if let Some(dt) = raw.strip_suffix(['Z', 'z']) {
        (dt, 0i64)
    } else {
        let split = raw.len().checked_sub(6)?;
        let (dt, off) = raw.split_at(split);
        let sign = match off.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = off[1..].split_once(':')?;
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        if h > 23 || m > 59 {
            return None;
        }
        (dt, sign * (h * 3600 + m * 60))
    };
    let whole = match date_time.split_once('.') {
        Some((w, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => w,
        Some(_) => return None,
        None => date_time,
    };
    let whole = whole.replacen(['t', ' '], "T", 1);
    let t: Timestamp = format!("{whole}Z").parse().ok()?;
    Some(Timestamp::from_unix(t.unix() - offset_secs))
}

/// The view a read asks for with `as_of` (the current map without it).
pub(super) async fn view(state: &AppState, params: &Params) -> Result<View, ApiError> {
    let Some(raw) = params.get(AS_OF) else {
        return Ok(View {
            snap: state.current(),
            tiles: Arc::clone(&state.tiles),
            at: None,
        });
    };
    let at = parse_instant(raw).ok_or_else(|| {
        ApiError::bad_param(format!(
            "as_of must be an RFC 3339 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ), got {:?}",
            clip(raw)
        ))
    })?;
    let updates = state.updates.clone().ok_or(ApiError::BadRequest {
        code: "no_history",
        message: "this service runs without a store, so it has no history to answer as_of from"
            .into(),
    })?;
    let past = tokio::task::spawn_blocking(move || updates.as_of(at))
        .await
        .map_err(|e| {
            tracing::error!("as_of task failed: {e}");
            ApiError::Internal
        })?
        .map_err(|e| match e {
            AsOfError::BeforeSeeding { .. } | AsOfError::NotPast(_) => ApiError::BadRequest {
                code: "as_of_out_of_range",
                message: e.to_string(),
            },
            AsOfError::Store(e) => {
                tracing::error!("as_of: {e}");
                ApiError::Internal
            }
        })?;
    Ok(View {
        snap: past.snapshot,
        tiles: past.tiles,
        at: Some(at),
    })
}

/// Marks a response about a past instant as cacheable forever; a JSON body gets an ETag
/// naming the instant and its content. Responses about the current map pass unchanged.
pub(super) fn mark(view: &View, mut resp: Response, body_hash: Option<&[u8]>) -> Response {
    let Some(at) = view.at else {
        return resp;
    };
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(PAST_CACHE_CONTROL),
    );
    if let Some(bytes) = body_hash {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(bytes);
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        if let Ok(v) = HeaderValue::from_str(&format!("\"asof-{}-{hex}\"", at.unix())) {
            h.insert(header::ETAG, v);
        }
    }
    resp
}

/// A JSON answer, marked per [`mark`].
pub(super) fn json_response(
    view: &View,
    content_type: &'static str,
    body: &serde_json::Value,
) -> Response {
    use axum::response::IntoResponse;
    let bytes = body.to_string().into_bytes();
    let resp = ([(header::CONTENT_TYPE, content_type)], bytes.clone()).into_response();
    mark(view, resp, Some(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        let t = |s: &str| parse_instant(s).map(|t| t.to_string());
        // Not ASCII: refused, not sliced inside a character (found by schemathesis).
        assert_eq!(t("𾎩򻋺o&¨"), None);
        assert_eq!(t("2026-06-01T08:30:00+08:0é"), None);
        assert_eq!(t("2026-06-01").as_deref(), Some("2026-06-01T00:00:00Z"));
        assert_eq!(
            t("2026-06-01T08:30:00Z").as_deref(),
            Some("2026-06-01T08:30:00Z")
        );
        assert_eq!(
            t("2026-06-01T08:30:00.250Z").as_deref(),
            Some("2026-06-01T08:30:00Z")
        );
        assert_eq!(
            t("2026-06-01T08:30:00+08:00").as_deref(),
            Some("2026-06-01T00:30:00Z")
        );
        assert_eq!(
            t("2026-06-01T00:30:00-01:00").as_deref(),
            Some("2026-06-01T01:30:00Z")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-06-01T08:30:00+25:00",
            "2026-06-01T08:30:00.Z",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }
}
