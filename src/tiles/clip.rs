//! Cutting geometry to a tile and thinning it for the zoom, in tile units.
//!
//! Pure functions over `[f64; 2]` points: Sutherland–Hodgman for rings, Liang–Barsky for
//! lines, Douglas–Peucker for simplification, and ring clean-up after rounding to the grid.

/// A rectangle in tile units: `min` and `max` corners.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Lower x and y.
    pub min: [f64; 2],
    /// Upper x and y.
    pub max: [f64; 2],
}

impl Rect {
    /// Whether every point lies inside or on the rectangle.
    pub fn contains_all(&self, pts: &[[f64; 2]]) -> bool {
        pts.iter().all(|p| {
            (self.min[0]..=self.max[0]).contains(&p[0])
                && (self.min[1]..=self.max[1]).contains(&p[1])
        })
    }

    /// Whether the bounding box of `pts` touches this rectangle.
    pub fn touches(&self, pts: &[[f64; 2]]) -> bool {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in pts {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        lo[0] <= self.max[0] && hi[0] >= self.min[0] && lo[1] <= self.max[1] && hi[1] >= self.min[1]
    }
}

/// Clips a polygon (rings without repeated closing vertex, exterior first) to `r`, returning
/// the polygons left inside, each as rings in the same form.
///
/// A boolean intersection rather than Sutherland–Hodgman, so that a concave polygon cut into
/// several pieces gives separate polygons, not one ring joined by zero-width bridges along
/// the tile edge, and a hole covering the whole tile leaves nothing.
///
/// # Examples
/// ```
/// use renewal_map::tiles::clip::{Rect, clip_polygon};
/// let r = Rect { min: [0.0, 0.0], max: [10.0, 10.0] };
/// // A "U" whose two arms cross the bottom edge: two pieces.
/// let u = vec![vec![[1.0, 20.0], [1.0, 5.0], [9.0, 5.0], [9.0, 20.0], [7.0, 20.0], [7.0, 7.0], [3.0, 7.0], [3.0, 20.0]]];
/// assert_eq!(clip_polygon(&u, r).len(), 1);
/// let n = vec![vec![[1.0, -20.0], [1.0, 5.0], [9.0, 5.0], [9.0, -20.0], [7.0, -20.0], [7.0, 3.0], [3.0, 3.0], [3.0, -20.0]]];
/// assert_eq!(clip_polygon(&n, r).len(), 1);
/// let arms = vec![vec![[1.0, 20.0], [1.0, 15.0], [9.0, 15.0], [9.0, -5.0], [7.0, -5.0], [7.0, 13.0], [3.0, 13.0], [3.0, -5.0], [1.0, -5.0]]];
/// assert_eq!(clip_polygon(&arms, r).len(), 2);
/// ```
pub fn clip_polygon(rings: &[Vec<[f64; 2]>], r: Rect) -> Vec<Vec<Vec<[f64; 2]>>> {
    // Sutherland–Hodgman first: linear, and exact whenever the exterior meets the edge in at
    // most one run and no hole meets it. Otherwise its (small) output goes through the boolean
    // intersection, which removes the zero-width bridges along the edge.
    let mut clipped = rings
        .iter()
        .map(|ring| clip_ring(ring, r))
        .filter(|c| c.len() >= 3);
    let Some(exterior) = clipped.next() else {
        return Vec::new();
    };
    if rings.first().is_some_and(|e| clip_ring(e, r).len() < 3) {
        return Vec::new();
    }
    let holes: Vec<Vec<[f64; 2]>> = clipped.collect();
    if boundary_runs(&exterior, r) <= 1 && holes.iter().all(|h| boundary_runs(h, r) == 0) {
        return vec![std::iter::once(exterior).chain(holes).collect()];
    }
    intersect(&exterior, &holes, r)
}

/// How many separate runs of consecutive edges of `ring` lie on the rectangle's edges.
fn boundary_runs(ring: &[[f64; 2]], r: Rect) -> usize {
    let on_edge = |a: [f64; 2], b: [f64; 2]| {
        (0..2).any(|k| {
            (a[k] == r.min[k] && b[k] == r.min[k]) || (a[k] == r.max[k] && b[k] == r.max[k])
        })
    };
    let n = ring.len();
    let edge = |i: usize| on_edge(ring[i % n], ring[(i + 1) % n]);
    let runs = (0..n).filter(|&i| edge(i) && !edge(i + n - 1)).count();
    if runs == 0 && n > 0 && edge(0) {
        1
    } else {
        runs
    }
}

/// The boolean intersection of a polygon (rings without closing vertex) with `r`.
fn intersect(exterior: &[[f64; 2]], holes: &[Vec<[f64; 2]>], r: Rect) -> Vec<Vec<Vec<[f64; 2]>>> {
    use geo::{BooleanOps, Coord, LineString, Polygon};
    let ring = |pts: &[[f64; 2]]| {
        LineString::from(
            pts.iter()
                .map(|p| Coord { x: p[0], y: p[1] })
                .collect::<Vec<_>>(),
        )
    };
    let poly = Polygon::new(ring(exterior), holes.iter().map(|h| ring(h)).collect());
    let rect = geo::Rect::new(
        Coord {
            x: r.min[0],
            y: r.min[1],
        },
        Coord {
            x: r.max[0],
            y: r.max[1],
        },
    )
    .to_polygon();
    let open = |l: &LineString<f64>| {
        let mut pts: Vec<[f64; 2]> = l.coords().map(|c| [c.x, c.y]).collect();
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        pts
    };
    poly.intersection(&rect)
        .into_iter()
        .map(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(open)
                .collect()
        })
        .collect()
}

