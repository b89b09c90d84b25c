//! OGC API – Features beyond Core: one geometry type per collection, per-collection extents,
//! queryables and schemas, `datetime` per RFC 3339, and CQL2 filters (Part 3) on items and
//! tiles, each result checked against the same condition evaluated here, independently.

mod common;

use axum::http::StatusCode;
use common::{fixture_dir, get, router};
use serde_json::Value;

fn ids(fc: &Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .expect("features array")
        .iter()
        .map(|f| {
            f["id"]
                .as_str()
                .map_or_else(|| f["id"].to_string(), str::to_owned)
        })
        .collect()
}

/// Percent-encodes a query value.
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn sites_are_label_points_with_every_field_and_kinds_keep_their_geometry() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let sites = get(&router, "/ogc/collections/sites/items")
        .await
        .expect(200)
        .json();
    let feats = sites["features"].as_array().unwrap();
    assert_eq!(feats.len(), 6);
    let first_keys: Vec<&String> = feats[0]["properties"].as_object().unwrap().keys().collect();
    for f in feats {
        assert_eq!(f["geometry"]["type"], "Point", "{}", f["id"]);
        let keys: Vec<&String> = f["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, first_keys, "same fields on every site feature");
    }
    let road = feats.iter().find(|f| f["id"] == "road-01").unwrap();
    assert!(
        road["properties"]["households"].is_null() && road["properties"]["length_m"].is_number()
    );
    let park = feats.iter().find(|f| f["id"] == "park-001").unwrap();
    let [lng, lat] = [
        park["geometry"]["coordinates"][0].as_f64().unwrap(),
        park["geometry"]["coordinates"][1].as_f64().unwrap(),
    ];
    assert!(
        (123.410..=123.4105).contains(&lng) && (41.810..=41.8105).contains(&lat),
        "inside the park square"
    );
    for (c, ty) in [
        ("parks", "Polygon"),
        ("roads", "LineString"),
        ("compounds", "Polygon"),
        ("landmarks", "Point"),
    ] {
        let fc = get(&router, &format!("/ogc/collections/{c}/items"))
            .await
            .expect(200)
            .json();
        for f in fc["features"].as_array().unwrap() {
            assert_eq!(f["geometry"]["type"], ty, "{c}");
        }
    }
    let one = get(&router, "/ogc/collections/sites/items/compound-001")
        .await
        .expect(200)
        .json();
    assert_eq!(one["geometry"]["type"], "Point");
    assert_eq!(one["properties"]["households"], 420);
}

#[tokio::test]
async fn each_collection_has_its_own_extent_and_sites_a_temporal_one() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let parks = get(&router, "/ogc/collections/parks")
        .await
        .expect(200)
        .json();
    let bbox = &parks["extent"]["spatial"]["bbox"][0];
    // park-001 starts at 123.410, 41.810; park-003 ends at 123.4361, 41.8111; park-002 at 41.8304.
    assert_eq!(bbox[0], 123.41);
    assert_eq!(bbox[1], 41.81);
    assert_eq!(bbox[2], 123.4361);
    assert_eq!(bbox[3], 41.8304);
    assert_eq!(
        parks["extent"]["temporal"]["interval"][0],
        serde_json::json!(["2026-10-01T08:00:00Z", "2026-10-01T08:00:00Z"])
    );
    assert_eq!(parks["datetimeProperty"], "updated_at");
    let streets = get(&router, "/ogc/collections/streets")
        .await
        .expect(200)
        .json();
    assert!(
        streets["extent"]["temporal"].is_null(),
        "no dates in the street network"
    );
    let rels: Vec<&str> = parks["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in [
        "items",
        "describedby",
        "http://www.opengis.net/def/rel/ogc/1.0/queryables",
        "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
    ] {
        assert!(rels.contains(&rel), "{rel} in {rels:?}");
    }
}

#[tokio::test]
async fn queryables_and_schema_are_typed_json_schemas() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let q = get(&router, "/ogc/collections/sites/queryables")
        .await
        .expect(200);
    assert_eq!(q.header("content-type"), Some("application/schema+json"));
    let q = q.json();
    assert_eq!(q["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(
        q["$id"],
        "http://test.local/ogc/collections/sites/queryables"
    );
    let p = &q["properties"];
    assert_eq!(p["planned_finish"]["format"], "date");
    assert_eq!(p["late"]["type"], "boolean");
    assert_eq!(p["progress"]["type"], "integer");
    assert_eq!(p["status"]["enum"][0], "planned");
    assert_eq!(p["geometry"]["format"], "geometry-point");
    let roads = get(&router, "/ogc/collections/roads/queryables")
        .await
        .expect(200)
        .json();
    assert!(
        roads["properties"]["area_m2"].is_null()
            && roads["properties"]["length_m"]["type"] == "number"
    );
    let schema = get(&router, "/ogc/collections/parks/schema")
        .await
        .expect(200)
        .json();
    assert_eq!(
        schema["properties"]["properties"]["properties"]["open"]["type"],
        "boolean"
    );
    get(&router, "/ogc/collections/nope/queryables")
        .await
        .expect(404);
}

