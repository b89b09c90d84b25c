//! Multipolygon assembly: way members joined end to end into closed rings, each inner ring
//! given to the smallest outer ring that holds it, RFC 7946 orientation, and a validity
//! check (geo's `Validation`). Pure; knows nothing of PBF or files.

use geo::orient::Direction;
use geo::{Area, Contains, Coord, InteriorPoint, LineString, MultiPolygon, Orient, Polygon};

/// Joins node-id sequences into closed rings by their end nodes, reversing ways where needed.
/// `None` when a ring does not close (an incomplete or broken relation).
///
/// # Examples
/// ```
/// use renewal_map::import::osm::assemble::rings;
/// // Two halves of a square, the second drawn the other way round.
/// let r = rings(vec![vec![1, 2, 3], vec![1, 4, 3]]).unwrap();
/// assert_eq!(r, vec![vec![1, 2, 3, 4, 1]]);
/// assert!(rings(vec![vec![1, 2, 3]]).is_none());
/// ```
pub fn rings(ways: Vec<Vec<i64>>) -> Option<Vec<Vec<i64>>> {
    let mut rest: Vec<Vec<i64>> = ways.into_iter().filter(|w| w.len() >= 2).collect();
    rest.reverse();
    let mut out = Vec::new();
    while let Some(mut ring) = rest.pop() {
        while ring.first() != ring.last() {
            let end = *ring.last()?;
            let pos = rest
                .iter()
                .position(|w| w.first() == Some(&end) || w.last() == Some(&end))?;
            let mut next = rest.remove(pos);
            if next.first() != Some(&end) {
                next.reverse();
            }
            ring.extend_from_slice(&next[1..]);
        }
        if ring.len() < 4 {
            return None;
        }
        out.push(ring);
    }
    Some(out)
}

/// A ring's coordinates without repeated consecutive positions.
pub fn ring_line(coords: Vec<Coord>) -> LineString {
    let mut v = coords;
    v.dedup();
    LineString::from(v)
}

/// Builds a multipolygon from outer and inner rings: each inner ring becomes a hole of the
/// smallest larger outer ring containing it; exteriors counter-clockwise, holes clockwise.
/// `None` when an inner ring has no outer ring or the result is not a valid multipolygon.
pub fn multipolygon(outers: Vec<LineString>, inners: Vec<LineString>) -> Option<MultiPolygon> {
    let mut polygons: Vec<(Polygon, f64)> = outers
        .into_iter()
        .map(|r| {
            let p = Polygon::new(r, vec![]);
            let area = p.unsigned_area();
            (p, area)
        })
        .collect();
    for inner in inners {
        let hole = Polygon::new(inner.clone(), vec![]);
        let area = hole.unsigned_area();
        let point = hole.interior_point()?;
        let owner = polygons
            .iter_mut()
            .filter(|(p, a)| *a > area && p.contains(&point))
            .min_by(|x, y| x.1.total_cmp(&y.1))?;
        owner.0.interiors_push(inner);
    }
    let mp = MultiPolygon::new(polygons.into_iter().map(|(p, _)| p).collect());
    valid_areas(mp)
}

/// Orients a multipolygon RFC 7946 style and keeps it only when it is valid and every ring
/// has at least four positions and an area.
pub fn valid_areas(mp: MultiPolygon) -> Option<MultiPolygon> {
    use geo::Validation;
    let mp = mp.orient(Direction::Default);
    let rings_ok = mp.0.iter().all(|p| {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .all(|r| r.0.len() >= 4)
            && p.unsigned_area() > 0.0
    });
    (!mp.0.is_empty() && rings_ok && mp.is_valid()).then_some(mp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, size: f64) -> LineString {
        LineString::from(vec![
            (x, y),
            (x + size, y),
            (x + size, y + size),
            (x, y + size),
            (x, y),
        ])
    }

    #[test]
    fn rings_join_three_ways_and_leave_open_ones() {
        let r = rings(vec![vec![1, 2], vec![3, 2], vec![3, 4, 1]]).unwrap();
        assert_eq!(r, vec![vec![1, 2, 3, 4, 1]]);
        assert!(rings(vec![vec![1, 2], vec![2, 3]]).is_none());
        assert!(rings(vec![vec![1, 2, 1]]).is_none(), "a two-node ring");
    }

    #[test]
    fn holes_go_to_the_outer_that_holds_them() {
        let mp = multipolygon(
            vec![square(0.0, 0.0, 10.0), square(20.0, 0.0, 10.0)],
            vec![square(22.0, 2.0, 2.0)],
        )
        .unwrap();
        assert_eq!(mp.0.len(), 2);
        assert!(mp.0[0].interiors().is_empty());
        assert_eq!(mp.0[1].interiors().len(), 1);
        assert_eq!(mp.unsigned_area(), 196.0);
    }

    #[test]
    fn an_island_inside_a_hole_keeps_the_hole_on_the_big_outer() {
        let mp = multipolygon(
            vec![square(0.0, 0.0, 10.0), square(4.0, 4.0, 2.0)],
            vec![square(2.0, 2.0, 6.0)],
        )
        .unwrap();
        assert_eq!(mp.0[0].interiors().len(), 1);
        assert!(mp.0[1].interiors().is_empty());
    }

    #[test]
    fn orphan_holes_and_crossing_rings_are_refused() {
        assert!(multipolygon(vec![square(0.0, 0.0, 1.0)], vec![square(5.0, 5.0, 1.0)]).is_none());
        let bow = LineString::from(vec![
            (0.0, 0.0),
            (1.0, 1.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (0.0, 0.0),
        ]);
        assert!(multipolygon(vec![bow], vec![]).is_none());
    }
}
