//! GDAL's OGC API – Features driver (Debian's gdal-bin; `scripts/test` installs it) against a
//! real socket: geometry types and field types of the first page, and `-where` on a date, a
//! boolean and a status returning what the same condition selects in the data.

mod common;

use std::net::SocketAddr;

use common::router;
use renewal_map::model::{Date, RenewalKind, RenewalStatus};

/// Runs `ogr2ogr` to GeoJSON on stdout for `layer` with `-where`, returning the features.
fn ogr2ogr(addr: SocketAddr, layer: &str, filter: &str) -> Vec<serde_json::Value> {
    let out = std::process::Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "/vsistdout/", "-oo", "PAGE_SIZE=1000"])
        .arg(format!("OAPIF:http://{addr}/ogc"))
        .arg(layer)
        .args(["-where", filter])
        .output()
        .expect("ogr2ogr not found: install Debian's gdal-bin (scripts/test does)");
    assert!(
        out.status.success(),
        "ogr2ogr -where {filter:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    fc["features"].as_array().cloned().unwrap_or_default()
}

fn ogrinfo(addr: SocketAddr, layer: &str) -> String {
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-oo", "PAGE_SIZE=100"])
        .arg(format!("OAPIF:http://{addr}/ogc"))
        .arg(layer)
        .output()
        .expect("ogrinfo not found: install Debian's gdal-bin (scripts/test does)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_sees_one_geometry_type_and_typed_fields() {
    let data = common::default_data();
    let addr = common::serve(router(&data)).await;
    let (sites, parks, roads) = tokio::task::spawn_blocking(move || {
        (
            ogrinfo(addr, "sites"),
            ogrinfo(addr, "parks"),
            ogrinfo(addr, "roads"),
        )
    })
    .await
    .unwrap();
    assert!(sites.contains("Geometry: Point"), "{sites}");
    for field in [
        "planned_finish: Date",
        "updated_at: DateTime",
        "late: Integer(Boolean)",
        "progress: Integer",
        "households: Integer",
        "area_m2: Real",
        "status: String",
    ] {
        assert!(sites.contains(field), "{field} in {sites}");
    }
    assert!(parks.contains("Geometry: Polygon"), "{parks}");
    assert!(parks.contains("open: Integer(Boolean)"), "{parks}");
    assert!(roads.contains("Geometry: Line String"), "{roads}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_where_on_dates_booleans_and_statuses() {
    let data = common::default_data();
    let today: Date = common::TODAY.parse().unwrap();
    let snap = common::snapshot(&data);
    let mut config = common::config(&data);
    config.today = Some(today);
    let addr = common::serve(renewal_map::app(renewal_map::AppState::new(
        common::snapshot(&data),
        config,
    )))
    .await;
    let finish: Date = "2026-08-20".parse().unwrap();
    let want_finish = snap
        .sites
        .iter()
        .filter(|s| s.planned_finish == finish)
        .count();
    let want_after = snap
        .sites
        .iter()
        .filter(|s| s.planned_finish > finish)
        .count();
    let want_late = snap.sites.iter().filter(|s| s.is_late(today)).count();
    let want_parks_done = snap
        .sites
        .iter()
        .filter(|s| s.kind == RenewalKind::PocketPark && s.status == RenewalStatus::Completed)
        .count();
    assert!(
        want_finish > 0 && want_late > 0 && want_parks_done > 0,
        "the data has such sites"
    );
    let got = tokio::task::spawn_blocking(move || {
        [
            ogr2ogr(addr, "sites", "planned_finish = '2026-08-20'"),
            ogr2ogr(addr, "sites", "planned_finish > '2026-08-20'"),
            ogr2ogr(addr, "sites", "late = 1"),
            ogr2ogr(addr, "parks", "status = 'completed'"),
        ]
    })
    .await
    .unwrap();
    let [finish_eq, finish_gt, late, done] = got;
    assert_eq!(
        finish_eq.len(),
        want_finish,
        "planned_finish = '2026-08-20'"
    );
    assert!(
        finish_eq
            .iter()
            .all(|f| f["properties"]["planned_finish"] == "2026-08-20")
    );
    assert_eq!(finish_gt.len(), want_after, "planned_finish > '2026-08-20'");
    assert_eq!(late.len(), want_late, "late = 1");
    assert!(late.iter().all(|f| f["properties"]["late"] == true));
    assert_eq!(done.len(), want_parks_done, "status = 'completed'");
}
