//! Durability harness: runs the real binary on a copy of the fixture data, streams status
//! updates from several clients, `kill -9`s the server at random moments, restarts it, and
//! checks that every acknowledged (2xx) update is in the store and that the file passes
//! `PRAGMA integrity_check`.
//!
//! The first kill lands in the very first start, from no database, so it can interrupt the
//! store's creation.
//!
//! `DURABILITY_KILLS` sets the number of kills (default 20); `DURABILITY_SEED` replays a run.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::store::Fixture;
use common::{Rng, http};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_renewal-map");
const SITES: [&str; 4] = ["park-001", "road-001", "park-002", "compound-001"];

fn start(data: &Path) -> (Child, mpsc::Receiver<SocketAddr>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--web")
        .arg(data.join("no-web"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let (tx, rx) = mpsc::channel();
    for out in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on http://").nth(1) {
                    if let Ok(addr) = rest
                        .trim_end_matches(|c: char| c == '/' || c.is_whitespace())
                        .parse()
                    {
                        let _ = tx.send(addr);
                    }
                } else if line.contains("renewal-map:") {
                    eprintln!("server: {line}");
                }
            }
        });
    }
    (child, rx)
}

fn integrity(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).expect("open store file");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

fn site_version(addr: SocketAddr, site: &str) -> Option<u64> {
    let (status, _, body) = http(addr, "GET", &format!("/api/sites/{site}"), &[], "")?;
    if status != 200 {
        return None;
    }
    serde_json::from_slice::<Value>(&body).ok()?["properties"]["version"].as_u64()
}

/// One acknowledged write: the site, the version the server answered, the note sent.
#[derive(Debug, Clone)]
struct Ack {
    site: &'static str,
    version: u64,
    note: String,
}

/// Streams PATCHes to `site` until the server stops answering; returns the acknowledged ones.
fn stream(
    addr: SocketAddr,
    site: &'static str,
    token: &str,
    round: usize,
    stop: &AtomicBool,
) -> (Vec<Ack>, u64) {
    let auth = format!("Bearer {token}");
    let mut acks = Vec::new();
    let mut server_errors = 0;
    let Some(mut v) = site_version(addr, site) else {
        return (acks, server_errors);
    };
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let note = format!("round {round} {site} write {n}");
        let body = format!(r#"{{"note":"{note}"}}"#);
        let if_match = format!("\"{v}\"");
        let Some((status, headers, _)) = http(
            addr,
            "PATCH",
            &format!("/api/sites/{site}"),
            &[
                ("authorization", &auth),
                ("if-match", &if_match),
                ("content-type", "application/json"),
            ],
            &body,
        ) else {
            break; // killed
        };
        match status {
            200 => {
                let etag = headers
                    .iter()
                    .find(|(k, _)| k == "etag")
                    .map(|(_, e)| e.trim_matches('"').to_owned());
                v = etag.and_then(|e| e.parse().ok()).expect("ETag on 200");
                acks.push(Ack {
                    site,
                    version: v,
                    note,
                });
            }
            412 => match site_version(addr, site) {
                Some(now) => v = now,
                None => break,
            },
            s if s >= 500 => server_errors += 1,
            s => panic!("unexpected {s} for {site}"),
        }
    }
    (acks, server_errors)
}

