//! Web Mercator (EPSG:3857) projection of model geometries, done once at load.
//!
//! Coordinates are *normalised world units*: x and y in 0..=1 across the whole world, y growing
//! southwards, so tile `z/x/y` covers `[x, x+1] × [y, y+1]` divided by 2^z. Depends on `geo`
//! types only.

use geo::{Coord, Geometry, LineString, Polygon};

/// The latitude limit of Web Mercator, in degrees.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// A point in normalised Web Mercator units.
pub type MercPoint = [f64; 2];

/// A geometry projected to normalised Web Mercator: points, lines or polygons (rings without
/// the closing vertex; first ring of each polygon is the exterior).
#[derive(Debug, Clone, PartialEq)]
pub enum MercGeom {
    /// One or more points.
    Points(Vec<MercPoint>),
    /// One or more polylines.
    Lines(Vec<Vec<MercPoint>>),
    /// One or more polygons, each a list of rings.
    Polygons(Vec<Vec<Vec<MercPoint>>>),
}

/// An axis-aligned rectangle in normalised Web Mercator units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MercRect {
    /// West edge.
    pub min_x: f64,
    /// North edge (smaller y is further north).
    pub min_y: f64,
    /// East edge.
    pub max_x: f64,
    /// South edge.
    pub max_y: f64,
}

impl MercRect {
    /// The rectangle grown by `d` on every side.
    pub fn expand(self, d: f64) -> MercRect {
        MercRect {
            min_x: self.min_x - d,
            min_y: self.min_y - d,
            max_x: self.max_x + d,
            max_y: self.max_y + d,
        }
    }

    /// Whether the two rectangles share any point.
    pub fn intersects(&self, o: &MercRect) -> bool {
        self.min_x <= o.max_x
            && o.min_x <= self.max_x
            && self.min_y <= o.max_y
            && o.min_y <= self.max_y
    }

    /// Whether `p` lies inside or on the edge.
    pub fn contains(&self, p: MercPoint) -> bool {
        (self.min_x..=self.max_x).contains(&p[0]) && (self.min_y..=self.max_y).contains(&p[1])
    }
}

/// Projects WGS84 longitude/latitude degrees to normalised Web Mercator.
///
/// # Examples
/// ```
/// use renewal_map::mercator::project;
/// assert_eq!(project(0.0, 0.0), [0.5, 0.5]);
/// let [x, y] = project(-180.0, 85.051_128_779_806_59);
/// assert!(x.abs() < 1e-12 && y.abs() < 1e-9);
/// ```
pub fn project(lng: f64, lat: f64) -> MercPoint {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (lng + 180.0) / 360.0;
    let y = 0.5 - (lat.tan() + 1.0 / lat.cos()).ln() / (2.0 * std::f64::consts::PI);
    [x, y]
}

/// Inverse of [`project`]: normalised Web Mercator to longitude/latitude degrees.
///
/// # Examples
/// ```
/// use renewal_map::mercator::{project, unproject};
/// let [x, y] = project(123.42, 41.85);
/// let (lng, lat) = unproject(x, y);
/// assert!((lng - 123.42).abs() < 1e-9 && (lat - 41.85).abs() < 1e-9);
/// ```
pub fn unproject(x: f64, y: f64) -> (f64, f64) {
    let lng = x * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    let lat = n.sinh().atan().to_degrees();
    (lng, lat)
}

fn project_coord(c: &Coord<f64>) -> MercPoint {
    project(c.x, c.y)
}

fn project_line(l: &LineString<f64>) -> Vec<MercPoint> {
    l.coords().map(project_coord).collect()
}

fn project_ring(l: &LineString<f64>) -> Vec<MercPoint> {
    let mut ring = project_line(l);
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    ring
}

fn project_polygon(p: &Polygon<f64>) -> Vec<Vec<MercPoint>> {
    std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(project_ring)
        .collect()
}

/// Projects a WGS84 geometry. Geometry types the service does not use project to no points.
pub fn project_geometry(g: &Geometry<f64>) -> MercGeom {
    match g {
        Geometry::Point(p) => MercGeom::Points(vec![project(p.x(), p.y())]),
        Geometry::MultiPoint(m) => {
            MercGeom::Points(m.iter().map(|p| project(p.x(), p.y())).collect())
        }
        Geometry::LineString(l) => MercGeom::Lines(vec![project_line(l)]),
        Geometry::MultiLineString(m) => MercGeom::Lines(m.iter().map(project_line).collect()),
        Geometry::Polygon(p) => MercGeom::Polygons(vec![project_polygon(p)]),
        Geometry::MultiPolygon(m) => MercGeom::Polygons(m.iter().map(project_polygon).collect()),
        _ => MercGeom::Points(Vec::new()),
    }
}

impl MercGeom {
    /// Every vertex of the geometry.
    pub fn vertices(&self) -> Box<dyn Iterator<Item = &MercPoint> + '_> {
        match self {
            MercGeom::Points(p) => Box::new(p.iter()),
            MercGeom::Lines(l) => Box::new(l.iter().flatten()),
            MercGeom::Polygons(p) => Box::new(p.iter().flatten().flatten()),
        }
    }

    /// The bounding rectangle, or `None` for an empty geometry.
    pub fn bounds(&self) -> Option<MercRect> {
        let mut it = self.vertices();
        let first = it.next()?;
        let mut r = MercRect {
            min_x: first[0],
            min_y: first[1],
            max_x: first[0],
            max_y: first[1],
        };
        for p in it {
            r.min_x = r.min_x.min(p[0]);
            r.min_y = r.min_y.min(p[1]);
            r.max_x = r.max_x.max(p[0]);
            r.max_y = r.max_y.max(p[1]);
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poles_clamp_and_round_trip() {
        let [_, y] = project(0.0, 90.0);
        assert!(y.abs() < 1e-9);
        let [_, y] = project(0.0, -90.0);
        assert!((y - 1.0).abs() < 1e-9);
        for (lng, lat) in [(-179.9, -80.0), (0.0, 0.0), (123.4, 41.8), (179.99, 85.0)] {
            let [x, y] = project(lng, lat);
            let (a, b) = unproject(x, y);
            assert!((a - lng).abs() < 1e-9 && (b - lat).abs() < 1e-9);
        }
    }

    #[test]
    fn rings_drop_closing_vertex() {
        let poly = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            vec![],
        );
        let MercGeom::Polygons(p) = project_geometry(&Geometry::Polygon(poly)) else {
            panic!("not polygons")
        };
        assert_eq!(p[0][0].len(), 3);
    }
}
