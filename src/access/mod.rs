//! Park access of the compounds by three methods, each named in words:
//!
//! - **straight**: geodesic distance from a compound's interior point to the edge of the
//!   nearest open pocket park (today's `/api/stats` figure);
//! - **network**: walking distance from the interior point along the street network
//!   ([`crate::walk`]) to the nearest open park's gate;
//! - **indicator**: the 城市体检 rule of 公园绿地服务半径覆盖率 (GB 55014-2021): an open park of
//!   5,000 m² or more serves 500 m, one of 2,000–5,000 m² serves 300 m, a smaller one does not
//!   count; a compound is covered when its interior point lies within a serving park's radius
//!   (straight line, as the indicator's service radius is drawn).
//!
//! An [`AccessModel`] is a function of one snapshot: the network of its geometry plus, per
//! compound and method, the nearest open park. [`cache::AccessCache`] keeps the last one and
//! derives the next snapshot's incrementally. [`rank`] ranks the parks not yet open; `summary`
//! turns a model into the report of one method. Depends on `snapshot`, `nearest`, `walk` and
//! `model`; knows nothing of HTTP.

pub mod cache;
pub mod rank;
mod summary;
mod walking;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use geo::Point;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{RenewalKind, Site, UnknownName};
use crate::nearest::{ParkScope, distance_lower_bound_m, distance_to_area_m, nearest_parks};
use crate::snapshot::Snapshot;
use crate::walk::WalkNetwork;
use crate::walk::search::Labels;

pub use summary::{AccessSummary, AreaCoverage, Coverage};
pub(crate) use summary::{households, percent};
pub use walking::{MAX_WALK_M, WalkingPark, nearest_by_walk, walking_parks};

/// Parks of at least this area (m²) serve [`INDICATOR_LARGE_RADIUS_M`] under the indicator.
pub const INDICATOR_LARGE_M2: f64 = 5_000.0;
/// Service radius (m) of the large class.
pub const INDICATOR_LARGE_RADIUS_M: f64 = 500.0;
/// Parks of at least this area (m², and under [`INDICATOR_LARGE_M2`]) serve
/// [`INDICATOR_SMALL_RADIUS_M`]; smaller parks do not count.
pub const INDICATOR_SMALL_M2: f64 = 2_000.0;
/// Service radius (m) of the small class.
pub const INDICATOR_SMALL_RADIUS_M: f64 = 300.0;

/// The indicator's service radius of a park of `area_m2`, or `None` when it is too small to
/// count.
///
/// # Examples
/// ```
/// use renewal_map::access::indicator_radius_m;
/// assert_eq!(indicator_radius_m(5_000.0), Some(500.0));
/// assert_eq!(indicator_radius_m(4_999.9), Some(300.0));
/// assert_eq!(indicator_radius_m(2_000.0), Some(300.0));
/// assert_eq!(indicator_radius_m(1_999.9), None);
/// ```
pub fn indicator_radius_m(area_m2: f64) -> Option<f64> {
    if area_m2 >= INDICATOR_LARGE_M2 {
        Some(INDICATOR_LARGE_RADIUS_M)
    } else if area_m2 >= INDICATOR_SMALL_M2 {
        Some(INDICATOR_SMALL_RADIUS_M)
    } else {
        None
    }
}

/// How access is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Straight line from the compound's interior point to the park's edge.
    Straight,
    /// Walking along the street network.
    Network,
    /// The 公园绿地服务半径覆盖率 rule by park size class.
    Indicator,
}

impl Method {
    /// Every method, in report order.
    pub const ALL: [Method; 3] = [Method::Straight, Method::Network, Method::Indicator];

    /// The machine name (`straight`, `network`, `indicator`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Straight => "straight",
            Method::Network => "network",
            Method::Indicator => "indicator",
        }
    }

    /// The method in words, as reports show it.
    pub fn describe(self) -> &'static str {
        match self {
            Method::Straight => {
                "straight line: geodesic distance from each compound's interior point to the edge of the nearest open (completed or accepted) pocket park"
            }
            Method::Network => {
                "walking network: shortest walk from each compound's interior point out of a gate, along the streets (split at every crossing), to a gate on the edge of the nearest open pocket park"
            }
            Method::Indicator => {
                "indicator rule (城市体检 公园绿地服务半径覆盖率, GB 55014-2021): an open park of 5,000 m² or more serves 500 m, 2,000–5,000 m² serves 300 m, smaller parks do not count; a compound is covered when its interior point is within a serving park's radius in a straight line"
            }
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "method",
                got: s.chars().take(40).collect(),
                expected: Method::ALL.map(|m| m.as_str()).join(", "),
            })
    }
}

/// A compound's nearest open park under one method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// The park, by position in [`WalkNetwork::parks`].
    pub park: u32,
    /// Metres, as the method measures.
    pub distance_m: f64,
}