#[test]
fn acknowledged_updates_survive_kill_9() {
    let kills: usize = std::env::var("DURABILITY_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20);
    let (mut rng, seed) = Rng::from_env("DURABILITY_SEED");
    let fx = Fixture::new();
    let data = fx.path().to_owned();
    let db = data.join("renewal.sqlite");

    // Kill 1 of `kills`: the first start, from no database at all, so the kill can land while
    // the store is being created and seeded. Afterwards the file is absent or complete, and
    // the next start (kill 2) serves from a complete store.
    assert!(!db.exists());
    let (mut child, _ready) = start(&data);
    std::thread::sleep(Duration::from_millis(rng.below(30)));
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let created_before_kill = db.exists();
    if created_before_kill {
        assert_eq!(
            integrity(&db),
            "ok",
            "integrity after a kill in first start"
        );
        let conn = rusqlite::Connection::open(&db).expect("open store file");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM site_state", [], |r| r.get(0))
            .expect("site_state");
        assert_eq!(rows, SITES.len() as i64, "a half-seeded store was left");
    }
    let (mut child, ready) = start(&data);
    let addr = ready
        .recv_timeout(Duration::from_secs(20))
        .expect("server ready after a kill in first start");
    for site in SITES {
        assert_eq!(
            site_version(addr, site),
            Some(1),
            "{site} after first start"
        );
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    assert_eq!(integrity(&db), "ok");

    let out = Command::new(BIN)
        .args(["token", "add", "--role", "planner", "--name", "durability"])
        .arg("--data")
        .arg(&data)
        .output()
        .expect("token add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();

    let started = Instant::now();
    let mut acked: Vec<Ack> = Vec::new();
    let mut early_kills = 0;
    let mut server_errors = 0;
    for round in 2..kills.max(3) {
        let (mut child, ready) = start(&data);
        // One kill in eight lands during start-up (open, migrate, seed, overlay).
        if rng.below(8) == 0 {
            std::thread::sleep(Duration::from_millis(rng.below(40)));
            early_kills += 1;
        } else {
            let addr = ready
                .recv_timeout(Duration::from_secs(20))
                .expect("server ready");
            let stop = Arc::new(AtomicBool::new(false));
            let writers: Vec<_> = SITES
                .iter()
                .map(|&site| {
                    let (token, stop) = (token.clone(), Arc::clone(&stop));
                    std::thread::spawn(move || stream(addr, site, &token, round, &stop))
                })
                .collect();
            std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
            child.kill().expect("kill -9");
            stop.store(true, Ordering::Relaxed);
            for w in writers {
                let (a, e) = w.join().expect("writer");
                acked.extend(a);
                server_errors += e;
            }
        }
        let _ = child.kill();
        child.wait().expect("reap");
        if db.exists() {
            assert_eq!(integrity(&db), "ok", "integrity after kill {round}");
        }
    }

    // Final start: every acknowledged write is in the history with its version and note.
    let (mut child, ready) = start(&data);
    let addr = ready
        .recv_timeout(Duration::from_secs(20))
        .expect("server ready");
    let mut lost = Vec::new();
    for site in SITES {
        let (status, _, body) =
            http(addr, "GET", &format!("/api/sites/{site}/history"), &[], "").expect("history");
        assert_eq!(status, 200);
        let h: Value = serde_json::from_slice(&body).expect("json");
        let changes = h["changes"].as_array().expect("changes");
        let versions: Vec<u64> = changes
            .iter()
            .filter_map(|c| c["version"].as_u64())
            .collect();
        assert_eq!(
            versions,
            (2..2 + changes.len() as u64).collect::<Vec<_>>(),
            "{site}: history not contiguous"
        );
        let current = site_version(addr, site).expect("site");
        assert_eq!(
            current,
            1 + changes.len() as u64,
            "{site}: version and history disagree"
        );
        for a in acked.iter().filter(|a| a.site == site) {
            let found = changes.iter().any(|c| {
                c["version"].as_u64() == Some(a.version) && c["note"].as_str() == Some(&a.note)
            });
            if !found {
                lost.push(a.clone());
            }
        }
    }
    let _ = child.kill();
    child.wait().expect("reap");
    assert_eq!(integrity(&db), "ok");
    eprintln!(
        "durability: seed {seed}, {} kills ({early_kills} during start-up, 1 in first start from no database, which {} the store), {} acknowledged writes, {} lost, {server_errors} 5xx, {:.1} s",
        kills.max(3),
        if created_before_kill {
            "had created"
        } else {
            "had not yet created"
        },
        acked.len(),
        lost.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(lost.is_empty(), "lost acknowledged writes: {lost:?}");
    assert_eq!(server_errors, 0);
    assert!(
        acked.len() >= kills,
        "too few writes to mean anything: {}",
        acked.len()
    );
}

/// Many client threads against the real binary over TCP, on overlapping sites: every
/// acknowledged write shows in the version, and no answer is a 5xx.
#[test]
fn concurrent_clients_on_the_real_server_lose_nothing() {
    const THREADS: usize = 8;
    const WRITES: usize = 15;
    let fx = Fixture::new();
    let data = fx.path().to_owned();
    let out = Command::new(BIN)
        .args([
            "token", "add", "--role", "planner", "--name", "crowd", "--data",
        ])
        .arg(&data)
        .output()
        .expect("token add");
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let (mut child, ready) = start(&data);
    let addr = ready
        .recv_timeout(Duration::from_secs(20))
        .expect("server ready");
    let sites = ["park-001", "compound-001"];
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let auth = format!("Bearer {token}");
            std::thread::spawn(move || {
                let (mut acked, mut errors) = ([0u64; 2], 0u64);
                for w in 0..WRITES {
                    let s = (t + w) % 2;
                    loop {
                        let v = site_version(addr, sites[s]).expect("site");
                        let (status, _, _) = http(
                            addr,
                            "PATCH",
                            &format!("/api/sites/{}", sites[s]),
                            &[("authorization", &auth), ("if-match", &format!("\"{v}\""))],
                            &format!(r#"{{"note":"thread {t} write {w}"}}"#),
                        )
                        .expect("answer");
                        match status {
                            200 => {
                                acked[s] += 1;
                                break;
                            }
                            412 => continue,
                            s if s >= 500 => {
                                errors += 1;
                                break;
                            }
                            s => panic!("unexpected {s}"),
                        }
                    }
                }
                (acked, errors)
            })
        })
        .collect();
    let (mut acked, mut errors) = ([0u64; 2], 0);
    for h in handles {
        let (a, e) = h.join().expect("thread");
        acked[0] += a[0];
        acked[1] += a[1];
        errors += e;
    }
    for (i, site) in sites.iter().enumerate() {
        assert_eq!(site_version(addr, site), Some(1 + acked[i]), "{site}");
    }
    let _ = child.kill();
    child.wait().expect("reap");
    eprintln!(
        "real-server concurrency: {} writes acknowledged, {errors} 5xx",
        acked[0] + acked[1]
    );
    assert_eq!(errors, 0);
    assert_eq!(acked[0] + acked[1], (THREADS * WRITES) as u64);
}
