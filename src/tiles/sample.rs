//! How large a data set's tiles are as MVT and as MLT, measured on a small sample of its
//! tiles, so a client can choose the smaller format (TileJSON reports it; the page uses it).
//!
//! The sample: at each zoom of [`SAMPLE_ZOOMS`], the tiles holding the centre of the data
//! set's bounds and the four points halfway from the centre to the corners (at most
//! [`MAX_SAMPLE_TILES`] tiles, fewer where points share a tile), without site filters. The
//! tiles come through the tile cache, so measuring also warms it. Sizes are counted in the
//! content coding the client negotiated, since that is what goes over the wire.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::sync::Arc;

use super::TileCoord;
use super::cache::TileCache;
use super::compress::ContentCoding;
use super::encode::{EncodeError, TileRequest};
use super::mlt::MltError;
use crate::model::{Date, SiteFilter};
use crate::snapshot::Snapshot;

/// The zooms sampled: the page's working zooms, from the district overview to full detail.
pub const SAMPLE_ZOOMS: RangeInclusive<u8> = 12..=16;
/// Tiles sampled per zoom at most (the centre and four points around it).
pub const SAMPLE_POINTS: usize = 5;
/// Tiles sampled at most over all zooms.
pub const MAX_SAMPLE_TILES: usize = 25;

/// Total bytes of the sampled tiles in each format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatSizes {
    /// Non-empty tiles measured.
    pub tiles: usize,
    /// Their bytes as MVT, in the coding.
    pub mvt_bytes: u64,
    /// Their bytes as MLT, in the coding.
    pub mlt_bytes: u64,
}

impl FormatSizes {
    /// Whether MLT is the smaller format over the sample (MVT when equal or nothing measured).
    pub fn mlt_smaller(&self) -> bool {
        self.mlt_bytes < self.mvt_bytes
    }
}

/// Why the sample could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// A sampled tile failed to encode.
    #[error("sampling tile sizes: {0}")]
    Encode(#[source] Arc<EncodeError>),
    /// A sampled tile failed to convert to MLT.
    #[error("sampling tile sizes: {0}")]
    Mlt(#[source] Arc<MltError>),
}

/// The sampled tiles of `bounds` (`[west, south, east, north]`, degrees), zoom by zoom.
///
/// # Examples
/// ```
/// use renewal_map::tiles::sample::{MAX_SAMPLE_TILES, sample_tiles};
/// let tiles = sample_tiles([123.35, 41.80, 123.47, 41.88]);
/// assert!(tiles.len() <= MAX_SAMPLE_TILES);
/// assert!(tiles.iter().any(|t| t.z == 12) && tiles.iter().any(|t| t.z == 16));
/// ```
pub fn sample_tiles([w, s, e, n]: [f64; 4]) -> Vec<TileCoord> {
    let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
    let points = [
        (cx, cy),
        ((cx + w) / 2.0, (cy + s) / 2.0),
        ((cx + e) / 2.0, (cy + s) / 2.0),
        ((cx + w) / 2.0, (cy + n) / 2.0),
        ((cx + e) / 2.0, (cy + n) / 2.0),
    ];
    debug_assert_eq!(points.len(), SAMPLE_POINTS);
    let mut out = Vec::new();
    for z in SAMPLE_ZOOMS {
        let at_zoom: BTreeSet<(u32, u32)> = points
            .iter()
            .map(|&(lng, lat)| {
                let t = TileCoord::containing(lng, lat, z);
                (t.x, t.y)
            })
            .collect();
        out.extend(at_zoom.into_iter().map(|(x, y)| TileCoord { z, x, y }));
    }
    out.truncate(MAX_SAMPLE_TILES);
    out
}

/// Measures the sample of `snap` in `coding`, through `cache` (encoding what it lacks).
/// May encode: call it where blocking is allowed.
pub fn measure(
    cache: &TileCache,
    snap: &Snapshot,
    today: Date,
    coding: ContentCoding,
) -> Result<FormatSizes, SampleError> {
    let filter = SiteFilter::default();
    let mut sizes = FormatSizes {
        tiles: 0,
        mvt_bytes: 0,
        mlt_bytes: 0,
    };
    for tile in sample_tiles(snap.fixed.lnglat_bounds) {
        let req = TileRequest {
            tile,
            filter: &filter,
            today,
        };
        let (t, _) = cache
            .get_or_encode(snap, req)
            .map_err(SampleError::Encode)?;
        let Some(mlt) = t.mlt().map_err(SampleError::Mlt)? else {
            continue;
        };
        sizes.tiles += 1;
        sizes.mvt_bytes += t.coded(coding).len() as u64;
        sizes.mlt_bytes += mlt.coded(coding).len() as u64;
    }
    Ok(sizes)
}