/// Access of every compound of one snapshot by every method.
#[derive(Debug, Clone)]
pub struct AccessModel {
    /// The snapshot generation it describes.
    pub generation: u64,
    /// The sites it was computed from.
    sites: Arc<Vec<Arc<Site>>>,
    /// The pedestrian network of the snapshot's geometry.
    pub network: Arc<WalkNetwork>,
    /// Nearest open park of every network node.
    pub labels: Arc<Labels>,
    /// Which parks (by position in `network.parks`) are open.
    pub open: Vec<bool>,
    /// Per compound (position in `network.compounds`), by straight line.
    pub straight: Vec<Option<Nearest>>,
    /// Per compound, by walking.
    pub walk: Vec<Option<Nearest>>,
    /// Per compound, the indicator's nearest serving park.
    pub indicator: Vec<Option<Nearest>>,
}

/// The interior point of a compound or park as a geo point.
fn origin_point(att: &crate::walk::Attachment) -> Point<f64> {
    Point::new(att.origin[0], att.origin[1])
}

fn lexi_better(d: f64, id: &str, than: Option<(f64, &str)>) -> bool {
    than.is_none_or(|(td, tid)| d < td || (d == td && id < tid))
}

impl AccessModel {
    /// Builds the network of `snap` and every figure on it.
    pub fn build(snap: &Snapshot) -> AccessModel {
        AccessModel::on_network(snap, Arc::new(WalkNetwork::build(snap)))
    }

    /// Every figure of `snap` on an existing network of its geometry, from scratch.
    pub fn on_network(snap: &Snapshot, network: Arc<WalkNetwork>) -> AccessModel {
        let open = open_parks(snap, &network);
        let labels = Labels::compute(&network, &open);
        let straight = network
            .compounds
            .iter()
            .map(|c| straight_nearest(snap, &network, c))
            .collect();
        let indicator = indicator_nearest(snap, &network, &open);
        AccessModel::with_figures(snap, network, Arc::new(labels), open, straight, indicator)
    }

    fn with_figures(
        snap: &Snapshot,
        network: Arc<WalkNetwork>,
        labels: Arc<Labels>,
        open: Vec<bool>,
        straight: Vec<Option<Nearest>>,
        indicator: Vec<Option<Nearest>>,
    ) -> AccessModel {
        let walk = (0..network.compounds.len())
            .map(|c| {
                labels
                    .compound_nearest(&network, c)
                    .map(|(park, distance_m, _)| Nearest { park, distance_m })
            })
            .collect();
        AccessModel {
            generation: snap.generation,
            sites: Arc::clone(&snap.sites),
            network,
            labels,
            open,
            straight,
            walk,
            indicator,
        }
    }

    /// Whether the model was computed from exactly `snap`'s sites.
    pub fn describes(&self, snap: &Snapshot) -> bool {
        Arc::ptr_eq(&self.sites, &snap.sites)
    }

    /// The model of `snap`, derived from this one: the same network when `snap`'s geometry
    /// is unchanged (only the parks that opened or closed are searched again), a new one
    /// otherwise.
    pub fn advance(&self, snap: &Snapshot) -> AccessModel {
        if !self.network.fits(snap) {
            return AccessModel::build(snap);
        }
        let net = Arc::clone(&self.network);
        let open = open_parks(snap, &net);
        if open == self.open {
            return AccessModel::with_figures(
                snap,
                net,
                Arc::clone(&self.labels),
                open,
                self.straight.clone(),
                self.indicator.clone(),
            );
        }
        let mut labels = (*self.labels).clone();
        labels.update(&net, &self.open, &open);
        let closed: Vec<bool> = self.open.iter().zip(&open).map(|(b, a)| *b && !a).collect();
        let opened: Vec<usize> = (0..open.len())
            .filter(|&p| open[p] && !self.open[p])
            .collect();
        let bounds: Vec<Option<geo::Rect<f64>>> = opened
            .iter()
            .map(|&p| {
                use geo::BoundingRect;
                snap.sites[net.parks[p].site_pos].geometry.bounding_rect()
            })
            .collect();
        let mut straight = self.straight.clone();
        for (c, slot) in straight.iter_mut().enumerate() {
            let att = &net.compounds[c];
            if slot.is_some_and(|n| closed[n.park as usize]) {
                *slot = straight_nearest(snap, &net, att);
                continue;
            }
            for (&p, rect) in opened.iter().zip(&bounds) {
                // Most compounds are far from the park that opened: a cheap lower bound
                // skips the geodesic measurement (the cost of an update at K = 100).
                if let (Some(n), Some(rect)) = (slot.as_ref(), rect)
                    && distance_lower_bound_m(att.origin, rect) > n.distance_m
                {
                    continue;
                }
                let park = &snap.sites[net.parks[p].site_pos];
                let d = distance_to_area_m(origin_point(att), &park.geometry);
                let current = slot.map(|n| {
                    (
                        n.distance_m,
                        snap.sites[net.parks[n.park as usize].site_pos].id.as_str(),
                    )
                });
                if lexi_better(d, park.id.as_str(), current) {
                    *slot = Some(Nearest {
                        park: p as u32,
                        distance_m: d,
                    });
                }
            }
        }
        let indicator = if closed.iter().any(|c| *c) {
            indicator_nearest(snap, &net, &open)
        } else {
            let mut best = self.indicator.clone();
            for &p in &opened {
                indicator_merge(snap, &net, p, &mut best);
            }
            best
        };
        AccessModel::with_figures(snap, net, Arc::new(labels), open, straight, indicator)
    }

