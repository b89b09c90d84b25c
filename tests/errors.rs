//! The bad-input matrix: every case gets a 4xx with a JSON `{"error", "message"}` body that
//! says what was wrong, and never a 5xx or a panic.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{fixture_dir, get, router, send};

/// (uri, expected status, expected error code, a word the message must contain)
const CASES: &[(&str, u16, &str, &str)] = &[
    // Tiles: zoom, grid, numbers, format, filters.
    ("/tiles/23/0/0.mvt", 404, "zoom_out_of_range", "zoom 23"),
    ("/tiles/99999999999/0/0.mvt", 400, "invalid_parameter", "z"),
    ("/tiles/3/8/0.mvt", 400, "invalid_parameter", "outside"),
    ("/tiles/3/0/8.mvt", 400, "invalid_parameter", "outside"),
    (
        "/tiles/22/4194304/0.mvt",
        400,
        "invalid_parameter",
        "outside",
    ),
    ("/tiles/-1/0/0.mvt", 400, "invalid_parameter", "z"),
    ("/tiles/a/0/0.mvt", 400, "invalid_parameter", "z"),
    ("/tiles/3/x/0.mvt", 400, "invalid_parameter", "x"),
    ("/tiles/3/0/1.5.mvt", 400, "invalid_parameter", "y"),
    ("/tiles/3/0/%20.mvt", 400, "invalid_parameter", "y"),
    ("/tiles/3/0/0.pbf", 404, "unknown_format", ".mvt"),
    ("/tiles/3/0/0", 404, "unknown_format", ".mvt"),
    (
        "/tiles/3/0/0.mvt?status=done",
        400,
        "invalid_parameter",
        "status",
    ),
    (
        "/tiles/3/0/0.mvt?kind=park",
        400,
        "invalid_parameter",
        "kind",
    ),
    (
        "/tiles/3/0/0.mvt?subdistrict=nowhere",
        400,
        "invalid_parameter",
        "subdistrict",
    ),
    (
        "/tiles/3/0/0.mvt?late=yes",
        400,
        "invalid_parameter",
        "late",
    ),
    (
        "/tiles/3/0/0.mvt?zoom=3",
        400,
        "invalid_parameter",
        "unknown parameter",
    ),
    (
        "/tiles/3/0/0.mvt?status=planned&status=design",
        400,
        "invalid_parameter",
        "more than once",
    ),
    (
        "/tiles.json?x=1",
        400,
        "invalid_parameter",
        "unknown parameter",
    ),
    // OGC API: collections, ids, bbox, limit, offset, formats.
    ("/ogc/collections/nope", 404, "unknown_collection", "nope"),
    (
        "/ogc/collections/nope/items",
        404,
        "unknown_collection",
        "nope",
    ),
    (
        "/ogc/collections/sites/items/nope",
        404,
        "unknown_feature",
        "nope",
    ),
    (
        "/ogc/collections/subdistricts/items/abc",
        404,
        "unknown_feature",
        "abc",
    ),
    (
        "/ogc/collections/sites/items?bbox=1,2,3",
        400,
        "invalid_parameter",
        "four numbers",
    ),
    (
        "/ogc/collections/sites/items?bbox=a,b,c,d",
        400,
        "invalid_parameter",
        "not a number",
    ),
    (
        "/ogc/collections/sites/items?bbox=124,41,123,42",
        400,
        "invalid_parameter",
        "inverted",
    ),
    (
        "/ogc/collections/sites/items?bbox=123,42,124,41",
        400,
        "invalid_parameter",
        "inverted",
    ),
    (
        "/ogc/collections/sites/items?bbox=-181,0,0,1",
        400,
        "invalid_parameter",
        "longitudes",
    ),
    (
        "/ogc/collections/sites/items?bbox=0,-91,1,1",
        400,
        "invalid_parameter",
        "latitudes",
    ),
    (
        "/ogc/collections/sites/items?bbox=0,0,1,NaN",
        400,
        "invalid_parameter",
        "not a number",
    ),
    (
        "/ogc/collections/sites/items?bbox=0,0,1,inf",
        400,
        "invalid_parameter",
        "not a number",
    ),
    (
        "/ogc/collections/sites/items?limit=0",
        400,
        "invalid_parameter",
        "limit",
    ),
    (
        "/ogc/collections/sites/items?bbox=1,2,x,3,4,5",
        400,
        "invalid_parameter",
        "four numbers",
    ),
    (
        "/ogc/collections/sites/items?datetime=yesterday",
        400,
        "invalid_parameter",
        "datetime",
    ),
    (
        "/ogc/collections/sites/items?datetime=2026-10-02/2026-10-01",
        400,
        "invalid_parameter",
        "before it starts",
    ),
    (
        "/ogc/collections/sites/items?datetime=..",
        400,
        "invalid_parameter",
        "datetime",
    ),
    (
        "/ogc/collections/sites/items?limit=99999999999999999999999",
        400,
        "invalid_parameter",
        "limit",
    ),
    (
        "/ogc/collections/sites/items?limit=-5",
        400,
        "invalid_parameter",
        "limit",
    ),
    (
        "/ogc/collections/sites/items?offset=-1",
        400,
        "invalid_parameter",
        "offset",
    ),
    (
        "/ogc/collections/sites/items?f=html",
        400,
        "invalid_parameter",
        "f must be json",
    ),
    (
        "/ogc/collections/sites/items?bbox-crs=EPSG:3857",
        400,
        "invalid_parameter",
        "bbox-crs",
    ),
    (
        "/ogc/collections/streets/items?status=planned",
        400,
        "invalid_parameter",
        "unknown parameter",
    ),
    (
        "/ogc/collections/sites/items?%ZZ=1",
        400,
        "invalid_parameter",
        "unknown parameter",
    ),
    // Nearest parks: lon/lat ranges, NaN, limits, scope.
    (
        "/api/parks/nearest",
        400,
        "invalid_parameter",
        "lon is required",
    ),
    (
        "/api/parks/nearest?lon=123.4",
        400,
        "invalid_parameter",
        "lat is required",
    ),
    (
        "/api/parks/nearest?lon=180.1&lat=41",
        400,
        "invalid_parameter",
        "lon",
    ),
    (
        "/api/parks/nearest?lon=-181&lat=41",
        400,
        "invalid_parameter",
        "lon",
    ),
    (
        "/api/parks/nearest?lon=123&lat=90.5",
        400,
        "invalid_parameter",
        "lat",
    ),
    (
        "/api/parks/nearest?lon=123&lat=-91",
        400,
        "invalid_parameter",
        "lat",
    ),
    (
        "/api/parks/nearest?lon=NaN&lat=41",
        400,
        "invalid_parameter",
        "lon",
    ),
    (
        "/api/parks/nearest?lon=123&lat=inf",
        400,
        "invalid_parameter",
        "lat",
    ),
    (
        "/api/parks/nearest?lon=east&lat=41",
        400,
        "invalid_parameter",
        "lon must be a number",
    ),
    (
        "/api/parks/nearest?lon=123&lat=41&limit=0",
        400,
        "invalid_parameter",
        "limit",
    ),
    (
        "/api/parks/nearest?lon=123&lat=41&limit=51",
        400,
        "invalid_parameter",
        "limit",
    ),
    (
        "/api/parks/nearest?lon=123&lat=41&limit=1000000000000",
        400,
        "invalid_parameter",
        "limit",
    ),
    (
        "/api/parks/nearest?lon=123&lat=41&include=closed",
        400,
        "invalid_parameter",
        "include",
    ),
    // Sites, stats, unknown routes.
    ("/api/sites/nope", 404, "unknown_site", "nope"),
    (
        "/api/sites/..%2F..%2Fetc",
        400,
        "invalid_parameter",
        "not a site id",
    ),
    (
        "/api/sites/a%20b",
        400,
        "invalid_parameter",
        "not a site id",
    ),
    (
        "/api/stats?late_as_of=yesterday",
        400,
        "invalid_parameter",
        "late_as_of",
    ),
    (
        "/api/stats?late_as_of=2026-02-30",
        400,
        "invalid_parameter",
        "late_as_of",
    ),
    (
        "/api/stats?foo=1",
        400,
        "invalid_parameter",
        "unknown parameter",
    ),
    ("/no/such/route", 404, "unknown_route", "no such route"),
];

