//! Map tiles: the `z/x/y` tile grid over Web Mercator and the vector-tile encoder.
//!
//! `mod.rs` holds the pure tile math; [`clip`] cuts geometry to a tile; [`encode`] turns a
//! snapshot's features into a Mapbox Vector Tile; [`cache`] keeps encoded tiles; [`compress`] makes
//! their gzip, brotli and zstd forms; [`mlt`] converts them to MapLibre Tiles; [`sample`]
//! measures both formats' sizes. Only `encode` knows the `mvt` crate (`mlt`'s tests and doc
//! example build MVT input with it), only `mlt` knows `mlt-core`.

pub mod cache;
pub mod clip;
pub mod compress;
pub mod encode;
pub mod mlt;
pub mod sample;

use crate::mercator::{MercPoint, MercRect, project, unproject};

/// Highest zoom level served.
pub const MAX_ZOOM: u8 = 22;
/// Tile extent in tile units (MVT default).
pub const EXTENT: u32 = 4096;
/// Buffer around the tile, in tile units, that clipped geometry may reach into, so that
/// strokes and fills join across tile edges without seams (64 = 4 px at 256 px tiles).
pub const BUFFER: u32 = 64;
/// Zoom from which geometry is encoded at full detail (no simplification beyond the grid).
pub const FULL_DETAIL_ZOOM: u8 = 16;

/// One tile of the grid: zoom `z`, column `x` (from the west), row `y` (from the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileCoord {
    /// Zoom level, 0..=[`MAX_ZOOM`].
    pub z: u8,
    /// Column, 0..2^z.
    pub x: u32,
    /// Row, 0..2^z.
    pub y: u32,
}

/// Why a `z/x/y` triple is not a tile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileCoordError {
    /// The zoom is above [`MAX_ZOOM`].
    #[error("zoom {z} is outside 0..={max}", max = MAX_ZOOM)]
    Zoom {
        /// The zoom asked for.
        z: u64,
    },
    /// x or y is outside the grid of that zoom.
    #[error("tile {x}/{y} is outside the {n}×{n} grid of zoom {z}", n = 1u64 << z)]
    Grid {
        /// Zoom.
        z: u8,
        /// Column asked for.
        x: u64,
        /// Row asked for.
        y: u64,
    },
}

impl TileCoord {
    /// A checked tile coordinate.
    ///
    /// # Examples
    /// ```
    /// use renewal_map::tiles::TileCoord;
    /// assert!(TileCoord::new(0, 0, 0).is_ok());
    /// assert!(TileCoord::new(1, 2, 0).is_err());
    /// assert!(TileCoord::new(23, 0, 0).is_err());
    /// ```
    pub fn new(z: u64, x: u64, y: u64) -> Result<TileCoord, TileCoordError> {
        if z > u64::from(MAX_ZOOM) {
            return Err(TileCoordError::Zoom { z });
        }
        let z = z as u8;
        let n = 1u64 << z;
        if x >= n || y >= n {
            return Err(TileCoordError::Grid { z, x, y });
        }
        Ok(TileCoord {
            z,
            x: x as u32,
            y: y as u32,
        })
    }

    /// Tiles per side at this zoom.
    pub fn grid_size(self) -> f64 {
        (1u64 << self.z) as f64
    }

    /// The tile's area in normalised Mercator units.
    pub fn bounds(self) -> MercRect {
        let n = self.grid_size();
        MercRect {
            min_x: f64::from(self.x) / n,
            min_y: f64::from(self.y) / n,
            max_x: f64::from(self.x + 1) / n,
            max_y: f64::from(self.y + 1) / n,
        }
    }

    /// The tile's area grown by [`BUFFER`].
    pub fn buffered_bounds(self) -> MercRect {
        self.bounds()
            .expand(f64::from(BUFFER) / f64::from(EXTENT) / self.grid_size())
    }

    /// The tile's area in WGS84 degrees: west, south, east, north.
    pub fn lnglat_bounds(self) -> [f64; 4] {
        let b = self.bounds();
        let (w, n) = unproject(b.min_x, b.min_y);
        let (e, s) = unproject(b.max_x, b.max_y);
        [w, s, e, n]
    }

    /// A normalised Mercator point in this tile's units (0..EXTENT across the tile, y down).
    pub fn to_tile_units(self, p: MercPoint) -> [f64; 2] {
        let scale = self.grid_size() * f64::from(EXTENT);
        [
            p[0] * scale - f64::from(self.x) * f64::from(EXTENT),
            p[1] * scale - f64::from(self.y) * f64::from(EXTENT),
        ]
    }

    /// The tile of zoom `z` that holds the WGS84 point (`lng`, `lat`); latitudes beyond Web
    /// Mercator's limit fall in the edge rows.
    ///
    /// # Examples
    /// ```
    /// use renewal_map::tiles::TileCoord;
    /// let t = TileCoord::containing(123.42917, 41.81667, 14); // Shenyang North station
    /// assert_eq!((t.z, t.x, t.y), (14, 13809, 6093));
    /// assert_eq!(TileCoord::containing(180.0, -90.0, 2), TileCoord { z: 2, x: 3, y: 3 });
    /// ```
    pub fn containing(lng: f64, lat: f64, z: u8) -> TileCoord {
        let [x, y] = project(lng, lat);
        TileCoord::covering(
            MercRect {
                min_x: x,
                min_y: y,
                max_x: x,
                max_y: y,
            },
            z,
        )
        .next()
        .unwrap_or(TileCoord { z, x: 0, y: 0 })
    }

    /// The tiles of zoom `z` that `rect` touches, row by row.
    pub fn covering(rect: MercRect, z: u8) -> impl Iterator<Item = TileCoord> {
        let n = 1u64 << z;
        let cell = |v: f64| ((v.clamp(0.0, 1.0) * n as f64).floor() as u64).min(n - 1) as u32;
        let (x0, x1, y0, y1) = (
            cell(rect.min_x),
            cell(rect.max_x),
            cell(rect.min_y),
            cell(rect.max_y),
        );
        (y0..=y1).flat_map(move |y| (x0..=x1).map(move |x| TileCoord { z, x, y }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z0_covers_the_world() {
        let t = TileCoord::new(0, 0, 0).unwrap();
        let [w, s, e, n] = t.lnglat_bounds();
        assert!((w + 180.0).abs() < 1e-9 && (e - 180.0).abs() < 1e-9);
        assert!(
            (n - crate::mercator::MAX_LAT).abs() < 1e-6
                && (s + crate::mercator::MAX_LAT).abs() < 1e-6
        );
    }

    #[test]
    fn grid_limits() {
        assert!(TileCoord::new(22, (1 << 22) - 1, (1 << 22) - 1).is_ok());
        assert_eq!(
            TileCoord::new(22, 1 << 22, 0),
            Err(TileCoordError::Grid {
                z: 22,
                x: 1 << 22,
                y: 0
            })
        );
        assert_eq!(
            TileCoord::new(99, 0, 0),
            Err(TileCoordError::Zoom { z: 99 })
        );
    }

    #[test]
    fn tile_units_and_covering() {
        // Shenyang North station lies in tile 14/13809/6093 (checked against the formula by hand).
        let p = project(123.42917, 41.81667);
        let t = TileCoord::containing(123.42917, 41.81667, 14);
        let [u, v] = t.to_tile_units(p);
        assert!((0.0..4096.0).contains(&u) && (0.0..4096.0).contains(&v));
        assert_eq!((t.x, t.y), (13809, 6093));
        assert_eq!(
            TileCoord::covering(t.bounds(), 15).count(),
            9,
            "edges touch neighbours"
        );
    }
}
