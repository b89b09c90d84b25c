//! MapLibre Tiles (issue 9): every tile z12–16 of the default data set, and some with site
//! filters, served as MLT decodes to the very features of the MVT tile (layers, order, ids,
//! property values, geometry type and coordinates); `.mlt`, `?f=mlt` and `Accept` give the
//! same bytes; MLT has its own ETags and 304s in every coding; bad `f` is a 400; TileJSON
//! names the MLT URLs and says which format is smaller over its sample.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::tiles::{decompress, mlt_layers, mvt_layers};
use common::{Reply, default_data, router, send};
use renewal_map::mercator::{MercRect, project};
use renewal_map::tiles::TileCoord;

const MLT_TYPE: &str = "application/vnd.maplibre-tile";

async fn fetch(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut h = vec![("host", "t")];
    h.extend_from_slice(headers);
    send(router, Method::GET, uri, &h, Body::empty()).await
}

/// Every tile of the default data set's bounds at `z`.
fn tiles_at(z: u8) -> Vec<TileCoord> {
    let snap = common::snapshot(&default_data());
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    let ([min_x, min_y], [max_x, max_y]) = (project(w, n), project(e, s));
    let rect = MercRect {
        min_x,
        min_y,
        max_x,
        max_y,
    };
    TileCoord::covering(rect, z).collect()
}

/// Fetches `path` (with `query`, may be empty) as MVT and as MLT and checks both carry the
/// same features; returns whether the tile held anything.
async fn same_features(router: &Router, path: &str, query: &str) -> bool {
    let sep = if query.is_empty() { "" } else { "?" };
    let mvt = fetch(router, &format!("{path}.mvt{sep}{query}"), &[]).await;
    let mlt = fetch(router, &format!("{path}.mlt{sep}{query}"), &[]).await;
    assert_eq!(mvt.status, mlt.status, "{path}?{query}");
    if mvt.status == StatusCode::NO_CONTENT {
        assert!(mlt.body.is_empty());
        return false;
    }
    let mlt = mlt.expect(StatusCode::OK);
    assert_eq!(mlt.header("content-type"), Some(MLT_TYPE), "{path}");
    assert_eq!(mlt.header("vary"), Some("Accept-Encoding"), "{path}");
    let want = mvt_layers(&mvt.body);
    let got = mlt_layers(&mlt.body);
    let names = |l: &common::tiles::Layers| l.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want), "{path}?{query}: layers");
    for ((name, w), (_, g)) in want.iter().zip(&got) {
        assert_eq!(g.len(), w.len(), "{path}?{query} {name}: feature count");
        for (i, (wf, gf)) in w.iter().zip(g).enumerate() {
            assert_eq!(gf, wf, "{path}?{query} {name} feature {i}");
        }
    }
    true
}

#[tokio::test]
async fn every_default_tile_z12_to_16_carries_the_same_features_as_mlt() {
    let router = router(&default_data());
    for z in 12..=16u8 {
        let tiles = tiles_at(z);
        let mut non_empty = 0;
        for t in &tiles {
            let path = format!("/tiles/{}/{}/{}", t.z, t.x, t.y);
            non_empty += usize::from(same_features(&router, &path, "").await);
        }
        println!("z{z}: {} tiles, {non_empty} non-empty", tiles.len());
        assert!(non_empty > 0, "z{z}: the data set has tiles with features");
    }
}

#[tokio::test]
async fn filtered_tiles_carry_the_same_features_as_mlt() {
    let router = router(&default_data());
    let filters = [
        "status=completed,accepted&kind=pocket_park",
        "late=true",
        "kind=compound&status=under_construction",
    ];
    for z in [12u8, 14] {
        for t in tiles_at(z).iter().take(6) {
            let path = format!("/tiles/{}/{}/{}", t.z, t.x, t.y);
            for q in filters {
                same_features(&router, &path, q).await;
            }
        }
    }
}

/// A tile of the default data with features at z14 (the first one).
async fn busy_tile(router: &Router) -> String {
    for t in tiles_at(14) {
        let path = format!("/tiles/14/{}/{}", t.x, t.y);
        let r = fetch(router, &format!("{path}.mvt"), &[]).await;
        if r.status == StatusCode::OK && r.body.len() > 2000 {
            return path;
        }
    }
    panic!("no busy z14 tile")
}

