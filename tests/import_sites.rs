//! `renewal-map import sites`, end to end through the binary: export → import round trips
//! (CSV, XLSX, GeoJSON in GCJ-02), the write service's history, and every bad input refused
//! with file, row and problem, writing nothing.

mod common;

use common::cli::{fails, ok, run};
use std::path::{Path, PathBuf};

use renewal_map::model::Role;
use renewal_map::store::{NewAccount, OpenMode, ServeLock, Store};

/// A copy of the default data set in a temporary directory, without a store.
fn dataset() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ds");
    std::fs::create_dir(&dir).expect("mkdir");
    for e in std::fs::read_dir("data/huanggu").expect("data set") {
        let e = e.expect("entry");
        let name = e.file_name();
        if e.path().is_file() && !name.to_string_lossy().starts_with("renewal.sqlite") {
            std::fs::copy(e.path(), dir.join(name)).expect("copy");
        }
    }
    (tmp, dir)
}

fn export(dir: &Path, format: &str, lang: &str, out: &Path) {
    ok(&[
        "export",
        "sites",
        "--format",
        format,
        "--lang",
        lang,
        "--data",
        s(dir),
        "--out",
        s(out),
    ]);
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn changes(dir: &Path) -> usize {
    let store = Store::open(&dir.join("renewal.sqlite"), &[], OpenMode::MustExist).expect("store");
    store.changes_since(0, 100_000).expect("changes").len()
}

#[test]
fn csv_and_xlsx_exports_import_unchanged() {
    let (tmp, dir) = dataset();
    for (format, lang) in [
        ("csv", "zh"),
        ("csv", "en"),
        ("xlsx", "zh"),
        ("geojson", "zh"),
    ] {
        let file = tmp.path().join(format!("sites-{lang}.{format}"));
        export(&dir, format, lang, &file);
        let out = ok(&["import", "sites", s(&file), "--into", s(&dir)]);
        assert!(
            out.ends_with("0 created, 0 updated, 240 unchanged\n"),
            "{format} {lang}: {out}"
        );
    }
}

#[test]
fn edits_go_through_the_write_service_and_dry_run_writes_nothing() {
    let (tmp, dir) = dataset();
    let file = tmp.path().join("s.csv");
    export(&dir, "csv", "zh", &file);
    let text = std::fs::read_to_string(&file).expect("csv");
    let edited = text.replacen("梅江街", "梅江街（改）", 1);
    assert_ne!(text, edited);
    ok(&["import", "sites", s(&file), "--into", s(&dir)]);
    std::fs::write(&file, edited).expect("write");
    let before = changes(&dir);
    let dry = ok(&["import", "sites", s(&file), "--into", s(&dir), "--dry-run"]);
    assert!(dry.contains(": would be updated"), "{dry}");
    assert!(dry.contains("(dry run: nothing written)"), "{dry}");
    assert_eq!(changes(&dir), before);
    let out = ok(&["import", "sites", s(&file), "--into", s(&dir)]);
    assert!(out.contains("1 updated"), "{out}");
    let store = Store::open(&dir.join("renewal.sqlite"), &[], OpenMode::MustExist).expect("store");
    let feed = store.changes_since(0, 100_000).expect("changes");
    assert_eq!(feed.len(), before + 1);
    let again = ok(&["import", "sites", s(&file), "--into", s(&dir)]);
    assert!(
        again.ends_with("0 created, 0 updated, 240 unchanged\n"),
        "{again}"
    );
}

#[test]
fn a_new_site_in_gcj02_lands_on_its_wgs84_place() {
    let (tmp, dir) = dataset();
    let file = tmp.path().join("s.geojson");
    export(&dir, "geojson", "zh", &file);
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let mut f = fc["features"][0].clone();
    let wgs = f["geometry"].clone();
    f["id"] = "imported-001".into();
    fn shift(v: &mut serde_json::Value) {
        let a = v.as_array_mut().expect("array");
        if a[0].is_number() {
            let (x, y) = renewal_map::crs::wgs84_to_gcj02(
                a[0].as_f64().expect("x"),
                a[1].as_f64().expect("y"),
            );
            a[0] = x.into();
            a[1] = y.into();
        } else {
            a.iter_mut().for_each(shift);
        }
    }
    shift(&mut f["geometry"]["coordinates"]);
    let one = serde_json::json!({"type": "FeatureCollection", "features": [f]});
    let gcj = tmp.path().join("gcj.geojson");
    std::fs::write(&gcj, one.to_string()).expect("write");
    let out = ok(&[
        "import",
        "sites",
        s(&gcj),
        "--into",
        s(&dir),
        "--crs",
        "gcj02",
    ]);
    assert!(out.contains("imported-001: created"), "{out}");
    let store = Store::open(&dir.join("renewal.sqlite"), &[], OpenMode::MustExist).expect("store");
    let site = store
        .stored("imported-001")
        .expect("stored")
        .expect("created")
        .site;
    let back = renewal_map::load::site_record(&site);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    fn flat(v: &serde_json::Value, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Number(n) => out.push(n.as_f64().expect("f64")),
            serde_json::Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
            _ => {}
        }
    }
    flat(&back["geometry"]["coordinates"], &mut a);
    flat(&wgs["coordinates"], &mut b);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-7, "{x} vs {y}");
    }
    // Imported without --crs it would lie ~500 m off: still accepted near the centre, but not
    // at the same place.
    assert_eq!(store.history("imported-001").expect("history").len(), 1);
}

