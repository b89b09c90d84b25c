//! Field photos on both stores (issue 8 with issue 13): the same uploads, reads, attachments
//! and refusals through the app over SQLite and over PostgreSQL give the same answers; on
//! PostgreSQL the photo rows are in the shared database (with a PostGIS point), the per-site
//! limit holds, and `store copy` carries photos and attachments over. Cross-instance reads:
//! `tests/pg_instances.rs`.
//!
//! The PostgreSQL half is skipped, with the reason printed, when `RENEWAL_MAP_TEST_PG` is
//! unset.

mod common;
mod photos_support;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use common::pg::{cluster, connect, fresh_database};
use common::store::{Fixture, router_of, token};
use common::{get, send};
use photos_support::{self as img, upload};
use renewal_map::model::Role;
use renewal_map::photos::{MAX_PHOTOS_PER_SITE, photo_id};
use renewal_map::store::SiteStore;
use renewal_map::store::pg::PgStore;
use serde_json::Value;

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

async fn update(app: &Router, token: &str, site: &str, v: u64, body: &str) -> common::Reply {
    let auth = format!("Bearer {token}");
    let etag = format!("\"{v}\"");
    send(
        app,
        Method::PATCH,
        &format!("/api/sites/{site}"),
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
            ("if-match", &etag),
        ],
        body.to_owned(),
    )
    .await
}

/// A record without its upload instant (which differs between runs).
fn comparable(mut record: Value) -> Value {
    if let Some(o) = record.as_object_mut() {
        o.remove("uploaded_at");
    }
    record
}

/// What the suite saw, to compare the two stores' answers.
#[derive(Debug, PartialEq)]
struct Seen {
    record: Value,
    listed: Value,
    /// SHA-256 of the served image and thumbnail.
    image: String,
    thumbnail: String,
    statuses: Vec<(String, u16, String)>,
    history_photos: Value,
}