    /// The nearest park of compound `c` under `method`.
    pub fn nearest(&self, method: Method, c: usize) -> Option<Nearest> {
        match method {
            Method::Straight => self.straight[c],
            Method::Network => self.walk[c],
            Method::Indicator => self.indicator[c],
        }
    }

    /// Whether compound `c` is covered under `method` within `radius_m` (the indicator uses
    /// its own radii and ignores `radius_m`).
    pub fn covered(&self, method: Method, c: usize, radius_m: f64) -> bool {
        match (method, self.nearest(method, c)) {
            (Method::Indicator, n) => n.is_some(),
            (_, Some(n)) => n.distance_m <= radius_m,
            (_, None) => false,
        }
    }

    /// The walking route from compound `c` to its nearest open park, as a GeoJSON
    /// LineString.
    pub fn route(&self, c: usize) -> Option<Value> {
        let coords = self.labels.route_from_compound(&self.network, c)?;
        Some(line_string(&coords))
    }
}

/// A GeoJSON LineString of WGS84 positions (7 decimals, about 1 cm).
pub fn line_string(coords: &[[f64; 2]]) -> Value {
    let r = |v: f64| (v * 1e7).round() / 1e7;
    json!({
        "type": "LineString",
        "coordinates": coords.iter().map(|c| [r(c[0]), r(c[1])]).collect::<Vec<_>>(),
    })
}

fn open_parks(snap: &Snapshot, net: &WalkNetwork) -> Vec<bool> {
    net.parks
        .iter()
        .map(|p| snap.sites[p.site_pos].is_open())
        .collect()
}

fn straight_nearest(
    snap: &Snapshot,
    net: &WalkNetwork,
    att: &crate::walk::Attachment,
) -> Option<Nearest> {
    if !att.origin[0].is_finite() {
        return None;
    }
    let found = nearest_parks(snap, att.origin[0], att.origin[1], 1, ParkScope::Open);
    let n = found.first()?;
    let pos = snap.position(n.site.id.as_str())?;
    Some(Nearest {
        park: net.park_index(pos)? as u32,
        distance_m: n.distance_m,
    })
}

/// Per compound, the nearest open park that serves it under the indicator rule.
fn indicator_nearest(snap: &Snapshot, net: &WalkNetwork, open: &[bool]) -> Vec<Option<Nearest>> {
    let mut best: Vec<Option<Nearest>> = vec![None; net.compounds.len()];
    for p in (0..net.parks.len()).filter(|&p| open[p]) {
        indicator_merge(snap, net, p, &mut best);
    }
    best
}

/// Takes open park `p` into the indicator's nearest serving parks `best`: the compounds
/// within its class radius keep it when it is nearer (ties: the lower id).
fn indicator_merge(snap: &Snapshot, net: &WalkNetwork, p: usize, best: &mut [Option<Nearest>]) {
    let park = &snap.sites[net.parks[p].site_pos];
    let Some(radius) = indicator_radius_m(park.area_m2) else {
        return;
    };
    for (c, d) in compounds_within_straight(snap, net, park, radius) {
        let current = best[c].map(|n| {
            (
                n.distance_m,
                snap.sites[net.parks[n.park as usize].site_pos].id.as_str(),
            )
        });
        if lexi_better(d, park.id.as_str(), current) {
            best[c] = Some(Nearest {
                park: p as u32,
                distance_m: d,
            });
        }
    }
}

/// The compounds (positions in `net.compounds`) whose interior point is within `radius_m`
/// of `park`'s edge in a straight line, with the distance.
pub(crate) fn compounds_within_straight(
    snap: &Snapshot,
    net: &WalkNetwork,
    park: &Site,
    radius_m: f64,
) -> Vec<(usize, f64)> {
    use geo::BoundingRect;
    let Some(r) = park.geometry.bounding_rect() else {
        return Vec::new();
    };
    let area = crate::walk::geom::merc_box([r.min().x, r.min().y, r.max().x, r.max().y], radius_m);
    snap.fixed
        .site_shapes
        .index
        .query(area)
        .into_iter()
        .filter(|&pos| snap.sites[pos].kind == RenewalKind::Compound)
        .filter_map(|pos| {
            let c = net
                .compounds
                .binary_search_by_key(&pos, |a| a.site_pos)
                .ok()?;
            let d = distance_to_area_m(origin_point(&net.compounds[c]), &park.geometry);
            (d <= radius_m).then_some((c, d))
        })
        .collect()
}