/// Clips a closed ring (no repeated closing vertex) to `r` by Sutherland–Hodgman. The result
/// may be empty; a concave ring cut in several pieces stays one ring joined along the edge, so
/// tiles use [`clip_polygon`].
///
/// # Examples
/// ```
/// use renewal_map::tiles::clip::{Rect, clip_ring};
/// let r = Rect { min: [0.0, 0.0], max: [10.0, 10.0] };
/// let out = clip_ring(&[[-5.0, -5.0], [5.0, -5.0], [5.0, 5.0], [-5.0, 5.0]], r);
/// assert_eq!(out.len(), 4);
/// assert!(out.iter().all(|p| (0.0..=5.0).contains(&p[0]) && (0.0..=5.0).contains(&p[1])));
/// ```
pub fn clip_ring(ring: &[[f64; 2]], r: Rect) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = ring.to_vec();
    // Each edge of the rectangle: axis, bound, and whether "inside" is >= bound.
    for (axis, bound, keep_ge) in [
        (0, r.min[0], true),
        (0, r.max[0], false),
        (1, r.min[1], true),
        (1, r.max[1], false),
    ] {
        if out.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| {
            if keep_ge {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let input = std::mem::take(&mut out);
        let mut prev = input[input.len() - 1];
        for &cur in &input {
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cut(prev, cur, axis, bound)),
                (false, true) => {
                    out.push(cut(prev, cur, axis, bound));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
    }
    out
}

/// The point where segment `a`–`b` crosses the line `p[axis] == bound`.
fn cut(a: [f64; 2], b: [f64; 2], axis: usize, bound: f64) -> [f64; 2] {
    let t = (bound - a[axis]) / (b[axis] - a[axis]);
    let mut p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    p[axis] = bound;
    p
}

/// Clips a polyline to `r`, returning the pieces inside (each with at least two points).
///
/// # Examples
/// ```
/// use renewal_map::tiles::clip::{Rect, clip_line};
/// let r = Rect { min: [0.0, 0.0], max: [10.0, 10.0] };
/// let parts = clip_line(&[[-5.0, 5.0], [5.0, 5.0], [5.0, 20.0], [8.0, 20.0], [8.0, 5.0]], r);
/// assert_eq!(parts, vec![vec![[0.0, 5.0], [5.0, 5.0], [5.0, 10.0]], vec![[8.0, 10.0], [8.0, 5.0]]]);
/// ```
pub fn clip_line(line: &[[f64; 2]], r: Rect) -> Vec<Vec<[f64; 2]>> {
    let mut parts: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut current: Vec<[f64; 2]> = Vec::new();
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], r) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() >= 2 {
                        parts.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(a);
                }
                current.push(b);
                if b != w[1] {
                    parts.push(std::mem::take(&mut current));
                }
            }
            None => {
                if current.len() >= 2 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        parts.push(current);
    }
    parts.retain(|p| p.len() >= 2);
    parts
}

/// Liang–Barsky: the part of segment `a`–`b` inside `r`, if any.
fn clip_segment(a: [f64; 2], b: [f64; 2], r: Rect) -> Option<([f64; 2], [f64; 2])> {
    let d = [b[0] - a[0], b[1] - a[1]];
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for k in 0..2 {
        for (p, q) in [(-d[k], a[k] - r.min[k]), (d[k], r.max[k] - a[k])] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            [a[0] + d[0] * t, a[1] + d[1] * t]
        }
    };
    Some((at(t0), at(t1)))
}

