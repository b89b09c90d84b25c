//! The data generator: determinism, exact plan figures, and geometric sanity of the output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use geo::{
    Area, BooleanOps, Contains, Coord, Distance, Euclidean, GeodesicArea, Geometry, Intersects,
    MultiPolygon, Point, Polygon,
};
use renewal_map::generate::{GenerateOptions, GenerateSummary, OUTPUT_FILES, generate};
use renewal_map::model::Plan;
use serde_json::Value;

fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sources")
}

fn run(seed: u64, scale: u32, out: &Path) -> GenerateSummary {
    generate(&GenerateOptions {
        seed,
        scale,
        sources: sources(),
        out: out.to_path_buf(),
    })
    .expect("generate")
}

fn features(dir: &Path, file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(file)).expect("read output");
    let fc: Value = serde_json::from_str(&text).expect("json");
    fc["features"].as_array().expect("features").clone()
}

fn geometry(f: &Value) -> Geometry {
    let g: geojson::Geometry =
        serde_json::from_value(f["geometry"].clone()).expect("geojson geometry");
    g.try_into().expect("geo geometry")
}

fn coords(g: &Geometry) -> Vec<Coord> {
    use geo::CoordsIter;
    g.coords_iter().collect()
}

fn real_outline() -> MultiPolygon {
    let text = std::fs::read_to_string(sources().join("huanggu-210105-boundary-wgs84.geojson"))
        .expect("outline");
    let fc: geojson::FeatureCollection = text.parse().expect("geojson");
    let g: Geometry = fc.features[0]
        .geometry
        .clone()
        .expect("geometry")
        .try_into()
        .expect("geo");
    match g {
        Geometry::MultiPolygon(mp) => mp,
        _ => panic!("outline is not a MultiPolygon"),
    }
}

/// Inside, or within ~1 m of the edge (clipped streets and cells end exactly on it).
fn inside(outline: &MultiPolygon, c: Coord) -> bool {
    let p = Point::from(c);
    outline.intersects(&p) || Euclidean.distance(&p, outline) < 1e-5
}

fn tenths(v: &Value) -> i64 {
    (v.as_f64().expect("number") * 10.0).round() as i64
}

/// One generation shared by the checks below (debug builds are slow enough as it is).
struct Default1 {
    _dir: tempfile::TempDir,
    path: PathBuf,
    summary: GenerateSummary,
}

fn default_run() -> &'static Default1 {
    static RUN: std::sync::OnceLock<Default1> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let summary = run(2026, 1, &path);
        Default1 {
            _dir: dir,
            path,
            summary,
        }
    })
}

#[test]
fn same_seed_same_bytes_other_seed_other_sites() {
    let a = default_run();
    let b = tempfile::tempdir().expect("tempdir");
    run(2026, 1, b.path());
    for file in OUTPUT_FILES {
        let x = std::fs::read(a.path.join(file)).expect("a");
        let y = std::fs::read(b.path().join(file)).expect("b");
        assert!(x == y, "{file} differs between two runs with the same seed");
    }
    let c = tempfile::tempdir().expect("tempdir");
    run(7, 1, c.path());
    assert_ne!(
        std::fs::read(a.path.join("sites.geojson")).expect("a"),
        std::fs::read(c.path().join("sites.geojson")).expect("c")
    );
}

#[test]
fn every_vertex_inside_the_real_outline() {
    let run = default_run();
    let outline = real_outline();
    for file in [
        "district.geojson",
        "subdistricts.geojson",
        "streets.geojson",
        "sites.geojson",
        "landmarks.geojson",
    ] {
        for f in features(&run.path, file) {
            if f["properties"]["in_district"] == Value::Bool(false) {
                continue; // a real landmark just across the boundary (沈阳北站 main building)
            }
            for c in coords(&geometry(&f)) {
                assert!(
                    inside(&outline, c),
                    "{file}: {} has vertex {c:?} outside",
                    f["properties"]["name"]
                );
            }
        }
    }
}