#[tokio::test]
async fn datetime_takes_offsets_fractions_and_open_ends() {
    let dir = fixture_dir();
    let router = router(dir.path());
    // Every fixture site was last updated at 2026-10-01T08:00:00Z.
    for (dt, n) in [
        ("2026-10-01T16:00:00+08:00", 6),
        ("2026-10-01T08:00:00.000Z", 6),
        ("2026-10-01T08:00:00.5Z/..", 0),
        ("2026-10-01T16:00:01+08:00/", 0),
        ("/2026-10-01T04:00:00-04:00", 6),
        ("2026-09-30/2026-10-01", 6),
    ] {
        let fc = get(
            &router,
            &format!("/ogc/collections/sites/items?datetime={}", enc(dt)),
        )
        .await
        .expect(200)
        .json();
        assert_eq!(fc["numberMatched"], n, "datetime={dt}");
    }
    for bad in [
        "2026-10-01T08:00:00",
        "../..",
        "2026-10-02/2026-10-01",
        "yesterday",
    ] {
        let r = get(
            &router,
            &format!("/ogc/collections/sites/items?datetime={}", enc(bad)),
        )
        .await
        .expect(400)
        .json();
        assert!(
            r["message"].as_str().unwrap().contains("datetime"),
            "{bad}: {r}"
        );
    }
    let r = get(
        &router,
        "/ogc/collections/streets/items?datetime=2026-10-01",
    )
    .await
    .expect(400)
    .json();
    assert!(r["message"].as_str().unwrap().contains("datetime"), "{r}");
}

/// Every site feature of the `sites` collection, for the independent evaluations.
async fn all_sites(router: &axum::Router) -> Vec<Value> {
    get(router, "/ogc/collections/sites/items?limit=1000")
        .await
        .expect(200)
        .json()["features"]
        .as_array()
        .expect("features array")
        .clone()
}

/// A condition on a site feature, evaluated here without the server.
type Condition = Box<dyn Fn(&Value) -> bool>;

#[tokio::test]
async fn cql2_results_equal_an_independent_evaluation() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let sites = all_sites(&router).await;
    fn p(f: &Value, k: &str) -> Value {
        f["properties"][k].clone()
    }
    fn s(f: &Value, k: &str) -> String {
        p(f, k).as_str().unwrap_or("").to_owned()
    }
    let cases: Vec<(&str, Condition)> = vec![
        (
            "status = 'under_construction'",
            Box::new(|f| s(f, "status") == "under_construction"),
        ),
        (
            "progress >= 40 AND kind <> 'road'",
            Box::new(|f| p(f, "progress").as_i64().unwrap() >= 40 && s(f, "kind") != "road"),
        ),
        (
            "status IN ('planned', 'design') OR late",
            Box::new(|f| {
                ["planned", "design"].contains(&s(f, "status").as_str()) || p(f, "late") == true
            }),
        ),
        (
            "NOT (progress BETWEEN 1 AND 99)",
            Box::new(|f| !(1..=99).contains(&p(f, "progress").as_i64().unwrap())),
        ),
        (
            "name LIKE '测试park%'",
            Box::new(|f| s(f, "name").starts_with("测试park")),
        ),
        (
            "households IS NULL",
            Box::new(|f| p(f, "households").is_null()),
        ),
        (
            "planned_finish > DATE('2026-12-31')",
            Box::new(|f| s(f, "planned_finish").as_str() > "2026-12-31"),
        ),
        (
            "planned_finish = '2026-06-30T'",
            Box::new(|f| s(f, "planned_finish") == "2026-06-30"),
        ),
        ("late = 1", Box::new(|f| p(f, "late") == true)),
        (
            "S_INTERSECTS(geometry, BBOX(123.40, 41.80, 123.42, 41.84))",
            Box::new(|f| {
                let lng = f["geometry"]["coordinates"][0].as_f64().unwrap();
                (123.40..=123.42).contains(&lng)
            }),
        ),
        (
            "T_AFTER(updated_at, TIMESTAMP('2026-09-30T23:59:59Z'))",
            Box::new(|f| s(f, "updated_at").as_str() > "2026-09-30T23:59:59Z"),
        ),
    ];
    for (filter, want) in cases {
        let expected: Vec<String> = sites
            .iter()
            .filter(|f| want(f))
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        let got = get(
            &router,
            &format!("/ogc/collections/sites/items?filter={}", enc(filter)),
        )
        .await
        .expect(200)
        .json();
        assert_eq!(ids(&got), expected, "{filter}");
        assert_eq!(got["numberMatched"], expected.len(), "{filter}");
    }
    // A filter that matches something, so the checks above are not all vacuous.
    let some = get(
        &router,
        &format!("/ogc/collections/sites/items?filter={}", enc("late = 1")),
    )
    .await
    .expect(200)
    .json();
    assert_eq!(ids(&some), ["park-002", "compound-001", "road-01"]);
    // cql2-json, and paging links that keep the filter.
    let json = r#"{"op":"and","args":[{"op":"=","args":[{"property":"kind"},"pocket_park"]},{"op":">","args":[{"property":"progress"},50]}]}"#;
    let got = get(
        &router,
        &format!(
            "/ogc/collections/sites/items?filter-lang=cql2-json&limit=1&filter={}",
            enc(json)
        ),
    )
    .await
    .expect(200)
    .json();
    assert_eq!(got["numberMatched"], 2);
    let next = got["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap();
    assert!(
        next["href"]
            .as_str()
            .unwrap()
            .contains("filter-lang=cql2-json"),
        "{next}"
    );
}

