//! Park access stays fresh after living-map writes (issue 14): on the street grid, a planner
//! creates an open park beside `compound-b` (no park within 300 m of it), moves it beside
//! `compound-a`, retires it, then opens `park-b` by a status change. After each write the
//! very next `/api/access` (network and straight) and `/api/parks/nearest` answer as the new
//! state requires.
//!
//! The grid's figures at 300 m before any write (`tests/common/access.rs` has the layout):
//! only `park-a` is open; by network no compound is within 300 m of it (walks of 388, 361
//! and 610 m); in a straight line `compound-a` (277 m) and `compound-c` (273 m) are, 500
//! households of 1,000.

mod common;

use axum::Router;
use axum::http::Method;
use common::access::{grid, open_with_store, square_m, write_street_grid};
use common::get;
use common::store::{patch, version, write_feature};
use geo::{Distance, Geodesic, Point};
use serde_json::{Value, json};

const PARKS: &str = "/ogc/collections/parks/items";
/// Side of the created park, metres (900 m², inside the configured park area range).
const SIDE_M: f64 = 30.0;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A completed park, a `SIDE_M` square centred on grid point (i, j).
fn open_park(i: f64, j: f64) -> Value {
    let (lng, lat) = grid(i, j);
    json!({"type": "Feature", "geometry": square_m(lng, lat, SIDE_M),
        "properties": {"name": "街角公园", "kind": "pocket_park", "status": "completed"}})
}

/// Metres from grid point `from` to the nearer east–west edge of a park centred on grid
/// point `park` on the same row: the walk along that street and the straight line alike.
fn to_edge_m(from: (f64, f64), park: (f64, f64)) -> f64 {
    let (a, b) = (grid(from.0, from.1), grid(park.0, park.1));
    Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1)) - SIDE_M / 2.0
}

/// What `/api/access` says at 300 m: households covered, and per compound its walking
/// park and metres.
struct Access {
    households: u64,
    rows: Vec<Value>,
}

impl Access {
    fn row(&self, id: &str) -> &Value {
        self.rows
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no row {id}"))
    }

    /// `(walking park id, walk_m, straight_m)` of compound `id`.
    fn of(&self, id: &str) -> (String, f64, f64) {
        let r = self.row(id);
        (
            r["walk_park"]["id"].as_str().unwrap_or("").to_owned(),
            f(&r["walk_m"]),
            f(&r["straight_m"]),
        )
    }
}

async fn access(app: &Router, method: &str) -> Access {
    let body = get(app, &format!("/api/access?method={method}&radius=300"))
        .await
        .expect(200)
        .json();
    assert_eq!(body["district"]["radii"][0]["radius_m"], 300.0, "{body}");
    Access {
        households: body["district"]["radii"][0]["households"]
            .as_u64()
            .unwrap_or_else(|| panic!("households in {body}")),
        rows: body["per_compound"].as_array().expect("rows").clone(),
    }
}

/// Ids and walking metres of the open parks nearest to grid point (i, j), by distance.
async fn nearest(app: &Router, i: f64, j: f64) -> Vec<(String, f64)> {
    let (lng, lat) = grid(i, j);
    let body = get(
        app,
        &format!("/api/parks/nearest?lon={lng}&lat={lat}&limit=5"),
    )
    .await
    .expect(200)
    .json();
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id").to_owned(),
                f(&p["properties"]["walk_m"]),
            )
        })
        .collect()
}

fn near(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 1.0,
        "{what}: {got} m, want {want:.1} m"
    );
}