async fn suite(app: &Router, token: &str) -> Seen {
    let original = img::jpeg_with_exif(40, 20, "2026:05:20 14:30:05", None);
    let id = photo_id(&original);
    let r = upload(app, "park-001", Some(token), "image/jpeg", original.clone())
        .await
        .expect(201);
    let record = r.json();
    assert_eq!(record["id"], id.as_str());
    assert_eq!(record["taken_at"], "2026-05-20T06:30:05Z");
    assert_eq!(
        (record["width"].as_u64(), record["height"].as_u64()),
        (Some(20), Some(40)),
        "orientation applied"
    );
    assert_eq!(record["change_seq"], Value::Null);
    let mut statuses = Vec::new();
    let mut note = |what: &str, r: &common::Reply| {
        let code = r.json()["error"].as_str().unwrap_or_default().to_owned();
        statuses.push((what.to_owned(), r.status.as_u16(), code));
    };
    // The same bytes again are the same photo; on another site they are refused.
    let again = upload(app, "park-001", Some(token), "image/jpeg", original.clone()).await;
    note("same bytes again", &again);
    assert_eq!(again.json()["id"], id.as_str());
    let other = upload(app, "park-002", Some(token), "image/jpeg", original.clone()).await;
    note("same bytes on another site", &other);
    note(
        "no token",
        &upload(app, "park-001", None, "image/jpeg", img::jpeg(8, 8, 1)).await,
    );

    let image = get(app, &format!("/api/photos/{id}")).await.expect(200);
    assert_eq!(image.header("content-type"), Some("image/jpeg"));
    assert!(!img::has_metadata(&image.body), "served photo has metadata");
    let thumbnail = get(app, &format!("/api/photos/{id}/thumbnail"))
        .await
        .expect(200);
    image::load_from_memory(&thumbnail.body).expect("thumbnail decodes");
    note(
        "unknown photo",
        &get(app, &format!("/api/photos/{}", "b".repeat(64))).await,
    );

    // Attached to an update with the device's position; not twice; an unknown one refused.
    let body = format!(
        r#"{{"progress": 20, "photos": ["{id}"], "position": {{"lon": 123.4056, "lat": 41.8156}}}}"#
    );
    update(app, token, "park-001", 1, &body).await.expect(200);
    note(
        "attached twice",
        &update(
            app,
            token,
            "park-001",
            2,
            &format!(r#"{{"photos": ["{id}"]}}"#),
        )
        .await,
    );
    note(
        "unknown attachment",
        &update(
            app,
            token,
            "park-001",
            2,
            &format!(r#"{{"photos": ["{}"]}}"#, "c".repeat(64)),
        )
        .await,
    );
    let listed = get(app, "/api/sites/park-001/photos")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["photos"][0]["change_seq"], 1, "{listed}");
    let history = get(app, "/api/sites/park-001/history")
        .await
        .expect(200)
        .json();
    let history_photos = history["changes"][0]["photos"].clone();
    assert_eq!(history_photos[0]["id"], id.as_str(), "{history}");
    assert_eq!(history["changes"][0]["position"]["lon"], 123.4056);

    // A site holds at most its limit (the one already there counts).
    for i in 1..MAX_PHOTOS_PER_SITE {
        upload(
            app,
            "park-001",
            Some(token),
            "image/png",
            img::png(8, 8, i as u8),
        )
        .await
        .expect(201);
    }
    note(
        "over the limit",
        &upload(app, "park-001", Some(token), "image/png", img::png(9, 9, 0)).await,
    );
    let listed_all = get(app, "/api/sites/park-001/photos")
        .await
        .expect(200)
        .json();
    assert_eq!(
        listed_all["photos"].as_array().map(Vec::len),
        Some(MAX_PHOTOS_PER_SITE)
    );
    Seen {
        record: comparable(record),
        listed: comparable(listed["photos"][0].clone()),
        image: photo_id(&image.body),
        thumbnail: photo_id(&thumbnail.body),
        statuses,
        history_photos,
    }
}

#[test]
fn both_stores_keep_photos_alike() {
    let sqlite_fx = Fixture::new();
    let (state, sqlite) = sqlite_fx.open();
    let planner = token(&sqlite, "摄影", Role::Planner, &[], &[]);
    let on_sqlite = run(suite(&router_of(&state), &planner));
    assert_eq!(
        on_sqlite.statuses,
        [
            ("same bytes again".into(), 200, String::new()),
            (
                "same bytes on another site".into(),
                409,
                "photo_on_other_site".into()
            ),
            ("no token".into(), 401, "unauthorized".into()),
            ("unknown photo".into(), 404, "unknown_photo".into()),
            (
                "attached twice".into(),
                422,
                "photo_already_attached".into()
            ),
            ("unknown attachment".into(), 422, "unknown_photo".into()),
            ("over the limit".into(), 409, "photo_limit_reached".into()),
        ]
    );

    let Some(cluster) = cluster("pg_photos::suite (PostgreSQL half)") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let dataset = renewal_map::load::load_dataset(fx.path()).expect("fixture loads");
    let pg: Arc<dyn SiteStore> = Arc::new(PgStore::open(&url, &dataset.sites).expect("pg opens"));
    let planner = token(pg.as_ref(), "摄影", Role::Planner, &[], &[]);
    let state = fx.state_over(Arc::clone(&pg));
    let on_pg = run(suite(&router_of(&state), &planner));
    assert_eq!(on_sqlite, on_pg, "the two stores answered differently");

    // The rows are in the shared database, with the EXIF place as a PostGIS point.
    let mut db = connect(&url);
    let row = db
        .query_one(
            "SELECT count(*), count(change_seq), max(ST_X(geom)), max(ST_Y(geom)) FROM photo",
            &[],
        )
        .expect("photo rows");
    let (rows, attached): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!((rows, attached), (MAX_PHOTOS_PER_SITE as i64, 1));
    let (x, y): (f64, f64) = (row.get(2), row.get(3));
    assert!(
        (x - 123.41).abs() < 1e-9 && (y - 41.825).abs() < 1e-9,
        "{x} {y}"
    );
    let view: i64 = db
        .query_one(
            "SELECT count(*) FROM photos WHERE site_id = 'park-001'",
            &[],
        )
        .expect("photos view")
        .get(0);
    assert_eq!(view, MAX_PHOTOS_PER_SITE as i64);
    assert_eq!(
        pg.photo_count(Some("park-001")).expect("count"),
        MAX_PHOTOS_PER_SITE as u64
    );
}

#[test]
fn store_copy_carries_photos_and_their_attachments() {
    let Some(cluster) = cluster("pg_photos::copy") else {
        return;
    };
    let fx = Fixture::new();
    let (state, sqlite) = fx.open();
    let planner = token(&sqlite, "摄影", Role::Planner, &[], &[]);
    let app = router_of(&state);
    let original = img::jpeg_with_exif(40, 20, "2026:05:20 14:30:05", None);
    let id = photo_id(&original);
    run(async {
        upload(&app, "park-001", Some(&planner), "image/jpeg", original)
            .await
            .expect(201);
        upload(
            &app,
            "park-002",
            Some(&planner),
            "image/png",
            img::png(8, 8, 7),
        )
        .await
        .expect(201);
        update(
            &app,
            &planner,
            "park-001",
            1,
            &format!(r#"{{"note": "photo", "photos": ["{id}"], "position": {{"lon": 123.4, "lat": 41.8}}}}"#),
        )
        .await
        .expect(200);
    });
    let served = sqlite
        .photo_bytes(&id, renewal_map::store::PhotoVariant::Image)
        .expect("bytes")
        .expect("photo");
    let history = sqlite.history("park-001").expect("history");
    drop((app, state, sqlite));

    let url = fresh_database(&cluster);
    let report =
        renewal_map::store::pg::copy::copy(&renewal_map::store::default_path(fx.path()), &url)
            .expect("copy");
    assert!(
        report.counts.contains(&("photo", 2, 2)),
        "{:?}",
        report.counts
    );
    let pg = PgStore::open(&url, &[]).expect("pg opens");
    assert_eq!(
        pg.photo_bytes(&id, renewal_map::store::PhotoVariant::Image)
            .expect("bytes"),
        Some(served)
    );
    let record = pg.photo(&id).expect("record").expect("photo");
    assert_eq!(record.change_seq, Some(1));
    let (lon, lat) = record.location.expect("location");
    assert!(
        (lon - 123.41).abs() < 1e-9 && (lat - 41.825).abs() < 1e-9,
        "{lon} {lat}"
    );
    // The change keeps the photos it attached and the position.
    assert_eq!(pg.history("park-001").expect("history"), history);
}