/// Douglas–Peucker simplification of an open polyline with tolerance `eps` (tile units).
/// Keeps the end points; `eps <= 0` returns the input unchanged.
pub fn simplify_line(pts: &[[f64; 2]], eps: f64) -> Vec<[f64; 2]> {
    if eps <= 0.0 || pts.len() < 3 {
        return pts.to_vec();
    }
    let mut keep = vec![false; pts.len()];
    keep[0] = true;
    keep[pts.len() - 1] = true;
    let mut stack = vec![(0, pts.len() - 1)];
    while let Some((i, j)) = stack.pop() {
        let (mut best, mut best_d) = (0, -1.0);
        for k in i + 1..j {
            let d = seg_distance(pts[k], pts[i], pts[j]);
            if d > best_d {
                best_d = d;
                best = k;
            }
        }
        if best_d > eps {
            keep[best] = true;
            stack.push((i, best));
            stack.push((best, j));
        }
    }
    pts.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}

/// Douglas–Peucker for a closed ring (no repeated closing vertex): split at the vertex
/// farthest from the first, simplify both halves.
pub fn simplify_ring(ring: &[[f64; 2]], eps: f64) -> Vec<[f64; 2]> {
    if eps <= 0.0 || ring.len() < 4 {
        return ring.to_vec();
    }
    let far = (1..ring.len())
        .max_by(|&a, &b| dist2(ring[0], ring[a]).total_cmp(&dist2(ring[0], ring[b])))
        .unwrap_or(0);
    let mut first: Vec<[f64; 2]> = ring[..=far].to_vec();
    let mut second: Vec<[f64; 2]> = ring[far..].to_vec();
    second.push(ring[0]);
    first = simplify_line(&first, eps);
    second = simplify_line(&second, eps);
    first.pop();
    second.pop();
    first.extend(second);
    first
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Distance from `p` to segment `a`–`b`.
fn seg_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
    };
    dist2(p, [a[0] + d[0] * t, a[1] + d[1] * t]).sqrt()
}

/// Rounds a ring to the integer grid and removes what rounding leaves degenerate: repeated
/// vertices, spikes that fold back on themselves, and collinear vertices. Returns `None` when
/// fewer than three vertices or no area remain.
pub fn snap_ring(ring: &[[f64; 2]]) -> Option<Vec<[i32; 2]>> {
    let mut pts: Vec<[i32; 2]> = Vec::with_capacity(ring.len());
    for p in ring {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if pts.last() != Some(&q) {
            pts.push(q);
        }
    }
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    // Drop vertices collinear with their neighbours (this also removes zero-width spikes).
    let mut changed = true;
    while changed && pts.len() >= 3 {
        changed = false;
        let mut i = 0;
        while i < pts.len() && pts.len() >= 3 {
            let n = pts.len();
            let (a, b, c) = (pts[(i + n - 1) % n], pts[i], pts[(i + 1) % n]);
            if cross(a, b, c) == 0 {
                pts.remove(i);
                changed = true;
            } else {
                i += 1;
            }
        }
    }
    (pts.len() >= 3 && ring_area2(&pts) != 0).then_some(pts)
}

fn cross(a: [i32; 2], b: [i32; 2], c: [i32; 2]) -> i64 {
    let (ax, ay) = (i64::from(b[0] - a[0]), i64::from(b[1] - a[1]));
    let (bx, by) = (i64::from(c[0] - b[0]), i64::from(c[1] - b[1]));
    ax * by - ay * bx
}

/// Twice the signed area of a ring by the surveyor's formula, in tile units (y down):
/// positive for rings that run clockwise on screen, which MVT 2.1 requires of exterior rings.
///
/// # Examples
/// ```
/// use renewal_map::tiles::clip::ring_area2;
/// // x right, y down: right, down, left is clockwise on screen.
/// assert_eq!(ring_area2(&[[0, 0], [10, 0], [10, 10], [0, 10]]), 200);
/// ```
pub fn ring_area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

