//! Helpers of the PostgreSQL tests (`tests/pg_*.rs`): the test cluster `scripts/pg` started
//! (`RENEWAL_MAP_TEST_PG`; a test without it prints why it skips), a fresh database per test
//! copied from the PostGIS template, real `serve` instances on one database, and a planner
//! token.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use renewal_map::model::{Role, SiteId};
use renewal_map::store::pg::PgStore;
use renewal_map::store::{NewAccount, SiteStore};
use serde_json::Value;

use super::http;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_renewal-map");

/// The admin URL of the test cluster, or `None` after printing why the test is skipped.
pub fn cluster(test: &str) -> Option<String> {
    match std::env::var("RENEWAL_MAP_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED {test}: RENEWAL_MAP_TEST_PG is unset (scripts/test starts a PostgreSQL + PostGIS cluster: . scripts/pg && pg_start)"
            );
            None
        }
    }
}

/// The command that stops and starts the test cluster (`$RENEWAL_MAP_TEST_PG_CTL stop|start`).
pub fn ctl(action: &str) {
    let ctl = std::env::var("RENEWAL_MAP_TEST_PG_CTL").expect("RENEWAL_MAP_TEST_PG_CTL is set");
    let out = Command::new(&ctl).arg(action).output().expect("run pg ctl");
    assert!(
        out.status.success(),
        "{ctl} {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// A new, empty database with PostGIS (from `renewal_template`); returns its URL.
pub fn fresh_database(cluster: &str) -> String {
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let mut admin = postgres::Client::connect(cluster, postgres::NoTls).expect("connect admin");
    admin
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE renewal_template"))
        .expect("create test database");
    let (base, _) = cluster.rsplit_once('/').expect("URL with a database");
    format!("{base}/{name}")
}

/// A direct connection, for checking what the database holds.
pub fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect")
}

/// Migrates and seeds `url` from the data set in `data` and adds a planner; returns its token.
pub fn planner(url: &str, data: &Path, name: &str) -> String {
    let dataset = renewal_map::load::load_dataset(data).expect("data set loads");
    let store = PgStore::open(url, &dataset.sites).expect("store opens");
    store
        .add_account(&NewAccount {
            name: name.into(),
            role: Role::Planner,
            team: None,
            subdistricts: Vec::new(),
            sites: Vec::<SiteId>::new(),
        })
        .expect("account")
        .1
}

/// A `serve` process on a PostgreSQL database; killed (`kill -9`) when dropped.
pub struct Instance {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Instance {
    /// Starts `serve --db url --data data` on a free port and waits until it listens.
    pub fn start(url: &str, data: &Path) -> Instance {
        Instance::start_with(url, data, &[])
    }

    /// [`Instance::start`] with more flags.
    pub fn start_with(url: &str, data: &Path, extra: &[&str]) -> Instance {
        let mut child = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", "--db", url, "--data"])
            .arg(data)
            .arg("--web")
            .arg(PathBuf::from(data).join("no-web"))
            .args(extra)
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
                            .parse::<SocketAddr>()
                        {
                            let _ = tx.send(addr);
                        }
                    } else if line.contains("renewal-map:") || line.contains("WARN") {
                        eprintln!("server: {line}");
                    }
                }
            });
        }
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server ready");
        Instance { child, addr }
    }

    /// `kill -9` and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The JSON of a `GET`, with its status.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = http(self.addr, "GET", path, &[], "").expect("answer");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// The site's version as this instance serves it (`None` when it does not).
    pub fn version(&self, site: &str) -> Option<u64> {
        let (status, _, body) = http(self.addr, "GET", &format!("/api/sites/{site}"), &[], "")?;
        if status != 200 {
            return None;
        }
        serde_json::from_slice::<Value>(&body).ok()?["properties"]["version"].as_u64()
    }

    /// `PATCH /api/sites/{site}` with a note; returns status and the new version (ETag).
    pub fn patch(&self, token: &str, site: &str, version: u64, body: &str) -> Option<(u16, u64)> {
        let auth = format!("Bearer {token}");
        let if_match = format!("\"{version}\"");
        let (status, headers, _) = http(
            self.addr,
            "PATCH",
            &format!("/api/sites/{site}"),
            &[
                ("authorization", &auth),
                ("if-match", &if_match),
                ("content-type", "application/json"),
            ],
            body,
        )?;
        let etag = headers
            .iter()
            .find(|(k, _)| k == "etag")
            .and_then(|(_, e)| e.trim_matches('"').parse().ok())
            .unwrap_or(0);
        Some((status, etag))
    }

    /// Waits until `cond` holds for this instance, up to `limit`; returns how long it took.
    pub fn wait_for(&self, limit: Duration, cond: impl Fn(&Instance) -> bool) -> Option<Duration> {
        let t = Instant::now();
        while t.elapsed() < limit {
            if cond(self) {
                return Some(t.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `p`-th percentile (0–100) of `samples` (sorted here), nearest rank.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}
