//! Tiles in every content coding (issue 9): gzip, brotli and zstd responses decode to the very
//! MVT sent uncoded, with the same features; each coding has its own strong ETag and 304; the
//! coding follows `Accept-Encoding` q-values; a cached tile serves every coding.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::tiles::{decompress, mvt_layers};
use common::{Reply, fixture_dir, router, send};

/// Tiles of the fixture: z12 holds everything, z16 one park.
const TILES: [&str; 3] = [
    "/tiles/12/3452/1523.mvt",
    "/tiles/16/55234/24374.mvt",
    "/ogc/collections/parks/tiles/WebMercatorQuad/12/1523/3452",
];

async fn fetch(router: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut h = vec![("host", "t")];
    h.extend_from_slice(headers);
    send(router, Method::GET, uri, &h, Body::empty()).await
}

#[tokio::test]
async fn every_coding_decodes_to_the_identity_tile() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for uri in TILES {
        let plain = fetch(&router, uri, &[]).await.expect(StatusCode::OK);
        assert_eq!(plain.header("content-encoding"), None, "{uri}");
        // Accept may choose MLT on these routes (tests/tile_mlt.rs), so it is named too.
        assert_eq!(plain.header("vary"), Some("Accept, Accept-Encoding"));
        let want = mvt_layers(&plain.body);
        assert!(
            want.iter().any(|(_, fs)| !fs.is_empty()),
            "{uri}: the fixture tile holds features"
        );
        let mut etags = vec![plain.etag().expect("etag")];
        for coding in ["gzip", "br", "zstd"] {
            let r = fetch(&router, uri, &[("accept-encoding", coding)])
                .await
                .expect(StatusCode::OK);
            assert_eq!(r.header("content-encoding"), Some(coding), "{uri}");
            assert_eq!(r.header("vary"), Some("Accept, Accept-Encoding"));
            assert_eq!(
                r.header("content-type"),
                Some("application/vnd.mapbox-vector-tile")
            );
            assert!(r.body.len() < plain.body.len(), "{uri} {coding} shrinks");
            let mvt = decompress(coding, &r.body);
            assert_eq!(mvt, plain.body, "{uri} {coding}: the same MVT");
            assert_eq!(mvt_layers(&mvt), want, "{uri} {coding}: the same features");
            let etag = r.etag().expect("etag");
            assert!(
                etag.starts_with('"') && etag.ends_with('"'),
                "strong {etag}"
            );
            assert!(!etags.contains(&etag), "{uri}: one ETag per coding");
            // Its own ETag revalidates it.
            let again = fetch(
                &router,
                uri,
                &[("accept-encoding", coding), ("if-none-match", &etag)],
            )
            .await
            .expect(StatusCode::NOT_MODIFIED);
            assert!(again.body.is_empty());
            assert_eq!(again.etag(), Some(etag.clone()));
            etags.push(etag);
        }
    }
}

#[tokio::test]
async fn coding_follows_q_values_and_cached_tiles_serve_each() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let uri = TILES[0];
    let cases = [
        ("gzip, deflate, br, zstd", Some("br")),
        ("gzip;q=1, br;q=0.5", Some("gzip")),
        ("br;q=0.1, zstd;q=0.2", Some("zstd")),
        ("*;q=0.3, gzip;q=0", Some("br")),
        ("br;q=0, zstd;q=0, gzip;q=0", None),
        ("identity", None),
        ("br;q=2, gzip", Some("gzip")), // a malformed entry is skipped
    ];
    let first = fetch(&router, uri, &[]).await.expect(StatusCode::OK);
    assert_eq!(first.header("x-tile-cache"), Some("miss"));
    for (accept, want) in cases {
        let r = fetch(&router, uri, &[("accept-encoding", accept)])
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.header("content-encoding"), want, "{accept}");
        assert_eq!(r.header("x-tile-cache"), Some("hit"), "{accept}");
        let mvt = match want {
            Some(c) => decompress(c, &r.body),
            None => r.body.clone(),
        };
        assert_eq!(mvt, first.body, "{accept}");
    }
    // A coding made once is served again as the same bytes.
    let a = fetch(&router, uri, &[("accept-encoding", "zstd")]).await;
    let b = fetch(&router, uri, &[("accept-encoding", "zstd")]).await;
    assert_eq!(a.body, b.body);
    assert_eq!(a.etag(), b.etag());
}

#[tokio::test]
async fn empty_tiles_stay_204_in_every_coding() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for coding in ["gzip", "br", "zstd", "identity"] {
        let r = fetch(&router, "/tiles/12/0/0.mvt", &[("accept-encoding", coding)])
            .await
            .expect(StatusCode::NO_CONTENT);
        assert!(r.body.is_empty());
        assert_eq!(r.header("content-encoding"), None);
    }
}