/// A CSV ledger with the export's header and one edited row.
fn bad_csv(tmp: &Path, dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let file = tmp.join("good.csv");
    export(dir, "csv", "en", &file);
    let text = std::fs::read_to_string(&file).expect("csv");
    let bad = tmp.join("bad.csv");
    std::fs::write(&bad, edit(&text)).expect("write");
    bad
}

#[test]
fn bad_inputs_are_refused_naming_file_row_and_problem_and_write_nothing() {
    let (tmp, dir) = dataset();
    let t = tmp.path();
    ok(&[
        "import",
        "sites",
        s(&bad_csv(t, &dir, str::to_owned)),
        "--into",
        s(&dir),
    ]);
    let before = changes(&dir);
    let line = |text: &str, n: usize| text.lines().nth(n).expect("line").to_owned();
    let cases: Vec<(String, &str)> = vec![
        (
            // Missing column: drop the WKT column from the header only.
            "missing".into(),
            "missing column(s): wkt (or lon and lat)",
        ),
        ("duplicate".into(), "duplicate id"),
        ("outside".into(), "lies outside the district"),
        ("bowtie".into(), "line 3"),
        ("status".into(), "line 2"),
    ];
    for (case, expect) in cases {
        let file = bad_csv(t, &dir, |text| {
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            match case.as_str() {
                "missing" => lines[0] = lines[0].replace(",WKT", ",Shape"),
                "duplicate" => lines.push(line(text, 1)),
                "outside" => {
                    let l = &lines[1];
                    let i = l
                        .find("\"POLYGON")
                        .or_else(|| l.find("\"LINESTRING"))
                        .expect("wkt");
                    let far = if l[i..].starts_with("\"LINE") {
                        "\"LINESTRING(10 10,11 11)\""
                    } else {
                        "\"POLYGON((10 10,11 10,11 11,10 10))\""
                    };
                    lines[1] = format!("{}{far}", &l[..i]);
                }
                "bowtie" => {
                    let l = &lines[2];
                    let i = l
                        .find("\"POLYGON")
                        .or_else(|| l.find("\"LINESTRING"))
                        .expect("wkt");
                    lines[2] = format!(
                        "{}\"POLYGON((123.40 41.85,123.41 41.86,123.41 41.85,123.40 41.86,123.40 41.85))\"",
                        &l[..i]
                    );
                }
                "status" => {
                    lines[1] = lines[1]
                        .replacen(",planned,", ",sleeping,", 1)
                        .replacen(",design,", ",sleeping,", 1)
                        .replacen(",completed,", ",sleeping,", 1)
                        .replacen(",accepted,", ",sleeping,", 1)
                        .replacen(",under_construction,", ",sleeping,", 1)
                        .replacen(",tendering,", ",sleeping,", 1)
                }
                _ => unreachable!(),
            }
            lines.join("\n") + "\n"
        });
        let err = fails(&["import", "sites", s(&file), "--into", s(&dir)]);
        assert!(err.contains("bad.csv"), "{case}: {err}");
        assert!(err.contains(expect), "{case}: {err}");
        assert_eq!(changes(&dir), before, "{case} wrote something");
    }
    let good = t.join("good.csv");
    let err = fails(&[
        "import",
        "sites",
        s(&good),
        "--into",
        s(&dir),
        "--crs",
        "utm51",
    ]);
    assert!(err.contains("unknown CRS \"utm51\""), "{err}");
    let err = fails(&["import", "sites", s(&t.join("x.txt")), "--into", s(&dir)]);
    assert!(err.contains("unknown file type"), "{err}");
}

#[test]
fn gbk_csv_is_detected_and_decoded() {
    let (tmp, dir) = dataset();
    let file = tmp.path().join("s.csv");
    export(&dir, "csv", "zh", &file);
    let text = std::fs::read_to_string(&file).expect("csv");
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    let g = tmp.path().join("gbk.csv");
    std::fs::write(&g, &gbk).expect("write");
    let out = run(&["import", "sites", s(&g), "--into", s(&dir), "--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("decoded as GBK"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("240 unchanged"));
}

#[test]
fn a_running_server_holding_the_store_is_named() {
    let (tmp, dir) = dataset();
    let file = tmp.path().join("s.csv");
    export(&dir, "csv", "zh", &file);
    let db = dir.join("renewal.sqlite");
    let dataset = renewal_map::load::load_dataset(&dir).expect("load");
    let store = Store::open(&db, &dataset.sites, OpenMode::CreateIfMissing).expect("store");
    let _lock = ServeLock::acquire(&db, OpenMode::MustExist).expect("lock");
    let err = fails(&["import", "sites", s(&file), "--into", s(&dir)]);
    assert!(
        err.contains("already served by another renewal-map process"),
        "{err}"
    );
    // A field account as --actor is refused after the lock is free.
    drop(_lock);
    store
        .add_account(&NewAccount {
            name: "Team 1".into(),
            role: Role::Field,
            team: None,
            subdistricts: vec![],
            sites: vec![],
        })
        .expect("account");
    let err = fails(&[
        "import",
        "sites",
        s(&file),
        "--into",
        s(&dir),
        "--actor",
        "Team 1",
    ]);
    assert!(err.contains("not a planner"), "{err}");
}
