//! The small hardening items, in-process: unknown parameters on `/health` and `/ogc/api`
//! refused, a site at (0, 0) refused at load, the tile cache independent of filter order,
//! and the token gate's order (401 before the body, 429 from one address only, also behind a
//! trusted proxy).

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use common::store::{Fixture, router_of, token};
use common::{fixture_dir, get, router};
use http_body_util::BodyExt;
use renewal_map::model::Role;
use tower::ServiceExt;

#[tokio::test]
async fn health_and_the_openapi_document_refuse_unknown_parameters() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for uri in ["/health?verbose=1", "/ogc/api?x=1", "/ogc/api?f=xml"] {
        let r = get(&router, uri).await.expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"], "invalid_parameter", "{uri}");
    }
    let health = get(&router, "/health").await.expect(StatusCode::OK).json();
    assert_eq!(health["status"], "ok");
    assert!(health.get("reason").is_none(), "{health}");
    get(&router, "/ogc/api?f=json").await.expect(StatusCode::OK);
}

#[test]
fn a_site_at_null_island_is_refused_at_load() {
    let dir = fixture_dir();
    let path = dir.path().join("sites.geojson");
    let mut fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let site = fc["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["geometry"]["type"] == "LineString")
        .expect("a line site in the fixture");
    let id = site["id"].as_str().unwrap().to_owned();
    site["geometry"]["coordinates"] = serde_json::json!([[0.0, 0.0], [0.001, 0.001]]);
    std::fs::write(&path, fc.to_string()).unwrap();
    let err = renewal_map::load::load_dataset(dir.path())
        .expect_err("(0, 0) is refused")
        .to_string();
    assert!(err.contains(&id) && err.contains("(0, 0)"), "{err}");
}

#[tokio::test]
async fn the_tile_cache_does_not_depend_on_filter_order() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let base = "/tiles/12/3452/1523.mvt";
    let first = get(
        &router,
        &format!("{base}?status=completed,planned&kind=pocket_park,road"),
    )
    .await;
    assert_eq!(first.header("x-tile-cache"), Some("miss"));
    for query in [
        "status=planned,completed&kind=road,pocket_park",
        "kind=pocket_park,road&status=completed,planned,completed",
    ] {
        let again = get(&router, &format!("{base}?{query}")).await;
        assert_eq!(again.header("x-tile-cache"), Some("hit"), "{query}");
        assert_eq!(again.body, first.body);
    }
}

async fn me_from(
    router: &axum::Router,
    peer: [u8; 4],
    token: &str,
) -> (StatusCode, Option<String>) {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri("/api/me")
        .header("Authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((peer, 40000))));
    let resp = router.clone().oneshot(req).await.expect("request");
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("request").to_owned());
    (resp.status(), retry)
}

#[tokio::test]
async fn the_gate_checks_tokens_first_and_throttles_one_address() {
    let fixture = Fixture::new();
    let (state, store) = fixture.open();
    let good = token(&store, "planner", Role::Planner, &[], &[]);
    let app = router_of(&state);
    // A body that is not even JSON: the missing token is what is reported.
    let req = Request::builder()
        .method(Method::PATCH)
        .uri("/api/sites/park-001")
        .header("If-Match", "\"1\"")
        .body(Body::from("not json"))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("unauthorized"));

    let bad = format!("rm_{}", "0".repeat(64));
    let mut seen = Vec::new();
    for _ in 0..12 {
        seen.push(me_from(&app, [192, 0, 2, 7], &bad).await);
    }
    assert!(
        seen[..10]
            .iter()
            .all(|(s, _)| *s == StatusCode::UNAUTHORIZED),
        "{seen:?}"
    );
    assert!(
        seen[10..]
            .iter()
            .all(|(s, r)| *s == StatusCode::TOO_MANY_REQUESTS && r.is_some()),
        "{seen:?}"
    );
    assert_eq!(me_from(&app, [192, 0, 2, 8], &good).await.0, StatusCode::OK);
    assert_eq!(
        me_from(&app, [192, 0, 2, 8], &bad).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn me_via_proxy(router: &axum::Router, client: &str, token: &str) -> StatusCode {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri("/api/me")
        .header("Authorization", format!("Bearer {token}"))
        .header("X-Forwarded-For", client)
        .body(Body::empty())
        .expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    router.clone().oneshot(req).await.expect("request").status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_guesser_does_not_block_the_others() {
    let fixture = Fixture::new();
    let (mut state, store) = fixture.open();
    let good = token(&store, "planner", Role::Planner, &[], &[]);
    let mut config = (*state.config).clone();
    config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    state.config = std::sync::Arc::new(config);
    let app = router_of(&state);
    let bad = format!("rm_{}", "0".repeat(64));
    let mut seen = Vec::new();
    for _ in 0..11 {
        seen.push(me_via_proxy(&app, "198.51.100.7", &bad).await);
    }
    assert_eq!(seen[10], StatusCode::TOO_MANY_REQUESTS, "{seen:?}");
    // Another client of the same proxy is not blocked, neither with a bad nor a good token.
    assert_eq!(
        me_via_proxy(&app, "198.51.100.8", &bad).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_via_proxy(&app, "198.51.100.8", &good).await,
        StatusCode::OK
    );
    // A guesser cannot escape its budget by prepending addresses of its own.
    assert_eq!(
        me_via_proxy(&app, "203.0.113.1, 198.51.100.7", &bad).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
