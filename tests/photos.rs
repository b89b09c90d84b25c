//! Field photos (issue 13): `POST /api/sites/{id}/photos` decides the type by content, keeps
//! to its size, pixel and count limits, stores nothing on any error, reads the EXIF time and
//! place and strips every metadata field from what it serves; photos attach to a status
//! update, with the device's position, and show in the history and the feed, replay-safe.

mod common;
mod photos_support;

use axum::Router;
use axum::http::Method;
use common::store::{Fixture, SUB_A, SUB_B, patch, router_of, token, version};
use common::{Reply, get, send};
use photos_support as img;
use renewal_map::model::Role;
use renewal_map::photos::{MAX_PHOTO_BYTES, MAX_PHOTOS_PER_SITE, photo_id};
use renewal_map::store::Store;
use serde_json::Value;

/// `POST /api/sites/{site}/photos` with the bytes and the Content-Type the client claims.
async fn upload(
    app: &Router,
    site: &str,
    token: Option<&str>,
    media: &str,
    body: Vec<u8>,
) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", media)];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    send(
        app,
        Method::POST,
        &format!("/api/sites/{site}/photos"),
        &headers,
        body,
    )
    .await
}

fn photos(store: &Store) -> u64 {
    store.photo_count(None).expect("count")
}

/// Whether `bytes` hold any EXIF a parser can find, or the strings the test camera wrote.
fn has_metadata(bytes: &[u8]) -> bool {
    let parsed = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .is_ok();
    let text = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    parsed
        || text(img::CAMERA)
        || text(img::ARTIST)
        || text("Exif\0\0")
        || text("http://ns.adobe.com")
}

#[tokio::test]
async fn the_type_is_decided_by_content_and_bad_uploads_store_nothing() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);

    // A PNG sent as image/jpeg is a PNG.
    let r = upload(
        &app,
        "park-001",
        Some(&team),
        "image/jpeg",
        img::png(30, 20, 1),
    )
    .await
    .expect(201);
    assert_eq!(r.json()["content_type"], "image/png");
    assert_eq!(
        (r.json()["width"].as_u64(), r.json()["height"].as_u64()),
        (Some(30), Some(20))
    );
    let webp = upload(
        &app,
        "park-001",
        Some(&team),
        "application/octet-stream",
        img::webp(16, 16, 2),
    )
    .await
    .expect(201);
    assert_eq!(webp.json()["content_type"], "image/webp");
    assert_eq!(photos(&store), 2);

    let refused: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "text named .jpg",
            b"hello, this is not a photo.jpg".to_vec(),
            415,
            "unsupported_photo_type",
        ),
        ("GIF", img::gif(), 415, "unsupported_photo_type"),
        ("empty", Vec::new(), 415, "unsupported_photo_type"),
        (
            "truncated JPEG",
            {
                let j = img::jpeg(200, 150, 3);
                j[..j.len() / 2].to_vec()
            },
            422,
            "photo_unreadable",
        ),
        (
            "JPEG header only",
            img::jpeg(64, 64, 3)[..40].to_vec(),
            422,
            "photo_unreadable",
        ),
        (
            "corrupt PNG",
            {
                let mut p = img::png(40, 40, 4);
                let n = p.len();
                p.truncate(n - 30);
                p
            },
            422,
            "photo_unreadable",
        ),
        (
            "decompression bomb",
            img::png_declaring(100_000, 100_000),
            422,
            "photo_too_many_pixels",
        ),
        (
            "too many pixels in all",
            img::png_declaring(10_000, 10_000),
            422,
            "photo_too_many_pixels",
        ),
        (
            "too long a side",
            img::png_declaring(12_001, 10),
            422,
            "photo_too_many_pixels",
        ),
    ];
    for (what, body, status, code) in refused {
        let r = upload(&app, "park-001", Some(&team), "image/jpeg", body).await;
        let r = r.expect(status);
        assert_eq!(r.json()["error"], code, "{what}");
        assert!(
            r.json()["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(photos(&store), 2, "{what} stored something");
    }

    // Over 10 MiB: 413 before anything is decoded.
    let mut big = img::jpeg(8, 8, 5);
    big.resize(MAX_PHOTO_BYTES + 1, 0);
    let r = upload(&app, "park-001", Some(&team), "image/jpeg", big)
        .await
        .expect(413);
    assert_eq!(r.json()["error"], "photo_too_large");
    assert_eq!(photos(&store), 2);
    // Exactly at the limit is read (and then judged as an image: this one has an end marker
    // and zero padding, so it decodes).
    let mut at_limit = img::jpeg(8, 8, 6);
    at_limit.resize(MAX_PHOTO_BYTES, 0);
    upload(&app, "park-001", Some(&team), "image/jpeg", at_limit)
        .await
        .expect(201);
    assert_eq!(photos(&store), 3);
    // Other routes keep their 64 KiB limit.
    let r = patch(
        &app,
        "park-001",
        Some(&team),
        Some(1),
        &format!(r#"{{"note": "{}"}}"#, "x".repeat(70_000)),
    )
    .await;
    assert_eq!(r.expect(413).json()["error"], "payload_too_large");
}

#[tokio::test]
async fn only_those_who_may_update_a_site_add_photos_to_it() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team_a = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);
    let planner = token(&store, "Planning", Role::Planner, &[], &[]);
    let admin = token(&store, "Admin", Role::Admin, &[], &[]);

    let r = upload(&app, "park-001", None, "image/png", img::png(8, 8, 1))
        .await
        .expect(401);
    assert_eq!(r.json()["error"], "unauthorized");
    let r = upload(
        &app,
        "park-001",
        Some("rm_nonsense"),
        "image/png",
        img::png(8, 8, 1),
    )
    .await;
    r.expect(401);
    let r = upload(
        &app,
        "compound-001",
        Some(&team_a),
        "image/png",
        img::png(8, 8, 1),
    )
    .await
    .expect(403);
    assert_eq!(r.json()["rule"], "outside_assignment");
    let r = upload(
        &app,
        "park-001",
        Some(&admin),
        "image/png",
        img::png(8, 8, 1),
    )
    .await
    .expect(403);
    assert_eq!(r.json()["rule"], "role_cannot_edit");
    let r = upload(
        &app,
        "no-such-site",
        Some(&planner),
        "image/png",
        img::png(8, 8, 1),
    )
    .await;
    assert_eq!(r.expect(404).json()["error"], "unknown_site");
    assert_eq!(photos(&store), 0);

    let r = upload(
        &app,
        "compound-001",
        Some(&planner),
        "image/png",
        img::png(8, 8, 1),
    )
    .await
    .expect(201);
    assert_eq!(r.json()["uploaded_by"]["name"], "Planning");
    assert_eq!(r.json()["uploaded_by"]["role"], "planner");
    upload(
        &app,
        "park-001",
        Some(&team_a),
        "image/png",
        img::png(8, 8, 2),
    )
    .await
    .expect(201);
    assert_eq!(photos(&store), 2);
}

