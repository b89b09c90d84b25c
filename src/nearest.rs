//! Pocket parks nearest to a point, by geodesic distance to the park's edge (0 inside).
//!
//! Candidates come from the park R-tree in order of Mercator envelope distance, converted to a
//! conservative lower bound in metres; the search stops once no remaining candidate can beat
//! the k-th best exact distance. Depends on `snapshot`, `index`, `mercator` and `model`.

use std::sync::Arc;

use geo::{Contains, Coord, Distance, Geodesic, Geometry, LineString, Point, Polygon};

use crate::mercator::project;
use crate::model::Site;
use crate::snapshot::Snapshot;

/// Equatorial circumference of the WGS84 ellipsoid in metres (Web Mercator's world width).
const WORLD_M: f64 = 40_075_016.685_578_49;

/// How far (degrees) outside the data's bounds a query may be for the early stop to apply.
const NEAR_DEG: f64 = 1.0;

/// Which parks a nearest query considers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParkScope {
    /// Only parks open to the public (completed or accepted).
    Open,
    /// Every pocket park, whatever its status.
    All,
}

/// One answer of a nearest-park query.
#[derive(Debug, Clone)]
pub struct NearbyPark {
    /// The park.
    pub site: Arc<Site>,
    /// Geodesic distance in metres from the query point to the park's edge; 0 inside it.
    pub distance_m: f64,
}

/// The `limit` parks of `scope` nearest to (`lng`, `lat`), nearest first; ties by site id.
pub fn nearest_parks(
    snap: &Snapshot,
    lng: f64,
    lat: f64,
    limit: usize,
    scope: ParkScope,
) -> Vec<NearbyPark> {
    let fixed = &snap.fixed;
    let q = project(lng, lat);
    let mut best: Vec<NearbyPark> = Vec::new();
    // Mercator stretches distance by 1/cos(lat); cos of the extreme latitude the data reaches
    // (plus the query's) bounds the shrink factor, less 1% for the ellipsoid.
    // The bound holds for queries near the data, where paths are short and nearly straight
    // in Mercator; from farther away (great circles bend poleward, or wrap the antimeridian)
    // every park is measured.
    let [west, south, east, north] = fixed.lnglat_bounds;
    let near = (west - NEAR_DEG..=east + NEAR_DEG).contains(&lng)
        && (south - NEAR_DEG..=north + NEAR_DEG).contains(&lat);
    let max_abs_lat = south.abs().max(north.abs()).max(lat.abs()).min(89.0);
    let to_lower_bound_m = WORLD_M * max_abs_lat.to_radians().cos() * 0.99;
    for (k, merc_d) in fixed.park_index.nearest(q) {
        if limit == 0 {
            break;
        }
        if near && best.len() == limit && merc_d * to_lower_bound_m > best[limit - 1].distance_m {
            break;
        }
        let site = &snap.sites[fixed.park_positions[k]];
        if scope == ParkScope::Open && !site.is_open() {
            continue;
        }
        let d = distance_to_area_m(Point::new(lng, lat), &site.geometry);
        best.push(NearbyPark {
            site: Arc::clone(site),
            distance_m: d,
        });
        best.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.site.id.cmp(&b.site.id))
        });
        best.truncate(limit);
    }
    best
}

/// Geodesic distance in metres from `p` to the nearest point of an area's edge, or 0 when `p`
/// is inside it. Lines are measured to the nearest point on them.
///
/// Each segment's nearest point is found in a local equirectangular frame around `p` (exact
/// enough at park scale: the distance function is flat at its minimum), then measured on the
/// WGS84 ellipsoid (Karney).
pub fn distance_to_area_m(p: Point<f64>, g: &Geometry<f64>) -> f64 {
    let rings: Vec<&LineString<f64>> = match g {
        Geometry::Polygon(poly) => {
            if poly.contains(&p) {
                return 0.0;
            }
            rings_of(poly).collect()
        }
        Geometry::MultiPolygon(m) => {
            if m.contains(&p) {
                return 0.0;
            }
            m.iter().flat_map(rings_of).collect()
        }
        Geometry::LineString(l) => vec![l],
        Geometry::MultiLineString(m) => m.iter().collect(),
        Geometry::Point(q) => return Geodesic.distance(p, *q),
        _ => return f64::INFINITY,
    };
    let k = p.y().to_radians().cos();
    // Longitude differences wrapped to -180..180, so the frame holds across the antimeridian.
    let local = |c: Coord<f64>| {
        [
            ((c.x - p.x() + 540.0).rem_euclid(360.0) - 180.0) * k,
            c.y - p.y(),
        ]
    };
    let mut best = f64::INFINITY;
    for ring in rings {
        for seg in ring.lines() {
            let (a, b) = (local(seg.start), local(seg.end));
            let d = [b[0] - a[0], b[1] - a[1]];
            let len2 = d[0] * d[0] + d[1] * d[1];
            let t = if len2 == 0.0 {
                0.0
            } else {
                (-(a[0] * d[0] + a[1] * d[1]) / len2).clamp(0.0, 1.0)
            };
            let c = Point::new(
                seg.start.x + (seg.end.x - seg.start.x) * t,
                seg.start.y + (seg.end.y - seg.start.y) * t,
            );
            best = best.min(Geodesic.distance(p, c));
        }
    }
    best
}

fn rings_of(poly: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(poly.exterior()).chain(poly.interiors())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(lng: f64, lat: f64, d: f64) -> Geometry<f64> {
        Geometry::Polygon(Polygon::new(
            LineString::from(vec![
                (lng, lat),
                (lng + d, lat),
                (lng + d, lat + d),
                (lng, lat + d),
                (lng, lat),
            ]),
            vec![],
        ))
    }

    #[test]
    fn inside_is_zero_and_outside_matches_point_distance() {
        let sq = square(123.4, 41.8, 0.001);
        assert_eq!(distance_to_area_m(Point::new(123.4005, 41.8005), &sq), 0.0);
        // Due south of the south edge: the distance is the meridian arc to the edge.
        let p = Point::new(123.4005, 41.79);
        let expect = Geodesic.distance(p, Point::new(123.4005, 41.8));
        assert!((distance_to_area_m(p, &sq) - expect).abs() < 0.01);
        // Off a corner: the distance to the corner.
        let p = Point::new(123.39, 41.79);
        let expect = Geodesic.distance(p, Point::new(123.4, 41.8));
        assert!((distance_to_area_m(p, &sq) - expect).abs() < 0.01);
    }
}