#[tokio::test]
async fn every_bad_input_gets_a_clear_4xx() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for &(uri, status, code, word) in CASES {
        let r = get(&router, uri).await;
        assert_eq!(
            r.status.as_u16(),
            status,
            "{uri}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("content-type"), Some("application/json"), "{uri}");
        let body = r.json();
        assert_eq!(body["error"], code, "{uri}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(word),
            "{uri}: message {message:?} should mention {word:?}"
        );
        assert!(
            !message.contains("src/") && !message.contains("panicked"),
            "{uri}: leaks internals"
        );
    }
    // The service is still answering after all of it.
    get(&router, "/health").await.expect(StatusCode::OK);
}

#[tokio::test]
async fn wrong_methods_are_405_json() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for uri in ["/tiles/0/0/0.mvt", "/api/stats", "/ogc/collections"] {
        let r = send(&router, Method::POST, uri, &[], "{}")
            .await
            .expect(StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.json()["error"], "method_not_allowed");
    }
}

#[test]
fn bad_data_fails_at_load_naming_file_and_feature() {
    let dir = fixture_dir();
    let sites = dir.path().join("sites.geojson");
    let text = std::fs::read_to_string(&sites).unwrap();
    std::fs::write(
        &sites,
        text.replacen("\"progress\": 40", "\"progress\": 140", 1),
    )
    .unwrap();
    let err = renewal_map::load::load_dataset(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sites.geojson") && err.contains("park-002") && err.contains("progress"),
        "{err}"
    );

    let dir = fixture_dir();
    std::fs::write(dir.path().join("streets.geojson"), "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[500, 41], [123, 41]]}, \"properties\": {\"name\": \"x\", \"geometry\": \"illustrative\"}}]}").unwrap();
    let err = renewal_map::load::load_dataset(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("streets.geojson") && err.contains("feature #0") && err.contains("WGS84"),
        "{err}"
    );

    let dir = fixture_dir();
    std::fs::write(dir.path().join("plan.json"), "{not json").unwrap();
    let err = renewal_map::load::load_dataset(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("plan.json") && err.contains("JSON"), "{err}");
}

