//! `Idempotency-Key` on `PATCH /api/sites/{id}` (issue 13): a field team's outbox replays an
//! update whose answer was lost; the server answers the repeat with the original result and
//! applies nothing twice, across a restart too. A key reused for another request is 422; a
//! malformed key is 400; keys belong to their account.

mod common;

use axum::Router;
use axum::http::Method;
use common::store::{Fixture, SUB_B, router_of, token, version};
use common::{Reply, send};
use renewal_map::model::Role;

/// `PATCH` with If-Match `"v"` and, if given, an Idempotency-Key.
async fn patch_with_key(app: &Router, token: &str, v: u64, key: Option<&str>, body: &str) -> Reply {
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
        "/api/sites/compound-001",
        &headers,
        body.to_owned(),
    )
    .await
}

#[tokio::test]
async fn a_replayed_update_is_answered_with_the_original_result_and_applied_once() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team B", Role::Field, &[SUB_B.0], &[]);
    let key = "7f9c2d1e-0b4a-4c55-9a61-3f2e8d7c6b5a";
    let body = r#"{"progress": 55, "note": "脚手架已拆"}"#;

    let first = patch_with_key(&app, &team, 1, Some(key), body)
        .await
        .expect(200);
    assert_eq!(first.etag().as_deref(), Some("\"2\""));
    assert_eq!(first.header("idempotent-replayed"), None);

    // The outbox never saw that answer and sends the same update again, against the version
    // it was made on: the original result, marked as a replay, and nothing new written.
    let again = patch_with_key(&app, &team, 1, Some(key), body)
        .await
        .expect(200);
    assert_eq!(again.etag().as_deref(), Some("\"2\""));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["properties"]["progress"], 55);
    assert_eq!(again.json()["properties"]["note"], "脚手架已拆");
    assert_eq!(version(&app, "compound-001").await, 2);
    assert_eq!(store.change_count(None).expect("count"), 1);

    // Whitespace and key order do not make it another request.
    let spaced = r#"{ "progress":55,
        "note":"脚手架已拆" }"#;
    patch_with_key(&app, &team, 1, Some(key), spaced)
        .await
        .expect(200);

    // The same key for another update is refused, and writes nothing.
    let r = patch_with_key(&app, &team, 2, Some(key), r#"{"progress": 60}"#)
        .await
        .expect(422);
    assert_eq!(r.json()["error"], "idempotency_key_reused");
    assert_eq!(store.change_count(None).expect("count"), 1);

    // A new key is a new update, and without a key updates work as before.
    patch_with_key(&app, &team, 2, Some("second-update"), r#"{"progress": 60}"#)
        .await
        .expect(200);
    patch_with_key(&app, &team, 3, None, r#"{"progress": 61}"#)
        .await
        .expect(200);
    assert_eq!(store.change_count(None).expect("count"), 3);

    // Another account's key of the same spelling is its own.
    let other = token(&store, "Team B2", Role::Field, &[SUB_B.0], &[]);
    patch_with_key(&app, &other, 4, Some(key), r#"{"progress": 62}"#)
        .await
        .expect(200);
    assert_eq!(version(&app, "compound-001").await, 5);

    // Keys are kept in the store: after a restart the first replay is still recognised.
    drop((state, app));
    let (state, store) = fx.open();
    let app = router_of(&state);
    let late = patch_with_key(&app, &team, 1, Some(key), body)
        .await
        .expect(200);
    assert_eq!(late.etag().as_deref(), Some("\"2\""));
    assert_eq!(late.header("idempotent-replayed"), Some("true"));
    assert_eq!(store.change_count(None).expect("count"), 4);
    assert_eq!(version(&app, "compound-001").await, 5);
}

#[tokio::test]
async fn malformed_keys_are_refused_before_anything_is_written() {
    let fx = Fixture::new();
    let (state, store) = fx.open();
    let app = router_of(&state);
    let team = token(&store, "Team B", Role::Field, &[SUB_B.0], &[]);
    let long = "k".repeat(256);
    for key in ["", "   ", "has space", "ключ", long.as_str()] {
        let r = patch_with_key(&app, &team, 1, Some(key), r#"{"progress": 50}"#).await;
        let r = r.expect(400);
        assert_eq!(r.json()["error"], "invalid_idempotency_key", "{key:?}");
    }
    patch_with_key(
        &app,
        &team,
        1,
        Some(&"k".repeat(255)),
        r#"{"progress": 50}"#,
    )
    .await
    .expect(200);
    assert_eq!(store.change_count(None).expect("count"), 1);
}
