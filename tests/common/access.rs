//! Fixtures of the park-access tests:
//!
//! - `street_grid_three_compounds_four_parks`: a 4 × 4 street grid (0.002° apart, about
//!   166 m east–west and 222 m north–south) drawn as six long lines that cross, so the network
//!   must be noded; three compounds and four parks, each a 0.2 m square centred on a street,
//!   so every walking distance is the street distance between two known points;
//! - `indicator_thresholds`: four compounds far apart, each with one open park just under or
//!   over a size threshold of the indicator rule, at a known straight-line gap.

use std::path::Path;

use renewal_map::config::Config;
use renewal_map::model::Role;
use renewal_map::snapshot::Snapshot;
use renewal_map::store::{OpenMode, Store};
use renewal_map::{AppState, load};
use serde_json::{Value, json};

use super::{fc, write_json};

/// Grid spacing in degrees.
pub const STEP: f64 = 0.002;
/// South-west corner of the grid.
pub const ORIGIN: (f64, f64) = (123.400, 41.800);

/// A closed square ring of side `d` degrees centred on (lng, lat).
pub fn centred_square(lng: f64, lat: f64, d: f64) -> Value {
    let h = d / 2.0;
    json!({"type": "Polygon", "coordinates": [[
        [lng - h, lat - h], [lng + h, lat - h], [lng + h, lat + h], [lng - h, lat + h], [lng - h, lat - h]
    ]]})
}

/// A square of `side_m` metres (approximately) centred on (lng, lat).
pub fn square_m(lng: f64, lat: f64, side_m: f64) -> Value {
    let h_lat = side_m / 2.0 / 111_070.0;
    let h_lng = side_m / 2.0 / (111_320.0 * lat.to_radians().cos());
    json!({"type": "Polygon", "coordinates": [[
        [lng - h_lng, lat - h_lat], [lng + h_lng, lat - h_lat], [lng + h_lng, lat + h_lat],
        [lng - h_lng, lat + h_lat], [lng - h_lng, lat - h_lat]
    ]]})
}

/// A site feature of the access fixtures; `households` makes it a compound.
pub fn site(
    id: &str,
    fid: u64,
    status: &str,
    west: bool,
    households: Option<u32>,
    geometry: Value,
) -> Value {
    let (code, name) = if west {
        ("999001", "西街道")
    } else {
        ("999002", "东街道")
    };
    let done = matches!(status, "completed" | "accepted");
    let mut props = json!({
        "fid": fid, "name": format!("测试{id}"),
        "kind": if households.is_some() { "compound" } else { "pocket_park" },
        "subdistrict": name, "subdistrict_code": code, "status": status,
        "progress": if done { 100 } else { 10 }, "investment_wan": 100.0,
        "programme": "construction", "project_id": format!("C-{fid}"),
        "planned_start": "2026-03-01", "planned_finish": "2026-12-31",
        "updated_at": "2026-10-01T08:00:00Z", "geometry": "illustrative",
    });
    if let (Some(h), Some(p)) = (households, props.as_object_mut()) {
        p.insert("households".into(), json!(h));
        p.insert("built_year".into(), json!(1990));
        p.insert("community".into(), json!("测试社区"));
        p.insert("community_code".into(), json!("999001001001"));
    }
    json!({"type": "Feature", "id": id, "geometry": geometry, "properties": props})
}

fn write_frame(dir: &Path, bbox: [f64; 4], streets: Vec<Value>) {
    let [w, s, e, n] = bbox;
    let mid = (w + e) / 2.0;
    let rect = |w: f64, e: f64| json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]});
    write_json(
        dir,
        "plan.json",
        &json!({"district_code": "999", "district_name": "测试区", "source": "test fixture",
            "targets": {"pocket_park": 4, "compound": 3},
            "programmes": [{"programme": "construction", "projects": 9, "investment_wan": 900.0}],
            "park_service_radii_m": [300.0, 500.0]}),
    );
    write_json(
        dir,
        "district.geojson",
        &fc(vec![json!({"type": "Feature", "geometry": rect(w, e),
            "properties": {"name": "测试区", "code": "999", "geometry": "real"}})]),
    );
    write_json(
        dir,
        "subdistricts.geojson",
        &fc(vec![
            json!({"type": "Feature", "geometry": rect(w, mid),
                "properties": {"name": "西街道", "code": "999001", "name_en": "West", "geometry": "illustrative"}}),
            json!({"type": "Feature", "geometry": rect(mid, e),
                "properties": {"name": "东街道", "code": "999002", "name_en": "East", "geometry": "illustrative"}}),
        ]),
    );
    write_json(dir, "streets.geojson", &fc(streets));
}

/// Position of grid point (i east, j north) — fractional steps allowed.
pub fn grid(i: f64, j: f64) -> (f64, f64) {
    (ORIGIN.0 + i * STEP, ORIGIN.1 + j * STEP)
}

