//! OGC API – Tiles 1.0: tile matrix set, tilesets, tiles equal byte for byte (and header for
//! header) to `/tiles/…`, collection tiles holding only their layer, and the errors.

mod common;

use axum::http::Method;
use common::{fixture_dir, get, router, send};
use mvt_reader::Reader;

/// Layer names of an MVT tile.
fn layers(bytes: &[u8]) -> Vec<String> {
    let reader = Reader::new(bytes.to_vec()).expect("tile decodes");
    reader
        .get_layer_names()
        .expect("layer names")
        .into_iter()
        .collect()
}

#[tokio::test]
async fn tile_matrix_set_and_tilesets_describe_web_mercator() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let list = get(&router, "/ogc/tileMatrixSets").await.expect(200).json();
    assert_eq!(list["tileMatrixSets"][0]["id"], "WebMercatorQuad");
    let tms = get(&router, "/ogc/tileMatrixSets/WebMercatorQuad")
        .await
        .expect(200)
        .json();
    let m = tms["tileMatrices"].as_array().unwrap();
    assert_eq!(m.len(), 23, "zooms 0 to 22");
    assert_eq!(m[0]["matrixWidth"], 1);
    assert_eq!(m[22]["matrixWidth"], 1u64 << 22);
    let scale0 = m[0]["scaleDenominator"].as_f64().unwrap();
    assert!((scale0 - 559_082_264.028_717_2).abs() < 1e-3, "{scale0}");
    get(&router, "/ogc/tileMatrixSets/WorldCRS84Quad")
        .await
        .expect(404);
    let sets = get(&router, "/ogc/tiles").await.expect(200).json();
    assert_eq!(sets["tilesets"][0]["dataType"], "vector");
    let set = get(&router, "/ogc/tiles/WebMercatorQuad")
        .await
        .expect(200)
        .json();
    let item = set["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "item")
        .unwrap();
    assert_eq!(
        item["href"],
        "http://test.local/ogc/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
    );
    let parks = get(&router, "/ogc/collections/parks/tiles/WebMercatorQuad")
        .await
        .expect(200)
        .json();
    assert_eq!(parks["layers"].as_array().unwrap().len(), 1);
    assert_eq!(parks["layers"][0]["id"], "parks");
    let conf = get(&router, "/ogc/conformance").await.expect(200).json();
    let classes = conf["conformsTo"].as_array().unwrap();
    assert!(
        classes
            .iter()
            .any(|c| c == "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core")
    );
    let landing = get(&router, "/ogc").await.expect(200).json();
    assert!(
        landing["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
    );
}

#[tokio::test]
async fn ogc_tiles_are_the_same_bytes_and_headers_as_tiles() {
    let dir = fixture_dir();
    let router = router(dir.path());
    // A sample over the fixture at several zooms, row before column in the OGC path.
    let sample = [
        (11, 1726, 761),
        (13, 6904, 3046),
        (14, 13808, 6092),
        (14, 13808, 6093),
        (3, 6, 2),
        (16, 55234, 24374),
        (16, 0, 0),
    ];
    let mut non_empty = 0;
    for (z, x, y) in sample {
        for gzip in [false, true] {
            let enc: &[(&str, &str)] = if gzip {
                &[("host", "t"), ("accept-encoding", "gzip")]
            } else {
                &[("host", "t")]
            };
            let plain = send(
                &router,
                Method::GET,
                &format!("/tiles/{z}/{x}/{y}.mvt"),
                enc,
                "",
            )
            .await;
            let ogc = send(
                &router,
                Method::GET,
                &format!("/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}"),
                enc,
                "",
            )
            .await;
            assert_eq!(plain.status, ogc.status, "{z}/{x}/{y}");
            assert_eq!(plain.body, ogc.body, "{z}/{x}/{y} gzip={gzip}");
            for h in [
                "content-type",
                "etag",
                "cache-control",
                "content-encoding",
                "vary",
            ] {
                assert_eq!(plain.header(h), ogc.header(h), "{h} of {z}/{x}/{y}");
            }
            if plain.status == 200 && !gzip {
                non_empty += 1;
            }
        }
    }
    assert!(non_empty >= 3, "the sample holds real tiles");
    // Empty in-range tile: 204.
    get(&router, "/ogc/tiles/WebMercatorQuad/5/0/0")
        .await
        .expect(204);
}

#[tokio::test]
async fn collection_tiles_hold_only_their_layer() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let full = get(&router, "/tiles/11/1726/761.mvt").await.expect(200);
    let all = layers(&full.body);
    assert!(all.len() > 3, "{all:?}");
    for (c, layer) in [
        ("parks", "parks"),
        ("sites", "site_points"),
        ("roads", "roads"),
        ("district", "district"),
    ] {
        let r = get(
            &router,
            &format!("/ogc/collections/{c}/tiles/WebMercatorQuad/11/761/1726"),
        )
        .await
        .expect(200);
        assert_eq!(layers(&r.body), [layer], "{c}");
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.mapbox-vector-tile")
        );
        assert!(r.etag().is_some());
        // The layer's features are those of the full tile.
        let one = Reader::new(r.body.clone()).unwrap();
        let whole = Reader::new(full.body.clone()).unwrap();
        let idx = all.iter().position(|l| l == layer).unwrap();
        assert_eq!(
            one.get_features(0).unwrap().len(),
            whole.get_features(idx).unwrap().len(),
            "{c}"
        );
    }
    // Filters apply to collection tiles too; a collection with nothing there is 204.
    get(
        &router,
        "/ogc/collections/parks/tiles/WebMercatorQuad/11/761/1726?status=planned",
    )
    .await
    .expect(204);
}

#[tokio::test]
async fn tile_errors_follow_the_standard() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for (path, status) in [
        ("/ogc/tiles/WorldCRS84Quad/3/0/0", 404),
        ("/ogc/tiles/WebMercatorQuad/23/0/0", 404),
        ("/ogc/tiles/WebMercatorQuad/zz/0/0", 404),
        ("/ogc/tiles/WebMercatorQuad/3/8/0", 404),
        ("/ogc/tiles/WebMercatorQuad/3/0/8", 404),
        ("/ogc/tiles/WebMercatorQuad/3/x/0", 400),
        ("/ogc/tiles/WebMercatorQuad/3/0/-1", 400),
        ("/ogc/collections/nope/tiles/WebMercatorQuad/3/0/0", 404),
        ("/ogc/tiles/WebMercatorQuad/3/0/0?colour=red", 400),
    ] {
        let r = get(&router, path).await.expect(status);
        let body = r.json();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{path}: {body}"
        );
    }
}
