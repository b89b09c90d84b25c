//! The living map (issue 7): planners create, replace, merge-patch, retire and restore sites
//! through OGC API – Features Part 4; every validation case; the auth matrix of the new
//! routes; concurrent writers on one site; the change events over SSE, exactly once across a
//! reconnect.

mod common;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use common::store::{Fixture, SUB_A, router_of, token, write_feature};
use common::{Reply, get, polygon_square, send};
use http_body_util::BodyExt;
use renewal_map::model::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

const PARKS: &str = "/ogc/collections/parks/items";

fn park(name: &str, lng: f64, lat: f64) -> Value {
    json!({"type": "Feature",
        "geometry": polygon_square(lng, lat, 0.0005),
        "properties": {"name": name, "kind": "pocket_park", "status": "planned"}})
}

async fn post(app: &Router, token: &str, body: &Value) -> Reply {
    write_feature(
        app,
        Method::POST,
        PARKS,
        Some(token),
        None,
        "application/geo+json",
        body,
    )
    .await
}

/// Ids of the parks the items endpoint finds in a bbox.
async fn parks_in(app: &Router, bbox: &str) -> Vec<String> {
    let r = get(app, &format!("{PARKS}?bbox={bbox}")).await.expect(200);
    r.json()["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn park_count(app: &Router) -> u64 {
    let j = get(app, "/api/stats").await.expect(200).json();
    let kinds = j["kinds"].as_array().expect("kinds");
    let park = kinds
        .iter()
        .find(|k| k["kind"] == "pocket_park")
        .unwrap_or_else(|| panic!("no pocket_park in {j}"));
    park["sites"]
        .as_u64()
        .unwrap_or_else(|| panic!("no sites in {park}"))
}

#[tokio::test]
async fn a_planner_creates_moves_patches_retires_and_restores_a_park() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let before = park_count(&app).await;

    let r = post(&app, &planner, &park("新公园", 123.410, 41.812))
        .await
        .expect(201);
    assert_eq!(r.etag().as_deref(), Some("\"1\""));
    let j = r.json();
    let id = j["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("pocket-park-"), "{id}");
    assert_eq!(r.header("location"), Some(format!("{PARKS}/{id}").as_str()));
    assert_eq!(j["properties"]["subdistrict_code"], SUB_A.0);
    assert_eq!(park_count(&app).await, before + 1);
    let old_box = "123.4095,41.8115,123.4110,41.8130";
    let new_box = "123.4145,41.8245,123.4160,41.8260";
    assert_eq!(parks_in(&app, old_box).await, vec![id.clone()]);
    let near = get(
        &app,
        "/api/parks/nearest?lon=123.41025&lat=41.81225&include=all",
    )
    .await
    .expect(200)
    .json();
    assert_eq!(near["features"][0]["id"], id.as_str(), "{near}");

    // Replace: the park moves; the old place is empty, the new one holds it.
    let item = format!("{PARKS}/{id}");
    let r = write_feature(
        &app,
        Method::PUT,
        &item,
        Some(&planner),
        Some("\"1\""),
        "application/geo+json",
        &park("新公园", 123.4150, 41.8250),
    )
    .await
    .expect(200);
    assert_eq!(r.etag().as_deref(), Some("\"2\""));
    assert!(parks_in(&app, old_box).await.is_empty());
    assert_eq!(parks_in(&app, new_box).await, vec![id.clone()]);

    // Merge patch: only the name changes; the geometry stays where PUT put it.
    let r = write_feature(
        &app,
        Method::PATCH,
        &item,
        Some(&planner),
        Some("\"2\""),
        "application/merge-patch+json",
        &json!({"properties": {"name": "改名公园", "note": null}}),
    )
    .await
    .expect(200);
    assert_eq!(r.etag().as_deref(), Some("\"3\""));
    assert_eq!(r.json()["properties"]["name"], "改名公园");
    assert_eq!(parks_in(&app, new_box).await, vec![id.clone()]);

    // Retire: gone from items, nearest and stats; history and versions stay readable.
    write_feature(
        &app,
        Method::DELETE,
        &item,
        Some(&planner),
        Some("\"3\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(204);
    get(&app, &item).await.expect(404);
    assert!(parks_in(&app, new_box).await.is_empty());
    assert_eq!(park_count(&app).await, before);
    let hist = get(&app, &format!("/api/sites/{id}/history"))
        .await
        .expect(200)
        .json();
    let kinds: Vec<&str> = hist["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["change"].as_str().expect("change"))
        .collect();
    assert_eq!(
        kinds,
        ["created", "updated", "updated", "retired"],
        "{hist}"
    );
    assert_eq!(hist["changes"][1]["geometry_changed"], true);
    assert_eq!(hist["changes"][2]["geometry_changed"], false);
    let v1 = get(&app, &format!("/api/sites/{id}/versions/1"))
        .await
        .expect(200)
        .json();
    assert_eq!(v1["properties"]["name"], "新公园");
    assert_eq!(v1["geometry"]["coordinates"][0][0][0], 123.41);
    // A retired site takes no edits until it is restored.
    write_feature(
        &app,
        Method::PUT,
        &item,
        Some(&planner),
        Some("\"4\""),
        "application/geo+json",
        &park("x", 123.415, 41.825),
    )
    .await
    .expect(404);

    let r = write_feature(
        &app,
        Method::POST,
        &format!("{item}/restore"),
        Some(&planner),
        Some("\"4\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(200);
    assert_eq!(r.etag().as_deref(), Some("\"5\""));
    assert_eq!(parks_in(&app, new_box).await, vec![id.clone()]);
    assert_eq!(park_count(&app).await, before + 1);
    write_feature(
        &app,
        Method::POST,
        &format!("{item}/restore"),
        Some(&planner),
        Some("\"5\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(409);

    // A client id is accepted when free, refused when taken (also by a retired site).
    let mut named = park("命名公园", 123.405, 41.822);
    named["id"] = json!("park-new-1");
    let r = post(&app, &planner, &named).await.expect(201);
    assert_eq!(r.json()["id"], "park-new-1");
    post(&app, &planner, &named).await.expect(409);
    named["id"] = json!("park-001");
    post(&app, &planner, &named).await.expect(409);

    // A new process reads every site, geometry and version back from the store.
    drop((state, app));
    let (state, _store) = fx.open();
    let app = router_of(&state);
    let again = get(&app, &format!("/api/sites/{id}")).await.expect(200);
    assert_eq!(again.etag().as_deref(), Some("\"5\""));
    assert_eq!(again.json()["properties"]["name"], "改名公园");
    assert_eq!(parks_in(&app, new_box).await, vec![id.clone()]);
}

#[tokio::test]
async fn every_invalid_feature_is_refused_and_nothing_is_written() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let ok = park("好公园", 123.410, 41.812);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = ok.clone();
        f(&mut v);
        v
    };
    let many: Vec<Value> = (0..=2_000)
        .map(|i| {
            let t = i as f64 / 2_001.0 * std::f64::consts::TAU;
            let r5 = |x: f64| (x * 1e5).round() / 1e5;
            json!([r5(123.41 + 0.0003 * t.cos()), r5(41.815 + 0.0003 * t.sin())])
        })
        .chain([json!([123.41 + 0.0003, 41.815])])
        .collect();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "line for a park",
            with(
                &|v| v["geometry"] = json!({"type": "LineString", "coordinates": [[123.41, 41.812], [123.411, 41.813]]}),
            ),
            422,
            "wrong_geometry_type",
        ),
        (
            "point",
            with(&|v| v["geometry"] = json!({"type": "Point", "coordinates": [123.41, 41.812]})),
            422,
            "wrong_geometry_type",
        ),
        (
            "bow tie",
            with(
                &|v| v["geometry"] = json!({"type": "Polygon", "coordinates": [[[123.410, 41.812], [123.411, 41.813], [123.411, 41.812], [123.410, 41.813], [123.410, 41.812]]]}),
            ),
            422,
            "invalid_geometry",
        ),
        (
            "open ring",
            with(
                &|v| v["geometry"] = json!({"type": "Polygon", "coordinates": [[[123.410, 41.812], [123.411, 41.812], [123.411, 41.813], [123.410, 41.813]]]}),
            ),
            422,
            "invalid_geometry",
        ),
        (
            "too many vertices",
            with(&|v| v["geometry"] = json!({"type": "Polygon", "coordinates": [many.clone()]})),
            422,
            "too_many_vertices",
        ),
        (
            "outside the district",
            park("远", 123.50, 41.90),
            422,
            "outside_district",
        ),
        (
            "lat/lon swapped",
            with(&|v| v["geometry"] = polygon_square(41.812, 123.41, 0.0005)),
            422,
            "invalid_geometry",
        ),
        (
            "park too small",
            with(&|v| v["geometry"] = polygon_square(123.410, 41.812, 0.0001)),
            422,
            "park_area_out_of_range",
        ),
        (
            "park too large",
            with(&|v| v["geometry"] = polygon_square(123.401, 41.811, 0.009)),
            422,
            "park_area_out_of_range",
        ),
        (
            "no name",
            with(&|v| {
                v["properties"].as_object_mut().expect("p").remove("name");
            }),
            400,
            "missing_property",
        ),
        (
            "no status",
            with(&|v| {
                v["properties"].as_object_mut().expect("p").remove("status");
            }),
            400,
            "missing_property",
        ),
        (
            "unknown status",
            with(&|v| v["properties"]["status"] = json!("finished")),
            400,
            "invalid_property",
        ),
        (
            "kind of another collection",
            with(&|v| v["properties"]["kind"] = json!("plaza")),
            422,
            "kind_not_in_collection",
        ),
        (
            "unknown property",
            with(&|v| v["properties"]["colour"] = json!("green")),
            400,
            "unknown_property",
        ),
        (
            "other crs",
            with(&|v| {
                v["crs"] =
                    json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}})
            }),
            400,
            "unsupported_crs",
        ),
        (
            "not a feature",
            json!({"type": "FeatureCollection", "features": []}),
            400,
            "not_a_feature",
        ),
        (
            "done without 100 %",
            with(&|v| {
                v["properties"]["status"] = json!("completed");
                v["properties"]["progress"] = json!(50);
            }),
            422,
            "progress_out_of_range",
        ),
        (
            "unknown sub-district",
            with(&|v| v["properties"]["subdistrict_code"] = json!("000")),
            422,
            "unknown_subdistrict",
        ),
        (
            "bad id",
            with(&|v| v["id"] = json!("a b")),
            400,
            "invalid_id",
        ),
    ];
    for (what, body, status, code) in &cases {
        let r = post(&app, &planner, body).await;
        assert_eq!(
            r.status.as_u16(),
            *status,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json()["error"], *code, "{what}");
    }
    let r = send(
        &app,
        Method::POST,
        PARKS,
        &[
            ("content-type", "application/geo+json"),
            ("authorization", &format!("Bearer {planner}")),
        ],
        "{not json",
    )
    .await;
    assert_eq!(r.expect(400).json()["error"], "invalid_json");
    let r = write_feature(
        &app,
        Method::POST,
        PARKS,
        Some(&planner),
        None,
        "text/plain",
        &ok,
    )
    .await;
    assert_eq!(r.expect(415).json()["error"], "unsupported_media_type");
    let r = send(
        &app,
        Method::POST,
        PARKS,
        &[
            ("content-type", "application/geo+json"),
            (
                "content-crs",
                "<http://www.opengis.net/def/crs/EPSG/0/3857>",
            ),
            ("authorization", &format!("Bearer {planner}")),
        ],
        ok.to_string(),
    )
    .await;
    assert_eq!(r.expect(400).json()["error"], "unsupported_crs");
    // Roads need lines.
    let road = json!({"type": "Feature", "geometry": polygon_square(123.41, 41.812, 0.0005),
        "properties": {"name": "路", "kind": "road", "status": "planned"}});
    let r = write_feature(
        &app,
        Method::POST,
        "/ogc/collections/roads/items",
        Some(&planner),
        None,
        "application/geo+json",
        &road,
    )
    .await;
    assert_eq!(r.expect(422).json()["error"], "wrong_geometry_type");
    // Merge patch needs its media type.
    let r = write_feature(
        &app,
        Method::PATCH,
        &format!("{PARKS}/park-001"),
        Some(&planner),
        Some("\"1\""),
        "application/json",
        &json!({}),
    )
    .await;
    r.expect(415);
    assert_eq!(
        store.change_count(None).expect("count"),
        0,
        "nothing was written"
    );
    // The valid one passes.
    post(&app, &planner, &ok).await.expect(201);
}

#[tokio::test]
async fn auth_matrix_and_optimistic_locking_of_the_write_routes() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let field = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);
    let admin = token(&store, "Admin", Role::Admin, &[], &[]);
    let item = format!("{PARKS}/park-001");
    let body = park("公园", 123.4050, 41.8150);
    let geo = "application/geo+json";
    for (who, t, want) in [
        ("nobody", None, 401),
        ("field", Some(field.as_str()), 403),
        ("admin", Some(admin.as_str()), 403),
    ] {
        for (method, uri, media) in [
            (Method::POST, PARKS.to_owned(), geo),
            (Method::PUT, item.clone(), geo),
            (Method::PATCH, item.clone(), "application/merge-patch+json"),
            (Method::DELETE, item.clone(), geo),
            (Method::POST, format!("{item}/restore"), geo),
        ] {
            let r = write_feature(&app, method.clone(), &uri, t, Some("\"1\""), media, &body).await;
            assert_eq!(
                r.status.as_u16(),
                want,
                "{who} {method} {uri}: {}",
                String::from_utf8_lossy(&r.body)
            );
        }
    }
    // Base collections and the all-sites collection are not writable.
    write_feature(
        &app,
        Method::POST,
        "/ogc/collections/streets/items",
        Some(&planner),
        None,
        geo,
        &body,
    )
    .await
    .expect(405);
    write_feature(
        &app,
        Method::POST,
        "/ogc/collections/nowhere/items",
        Some(&planner),
        None,
        geo,
        &body,
    )
    .await
    .expect(404);
    // If-Match: missing 428, stale 412 with the current ETag and nothing changed.
    write_feature(&app, Method::PUT, &item, Some(&planner), None, geo, &body)
        .await
        .expect(428);
    write_feature(
        &app,
        Method::DELETE,
        &item,
        Some(&planner),
        None,
        geo,
        &json!(null),
    )
    .await
    .expect(428);
    let r = write_feature(
        &app,
        Method::PUT,
        &item,
        Some(&planner),
        Some("\"7\""),
        geo,
        &body,
    )
    .await
    .expect(412);
    assert_eq!(r.etag().as_deref(), Some("\"1\""));
    assert_eq!(r.json()["current"]["properties"]["version"], 1);
    write_feature(
        &app,
        Method::PUT,
        "/ogc/collections/roads/items/park-001",
        Some(&planner),
        Some("\"1\""),
        geo,
        &body,
    )
    .await
    .expect(404);
    assert_eq!(store.change_count(None).expect("count"), 0);
    write_feature(
        &app,
        Method::PUT,
        &item,
        Some(&planner),
        Some("\"1\""),
        geo,
        &body,
    )
    .await
    .expect(200);
    // The field team's status route keeps working on the replaced site.
    let r = common::store::patch(
        &app,
        "park-001",
        Some(&field),
        Some(2),
        r#"{"status":"design"}"#,
    )
    .await;
    r.expect(200);
    // Part 4 conformance and the write operations are declared.
    let conf = get(&app, "/ogc/conformance").await.expect(200).json();
    let classes = conf["conformsTo"].to_string();
    for c in [
        "create-replace-delete",
        "conf/update",
        "optimistic-locking-etags",
    ] {
        assert!(classes.contains(c), "{c} missing from {classes}");
    }
    let api = get(&app, "/ogc/api").await.expect(200).json();
    for c in ["roads", "compounds", "parks", "plazas"] {
        let items = &api["paths"][format!("/collections/{c}/items/{{featureId}}")];
        for m in ["get", "put", "patch", "delete"] {
            assert!(items[m].is_object(), "{c}: {m} missing");
        }
        assert!(api["paths"][format!("/collections/{c}/items")]["post"].is_object());
        assert!(
            api["paths"][format!("/collections/{c}/items/{{featureId}}/restore")]["post"]
                .is_object()
        );
    }
    // Read-only collections offer no writes.
    assert!(api["paths"]["/collections/streets/items"]["post"].is_null());
}

