//! Field photos (issue 13): `POST /api/sites/{id}/photos` decides the type by content, keeps
//! to its size, pixel and count limits, stores nothing on any error, reads the EXIF time and
//! place and strips every metadata field from what it serves, and answers the same bytes
//! again with the same photo. Attaching photos to updates: `tests/photo_updates.rs`.

mod common;
mod photos_support;

use axum::http::Method;
use common::store::{Fixture, SUB_A, patch, router_of, token};
use common::{get, send};
use photos_support::{self as img, upload};
use renewal_map::model::Role;
use renewal_map::photos::{MAX_PHOTO_BYTES, MAX_PHOTOS_PER_SITE, photo_id, process};
use renewal_map::store::Store;
use serde_json::Value;

fn photos(store: &Store) -> u64 {
    store.photo_count(None).expect("count")
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
        img::has_metadata(&original),
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
    assert!(
        !img::has_metadata(&served.body),
        "served photo carries metadata"
    );
    let decoded = image::load_from_memory(&served.body).expect("served photo decodes");
    assert_eq!((decoded.width(), decoded.height()), (20, 40));

    let thumb = get(&app, &format!("/api/photos/{id}/thumbnail"))
        .await
        .expect(200);
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    assert!(
        !img::has_metadata(&thumb.body),
        "thumbnail carries metadata"
    );
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

#[test]
fn the_test_crc32_matches_the_check_value() {
    assert_eq!(img::crc32(b"123456789"), 0xCBF4_3926);
}

/// A 12 Mpx phone photo (4000×3000 JPEG) goes through the whole check, re-encode and
/// thumbnail; the time it took is printed (`cargo test --test photos twelve -- --nocapture`).
#[test]
fn a_twelve_megapixel_phone_photo_is_processed_whole() {
    let bytes = img::jpeg(4000, 3000, 42);
    let started = std::time::Instant::now();
    let p = process(&bytes, 8 * 3600).expect("a 12 Mpx JPEG is accepted");
    let took = started.elapsed();
    eprintln!(
        "12 Mpx JPEG ({} bytes): checked, re-encoded ({} bytes) and thumbnailed in {} ms",
        bytes.len(),
        p.image.len(),
        took.as_millis()
    );
    assert_eq!((p.width, p.height), (4000, 3000));
    let thumb = image::load_from_memory(&p.thumbnail).expect("thumbnail decodes");
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
    assert_eq!(p.id, photo_id(&bytes));
}
