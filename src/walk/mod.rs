//! The pedestrian network: the data set's streets, split at every crossing, plus access links
//! from the compounds and pocket parks, as a `petgraph` graph with edge lengths in metres.
//!
//! Built from a snapshot's base streets and sites ([`WalkNetwork::build`]) and searched with
//! Dijkstra ([`search`]). It depends on `snapshot`, `index`, `mercator` and `model`, and knows
//! nothing of HTTP, GeoJSON or the access figures built on top of it (see `access`).
//!
//! # How sites join the network
//! Each compound and each park joins at *gates*: points on its outer boundary linked by a
//! straight path to the nearest point of a street ([`build`] says how they are chosen). A
//! walk to a park ends at one of its gates (the park's edge); a walk from a compound starts
//! at its interior point (the one the straight-line method uses) and leaves by a gate, so a
//! walking distance is never shorter than the straight-line one. Compounds and parks are
//! never walked *through*: their gates join the street network, not each other.

mod build;
pub(crate) mod geom;
pub mod search;

use std::sync::Arc;

use petgraph::graph::{NodeIndex, UnGraph};

use crate::index::SpatialIndex;
use crate::model::Site;
use crate::snapshot::{Fixed, Snapshot};

pub use build::{GATE_SEARCH_M, MAX_GATES, MIN_GATE_SPACING_M};

/// Walking speed in metres per minute used for `walk_min` (3.6 km/h). GB 50180-2018
/// (城市居住区规划设计标准) sizes the 5-minute life circle at 300 m, i.e. 60 m a minute;
/// the same speed turns the 500 m radius into about 8 minutes.
pub const WALK_M_PER_MIN: f64 = 60.0;

/// Minutes to walk `m` metres at [`WALK_M_PER_MIN`], rounded to a tenth.
///
/// # Examples
/// ```
/// use renewal_map::walk::walk_minutes;
/// assert_eq!(walk_minutes(300.0), 5.0);
/// assert_eq!(walk_minutes(500.0), 8.3);
/// ```
pub fn walk_minutes(m: f64) -> f64 {
    (m / WALK_M_PER_MIN * 10.0).round() / 10.0
}

/// The graph type: node weight is the node's position (WGS84 longitude, latitude), edge
/// weight the geodesic length of the piece in metres.
pub type WalkGraph = UnGraph<[f64; 2], f64, u32>;

/// Where a compound or park joins the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// The graph node of the gate: the boundary point, or the street point itself when the
    /// boundary touches the street.
    pub node: NodeIndex<u32>,
    /// Metres from the site's origin to the gate: the compound's interior point for a
    /// compound; 0 for a park (distances to a park end at its edge).
    pub offset_m: f64,
}

/// A compound or park with its gates.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// The site's position in the snapshot.
    pub site_pos: usize,
    /// The origin of walks from it: the interior point (compounds) or the label point (parks),
    /// WGS84.
    pub origin: [f64; 2],
    /// Its gates, nearest to the network first; empty when the data has no streets.
    pub gates: Vec<Gate>,
}

/// One street piece of the graph (between two nodes), for snapping a point to the network.
#[derive(Debug, Clone, Copy)]
pub struct StreetPiece {
    /// End nodes.
    pub ends: [NodeIndex<u32>; 2],
}

/// Counts describing a built network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NetworkSummary {
    /// Graph nodes (street vertices, crossings, gates and street points of gates).
    pub nodes: usize,
    /// Graph edges (street pieces and gate links).
    pub edges: usize,
    /// Street crossings that split a street (including T-junctions on a street's middle).
    pub crossings: usize,
    /// Gates of compounds and parks.
    pub gates: usize,
    /// Connected parts of the graph (1 when every street meets every other).
    pub components: usize,
}

/// The pedestrian network of one version of the data's geometry.
#[derive(Debug)]
pub struct WalkNetwork {
    /// Streets and access links.
    pub graph: WalkGraph,
    /// Compounds in site order, with their gates.
    pub compounds: Vec<Attachment>,
    /// Pocket parks in site order, with their gates.
    pub parks: Vec<Attachment>,
    /// Street pieces, by position in `street_index`.
    pub pieces: Vec<StreetPiece>,
    /// R-tree over the street pieces' bounds.
    pub street_index: SpatialIndex,
    /// For each node, the parks (positions in `parks`) that have a gate there.
    pub node_parks: Vec<Vec<u32>>,
    /// For each node, the compounds (positions in `compounds`) with a gate there, and the
    /// gate's offset.
    pub node_compounds: Vec<Vec<(u32, f64)>>,
    /// Counts for reports.
    pub summary: NetworkSummary,
    /// The sites the network was built from (to tell whether a later snapshot moved any).
    built_from: Arc<Vec<Arc<Site>>>,
    /// The fixed part it was built from (streets).
    fixed: Arc<Fixed>,
}

impl WalkNetwork {
    /// Builds the network of `snap`'s streets, compounds and parks.
    pub fn build(snap: &Snapshot) -> WalkNetwork {
        build::build(snap)
    }

    /// Whether the network still describes `snap`: same streets, and every compound and park
    /// in the same place (status and other attributes may differ).
    pub fn fits(&self, snap: &Snapshot) -> bool {
        let streets_same = Arc::ptr_eq(&self.fixed, &snap.fixed)
            || streets_of(&self.fixed).eq(streets_of(&snap.fixed));
        streets_same
            && self.built_from.len() == snap.sites.len()
            && self
                .built_from
                .iter()
                .zip(snap.sites.iter())
                .all(|(old, new)| {
                    Arc::ptr_eq(old, new)
                        || (old.kind == new.kind
                            && (!build::joins_network(old) || old.geometry == new.geometry))
                })
    }

    /// The position in `parks` of the park at site position `pos`.
    pub fn park_index(&self, pos: usize) -> Option<usize> {
        self.parks.binary_search_by_key(&pos, |a| a.site_pos).ok()
    }

    /// Position (longitude, latitude) of a node.
    pub fn at(&self, n: NodeIndex<u32>) -> [f64; 2] {
        self.graph[n]
    }
}

fn streets_of(fixed: &Fixed) -> impl Iterator<Item = &geo::Geometry<f64>> {
    fixed
        .base
        .iter()
        .filter(|b| b.kind == crate::model::BaseKind::Street)
        .map(|b| &b.geometry)
}
