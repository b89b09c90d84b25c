//! One real server on 127.0.0.1 with a real client: health, a tile, an item, a 4xx.

mod common;

use common::{http, router, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_socket_smoke() {
    let addr = serve(router(&common::default_data())).await;
    let (status, _, body) =
        tokio::task::spawn_blocking(move || http(addr, "GET", "/health", &[], ""))
            .await
            .unwrap()
            .expect("an answer");
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sites"], 240);
    let (status, headers, body) =
        tokio::task::spawn_blocking(move || http(addr, "GET", "/tiles/12/3452/1522.mvt", &[], ""))
            .await
            .unwrap()
            .expect("an answer");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/vnd.mapbox-vector-tile")
    );
    assert!(!body.is_empty());
    let (status, _, body) = tokio::task::spawn_blocking(move || {
        http(
            addr,
            "GET",
            "/ogc/collections/parks/items/park-001",
            &[],
            "",
        )
    })
    .await
    .unwrap()
    .expect("an answer");
    assert_eq!(status, 200);
    let park: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(park["properties"]["kind"], "pocket_park");
    let (status, _, body) =
        tokio::task::spawn_blocking(move || http(addr, "GET", "/tiles/30/0/0.mvt", &[], ""))
            .await
            .unwrap()
            .expect("an answer");
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("zoom_out_of_range"));
}
