//! The store at start-up and the token commands, through the real binary: a missing,
//! corrupt, read-only or foreign database stops the service with a clear message and a
//! non-zero exit; tokens are printed once, listed without secrets, and revocable.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::store::Fixture;
use renewal_map::store::{OpenMode, Store, StoreError};

const BIN: &str = env!("CARGO_BIN_EXE_renewal-map");

fn run(args: &[&str], data: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the binary")
}

/// `serve` on a port that is never reached: start-up must fail before binding.
fn serve_fails(data: &Path, extra: &[&str], expect_in_message: &str) {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let out = run(&args, data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "serve started: {stderr}");
    assert!(
        stderr.contains(expect_in_message),
        "message should mention {expect_in_message:?}: {stderr}"
    );
    assert!(!stderr.contains("serving on"), "{stderr}");
}

#[test]
fn broken_databases_stop_the_service() {
    let fx = Fixture::new();
    let data = fx.path();
    let db = data.join("renewal.sqlite");

    // Not a database at all.
    std::fs::write(
        &db,
        b"this is not sqlite, just some bytes that are long enough to matter......",
    )
    .unwrap();
    serve_fails(data, &[], "corrupt or not a renewal-map store");
    // Empty file.
    std::fs::write(&db, b"").unwrap();
    serve_fails(data, &[], "corrupt or not a renewal-map store");
    // A SQLite database that is not ours.
    std::fs::remove_file(&db).unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    serve_fails(data, &[], "no renewal-map schema version");
    // A store from a newer build.
    std::fs::remove_file(&db).unwrap();
    let sites = renewal_map::load::load_dataset(data).unwrap().sites;
    drop(Store::open(&db, &sites, OpenMode::CreateIfMissing).unwrap());
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    serve_fails(data, &[], "schema version 99");
    // A damaged page: overwrite the middle of a good store.
    std::fs::remove_file(&db).unwrap();
    drop(Store::open(&db, &sites, OpenMode::CreateIfMissing).unwrap());
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8192, "store smaller than expected");
    for b in &mut bytes[4096..8192] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    serve_fails(data, &[], "corrupt");
}

#[test]
fn read_only_and_missing_databases_stop_the_service() {
    let fx = Fixture::new();
    let data = fx.path();
    let db = data.join("renewal.sqlite");
    let sites = renewal_map::load::load_dataset(data).unwrap().sites;
    drop(Store::open(&db, &sites, OpenMode::CreateIfMissing).unwrap());

    let mut perms = std::fs::metadata(&db).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&db, perms.clone()).unwrap();
    serve_fails(data, &[], "read-only");
    #[allow(
        clippy::permissions_set_readonly_false,
        reason = "restoring the file for cleanup"
    )]
    perms.set_readonly(false);
    std::fs::set_permissions(&db, perms).unwrap();

    // An explicit --db that does not exist is an error, not a new empty store.
    let elsewhere = data.join("elsewhere.sqlite");
    serve_fails(
        data,
        &["--db", elsewhere.to_str().unwrap()],
        "does not exist",
    );
    assert!(!elsewhere.exists());
    // A write-ahead log without its database: the database was lost, do not start empty.
    std::fs::write(data.join("gone.sqlite-wal"), b"x").unwrap();
    let gone = data.join("gone.sqlite");
    serve_fails(
        data,
        &["--db", gone.to_str().unwrap(), "--init-db"],
        "write-ahead log",
    );
    assert!(matches!(
        Store::open(&gone, &sites, OpenMode::CreateIfMissing),
        Err(StoreError::OrphanWal(_))
    ));
}

#[test]
fn tokens_are_added_listed_and_revoked() {
    let fx = Fixture::new();
    let data = fx.path();
    let out = run(
        &[
            "token",
            "add",
            "--role",
            "field",
            "--team",
            "三台子",
            "--name",
            "Team 3",
            "--sites",
            "park-002",
        ],
        data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(renewal_map::store::token_looks_valid(&token), "{token:?}");

    let list = run(&["token", "list"], data);
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(
        text.contains("Team 3\tfield\t三台子\t210105011,park-002\t"),
        "{text}"
    );
    assert!(!text.contains(&token[3..]), "list shows the token");
    // The file holds only the hash.
    let raw = std::fs::read(data.join("renewal.sqlite")).unwrap();
    assert!(!raw.windows(token.len()).any(|w| w == token.as_bytes()));

    let store = Store::open(&data.join("renewal.sqlite"), &[], OpenMode::MustExist).unwrap();
    let account = store.authenticate(&token).unwrap().expect("live token");
    assert_eq!(account.subdistricts, ["210105011"]);
    assert!(store.authenticate("rm_nope").unwrap().is_none());

    for bad in [
        vec!["token", "add", "--role", "field", "--name", "No assignment"],
        vec![
            "token",
            "add",
            "--role",
            "field",
            "--name",
            "X",
            "--subdistricts",
            "月球街道",
        ],
        vec![
            "token", "add", "--role", "field", "--name", "X", "--sites", "park-999",
        ],
        vec!["token", "add", "--role", "boss", "--name", "X"],
        vec!["token", "add", "--role", "planner", "--name", "Team 3"],
        vec!["token", "revoke", "nobody"],
    ] {
        let out = run(&bad, data);
        assert!(!out.status.success(), "{bad:?} succeeded");
        assert!(
            out.stdout.is_empty(),
            "{bad:?} printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    let out = run(&["token", "revoke", "Team 3"], data);
    assert!(out.status.success());
    assert!(store.authenticate(&token).unwrap().is_none());
    let text = String::from_utf8(run(&["token", "list"], data).stdout).unwrap();
    let line = text.lines().find(|l| l.contains("Team 3")).unwrap();
    assert!(!line.ends_with("\t-"), "revocation time not listed: {line}");
}

/// Both connections of a store opened as `serve` opens it (new file, then existing file) run
/// in WAL mode with `synchronous=FULL` and foreign keys on.
#[test]
fn both_connections_have_the_durability_settings() {
    let fx = Fixture::new();
    for round in ["created", "reopened"] {
        let (_state, store) = fx.open();
        let [writer, reader] = store.pragmas().unwrap();
        for (which, p) in [("writer", writer), ("reader", reader)] {
            assert_eq!(p.journal_mode, "wal", "{round} {which}");
            assert_eq!(p.synchronous, 2, "{round} {which}: synchronous is not FULL");
            assert!(p.foreign_keys, "{round} {which}: foreign keys off");
        }
    }
}

/// A second `serve` on a database another `serve` holds stops with a clear message; token
/// commands still run beside it, and the lock goes with the process (even on `kill -9`).
#[test]
fn a_second_serve_on_the_same_database_is_refused() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let fx = Fixture::new();
    let data = fx.path();
    let start = || {
        let mut child = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let started = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("serving on"));
        assert!(started, "first serve did not start");
        // Keep draining, so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        child
    };
    let mut first = start();
    serve_fails(data, &[], "already served by another renewal-map process");
    let out = run(&["token", "list"], data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let mut again = start();
    again.kill().unwrap();
    again.wait().unwrap();
}
