//! Nearest pocket parks against a brute-force geodesic reference on random points: same
//! parks in the same order, distances within a metre.

mod common;

use axum::http::StatusCode;
use common::{fixture_dir, get, router, snapshot};
use geo::{Contains, Distance, Geodesic, Geometry, Point};
use renewal_map::model::{RenewalKind, Site};
use renewal_map::nearest::{ParkScope, nearest_parks};
use renewal_map::snapshot::Snapshot;

/// Deterministic random numbers for the test points.
struct SplitMix(u64);

impl SplitMix {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Reference distance: 0 inside; otherwise the minimum over every edge of a golden-section
/// search of the geodesic distance along the edge, refined to the millimetre.
fn brute_force_m(p: Point<f64>, g: &Geometry<f64>) -> f64 {
    let Geometry::Polygon(poly) = g else {
        panic!("parks are polygons")
    };
    if poly.contains(&p) {
        return 0.0;
    }
    let mut best = f64::INFINITY;
    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
        for seg in ring.lines() {
            let at = |t: f64| {
                Point::new(
                    seg.start.x + (seg.end.x - seg.start.x) * t,
                    seg.start.y + (seg.end.y - seg.start.y) * t,
                )
            };
            let f = |t: f64| Geodesic.distance(p, at(t));
            // Sample, then refine around the best sample (distance along a short edge is unimodal).
            let n = 64;
            let k = (0..=n)
                .min_by(|&a, &b| f(a as f64 / n as f64).total_cmp(&f(b as f64 / n as f64)))
                .unwrap_or(0);
            let (mut lo, mut hi) = (
                ((k as f64) - 1.0).max(0.0) / n as f64,
                ((k as f64) + 1.0).min(n as f64) / n as f64,
            );
            for _ in 0..60 {
                let (m1, m2) = (lo + (hi - lo) / 3.0, hi - (hi - lo) / 3.0);
                if f(m1) < f(m2) { hi = m2 } else { lo = m1 }
            }
            best = best.min(f((lo + hi) / 2.0)).min(f(0.0)).min(f(1.0));
        }
    }
    best
}

fn reference(snap: &Snapshot, p: Point<f64>, limit: usize, scope: ParkScope) -> Vec<(String, f64)> {
    let mut all: Vec<(String, f64)> = snap
        .sites
        .iter()
        .filter(|s: &&std::sync::Arc<Site>| {
            s.kind == RenewalKind::PocketPark && (scope == ParkScope::All || s.is_open())
        })
        .map(|s| (s.id.to_string(), brute_force_m(p, &s.geometry)))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(limit);
    all
}

fn check_random_points(snap: &Snapshot, points: usize, limit: usize, seed: u64) {
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    let mut rng = SplitMix(seed);
    for _ in 0..points {
        // Points over the data and a margin around it.
        let lng = w - 0.01 + (e - w + 0.02) * rng.next_f64();
        let lat = s - 0.01 + (n - s + 0.02) * rng.next_f64();
        for scope in [ParkScope::Open, ParkScope::All] {
            let got = nearest_parks(snap, lng, lat, limit, scope);
            let want = reference(snap, Point::new(lng, lat), limit, scope);
            assert_eq!(got.len(), want.len());
            for (g, (id, d)) in got.iter().zip(&want) {
                assert!(
                    (g.distance_m - d).abs() < 1.0,
                    "({lng},{lat}) {}: {} vs brute force {id}: {d}",
                    g.site.id,
                    g.distance_m
                );
                // Same park, unless two parks are tied within the metre.
                if g.site.id.as_str() != id {
                    let other = want
                        .iter()
                        .find(|(i, _)| i == g.site.id.as_str())
                        .expect("same set");
                    assert!(
                        (other.1 - d).abs() < 1.0,
                        "order differs beyond a metre at ({lng},{lat})"
                    );
                }
            }
        }
    }
}

#[test]
fn fixture_matches_brute_force() {
    let dir = fixture_dir();
    check_random_points(&snapshot(dir.path()), 200, 3, 7);
}

#[test]
fn default_data_matches_brute_force() {
    check_random_points(&snapshot(&common::default_data()), 25, 5, 11);
}

#[test]
fn inside_a_park_is_zero() {
    let dir = fixture_dir();
    let snap = snapshot(dir.path());
    let got = nearest_parks(&snap, 123.41025, 41.81025, 1, ParkScope::Open);
    assert_eq!(got[0].site.id.as_str(), "park-001");
    assert_eq!(got[0].distance_m, 0.0);
}

#[tokio::test]
async fn api_lists_open_parks_by_distance_and_all_on_request() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let fc = get(&router, "/api/parks/nearest?lon=123.43&lat=41.83&limit=5")
        .await
        .expect(StatusCode::OK)
        .json();
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 2, "only the two open parks by default");
    let d: Vec<f64> = features
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]),
        "ordered by distance: {d:?}"
    );
    assert!(
        features
            .iter()
            .all(|f| f["properties"]["open"] == true && f["properties"]["opens"].is_null())
    );
    let all = get(
        &router,
        "/api/parks/nearest?lon=123.43&lat=41.83&limit=5&include=all",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    let first = &all["features"][0]["properties"];
    assert_eq!(all["features"].as_array().unwrap().len(), 3);
    assert_eq!(first["name"], "测试park-002");
    assert_eq!(
        first["distance_m"], 0.0,
        "the query point is the park's corner"
    );
    assert_eq!(first["open"], false);
    assert_eq!(
        first["opens"], "2026-06-30",
        "unopened parks say when they are planned to open"
    );
    assert!(first["area_m2"].as_f64().unwrap() > 0.0);
}

#[test]
fn far_queries_measure_every_park() {
    // From the other side of the antimeridian, or far along the parallel, the Mercator bound
    // does not hold; the answer must still be the true nearest.
    let dir = fixture_dir();
    let snap = snapshot(dir.path());
    for (lng, lat) in [(-170.0, 41.8), (30.0, 41.85), (123.42, -60.0)] {
        let got = nearest_parks(&snap, lng, lat, 2, ParkScope::All);
        let want = reference(&snap, Point::new(lng, lat), 2, ParkScope::All);
        let got: Vec<&str> = got.iter().map(|n| n.site.id.as_str()).collect();
        let want: Vec<&str> = want.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(got, want, "from ({lng}, {lat})");
    }
}
