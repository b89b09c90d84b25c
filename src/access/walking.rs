//! Walking distances from a point to pocket parks, for the nearest-parks answer.

use std::sync::Arc;

use geo::Point;

use super::AccessModel;
use crate::model::Site;
use crate::nearest::{NearbyPark, ParkScope, distance_to_area_m};
use crate::snapshot::Snapshot;
use crate::walk::search::{WalkTo, walk_from_point};

/// Farthest walk searched from a point, metres: parks farther away on foot get no walking
/// distance, and `order=walk` returns only parks within it.
pub const MAX_WALK_M: f64 = 10_000.0;

/// A park with its straight-line and walking distances from a point.
#[derive(Debug, Clone)]
pub struct WalkingPark {
    /// The park and its geodesic distance.
    pub nearby: NearbyPark,
    /// The walk there, when it is within [`MAX_WALK_M`]; a point inside the park walks 0 m.
    pub walk: Option<WalkTo>,
}

/// Walking distances from (`lng`, `lat`) to each of `parks`, in the same order.
pub fn walking_parks(
    model: &AccessModel,
    snap: &Snapshot,
    lng: f64,
    lat: f64,
    parks: Vec<NearbyPark>,
) -> Vec<WalkingPark> {
    let net = &model.network;
    let index_of = |site: &Site| {
        snap.position(site.id.as_str())
            .and_then(|pos| net.park_index(pos))
    };
    let wanted: Vec<usize> = parks
        .iter()
        .filter(|p| p.distance_m > 0.0)
        .filter_map(|p| index_of(&p.site))
        .collect();
    let walks = if wanted.is_empty() {
        Vec::new()
    } else {
        walk_from_point(net, lng, lat, MAX_WALK_M, wanted.len(), |p| {
            wanted.contains(&p)
        })
    };
    parks
        .into_iter()
        .map(|nearby| {
            let park = index_of(&nearby.site);
            let walk = if nearby.distance_m == 0.0 {
                park.map(|park| WalkTo {
                    park,
                    walk_m: 0.0,
                    route: vec![[lng, lat]],
                })
            } else {
                walks.iter().find(|w| Some(w.park) == park).cloned()
            };
            WalkingPark { nearby, walk }
        })
        .collect()
}

/// The `limit` parks of `scope` nearest to (`lng`, `lat`) on foot, within [`MAX_WALK_M`].
pub fn nearest_by_walk(
    model: &AccessModel,
    snap: &Snapshot,
    lng: f64,
    lat: f64,
    limit: usize,
    scope: ParkScope,
) -> Vec<WalkingPark> {
    let net = &model.network;
    let in_scope =
        |p: usize| scope == ParkScope::All || snap.sites[net.parks[p].site_pos].is_open();
    let walks = walk_from_point(net, lng, lat, MAX_WALK_M, limit, in_scope);
    let here = Point::new(lng, lat);
    let mut out: Vec<WalkingPark> = walks
        .into_iter()
        .map(|w| {
            let site = Arc::clone(&snap.sites[net.parks[w.park].site_pos]);
            let distance_m = distance_to_area_m(here, &site.geometry);
            WalkingPark {
                nearby: NearbyPark { site, distance_m },
                walk: Some(w),
            }
        })
        .collect();
    // A point inside a park walks 0 m to it, whatever the network says.
    for wp in &mut out {
        if wp.nearby.distance_m == 0.0
            && let Some(w) = wp.walk.as_mut()
        {
            w.walk_m = 0.0;
            w.route = vec![[lng, lat]];
        }
    }
    out.sort_by(|a, b| {
        let wa = a.walk.as_ref().map_or(f64::INFINITY, |w| w.walk_m);
        let wb = b.walk.as_ref().map_or(f64::INFINITY, |w| w.walk_m);
        wa.total_cmp(&wb)
            .then_with(|| a.nearby.site.id.cmp(&b.nearby.site.id))
    });
    out
}
