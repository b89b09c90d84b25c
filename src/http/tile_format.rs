//! Which format a tile is sent in: Mapbox Vector Tile (the default) or MapLibre Tile (MLT).
//!
//! In order: the path (`/tiles/{z}/{x}/{y}.mlt` is always MLT; `.mvt`, the long-standing
//! path, and the OGC tile paths name no format), then `?f=mvt|mlt`, then `Accept`: MLT when `application/vnd.maplibre-tile` is listed with a quality above 0
//! and at least that of `application/vnd.mapbox-vector-tile` (absent counts as 0; wildcards
//! never choose MLT, so `*/*` keeps MVT). Only in that last case does the answer depend on
//! `Accept`, so only then is `Accept` named in `Vary`.

use axum::http::{HeaderMap, header};

use super::error::ApiError;
use super::extract::{Params, clip};

/// The media type of Mapbox Vector Tiles.
pub(super) const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// The media type of MapLibre Tiles.
pub(super) const MLT_TYPE: &str = "application/vnd.maplibre-tile";
/// The query parameter naming the format.
pub(super) const FORMAT_PARAM: &str = "f";
/// Longest `Accept` read, in bytes over all its lines; the rest is ignored.
pub const MAX_ACCEPT_BYTES: usize = 1024;

/// A tile format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TileFormat {
    /// Mapbox Vector Tile 2.1 (protobuf).
    Mvt,
    /// MapLibre Tile, converted from the MVT.
    Mlt,
}

impl TileFormat {
    /// Its media type.
    pub(super) fn media_type(self) -> &'static str {
        match self {
            TileFormat::Mvt => MVT_TYPE,
            TileFormat::Mlt => MLT_TYPE,
        }
    }

    /// Its token in `?f=` and its file extension.
    pub(super) fn token(self) -> &'static str {
        match self {
            TileFormat::Mvt => "mvt",
            TileFormat::Mlt => "mlt",
        }
    }

    fn parse(raw: &str) -> Option<TileFormat> {
        [TileFormat::Mvt, TileFormat::Mlt]
            .into_iter()
            .find(|f| f.token() == raw)
    }
}

/// The format chosen for a request and whether `Accept` decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Chosen {
    /// The format to send.
    pub format: TileFormat,
    /// Whether the answer depends on `Accept` (no extension or `?f=` said).
    pub by_accept: bool,
}

/// The format of a tile request: `by_path` from the path's extension when it names one.
/// A `?f=` other than `mvt` or `mlt`, or one that contradicts the extension, is a 400.
pub(super) fn choose(
    by_path: Option<TileFormat>,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Chosen, ApiError> {
    let by_param = match params.get(FORMAT_PARAM) {
        None => None,
        Some(raw) => Some(TileFormat::parse(raw).ok_or_else(|| {
            ApiError::bad_param(format!("f must be mvt or mlt, got {:?}", clip(raw)))
        })?),
    };
    match (by_path, by_param) {
        (Some(p), Some(q)) if p != q => Err(ApiError::bad_param(format!(
            "f={} contradicts the path's .{}",
            q.token(),
            p.token()
        ))),
        (Some(format), _) | (None, Some(format)) => Ok(Chosen {
            format,
            by_accept: false,
        }),
        (None, None) => Ok(Chosen {
            format: by_accept(headers),
            by_accept: true,
        }),
    }
}

/// The format `Accept` prefers (see the module notes).
fn by_accept(headers: &HeaderMap) -> TileFormat {
    let (mut mlt, mut mvt) = (0u16, 0u16);
    let mut budget = MAX_ACCEPT_BYTES;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(text) = value.to_str() else { continue };
        let text = &text[..text.len().min(budget)];
        budget -= text.len();
        for item in text.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let media = parts.next().unwrap_or("");
            let mut q = Some(1000);
            for p in parts {
                if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    q = super::encoding::quality(v.trim());
                }
            }
            let Some(q) = q else { continue };
            if media.eq_ignore_ascii_case(MLT_TYPE) {
                mlt = mlt.max(q);
            } else if media.eq_ignore_ascii_case(MVT_TYPE) {
                mvt = mvt.max(q);
            }
        }
    }
    if mlt > 0 && mlt >= mvt {
        TileFormat::Mlt
    } else {
        TileFormat::Mvt
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{TileFormat, by_accept};

    fn pick(v: &'static str) -> TileFormat {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static(v));
        by_accept(&h)
    }

    #[test]
    fn accept_chooses_mlt_only_when_asked_for_by_name() {
        assert_eq!(by_accept(&HeaderMap::new()), TileFormat::Mvt);
        assert_eq!(pick("*/*"), TileFormat::Mvt);
        assert_eq!(pick("application/*"), TileFormat::Mvt);
        assert_eq!(pick("application/vnd.maplibre-tile"), TileFormat::Mlt);
        assert_eq!(
            pick("Application/VND.MapLibre-Tile;q=0.5, */*;q=0.1"),
            TileFormat::Mlt
        );
        assert_eq!(
            pick("application/vnd.mapbox-vector-tile, application/vnd.maplibre-tile;q=0.9"),
            TileFormat::Mvt
        );
        assert_eq!(
            pick("application/vnd.mapbox-vector-tile;q=0.9, application/vnd.maplibre-tile"),
            TileFormat::Mlt
        );
        assert_eq!(pick("application/vnd.maplibre-tile;q=0"), TileFormat::Mvt);
        // A malformed quality skips the entry.
        assert_eq!(pick("application/vnd.maplibre-tile;q=7"), TileFormat::Mvt);
    }
}
