//! Building the network: streets noded at every crossing, then gates and access links.
//!
//! # Noding
//! Every street segment is tested against the segments whose bounds touch it (R-tree); a
//! crossing, a street ending on another's middle (T-junction) and the ends of a collinear
//! overlap split both segments there. Vertices with the same coordinates are one node, and
//! crossings within 1 cm of a segment end join that end.
//!
//! # Gates
//! The outer boundary of each compound and park is sampled every 10 m (at most 64 points a
//! ring). Each sample is matched to the nearest street point within [`GATE_SEARCH_M`] of the
//! site's bounds. The boundary is cut into four quarters as seen from the site's interior
//! point (east, north, west, south); each quarter proposes its sample with the shortest link
//! to a street. Proposals are taken shortest link first, at most [`MAX_GATES`], skipping one
//! whose street point is within [`MIN_GATE_SPACING_M`] of a gate already taken. So a small
//! park on one street has one gate, a large compound between four streets has four. A site
//! with no street within that reach gets one gate: the street point nearest its interior point.

use std::collections::HashMap;
use std::sync::Arc;

use geo::line_intersection::{LineIntersection, line_intersection};
use geo::{BoundingRect, Coord, Distance, Geodesic, Geometry, InteriorPoint, Line, Point};
use petgraph::graph::NodeIndex;
use petgraph::unionfind::UnionFind;

use super::geom::{Frame, merc_box, merc_rect, nearest_on_segment, nearest_segment};
use super::{Attachment, Gate, NetworkSummary, StreetPiece, WalkGraph, WalkNetwork};
use crate::index::SpatialIndex;
use crate::model::{BaseKind, RenewalKind, Site};
use crate::snapshot::Snapshot;

/// How far (metres) beyond a site's bounds its gates look for streets.
pub const GATE_SEARCH_M: f64 = 250.0;
/// Most gates a compound or park gets (one per quarter of its boundary).
pub const MAX_GATES: usize = 4;
/// Least distance (metres) between the street points of two gates of one site.
pub const MIN_GATE_SPACING_M: f64 = 30.0;
/// Spacing of boundary samples, metres.
const SAMPLE_STEP_M: f64 = 10.0;
/// Most boundary samples per ring.
const MAX_SAMPLES: f64 = 64.0;
/// A boundary this close to a street (metres) has its gate on the street itself.
const TOUCH_M: f64 = 0.5;
/// A crossing this close to a segment end (metres) is that end.
const END_TOLERANCE_M: f64 = 0.01;

/// Whether a site joins the network (compounds and pocket parks).
pub(super) fn joins_network(s: &Site) -> bool {
    matches!(s.kind, RenewalKind::Compound | RenewalKind::PocketPark)
}

/// One street segment being noded: ends, end nodes and split points `(t, node)`.
struct Seg {
    a: [f64; 2],
    b: [f64; 2],
    ends: [usize; 2],
    len_m: f64,
    splits: Vec<(f64, usize)>,
}

impl Seg {
    /// The position of `p` (on the segment) as a fraction of its length.
    fn param(&self, p: [f64; 2]) -> f64 {
        let (dx, dy) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let t = if dx.abs() >= dy.abs() {
            (p[0] - self.a[0]) / dx
        } else {
            (p[1] - self.a[1]) / dy
        };
        t.clamp(0.0, 1.0)
    }

    /// The end node at `t`, when `t` is within [`END_TOLERANCE_M`] of an end.
    fn end_at(&self, t: f64) -> Option<usize> {
        if t * self.len_m <= END_TOLERANCE_M {
            Some(self.ends[0])
        } else if (1.0 - t) * self.len_m <= END_TOLERANCE_M {
            Some(self.ends[1])
        } else {
            None
        }
    }
}

/// Nodes by provisional id while noding.
#[derive(Default)]
struct Nodes {
    at: Vec<[f64; 2]>,
    by_coord: HashMap<(u64, u64), usize>,
    merges: Vec<(usize, usize)>,
}

impl Nodes {
    fn vertex(&mut self, c: [f64; 2]) -> usize {
        let key = (c[0].to_bits(), c[1].to_bits());
        if let Some(&n) = self.by_coord.get(&key) {
            return n;
        }
        let n = self.fresh(c);
        self.by_coord.insert(key, n);
        n
    }

