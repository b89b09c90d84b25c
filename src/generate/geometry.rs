//! Planar helpers in a local metric frame: the district is small (about 11 × 13 km), so an
//! equirectangular projection about its centre is accurate to well under 1 % and keeps the
//! layout arithmetic simple. Conversion back to WGS84 degrees happens only at output.

use geo::{BoundingRect, Contains, Coord, MultiPolygon, Point, Rect, coord};

/// Reference longitude/latitude of the local frame (near the district centroid).
const LON0: f64 = 123.413;
const LAT0: f64 = 41.853;
/// Metres per degree at `LAT0` on the WGS84 ellipsoid (hard-coded, not computed with `cos`,
/// so output is identical on every platform).
const M_PER_DEG_LAT: f64 = 111_070.4;
const M_PER_DEG_LON: f64 = 83_041.24;

/// WGS84 degrees → local metres.
pub(crate) fn to_m(c: Coord) -> Coord {
    coord! { x: (c.x - LON0) * M_PER_DEG_LON, y: (c.y - LAT0) * M_PER_DEG_LAT }
}

/// Local metres → WGS84 degrees.
pub(crate) fn to_deg(c: Coord) -> Coord {
    coord! { x: c.x / M_PER_DEG_LON + LON0, y: c.y / M_PER_DEG_LAT + LAT0 }
}

pub(crate) fn dist(a: Coord, b: Coord) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// Length of a path in metres.
pub(crate) fn path_length(path: &[Coord]) -> f64 {
    path.windows(2).map(|w| dist(w[0], w[1])).sum()
}

/// The point `at` metres along a path (clamped to its ends).
pub(crate) fn point_along(path: &[Coord], at: f64) -> Coord {
    let mut left = at.max(0.0);
    for w in path.windows(2) {
        let d = dist(w[0], w[1]);
        if left <= d && d > 0.0 {
            let t = left / d;
            return coord! { x: w[0].x + (w[1].x - w[0].x) * t, y: w[0].y + (w[1].y - w[0].y) * t };
        }
        left -= d;
    }
    path.last().copied().unwrap_or(coord! { x: 0.0, y: 0.0 })
}

/// The part of a path between `from` and `to` metres along it, following its vertices.
pub(crate) fn sub_path(path: &[Coord], from: f64, to: f64) -> Vec<Coord> {
    let mut out = vec![point_along(path, from)];
    let mut walked = 0.0;
    for w in path.windows(2) {
        walked += dist(w[0], w[1]);
        if walked > from && walked < to {
            out.push(w[1]);
        }
    }
    out.push(point_along(path, to));
    out.dedup();
    out
}

/// Squared-free distance from `p` to segment `a`–`b`.
fn point_segment(p: Coord, a: Coord, b: Coord) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    };
    dist(p, coord! { x: a.x + t * dx, y: a.y + t * dy })
}

fn orient(a: Coord, b: Coord, c: Coord) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

/// Distance between segments `a`–`b` and `c`–`d` (0 when they cross or touch).
pub(crate) fn segment_distance(a: Coord, b: Coord, c: Coord, d: Coord) -> f64 {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return 0.0;
    }
    point_segment(a, c, d)
        .min(point_segment(b, c, d))
        .min(point_segment(c, a, b))
        .min(point_segment(d, a, b))
}

/// Segments bucketed on a square grid, for "is this path at least `margin` from them" queries.
#[derive(Debug, Clone)]
pub(crate) struct SegmentGrid {
    origin: Coord,
    cell_m: f64,
    nx: usize,
    ny: usize,
    cells: Vec<Vec<u32>>,
    segments: Vec<[Coord; 2]>,
}

impl SegmentGrid {
    /// An empty grid covering `bounds` (queries outside are clamped to the edge cells).
    pub(crate) fn new(bounds: Rect, cell_m: f64) -> SegmentGrid {
        let nx = ((bounds.width() / cell_m).ceil() as usize).max(1);
        let ny = ((bounds.height() / cell_m).ceil() as usize).max(1);
        SegmentGrid {
            origin: bounds.min(),
            cell_m,
            nx,
            ny,
            cells: vec![Vec::new(); nx * ny],
            segments: Vec::new(),
        }
    }