#[test]
fn counts_projects_and_money_match_the_plan() {
    let run = default_run();
    let plan: Plan =
        serde_json::from_str(&std::fs::read_to_string(run.path.join("plan.json")).expect("plan"))
            .expect("plan json");
    let sites = features(&run.path, "sites.geojson");
    let mut per_kind: BTreeMap<String, u32> = BTreeMap::new();
    let mut projects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut money: BTreeMap<String, i64> = BTreeMap::new();
    let (mut ids, mut fids, mut names) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for f in &sites {
        let p = &f["properties"];
        *per_kind
            .entry(p["kind"].as_str().expect("kind").into())
            .or_default() += 1;
        let programme = p["programme"].as_str().expect("programme").to_string();
        projects
            .entry(programme.clone())
            .or_default()
            .insert(p["project_id"].as_str().expect("project").into());
        *money.entry(programme).or_default() += tenths(&p["investment_wan"]);
        assert!(
            ids.insert(f["id"].as_str().expect("id").to_string()),
            "duplicate id {}",
            f["id"]
        );
        assert!(
            fids.insert(p["fid"].as_u64().expect("fid")),
            "duplicate fid {}",
            p["fid"]
        );
        assert!(
            names.insert(p["name"].as_str().expect("name").to_string()),
            "duplicate name {}",
            p["name"]
        );
        let progress = p["progress"].as_u64().expect("progress");
        let ok = match p["status"].as_str().expect("status") {
            "planned" => progress == 0,
            "design" => progress <= 10,
            "tendering" => (5..=15).contains(&progress),
            "under_construction" => (15..=95).contains(&progress),
            "completed" | "accepted" => progress == 100,
            "suspended" => (10..=80).contains(&progress),
            other => panic!("unknown status {other}"),
        };
        assert!(ok, "{}: {} at {progress}%", f["id"], p["status"]);
        let (start, finish, updated) = (
            p["planned_start"].as_str().expect("start"),
            p["planned_finish"].as_str().expect("finish"),
            p["updated_at"].as_str().expect("updated"),
        );
        assert!(
            ("2024-03-01"..="2027-12-31").contains(&start)
                && start < finish
                && finish <= "2027-12-31"
        );
        assert!(("2026-05-01".."2026-11-01").contains(&updated), "{updated}");
    }
    for (kind, n) in &plan.targets {
        assert_eq!(
            per_kind.get(kind.as_str()).copied().unwrap_or(0),
            *n,
            "{kind}"
        );
    }
    assert_eq!(run.summary.sites, sites.len());
    for target in &plan.programmes {
        let name = target.programme.as_str();
        assert_eq!(
            projects[name].len() as u32,
            target.projects,
            "{name} projects"
        );
        assert_eq!(
            money[name],
            (target.investment_wan * 10.0).round() as i64,
            "{name} investment"
        );
    }
}

#[test]
fn parks_compounds_and_cells_are_sound() {
    let run = default_run();
    let sites = features(&run.path, "sites.geojson");
    let polygon = |f: &Value| match geometry(f) {
        Geometry::Polygon(p) => p,
        g => panic!("{} is not a polygon: {g:?}", f["id"]),
    };
    let parks: Vec<Polygon> = sites
        .iter()
        .filter(|f| f["properties"]["kind"] == "pocket_park")
        .map(polygon)
        .collect();
    let compounds: Vec<Polygon> = sites
        .iter()
        .filter(|f| f["properties"]["kind"] == "compound")
        .map(polygon)
        .collect();
    for p in &parks {
        let a = p.geodesic_area_unsigned();
        assert!((400.0..=10_000.0).contains(&a), "park area {a}");
    }
    for (i, c) in compounds.iter().enumerate() {
        for other in compounds.iter().skip(i + 1).chain(&parks) {
            assert!(!c.intersects(other), "compound overlaps");
        }
    }
    for (i, p) in parks.iter().enumerate() {
        for other in parks.iter().skip(i + 1) {
            assert!(!p.intersects(other), "parks overlap");
        }
    }

    // Cells tile the outline: areas add up, no two overlap.
    let outline = real_outline();
    let cells: Vec<MultiPolygon> = features(&run.path, "subdistricts.geojson")
        .iter()
        .map(|f| match geometry(f) {
            Geometry::Polygon(p) => MultiPolygon(vec![p]),
            Geometry::MultiPolygon(mp) => mp,
            g => panic!("cell is {g:?}"),
        })
        .collect();
    assert_eq!(cells.len(), 10);
    let sum: f64 = cells.iter().map(|c| c.unsigned_area()).sum();
    let whole = outline.unsigned_area();
    assert!(
        (sum - whole).abs() / whole < 0.001,
        "cells {sum} vs outline {whole}"
    );
    for (i, a) in cells.iter().enumerate() {
        for b in cells.iter().skip(i + 1) {
            assert!(
                a.intersection(b).unsigned_area() < whole * 1e-6,
                "cells overlap"
            );
        }
    }

    // Each compound's community is in its sub-district, per the NBS list.
    let csv = std::fs::read_to_string(sources().join("huanggu-communities-2022.csv")).expect("csv");
    let of: BTreeMap<&str, &str> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[0], cols[3])
        })
        .collect();
    for f in sites
        .iter()
        .filter(|f| f["properties"]["kind"] == "compound")
    {
        let p = &f["properties"];
        let code = p["community_code"].as_str().expect("community_code");
        assert_eq!(
            of.get(code).copied(),
            p["subdistrict_code"].as_str(),
            "{}",
            f["id"]
        );
        let households = p["households"].as_u64().expect("households");
        assert!((150..=2_000).contains(&households));
        assert!((1980..=2000).contains(&p["built_year"].as_u64().expect("year")));
    }
    // The plaza lies at (or just north of) its estimated anchor point, 沈阳北站北广场.
    let plaza = sites
        .iter()
        .find(|f| f["properties"]["kind"] == "plaza")
        .map(polygon)
        .expect("plaza");
    let anchor = Point::new(123.43, 41.8195);
    assert!(plaza.contains(&anchor) || Euclidean.distance(&anchor, &plaza) < 0.003);
}