#[tokio::test]
async fn exif_time_and_place_are_read_and_every_metadata_field_is_stripped() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);

    let original = img::jpeg_with_exif(40, 20, "2026:05:20 14:30:05", None);
    assert!(
        has_metadata(&original),
        "the test image must carry EXIF to strip"
    );
    let r = upload(
        &app,
        "park-001",
        Some(&team),
        "image/jpeg",
        original.clone(),
    )
    .await
    .expect(201);
    let rec = r.json();
    let id = photo_id(&original);
    assert_eq!(rec["id"], id.as_str());
    assert_eq!(
        r.header("location"),
        Some(format!("/api/photos/{id}").as_str())
    );
    assert_eq!(rec["site_id"], "park-001");
    assert_eq!(rec["url"], format!("/api/photos/{id}"));
    assert_eq!(rec["thumbnail_url"], format!("/api/photos/{id}/thumbnail"));
    // No OffsetTimeOriginal: local time is the data set's, Asia/Shanghai (UTC+8).
    assert_eq!(rec["taken_at"], "2026-05-20T06:30:05Z");
    let (lon, lat) = (
        rec["location"]["lon"].as_f64().expect("lon"),
        rec["location"]["lat"].as_f64().expect("lat"),
    );
    assert!(
        (lon - 123.41).abs() < 1e-9 && (lat - 41.825).abs() < 1e-9,
        "{lon} {lat}"
    );
    // Orientation 6 is applied to the pixels: 40×20 as stored, 20×40 as seen.
    assert_eq!(
        (rec["width"].as_u64(), rec["height"].as_u64()),
        (Some(20), Some(40))
    );
    assert_eq!(rec["upload_bytes"].as_u64(), Some(original.len() as u64));
    assert_eq!(rec["change_seq"], Value::Null);

    let served = get(&app, &format!("/api/photos/{id}")).await.expect(200);
    assert_eq!(served.header("content-type"), Some("image/jpeg"));
    assert_eq!(
        served.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        served.body.len() as u64,
        rec["bytes"].as_u64().expect("bytes")
    );
    assert!(!has_metadata(&served.body), "served photo carries metadata");
    let decoded = image::load_from_memory(&served.body).expect("served photo decodes");
    assert_eq!((decoded.width(), decoded.height()), (20, 40));

    let thumb = get(&app, &format!("/api/photos/{id}/thumbnail"))
        .await
        .expect(200);
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    assert!(!has_metadata(&thumb.body), "thumbnail carries metadata");
    image::load_from_memory(&thumb.body).expect("thumbnail decodes");

    // With OffsetTimeOriginal the camera's own zone wins.
    let tokyo = img::jpeg_with_exif(16, 16, "2026:05:20 14:30:05", Some("+09:00"));
    let r = upload(&app, "park-001", Some(&team), "image/jpeg", tokyo)
        .await
        .expect(201);
    assert_eq!(r.json()["taken_at"], "2026-05-20T05:30:05Z");

    // A photo without EXIF has neither, and a large one gets a 320 px thumbnail.
    let plain = upload(
        &app,
        "park-001",
        Some(&team),
        "image/jpeg",
        img::jpeg(1000, 600, 9),
    )
    .await
    .expect(201);
    assert_eq!(plain.json()["taken_at"], Value::Null);
    assert_eq!(plain.json()["location"], Value::Null);
    let pid = plain.json()["id"].as_str().expect("id").to_owned();
    let thumb = get(&app, &format!("/api/photos/{pid}/thumbnail"))
        .await
        .expect(200);
    let t = image::load_from_memory(&thumb.body).expect("thumbnail decodes");
    assert_eq!((t.width(), t.height()), (320, 192));
}

