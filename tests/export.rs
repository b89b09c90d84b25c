//! Exports: the site lists over HTTP (CSV, XLSX read back by calamine, streamed GeoJSON), their
//! bad-input answers, and the tile archives (every PMTiles and MBTiles tile equal to the
//! served tile).

mod common;

use std::io::{Cursor, Read};

use calamine::{Reader, Xlsx};
use common::{TODAY, default_data, get, router, send, snapshot};
use renewal_map::export::tiles::{TileExport, write_mbtiles, write_pmtiles};
use renewal_map::model::{Date, RenewalKind};

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

#[tokio::test]
async fn csv_lists_every_site_with_ledger_columns() {
    let data = default_data();
    let snap = snapshot(&data);
    let app = router(&data);
    let reply = get(&app, "/api/export/sites.csv").await.expect(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    let mut rdr = csv::Reader::from_reader(reply.body.as_slice());
    let headers = rdr.headers().expect("headers").clone();
    assert_eq!(&headers[0], "序号");
    assert_eq!(&headers[1], "项目名称");
    assert_eq!(&headers[12], "备注");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), snap.sites.len());
    let id_col = headers.iter().position(|h| h == "编号").expect("id column");
    for (row, site) in rows.iter().zip(snap.sites.iter()) {
        assert_eq!(&row[id_col], site.id.as_str());
        assert_eq!(&row[1], site.name);
        assert_eq!(&row[2], site.kind.label_zh());
    }
    // The same filters as items: only pocket parks, English headers.
    let reply = get(&app, "/api/export/sites.csv?kind=pocket_park&lang=en")
        .await
        .expect(200);
    let mut rdr = csv::Reader::from_reader(reply.body.as_slice());
    assert_eq!(&rdr.headers().expect("headers")[0], "No.");
    let parks = snap
        .sites
        .iter()
        .filter(|s| s.kind == RenewalKind::PocketPark)
        .count();
    let kinds: Vec<String> = rdr
        .records()
        .map(|r| r.expect("row")[2].to_owned())
        .collect();
    assert_eq!(kinds.len(), parks);
    assert!(kinds.iter().all(|k| k == "pocket_park"));
}

#[tokio::test]
async fn xlsx_ledger_and_summary_read_by_calamine() {
    let data = default_data();
    let snap = snapshot(&data);
    let app = router(&data);
    let reply = get(&app, "/api/export/sites.xlsx").await.expect(200);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(reply.body)).expect("an XLSX file");
    assert_eq!(book.sheet_names(), vec!["问题台账", "汇总"]);
    let ledger = book.worksheet_range("问题台账").expect("ledger");
    assert_eq!(ledger.height(), snap.sites.len() + 1);
    let header: Vec<String> = ledger
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        &header[..13],
        [
            "序号",
            "项目名称",
            "类型",
            "所属街道",
            "状态",
            "进度",
            "计划开工",
            "计划完工",
            "实际完工",
            "是否逾期",
            "投资（万元）",
            "最近更新",
            "备注"
        ]
    );
    let first = &snap.sites[0];
    let row1: Vec<String> = ledger
        .rows()
        .nth(1)
        .expect("row")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(row1[0], "1");
    assert_eq!(row1[1], first.name);
    assert_eq!(row1[5], first.progress.to_string());
    assert_eq!(row1[7], first.planned_finish.to_string());
    // Summary: per kind, the plan's target and the counted sites.
    let summary = book.worksheet_range("汇总").expect("summary");
    let compounds = summary
        .rows()
        .find(|r| r[0] == RenewalKind::Compound.label_zh())
        .expect("compound row");
    let target = snap.fixed.plan.targets[&RenewalKind::Compound];
    assert_eq!(compounds[1].to_string(), target.to_string());
    let counted = snap
        .sites
        .iter()
        .filter(|s| s.kind == RenewalKind::Compound)
        .count();
    assert_eq!(compounds[2].to_string(), counted.to_string());
    let subs = summary
        .rows()
        .filter(|r| {
            snap.fixed
                .subdistricts
                .iter()
                .any(|s| s.name == r[0].to_string())
        })
        .count();
    assert_eq!(subs, snap.fixed.subdistricts.len());
    // English sheet names with lang=en.
    let reply = get(&app, "/api/export/sites.xlsx?lang=en")
        .await
        .expect(200);
    let book: Xlsx<_> = Xlsx::new(Cursor::new(reply.body)).expect("an XLSX file");
    assert_eq!(book.sheet_names(), vec!["Ledger", "Summary"]);
}

