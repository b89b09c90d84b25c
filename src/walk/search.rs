//! Shortest walks over the network: nearest open park for every node (multi-source Dijkstra,
//! kept up to date incrementally when parks open or close), bounded searches from one park,
//! and searches from an arbitrary point.
//!
//! Ties between parks at the same distance go to the park listed first, so a full
//! computation and any sequence of incremental updates give the same labels.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::WalkNetwork;
use super::geom::lerp;

/// "No park" / "no predecessor".
pub const NONE: u32 = u32::MAX;

/// The nearest open park of every node: distance, which park (position in
/// [`WalkNetwork::parks`]), and the next node towards it.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// Metres to the nearest open park's gate; infinite when none is reachable.
    pub dist: Vec<f64>,
    /// That park, or [`NONE`].
    pub park: Vec<u32>,
    /// The next node on the way there, or [`NONE`] at a gate.
    pub toward: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    dist: f64,
    park: u32,
    node: u32,
    from: u32,
}

impl Eq for Entry {}

impl Ord for Entry {
    // BinaryHeap is a max-heap: the smallest (distance, park) comes out first.
    fn cmp(&self, o: &Self) -> Ordering {
        o.dist
            .total_cmp(&self.dist)
            .then_with(|| o.park.cmp(&self.park))
            .then_with(|| o.node.cmp(&self.node))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

fn better(d: f64, p: u32, than_d: f64, than_p: u32) -> bool {
    d < than_d || (d == than_d && p < than_p)
}

impl Labels {
    /// Labels with every park in `open` (by position in `net.parks`) as a source.
    pub fn compute(net: &WalkNetwork, open: &[bool]) -> Labels {
        let n = net.graph.node_count();
        let mut labels = Labels {
            dist: vec![f64::INFINITY; n],
            park: vec![NONE; n],
            toward: vec![NONE; n],
        };
        let mut heap = BinaryHeap::new();
        seed_parks(net, open, |_| true, &mut heap);
        labels.run(net, heap);
        labels
    }

    /// Updates labels computed for `before` to those for `after` (same network): clears the
    /// region of parks that closed, then searches again from its rim and from the parks that
    /// opened, touching only nodes whose answer changes.
    pub fn update(&mut self, net: &WalkNetwork, before: &[bool], after: &[bool]) {
        let closed: Vec<bool> = before.iter().zip(after).map(|(b, a)| *b && !a).collect();
        let mut heap = BinaryHeap::new();
        let mut cleared = Vec::new();
        if closed.iter().any(|c| *c) {
            for v in 0..self.dist.len() {
                let p = self.park[v];
                if p != NONE && closed[p as usize] {
                    self.dist[v] = f64::INFINITY;
                    self.park[v] = NONE;
                    self.toward[v] = NONE;
                    cleared.push(v);
                }
            }
            for &v in &cleared {
                let vi = NodeIndex::new(v);
                for e in net.graph.edges(vi) {
                    let u = e.target().index();
                    if self.park[u] != NONE {
                        heap.push(Entry {
                            dist: self.dist[u] + e.weight(),
                            park: self.park[u],
                            node: v as u32,
                            from: u as u32,
                        });
                    }
                }
                // A cleared node may be a gate of another open park.
                for &p in &net.node_parks[v] {
                    if after[p as usize] {
                        heap.push(Entry {
                            dist: 0.0,
                            park: p,
                            node: v as u32,
                            from: NONE,
                        });
                    }
                }
            }
        }
        let opened: Vec<bool> = before.iter().zip(after).map(|(b, a)| !*b && *a).collect();
        seed_parks(net, &opened, |_| true, &mut heap);
        self.run(net, heap);
    }

    fn run(&mut self, net: &WalkNetwork, mut heap: BinaryHeap<Entry>) {
        while let Some(e) = heap.pop() {
            let v = e.node as usize;
            if !better(e.dist, e.park, self.dist[v], self.park[v]) {
                continue;
            }
            self.dist[v] = e.dist;
            self.park[v] = e.park;
            self.toward[v] = e.from;
            for edge in net.graph.edges(NodeIndex::new(v)) {
                let u = edge.target().index();
                let d = e.dist + edge.weight();
                if better(d, e.park, self.dist[u], self.park[u]) {
                    heap.push(Entry {
                        dist: d,
                        park: e.park,
                        node: u as u32,
                        from: v as u32,
                    });
                }
            }
        }
    }

    /// The nearest open park of compound `c` (position in `net.compounds`): `(park, metres,
    /// gate node)`, or `None` when no open park is reachable.
    pub fn compound_nearest(&self, net: &WalkNetwork, c: usize) -> Option<(u32, f64, u32)> {
        let mut best: Option<(u32, f64, u32)> = None;
        for g in &net.compounds[c].gates {
            let v = g.node.index();
            if self.park[v] == NONE {
                continue;
            }
            let d = self.dist[v] + g.offset_m;
            if best.is_none_or(|(bp, bd, _)| better(d, self.park[v], bd, bp)) {
                best = Some((self.park[v], d, v as u32));
            }
        }
        best
    }

    /// The walk from compound `c` to its nearest open park: its interior point, the gate,
    /// then the network nodes to the park's gate (WGS84).
    pub fn route_from_compound(&self, net: &WalkNetwork, c: usize) -> Option<Vec<[f64; 2]>> {
        let (_, _, gate) = self.compound_nearest(net, c)?;
        let mut route = vec![net.compounds[c].origin];
        let mut v = gate;
        while v != NONE && route.len() <= self.dist.len() + 1 {
            route.push(net.graph[NodeIndex::new(v as usize)]);
            v = self.toward[v as usize];
        }
        route.dedup();
        Some(route)
    }
}

fn seed_parks(
    net: &WalkNetwork,
    open: &[bool],
    keep: impl Fn(u32) -> bool,
    heap: &mut BinaryHeap<Entry>,
) {
    for (p, att) in net.parks.iter().enumerate() {
        if open.get(p).copied().unwrap_or(false) && keep(p as u32) {
            for g in &att.gates {
                heap.push(Entry {
                    dist: 0.0,
                    park: p as u32,
                    node: g.node.index() as u32,
                    from: NONE,
                });
            }
        }
    }
}

/// Every node within `max_m` metres of park `p`'s gates, with its distance.
pub fn within_of_park(net: &WalkNetwork, p: usize, max_m: f64) -> HashMap<u32, f64> {
    let seeds: Vec<(u32, f64)> = net.parks[p]
        .gates
        .iter()
        .map(|g| (g.node.index() as u32, 0.0))
        .collect();
    bounded(net, &seeds, max_m, |_| false).0
}

/// Dijkstra from `seeds` (node, starting metres), settling nodes up to `max_m` or until
/// `stop(node)` says enough. Returns settled distances and the predecessor of each.
fn bounded(
    net: &WalkNetwork,
    seeds: &[(u32, f64)],
    max_m: f64,
    mut stop: impl FnMut(u32) -> bool,
) -> (HashMap<u32, f64>, HashMap<u32, u32>) {
    let mut dist: HashMap<u32, f64> = HashMap::new();
    let mut pred: HashMap<u32, u32> = HashMap::new();
    let mut heap: BinaryHeap<Entry> = seeds
        .iter()
        .map(|&(node, d)| Entry {
            dist: d,
            park: 0,
            node,
            from: NONE,
        })
        .collect();
    while let Some(e) = heap.pop() {
        if e.dist > max_m || dist.contains_key(&e.node) {
            continue;
        }
        dist.insert(e.node, e.dist);
        pred.insert(e.node, e.from);
        if stop(e.node) {
            break;
        }
        for edge in net.graph.edges(NodeIndex::new(e.node as usize)) {
            let u = edge.target().index() as u32;
            let d = e.dist + edge.weight();
            if d <= max_m && !dist.contains_key(&u) {
                heap.push(Entry {
                    dist: d,
                    park: 0,
                    node: u,
                    from: e.node,
                });
            }
        }
    }
    (dist, pred)
}

/// A walk from a point to one park.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkTo {
    /// The park (position in [`WalkNetwork::parks`]).
    pub park: usize,
    /// Metres walked: to the nearest street, along streets, to the park's gate.
    pub walk_m: f64,
    /// The route from the point to the gate (WGS84).
    pub route: Vec<[f64; 2]>,
}

/// Walks from (`lng`, `lat`) to parks, nearest first: the point joins the network at its
/// nearest street point; the search settles nodes up to `max_m` metres and stops once
/// `want` parks accepted by `wanted` are reached. Parks beyond `max_m` are not returned.
pub fn walk_from_point(
    net: &WalkNetwork,
    lng: f64,
    lat: f64,
    max_m: f64,
    want: usize,
    wanted: impl Fn(usize) -> bool,
) -> Vec<WalkTo> {
    let p = [lng, lat];
    let Some((piece, t, _)) = super::geom::nearest_segment(&net.street_index, p, |i| {
        let [a, b] = net.pieces[i].ends;
        (net.graph[a], net.graph[b])
    }) else {
        return Vec::new();
    };
    let [a, b] = net.pieces[piece].ends;
    let snap = lerp(net.graph[a], net.graph[b], t);
    let to_snap = geodesic_m(p, snap);
    let seeds = [
        (a.index() as u32, to_snap + geodesic_m(snap, net.graph[a])),
        (b.index() as u32, to_snap + geodesic_m(snap, net.graph[b])),
    ];
    let mut found: Vec<(usize, u32)> = Vec::new();
    let (dist, pred) = bounded(net, &seeds, max_m, |v| {
        for &park in &net.node_parks[v as usize] {
            let park = park as usize;
            if wanted(park) && !found.iter().any(|(q, _)| *q == park) {
                found.push((park, v));
            }
        }
        found.len() >= want
    });
    found
        .into_iter()
        .map(|(park, gate)| {
            let mut nodes = Vec::new();
            let mut v = gate;
            while v != NONE {
                nodes.push(net.graph[NodeIndex::new(v as usize)]);
                v = pred.get(&v).copied().unwrap_or(NONE);
            }
            nodes.push(snap);
            nodes.push(p);
            nodes.reverse();
            nodes.dedup();
            WalkTo {
                park,
                walk_m: dist.get(&gate).copied().unwrap_or(f64::INFINITY),
                route: nodes,
            }
        })
        .collect()
}

fn geodesic_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    use geo::{Distance, Geodesic, Point};
    Geodesic.distance(Point::new(a[0], a[1]), Point::new(b[0], b[1]))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use petgraph::algo::dijkstra;