    fn fresh(&mut self, c: [f64; 2]) -> usize {
        self.at.push(c);
        self.at.len() - 1
    }
}

fn geodesic_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    Geodesic.distance(Point::new(a[0], a[1]), Point::new(b[0], b[1]))
}

/// A gate being built: provisional gate node, and the site's origin offset.
struct PendingGate {
    node: usize,
    offset_m: f64,
}

pub(super) fn build(snap: &Snapshot) -> WalkNetwork {
    let mut nodes = Nodes::default();
    let mut segs: Vec<Seg> = Vec::new();
    for (_, street) in snap.base_of(BaseKind::Street) {
        let lines: Vec<&geo::LineString<f64>> = match &street.geometry {
            Geometry::LineString(l) => vec![l],
            Geometry::MultiLineString(m) => m.0.iter().collect(),
            _ => Vec::new(),
        };
        for line in lines {
            for w in line.0.windows(2) {
                let (a, b) = ([w[0].x, w[0].y], [w[1].x, w[1].y]);
                if a == b {
                    continue;
                }
                let ends = [nodes.vertex(a), nodes.vertex(b)];
                segs.push(Seg {
                    a,
                    b,
                    ends,
                    len_m: geodesic_m(a, b),
                    splits: Vec::new(),
                });
            }
        }
    }
    let seg_index = SpatialIndex::build(
        segs.iter()
            .enumerate()
            .map(|(i, s)| (i, merc_rect(s.a, s.b))),
    );
    let crossings = node_crossings(&mut segs, &seg_index, &mut nodes);

    // Gates of compounds and parks, splitting the segments at their street points.
    let mut links: Vec<(usize, usize)> = Vec::new();
    let mut pending: Vec<(usize, [f64; 2], Vec<PendingGate>)> = Vec::new();
    for (pos, site) in snap.sites.iter().enumerate() {
        if !joins_network(site) {
            continue;
        }
        let origin = site
            .geometry
            .interior_point()
            .map_or([f64::NAN, f64::NAN], |p| [p.x(), p.y()]);
        let mut gates = Vec::new();
        if origin[0].is_finite() {
            for choice in choose_gates(&segs, &seg_index, &site.geometry, origin) {
                let seg = &segs[choice.seg];
                let street = match seg.end_at(choice.t) {
                    Some(end) => end,
                    None => {
                        let n = nodes.fresh(super::geom::lerp(seg.a, seg.b, choice.t));
                        segs[choice.seg].splits.push((choice.t, n));
                        n
                    }
                };
                let street_at = nodes.at[street];
                let node = if geodesic_m(choice.boundary, street_at) < TOUCH_M {
                    street
                } else {
                    let g = nodes.fresh(choice.boundary);
                    links.push((g, street));
                    g
                };
                let offset_m = if site.kind == RenewalKind::Compound {
                    geodesic_m(origin, nodes.at[node])
                } else {
                    0.0
                };
                gates.push(PendingGate { node, offset_m });
            }
        }
        pending.push((pos, origin, gates));
    }

    // Merge nodes found equal, then lay out the graph.
    let mut uf = UnionFind::<usize>::new(nodes.at.len());
    for &(x, y) in &nodes.merges {
        uf.union(x, y);
    }
    let mut compact: HashMap<usize, NodeIndex<u32>> = HashMap::new();
    let mut graph = WalkGraph::with_capacity(nodes.at.len(), nodes.at.len() + links.len());
    let mut node_of = |n: usize, graph: &mut WalkGraph| -> NodeIndex<u32> {
        let rep = uf.find(n);
        *compact
            .entry(rep)
            .or_insert_with(|| graph.add_node(nodes.at[rep]))
    };
    let mut pieces = Vec::new();
    let mut piece_bounds = Vec::new();
    for seg in &mut segs {
        seg.splits.sort_by(|x, y| x.0.total_cmp(&y.0));
        let chain: Vec<usize> = std::iter::once(seg.ends[0])
            .chain(seg.splits.iter().map(|s| s.1))
            .chain(std::iter::once(seg.ends[1]))
            .collect();
        let mut prev = node_of(chain[0], &mut graph);
        for &n in &chain[1..] {
            let next = node_of(n, &mut graph);
            if next != prev {
                let (a, b) = (graph[prev], graph[next]);
                graph.add_edge(prev, next, geodesic_m(a, b));
                piece_bounds.push((pieces.len(), merc_rect(a, b)));
                pieces.push(StreetPiece { ends: [prev, next] });
                prev = next;
            }
        }
    }
    for &(g, street) in &links {
        let (g, street) = (node_of(g, &mut graph), node_of(street, &mut graph));
        if g != street {
            let w = geodesic_m(graph[g], graph[street]);
            graph.add_edge(g, street, w);
        }
    }
    let mut compounds = Vec::new();
    let mut parks = Vec::new();
    let mut gate_count = 0;
    for (pos, origin, gates) in pending {
        let mut joined: Vec<Gate> = Vec::new();
        for g in gates {
            let node = node_of(g.node, &mut graph);
            match joined.iter_mut().find(|j| j.node == node) {
                Some(j) => j.offset_m = j.offset_m.min(g.offset_m),
                None => joined.push(Gate {
                    node,
                    offset_m: g.offset_m,
                }),
            }
        }
        gate_count += joined.len();
        let att = Attachment {
            site_pos: pos,
            origin,
            gates: joined,
        };
        if snap.sites[pos].kind == RenewalKind::Compound {
            compounds.push(att);
        } else {
            parks.push(att);
        }
    }
    let mut node_parks = vec![Vec::new(); graph.node_count()];
    for (i, p) in parks.iter().enumerate() {
        for g in &p.gates {
            node_parks[g.node.index()].push(i as u32);
        }
    }
    let mut node_compounds = vec![Vec::new(); graph.node_count()];
    for (i, c) in compounds.iter().enumerate() {
        for g in &c.gates {
            node_compounds[g.node.index()].push((i as u32, g.offset_m));
        }
    }
    let summary = NetworkSummary {
        nodes: graph.node_count(),
        edges: graph.edge_count(),
        crossings,
        gates: gate_count,
        components: petgraph::algo::connected_components(&graph),
    };
    WalkNetwork {
        graph,
        compounds,
        parks,
        pieces,
        street_index: SpatialIndex::build(piece_bounds),
        node_parks,
        node_compounds,
        summary,
        built_from: Arc::clone(&snap.sites),
        fixed: Arc::clone(&snap.fixed),
    }
}

