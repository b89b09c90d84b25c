//! Storage hardening, against the real binary: a full disk and a read-only store during
//! serving refuse writes with 507 and an honest message while reads stay 200 and `/health`
//! says `degraded`; start-up on a full disk never calls a sound store corrupt; everything
//! recovers when space returns. One server per store by identity (hard link, symlink), and
//! store files `0600` whatever the umask.
//!
//! The disk-full test mounts a small tmpfs, which needs root; without it the test prints why
//! it is skipped.

mod common;
mod hardening_support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::http;
use common::store::Fixture;
use hardening_support::{BIN, Server, planner_token_with};
use serde_json::Value;

/// A tmpfs mounted for one test, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`"4m"`), or says why it cannot.
    fn mount(size: &str) -> Result<Tmpfs, String> {
        if !rustix::process::geteuid().is_root() {
            return Err("not running as root, so no tmpfs can be mounted".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.path())
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes zeros into `path` until the disk is full.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
}

fn patch(
    addr: std::net::SocketAddr,
    token: &str,
    version: u64,
    status: &str,
) -> (u16, Vec<(String, String)>, Value) {
    let body = format!(r#"{{"status": "{status}", "note": "storage test"}}"#);
    let auth = format!("Bearer {token}");
    let tag = format!("\"{version}\"");
    let (s, h, b) = http(
        addr,
        "PATCH",
        "/api/sites/park-001",
        &[
            ("Authorization", &auth),
            ("If-Match", &tag),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .expect("an answer");
    (s, h, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn json(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let (s, _, b) = http(addr, "GET", path, &[], "").expect("an answer");
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn stop(mut server: Server) {
    server.terminate();
    assert!(
        server.wait_exit(Duration::from_secs(15)).is_some(),
        "{}",
        server.log_text()
    );
}

#[test]
fn a_full_or_read_only_disk_refuses_writes_honestly_and_recovers() {
    let disk = match Tmpfs::mount("6m") {
        Ok(disk) => disk,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let data = Fixture::new();
    let db: PathBuf = disk.path().join("renewal.sqlite");
    let db_arg = db.to_str().expect("utf-8 path");
    let db_args = ["--db", db_arg, "--init-db"];
    let token = planner_token_with(data.path(), "planner", &db_args);
    let server = Server::start(data.path(), &db_args);
    let addr = server.addr;
    assert_eq!(patch(addr, &token, 1, "design").0, 200);

    let filler = disk.path().join("filler");
    fill(&filler);
    let (status, headers, body) = patch(addr, &token, 2, "tendering");
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["error"], "storage_unavailable", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("no space left") && message.contains("nothing was written"),
        "{message}"
    );
    assert!(
        headers.iter().any(|(k, _)| k == "retry-after"),
        "{headers:?}"
    );
    let (status, site) = json(addr, "/api/sites/park-001");
    assert_eq!(status, 200);
    assert_eq!(
        site["properties"]["status"], "design",
        "nothing was written: {site}"
    );
    assert_eq!(json(addr, "/api/sites/park-001/history").0, 200);
    let (status, health) = json(addr, "/health");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no space left"),
        "{health}"
    );
    stop(server);

    // Start-up on the full disk: never "corrupt" for a sound store. It either refuses with
    // "no space left" or starts and reports itself degraded.
    match Server::try_start(data.path(), &db_args) {
        Err(log) => {
            println!("start-up on a full disk refused: {log}");
            assert!(log.contains("no space left"), "{log}");
            assert!(!log.contains("corrupt"), "{log}");
        }
        Ok(server) => {
            println!("start-up on a full disk served, degraded");
            let (_, health) = json(server.addr, "/health");
            assert_eq!(health["status"], "degraded", "{health}");
            let log = server.log_text();
            assert!(!log.contains("corrupt"), "{log}");
            assert!(log.contains("no space left"), "{log}");
            stop(server);
        }
    }

    std::fs::remove_file(&filler).expect("free the space");
    let server = Server::start(data.path(), &db_args);
    let addr = server.addr;
    assert_eq!(json(addr, "/health").1["status"], "ok");
    let (status, _, body) = patch(addr, &token, 2, "tendering");
    assert_eq!(status, 200, "{body}");

    stop(server);

    // A store on a file system mounted read-only says so at start (a serving process holds
    // the store open for writing, so the remount can only happen while it is stopped).
    disk.remount("ro");
    let log = Server::try_start(data.path(), &db_args)
        .err()
        .expect("a read-only store does not start");
    assert!(log.contains("read-only"), "{log}");
    assert!(!log.contains("corrupt"), "{log}");
    disk.remount("rw");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(check, "ok");
}

#[test]
fn a_second_serve_through_a_hard_link_or_a_symlink_is_refused() {
    let data = Fixture::new();
    let server = Server::start(data.path(), &[]);
    let db = renewal_map::store::default_path(data.path());
    let other = tempfile::tempdir().expect("tempdir");
    let hard = other.path().join("hard.sqlite");
    std::fs::hard_link(&db, &hard).expect("hard link");
    let soft = other.path().join("soft.sqlite");
    std::os::unix::fs::symlink(&db, &soft).expect("symlink");
    for link in [&hard, &soft] {
        let log = Server::try_start(data.path(), &["--db", link.to_str().expect("utf-8")])
            .err()
            .unwrap_or_else(|| panic!("a second server started through {link:?}"));
        assert!(
            log.contains("already served by another renewal-map process"),
            "{log}"
        );
    }
    assert_eq!(json(server.addr, "/health").0, 200);
    stop(server);
    // Once the first has stopped, the link may serve.
    let through_link = Server::start(data.path(), &["--db", hard.to_str().expect("utf-8")]);
    assert_eq!(json(through_link.addr, "/health").0, 200);
}

#[test]
fn store_and_lock_files_are_private_whatever_the_umask() {
    let data = Fixture::new();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "umask 000; exec \"$0\" \"$@\"", BIN])
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(data.path());
    let server = Server::spawn(cmd);
    let db = renewal_map::store::default_path(data.path());
    let mut seen = Vec::new();
    for suffix in ["", ".lock", "-wal", "-shm"] {
        let mut path = db.clone().into_os_string();
        path.push(suffix);
        if let Ok(meta) = std::fs::metadata(&path) {
            seen.push((suffix, meta.permissions().mode() & 0o777));
        }
    }
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.iter().all(|(_, mode)| *mode == 0o600), "{seen:?}");
    stop(server);
}
