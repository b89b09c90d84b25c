//! The spatial index: an rstar R-tree of feature envelopes in normalised Web Mercator units.
//!
//! It answers "which features may touch this rectangle" and "which features are nearest to
//! this point, in order", by position in the caller's feature list. It owns no geometry and
//! knows nothing of tiles, GeoJSON or HTTP; only this module knows rstar.

use std::sync::Arc;

use rstar::{AABB, Envelope, PointDistance, RTree, RTreeObject};

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

/// Changes kept beside the shared tree before they are folded into a new tree. A write then
/// copies at most this many entries instead of the whole tree; one write in this many pays
/// for one copy of the tree (a few milliseconds at 24,000 sites).
const OVERLAY_MAX: usize = 64;

/// An R-tree over feature envelopes, bulk-loaded at start, and updated by insert and remove
/// when a site is created, moved or retired.
///
/// Snapshots share the tree (`Arc`): an update goes into a small overlay (entries added,
/// entries of the tree removed) so a new snapshot's index costs O(overlay) to make, not a copy
/// of the tree. When the overlay reaches [`OVERLAY_MAX`] entries it is folded into a copy of
/// the tree (rstar insert/remove). Queries merge the tree and the overlay.
#[derive(Debug, Clone)]
pub struct SpatialIndex {
    tree: Arc<RTree<Entry>>,
    /// Entries not in `tree`.
    added: Vec<Entry>,
    /// Entries of `tree` that are no longer indexed.
    removed: Vec<Entry>,
}

impl SpatialIndex {
    /// Builds the index from `(position, bounds)` pairs.
    pub fn build(items: impl IntoIterator<Item = (usize, MercRect)>) -> SpatialIndex {
        let entries = items.into_iter().map(|(pos, r)| entry(pos, r)).collect();
        SpatialIndex {
            tree: Arc::new(RTree::bulk_load(entries)),
            added: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// Adds the feature at `pos` with envelope `rect`.
    pub fn insert(&mut self, pos: usize, rect: MercRect) {
        let e = entry(pos, rect);
        if let Some(k) = self.removed.iter().position(|r| *r == e) {
            self.removed.swap_remove(k);
        } else {
            self.added.push(e);
        }
        self.fold_if_full();
    }

    /// Removes the feature at `pos` indexed with envelope `rect`; `false` when no such entry
    /// was indexed.
    pub fn remove(&mut self, pos: usize, rect: MercRect) -> bool {
        let e = entry(pos, rect);
        if let Some(k) = self.added.iter().position(|a| *a == e) {
            self.added.swap_remove(k);
            return true;
        }
        if self.removed.contains(&e) || !self.tree.contains(&e) {
            return false;
        }
        self.removed.push(e);
        self.fold_if_full();
        true
    }

    /// Folds the overlay into a copy of the tree once it holds [`OVERLAY_MAX`] entries.
    fn fold_if_full(&mut self) {
        if self.added.len() + self.removed.len() < OVERLAY_MAX {
            return;
        }
        let tree = Arc::make_mut(&mut self.tree);
        for e in self.removed.drain(..) {
            tree.remove(&e);
        }
        for e in self.added.drain(..) {
            tree.insert(e);
        }
    }

    /// Number of indexed features.
    pub fn len(&self) -> usize {
        self.tree.size() + self.added.len() - self.removed.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Positions of the features whose envelopes touch `rect`, in ascending order.
    pub fn query(&self, rect: MercRect) -> Vec<usize> {
        let aabb = AABB::from_corners([rect.min_x, rect.min_y], [rect.max_x, rect.max_y]);
        let mut found: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&aabb)
            .filter(|e| !self.removed.contains(e))
            .chain(self.added.iter().filter(|e| e.env.intersects(&aabb)))
            .map(|e| e.pos as usize)
            .collect();
        found.sort_unstable();
        found
    }

    /// Features by increasing envelope distance from `p`: `(position, distance)` in normalised
    /// Mercator units, 0 when `p` is inside the envelope. A lower bound of the distance to the
    /// feature itself.
    pub fn nearest(&self, p: MercPoint) -> impl Iterator<Item = (usize, f64)> + '_ {
        let mut from_tree = self
            .tree
            .nearest_neighbor_iter_with_distance_2(&p)
            .filter(|(e, _)| !self.removed.contains(e))
            .peekable();
        let mut overlay: Vec<(&Entry, f64)> = self
            .added
            .iter()
            .map(|e| (e, e.env.distance_2(&p)))
            .collect();
        overlay.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut overlay = overlay.into_iter().peekable();
        std::iter::from_fn(move || {
            let take_tree = match (from_tree.peek(), overlay.peek()) {
                (Some(t), Some(o)) => t.1 <= o.1,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return None,
            };
            let (e, d2) = if take_tree {
                from_tree.next()?
            } else {
                overlay.next()?
            };
            Some((e.pos as usize, d2.sqrt()))
        })
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

    /// A plain list of envelopes, the independent answer for the overlay's queries.
    fn brute_query(items: &[(usize, MercRect)], q: MercRect) -> Vec<usize> {
        let mut v: Vec<usize> = items
            .iter()
            .filter(|(_, r)| r.intersects(&q))
            .map(|(p, _)| *p)
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn overlay_and_folds_answer_like_a_plain_list() {
        // Moves, creates and removals well past OVERLAY_MAX, so the overlay folds several
        // times; after every step queries and nearest order match a brute-force list.
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) as f64 / 10_000.0
        };
        let mut items: Vec<(usize, MercRect)> =
            (0..200).map(|i| (i, rect(next(), next(), 0.01))).collect();
        let mut idx = SpatialIndex::build(items.iter().copied());
        let twin = idx.clone();
        for step in 0..300 {
            let k = (next() * items.len() as f64) as usize % items.len();
            match step % 3 {
                0 => {
                    let (pos, old) = items[k];
                    assert!(idx.remove(pos, old));
                    let new = rect(next(), next(), 0.02);
                    idx.insert(pos, new);
                    items[k] = (pos, new);
                }
                1 => {
                    let r = rect(next(), next(), 0.01);
                    let pos = 1_000 + step;
                    idx.insert(pos, r);
                    items.push((pos, r));
                }
                _ => {
                    let (pos, r) = items.swap_remove(k);
                    assert!(idx.remove(pos, r));
                    assert!(!idx.remove(pos, r), "removed twice");
                }
            }
            assert_eq!(idx.len(), items.len());
            let q = rect(next() * 0.8, next() * 0.8, 0.2);
            assert_eq!(idx.query(q), brute_query(&items, q), "step {step}");
            let p = [next(), next()];
            let got: Vec<f64> = idx.nearest(p).map(|(_, d)| d).collect();
            assert_eq!(got.len(), items.len());
            assert!(got.windows(2).all(|w| w[0] <= w[1]), "nearest out of order");
        }
        // The clone taken before any change still answers as the tree was built.
        assert_eq!(twin.len(), 200);
    }
}