/// Splits segments at their crossings; returns how many crossing points split a segment.
fn node_crossings(segs: &mut [Seg], index: &SpatialIndex, nodes: &mut Nodes) -> usize {
    let mut crossings = 0;
    for i in 0..segs.len() {
        for j in index.query(merc_rect(segs[i].a, segs[i].b)) {
            if j <= i {
                continue;
            }
            let line = |s: &Seg| {
                Line::new(
                    Coord {
                        x: s.a[0],
                        y: s.a[1],
                    },
                    Coord {
                        x: s.b[0],
                        y: s.b[1],
                    },
                )
            };
            let points: Vec<[f64; 2]> = match line_intersection(line(&segs[i]), line(&segs[j])) {
                None => continue,
                Some(LineIntersection::SinglePoint { intersection, .. }) => {
                    vec![[intersection.x, intersection.y]]
                }
                Some(LineIntersection::Collinear { intersection }) => vec![
                    [intersection.start.x, intersection.start.y],
                    [intersection.end.x, intersection.end.y],
                ],
            };
            for p in points {
                let (ti, tj) = (segs[i].param(p), segs[j].param(p));
                let (ei, ej) = (segs[i].end_at(ti), segs[j].end_at(tj));
                let node = match (ei, ej) {
                    (Some(x), Some(y)) => {
                        if x != y {
                            nodes.merges.push((x, y));
                        }
                        continue;
                    }
                    (Some(x), None) | (None, Some(x)) => x,
                    (None, None) => nodes.fresh(p),
                };
                crossings += 1;
                if ei.is_none() {
                    segs[i].splits.push((ti, node));
                }
                if ej.is_none() {
                    segs[j].splits.push((tj, node));
                }
            }
        }
    }
    crossings
}

