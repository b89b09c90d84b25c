//! `serve --config FILE` on the real binary: the file sets flags, the command line and the
//! environment win over it, and a bad key stops the service with a message naming it.

mod common;
mod hardening_support;

use std::process::Command;

use common::fixture_dir;
use hardening_support::{BIN, Server};

/// `X-Tile-Cache` of the same tile asked twice: whether the cache is on.
fn cache_states(server: &Server) -> Vec<String> {
    (0..2)
        .map(|_| {
            let (status, headers, _) =
                common::http(server.addr, "GET", "/tiles/10/862/380.mvt", &[], "")
                    .expect("an answer");
            assert!(status == 200 || status == 204, "tile status {status}");
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-tile-cache"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn the_file_sets_flags_and_the_command_line_and_environment_win() {
    let dir = fixture_dir();
    let conf = dir.path().join("serve.toml");
    std::fs::write(
        &conf,
        "bind = \"127.0.0.1:0\"\ntoday = \"2026-06-01\"\ntile_cache_mb = 0\n",
    )
    .unwrap();
    let serve = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--data"])
            .arg(dir.path())
            .arg("--config")
            .arg(&conf)
            .args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Server::spawn(cmd)
    };
    // From the file: the cache is off, so the second request misses too.
    let s = serve(&[], &[]);
    assert_eq!(cache_states(&s), ["miss", "miss"], "{}", s.log_text());
    assert!(
        s.log_text().contains("serve.toml"),
        "the log names the file"
    );
    drop(s);
    // The command line wins over the file.
    let s = serve(&["--tile-cache-mb", "8"], &[]);
    assert_eq!(cache_states(&s), ["miss", "hit"]);
    drop(s);
    // So does the environment.
    let s = serve(&[], &[("RENEWAL_MAP_TILE_CACHE_MB", "8")]);
    assert_eq!(cache_states(&s), ["miss", "hit"]);
}

#[test]
fn a_bad_key_stops_the_service_naming_file_and_key() {
    let dir = fixture_dir();
    let conf = dir.path().join("bad.toml");
    std::fs::write(&conf, "bind = \"127.0.0.1:0\"\ntile-cache = 8\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--data"])
        .arg(dir.path())
        .env("RENEWAL_MAP_CONFIG", &conf)
        .output()
        .expect("run the binary");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("unknown key `tile-cache`"),
        "{err}"
    );
    assert!(err.contains("tile-cache-mb"), "lists the keys: {err}");
}
