//! The write/read suite run on both stores (issue 8): the same requests through the app over
//! SQLite and over PostgreSQL give the same answers: field updates with `If-Match`, 412 on a
//! stale version, history and the feed, creating, moving, retiring and restoring a site
//! through OGC API – Features Part 4, token revocation. Then what is PostgreSQL's own: the
//! migrations recorded in `schema_migrations`, PostGIS geometry and the readable views, and
//! `store copy` from SQLite with verified counts.
//!
//! The PostgreSQL half is skipped, with the reason printed, when `RENEWAL_MAP_TEST_PG` is
//! unset.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use common::pg::{cluster, connect, fresh_database};
use common::store::{Fixture, patch, router_of, token, write_feature};
use common::{get, polygon_square};
use renewal_map::model::Role;
use renewal_map::store::SiteStore;
use renewal_map::store::pg::PgStore;
use serde_json::{Value, json};

const PARKS: &str = "/ogc/collections/parks/items";

/// What the suite saw, to compare the two stores' answers.
#[derive(Debug, PartialEq)]
struct Seen {
    history: Vec<(String, String, u64)>,
    feed: Vec<(i64, String, u64, String)>,
    created_version_after_restore: u64,
}

async fn suite(app: &Router, planner: &str, revoke: impl FnOnce()) -> Seen {
    // A field update with If-Match; the stale version is refused with the current one.
    let r = patch(
        app,
        "park-001",
        Some(planner),
        Some(1),
        r#"{"status":"design","progress":10,"note":"设计"}"#,
    )
    .await
    .expect(200);
    assert_eq!(r.etag().as_deref(), Some("\"2\""));
    let r = patch(
        app,
        "park-001",
        Some(planner),
        Some(1),
        r#"{"note":"stale"}"#,
    )
    .await
    .expect(412);
    assert_eq!(r.etag().as_deref(), Some("\"2\""));
    let r = get(app, "/ogc/collections/sites/items/park-001")
        .await
        .expect(200);
    assert_eq!(r.json()["properties"]["status"], "design");

    // Create, move, retire, restore.
    let park = |lng: f64| {
        json!({"type": "Feature", "geometry": polygon_square(lng, 41.812, 0.0005),
            "properties": {"name": "新公园", "kind": "pocket_park", "status": "planned"}})
    };
    let r = write_feature(
        app,
        Method::POST,
        PARKS,
        Some(planner),
        None,
        "application/geo+json",
        &park(123.410),
    )
    .await
    .expect(201);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let item = format!("{PARKS}/{id}");
    write_feature(
        app,
        Method::PUT,
        &item,
        Some(planner),
        Some("\"1\""),
        "application/geo+json",
        &park(123.415),
    )
    .await
    .expect(200);
    let r = get(
        app,
        &format!("{PARKS}?bbox=123.4145,41.8115,123.4160,41.8130"),
    )
    .await
    .expect(200);
    assert_eq!(
        r.json()["features"][0]["id"],
        id.as_str(),
        "moved park in its new place"
    );
    write_feature(
        app,
        Method::DELETE,
        &item,
        Some(planner),
        Some("\"2\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(204);
    get(app, &item).await.expect(404);
    let r = write_feature(
        app,
        Method::POST,
        &format!("{item}/restore"),
        Some(planner),
        Some("\"3\""),
        "application/json",
        &json!(null),
    )
    .await
    .expect(200);
    let restored = r
        .etag()
        .and_then(|e| e.trim_matches('"').parse().ok())
        .expect("ETag");
    get(app, &item).await.expect(200);

    let history = get(app, "/api/sites/park-001/history")
        .await
        .expect(200)
        .json();
    let history = history["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["from"]["status"].as_str().unwrap_or_default().to_owned(),
                c["to"]["status"].as_str().unwrap_or_default().to_owned(),
                c["version"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let feed = get(app, "/api/changes").await.expect(200).json();
    let feed = feed["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["seq"].as_i64().unwrap_or_default(),
                c["site"].as_str().unwrap_or_default().to_owned(),
                c["version"].as_u64().unwrap_or_default(),
                c["change"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();

    // A revoked token writes nothing.
    revoke();
    patch(
        app,
        "park-001",
        Some(planner),
        Some(2),
        r#"{"note":"revoked"}"#,
    )
    .await
    .expect(401);
    Seen {
        history,
        feed,
        created_version_after_restore: restored,
    }
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[test]
fn both_stores_answer_the_write_read_suite_alike() {
    let sqlite_fx = Fixture::new();
    let (state, sqlite) = sqlite_fx.open();
    let planner = token(&sqlite, "规划师", Role::Planner, &[], &[]);
    let app = router_of(&state);
    let on_sqlite = run(suite(&app, &planner, || {
        sqlite.revoke("规划师").expect("revoke");
    }));
    assert_eq!(on_sqlite.feed.len(), 5, "{on_sqlite:?}");

    let Some(cluster) = cluster("pg_store::suite (PostgreSQL half)") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let dataset = renewal_map::load::load_dataset(fx.path()).expect("fixture loads");
    let pg: Arc<dyn SiteStore> = Arc::new(PgStore::open(&url, &dataset.sites).expect("pg opens"));
    let planner = token(pg.as_ref(), "规划师", Role::Planner, &[], &[]);
    let state = fx.state_over(Arc::clone(&pg));
    let app = router_of(&state);
    let on_pg = run(suite(&app, &planner, {
        let pg = Arc::clone(&pg);
        move || {
            // Revoking runs on a blocking client: off the runtime's threads.
            std::thread::spawn(move || pg.revoke("规划师").expect("revoke"))
                .join()
                .expect("revoke thread");
        }
    }));
    assert_eq!(on_sqlite, on_pg, "the two stores answered differently");
}

#[test]
fn postgres_records_migrations_and_keeps_postgis_geometry_and_readable_views() {
    let Some(cluster) = cluster("pg_store::schema") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let dataset = renewal_map::load::load_dataset(fx.path()).expect("fixture loads");
    let store = PgStore::open(&url, &dataset.sites).expect("opens");
    assert_eq!(
        store.migrations().expect("migrations"),
        (1..=renewal_map::store::pg::schema::LATEST).collect::<Vec<_>>()
    );
    // Opening again (a second instance) runs nothing twice and adds no site twice.
    let again = PgStore::open(&url, &dataset.sites).expect("opens again");
    assert_eq!(
        again.migrations().expect("migrations"),
        (1..=renewal_map::store::pg::schema::LATEST).collect::<Vec<_>>()
    );
    token(&store, "规划师", Role::Planner, &[], &[]);
    let mut db = connect(&url);
    let sites: i64 = db
        .query_one("SELECT count(*) FROM sites", &[])
        .expect("sites view")
        .get(0);
    assert_eq!(sites, dataset.sites.len() as i64);
    let row = db
        .query_one(
            "SELECT ST_SRID(geom), GeometryType(geom), name, status FROM sites WHERE site_id = 'park-001'",
            &[],
        )
        .expect("park-001 in the sites view");
    assert_eq!(row.get::<_, i32>(0), 4326);
    assert_eq!(row.get::<_, String>(1), "POLYGON");
    assert_eq!(row.get::<_, String>(2), "测试park-001");
    assert_eq!(row.get::<_, String>(3), "planned");
    // A spatial query a GIS user would run, through the GiST index's operator.
    let near: i64 = db
        .query_one(
            "SELECT count(*) FROM sites WHERE geom && ST_MakeEnvelope(123.40, 41.81, 123.41, 41.82, 4326)",
            &[],
        )
        .expect("bbox query")
        .get(0);
    assert!(near >= 1, "park-001 lies in the envelope");
    let index: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'site_state' AND indexdef LIKE '%USING gist (geom)%'",
            &[],
        )
        .expect("indexes")
        .get(0);
    assert_eq!(index, 1, "GiST index on site_state.geom");
    let columns: Vec<String> = db
        .query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'accounts'",
            &[],
        )
        .expect("accounts view")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(columns.contains(&"name".to_owned()), "{columns:?}");
    assert!(
        !columns.iter().any(|c| c.contains("token")),
        "token hashes in the view: {columns:?}"
    );
}

#[test]
fn store_copy_moves_a_sqlite_store_into_postgres_with_verified_counts() {
    let Some(cluster) = cluster("pg_store::copy") else {
        return;
    };
    let fx = Fixture::new();
    let (state, sqlite) = fx.open();
    let planner = token(&sqlite, "规划师", Role::Planner, &[], &[]);
    let app = router_of(&state);
    run(async {
        for (n, v) in (1..=3).enumerate() {
            patch(
                &app,
                "road-001",
                Some(&planner),
                Some(v),
                &format!(r#"{{"note":"copy {n}"}}"#),
            )
            .await
            .expect(200);
        }
    });
    let path = sqlite.path().to_owned();
    drop((app, state, sqlite));
    let url = fresh_database(&cluster);
    let out = common::cli::ok(&[
        "store",
        "copy",
        "--from",
        path.to_str().expect("path"),
        "--to",
        &url,
    ]);
    assert!(out.contains("change\t3\t3"), "{out}");
    // The copy serves: same versions, same history, the same token.
    let dataset = renewal_map::load::load_dataset(fx.path()).expect("fixture loads");
    let pg = PgStore::open(&url, &dataset.sites).expect("opens the copy");
    let road = pg.stored("road-001").expect("stored").expect("road-001");
    assert_eq!(road.site.version, 4);
    assert_eq!(road.seq, 3);
    assert!(
        pg.authenticate(&planner).expect("authenticate").is_some(),
        "token copied"
    );
    pg.publish(3);
    let history: Vec<Value> = pg
        .history("road-001")
        .expect("history")
        .iter()
        .map(|c| json!(c.note))
        .collect();
    assert_eq!(
        history,
        vec![json!("copy 0"), json!("copy 1"), json!("copy 2")]
    );
    // A second copy into the same database is refused.
    let err = common::cli::fails(&[
        "store",
        "copy",
        "--from",
        path.to_str().expect("path"),
        "--to",
        &url,
    ]);
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn token_commands_work_on_postgres() {
    let Some(cluster) = cluster("pg_store::tokens") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let data = fx.path().to_str().expect("path");
    let token = common::cli::ok(&[
        "token",
        "add",
        "--db",
        &url,
        "--data",
        data,
        "--name",
        "外业一队",
        "--role",
        "field",
        "--subdistricts",
        common::store::SUB_A.0,
    ]);
    let token = token.trim();
    assert!(renewal_map::store::token_looks_valid(token), "{token}");
    let list = common::cli::ok(&["token", "list", "--db", &url, "--data", data]);
    assert!(list.contains("外业一队\tfield"), "{list}");
    assert!(!list.contains(token), "a token in the list");
    common::cli::ok(&["token", "revoke", "--db", &url, "--data", data, "外业一队"]);
    let dataset = renewal_map::load::load_dataset(fx.path()).expect("fixture loads");
    let pg = PgStore::open(&url, &dataset.sites).expect("opens");
    assert!(
        pg.authenticate(token).expect("authenticate").is_none(),
        "revoked token still works"
    );
    // A URL that does not parse is refused with the password hidden.
    let err = common::cli::fails(&[
        "token",
        "list",
        "--db",
        "postgres://u:hunter2@[bad",
        "--data",
        data,
    ]);
    assert!(!err.contains("hunter2"), "{err}");
}