#[tokio::test]
async fn concurrent_replacements_of_one_site_lose_no_update() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let item = format!("{PARKS}/park-001");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (app, planner, item) = (app.clone(), planner.clone(), item.clone());
            tokio::spawn(async move {
                let body = park(&format!("公园{i}"), 123.4050, 41.8150);
                write_feature(
                    &app,
                    Method::PUT,
                    &item,
                    Some(&planner),
                    Some("\"1\""),
                    "application/geo+json",
                    &body,
                )
                .await
            })
        })
        .collect();
    let mut won = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.expect("task");
        match r.status.as_u16() {
            200 => won.push(i),
            412 => assert_eq!(r.etag().as_deref(), Some("\"2\"")),
            s => panic!("status {s}: {}", String::from_utf8_lossy(&r.body)),
        }
    }
    assert_eq!(won.len(), 1, "exactly one writer wins");
    let j = get(&app, &item).await.expect(200).json();
    assert_eq!(j["properties"]["name"], format!("公园{}", won[0]));
    assert_eq!(store.change_count(Some("park-001")).expect("count"), 1);
}

/// Reads SSE frames from `body` until `n` events arrived; returns (id, data) pairs.
async fn read_events(body: &mut Body, n: usize) -> Vec<(i64, Value)> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .expect("stream open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            text.push_str(std::str::from_utf8(&data).expect("utf-8"));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let mut id = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().parse::<i64>().expect("numeric id"));
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = Some(serde_json::from_str::<Value>(v.trim()).expect("json data"));
                }
            }
            if let (Some(id), Some(data)) = (id, data) {
                events.push((id, data));
            }
        }
    }
    events
}

