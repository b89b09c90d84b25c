//! OGC API – Features: landing page, conformance, collections, items with bbox, paging and
//! property filters, single items, RFC 7946 output; and GDAL's OAPIF driver reading it.

mod common;

use axum::http::StatusCode;
use common::{fixture_dir, get, router};
use serde_json::Value;

#[tokio::test]
async fn landing_conformance_and_collections() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let landing = get(&router, "/ogc").await.expect(StatusCode::OK).json();
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rel} link");
    }
    let conf = get(&router, "/ogc/conformance")
        .await
        .expect(StatusCode::OK)
        .json();
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
    let colls = get(&router, "/ogc/collections")
        .await
        .expect(StatusCode::OK)
        .json();
    let ids: Vec<&str> = colls["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "sites",
            "roads",
            "compounds",
            "parks",
            "plazas",
            "subdistricts",
            "streets",
            "district",
            "landmarks"
        ]
    );
    let parks = get(&router, "/ogc/collections/parks")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        parks["links"][1]["href"],
        "http://test.local/ogc/collections/parks/items"
    );
    assert_eq!(
        parks["extent"]["spatial"]["bbox"][0][0], 123.41,
        "the parks' own extent, not the district's"
    );
    let api = get(&router, "/ogc/api").await.expect(StatusCode::OK).json();
    assert_eq!(api["openapi"], "3.0.3");
    let params = api["paths"]["/collections/sites/items"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let limit = params
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit documented");
    assert_eq!(limit["schema"]["maximum"], 1000);
    assert!(
        params.iter().any(|p| p["name"] == "bbox")
            && params.iter().any(|p| p["name"] == "datetime")
    );
}

fn ids(fc: &Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .expect("features array")
        .iter()
        .map(|f| f["id"].to_string().trim_matches('"').to_owned())
        .collect()
}

#[tokio::test]
async fn items_are_rfc7946_and_filterable() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let r = get(&router, "/ogc/collections/sites/items")
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/geo+json"));
    let fc = r.json();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["numberMatched"], 6);
    assert_eq!(fc["numberReturned"], 6);
    let f = &fc["features"][0];
    assert_eq!(f["type"], "Feature");
    assert_eq!(
        f["geometry"]["type"], "Point",
        "sites are served at their label points"
    );
    let parks = get(&router, "/ogc/collections/parks/items")
        .await
        .expect(StatusCode::OK)
        .json();
    let f = &parks["features"][0];
    assert_eq!(f["geometry"]["type"], "Polygon");
    let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
    assert_eq!(ring.first(), ring.last(), "closed ring");
    assert!(f["properties"]["name"].is_string() && f["properties"]["status"].is_string());

    let parks = get(
        &router,
        "/ogc/collections/parks/items?status=completed,accepted",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(ids(&parks), ["park-001", "park-003"]);
    let kinds = get(&router, "/ogc/collections/sites/items?kind=road,alley")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(ids(&kinds), ["road-01", "alley-001"]);
    let east = get(&router, "/ogc/collections/sites/items?subdistrict=东街道")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        ids(&east),
        ["park-001", "park-003", "compound-001", "alley-001"]
    );
    // OGC: a limit over the maximum is served at the maximum; the 3D bbox form is accepted.
    let capped = get(&router, "/ogc/collections/sites/items?limit=5000")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(capped["numberReturned"], 6);
    let next_limit = capped["links"][0]["href"].as_str().unwrap();
    assert!(next_limit.contains("limit=1000"), "{next_limit}");
    let bbox3d = get(
        &router,
        "/ogc/collections/sites/items?bbox=123.4099,41.8099,0,123.4106,41.8106,100",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(ids(&bbox3d), ["park-001"]);
    // datetime filters on the last update (all fixture sites: 2026-10-01T08:00:00Z).
    for (dt, n) in [
        ("2026-10-01", 6),
        ("2026-10-02/..", 0),
        ("../2026-10-01T08:00:00Z", 6),
        ("2026-09-01/2026-09-30", 0),
    ] {
        let fc = get(
            &router,
            &format!("/ogc/collections/sites/items?datetime={dt}"),
        )
        .await
        .expect(StatusCode::OK)
        .json();
        assert_eq!(fc["numberMatched"], n, "datetime={dt}");
    }
    let late = get(&router, "/ogc/collections/sites/items?late=true")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(ids(&late), ["park-002", "compound-001", "road-01"]);
}