#[tokio::test]
async fn access_follows_creating_moving_and_retiring_a_park() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_street_grid(dir.path());
    let (state, token) = open_with_store(dir.path());
    let app = renewal_map::app(state);

    // Before: compound-b has no park within 300 m either way.
    let (net, straight) = (
        access(&app, "network").await,
        access(&app, "straight").await,
    );
    assert_eq!((net.households, straight.households), (0, 500));
    let (park, walk_m, straight_m) = net.of("compound-b");
    assert_eq!(park, "park-a");
    assert!(
        walk_m > 600.0 && straight_m > 300.0,
        "{walk_m} {straight_m}"
    );
    assert_eq!(nearest(&app, 2.5, 3.0).await[0].0, "park-a");

    // Create an open park at the grid's north-east corner, 68 m along the street from
    // compound-b: it is now covered by both methods.
    let r = write_feature(
        &app,
        Method::POST,
        PARKS,
        Some(&token),
        None,
        "application/geo+json",
        &open_park(3.0, 3.0),
    )
    .await
    .expect(201);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let beside_b = to_edge_m((2.5, 3.0), (3.0, 3.0));
    let (net, straight) = (
        access(&app, "network").await,
        access(&app, "straight").await,
    );
    assert_eq!((net.households, straight.households), (500, 1000));
    let (park, walk_m, straight_m) = net.of("compound-b");
    assert_eq!(park, id);
    near(walk_m, beside_b, "walk from compound-b");
    near(straight_m, beside_b, "straight from compound-b");
    assert_eq!(
        straight.row("compound-b")["nearest_park"]["id"],
        id.as_str()
    );
    let found = nearest(&app, 2.5, 3.0).await;
    assert_eq!(found[0].0, id);
    near(found[0].1, beside_b, "nearest parks walk_m");

    // Move it (PUT) to the south-west corner, beside compound-a: compound-b loses it,
    // compound-a gains it.
    let item = format!("{PARKS}/{id}");
    write_feature(
        &app,
        Method::PUT,
        &item,
        Some(&token),
        Some("\"1\""),
        "application/geo+json",
        &open_park(0.0, 0.0),
    )
    .await
    .expect(200);
    let beside_a = to_edge_m((0.5, 0.0), (0.0, 0.0));
    let (net, straight) = (
        access(&app, "network").await,
        access(&app, "straight").await,
    );
    assert_eq!((net.households, straight.households), (300, 500));
    assert_eq!(net.of("compound-b").0, "park-a");
    assert!(net.of("compound-b").1 > 600.0);
    let (park, walk_m, _) = net.of("compound-a");
    assert_eq!(park, id);
    near(walk_m, beside_a, "walk from compound-a");
    assert_eq!(straight.row("compound-b")["nearest_park"]["id"], "park-a");
    assert_eq!(nearest(&app, 2.5, 3.0).await[0].0, "park-a");
    assert_eq!(nearest(&app, 0.5, 0.0).await[0].0, id);

    // Retire it: back to the figures before it existed.
    write_feature(
        &app,
        Method::DELETE,
        &item,
        Some(&token),
        Some("\"2\""),
        "application/geo+json",
        &json!(null),
    )
    .await
    .expect(204);
    let (net, straight) = (
        access(&app, "network").await,
        access(&app, "straight").await,
    );
    assert_eq!((net.households, straight.households), (0, 500));
    assert_eq!(net.of("compound-a").0, "park-a");
    assert!(
        nearest(&app, 0.5, 0.0).await.iter().all(|(p, _)| *p != id),
        "a retired park is no one's nearest"
    );

    // A status change: park-b (planned, 194 m from compound-b by the streets) opens.
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
    let (net, straight) = (
        access(&app, "network").await,
        access(&app, "straight").await,
    );
    assert_eq!((net.households, straight.households), (500, 1000));
    let (park, walk_m, _) = net.of("compound-b");
    assert_eq!(park, "park-b");
    let (a, b, c) = (grid(2.5, 3.0), grid(2.0, 3.0), grid(2.0, 2.5));
    let legs = Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
        + Geodesic.distance(Point::new(b.0, b.1), Point::new(c.0, c.1));
    near(walk_m, legs, "walk from compound-b to park-b");
    assert_eq!(nearest(&app, 2.5, 3.0).await[0].0, "park-b");
}
