//! The geometry checks of loading: closed rings in the raw GeoJSON, WGS84 ranges, lines of two
//! distinct points, and simple polygons with their holes inside, as geo's `Validation` judges
//! them.

use geo::{Geometry, LineString, Polygon};
use serde_json::Value;

/// Whether every polygon ring of a raw GeoJSON geometry repeats its first position last
/// (RFC 7946 §3.1.6); geo-types would silently close them.
pub(super) fn rings_closed(geometry: Option<&Value>) -> bool {
    let Some(g) = geometry else { return true };
    let ring_closed = |r: &Value| {
        r.as_array()
            .is_none_or(|pts| pts.len() < 2 || pts.first() == pts.last())
    };
    let polygon_closed = |p: &Value| {
        p.as_array()
            .is_none_or(|rings| rings.iter().all(ring_closed))
    };
    match (g.get("type").and_then(Value::as_str), g.get("coordinates")) {
        (Some("Polygon"), Some(c)) => polygon_closed(c),
        (Some("MultiPolygon"), Some(c)) => {
            c.as_array().is_none_or(|ps| ps.iter().all(polygon_closed))
        }
        _ => true,
    }
}

/// Checks WGS84 ranges and ring/line shapes so that later stages can trust the geometry.
pub(super) fn geometry(g: &Geometry<f64>) -> Result<(), String> {
    use geo::CoordsIter;
    for c in g.coords_iter() {
        if !(c.x.is_finite()
            && c.y.is_finite()
            && (-180.0..=180.0).contains(&c.x)
            && (-90.0..=90.0).contains(&c.y))
        {
            return Err(format!(
                "coordinate ({}, {}) is not WGS84 longitude/latitude",
                c.x, c.y
            ));
        }
        // Exactly (0, 0) is what a missing position turns into, never a place in a district.
        if c.x == 0.0 && c.y == 0.0 {
            return Err(
                "coordinate (0, 0) is a placeholder for a missing position, not a place".into(),
            );
        }
    }
    use geo::Area;
    // Two distinct points make a line; rings are closed by the GeoJSON check in
    // `rings_closed`, and must be simple, non-degenerate and holes inside the exterior.
    let line_ok = |l: &LineString<f64>| l.0.windows(2).any(|w| w[0] != w[1]);
    let poly_ok = |p: &Polygon<f64>| {
        p.exterior().0.len() >= 4 && p.unsigned_area() > 0.0 && polygon_is_valid(p)
    };
    let ok = match g {
        Geometry::Point(_) => true,
        Geometry::LineString(l) => line_ok(l),
        Geometry::MultiLineString(m) => !m.0.is_empty() && m.0.iter().all(line_ok),
        Geometry::Polygon(p) => poly_ok(p),
        Geometry::MultiPolygon(m) => !m.0.is_empty() && m.0.iter().all(poly_ok),
        _ => {
            return Err(
                "unsupported geometry type (use Point, LineString, Polygon or their Multi forms)"
                    .into(),
            );
        }
    };
    if ok {
        Ok(())
    } else {
        Err("line without two distinct points, or polygon that is empty, self-intersecting, or has a hole outside its exterior".into())
    }
}

/// Whether `p` is valid as geo's `Validation` judges it (its coordinates are known finite here).
///
/// geo tests every pair of a ring's segments for a crossing, O(n²): a 667-vertex district
/// outline, repeated 100 times at `generate --scale 100`, cost most of a second of start-up. A
/// polygon without holes is judged here with the same rules (at least four points once
/// repeated ones are dropped; no two segments meeting except at the point they share) but the
/// crossings are found with geo's plane sweep. Polygons with holes, small and rare in a data
/// set, still go through geo's full check (hole containment and overlaps).
pub(super) fn polygon_is_valid(p: &Polygon<f64>) -> bool {
    use geo::{RemoveRepeatedPoints, Validation};
    if p.interiors().iter().any(|r| !r.0.is_empty()) {
        return p.is_valid();
    }
    let ring = p.exterior();
    ring.0.is_empty() || (ring.remove_repeated_points().0.len() >= 4 && !self_intersects(ring))
}

/// geo's rule for a ring crossing itself: two distinct segments that intersect, other than
/// one's end being the other's start (neighbours, and the two around the closing point).
fn self_intersects(ring: &LineString<f64>) -> bool {
    use geo::algorithm::sweep::Intersections;
    let lines: Vec<geo::Line<f64>> = ring.lines().collect();
    Intersections::from_iter(lines.iter()).any(|(a, b, _)| a.start != b.end && a.end != b.start)
}

#[cfg(test)]
mod tests {
    use geo::{Validation, coord};

    use super::*;

    fn ring(pts: &[(f64, f64)]) -> Polygon<f64> {
        Polygon::new(
            LineString::from(
                pts.iter()
                    .map(|&(x, y)| coord! {x: x, y: y})
                    .collect::<Vec<_>>(),
            ),
            vec![],
        )
    }

    /// The sweep's verdict is geo's on simple rings, bow-ties, spikes, touching and repeated
    /// vertices, collinear overlaps, and a many-sided outline with and without a crossing.
    #[test]
    fn same_verdict_as_geo_validation() {
        let mut cases = vec![
            ring(&[(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)]),
            ring(&[(0., 0.), (4., 4.), (4., 0.), (0., 4.), (0., 0.)]),
            ring(&[
                (0., 0.),
                (4., 0.),
                (4., 4.),
                (2., 4.),
                (2., 6.),
                (2., 4.),
                (0., 4.),
                (0., 0.),
            ]),
            ring(&[
                (0., 0.),
                (4., 0.),
                (2., 2.),
                (4., 4.),
                (0., 4.),
                (2., 2.),
                (0., 0.),
            ]),
            ring(&[(0., 0.), (4., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)]),
            ring(&[(0., 0.), (4., 0.), (6., 0.), (2., 0.), (2., 3.), (0., 0.)]),
            ring(&[(0., 0.), (4., 0.), (0., 0.)]),
            ring(&[(0., 0.), (4., 0.), (4., 4.), (0., 0.)]),
        ];
        let n = 400;
        let circle: Vec<(f64, f64)> = (0..=n)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i % n) / f64::from(n);
                (a.cos() * 10.0, a.sin() * 10.0)
            })
            .collect();
        cases.push(ring(&circle));
        let mut crossed = circle.clone();
        crossed.swap(100, 300);
        cases.push(ring(&crossed));
        let verdicts: Vec<bool> = cases.iter().map(polygon_is_valid).collect();
        assert_eq!(
            verdicts,
            cases.iter().map(|p| p.is_valid()).collect::<Vec<_>>()
        );
        assert!(verdicts.contains(&true) && verdicts.contains(&false));
    }
}