#[tokio::test]
async fn photos_are_cached_by_etag_and_the_same_bytes_twice_are_one_photo() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);
    let bytes = img::jpeg(64, 48, 11);
    let first = upload(&app, "park-001", Some(&team), "image/jpeg", bytes.clone())
        .await
        .expect(201);
    let again = upload(&app, "park-001", Some(&team), "image/jpeg", bytes.clone())
        .await
        .expect(200);
    assert_eq!(first.json(), again.json());
    assert_eq!(photos(&store), 1);
    // The same bytes for another site are that site's photo already: a conflict, not a copy.
    let planner = token(&store, "Planning", Role::Planner, &[], &[]);
    let r = upload(
        &app,
        "road-001",
        Some(&planner),
        "image/jpeg",
        bytes.clone(),
    )
    .await
    .expect(409);
    assert_eq!(r.json()["error"], "photo_on_other_site");
    assert_eq!(photos(&store), 1);

    let id = first.json()["id"].as_str().expect("id").to_owned();
    for path in [
        format!("/api/photos/{id}"),
        format!("/api/photos/{id}/thumbnail"),
    ] {
        let r = get(&app, &path).await.expect(200);
        let etag = r.etag().expect("etag");
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
        let cached = send(
            &app,
            Method::GET,
            &path,
            &[("if-none-match", etag.as_str())],
            axum::body::Body::empty(),
        )
        .await;
        let cached = cached.expect(304);
        assert!(cached.body.is_empty());
        assert_eq!(cached.etag().as_deref(), Some(etag.as_str()));
        let other = send(
            &app,
            Method::GET,
            &path,
            &[("if-none-match", "\"something-else\"")],
            axum::body::Body::empty(),
        )
        .await;
        assert_eq!(other.expect(200).body, r.body);
    }
    let (a, b) = (
        get(&app, &format!("/api/photos/{id}")).await,
        get(&app, &format!("/api/photos/{id}/thumbnail")).await,
    );
    assert_ne!(a.etag(), b.etag());

    let r = get(&app, &format!("/api/photos/{}", "0".repeat(64)))
        .await
        .expect(404);
    assert_eq!(r.json()["error"], "unknown_photo");
    get(&app, "/api/photos/not-an-id").await.expect(400);

    let list = get(&app, "/api/sites/park-001/photos")
        .await
        .expect(200)
        .json();
    assert_eq!(list["photos"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["photos"][0]["id"], id.as_str());
    assert_eq!(
        get(&app, "/api/sites/road-001/photos")
            .await
            .expect(200)
            .json()["photos"],
        serde_json::json!([])
    );
    get(&app, "/api/sites/nope/photos").await.expect(404);
}

