//! The map as of a past instant (issue 7 §4): items, stats, nearest parks, tiles and TileJSON
//! answer as the history says the map stood, compared with an independent replay of the
//! change feed; past answers are immutable; instants before seeding or not past are 400.

mod common;

use std::collections::BTreeMap;

use axum::Router;
use axum::http::Method;
use common::store::{Fixture, router_of, token, write_feature};
use common::{get, polygon_square};
use renewal_map::model::Role;
use renewal_map::tiles::TileCoord;
use serde_json::{Value, json};

const PARKS: &str = "/ogc/collections/parks/items";
const NEW_PARK: (f64, f64) = (123.410, 41.812);

fn park(name: &str, lng: f64, lat: f64) -> Value {
    json!({"type": "Feature", "geometry": polygon_square(lng, lat, 0.0005),
        "properties": {"name": name, "kind": "pocket_park", "status": "planned"}})
}

/// Site id → status, from the items of every site collection as of `at`.
async fn map_as_of(app: &Router, at: &str) -> BTreeMap<String, String> {
    let r = get(
        app,
        &format!("/ogc/collections/sites/items?limit=1000&as_of={at}"),
    )
    .await
    .expect(200);
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    r.json()["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().expect("id").to_owned(),
                f["properties"]["status"]
                    .as_str()
                    .expect("status")
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn past_answers_match_an_independent_replay_of_the_history() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let planner = token(&store, "Planner", Role::Planner, &[], &[]);
    let initial: BTreeMap<String, String> = renewal_map::load::load_dataset(fx.path())
        .expect("data")
        .sites
        .iter()
        .map(|s| (s.id.to_string(), s.status.as_str().to_owned()))
        .collect();

    // Five changes of every kind.
    common::store::patch(
        &app,
        "park-001",
        Some(&planner),
        Some(1),
        r#"{"status":"design"}"#,
    )
    .await
    .expect(200);
    let created = write_feature(
        &app,
        Method::POST,
        PARKS,
        Some(&planner),
        None,
        "application/geo+json",
        &park("新", NEW_PARK.0, NEW_PARK.1),
    )
    .await
    .expect(201)
    .json();
    let new_id = created["id"].as_str().expect("id").to_owned();
    write_feature(
        &app,
        Method::DELETE,
        "/ogc/collections/compounds/items/compound-001",
        Some(&planner),
        Some("\"1\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(204);
    write_feature(
        &app,
        Method::PUT,
        &format!("{PARKS}/park-002"),
        Some(&planner),
        Some("\"1\""),
        "application/geo+json",
        &json!({"type": "Feature", "geometry": polygon_square(123.435, 41.825, 0.0005),
            "properties": {"name": "移", "kind": "pocket_park", "status": "completed"}}),
    )
    .await
    .expect(200);
    write_feature(
        &app,
        Method::POST,
        "/ogc/collections/compounds/items/compound-001/restore",
        Some(&planner),
        Some("\"2\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(200);

    // Spread the history over past days: seeding on 1 January, change k on k February.
    {
        let c = rusqlite::Connection::open(store.path()).expect("open");
        c.execute_batch(
            "UPDATE meta SET value = '2026-01-01T00:00:00Z' WHERE key = 'seeded_at';
             UPDATE site_version SET at = '2026-01-01T00:00:00Z' WHERE seq IS NULL;
             UPDATE change SET at = printf('2026-02-%02dT00:00:00Z', seq);
             UPDATE site_version SET at = printf('2026-02-%02dT00:00:00Z', seq) WHERE seq IS NOT NULL;",
        ).expect("rewrite history");
    }
    let feed = get(&app, "/api/changes?since=0").await.expect(200).json();
    let feed = feed["changes"].as_array().expect("changes").clone();
    assert_eq!(feed.len(), 5);

    for day in [
        "2026-01-15",
        "2026-02-01T12:00:00Z",
        "2026-02-02T12:00:00Z",
        "2026-02-03T12:00:00Z",
        "2026-02-04T12:00:00+00:00",
        "2026-02-05T20:00:00+08:00",
    ] {
        let at = renewal_map::model::Timestamp::from_unix(parse(day));
        // The replay: the data set's sites, then each change of the feed stamped at or before.
        let mut want = initial.clone();
        for c in &feed {
            let when: renewal_map::model::Timestamp =
                c["at"].as_str().expect("at").parse().expect("ts");
            if when > at {
                continue;
            }
            let site = c["site"].as_str().expect("site").to_owned();
            let status = c["to"]["status"].as_str().expect("status").to_owned();
            match c["change"].as_str().expect("change") {
                "retired" => {
                    want.remove(&site);
                }
                _ => {
                    want.insert(site, status);
                }
            }
        }
        let got = map_as_of(&app, &encode(day)).await;
        assert_eq!(got, want, "as of {day}");
        let parks = want.keys().filter(|k| k.contains("park")).count() as u64;
        let stats = get(&app, &format!("/api/stats?as_of={}", encode(day)))
            .await
            .expect(200)
            .json();
        let kind = stats["kinds"]
            .as_array()
            .expect("kinds")
            .iter()
            .find(|k| k["kind"] == "pocket_park")
            .expect("parks");
        assert_eq!(
            kind["sites"].as_u64(),
            Some(parks),
            "parks as of {day}: {kind}"
        );
    }

    // Nearest parks: the new park is the nearest only from 2 February on.
    let near = |at: &str| {
        format!(
            "/api/parks/nearest?lon={}&lat={}&include=all&limit=1&as_of={at}",
            NEW_PARK.0 + 0.0002,
            NEW_PARK.1 + 0.0002
        )
    };
    let before = get(&app, &near("2026-02-01T12:00:00Z"))
        .await
        .expect(200)
        .json();
    assert_ne!(before["features"][0]["id"], new_id.as_str());
    let after = get(&app, &near("2026-02-02T12:00:00Z"))
        .await
        .expect(200)
        .json();
    assert_eq!(after["features"][0]["id"], new_id.as_str());
    // The moved park is at its old place on 3 February, at the new one on 4 February.
    let moved = |at: &str| format!("{PARKS}?bbox=123.4295,41.8145,123.4315,41.8165&as_of={at}");
    let old_place = get(&app, &moved("2026-02-03T12:00:00Z"))
        .await
        .expect(200)
        .json();
    assert_eq!(old_place["numberMatched"], 1);
    let old_place = get(&app, &moved("2026-02-04T12:00:00Z"))
        .await
        .expect(200)
        .json();
    assert_eq!(old_place["numberMatched"], 0);

    // Tiles: the new park's tile differs before and after its creation; a repeat is a hit.
    let t = TileCoord::containing(NEW_PARK.0, NEW_PARK.1, 15);
    let uri = |at: &str| format!("/tiles/{}/{}/{}.mvt?as_of={at}", t.z, t.x, t.y);
    let a = get(&app, &uri("2026-02-01T12:00:00Z")).await;
    let b = get(&app, &uri("2026-02-02T12:00:00Z")).await.expect(200);
    assert_ne!(a.body, b.body);
    assert_eq!(
        b.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(b.header("x-tile-cache"), Some("miss"));
    let again = get(&app, &uri("2026-02-02T12:00:00Z")).await.expect(200);
    assert_eq!(again.header("x-tile-cache"), Some("hit"));
    assert_eq!(again.body, b.body);
    let now = get(&app, &format!("/tiles/{}/{}/{}.mvt", t.z, t.x, t.y))
        .await
        .expect(200);
    assert_eq!(now.header("cache-control"), Some("public, no-cache"));
    let tj = get(&app, "/tiles.json?as_of=2026-02-02")
        .await
        .expect(200)
        .json();
    assert!(
        tj["tiles"][0]
            .as_str()
            .expect("url")
            .ends_with(".mvt?as_of=2026-02-02"),
        "{tj}"
    );
    // Stats of a past instant carry their own ETag, the same every time.
    let s1 = get(&app, "/api/stats?as_of=2026-02-03").await.expect(200);
    let s2 = get(&app, "/api/stats?as_of=2026-02-03").await.expect(200);
    assert!(s1.etag().is_some_and(|e| e.starts_with("\"asof-")));
    assert_eq!(s1.etag(), s2.etag());

    // Out of range and malformed instants.
    for (at, code) in [
        ("2025-12-31", "as_of_out_of_range"),
        ("2999-01-01", "as_of_out_of_range"),
        ("soon", "invalid_parameter"),
    ] {
        let r = get(&app, &format!("/api/stats?as_of={at}"))
            .await
            .expect(400);
        assert_eq!(r.json()["error"], code, "{at}");
    }
}

fn encode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// Seconds since the epoch of the test instants (UTC, or +08:00 / +00:00 offsets).
fn parse(s: &str) -> i64 {
    let (base, off) = match s.len() {
        10 => (format!("{s}T00:00:00Z"), 0),
        20 => (s.to_owned(), 0),
        _ => (
            format!("{}Z", &s[..19]),
            if s.ends_with("+08:00") { 8 * 3600 } else { 0 },
        ),
    };
    let t: renewal_map::model::Timestamp = base.parse().expect("instant");
    t.unix() - off
}
