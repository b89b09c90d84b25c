//! Park access: walking distances on a hand-built street grid, straight ≤ network, the
//! ranking against exhaustive recomputation, the indicator thresholds, freshness after a
//! status change, nearest parks by walking, and every bad input.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::access::{
    THRESHOLD_PAIRS, grid, open_with_store, write_indicator_thresholds, write_street_grid,
};
use common::store::{patch, version};
use common::{default_data, get, router, snapshot};
use geo::{Distance, Geodesic, Point};
use renewal_map::access::rank::next_parks;
use renewal_map::access::{AccessModel, Method};
use renewal_map::model::RenewalStatus;
use renewal_map::snapshot::Snapshot;
use serde_json::Value;

fn geodesic(a: (f64, f64), b: (f64, f64)) -> f64 {
    Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
}

/// Length of a walk through grid points (steps east, north).
fn legs(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| geodesic(grid(w[0].0, w[0].1), grid(w[1].0, w[1].1)))
        .sum()
}

fn grid_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_street_grid(dir.path());
    dir
}

fn row<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["per_compound"]
        .as_array()
        .expect("per_compound")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no row {id} in {body}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn grid_walks_are_the_street_distances() {
    let dir = grid_dir();
    let app = router(dir.path());
    let body = get(&app, "/api/access?method=network&route=true")
        .await
        .expect(StatusCode::OK)
        .json();
    // Six lines crossing in 16 points: 4 corners join ends, 8 T-junctions and 4 crossings
    // split a line; one connected network.
    assert_eq!(body["network"]["crossings"], 12, "{}", body["network"]);
    assert_eq!(body["network"]["components"], 1);
    let cases = [
        (
            "compound-a",
            vec![(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (1.5, 1.0)],
        ),
        ("compound-c", vec![(0.0, 1.5), (0.0, 1.0), (1.5, 1.0)]),
        (
            "compound-b",
            vec![(2.5, 3.0), (2.0, 3.0), (2.0, 1.0), (1.5, 1.0)],
        ),
    ];
    for (id, path) in cases {
        let r = row(&body, id);
        let want = legs(&path);
        let got = f(&r["walk_m"]);
        // Sites are 0.2 m squares on the streets: gates are within 0.15 m of the centres.
        assert!(
            (got - want).abs() < 0.5,
            "{id}: walked {got}, streets {want}"
        );
        assert_eq!(r["walk_park"]["id"], "park-a");
        assert_eq!(r["walk_min"], ((got / 60.0) * 10.0).round() / 10.0);
        let route = r["route"]["coordinates"].as_array().expect("route");
        let pts: Vec<(f64, f64)> = route.iter().map(|c| (f(&c[0]), f(&c[1]))).collect();
        let len: f64 = pts.windows(2).map(|w| geodesic(w[0], w[1])).sum();
        assert!((len - got).abs() < 0.1, "{id}: route {len} vs {got}");
        assert!(geodesic(pts[0], grid(path[0].0, path[0].1)) < 0.2);
        assert!(geodesic(pts[pts.len() - 1], grid(1.5, 1.0)) < 0.2);
    }
    // compound-b is 474 m from park-a as the crow flies, 610 m on foot.
    let b = row(&body, "compound-b");
    assert!(f(&b["straight_m"]) < 500.0 && f(&b["walk_m"]) > 500.0);
    // Within 500 m on foot: compound-a (300) and compound-c (200) of 1,000 households.
    let at500 = &body["district"]["radii"][1];
    assert_eq!(at500["radius_m"], 500.0);
    assert_eq!(at500["households"], 500);
    assert_eq!(at500["households_percent"], 50.0);
    assert_eq!(at500["compounds"], 2);
    let west = &body["subdistricts"][0];
    assert_eq!(
        (west["code"].as_str(), &west["radii"][1]["households"]),
        (Some("999001"), &Value::from(500))
    );
    // By straight line all three are within 500 m.
    let straight = get(
        &app,
        "/api/access?method=straight&radius=500&compounds=false",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(straight["district"]["radii"][0]["households"], 1000);
    assert!(straight.get("per_compound").is_none());
    assert!(
        straight["method_description"]
            .as_str()
            .unwrap()
            .starts_with("straight line")
    );
}

/// Opens the named parks in a copy of `snap`.
fn with_open(snap: &Snapshot, ids: &[&str]) -> Snapshot {
    let mut s = snap.clone();
    for id in ids {
        let mut site = (**s.site(id).expect("site")).clone();
        site.status = RenewalStatus::Completed;
        s = s.with_site(site).expect("known site");
    }
    s
}

fn covered_households(model: &AccessModel, snap: &Snapshot, method: Method, r: f64) -> u64 {
    model
        .network
        .compounds
        .iter()
        .enumerate()
        .filter(|(c, _)| model.covered(method, *c, r))
        .map(|(_, a)| {
            u64::from(
                snap.sites[a.site_pos]
                    .compound()
                    .expect("compound")
                    .households,
            )
        })
        .sum()
}

/// Checks a ranking step by step against recomputing everything from scratch with the
/// picked parks opened; `steps` limits how many picks are checked.
fn check_ranking(snap: &Snapshot, method: Method, r: f64, steps: usize) {
    let model = AccessModel::build(snap);
    let ranking = next_parks(&model, snap, method, r);
    let truth = |ids: &[&str]| {
        let s = with_open(snap, ids);
        let m = AccessModel::on_network(&s, Arc::clone(&model.network));
        covered_households(&m, &s, method, r)
    };
    assert_eq!(ranking.now.households, truth(&[]));
    let candidates: Vec<&str> = ranking.picks.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ranking.all_planned_open.households, truth(&candidates));
    let mut opened: Vec<&str> = Vec::new();
    for pick in ranking.picks.iter().take(steps) {
        let base = truth(&opened);
        let best = candidates
            .iter()
            .filter(|c| !opened.contains(c))
            .map(|c| {
                let mut with = opened.clone();
                with.push(c);
                truth(&with) - base
            })
            .max()
            .unwrap_or(0);
        assert_eq!(pick.new_households, best, "{method} {r}: pick {}", pick.id);
        opened.push(&pick.id);
        assert_eq!(pick.cumulative_households, truth(&opened), "{method} {r}");
    }
}

#[test]
fn ranking_matches_exhaustive_recomputation_on_the_grid() {
    let dir = grid_dir();
    let snap = snapshot(dir.path());
    for method in [Method::Network, Method::Straight] {
        for r in [300.0, 500.0] {
            check_ranking(&snap, method, r, usize::MAX);
        }
    }
    let model = AccessModel::build(&snap);
    let ranking = next_parks(&model, &snap, Method::Network, 500.0);
    let first = &ranking.picks[0];
    assert_eq!((first.id.as_str(), first.new_households), ("park-b", 500));
    assert_eq!(ranking.all_planned_open.households_percent, 100.0);
    assert_eq!(ranking.candidates, 3);
}

#[test]
fn ranking_matches_recomputation_on_huanggu() {
    let snap = snapshot(&default_data());
    check_ranking(&snap, Method::Network, 500.0, 2);
    check_ranking(&snap, Method::Indicator, 500.0, 1);
}

#[test]
fn straight_line_never_exceeds_the_walk() {
    for snap in [snapshot(&default_data()), snapshot(grid_dir().path())] {
        let model = AccessModel::build(&snap);
        let mut compared = 0;
        for c in 0..model.network.compounds.len() {
            let (Some(s), Some(w)) = (model.straight[c], model.walk[c]) else {
                continue;
            };
            assert!(
                s.distance_m <= w.distance_m + 0.01,
                "compound {c}: {s:?} > {w:?}"
            );
            compared += 1;
        }
        assert!(compared > 0);
        assert_eq!(
            compared,
            model.network.compounds.len(),
            "every compound reaches a park"
        );
    }
}

#[tokio::test]
async fn indicator_rule_at_each_size_threshold() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_indicator_thresholds(dir.path());
    let app = router(dir.path());
    let body = get(&app, "/api/access?method=indicator")
        .await
        .expect(StatusCode::OK)
        .json();
    for (k, (_, gap, covered)) in THRESHOLD_PAIRS.iter().enumerate() {
        let park = get(&app, &format!("/api/sites/park-{k}"))
            .await
            .expect(200)
            .json();
        let area = f(&park["properties"]["area_m2"]);
        // The fixture lands on the intended side of each threshold.
        let side_ok = match k {
            0 => area < 2_000.0,
            1 => (2_000.0..5_000.0).contains(&area),
            2 => (2_000.0..5_000.0).contains(&area) && area > 4_900.0,
            _ => area >= 5_000.0,
        };
        assert!(side_ok, "park-{k}: {area} m²");
        let r = row(&body, &format!("compound-{k}"));
        assert!((f(&r["straight_m"]) - gap).abs() < 3.0, "{r}");
        assert_eq!(r["nearest_park"].is_object(), *covered, "compound-{k}: {r}");
    }
    let line = &body["district"]["radii"][0];
    assert_eq!(line["radius_m"], Value::Null);
    assert_eq!(line["compounds"], 2);
    assert_eq!(body["open_parks"], 4);
    assert_eq!(body["open_parks_counting_for_indicator"], 3);
    assert_eq!(body["planned_parks_under_2000_m2"], 1);
    // By straight line every compound has a park within 500 m.
    let straight = get(&app, "/api/access?method=straight&radius=500")
        .await
        .expect(200)
        .json();
    assert_eq!(straight["district"]["radii"][0]["compounds"], 4);
    // The small planned park is flagged: it cannot raise the indicator.
    let next = get(&app, "/api/access/next-parks?method=indicator")
        .await
        .expect(200)
        .json();
    let small = &next["picks"][0];
    assert_eq!(small["id"], "park-small-planned");
    assert_eq!(small["counts_for_indicator"], false);
    assert_eq!(small["indicator_radius_m"], Value::Null);
    assert_eq!(small["new_households"], 0);
    assert_eq!(next["radius_m"], Value::Null);
}