#[tokio::test]
async fn bad_filters_are_400s_that_name_the_problem() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for (q, needle) in [
        ("filter=colour%20%3D%201", "\"colour\""),
        ("filter=status%20%3D", "cql2-text"),
        (
            "filter=%7B%22op%22%3A1%7D&filter-lang=cql2-json",
            "cql2-json",
        ),
        ("filter=late&filter-lang=sql", "filter-lang"),
        ("filter-lang=cql2-text", "need a filter"),
        ("filter=late&filter-crs=EPSG%3A4326", "filter-crs"),
    ] {
        let r = get(&router, &format!("/ogc/collections/parks/items?{q}"))
            .await
            .expect(400)
            .json();
        assert!(r["message"].as_str().unwrap().contains(needle), "{q}: {r}");
        assert!(r["error"].is_string());
    }
    // A base-map collection has its own queryables: no site fields.
    let r = get(
        &router,
        "/ogc/collections/streets/items?filter=status%3D%27planned%27",
    )
    .await
    .expect(400)
    .json();
    assert!(r["message"].as_str().unwrap().contains("status"), "{r}");
    let ok = get(
        &router,
        "/ogc/collections/streets/items?filter=class%3D%27main%27",
    )
    .await
    .expect(200)
    .json();
    assert_eq!(ok["numberMatched"], 2);
}

#[tokio::test]
async fn tiles_take_a_cql2_filter_over_the_sites() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let all = get(&router, "/tiles/11/1726/761.mvt").await;
    let none = get(
        &router,
        &format!("/tiles/11/1726/761.mvt?filter={}", enc("progress > 1000")),
    )
    .await;
    // The filter leaves the base layers but takes every site out.
    assert_ne!(all.body, none.body);
    let bad = get(
        &router,
        &format!("/tiles/11/1726/761.mvt?filter={}", enc("nope = 1")),
    )
    .await
    .expect(StatusCode::BAD_REQUEST)
    .json();
    assert!(
        bad["message"].as_str().unwrap().contains("\"nope\""),
        "{bad}"
    );
}

/// Items repeat their paging and queryables links in a `Link` header (RFC 8288; Part 3 asks
/// a filterable resource to name its queryables there), targets with commas escaped.
#[tokio::test]
async fn items_carry_paging_and_queryables_links_in_the_link_header() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let reply = get(
        &router,
        "/ogc/collections/sites/items?limit=2&bbox=120,40,125,43",
    )
    .await
    .expect(200);
    let header = reply.headers["link"].to_str().expect("ASCII Link header");
    let links: Vec<&str> = header.split(", ").collect();
    assert_eq!(links.len(), 3, "self, queryables, next: {header}");
    assert!(
        links[0].ends_with("rel=\"self\"; type=\"application/geo+json\""),
        "{header}"
    );
    assert!(links[0].contains("bbox=120%2C40%2C125%2C43"), "{header}");
    assert!(
        links[1].starts_with("<http://test.local/ogc/collections/sites/queryables>; rel=\"http://www.opengis.net/def/rel/ogc/1.0/queryables\""),
        "{header}"
    );
    assert!(
        links[2].contains("offset=2") && links[2].contains("rel=\"next\""),
        "{header}"
    );
    // The body has the same links, with their titles.
    let body = reply.json();
    let rels: Vec<&str> = body["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert!(
        rels.contains(&"http://www.opengis.net/def/rel/ogc/1.0/queryables"),
        "{rels:?}"
    );
}
