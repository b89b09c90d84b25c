//! Vector tiles decoded by an independent decoder (mvt-reader): layers, ids, properties,
//! coverage of every site, coordinates within the buffered extent, polygon validity, empty
//! tiles, gzip, ETags and filters.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{fixture_dir, get, router, send, snapshot};
use geo::{Geometry, Intersects, Rect};
use mvt_reader::Reader;
use mvt_reader::feature::Value as TagValue;
use renewal_map::snapshot::Snapshot;
use renewal_map::tiles::encode::site_layer;
use renewal_map::tiles::{BUFFER, EXTENT, TileCoord};

/// A decoded tile: layer name → features.
type Decoded = BTreeMap<String, Vec<mvt_reader::feature::Feature<f64>>>;

fn decode(bytes: &[u8]) -> Decoded {
    let reader = Reader::new(bytes.to_vec()).expect("tile decodes");
    let names = reader.get_layer_names().expect("layer names");
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            (
                name,
                reader.get_features_as::<f64>(i).expect("features decode"),
            )
        })
        .collect()
}

fn tag<'a>(f: &'a mvt_reader::feature::Feature<f64>, key: &str) -> Option<&'a TagValue> {
    f.properties.as_ref().and_then(|p| p.get(key))
}

fn shoelace(ring: &geo::LineString<f64>) -> f64 {
    ring.lines()
        .map(|l| l.start.x * l.end.y - l.end.x * l.start.y)
        .sum::<f64>()
        / 2.0
}

/// Checks every coordinate lies within the buffered extent and every polygon is well formed:
/// closed rings of 4+ points, exterior positive area in tile units (y down), holes negative.
fn check_geometry(g: &Geometry<f64>) {
    use geo::CoordsIter;
    let lo = -f64::from(BUFFER);
    let hi = f64::from(EXTENT + BUFFER);
    for c in g.coords_iter() {
        assert!(
            (lo..=hi).contains(&c.x) && (lo..=hi).contains(&c.y),
            "coordinate {c:?} outside buffered extent"
        );
    }
    let polys: Vec<&geo::Polygon<f64>> = match g {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(m) => m.iter().collect(),
        _ => vec![],
    };
    for p in polys {
        use geo::Validation;
        assert!(
            p.is_valid(),
            "invalid polygon in tile: {:?}",
            p.validation_errors()
        );
        assert!(p.exterior().0.len() >= 4 && p.exterior().is_closed());
        assert!(
            shoelace(p.exterior()) > 0.0,
            "exterior ring must have positive area (MVT 2.1)"
        );
        for hole in p.interiors() {
            assert!(hole.0.len() >= 4);
            assert!(shoelace(hole) < 0.0, "holes must have negative area");
        }
    }
}

async fn tile(router: &axum::Router, t: TileCoord) -> Option<Decoded> {
    let r = get(router, &format!("/tiles/{}/{}/{}.mvt", t.z, t.x, t.y)).await;
    match r.status {
        StatusCode::NO_CONTENT => {
            assert!(r.body.is_empty());
            None
        }
        StatusCode::OK => {
            assert_eq!(
                r.header("content-type"),
                Some("application/vnd.mapbox-vector-tile")
            );
            Some(decode(&r.body))
        }
        s => panic!(
            "tile {t:?}: status {s}: {}",
            String::from_utf8_lossy(&r.body)
        ),
    }
}

/// The tile's WGS84 rectangle shrunk by a hair, so that touching an edge does not count.
fn inner_rect(t: TileCoord) -> Rect<f64> {
    let [w, s, e, n] = t.lnglat_bounds();
    let eps = (e - w) * 1e-4;
    Rect::new((w + eps, s + eps), (e - eps, n - eps))
}