#[tokio::test]
async fn geojson_streamed_and_gzipped_when_accepted() {
    let data = default_data();
    let snap = snapshot(&data);
    let app = router(&data);
    let reply = send(
        &app,
        axum::http::Method::GET,
        "/api/export/sites.geojson",
        &[("accept-encoding", "gzip")],
        axum::body::Body::empty(),
    )
    .await
    .expect(200);
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let fc: serde_json::Value = serde_json::from_slice(&gunzip(&reply.body)).expect("GeoJSON");
    let features = fc["features"].as_array().expect("features");
    assert_eq!(features.len(), snap.sites.len());
    for (f, s) in features.iter().zip(snap.sites.iter()) {
        assert_eq!(f["id"], s.id.as_str());
        assert_eq!(f["properties"]["status"], s.status.as_str());
    }
    let plain = get(&app, "/api/export/sites.geojson?status=completed")
        .await
        .expect(200);
    assert_eq!(plain.header("content-encoding"), None);
    let fc = plain.json();
    let done = snap
        .sites
        .iter()
        .filter(|s| s.status.as_str() == "completed")
        .count();
    assert_eq!(fc["features"].as_array().expect("features").len(), done);
}

#[tokio::test]
async fn bad_export_requests_are_4xx_json() {
    let app = router(&default_data());
    for (uri, status, code) in [
        ("/api/export/sites.csv?lang=fr", 400, "invalid_parameter"),
        ("/api/export/sites.csv?limit=5", 400, "invalid_parameter"),
        (
            "/api/export/sites.xlsx?kind=castle",
            400,
            "invalid_parameter",
        ),
        (
            "/api/export/sites.csv?subdistrict=nowhere",
            400,
            "invalid_parameter",
        ),
        ("/api/export/sites.shp", 404, "unknown_export"),
    ] {
        let reply = get(&app, uri).await.expect(status);
        let body = reply.json();
        assert_eq!(body["error"], code, "{uri}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// A small reader of PMTiles v3, written from the spec, independent of the writer: the
/// header's offsets and the gzipped varint directories. Returns `(z, x, y, tile bytes)`.
fn read_pmtiles(bytes: &[u8]) -> Vec<(u8, u32, u32, Vec<u8>)> {
    assert_eq!(&bytes[..7], b"PMTiles");
    assert_eq!(bytes[7], 3, "spec version");
    let u64_at =
        |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes")) as usize;
    let (root_off, root_len) = (u64_at(8), u64_at(16));
    let (leaf_off, data_off) = (u64_at(40), u64_at(56));
    assert_eq!(bytes[97], 2, "gzip internal compression");
    assert_eq!(bytes[98], 2, "gzip tiles");
    assert_eq!(bytes[99], 1, "MVT");
    fn varints(data: &[u8]) -> Vec<u64> {
        let mut out = Vec::new();
        let (mut v, mut shift) = (0u64, 0);
        for &b in data {
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                out.push(v);
                v = 0;
                shift = 0;
            }
        }
        out
    }
    let mut tiles = Vec::new();
    let mut dirs = vec![(root_off, root_len)];
    while let Some((off, len)) = dirs.pop() {
        let v = varints(&gunzip(&bytes[off..off + len]));
        let n = v[0] as usize;
        let (ids, runs, lens, offs) = (
            &v[1..=n],
            &v[n + 1..=2 * n],
            &v[2 * n + 1..=3 * n],
            &v[3 * n + 1..=4 * n],
        );
        let (mut id, mut prev_end) = (0u64, 0u64);
        for i in 0..n {
            id += ids[i];
            let offset = if offs[i] == 0 && i > 0 {
                prev_end
            } else {
                offs[i] - 1
            };
            prev_end = offset + lens[i];
            if runs[i] == 0 {
                dirs.push((leaf_off + offset as usize, lens[i] as usize));
                continue;
            }
            let data = gunzip(&bytes[data_off + offset as usize..data_off + prev_end as usize]);
            for r in 0..runs[i] {
                let c = pmtiles::TileCoord::from(pmtiles::TileId::new(id + r).expect("tile id"));
                tiles.push((c.z(), c.x(), c.y(), data.clone()));
            }
        }
    }
    tiles
}

fn tile_opts(max_zoom: u8) -> TileExport {
    TileExport {
        min_zoom: 0,
        max_zoom,
        today: TODAY.parse::<Date>().expect("date"),
        attribution: "test attribution".into(),
    }
}

#[tokio::test]
async fn every_pmtiles_tile_equals_the_served_tile() {
    let data = default_data();
    let snap = snapshot(&data);
    let app = router(&data);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("huanggu.pmtiles");
    let summary = write_pmtiles(&snap, &tile_opts(14), &out, || {}).expect("export");
    let tiles = read_pmtiles(&std::fs::read(&out).expect("file"));
    assert_eq!(tiles.len() as u64, summary.tiles);
    assert!(summary.tiles > 50, "{summary:?}");
    for z in 0..=14u8 {
        assert!(tiles.iter().any(|t| t.0 == z), "no tile at z{z}");
    }
    for (z, x, y, mvt) in &tiles {
        let served = get(&app, &format!("/tiles/{z}/{x}/{y}.mvt"))
            .await
            .expect(200);
        assert!(
            served.body == *mvt,
            "tile {z}/{x}/{y} differs from the served one"
        );
    }
    // Tiles around the archive's but not in it are empty when served.
    let (z, x, y, _) = tiles.iter().find(|t| t.0 == 14).expect("z14");
    for (dx, dy) in [(-3i64, 0i64), (3, 0), (0, -3), (0, 3)] {
        let (nx, ny) = (*x as i64 + dx, *y as i64 + dy);
        if !tiles
            .iter()
            .any(|t| t.0 == *z && i64::from(t.1) == nx && i64::from(t.2) == ny)
        {
            get(&app, &format!("/tiles/{z}/{nx}/{ny}.mvt"))
                .await
                .expect(204);
        }
    }
}

#[tokio::test]
async fn every_mbtiles_tile_equals_the_served_tile() {
    let data = default_data();
    let snap = snapshot(&data);
    let app = router(&data);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("huanggu.mbtiles");
    let summary = write_mbtiles(&snap, &tile_opts(13), &out, || {}).expect("export");
    let conn = rusqlite::Connection::open(&out).expect("open");
    let count: u64 = conn
        .query_row("SELECT count(*) FROM tiles", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count, summary.tiles);
    let attribution: String = conn
        .query_row(
            "SELECT value FROM metadata WHERE name = 'attribution'",
            [],
            |r| r.get(0),
        )
        .expect("attribution");
    assert_eq!(attribution, "test attribution");
    let mut stmt = conn
        .prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
        .expect("query");
    let rows: Vec<(u8, u32, u32, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    for (z, x, row, gz) in rows {
        let y = (1u32 << z) - 1 - row;
        let served = get(&app, &format!("/tiles/{z}/{x}/{y}.mvt"))
            .await
            .expect(200);
        assert!(served.body == gunzip(&gz), "tile {z}/{x}/{y} differs");
    }
}

#[test]
fn zoom_range_checked() {
    let snap = snapshot(&default_data());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = tile_opts(5);
    opts.min_zoom = 6;
    let out = dir.path().join("x.pmtiles");
    let err = write_pmtiles(&snap, &opts, &out, || {}).expect_err("bad range");
    assert!(err.to_string().contains("minzoom"), "{err}");
    assert!(!out.exists());
}
