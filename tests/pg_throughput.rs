//! Figures for issue 8's closing note, measured on the real binary with the default data set:
//! write throughput with 8 concurrent writers on SQLite and on PostgreSQL, and read
//! throughput of one instance against three (the same list of z14 tiles, round robin). Every
//! answer must be a success; the figures are printed (`-- --nocapture`), not asserted, since
//! they depend on the machine.
//!
//! `PG_THROUGHPUT_SECS` sets each phase's length (default 3). Skipped, with the reason
//! printed, when `RENEWAL_MAP_TEST_PG` is unset.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::default_data;
use common::http;
use common::pg::{Instance, cluster, fresh_database, planner};

fn secs() -> Duration {
    Duration::from_secs(
        std::env::var("PG_THROUGHPUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    )
}

/// Eight writers, each on its own site, for [`secs`]: acknowledged writes per second.
fn writes_per_second(addr: SocketAddr, token: &str, sites: &[String]) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = sites
        .iter()
        .take(8)
        .cloned()
        .map(|site| {
            let (stop, done, token) = (Arc::clone(&stop), Arc::clone(&done), token.to_owned());
            std::thread::spawn(move || {
                let auth = format!("Bearer {token}");
                let (_, _, body) =
                    http(addr, "GET", &format!("/api/sites/{site}"), &[], "").expect("site");
                let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
                let mut version = v["properties"]["version"].as_u64().expect("version");
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let (status, headers, body) = http(
                        addr,
                        "PATCH",
                        &format!("/api/sites/{site}"),
                        &[
                            ("authorization", &auth),
                            ("if-match", &format!("\"{version}\"")),
                            ("content-type", "application/json"),
                        ],
                        &format!(r#"{{"note":"throughput {n}"}}"#),
                    )
                    .expect("answer");
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                    version = headers
                        .iter()
                        .find(|(k, _)| k == "etag")
                        .and_then(|(_, e)| e.trim_matches('"').parse().ok())
                        .expect("ETag");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let t = Instant::now();
    std::thread::sleep(secs());
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().expect("writer");
    }
    done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64()
}

/// Four clients reading `tiles` round robin over `nodes` for [`secs`]: tiles per second.
fn tiles_per_second(nodes: &[SocketAddr], tiles: &[String]) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|c| {
            let (stop, done) = (Arc::clone(&stop), Arc::clone(&done));
            let (nodes, tiles) = (nodes.to_vec(), tiles.to_vec());
            std::thread::spawn(move || {
                let mut k = c;
                while !stop.load(Ordering::Relaxed) {
                    let node = nodes[k % nodes.len()];
                    let tile = &tiles[k % tiles.len()];
                    let (status, _, _) = http(node, "GET", tile, &[], "").expect("tile");
                    assert!(status == 200 || status == 204, "{tile}: {status}");
                    done.fetch_add(1, Ordering::Relaxed);
                    k += 1;
                }
            })
        })
        .collect();
    let t = Instant::now();
    std::thread::sleep(secs());
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().expect("reader");
    }
    done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64()
}

fn site_ids(addr: SocketAddr) -> Vec<String> {
    let (_, _, body) =
        http(addr, "GET", "/ogc/collections/sites/items?limit=8", &[], "").expect("items");
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    v["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Every z14 tile over the data set's bounds (from TileJSON).
fn tile_list(addr: SocketAddr) -> Vec<String> {
    let (_, _, body) = http(addr, "GET", "/tiles.json", &[], "").expect("tilejson");
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let b: Vec<f64> = v["bounds"]
        .as_array()
        .expect("bounds")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect();
    let z = 14u32;
    let n = f64::from(1u32 << z);
    let tx = |lng: f64| ((lng + 180.0) / 360.0 * n).floor() as u32;
    let ty = |lat: f64| {
        let r = f64::to_radians(lat);
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32
    };
    let mut out = Vec::new();
    for x in tx(b[0])..=tx(b[2]) {
        for y in ty(b[3])..=ty(b[1]) {
            out.push(format!("/tiles/{z}/{x}/{y}.mvt"));
        }
    }
    out
}

#[test]
fn write_and_read_throughput_sqlite_and_postgres() {
    let Some(cluster) = cluster("pg_throughput") else {
        return;
    };
    let data = default_data();
    let dir = tempfile::tempdir().expect("tempdir");

    // SQLite: one instance on a fresh file.
    let db = dir.path().join("renewal.sqlite");
    let db_arg = db.to_str().expect("path");
    let token = common::cli::ok(&[
        "token",
        "add",
        "--role",
        "planner",
        "--name",
        "throughput",
        "--data",
        data.to_str().expect("data"),
        "--db",
        db_arg,
        "--init-db",
    ])
    .trim()
    .to_owned();
    let sqlite = Instance::start(db_arg, &data);
    let sites = site_ids(sqlite.addr);
    assert_eq!(sites.len(), 8);
    let sqlite_writes = writes_per_second(sqlite.addr, &token, &sites);
    let tiles = tile_list(sqlite.addr);
    drop(sqlite);

    // PostgreSQL: the same on one instance, then reads on one and on three.
    let url = fresh_database(&cluster);
    let token = planner(&url, &data, "throughput");
    let nodes: Vec<Instance> = (0..3).map(|_| Instance::start(&url, &data)).collect();
    let pg_writes = writes_per_second(nodes[0].addr, &token, &sites);
    let one = tiles_per_second(&[nodes[0].addr], &tiles);
    let addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.addr).collect();
    let three = tiles_per_second(&addrs, &tiles);
    eprintln!(
        "throughput ({} s each): writes with 8 writers: SQLite {sqlite_writes:.0}/s, PostgreSQL {pg_writes:.0}/s; reads of {} z14 tiles with 4 clients: 1 instance {one:.0}/s, 3 instances {three:.0}/s",
        secs().as_secs(),
        tiles.len()
    );
    assert!(sqlite_writes > 0.0 && pg_writes > 0.0 && one > 0.0 && three > 0.0);
}
