//! Several real `serve` instances on one PostgreSQL database (issue 8): a write acknowledged
//! by one is visible in items, tiles and stats on the others within a second; concurrent
//! writers on different instances produce one order every instance agrees on, with no lost
//! update; an instance started later serves the current state from its first answer; a photo
//! uploaded on one is served by the others and can be attached to an update on another.
//!
//! Skipped, with the reason printed, when `RENEWAL_MAP_TEST_PG` is unset (scripts/test sets
//! it). `PG_VISIBILITY_WRITES` sets the number of measured writes (default 150).

mod common;
mod photos_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::pg::{Instance, cluster, connect, fresh_database, percentile, planner};
use common::store::Fixture;
use common::{http, http_bytes};

const SITES: [&str; 4] = ["park-001", "road-001", "park-002", "compound-001"];

/// The z16 tile holding `park-001` (123.4055, 41.8155).
fn park_tile() -> String {
    let (lng, lat) = common::store::PARK_001;
    let z = 16u32;
    let n = f64::from(1u32 << z);
    let x = ((lng + 180.0) / 360.0 * n).floor() as u32;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor() as u32;
    format!("/tiles/{z}/{x}/{y}.mvt")
}

fn tile_etag(i: &Instance, path: &str) -> Option<String> {
    let (status, headers, _) = http(i.addr, "GET", path, &[], "")?;
    (status == 200).then(|| {
        headers
            .iter()
            .find(|(k, _)| k == "etag")
            .map(|(_, v)| v.clone())
    })?
}