#[tokio::test]
async fn bbox_selects_by_geometry_not_envelope() {
    let dir = fixture_dir();
    let router = router(dir.path());
    // A box around park-001 only.
    let fc = get(
        &router,
        "/ogc/collections/sites/items?bbox=123.4099,41.8099,123.4106,41.8106",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(ids(&fc), ["park-001"]);
    // A box inside the compound's courtyard hole touches no site geometry... except none.
    let hole = get(
        &router,
        "/ogc/collections/compounds/items?bbox=123.4062,41.8262,123.4068,41.8268",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(
        fc_len(&hole),
        0,
        "the courtyard is not part of the compound"
    );
    // The road is crossed by a thin box far from its end points.
    let road = get(
        &router,
        "/ogc/collections/roads/items?bbox=123.42,41.81,123.421,41.82",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(ids(&road), ["road-01"]);
    let subs = get(
        &router,
        "/ogc/collections/subdistricts/items?bbox=123.43,41.81,123.431,41.811",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(subs["features"][0]["properties"]["name"], "东街道");
}

fn fc_len(fc: &Value) -> usize {
    fc["features"].as_array().expect("features array").len()
}

#[tokio::test]
async fn paging_follows_next_links_to_the_end() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let mut url = "/ogc/collections/sites/items?limit=4".to_owned();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = get(&router, &url).await.expect(StatusCode::OK).json();
        assert_eq!(page["numberMatched"], 6);
        seen.extend(ids(&page));
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next");
        match next {
            Some(l) => {
                url = l["href"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("http://test.local")
                    .to_owned()
            }
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "park-001",
            "park-002",
            "park-003",
            "compound-001",
            "road-01",
            "alley-001"
        ]
    );
    let filtered = get(
        &router,
        "/ogc/collections/sites/items?limit=1&kind=pocket_park",
    )
    .await
    .expect(StatusCode::OK)
    .json();
    let next = filtered["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap();
    assert!(
        next["href"].as_str().unwrap().contains("kind=pocket_park"),
        "next keeps the filter"
    );
}

#[tokio::test]
async fn single_items_and_sites_api() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let park = get(&router, "/ogc/collections/parks/items/park-003")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(park["id"], "park-003");
    assert_eq!(park["properties"]["open"], true);
    let area = park["properties"]["area_m2"].as_f64().unwrap();
    assert!(
        (2_500.0..3_500.0).contains(&area),
        "0.0006° square at 41.8°N is about 3,100 m²: {area}"
    );
    get(&router, "/ogc/collections/compounds/items/park-003")
        .await
        .expect(StatusCode::NOT_FOUND);
    let sub = get(&router, "/ogc/collections/subdistricts/items/1")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(sub["properties"]["code"], "999001");
    assert_eq!(sub["properties"]["name_en"], "West");
    let site = get(&router, "/api/sites/compound-001")
        .await
        .expect(StatusCode::OK);
    assert_eq!(site.header("etag"), Some("\"1\""));
    let site = site.json();
    for field in [
        "name",
        "kind",
        "subdistrict",
        "status",
        "progress",
        "investment_wan",
        "planned_start",
        "planned_finish",
        "updated_at",
        "households",
        "built_year",
        "community",
    ] {
        assert!(!site["properties"][field].is_null(), "{field}");
    }
}

/// GDAL's OGC API – Features driver (Debian's gdal-bin; `scripts/test` installs it) reads the
/// collections and every feature of the default data set over a real socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_ogc_api() {
    let data = common::default_data();
    let total_sites = common::snapshot(&data).sites.len();
    let addr = common::serve(router(&data)).await;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ogrinfo")
            .args(["-ro", "-al", "-so", "-oo", "PAGE_SIZE=100"])
            .arg(format!("OAPIF:http://{addr}/ogc"))
            .arg("sites")
            .output()
    })
    .await
    .unwrap()
    .expect("ogrinfo not found: install Debian's gdal-bin (scripts/test does)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ogrinfo failed: {}\n{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("Feature Count: {total_sites}")),
        "{text}"
    );
    assert!(text.contains("status: String"), "{text}");
    let listing = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ogrinfo")
            .args(["-ro", "-q"])
            .arg(format!("OAPIF:http://{addr}/ogc"))
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let layers = String::from_utf8_lossy(&listing.stdout);
    for c in ["sites", "parks", "compounds", "subdistricts"] {
        assert!(layers.contains(c), "{c} listed: {layers}");
    }
}
