//! Pocket parks (and existing green space imported from OpenStreetMap) nearest to a point, by
//! geodesic distance to the area's edge (0 inside).
//!
//! Candidates come from the park R-tree in order of Mercator envelope distance, converted to a
//! conservative lower bound in metres; the search stops once no remaining candidate can beat
//! the k-th best exact distance. Depends on `snapshot`, `index`, `mercator` and `model`.

use std::sync::Arc;

use geo::{Contains, Coord, Distance, Geodesic, Geometry, LineString, Point, Polygon};

use crate::mercator::project;
use crate::model::{BaseFeature, BaseKind, Site};
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
    let candidates = fixed
        .park_index
        .nearest(project(lng, lat))
        .filter_map(|(k, d)| {
            let site = &snap.sites[fixed.park_positions[k]];
            (scope == ParkScope::All || site.is_open()).then_some((site, d))
        });
    k_nearest(
        snap,
        lng,
        lat,
        limit,
        candidates,
        |s| &s.geometry,
        |s| s.id.as_str(),
    )
    .into_iter()
    .map(|(site, distance_m)| NearbyPark {
        site: Arc::clone(site),
        distance_m,
    })
    .collect()
}

/// One existing green space (imported from OpenStreetMap) near a point.
#[derive(Debug, Clone)]
pub struct NearbyGreen<'a> {
    /// The base-map feature (kind [`BaseKind::GreenSpace`]).
    pub feature: &'a BaseFeature,
    /// Geodesic distance in metres from the query point to its edge; 0 inside it.
    pub distance_m: f64,
}

/// The `limit` existing green spaces (parks, gardens, playgrounds of the data set's imported
/// `green` layer) nearest to (`lng`, `lat`), nearest first; ties by OSM id. Empty when the
/// data set has no such layer.
pub fn nearest_green(snap: &Snapshot, lng: f64, lat: f64, limit: usize) -> Vec<NearbyGreen<'_>> {
    let fixed = &snap.fixed;
    if !fixed.base.iter().any(|b| b.kind == BaseKind::GreenSpace) {
        return Vec::new();
    }
    let candidates = fixed
        .base_shapes
        .index
        .nearest(project(lng, lat))
        .map(|(pos, d)| (&fixed.base[pos], d))
        .filter(|(b, _)| b.kind == BaseKind::GreenSpace);
    k_nearest(snap, lng, lat, limit, candidates, |b| &b.geometry, osm_key)
        .into_iter()
        .map(|(feature, distance_m)| NearbyGreen {
            feature,
            distance_m,
        })
        .collect()
}

/// A green space's tie-breaking key: its OSM id.
fn osm_key(b: &BaseFeature) -> &str {
    b.osm_id.as_deref().unwrap_or("")
}

/// The `limit` candidates nearest to (`lng`, `lat`) by geodesic distance to their geometry,
/// nearest first, ties by `id`. `candidates` come in order of Mercator envelope distance (an
/// R-tree's nearest iterator), which, converted to a conservative lower bound in metres, lets
/// the search stop once no remaining candidate can beat the k-th best exact distance.
fn k_nearest<'a, T: ?Sized>(
    snap: &Snapshot,
    lng: f64,
    lat: f64,
    limit: usize,
    candidates: impl Iterator<Item = (&'a T, f64)>,
    geometry: impl Fn(&T) -> &Geometry<f64>,
    id: impl Fn(&T) -> &str,
) -> Vec<(&'a T, f64)> {
    let mut best: Vec<(&'a T, f64)> = Vec::new();
    // Mercator stretches distance by 1/cos(lat); cos of the extreme latitude the data reaches
    // (plus the query's) bounds the shrink factor, less 1% for the ellipsoid.
    // The bound holds for queries near the data, where paths are short and nearly straight
    // in Mercator; from farther away (great circles bend poleward, or wrap the antimeridian)
    // every candidate is measured.
    let [west, south, east, north] = snap.fixed.lnglat_bounds;
    let near = (west - NEAR_DEG..=east + NEAR_DEG).contains(&lng)
        && (south - NEAR_DEG..=north + NEAR_DEG).contains(&lat);
    let max_abs_lat = south.abs().max(north.abs()).max(lat.abs()).min(89.0);
    let to_lower_bound_m = WORLD_M * max_abs_lat.to_radians().cos() * 0.99;
    for (c, merc_d) in candidates {
        if limit == 0 {
            break;
        }
        if near && best.len() == limit && merc_d * to_lower_bound_m > best[limit - 1].1 {
            break;
        }
        let d = distance_to_area_m(Point::new(lng, lat), geometry(c));
        best.push((c, d));
        best.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| id(a.0).cmp(id(b.0))));
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

/// A lower bound of the geodesic distance in metres from `origin` (WGS84) to anything
/// inside `rect` (degrees): the gap in degrees at the fewest metres a degree can span there
/// (110,574 m of latitude; 111,320 m times the cosine of the highest latitude involved, of
/// longitude), less 1 %. Cheap, so a caller can skip measuring parks that cannot be nearer.
///
/// # Examples
/// ```
/// use geo::{Distance, Geodesic, Point, Rect, coord};
/// use renewal_map::nearest::distance_lower_bound_m;
/// let park = Rect::new(coord! {x: 123.41, y: 41.80}, coord! {x: 123.42, y: 41.81});
/// let here = [123.40, 41.85];
/// let bound = distance_lower_bound_m(here, &park);
/// let corner = Geodesic.distance(Point::new(123.41, 41.81), Point::new(here[0], here[1]));
/// assert!(bound > 0.9 * corner && bound <= corner);
/// assert_eq!(distance_lower_bound_m([123.415, 41.805], &park), 0.0);
/// ```
pub fn distance_lower_bound_m(origin: [f64; 2], rect: &geo::Rect<f64>) -> f64 {
    let (min, max) = (rect.min(), rect.max());
    let dx = (min.x - origin[0]).max(origin[0] - max.x).max(0.0);
    let dy = (min.y - origin[1]).max(origin[1] - max.y).max(0.0);
    let lat = origin[1].abs().max(min.y.abs()).max(max.y.abs()).min(90.0);
    let x_m = dx * 111_320.0 * lat.to_radians().cos();
    let y_m = dy * 110_574.0;
    0.99 * x_m.hypot(y_m)
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

    #[test]
    fn lower_bound_never_exceeds_the_distance() {
        use geo::BoundingRect;
        let mut seed = 5u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut tight = 0;
        for _ in 0..2_000 {
            let (lng, lat) = (100.0 + 40.0 * next(), -60.0 + 130.0 * next());
            let sq = square(lng, lat, 0.0002 + 0.01 * next());
            let rect = sq.bounding_rect().expect("bounds");
            let p = [lng + 0.05 * (next() - 0.4), lat + 0.05 * (next() - 0.4)];
            let d = distance_to_area_m(Point::new(p[0], p[1]), &sq);
            let bound = distance_lower_bound_m(p, &rect);
            assert!(bound <= d, "{p:?} {rect:?}: bound {bound} > {d}");
            if bound > 0.95 * d {
                tight += 1;
            }
        }
        assert!(tight > 1_000, "the bound is loose: {tight}");
    }
}