async fn open_events(app: &Router, last_event_id: Option<i64>) -> Body {
    let mut req = Request::builder().uri("/api/events");
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id.to_string());
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    resp.into_body()
}

#[tokio::test]
async fn events_arrive_once_each_across_a_reconnect() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let mut stream = open_events(&app, None).await;

    let created = post(&app, &planner, &park("事件公园", 123.410, 41.812))
        .await
        .expect(201)
        .json();
    let id = created["id"].as_str().expect("id").to_owned();
    common::store::patch(
        &app,
        "park-001",
        Some(&planner),
        Some(1),
        r#"{"status":"design"}"#,
    )
    .await
    .expect(200);
    let first = read_events(&mut stream, 2).await;
    assert_eq!(first[0].1["site_id"], id.as_str());
    assert_eq!(first[0].1["change"], "created");
    assert_eq!(first[0].1["collection"], "parks");
    assert_eq!(first[1].1["site_id"], "park-001");
    assert_eq!(first[1].1["change"], "updated");
    assert_eq!(first[0].1["seq"], first[0].0);
    let bbox: Vec<f64> = serde_json::from_value(first[0].1["bbox"].clone()).expect("bbox");
    assert!(
        (bbox[0] - 123.410).abs() < 1e-9 && (bbox[3] - 41.8125).abs() < 1e-9,
        "{bbox:?}"
    );
    assert!(first[1].1["generation"].as_u64() > first[0].1["generation"].as_u64());
    drop(stream);

    // While no one listens, three more changes; the reconnect resumes after the last seen.
    let item = format!("{PARKS}/{id}");
    write_feature(
        &app,
        Method::PUT,
        &item,
        Some(&planner),
        Some("\"1\""),
        "application/geo+json",
        &park("事件公园", 123.415, 41.825),
    )
    .await
    .expect(200);
    write_feature(
        &app,
        Method::DELETE,
        &item,
        Some(&planner),
        Some("\"2\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(204);
    write_feature(
        &app,
        Method::POST,
        &format!("{item}/restore"),
        Some(&planner),
        Some("\"3\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(200);
    let mut stream = open_events(&app, Some(first[1].0)).await;
    let rest = read_events(&mut stream, 3).await;
    let changes: Vec<&str> = rest
        .iter()
        .map(|(_, d)| d["change"].as_str().expect("change"))
        .collect();
    assert_eq!(changes, ["updated", "retired", "restored"]);
    // The move's bbox covers the old and the new place.
    let b: Vec<f64> = serde_json::from_value(rest[0].1["bbox"].clone()).expect("bbox");
    assert!(
        b[0] <= 123.410 && b[2] >= 123.4155 && b[1] <= 41.812 && b[3] >= 41.8255,
        "{b:?}"
    );
    let ids: Vec<i64> = first.iter().chain(&rest).map(|(i, _)| *i).collect();
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "no gap, no repeat: {ids:?}"
    );
    // Nothing more is pending: a further change arrives next, not a repeat.
    common::store::patch(
        &app,
        "park-001",
        Some(&planner),
        Some(2),
        r#"{"progress":10}"#,
    )
    .await
    .expect(200);
    let next = read_events(&mut stream, 1).await;
    assert_eq!(next[0].0, ids[ids.len() - 1] + 1);
    // ?since= works like Last-Event-ID; a bad one is a 400.
    let r = get(&app, "/api/events?since=-1").await;
    assert_eq!(r.expect(400).json()["error"], "invalid_parameter");
}