/// Every site appears, with its fid and status, in every tile of zoom `z` that its geometry
/// enters, and in `site_points` of the tile holding its label point; all geometry is valid.
async fn check_every_site_in_covering_tiles(snap: &Snapshot, router: &axum::Router, z: u8) {
    let mut tiles: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
    for (pos, b) in snap.fixed.site_shapes.bounds.iter().enumerate() {
        for t in TileCoord::covering(*b, z) {
            tiles.entry((t.x, t.y)).or_default().push(pos);
        }
    }
    let mut seen_points = HashSet::new();
    for ((x, y), positions) in tiles {
        let t = TileCoord { z, x, y };
        let decoded = tile(router, t).await.unwrap_or_default();
        for features in decoded.values() {
            for f in features {
                check_geometry(&f.geometry);
            }
        }
        for pos in positions {
            let site = &snap.sites[pos];
            let layer = site_layer(site.kind);
            let enters = site.geometry.intersects(&inner_rect(t));
            let found = decoded
                .get(layer)
                .into_iter()
                .flatten()
                .find(|f| f.id == Some(site.fid));
            if enters {
                let f = found.unwrap_or_else(|| {
                    panic!("{} missing from {layer} in tile {z}/{x}/{y}", site.id)
                });
                assert_eq!(tag(f, "id"), Some(&TagValue::String(site.id.to_string())));
                assert_eq!(
                    tag(f, "status"),
                    Some(&TagValue::String(site.status.to_string()))
                );
            }
            if decoded
                .get("site_points")
                .into_iter()
                .flatten()
                .any(|f| f.id == Some(site.fid))
            {
                assert!(
                    seen_points.insert(site.fid),
                    "{} labelled in two tiles",
                    site.id
                );
            }
        }
    }
    assert_eq!(
        seen_points.len(),
        snap.sites.len(),
        "every site has exactly one label point at z{z}"
    );
}

#[tokio::test]
async fn fixture_sites_are_in_every_tile_they_enter() {
    let dir = fixture_dir();
    let snap = snapshot(dir.path());
    let router = router(dir.path());
    for z in [12, 14, 16, 18] {
        check_every_site_in_covering_tiles(&snap, &router, z).await;
    }
}

#[tokio::test]
async fn default_data_sites_are_in_every_tile_they_enter() {
    let dir = common::default_data();
    let snap = snapshot(&dir);
    assert!(
        snap.sites.len() >= 240,
        "default data set has the plan's sites"
    );
    let router = router(&dir);
    for z in [13, 15] {
        check_every_site_in_covering_tiles(&snap, &router, z).await;
    }
}

#[tokio::test]
async fn tile_holds_each_layer_with_ids_and_properties() {
    let dir = fixture_dir();
    let router = router(dir.path());
    // z12 tile holding the whole fixture district.
    let t = TileCoord::containing(123.42, 41.82, 12);
    let decoded = tile(&router, t).await.expect("tile has content");
    for layer in [
        "district",
        "subdistricts",
        "streets",
        "compounds",
        "parks",
        "roads",
        "landmarks",
        "site_points",
    ] {
        assert!(
            decoded.get(layer).is_some_and(|f| !f.is_empty()),
            "layer {layer} missing: {:?}",
            decoded.keys()
        );
    }
    let parks = &decoded["parks"];
    let open = parks.iter().find(|f| f.id == Some(101)).expect("park-001");
    assert_eq!(tag(open, "open"), Some(&TagValue::Bool(true)));
    assert_eq!(
        tag(open, "name"),
        Some(&TagValue::String("测试park-001".into()))
    );
    let compound = decoded["compounds"]
        .iter()
        .find(|f| f.id == Some(201))
        .expect("compound");
    assert_eq!(tag(compound, "households"), Some(&TagValue::UInt(420)));
    match &compound.geometry {
        Geometry::Polygon(p) => assert_eq!(p.interiors().len(), 1, "courtyard hole kept"),
        Geometry::MultiPolygon(m) => assert_eq!(m.0[0].interiors().len(), 1, "courtyard hole kept"),
        g => panic!("compound is {g:?}"),
    }
    // The alley is late? No: it finishes in 2027. The road finished 2026-06-30 and is not done.
    let road = decoded["roads"]
        .iter()
        .find(|f| f.id == Some(302))
        .expect("road");
    assert_eq!(tag(road, "late"), Some(&TagValue::Bool(true)));
    let alley = decoded["roads"]
        .iter()
        .find(|f| f.id == Some(401))
        .expect("alley");
    assert_eq!(tag(alley, "late"), Some(&TagValue::Bool(false)));
}