#[tokio::test]
async fn static_files_serve_the_page_and_nothing_private() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let page = get(&router, "/").await.expect(StatusCode::OK);
    assert!(
        String::from_utf8_lossy(&page.body).contains("<html"),
        "the page"
    );
    let long = format!("/{}", "a".repeat(300));
    for uri in [
        long.as_str(),
        "/package.json",
        "/package-lock.json",
        "/node_modules/maplibre-gl/package.json",
        "/missing.js",
    ] {
        let r = get(&router, uri).await.expect(StatusCode::NOT_FOUND);
        assert_eq!(r.json()["error"], "unknown_route", "{uri}");
    }
    for method in [Method::POST, Method::DELETE, Method::PUT] {
        let r = send(&router, method, "/nope", &[], Body::empty())
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(r.json()["error"], "unknown_route");
    }
}

/// Changes one site of the fixture with `edit` and returns the load error.
fn load_error_with(id: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let dir = fixture_dir();
    let path = dir.path().join("sites.geojson");
    let mut fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture");
    let site = fc["features"]
        .as_array_mut()
        .expect("fixture")
        .iter_mut()
        .find(|f| f["id"] == id)
        .expect("fixture");
    edit(site);
    std::fs::write(&path, fc.to_string()).expect("fixture");
    renewal_map::load::load_dataset(dir.path())
        .expect_err("the edit makes the data invalid")
        .to_string()
}

#[test]
fn invalid_geometry_and_inconsistent_sites_fail_at_load() {
    use serde_json::json;
    let err = load_error_with("park-001", |f| {
        f["geometry"]["coordinates"][0]
            .as_array_mut()
            .unwrap()
            .pop();
    });
    assert!(
        err.contains("park-001") && err.contains("not closed"),
        "{err}"
    );
    let err = load_error_with("park-001", |f| {
        f["geometry"]["coordinates"] = json!([[
            [123.41, 41.81],
            [123.411, 41.811],
            [123.411, 41.81],
            [123.41, 41.811],
            [123.41, 41.81]
        ]]);
    });
    assert!(
        err.contains("park-001") && err.contains("self-intersecting"),
        "{err}"
    );
    let err = load_error_with("road-01", |f| {
        f["geometry"]["coordinates"] = json!([[123.401, 41.815], [123.401, 41.815]]);
    });
    assert!(
        err.contains("road-01") && err.contains("two distinct points"),
        "{err}"
    );
    let err = load_error_with("park-001", |f| {
        f["properties"]["subdistrict"] = json!("西街道")
    });
    assert!(
        err.contains("park-001") && err.contains("not the name of code"),
        "{err}"
    );
    let err = load_error_with("park-001", |f| {
        f["properties"]["programme"] = json!("maintenance")
    });
    assert!(err.contains("not in the plan"), "{err}");
}
