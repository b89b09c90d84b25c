//! The `kill -9` harness on PostgreSQL (issue 8): two instances on one database take writes
//! from several clients; one instance is killed at random moments and started again while
//! the other keeps serving. Every acknowledged write is in the database afterwards (its
//! change row and its version, with its note), versions and history rows agree, and both
//! instances end on the same state.
//!
//! `PG_DURABILITY_KILLS` sets the number of kills (default 6); `PG_DURABILITY_SEED` replays a
//! run. Skipped, with the reason printed, when `RENEWAL_MAP_TEST_PG` is unset.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use common::Rng;
use common::pg::{Instance, cluster, connect, fresh_database, planner};
use common::store::Fixture;

const SITES: [&str; 4] = ["park-001", "road-001", "park-002", "compound-001"];

#[test]
fn acknowledged_writes_survive_kill_9_of_an_instance() {
    let Some(cluster) = cluster("pg_durability") else {
        return;
    };
    let kills: usize = std::env::var("PG_DURABILITY_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(6);
    let (mut rng, seed) = Rng::from_env("PG_DURABILITY_SEED");
    let fx = Fixture::new();
    let url = fresh_database(&cluster);
    let token = planner(&url, fx.path(), "kill-9");
    let steady = Arc::new(Instance::start(&url, fx.path()));
    let victim = Arc::new(RwLock::new(Instance::start(&url, fx.path())));
    let acks = Arc::new(Mutex::new(Vec::<(String, u64, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    // One client per site; it writes through the victim or the steady instance in turn.
    let clients: Vec<_> = SITES
        .iter()
        .enumerate()
        .map(|(c, site)| {
            let (steady, victim, acks, stop, token) = (
                Arc::clone(&steady),
                Arc::clone(&victim),
                Arc::clone(&acks),
                Arc::clone(&stop),
                token.clone(),
            );
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let note = format!("client {c} write {n}");
                    let body = format!(r#"{{"note":"{note}"}}"#);
                    let answer = if n.is_multiple_of(2) {
                        let Some(v) = steady.version(site) else {
                            continue;
                        };
                        steady.patch(&token, site, v, &body)
                    } else {
                        let node = victim.read().expect("victim");
                        let Some(v) = node.version(site) else {
                            continue;
                        };
                        node.patch(&token, site, v, &body)
                    };
                    match answer {
                        Some((200, v)) => {
                            acks.lock().expect("acks").push((site.to_string(), v, note))
                        }
                        // 412 after a kill (the other instance moved on); none: killed mid-answer.
                        Some((412, _)) | None => {}
                        Some((s, _)) if s >= 500 => {}
                        Some(other) => panic!("client {c}: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(200 + rng.below(600)));
        let mut node = victim.write().expect("victim");
        node.kill();
        *node = Instance::start(&url, fx.path());
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    let acks = acks.lock().expect("acks").clone();
    let mut db = connect(&url);
    let mut lost = 0;
    for (site, version, note) in &acks {
        let v = *version as i64;
        let found = db
            .query_opt(
                "SELECT 1 FROM change c JOIN site_version s ON s.site_id = c.site_id AND s.version = c.version
                 WHERE c.site_id = $1 AND c.version = $2 AND c.note = $3 AND s.seq = c.seq",
                &[site, &v, note],
            )
            .expect("query");
        if found.is_none() {
            lost += 1;
            eprintln!("lost: {site} v{version} {note:?}");
        }
    }
    // Integrity: each site's version is 1 + its change rows, its history has no holes, the
    // seqs are gapless.
    for site in SITES {
        let row = db
            .query_one(
                "SELECT s.version, (SELECT count(*) FROM change c WHERE c.site_id = s.site_id),
                        (SELECT count(*) FROM site_version v WHERE v.site_id = s.site_id)
                 FROM site_state s WHERE s.site_id = $1",
                &[&site],
            )
            .expect("integrity row");
        let (version, changes, versions): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(version, changes + 1, "{site}: version vs change rows");
        assert_eq!(versions, version, "{site}: version rows");
    }
    let row = db
        .query_one("SELECT count(*), coalesce(max(seq), 0) FROM change", &[])
        .expect("seqs");
    let (count, max): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(count, max, "seqs have a gap");
    // Both instances end on the database's state.
    let victim = victim.read().expect("victim");
    for site in SITES {
        let want: i64 = db
            .query_one(
                "SELECT version FROM site_state WHERE site_id = $1",
                &[&site],
            )
            .expect("version")
            .get(0);
        for node in [&*steady, &*victim] {
            node.wait_for(Duration::from_secs(3), |n| {
                n.version(site) == Some(want as u64)
            })
            .unwrap_or_else(|| {
                panic!(
                    "{} shows {site} at {:?}, not {want}",
                    node.addr,
                    node.version(site)
                )
            });
        }
    }
    eprintln!(
        "pg kill -9: seed {seed}, {kills} kills, {} acknowledged writes, {lost} lost, {count} changes, {:.1} s",
        acks.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(lost, 0, "acknowledged writes lost (seed {seed})");
    assert!(
        acks.len() >= kills,
        "too few writes acknowledged: {}",
        acks.len()
    );
}