#[tokio::test]
async fn empty_tiles_are_204_at_every_zoom() {
    let dir = fixture_dir();
    let router = router(dir.path());
    for (z, x, y) in [
        (1, 0, 0),
        (5, 0, 31),
        (14, 0, 0),
        (22, 0, 0),
        (22, (1 << 22) - 1, (1 << 22) - 1),
    ] {
        assert!(
            tile(&router, TileCoord::new(z, x, y).unwrap())
                .await
                .is_none(),
            "{z}/{x}/{y}"
        );
    }
    // z0 holds the whole world: the 4 km district is sub-pixel there and left out, but the
    // sites keep their label points, so the tile is not empty.
    let world = tile(&router, TileCoord::new(0, 0, 0).unwrap())
        .await
        .expect("z0 has the site points");
    assert!(
        !world.contains_key("district") && !world.contains_key("parks"),
        "sub-pixel areas are left out"
    );
    assert_eq!(
        world["site_points"].len(),
        6,
        "but every site has its point"
    );
}

#[tokio::test]
async fn filters_change_what_is_in_the_tile() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let base = "/tiles/12/3452/1523.mvt";
    let all = decode(&get(&router, base).await.expect(StatusCode::OK).body);
    assert_eq!(all["parks"].len(), 3);
    let done = decode(
        &get(&router, &format!("{base}?status=completed,accepted"))
            .await
            .expect(StatusCode::OK)
            .body,
    );
    assert_eq!(done["parks"].len(), 2);
    assert!(!done.contains_key("compounds"));
    assert!(
        done.contains_key("district"),
        "base layers are not filtered"
    );
    let kind = decode(
        &get(&router, &format!("{base}?kind=alley"))
            .await
            .expect(StatusCode::OK)
            .body,
    );
    assert_eq!(kind["roads"].len(), 1);
    let late = decode(
        &get(&router, &format!("{base}?late=true"))
            .await
            .expect(StatusCode::OK)
            .body,
    );
    let late_ids: HashSet<u64> = late["site_points"].iter().filter_map(|f| f.id).collect();
    assert_eq!(late_ids, HashSet::from([102, 201, 302]));
    let east = decode(
        &get(&router, &format!("{base}?subdistrict=999002"))
            .await
            .expect(StatusCode::OK)
            .body,
    );
    assert!(
        east["site_points"]
            .iter()
            .all(|f| tag(f, "subdistrict") == Some(&TagValue::String("东街道".into())))
    );
}

#[tokio::test]
async fn gzip_etag_and_not_modified() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let uri = "/tiles/12/3452/1523.mvt";
    let plain = get(&router, uri).await.expect(StatusCode::OK);
    let etag = plain.header("etag").expect("etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong etag: {etag}"
    );
    assert!(plain.header("cache-control").is_some());
    let gz = send(
        &router,
        Method::GET,
        uri,
        &[("accept-encoding", "gzip, deflate")],
        Body::empty(),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_ne!(
        gz.header("etag"),
        Some(etag.as_str()),
        "each encoding has its own strong etag"
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(gz.body.as_slice())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);
    let again = send(
        &router,
        Method::GET,
        uri,
        &[("if-none-match", etag.as_str())],
        Body::empty(),
    )
    .await
    .expect(StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let other = send(
        &router,
        Method::GET,
        uri,
        &[("if-none-match", "\"0000\"")],
        Body::empty(),
    )
    .await;
    other.expect(StatusCode::OK);
}

#[tokio::test]
async fn tilejson_describes_the_tiles() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let tj = get(&router, "/tiles.json")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["tiles"][0], "http://test.local/tiles/{z}/{x}/{y}.mvt");
    assert_eq!(tj["minzoom"], 0);
    assert_eq!(tj["maxzoom"], 22);
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        (b[0] - 123.40).abs() < 1e-9 && (b[3] - 41.84).abs() < 1e-9,
        "{b:?}"
    );
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    for l in [
        "district",
        "subdistricts",
        "streets",
        "roads",
        "compounds",
        "parks",
        "plazas",
        "site_points",
    ] {
        assert!(layers.contains(&l), "{l}");
    }
    let parks = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "parks")
        .unwrap();
    assert_eq!(parks["fields"]["open"], "Boolean");
}