    use super::*;
    use crate::load::load_dataset;
    use crate::snapshot::Snapshot;

    fn huanggu() -> (Snapshot, WalkNetwork) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/huanggu");
        let snap = Snapshot::build(load_dataset(&dir).expect("default data loads"));
        let net = WalkNetwork::build(&snap);
        (snap, net)
    }

    /// A small deterministic generator for test choices.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, m: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % m as u64) as usize
        }
    }

    #[test]
    fn labels_match_petgraph_dijkstra_from_random_parks() {
        let (_, net) = huanggu();
        assert!(net.summary.components >= 1 && net.summary.crossings > 0);
        let mut rng = Lcg(2026);
        for _ in 0..6 {
            let mut open = vec![false; net.parks.len()];
            for _ in 0..1 + rng.below(4) {
                open[rng.below(net.parks.len())] = true;
            }
            let labels = Labels::compute(&net, &open);
            // The reference: petgraph's own Dijkstra from every gate of every open park.
            let mut best = vec![f64::INFINITY; net.graph.node_count()];
            for (p, att) in net.parks.iter().enumerate() {
                if !open[p] {
                    continue;
                }
                for g in &att.gates {
                    for (v, d) in dijkstra(&net.graph, g.node, None, |e| *e.weight()) {
                        best[v.index()] = best[v.index()].min(d);
                    }
                }
            }
            for _ in 0..300 {
                let v = rng.below(net.graph.node_count());
                let (got, want) = (labels.dist[v], best[v]);
                assert!(
                    got == want || (got - want).abs() < 1e-6,
                    "node {v}: {got} vs {want}"
                );
                if want.is_finite() {
                    assert!(open[labels.park[v] as usize]);
                }
            }
        }
    }

    #[test]
    fn walk_from_point_matches_petgraph_on_random_pairs() {
        let (_, net) = huanggu();
        let mut rng = Lcg(14);
        for _ in 0..40 {
            // Start on a street node: the point then joins the network right there.
            let from = net.pieces[rng.below(net.pieces.len())].ends[rng.below(2)];
            let p = rng.below(net.parks.len());
            let [lng, lat] = net.graph[from];
            let got = walk_from_point(&net, lng, lat, f64::INFINITY, 1, |q| q == p);
            let reference = dijkstra(&net.graph, from, None, |e| *e.weight());
            let want = net.parks[p]
                .gates
                .iter()
                .filter_map(|g| reference.get(&g.node).copied())
                .fold(f64::INFINITY, f64::min);
            match got.first() {
                Some(w) => {
                    // Snapping onto the street at the node itself costs at most millimetres.
                    assert!((w.walk_m - want).abs() < 1e-2, "{} vs {want}", w.walk_m);
                    // The route's own length is the walk.
                    let len: f64 = w.route.windows(2).map(|s| geodesic_m(s[0], s[1])).sum();
                    assert!((len - w.walk_m).abs() < 1e-3, "{len} vs {}", w.walk_m);
                }
                None => assert!(want.is_infinite()),
            }
        }
    }

    #[test]
    fn incremental_updates_equal_a_full_computation() {
        let (_, net) = huanggu();
        let mut rng = Lcg(99);
        let mut open: Vec<bool> = (0..net.parks.len()).map(|_| rng.below(2) == 0).collect();
        let mut labels = Labels::compute(&net, &open);
        for step in 0..25 {
            let before = open.clone();
            for _ in 0..1 + rng.below(3) {
                let p = rng.below(open.len());
                open[p] = !open[p];
            }
            if step % 7 == 6 {
                open.iter_mut().for_each(|o| *o = false);
            }
            labels.update(&net, &before, &open);
            let full = Labels::compute(&net, &open);
            assert_eq!(labels.dist, full.dist, "step {step}");
            assert_eq!(labels.park, full.park, "step {step}");
            for c in 0..net.compounds.len() {
                assert_eq!(
                    labels.compound_nearest(&net, c).map(|(p, d, _)| (p, d)),
                    full.compound_nearest(&net, c).map(|(p, d, _)| (p, d))
                );
            }
        }
    }
}
