//! Photos attached to status updates (issue 13): `"photos"` and `"position"` on
//! `PATCH /api/sites/{id}`, refused attachments that change nothing, a photo alone as an
//! update, the history and the feed showing both, and an idempotent replay.

mod common;
mod photos_support;

use axum::Router;
use axum::http::Method;
use common::store::{Fixture, SUB_B, router_of, token, version};
use common::{Reply, get, send};
use photos_support::{self as img, upload};
use renewal_map::model::Role;
use serde_json::Value;

/// The data of the first event of `GET /api/events?since=<since>`.
async fn first_event(app: &Router, since: i64) -> Value {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(format!("/api/events?since={since}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let mut body = app
        .clone()
        .oneshot(req)
        .await
        .expect("infallible")
        .into_body();
    let mut text = String::new();
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .expect("stream open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            text.push_str(std::str::from_utf8(&data).expect("utf-8"));
        }
        if let Some(line) = text.lines().find_map(|l| l.strip_prefix("data:"))
            && text.contains("\n\n")
        {
            return serde_json::from_str(line.trim()).expect("json data");
        }
    }
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

    let event = first_event(&app, seq1 - 1).await;
    assert_eq!(event["seq"].as_i64(), Some(seq1));
    assert_eq!(event["photos"][0]["url"], format!("/api/photos/{p1}"));
    assert_eq!(event["position"]["accuracy_m"], 12.5);

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