/// The tile cache serves repeats, and an edit drops exactly the tiles it touches.
#[test]
fn cache_keeps_untouched_tiles_across_an_edit() {
    use renewal_map::model::{Date, RenewalStatus, SiteFilter};
    use renewal_map::tiles::cache::{CacheOutcome, TileCache};
    use renewal_map::tiles::encode::TileRequest;
    let dir = fixture_dir();
    let snap = snapshot(dir.path());
    let cache = TileCache::new(1 << 20);
    let filter = SiteFilter::default();
    let today: Date = common::TODAY.parse().unwrap();
    let at = |lng: f64, lat: f64| TileCoord::containing(lng, lat, 16);
    let (near, far) = (at(123.41025, 41.81025), at(123.4302, 41.8302)); // park-001, park-002
    let get = |s: &Snapshot, tile| {
        cache
            .get_or_encode(
                s,
                TileRequest {
                    tile,
                    filter: &filter,
                    today,
                },
            )
            .unwrap()
    };
    assert_eq!(get(&snap, near).1, CacheOutcome::Miss);
    assert_eq!(get(&snap, far).1, CacheOutcome::Miss);
    let (first, outcome) = get(&snap, near);
    assert_eq!(outcome, CacheOutcome::Hit);

    let mut park = snap.site("park-001").unwrap().as_ref().clone();
    park.status = RenewalStatus::Accepted;
    let edited = snap.with_site(park).unwrap();
    let (fresh, outcome) = get(&edited, near);
    assert_eq!(
        outcome,
        CacheOutcome::Miss,
        "the edited park's tile is encoded again"
    );
    assert_ne!(fresh.hash, first.hash);
    let decoded = decode(fresh.mvt.as_ref().unwrap());
    let park = decoded["parks"].iter().find(|f| f.id == Some(101)).unwrap();
    assert_eq!(
        tag(park, "status"),
        Some(&TagValue::String("accepted".into()))
    );
    assert_eq!(
        get(&edited, far).1,
        CacheOutcome::Hit,
        "a tile the edit does not touch stays cached"
    );
    // A reader still holding the old snapshot cannot put a stale tile back for new readers.
    let _ = get(&snap, near);
    assert_eq!(get(&edited, near).0.hash, fresh.hash);
    // A different filter or date is a different tile.
    let done = SiteFilter {
        statuses: Some(vec![RenewalStatus::Completed]),
        ..SiteFilter::default()
    };
    assert_eq!(
        cache
            .get_or_encode(
                &edited,
                TileRequest {
                    tile: far,
                    filter: &done,
                    today
                }
            )
            .unwrap()
            .1,
        CacheOutcome::Miss
    );
}

#[tokio::test]
async fn repeated_tile_requests_are_cache_hits() {
    let dir = fixture_dir();
    let router = router(dir.path());
    let uri = "/tiles/12/3452/1523.mvt";
    let first = get(&router, uri).await;
    assert_eq!(first.header("x-tile-cache"), Some("miss"));
    let second = get(&router, uri).await;
    assert_eq!(second.header("x-tile-cache"), Some("hit"));
    assert_eq!(first.body, second.body);
    assert_eq!(first.header("etag"), second.header("etag"));
}