#[tokio::test]
async fn access_follows_status_changes() {
    let dir = grid_dir();
    let (state, token) = open_with_store(dir.path());
    let app = renewal_map::app(state);
    let share = |b: &Value| b["district"]["radii"][0]["households"].clone();
    let url = "/api/access?method=network&radius=500&compounds=false";
    assert_eq!(share(&get(&app, url).await.expect(200).json()), 500);
    let next = get(&app, "/api/access/next-parks?radius=500")
        .await
        .expect(200)
        .json();
    assert_eq!(next["picks"][0]["id"], "park-b");
    assert_eq!(next["picks"][0]["cumulative_households_percent"], 100.0);

    let v = version(&app, "park-b").await;
    patch(
        &app,
        "park-b",
        Some(&token),
        Some(v),
        r#"{"status": "completed"}"#,
    )
    .await
    .expect(200);
    let body = get(&app, url).await.expect(200).json();
    assert_eq!(share(&body), 1000);
    assert_eq!(body["open_parks"], 2);
    let next = get(&app, "/api/access/next-parks?radius=500")
        .await
        .expect(200)
        .json();
    assert_eq!(next["candidates"], 2);
    assert!(
        next["picks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "park-b")
    );
    assert_eq!(next["now"]["households"], 1000);

    // Closing park-a again (a planner's backward move) leaves only compound-b within reach.
    let v = version(&app, "park-a").await;
    patch(
        &app,
        "park-a",
        Some(&token),
        Some(v),
        r#"{"status": "under_construction", "reason": "closed for repairs"}"#,
    )
    .await
    .expect(200);
    let body = get(&app, "/api/access?method=network&radius=500")
        .await
        .expect(200)
        .json();
    assert_eq!(share(&body), 500);
    assert_eq!(row(&body, "compound-b")["walk_park"]["id"], "park-b");
    assert_eq!(row(&body, "compound-a")["walk_park"]["id"], "park-b");
    let stats = get(&app, "/api/stats").await.expect(200).json();
    let methods = stats["park_access_methods"].as_array().expect("methods");
    let network = methods
        .iter()
        .find(|m| m["method"] == "network")
        .expect("network");
    assert_eq!(network["district"]["radii"][1]["households"], 500);
    assert_eq!(network["open_parks"], 1);
}

#[tokio::test]
async fn nearest_parks_by_walking() {
    let dir = grid_dir();
    let app = router(dir.path());
    let (lng, lat) = grid(2.5, 3.0);
    let url =
        format!("/api/parks/nearest?lon={lng}&lat={lat}&include=all&order=walk&limit=4&route=true");
    let body = get(&app, &url).await.expect(200).json();
    let parks = body["features"].as_array().expect("features");
    assert_eq!(parks.len(), 4);
    let walks: Vec<f64> = parks
        .iter()
        .map(|p| f(&p["properties"]["walk_m"]))
        .collect();
    assert!(walks.windows(2).all(|w| w[0] <= w[1]), "{walks:?}");
    assert_eq!(parks[0]["id"], "park-b");
    let want = legs(&[(2.5, 3.0), (2.0, 3.0), (2.0, 2.5)]);
    assert!((walks[0] - want).abs() < 0.5, "{} vs {want}", walks[0]);
    for p in parks {
        let props = &p["properties"];
        assert!(
            f(&props["distance_m"]) <= f(&props["walk_m"]) + 0.01,
            "{props}"
        );
        let route = props["route"]["coordinates"].as_array().expect("route");
        assert_eq!((f(&route[0][0]), f(&route[0][1])), (lng, lat));
        assert_eq!(props["route"]["type"], "LineString");
    }
    // Default order stays geodesic distance, open parks only, with walking figures added.
    let body = get(&app, &format!("/api/parks/nearest?lon={lng}&lat={lat}"))
        .await
        .expect(200)
        .json();
    assert_eq!(body["features"][0]["id"], "park-a");
    let first = &body["features"][0]["properties"];
    assert!((f(&first["walk_m"]) - 610.0).abs() < 5.0, "{first}");
    assert_eq!(
        first["walk_min"],
        ((f(&first["walk_m"]) / 60.0) * 10.0).round() / 10.0
    );
    assert!(first.get("route").is_none());
    assert_eq!(body["walk_m_per_min"], 60.0);
}

#[tokio::test]
async fn bad_access_input_is_a_400_naming_the_parameter() {
    let dir = grid_dir();
    let app = router(dir.path());
    let cases = [
        ("/api/access?method=walking", "method"),
        ("/api/access?radius=0", "radius"),
        ("/api/access?radius=abc", "radius"),
        ("/api/access?radius=5001", "radius"),
        ("/api/access?radius=1,2,3,4,5,6,7,8,9", "radius"),
        ("/api/access?method=indicator&radius=300", "radius"),
        ("/api/access?route=yes", "route"),
        ("/api/access?compounds=no", "compounds"),
        ("/api/access?bbox=1,2,3,4", "bbox"),
        ("/api/access/next-parks?radius=300,500", "radius"),
        ("/api/access/next-parks?limit=0", "limit"),
        ("/api/access/next-parks?limit=1001", "limit"),
        (
            "/api/access/next-parks?method=indicator&radius=500",
            "radius",
        ),
        (
            "/api/parks/nearest?lon=123.4&lat=41.8&order=fastest",
            "order",
        ),
        ("/api/parks/nearest?lon=123.4&lat=41.8&route=1", "route"),
    ];
    for (url, param) in cases {
        let r = get(&app, url).await.expect(StatusCode::BAD_REQUEST);
        let body = r.json();
        assert_eq!(body["error"], "invalid_parameter", "{url}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(param), "{url}: {message}");
    }
}

#[tokio::test]
async fn stats_report_the_three_methods() {
    let app = router(&default_data());
    let stats = get(&app, "/api/stats").await.expect(200).json();
    let methods = stats["park_access_methods"].as_array().expect("methods");
    let names: Vec<&str> = methods
        .iter()
        .filter_map(|m| m["method"].as_str())
        .collect();
    assert_eq!(names, ["straight", "network", "indicator"]);
    // The straight method is today's figure, to the household.
    let straight = &methods[0]["district"]["radii"];
    for (k, old) in stats["park_access"]["radii"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(straight[k]["households"], old["households"]);
        assert_eq!(straight[k]["compounds"], old["compounds"]);
    }
    for m in methods {
        assert_eq!(m["district"]["compounds"], 89);
        assert_eq!(m["subdistricts"].as_array().unwrap().len(), 10);
        let sub_total: u64 = m["subdistricts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["compounds"].as_u64().unwrap())
            .sum();
        assert_eq!(sub_total, 89);
        println!(
            "{:<9} {}",
            m["method"].as_str().unwrap(),
            m["district"]["radii"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| format!(
                    "{}: {}% compounds, {}% households",
                    r["radius_m"], r["compounds_percent"], r["households_percent"]
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    // Network shares never exceed straight-line shares at the same radius.
    let by_radius = |m: &Value| {
        m["district"]["radii"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    for (net, line) in by_radius(&methods[1]).iter().zip(by_radius(&methods[0])) {
        assert!(f(&net["households"]) <= f(&line["households"]));
    }
}