    fn span(&self, lo: Coord, hi: Coord) -> (usize, usize, usize, usize) {
        let ix = |x: f64| {
            (((x - self.origin.x) / self.cell_m).floor().max(0.0) as usize).min(self.nx - 1)
        };
        let iy = |y: f64| {
            (((y - self.origin.y) / self.cell_m).floor().max(0.0) as usize).min(self.ny - 1)
        };
        (ix(lo.x), ix(hi.x), iy(lo.y), iy(hi.y))
    }

    /// Adds every segment of a path.
    pub(crate) fn insert_path(&mut self, path: &[Coord]) {
        for w in path.windows(2) {
            let id = self.segments.len() as u32;
            self.segments.push([w[0], w[1]]);
            let (x0, x1, y0, y1) = self.span(lo(w[0], w[1]), hi(w[0], w[1]));
            for y in y0..=y1 {
                for x in x0..=x1 {
                    self.cells[y * self.nx + x].push(id);
                }
            }
        }
    }

    /// Whether every segment of `path` is at least `margin` metres from every stored segment.
    pub(crate) fn clear_of(&self, path: &[Coord], margin: f64) -> bool {
        let pad = coord! { x: margin, y: margin };
        path.windows(2).all(|w| {
            let (x0, x1, y0, y1) = self.span(lo(w[0], w[1]) - pad, hi(w[0], w[1]) + pad);
            (y0..=y1).all(|y| {
                (x0..=x1).all(|x| {
                    self.cells[y * self.nx + x].iter().all(|&id| {
                        let [c, d] = self.segments[id as usize];
                        segment_distance(w[0], w[1], c, d) >= margin
                    })
                })
            })
        })
    }
}

fn lo(a: Coord, b: Coord) -> Coord {
    coord! { x: a.x.min(b.x), y: a.y.min(b.y) }
}

fn hi(a: Coord, b: Coord) -> Coord {
    coord! { x: a.x.max(b.x), y: a.y.max(b.y) }
}

/// The district outline in local metres, with fast containment-with-margin tests.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    /// The outline.
    pub(crate) shape: MultiPolygon,
    /// Its bounding box.
    pub(crate) bbox: Rect,
    edges: SegmentGrid,
}

impl Region {
    /// Indexes the outline (already in metres).
    pub(crate) fn new(shape: MultiPolygon) -> Option<Region> {
        let bbox = shape.bounding_rect()?;
        let mut edges = SegmentGrid::new(bbox, 250.0);
        for poly in &shape.0 {
            edges.insert_path(&poly.exterior().0);
            for hole in poly.interiors() {
                edges.insert_path(&hole.0);
            }
        }
        Some(Region { shape, bbox, edges })
    }

    pub(crate) fn contains(&self, c: Coord) -> bool {
        self.shape.contains(&Point::from(c))
    }

    /// Whether all of `path` lies inside the outline, at least `margin` metres from its edge.
    pub(crate) fn holds(&self, path: &[Coord], margin: f64) -> bool {
        path.iter().all(|&c| self.contains(c)) && self.edges.clear_of(path, margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip() {
        let c = coord! { x: 123.43, y: 41.8195 };
        let back = to_deg(to_m(c));
        assert!((back.x - c.x).abs() < 1e-12 && (back.y - c.y).abs() < 1e-12);
    }

    #[test]
    fn segments_and_paths() {
        let o = coord! { x: 0.0, y: 0.0 };
        let e = coord! { x: 10.0, y: 0.0 };
        assert_eq!(
            segment_distance(o, e, coord! { x: 5.0, y: -1.0 }, coord! { x: 5.0, y: 1.0 }),
            0.0
        );
        assert_eq!(
            segment_distance(o, e, coord! { x: 5.0, y: 3.0 }, coord! { x: 6.0, y: 9.0 }),
            3.0
        );
        let path = [o, e, coord! { x: 10.0, y: 10.0 }];
        assert_eq!(path_length(&path), 20.0);
        assert_eq!(point_along(&path, 15.0), coord! { x: 10.0, y: 5.0 });
        assert_eq!(sub_path(&path, 5.0, 15.0).len(), 3);
        assert_eq!(path_length(&sub_path(&path, 5.0, 15.0)), 10.0);
    }
}
