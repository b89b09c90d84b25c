//! `renewal-map import sites` and `renewal-map export sites` with `--db postgres://…`, through
//! the binary (issue 8): an export of a PostgreSQL store, edited and imported again, writes
//! exactly the edits through the write service (history rows by the import account), a
//! `serve` instance on the same database follows them, and the next export shows them.
//!
//! Skipped, with the reason printed, when `RENEWAL_MAP_TEST_PG` is unset (scripts/test sets
//! it).

mod common;

use std::path::Path;
use std::time::Duration;

use common::cli::{fails, ok};
use common::pg::{Instance, cluster, connect, fresh_database};
use common::store::Fixture;
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn export_geojson(data: &Path, url: &str, out: &Path) -> Value {
    ok(&[
        "export",
        "sites",
        "--format",
        "geojson",
        "--data",
        s(data),
        "--db",
        url,
        "--out",
        s(out),
    ]);
    serde_json::from_str(&std::fs::read_to_string(out).expect("export written")).expect("json")
}

#[test]
fn an_export_edited_and_imported_on_postgres_writes_the_edits_and_instances_follow() {
    let Some(cluster) = cluster("pg_import_export::round_trip") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let tmp = tempfile::tempdir().expect("tempdir");
    // A first export seeds the database from the data set, as a first `serve` would; its
    // import brings the stored sites to the file's normal form (the fixture's parks carry
    // fields the export writes in another form, on SQLite alike).
    let first = tmp.path().join("first.geojson");
    export_geojson(fx.path(), &url, &first);
    let seeded: i64 = connect(&url)
        .query_one("SELECT count(*) FROM site_state", &[])
        .expect("count")
        .get(0);
    assert!(seeded > 0, "the export seeded the database");
    let import = |file: &Path, extra: &[&str]| {
        let mut args = vec![
            "import",
            "sites",
            s(file),
            "--into",
            s(fx.path()),
            "--db",
            &url,
        ];
        args.extend_from_slice(extra);
        ok(&args)
    };
    import(&first, &[]);
    let instance = Instance::start(&url, fx.path());
    let mut db = connect(&url);
    let count = |db: &mut postgres::Client| -> i64 {
        db.query_one("SELECT count(*) FROM change", &[])
            .expect("count")
            .get(0)
    };
    let base = count(&mut db);

    // Exported again and imported unchanged, it writes nothing.
    let exported = export_geojson(fx.path(), &url, &tmp.path().join("second.geojson"));
    let features = exported["features"].as_array().expect("features").clone();
    assert_eq!(
        features.len() as i64,
        seeded,
        "export lists every stored site"
    );
    let out = import(&tmp.path().join("second.geojson"), &[]);
    assert!(
        out.ends_with(&format!("0 created, 0 updated, {seeded} unchanged\n")),
        "{out}"
    );
    assert_eq!(count(&mut db), base);

    // One renamed, one new.
    let mut edited = features.clone();
    let renamed = edited[0]["id"].as_str().expect("id").to_owned();
    edited[0]["properties"]["name"] = "改名的公园".into();
    let mut new = features[0].clone();
    new["id"] = "imported-001".into();
    new["properties"]["name"] = "新导入".into();
    edited.push(new);
    let file = tmp.path().join("edited.geojson");
    std::fs::write(
        &file,
        serde_json::json!({"type": "FeatureCollection", "features": edited}).to_string(),
    )
    .expect("write");
    let dry = import(&file, &["--dry-run"]);
    assert!(dry.contains("(dry run: nothing written)"), "{dry}");
    assert_eq!(count(&mut db), base, "a dry run wrote");
    let out = import(&file, &[]);
    assert!(
        out.ends_with(&format!("1 created, 1 updated, {} unchanged\n", seeded - 1)),
        "{out}"
    );
    let rows = db
        .query(
            "SELECT site_id, change_kind, actor FROM change WHERE seq > $1 ORDER BY seq",
            &[&base],
        )
        .expect("changes");
    let seen: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.contains(&(renamed.clone(), "updated".into(), "import".into())));
    assert!(seen.contains(&("imported-001".into(), "created".into(), "import".into())));

    // The running instance follows the import like any other instance's writes.
    instance
        .wait_for(Duration::from_secs(5), |i| {
            i.version("imported-001") == Some(1)
        })
        .expect("the instance shows the imported site");
    let (_, item) = instance.get(&format!("/api/sites/{renamed}"));
    assert_eq!(item["properties"]["name"], "改名的公园", "{item}");

    // The next export shows both.
    let again = export_geojson(fx.path(), &url, &tmp.path().join("again.geojson"));
    let names: Vec<(&str, &str)> = again["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or_default(),
                f["properties"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(names.len(), features.len() + 1);
    assert!(
        names.contains(&(renamed.as_str(), "改名的公园")),
        "{names:?}"
    );
    assert!(names.contains(&("imported-001", "新导入")), "{names:?}");

    // An unreachable database is a message, not a panic.
    let err = fails(&[
        "export",
        "sites",
        "--format",
        "csv",
        "--data",
        s(fx.path()),
        "--db",
        "postgres://nobody:secret@127.0.0.1:1/none",
    ]);
    assert!(
        err.contains("renewal-map:") && !err.contains("secret"),
        "{err}"
    );
}