/// Every generated site and street has an English name: ASCII, unique among sites like the
/// Chinese names, and naming the same real place (`梅江街…` → `Meijiang Street …`).
#[test]
fn every_site_and_street_has_a_distinct_english_name() {
    let dir = &default_run().path;
    let sites = features(dir, "sites.geojson");
    let mut seen = BTreeSet::new();
    for f in &sites {
        let p = &f["properties"];
        let (zh, en) = (p["name"].as_str().expect("name"), p["name_en"].as_str());
        let en = en.unwrap_or_else(|| panic!("{zh} has no name_en"));
        assert!(
            en.is_ascii() && !en.trim().is_empty(),
            "{zh}: name_en {en:?}"
        );
        assert!(seen.insert(en.to_owned()), "two sites are called {en:?}");
        if zh.starts_with("梅江街") {
            assert!(en.starts_with("Meijiang Street"), "{zh} → {en}");
        }
        if zh.ends_with("口袋公园") {
            assert!(en.contains("Pocket Park"), "{zh} → {en}");
        }
    }
    for f in features(dir, "streets.geojson") {
        let en = f["properties"]["name_en"].as_str().expect("street name_en");
        assert!(en.ends_with("Street") || en.ends_with("Road") || en.ends_with("Avenue"));
    }
}

#[test]
fn scale_four_has_four_times_the_sites_with_unique_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = run(5, 4, dir.path());
    assert_eq!(summary.sites, 4 * default_run().summary.sites);
    assert_eq!(summary.districts, 4);
    assert_eq!(summary.subdistricts, 40);
    let sites = features(dir.path(), "sites.geojson");
    let ids: BTreeSet<&str> = sites
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    let fids: BTreeSet<u64> = sites
        .iter()
        .map(|f| f["properties"]["fid"].as_u64().expect("fid"))
        .collect();
    let projects: BTreeSet<&str> = sites
        .iter()
        .map(|f| f["properties"]["project_id"].as_str().expect("project"))
        .collect();
    assert_eq!((ids.len(), fids.len()), (sites.len(), sites.len()));
    assert_eq!(projects.len(), 4 * (94 + 23));
    let money: i64 = sites
        .iter()
        .map(|f| tenths(&f["properties"]["investment_wan"]))
        .sum();
    assert_eq!(money, 4 * 2_320_000);
}

/// The committed `data/huanggu/` is exactly what seed 2026, scale 1 produces.
/// `RENEWAL_MAP_BLESS=1 cargo test --test generate committed` rewrites it.
#[test]
fn committed_data_matches_the_generator() {
    let run = default_run();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/huanggu");
    let bless = std::env::var_os("RENEWAL_MAP_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&committed).expect("mkdir data/huanggu");
    }
    for file in OUTPUT_FILES {
        let fresh = std::fs::read(run.path.join(file)).expect("fresh");
        if bless {
            std::fs::write(committed.join(file), &fresh).expect("bless");
        } else {
            let old = std::fs::read(committed.join(file)).unwrap_or_default();
            assert!(
                old == fresh,
                "data/huanggu/{file} is stale: run RENEWAL_MAP_BLESS=1 cargo test --test generate"
            );
        }
    }
}

/// Timing check for large scales: `cargo test --release --test generate -- --ignored`.
#[test]
#[ignore = "slow in debug builds; run on demand"]
fn scale_hundred() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = std::time::Instant::now();
    let summary = run(1, 100, dir.path());
    eprintln!(
        "scale 100: {} sites in {:?}",
        summary.sites,
        start.elapsed()
    );
    assert_eq!(summary.sites, 100 * default_run().summary.sites);
}