/// Snaps a polyline to the integer grid, dropping repeated vertices; `None` if it collapses.
pub fn snap_line(line: &[[f64; 2]]) -> Option<Vec<[i32; 2]>> {
    let mut pts: Vec<[i32; 2]> = Vec::with_capacity(line.len());
    for p in line {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if pts.last() != Some(&q) {
            pts.push(q);
        }
    }
    (pts.len() >= 2).then_some(pts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rect = Rect {
        min: [0.0, 0.0],
        max: [100.0, 100.0],
    };

    #[test]
    fn ring_outside_is_empty_and_inside_unchanged() {
        assert!(clip_ring(&[[200.0, 200.0], [300.0, 200.0], [300.0, 300.0]], R).is_empty());
        let inside = [[10.0, 10.0], [20.0, 10.0], [20.0, 20.0]];
        assert_eq!(clip_ring(&inside, R), inside.to_vec());
    }

    #[test]
    fn ring_covering_tile_becomes_tile() {
        let big = [
            [-50.0, -50.0],
            [150.0, -50.0],
            [150.0, 150.0],
            [-50.0, 150.0],
        ];
        let out = snap_ring(&clip_ring(&big, R)).unwrap();
        assert_eq!(ring_area2(&out).abs(), 2 * 100 * 100);
        assert_eq!(out.len(), 4);
    }

    fn valid(pieces: &[Vec<Vec<[f64; 2]>>]) -> bool {
        use geo::{Coord, LineString, Polygon, Validation};
        let ring = |pts: &Vec<[f64; 2]>| {
            LineString::from(
                pts.iter()
                    .map(|p| Coord { x: p[0], y: p[1] })
                    .collect::<Vec<_>>(),
            )
        };
        pieces
            .iter()
            .all(|p| Polygon::new(ring(&p[0]), p[1..].iter().map(ring).collect()).is_valid())
    }

    #[test]
    fn polygon_clipping_holes_and_bridges() {
        let big = vec![
            [-50.0, -50.0],
            [150.0, -50.0],
            [150.0, 150.0],
            [-50.0, 150.0],
        ];
        // A hole inside the tile stays a hole.
        let inner_hole = vec![
            big.clone(),
            vec![[40.0, 40.0], [40.0, 60.0], [60.0, 60.0], [60.0, 40.0]],
        ];
        let out = clip_polygon(&inner_hole, R);
        assert_eq!((out.len(), out[0].len()), (1, 2));
        // A hole covering the whole tile leaves nothing.
        let all_hole = vec![
            big.clone(),
            vec![
                [-10.0, -10.0],
                [-10.0, 110.0],
                [110.0, 110.0],
                [110.0, -10.0],
            ],
        ];
        assert!(clip_polygon(&all_hole, R).is_empty());
        // A hole crossing the tile edge becomes a notch of the exterior: one valid polygon.
        let edge_hole = vec![
            big,
            vec![[-10.0, 40.0], [-10.0, 60.0], [30.0, 60.0], [30.0, 40.0]],
        ];
        let out = clip_polygon(&edge_hole, R);
        assert!(
            out.len() == 1 && out[0].len() == 1 && valid(&out),
            "{out:?}"
        );
        // A comb whose teeth cross the edge: one piece per tooth, no bridges.
        let comb = vec![vec![
            [10.0, 150.0],
            [10.0, 50.0],
            [20.0, 50.0],
            [20.0, 120.0],
            [40.0, 120.0],
            [40.0, 50.0],
            [50.0, 50.0],
            [50.0, 150.0],
        ]];
        let top = Rect {
            min: [0.0, 0.0],
            max: [100.0, 100.0],
        };
        let out = clip_polygon(&comb, top);
        assert!(out.len() == 2 && valid(&out), "{out:?}");
    }

    #[test]
    fn line_on_edge_and_crossing() {
        assert_eq!(
            clip_line(&[[0.0, -10.0], [0.0, 110.0]], R),
            vec![vec![[0.0, 0.0], [0.0, 100.0]]]
        );
        assert!(clip_line(&[[-10.0, -10.0], [-5.0, 110.0]], R).is_empty());
        assert_eq!(clip_line(&[[50.0, 50.0]], R), Vec::<Vec<[f64; 2]>>::new());
    }

    #[test]
    fn snapping_removes_slivers_and_spikes() {
        assert_eq!(snap_ring(&[[0.1, 0.1], [0.2, 0.2], [0.3, 0.1]]), None);
        let spike = [
            [0.0, 0.0],
            [10.0, 0.0],
            [10.0, 10.0],
            [10.0, 20.0],
            [10.0, 10.0],
            [0.0, 10.0],
        ];
        let out = snap_ring(&spike).unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(ring_area2(&out), 200);
    }

    #[test]
    fn simplify_keeps_shape_within_tolerance() {
        let line: Vec<[f64; 2]> = (0..=100)
            .map(|i| [i as f64, if i % 2 == 0 { 0.0 } else { 0.4 }])
            .collect();
        assert_eq!(simplify_line(&line, 1.0), vec![[0.0, 0.0], [100.0, 0.0]]);
        assert_eq!(simplify_line(&line, 0.0).len(), 101);
        let square = [
            [0.0, 0.0],
            [50.0, 0.2],
            [100.0, 0.0],
            [100.0, 100.0],
            [0.0, 100.0],
        ];
        assert_eq!(simplify_ring(&square, 1.0).len(), 4);
    }
}