/// A chosen gate: boundary point, the segment and position of its street point, link length.
struct GateChoice {
    boundary: [f64; 2],
    seg: usize,
    t: f64,
    link_m: f64,
}

/// The gates of one site (see the module docs for the rule).
fn choose_gates(
    segs: &[Seg],
    index: &SpatialIndex,
    geometry: &Geometry<f64>,
    origin: [f64; 2],
) -> Vec<GateChoice> {
    let frame = Frame::at(origin);
    let rings: Vec<&geo::LineString<f64>> = match geometry {
        Geometry::Polygon(p) => vec![p.exterior()],
        Geometry::MultiPolygon(m) => m.0.iter().map(|p| p.exterior()).collect(),
        _ => Vec::new(),
    };
    let candidates: Vec<usize> = geometry
        .bounding_rect()
        .map(|r| {
            index.query(merc_box(
                [r.min().x, r.min().y, r.max().x, r.max().y],
                GATE_SEARCH_M,
            ))
        })
        .unwrap_or_default();
    if candidates.is_empty() || rings.is_empty() {
        return nearest_segment(index, origin, |i| (segs[i].a, segs[i].b))
            .map(|(seg, t, link_m)| GateChoice {
                boundary: origin,
                seg,
                t,
                link_m,
            })
            .into_iter()
            .collect();
    }
    let local: Vec<([f64; 2], [f64; 2])> = candidates
        .iter()
        .map(|&i| (frame.local(segs[i].a), frame.local(segs[i].b)))
        .collect();
    let mut quarters: [Option<GateChoice>; 4] = [None, None, None, None];
    for ring in rings {
        let perimeter: f64 = ring
            .lines()
            .map(|l| {
                let (a, b) = (
                    frame.local([l.start.x, l.start.y]),
                    frame.local([l.end.x, l.end.y]),
                );
                (b[0] - a[0]).hypot(b[1] - a[1])
            })
            .sum();
        let step = SAMPLE_STEP_M.max(perimeter / MAX_SAMPLES);
        for l in ring.lines() {
            let (c0, c1) = ([l.start.x, l.start.y], [l.end.x, l.end.y]);
            let (a, b) = (frame.local(c0), frame.local(c1));
            let n = ((b[0] - a[0]).hypot(b[1] - a[1]) / step).ceil().max(1.0) as usize;
            for k in 0..n {
                let f = k as f64 / n as f64;
                let s = [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
                let (mut best_d, mut best) = (f64::INFINITY, (0, 0.0));
                for (ci, (pa, pb)) in local.iter().enumerate() {
                    let (d, t) = nearest_on_segment(s, *pa, *pb);
                    if d < best_d {
                        (best_d, best) = (d, (candidates[ci], t));
                    }
                }
                let angle = s[1].atan2(s[0]);
                let q = ((angle + std::f64::consts::FRAC_PI_4).rem_euclid(std::f64::consts::TAU)
                    / std::f64::consts::FRAC_PI_2) as usize
                    % 4;
                if quarters[q].as_ref().is_none_or(|g| best_d < g.link_m) {
                    quarters[q] = Some(GateChoice {
                        boundary: super::geom::lerp(c0, c1, f),
                        seg: best.0,
                        t: best.1,
                        link_m: best_d,
                    });
                }
            }
        }
    }
    let mut proposals: Vec<GateChoice> = quarters.into_iter().flatten().collect();
    proposals.sort_by(|x, y| x.link_m.total_cmp(&y.link_m));
    let mut taken: Vec<GateChoice> = Vec::new();
    for p in proposals {
        let at = |g: &GateChoice| frame.local(super::geom::lerp(segs[g.seg].a, segs[g.seg].b, g.t));
        let here = at(&p);
        if taken.len() < MAX_GATES
            && taken.iter().all(|g| {
                let o = at(g);
                (o[0] - here[0]).hypot(o[1] - here[1]) >= MIN_GATE_SPACING_M
            })
        {
            taken.push(p);
        }
    }
    taken
}
