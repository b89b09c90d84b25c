//! The spatial index: an rstar R-tree of feature envelopes in normalised Web Mercator units.
//!
//! It answers "which features may touch this rectangle" and "which features are nearest to
//! this point, in order", by position in the caller's feature list. It owns no geometry and
//! knows nothing of tiles, GeoJSON or HTTP; only this module knows rstar.

use rstar::{AABB, PointDistance, RTree, RTreeObject};

use crate::mercator::{MercPoint, MercRect};

/// One indexed envelope: the position of its feature in the caller's list.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    pos: u32,
    env: AABB<[f64; 2]>,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

impl PointDistance for Entry {
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.env.distance_2(point)
    }
}

fn entry(pos: usize, r: MercRect) -> Entry {
    Entry {
        pos: pos as u32,
        env: AABB::from_corners([r.min_x, r.min_y], [r.max_x, r.max_y]),
    }
}

/// An R-tree over feature envelopes, bulk-loaded at start and updated in place (insert,
/// remove) when a site is created, moved or retired.
#[derive(Debug, Clone)]
pub struct SpatialIndex {
    tree: RTree<Entry>,
}

impl SpatialIndex {
    /// Builds the index from `(position, bounds)` pairs.
    pub fn build(items: impl IntoIterator<Item = (usize, MercRect)>) -> SpatialIndex {
        let entries = items.into_iter().map(|(pos, r)| entry(pos, r)).collect();
        SpatialIndex {
            tree: RTree::bulk_load(entries),
        }
    }

    /// Adds the feature at `pos` with envelope `rect` (O(log n)).
    pub fn insert(&mut self, pos: usize, rect: MercRect) {
        self.tree.insert(entry(pos, rect));
    }

    /// Removes the feature at `pos` indexed with envelope `rect` (O(log n)); `false` when no
    /// such entry was indexed.
    pub fn remove(&mut self, pos: usize, rect: MercRect) -> bool {
        self.tree.remove(&entry(pos, rect)).is_some()
    }

    /// Number of indexed features.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// Positions of the features whose envelopes touch `rect`, in ascending order.
    pub fn query(&self, rect: MercRect) -> Vec<usize> {
        let aabb = AABB::from_corners([rect.min_x, rect.min_y], [rect.max_x, rect.max_y]);
        let mut found: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&aabb)
            .map(|e| e.pos as usize)
            .collect();
        found.sort_unstable();
        found
    }

    /// Features by increasing envelope distance from `p`: `(position, distance)` in normalised
    /// Mercator units, 0 when `p` is inside the envelope. A lower bound of the distance to the
    /// feature itself.
    pub fn nearest(&self, p: MercPoint) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&p)
            .map(|(e, d2)| (e.pos as usize, d2.sqrt()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: f64, y: f64, w: f64) -> MercRect {
        MercRect {
            min_x: x,
            min_y: y,
            max_x: x + w,
            max_y: y + w,
        }
    }

    #[test]
    fn empty_index_answers_nothing() {
        let idx = SpatialIndex::build([]);
        assert!(idx.is_empty());
        assert!(idx.query(rect(0.0, 0.0, 1.0)).is_empty());
        assert_eq!(idx.nearest([0.5, 0.5]).count(), 0);
    }

    #[test]
    fn query_touching_edges_and_nearest_order() {
        let idx = SpatialIndex::build([
            (0, rect(0.0, 0.0, 0.1)),
            (1, rect(0.5, 0.5, 0.1)),
            (2, rect(0.2, 0.0, 0.1)),
        ]);
        assert_eq!(idx.query(rect(0.1, 0.1, 0.05)), vec![0]);
        assert_eq!(idx.query(rect(0.0, 0.0, 1.0)), vec![0, 1, 2]);
        let order: Vec<usize> = idx.nearest([0.05, 0.05]).map(|(p, _)| p).collect();
        assert_eq!(order, vec![0, 2, 1]);
        assert_eq!(idx.nearest([0.05, 0.05]).next().map(|(_, d)| d), Some(0.0));
    }

    #[test]
    fn insert_and_remove_move_one_feature() {
        let mut idx = SpatialIndex::build([(0, rect(0.0, 0.0, 0.1)), (1, rect(0.5, 0.5, 0.1))]);
        assert!(
            !idx.remove(0, rect(0.9, 0.9, 0.1)),
            "wrong envelope removes nothing"
        );
        assert!(idx.remove(0, rect(0.0, 0.0, 0.1)));
        idx.insert(0, rect(0.8, 0.8, 0.1));
        assert!(idx.query(rect(0.0, 0.0, 0.2)).is_empty());
        assert_eq!(idx.query(rect(0.75, 0.75, 0.2)), vec![0]);
        idx.insert(2, rect(0.0, 0.0, 0.1));
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.query(rect(0.0, 0.0, 1.0)), vec![0, 1, 2]);
    }
}
