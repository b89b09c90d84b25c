//! Small plane geometry for building and snapping to the network: a local metric frame
//! around a point, the nearest point of a segment, and nearest-piece search over the R-tree.
//!
//! The frame is only used to *choose* points (gates, snaps); every length stored in the graph
//! is measured on the WGS84 ellipsoid (Karney) between the chosen points.

use crate::index::SpatialIndex;
use crate::mercator::{MercRect, project};

/// Metres per degree of latitude on the mean Earth sphere (6,371,008.8 m · π / 180).
pub(super) const M_PER_DEG: f64 = 111_195.08;

/// Equatorial circumference of the WGS84 ellipsoid in metres (Web Mercator's world width).
const WORLD_M: f64 = 40_075_016.685_578_49;

/// A local equirectangular frame in metres around `origin` (longitude, latitude).
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    origin: [f64; 2],
    k: f64,
}

impl Frame {
    pub(super) fn at(origin: [f64; 2]) -> Frame {
        Frame {
            origin,
            k: origin[1].to_radians().cos() * M_PER_DEG,
        }
    }

    /// `c` in metres east and north of the origin.
    pub(super) fn local(&self, c: [f64; 2]) -> [f64; 2] {
        [
            ((c[0] - self.origin[0] + 540.0).rem_euclid(360.0) - 180.0) * self.k,
            (c[1] - self.origin[1]) * M_PER_DEG,
        ]
    }
}

/// Nearest point of segment `a`–`b` to `p`, all in one frame: `(distance, t)` with `t` in
/// 0..=1 along the segment.
pub(super) fn nearest_on_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> (f64, f64) {
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
    };
    let q = [a[0] + d[0] * t, a[1] + d[1] * t];
    ((p[0] - q[0]).hypot(p[1] - q[1]), t)
}

/// The point at `t` along `a`–`b` (longitude, latitude, linear in degrees).
pub(super) fn lerp(a: [f64; 2], b: [f64; 2], t: f64) -> [f64; 2] {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
}

/// Mercator bounds of the segment `a`–`b` (WGS84 ends).
pub(super) fn merc_rect(a: [f64; 2], b: [f64; 2]) -> MercRect {
    let (pa, pb) = (project(a[0], a[1]), project(b[0], b[1]));
    MercRect {
        min_x: pa[0].min(pb[0]),
        min_y: pa[1].min(pb[1]),
        max_x: pa[0].max(pb[0]),
        max_y: pa[1].max(pb[1]),
    }
}

/// Mercator bounds of a WGS84 box `[west, south, east, north]` grown by `m` metres.
pub(crate) fn merc_box(b: [f64; 4], m: f64) -> MercRect {
    let lat = b[1].abs().max(b[3].abs()).min(89.0);
    let dlat = m / M_PER_DEG;
    let dlng = m / (M_PER_DEG * lat.to_radians().cos());
    merc_rect(
        [b[0] - dlng, (b[1] - dlat).max(-89.0)],
        [b[2] + dlng, (b[3] + dlat).min(89.0)],
    )
}

/// The segment (by index position) nearest to `p`, with `(position, t, metres)`; `ends`
/// gives a position's segment ends. `None` when the index is empty.
pub(super) fn nearest_segment(
    index: &SpatialIndex,
    p: [f64; 2],
    ends: impl Fn(usize) -> ([f64; 2], [f64; 2]),
) -> Option<(usize, f64, f64)> {
    let frame = Frame::at(p);
    // Mercator shrinks distance by cos(lat) at most at the farthest latitude a candidate may
    // have; 1° of slack and 1% for the ellipsoid keep the bound below the true distance.
    let lower_bound_m = WORLD_M * (p[1].abs() + 1.0).min(89.0).to_radians().cos() * 0.99;
    let mut best: Option<(usize, f64, f64)> = None;
    for (pos, merc_d) in index.nearest(project(p[0], p[1])) {
        if let Some((_, _, d)) = best
            && merc_d * lower_bound_m > d
        {
            break;
        }
        let (a, b) = ends(pos);
        let (d, t) = nearest_on_segment([0.0, 0.0], frame.local(a), frame.local(b));
        if best.is_none_or(|(_, _, bd)| d < bd) {
            best = Some((pos, t, d));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_on_segment_clamps_to_ends() {
        assert_eq!(
            nearest_on_segment([0.0, 1.0], [-1.0, 0.0], [1.0, 0.0]),
            (1.0, 0.5)
        );
        assert_eq!(
            nearest_on_segment([3.0, 0.0], [-1.0, 0.0], [1.0, 0.0]),
            (2.0, 1.0)
        );
        assert_eq!(
            nearest_on_segment([0.0, 2.0], [0.0, 0.0], [0.0, 0.0]).1,
            0.0
        );
    }

    #[test]
    fn frame_measures_metres() {
        let f = Frame::at([123.4, 41.8]);
        let [x, y] = f.local([123.401, 41.801]);
        assert!((y - 111.195).abs() < 0.01);
        assert!((x - 111.195 * 41.8f64.to_radians().cos()).abs() < 0.01);
    }
}