/// Writes `street_grid_three_compounds_four_parks` into `dir`.
///
/// | site | at (grid steps) | status | households |
/// |---|---|---|---|
/// | compound-a | (0.5, 0) | | 300 |
/// | compound-b | (2.5, 3) | | 500 |
/// | compound-c | (0, 1.5) | | 200 |
/// | park-a | (1.5, 1) | completed | |
/// | park-b | (2, 2.5) | planned | |
/// | park-c | (0.5, 2) | planned | |
/// | park-d | (1, 0.25) | design | |
pub fn write_street_grid(dir: &Path) {
    let line = |a: (f64, f64), b: (f64, f64)| {
        json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[a.0, a.1], [b.0, b.1]]},
            "properties": {"name": "网格路", "class": "secondary", "geometry": "illustrative"}})
    };
    let mut streets = Vec::new();
    for k in 0..4 {
        let k = f64::from(k);
        streets.push(line(grid(0.0, k), grid(3.0, k)));
        streets.push(line(grid(k, 0.0), grid(k, 3.0)));
    }
    let (w, s) = grid(-0.5, -0.5);
    let (e, n) = grid(3.5, 3.5);
    write_frame(dir, [w, s, e, n], streets);
    let at = |i: f64, j: f64| {
        let (lng, lat) = grid(i, j);
        centred_square(lng, lat, 0.000_002)
    };
    write_json(
        dir,
        "sites.geojson",
        &fc(vec![
            site("compound-a", 1, "design", true, Some(300), at(0.5, 0.0)),
            site("compound-b", 2, "design", false, Some(500), at(2.5, 3.0)),
            site("compound-c", 3, "design", true, Some(200), at(0.0, 1.5)),
            site("park-a", 11, "completed", false, None, at(1.5, 1.0)),
            site("park-b", 12, "planned", false, None, at(2.0, 2.5)),
            site("park-c", 13, "planned", true, None, at(0.5, 2.0)),
            site("park-d", 14, "design", true, None, at(1.0, 0.25)),
        ]),
    );
}

/// The four (compound, park) pairs of `indicator_thresholds`: park side in metres, gap in
/// metres from the compound's centre to the park's west edge, whether the indicator covers.
pub const THRESHOLD_PAIRS: [(f64, f64, bool); 4] = [
    (44.50, 100.0, false), // 1,980 m²: under 2,000, does not count however near
    (44.94, 290.0, true),  // 2,020 m²: serves 300 m
    (70.36, 310.0, false), // 4,950 m²: serves 300 m, 310 m is too far
    (71.06, 490.0, true),  // 5,050 m²: serves 500 m
];

/// Writes `indicator_thresholds` into `dir`: pair k at latitude 41.80 + 0.03 k, the compound
/// a 20 m square, the park east of it; no streets. One more park of 1,980 m², planned, far
/// from everything.
pub fn write_indicator_thresholds(dir: &Path) {
    write_frame(dir, [123.39, 41.79, 123.45, 41.92], Vec::new());
    let mut sites = Vec::new();
    for (k, (side, gap, _)) in THRESHOLD_PAIRS.iter().enumerate() {
        let lat = 41.80 + 0.03 * k as f64;
        let lng = 123.40;
        let m_lng = 111_320.0 * lat.to_radians().cos();
        let park_lng = lng + (gap + side / 2.0) / m_lng;
        sites.push(site(
            &format!("compound-{k}"),
            k as u64 + 1,
            "design",
            true,
            Some(100),
            square_m(lng, lat, 20.0),
        ));
        sites.push(site(
            &format!("park-{k}"),
            k as u64 + 11,
            "completed",
            false,
            None,
            square_m(park_lng, lat, *side),
        ));
    }
    sites.push(site(
        "park-small-planned",
        21,
        "planned",
        false,
        None,
        square_m(123.44, 41.91, 44.5),
    ));
    write_json(dir, "sites.geojson", &fc(sites));
}

/// Loads `dir`, opens a fresh store beside it and returns the state (as `serve` does) and a
/// planner's token.
pub fn open_with_store(dir: &Path) -> (AppState, String) {
    let mut dataset = load::load_dataset(dir).expect("fixture loads");
    let store = Store::open(
        &renewal_map::store::default_path(dir),
        &dataset.sites,
        OpenMode::CreateIfMissing,
    )
    .expect("store opens");
    store.overlay(&mut dataset.sites).expect("overlay");
    let token = super::store::token(&store, "规划师", Role::Planner, &[], &[]);
    let config = Config {
        data_dir: dir.to_owned(),
        today: Some("2026-11-27".parse().expect("date")),
        ..Config::default()
    };
    (
        AppState::with_store(Snapshot::build(dataset), store, config),
        token,
    )
}