#[tokio::test]
async fn every_way_of_asking_gives_the_same_mlt_with_its_own_etags() {
    let router = router(&default_data());
    let path = busy_tile(&router).await;
    let by_ext = fetch(&router, &format!("{path}.mlt"), &[])
        .await
        .expect(StatusCode::OK);
    let by_f = fetch(&router, &format!("{path}.mvt?f=mlt"), &[])
        .await
        .expect(StatusCode::OK);
    let by_accept = fetch(&router, &format!("{path}.mvt"), &[("accept", MLT_TYPE)])
        .await
        .expect(StatusCode::OK);
    let mvt = fetch(&router, &format!("{path}.mvt"), &[("accept", "*/*")])
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_f.body, by_ext.body);
    assert_eq!(by_accept.body, by_ext.body);
    assert_eq!(by_accept.header("content-type"), Some(MLT_TYPE));
    assert_eq!(by_accept.header("vary"), Some("Accept, Accept-Encoding"));
    assert_eq!(by_f.header("vary"), Some("Accept-Encoding"));
    assert_eq!(
        mvt.header("content-type"),
        Some("application/vnd.mapbox-vector-tile")
    );
    assert_ne!(mvt.body, by_ext.body);
    let mvt_etag = mvt.etag().expect("etag");
    let mlt_etag = by_ext.etag().expect("etag");
    assert!(mlt_etag.ends_with("-mlt\""), "{mlt_etag}");
    assert_eq!(by_f.etag(), Some(mlt_etag.clone()));
    assert_ne!(mlt_etag, mvt_etag);
    // Its own ETag revalidates it; the MVT's does not, nor does MLT's revalidate MVT.
    let again = fetch(
        &router,
        &format!("{path}.mlt"),
        &[("if-none-match", &mlt_etag)],
    )
    .await
    .expect(StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.etag(), Some(mlt_etag.clone()));
    fetch(
        &router,
        &format!("{path}.mlt"),
        &[("if-none-match", &mvt_etag)],
    )
    .await
    .expect(StatusCode::OK);
    fetch(
        &router,
        &format!("{path}.mvt"),
        &[("if-none-match", &mlt_etag)],
    )
    .await
    .expect(StatusCode::OK);
    // Each coding of the MLT: the same MLT, its own strong ETag, its own 304.
    let mut etags = vec![mvt_etag, mlt_etag];
    for coding in ["gzip", "br", "zstd"] {
        let r = fetch(
            &router,
            &format!("{path}.mlt"),
            &[("accept-encoding", coding)],
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(r.header("content-encoding"), Some(coding));
        assert_eq!(
            r.header("x-tile-cache"),
            Some("hit"),
            "cached after the first"
        );
        assert_eq!(decompress(coding, &r.body), by_ext.body, "{coding}");
        let etag = r.etag().expect("etag");
        assert!(!etags.contains(&etag), "{coding}: one ETag per coding");
        fetch(
            &router,
            &format!("{path}.mlt"),
            &[("accept-encoding", coding), ("if-none-match", &etag)],
        )
        .await
        .expect(StatusCode::NOT_MODIFIED);
        etags.push(etag);
    }
}

#[tokio::test]
async fn ogc_collection_tiles_come_as_mlt_too() {
    let router = router(&default_data());
    let path = busy_tile(&router).await;
    let parts: Vec<&str> = path.split('/').collect();
    let (z, x, y) = (parts[2], parts[3], parts[4]);
    let uri = format!("/ogc/collections/roads/tiles/WebMercatorQuad/{z}/{y}/{x}");
    let mvt = fetch(&router, &uri, &[]).await;
    let mlt = fetch(&router, &format!("{uri}?f=mlt"), &[]).await;
    assert_eq!(mvt.status, mlt.status, "{uri}");
    if mvt.status == StatusCode::OK {
        assert_eq!(mlt.header("content-type"), Some(MLT_TYPE));
        assert_eq!(mlt_layers(&mlt.body), mvt_layers(&mvt.body));
        assert_eq!(mlt_layers(&mlt.body)[0].0, "roads");
        assert!(mlt.etag().expect("etag").ends_with("-mlt\""));
    }
    // The whole-data-set OGC tile has every layer.
    let uri = format!("/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}");
    let mvt = fetch(&router, &uri, &[]).await.expect(StatusCode::OK);
    let mlt = fetch(&router, &uri, &[("accept", MLT_TYPE)])
        .await
        .expect(StatusCode::OK);
    assert_eq!(mlt_layers(&mlt.body), mvt_layers(&mvt.body));
}

#[tokio::test]
async fn bad_format_requests_are_400_json() {
    let router = router(&default_data());
    let path = busy_tile(&router).await;
    for uri in [
        format!("{path}.mvt?f=xml"),
        format!("{path}.mvt?f="),
        format!("{path}.mvt?f=MLT"),
        format!("{path}.mlt?f=mvt"),
        "/tiles.json?f=pbf".to_owned(),
    ] {
        let r = fetch(&router, &uri, &[])
            .await
            .expect(StatusCode::BAD_REQUEST);
        let body = r.json();
        assert_eq!(body["error"], "invalid_parameter", "{uri}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains('f')),
            "{uri}: {body}"
        );
    }
    // An unknown extension stays a 404.
    fetch(&router, &format!("{path}.pbf"), &[])
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tilejson_names_the_mlt_tiles_and_the_smaller_format() {
    let router = router(&default_data());
    let tj = fetch(&router, "/tiles.json", &[("accept-encoding", "gzip")])
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(
        tj["tiles"][0]
            .as_str()
            .is_some_and(|t| t.ends_with("{y}.mvt"))
    );
    assert!(tj.get("encoding").is_none(), "MVT is the default");
    let f = &tj["formats"];
    assert!(
        f["mlt"]["tiles"][0]
            .as_str()
            .is_some_and(|t| t.ends_with("{y}.mlt"))
    );
    assert_eq!(f["mlt"]["encoding"], "mlt");
    assert_eq!(f["mlt"]["type"], MLT_TYPE);
    let sample = &f["sample"];
    assert_eq!(sample["coding"], "gzip");
    assert!(sample["tiles"].as_u64().is_some_and(|n| n > 0), "{sample}");
    let (mvt, mlt) = (
        sample["mvt_bytes"].as_u64().expect("mvt bytes"),
        sample["mlt_bytes"].as_u64().expect("mlt bytes"),
    );
    assert!(mvt > 0 && mlt > 0);
    assert_eq!(f["smaller"], if mlt < mvt { "mlt" } else { "mvt" });
    let tj = fetch(&router, "/tiles.json?f=mlt", &[])
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(
        tj["tiles"][0]
            .as_str()
            .is_some_and(|t| t.ends_with("{y}.mlt"))
    );
    assert_eq!(tj["encoding"], "mlt");
    assert_eq!(tj["formats"]["sample"]["coding"], "identity");
}