#[tokio::test]
async fn a_site_holds_at_most_its_photo_limit() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team A", Role::Field, &[SUB_A.0], &[]);
    let mut ids = Vec::new();
    for i in 0..MAX_PHOTOS_PER_SITE {
        let r = upload(
            &app,
            "park-001",
            Some(&team),
            "image/png",
            img::png(4, 4, i as u8),
        )
        .await
        .expect(201);
        ids.push(r.json()["id"].as_str().expect("id").to_owned());
    }
    let r = upload(
        &app,
        "park-001",
        Some(&team),
        "image/png",
        img::png(4, 4, 250),
    )
    .await
    .expect(409);
    assert_eq!(r.json()["error"], "photo_limit_reached");
    assert_eq!(photos(&store), MAX_PHOTOS_PER_SITE as u64);
    // A replay of one already stored still answers with its record.
    upload(
        &app,
        "park-001",
        Some(&team),
        "image/png",
        img::png(4, 4, 0),
    )
    .await
    .expect(200);
    // Oldest first.
    let list = get(&app, "/api/sites/park-001/photos")
        .await
        .expect(200)
        .json();
    let listed: Vec<&str> = list["photos"]
        .as_array()
        .expect("photos")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    // Another site has its own count.
    upload(
        &app,
        "road-001",
        Some(&team),
        "image/png",
        img::png(4, 4, 250),
    )
    .await
    .expect(201);
}

/// `PATCH` with If-Match and an optional Idempotency-Key.
async fn update(
    app: &Router,
    token: &str,
    site: &str,
    v: u64,
    key: Option<&str>,
    body: &str,
) -> Reply {
    let auth = format!("Bearer {token}");
    let etag = format!("\"{v}\"");
    let mut headers = vec![
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
        ("if-match", etag.as_str()),
    ];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    send(
        app,
        Method::PATCH,
        &format!("/api/sites/{site}"),
        &headers,
        body.to_owned(),
    )
    .await
}