#[test]
fn a_write_on_one_instance_shows_on_the_others_in_items_tiles_and_stats() {
    let Some(cluster) = cluster("pg_instances::visibility") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "visibility");
    let a = Instance::start(&url, fx.path());
    let b = Instance::start(&url, fx.path());
    let tile = park_tile();
    let tile_before = tile_etag(&b, &tile).expect("park tile on B");
    let (_, stats_before) = b.get("/api/stats");

    let (status, v) = a
        .patch(
            &token,
            "park-001",
            1,
            r#"{"status":"design","progress":10,"note":"from A"}"#,
        )
        .expect("A answers");
    assert_eq!((status, v), (200, 2), "PATCH on A");
    let took = b
        .wait_for(Duration::from_secs(5), |b| b.version("park-001") == Some(2))
        .expect("B shows A's write within 5 s");
    assert!(took < Duration::from_secs(1), "B took {took:?}");

    let (_, item) = b.get("/ogc/collections/sites/items/park-001");
    assert_eq!(item["properties"]["status"], "design", "{item}");
    assert_eq!(item["properties"]["note"], "from A", "{item}");
    let tile_after = tile_etag(&b, &tile).expect("park tile on B");
    assert_ne!(tile_before, tile_after, "B's cached tile was not dropped");
    let (_, stats_after) = b.get("/api/stats");
    assert_ne!(stats_before, stats_after, "stats on B did not change");
    // B's history and feed show the change A made, once.
    let (_, history) = b.get("/api/sites/park-001/history");
    assert_eq!(
        history["changes"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    let (_, changes) = b.get("/api/changes");
    assert_eq!(changes["changes"][0]["seq"], 1, "{changes}");
    // And a stale If-Match on B is refused: no lost update across instances.
    let (status, _) = b
        .patch(&token, "park-001", 1, r#"{"note":"stale on B"}"#)
        .expect("B answers");
    assert_eq!(status, 412, "a stale version on B");
}

#[test]
fn visibility_latency_across_three_instances() {
    let Some(cluster) = cluster("pg_instances::latency") else {
        return;
    };
    let writes: usize = std::env::var("PG_VISIBILITY_WRITES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150);
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "latency");
    let nodes: Vec<Instance> = (0..3).map(|_| Instance::start(&url, fx.path())).collect();
    let mut versions = [1u64; 4];
    let mut samples = Vec::new();
    for n in 0..writes {
        let writer = &nodes[n % 3];
        let s = n % SITES.len();
        let body = format!(r#"{{"note":"latency {n}"}}"#);
        let (status, v) = writer
            .patch(&token, SITES[s], versions[s], &body)
            .expect("writer answers");
        assert_eq!(status, 200, "write {n}");
        let acked = Instant::now();
        versions[s] = v;
        for reader in nodes.iter().filter(|r| r.addr != writer.addr) {
            reader
                .wait_for(Duration::from_secs(5), |r| r.version(SITES[s]) == Some(v))
                .unwrap_or_else(|| panic!("write {n} not visible on {} in 5 s", reader.addr));
            samples.push(acked.elapsed());
        }
    }
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    let max = percentile(&mut samples, 100.0);
    eprintln!(
        "pg visibility, 3 instances: {writes} writes, {} observations: p50 {p50:?}, p99 {p99:?}, max {max:?}",
        samples.len()
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");
}

#[test]
fn concurrent_writers_on_three_instances_agree_on_one_order() {
    let Some(cluster) = cluster("pg_instances::ordering") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "ordering");
    let nodes: Arc<Vec<Instance>> =
        Arc::new((0..3).map(|_| Instance::start(&url, fx.path())).collect());
    let acked = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // Two writers per instance, all on the same two sites: every write races the others.
    let threads: Vec<_> = (0..6)
        .map(|w| {
            let (nodes, acked, stop, token) = (
                Arc::clone(&nodes),
                Arc::clone(&acked),
                Arc::clone(&stop),
                token.clone(),
            );
            std::thread::spawn(move || {
                let node = &nodes[w % 3];
                let site = SITES[w % 2];
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let Some(v) = node.version(site) else {
                        continue;
                    };
                    n += 1;
                    let body = format!(r#"{{"note":"writer {w} write {n}"}}"#);
                    match node.patch(&token, site, v, &body) {
                        Some((200, new)) => {
                            assert_eq!(new, v + 1, "a write skipped a version");
                            acked.lock().expect("acks").push((site.to_owned(), new));
                        }
                        Some((412, _)) => {}
                        other => panic!("writer {w}: {other:?}"),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("writer");
    }
    let acked = acked.lock().expect("acks").clone();
    assert!(
        acked.len() >= 10,
        "only {} writes acknowledged",
        acked.len()
    );
    // Every acknowledged (site, version) is distinct: no two writers won the same version.
    let mut distinct = acked.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        acked.len(),
        "a version was acknowledged twice"
    );
    let mut db = connect(&url);
    let count: i64 = db
        .query_one("SELECT count(*) FROM change", &[])
        .expect("count")
        .get(0);
    assert_eq!(
        count as usize,
        acked.len(),
        "changes in the database vs acknowledged"
    );
    let max: i64 = db
        .query_one("SELECT max(seq) FROM change", &[])
        .expect("max")
        .get(0);
    assert_eq!(max, count, "seqs are gapless");
    // Every instance reaches the same state and lists the same feed, in seq order.
    let feed = |i: &Instance| -> Vec<(i64, String, u64)> {
        let mut out = Vec::new();
        let mut since = 0;
        loop {
            let (_, page) = i.get(&format!("/api/changes?since={since}&limit=1000"));
            let items = page["changes"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return out;
            }
            for c in items {
                since = c["seq"].as_i64().expect("seq");
                out.push((
                    since,
                    c["site"].as_str().unwrap_or_default().to_owned(),
                    c["version"].as_u64().expect("version"),
                ));
            }
        }
    };
    for node in nodes.iter() {
        node.wait_for(Duration::from_secs(5), |i| {
            SITES[..2].iter().all(|s| {
                let want = 1 + acked.iter().filter(|(site, _)| site == s).count() as u64;
                i.version(s) == Some(want)
            })
        })
        .unwrap_or_else(|| panic!("{} did not reach the final versions", node.addr));
    }
    let first = feed(&nodes[0]);
    assert_eq!(first.len(), acked.len(), "feed length");
    assert!(
        first.iter().enumerate().all(|(k, c)| c.0 == k as i64 + 1),
        "feed seqs not 1..n in order"
    );
    for node in nodes.iter().skip(1) {
        assert_eq!(feed(node), first, "feeds differ between instances");
    }
    eprintln!(
        "pg ordering: {} acknowledged writes from 6 writers on 3 instances, one order",
        acked.len()
    );
}

#[test]
fn an_instance_started_later_serves_the_current_state_at_once() {
    let Some(cluster) = cluster("pg_instances::late") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "late");
    let a = Instance::start(&url, fx.path());
    let mut v = 1;
    for n in 0..20 {
        let (status, new) = a
            .patch(&token, "road-001", v, &format!(r#"{{"note":"early {n}"}}"#))
            .expect("A answers");
        assert_eq!(status, 200);
        v = new;
    }
    let c = Instance::start(&url, fx.path());
    // Its first answers: healthy, at the newest version, with the whole feed.
    let (status, health) = c.get("/health");
    assert_eq!(
        (status, health["status"].as_str()),
        (200, Some("ok")),
        "{health}"
    );
    assert_eq!(c.version("road-001"), Some(v));
    let (_, changes) = c.get("/api/changes?limit=1000");
    assert_eq!(changes["changes"].as_array().map(Vec::len), Some(20));
    // And it follows from there.
    let (status, new) = a
        .patch(&token, "road-001", v, r#"{"note":"after C started"}"#)
        .expect("A answers");
    assert_eq!(status, 200);
    c.wait_for(Duration::from_secs(2), |c| {
        c.version("road-001") == Some(new)
    })
    .expect("C follows A's next write");
}

#[test]
fn a_photo_uploaded_on_one_instance_is_served_and_attached_on_another() {
    let Some(cluster) = cluster("pg_instances::photos") else {
        return;
    };
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "photos");
    let a = Instance::start(&url, fx.path());
    let b = Instance::start(&url, fx.path());
    let auth = format!("Bearer {token}");
    let original = photos_support::jpeg_with_exif(40, 20, "2026:05:20 14:30:05", None);
    let (status, _, body) = http_bytes(
        a.addr,
        "POST",
        "/api/sites/park-001/photos",
        &[("authorization", &auth), ("content-type", "image/jpeg")],
        &original,
    )
    .expect("A answers");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let record: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let id = record["id"].as_str().expect("id").to_owned();
    let (_, _, on_a) = http(a.addr, "GET", &format!("/api/photos/{id}"), &[], "").expect("A");
    // No follow is needed: the bytes are in the shared database.
    let (status, _, on_b) = http(b.addr, "GET", &format!("/api/photos/{id}"), &[], "").expect("B");
    assert_eq!(status, 200);
    assert_eq!(on_b, on_a, "B serves other bytes than A");
    let (status, _, thumb) = http(
        b.addr,
        "GET",
        &format!("/api/photos/{id}/thumbnail"),
        &[],
        "",
    )
    .expect("B");
    assert_eq!(status, 200);
    assert!(!thumb.is_empty());
    let (_, listed) = b.get("/api/sites/park-001/photos");
    assert_eq!(listed["photos"][0]["id"], id.as_str(), "{listed}");
    // Attached by an update on B; A's history shows it once A has followed.
    let (status, v) = b
        .patch(&token, "park-001", 1, &format!(r#"{{"photos":["{id}"]}}"#))
        .expect("B answers");
    assert_eq!((status, v), (200, 2));
    a.wait_for(Duration::from_secs(5), |a| a.version("park-001") == Some(2))
        .expect("A follows B's write");
    let (_, history) = a.get("/api/sites/park-001/history");
    assert_eq!(
        history["changes"][0]["photos"][0]["id"],
        id.as_str(),
        "{history}"
    );
    let (_, record) = a.get("/api/sites/park-001/photos");
    assert_eq!(record["photos"][0]["change_seq"], 1, "{record}");
    // The same bytes again on A are the same photo, not a second row.
    let (status, _, _) = http_bytes(
        a.addr,
        "POST",
        "/api/sites/park-001/photos",
        &[("authorization", &auth), ("content-type", "image/jpeg")],
        &original,
    )
    .expect("A answers");
    assert_eq!(status, 200);
    let rows: i64 = connect(&url)
        .query_one("SELECT count(*) FROM photo", &[])
        .expect("count")
        .get(0);
    assert_eq!(rows, 1);
}