#[tokio::test]
async fn photos_and_position_attach_to_an_update_and_show_in_history_and_feed() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team B", Role::Field, &[SUB_B.0], &[]);
    let planner = token(&store, "Planning", Role::Planner, &[], &[]);
    let up = |site: &'static str, who: String, seed: u8| {
        let app = app.clone();
        async move {
            let r = upload(
                &app,
                site,
                Some(&who),
                "image/jpeg",
                img::jpeg(32, 32, seed),
            )
            .await
            .expect(201);
            r.json()["id"].as_str().expect("id").to_owned()
        }
    };
    let p1 = up("compound-001", team.clone(), 1).await;
    let p2 = up("compound-001", team.clone(), 2).await;
    let foreign = up("park-001", planner.clone(), 3).await;
    let changes = store.change_count(None).expect("count");

    // Refused attachments change nothing.
    let refusals = [
        (
            format!(r#"{{"photos": ["{}"]}}"#, "a".repeat(64)),
            "unknown_photo",
        ),
        (format!(r#"{{"photos": ["{foreign}"]}}"#), "unknown_photo"),
        (r#"{"photos": ["not-a-photo"]}"#.to_owned(), "unknown_photo"),
        (
            format!(r#"{{"photos": ["{p1}", "{p1}"]}}"#),
            "duplicate_photo",
        ),
        (
            format!(
                r#"{{"progress": 50, "photos": ["{p1}", "{}"]}}"#,
                "b".repeat(64)
            ),
            "unknown_photo",
        ),
        (
            r#"{"position": {"lon": 123.42, "lat": 41.82, "accuracy_m": 5}}"#.to_owned(),
            "empty_update",
        ),
        (
            r#"{"progress": 50, "position": {"lon": 200, "lat": 41.82}}"#.to_owned(),
            "position_out_of_range",
        ),
        (
            r#"{"progress": 50, "position": {"lon": 123.4, "lat": 41.8, "accuracy_m": 20000}}"#
                .to_owned(),
            "accuracy_out_of_range",
        ),
    ];
    for (body, code) in &refusals {
        let r = update(&app, &team, "compound-001", 1, None, body)
            .await
            .expect(422);
        assert_eq!(r.json()["error"], *code, "{body}");
    }
    let r = update(
        &app,
        &team,
        "compound-001",
        1,
        None,
        r#"{"progress": 50, "position": {"lon": 1}}"#,
    )
    .await;
    assert_eq!(r.expect(400).json()["error"], "invalid_field");
    assert_eq!(store.change_count(None).expect("count"), changes);
    assert_eq!(version(&app, "compound-001").await, 1);
    let listed = get(&app, "/api/sites/compound-001/photos").await.json();
    assert!(
        listed["photos"]
            .as_array()
            .expect("photos")
            .iter()
            .all(|p| p["change_seq"].is_null())
    );

    // An update with a photo and the device's position, replayed by an outbox.
    let body = format!(
        r#"{{"progress": 55, "note": "外墙完成", "photos": ["{p1}"], "position": {{"lon": 123.4251, "lat": 41.8223, "accuracy_m": 12.5}}}}"#
    );
    let key = "outbox-0001";
    let first = update(&app, &team, "compound-001", 1, Some(key), &body)
        .await
        .expect(200);
    assert_eq!(first.etag().as_deref(), Some("\"2\""));
    let replay = update(&app, &team, "compound-001", 1, Some(key), &body)
        .await
        .expect(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(version(&app, "compound-001").await, 2);

    // A photo alone is an update; a photo already attached is not attached twice.
    update(
        &app,
        &team,
        "compound-001",
        2,
        None,
        &format!(r#"{{"photos": ["{p2}"]}}"#),
    )
    .await
    .expect(200);
    let r = update(
        &app,
        &team,
        "compound-001",
        3,
        None,
        &format!(r#"{{"photos": ["{p1}"]}}"#),
    )
    .await
    .expect(422);
    assert_eq!(r.json()["error"], "photo_already_attached");
    assert_eq!(version(&app, "compound-001").await, 3);
    assert_eq!(store.change_count(None).expect("count"), changes + 2);

    let history = get(&app, "/api/sites/compound-001/history")
        .await
        .expect(200)
        .json();
    let list = history["changes"].as_array().expect("changes");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["photos"][0]["id"], p1.as_str());
    assert_eq!(list[0]["photos"][0]["url"], format!("/api/photos/{p1}"));
    assert_eq!(
        list[0]["photos"][0]["thumbnail_url"],
        format!("/api/photos/{p1}/thumbnail")
    );
    assert_eq!(list[0]["position"]["lon"], 123.4251);
    assert_eq!(list[0]["position"]["accuracy_m"], 12.5);
    assert_eq!(list[0]["to"]["progress"], 55);
    assert_eq!(list[1]["photos"][0]["id"], p2.as_str());
    assert_eq!(list[1]["position"], Value::Null);
    assert_eq!(list[1]["to"]["progress"], 55);

    let feed = get(&app, "/api/changes?since=0").await.expect(200).json();
    let feed = feed["changes"].as_array().expect("changes");
    let seq1 = list[0]["seq"].as_i64().expect("seq");
    let in_feed = feed
        .iter()
        .find(|c| c["seq"].as_i64() == Some(seq1))
        .expect("in the feed");
    assert_eq!(in_feed["photos"][0]["id"], p1.as_str());
    assert_eq!(in_feed["position"]["lat"], 41.8223);

    let listed = get(&app, "/api/sites/compound-001/photos")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["photos"][0]["change_seq"].as_i64(), Some(seq1));
    assert_eq!(
        listed["photos"][1]["change_seq"].as_i64(),
        list[1]["seq"].as_i64()
    );

    // Kept across a restart, like the rest of the history.
    drop((state, app));
    let (state, _store) = fx.open();
    let app = router_of(&state);
    let again = get(&app, "/api/sites/compound-001/history")
        .await
        .expect(200)
        .json();
    assert_eq!(again["changes"], history["changes"]);
    let photo = get(&app, &format!("/api/photos/{p1}")).await.expect(200);
    image::load_from_memory(&photo.body).expect("decodes after a restart");
}

#[test]
fn the_test_crc32_matches_the_check_value() {
    assert_eq!(img::crc32(b"123456789"), 0xCBF4_3926);
}
