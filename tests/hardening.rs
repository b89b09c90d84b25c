//! Hardening of the transport, against the real binary on 127.0.0.1: slow, silent, half-sent
//! and idle connections are cut within the header timeout while normal requests keep being
//! answered; a reader that stops reading is cut after the write timeout; a connection flood at
//! a low descriptor limit leaves the server answering; SIGTERM with a slow connection open
//! exits within the shutdown deadline, and an open event stream gets a final comment and ends
//! instead of holding the shutdown; a write's token is checked before its body is read, and a
//! late body gets 408; failed tokens are throttled per address (429 with Retry-After) without
//! touching valid tokens.

mod common;
mod hardening_support;

use std::io::Read;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::store::Fixture;
use hardening_support::{BIN, Server, connect, planner_token, send, wait_closed};

const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// Slack on top of a timeout for a loaded, shared machine.
const SLACK: Duration = Duration::from_secs(3);

fn health_ok(server: &Server) {
    let (status, body) = server.get("/health").expect("an answer to /health");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("\"status\""));
}

#[test]
fn slow_silent_half_sent_and_idle_connections_are_cut_while_others_are_served() {
    let data = Fixture::new();
    let server = Server::start(data.path(), &["--header-timeout-secs", "2"]);
    let started = Instant::now();
    let mut silent = connect(server.addr);
    let mut slowloris = connect(server.addr);
    send(&mut slowloris, b"GET /health HTTP/1.1\r\nHost: x\r\n");
    let mut half = connect(server.addr);
    let big = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n",
        "a".repeat(30_000)
    );
    send(&mut half, big.as_bytes());
    let mut idle = connect(server.addr);
    send(&mut idle, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut first = [0u8; 12];
    idle.read_exact(&mut first)
        .expect("the idle connection's first answer");
    assert_eq!(&first, b"HTTP/1.1 200");

    // The slow client keeps trickling header lines; normal clients are answered meanwhile.
    let mut cut = Vec::new();
    while started.elapsed() < HEADER_TIMEOUT + SLACK && cut.len() < 4 {
        send(&mut slowloris, b"X-a: b\r\n");
        health_ok(&server);
        for (name, s) in [
            ("silent", &mut silent),
            ("slowloris", &mut slowloris),
            ("half-sent", &mut half),
            ("idle keep-alive", &mut idle),
        ] {
            if !cut.contains(&name) && hardening_support::closed_by_server(s) {
                cut.push(name);
            }
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(
        cut.len(),
        4,
        "only {cut:?} were closed after {elapsed:?} (header timeout {HEADER_TIMEOUT:?})"
    );
    assert!(
        elapsed >= HEADER_TIMEOUT - Duration::from_millis(200),
        "{elapsed:?}"
    );
    health_ok(&server);
    let log = server.log_text();
    assert!(
        !log.contains("ERROR"),
        "client timeouts are not errors of ours: {log}"
    );
}

#[test]
fn a_connection_flood_at_a_low_descriptor_limit_leaves_the_server_answering() {
    let data = Fixture::new();
    let mut cmd = Command::new("prlimit");
    cmd.args(["--nofile=128:128", BIN])
        .args(["serve", "--bind", "127.0.0.1:0", "--today", "2026-06-01"])
        .args(["--header-timeout-secs", "2", "--data"])
        .arg(data.path());
    let server = Server::spawn(cmd);
    // A client connected before the flood keeps being served on its connection while the
    // flood connects (its requests come well within the header timeout).
    let mut kept = connect(server.addr);
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let target = server.addr;
    let flooding = std::thread::spawn(move || {
        (0..300)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&target, Duration::from_secs(3)).ok()
            })
            .collect::<Vec<_>>()
    });
    for _ in 0..8 {
        send(&mut kept, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut head = [0u8; 12];
        kept.read_exact(&mut head).unwrap_or_else(|e| {
            panic!(
                "the kept connection is answered: {e}: {}",
                server.log_text()
            )
        });
        assert_eq!(&head, b"HTTP/1.1 200");
        let mut rest = [0u8; 4096];
        let _ = kept.read(&mut rest);
        std::thread::sleep(Duration::from_millis(250));
    }
    let flood = flooding.join().expect("flood thread");
    assert!(flood.len() >= 100, "the flood connected {}", flood.len());
    // Silent flood connections are cut at the header timeout, and new clients are answered
    // even while the flood stays connected.
    let start = Instant::now();
    let mut answered = false;
    while start.elapsed() < HEADER_TIMEOUT * 3 + SLACK * 2 {
        if server.get("/health").is_some_and(|(s, _)| s == 200) {
            answered = true;
            break;
        }
    }
    assert!(answered, "no new client answered: {}", server.log_text());
    drop(flood);
    health_ok(&server);
    assert!(
        server.log_text().contains("serving at most 64 connections"),
        "the cap fits the limit: {}",
        server.log_text()
    );
}

#[test]
fn sigterm_with_a_slow_connection_open_exits_within_the_deadline() {
    let data = Fixture::new();
    let mut server = Server::start(
        data.path(),
        &[
            "--header-timeout-secs",
            "60",
            "--shutdown-timeout-secs",
            "2",
        ],
    );
    let mut slow = connect(server.addr);
    send(&mut slow, b"GET /health HTTP/1.1\r\nHost: x\r\n");
    let mut idle = connect(server.addr);
    send(&mut idle, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    health_ok(&server);
    let start = Instant::now();
    server.terminate();
    let status = server
        .wait_exit(Duration::from_secs(2) + SLACK)
        .unwrap_or_else(|| {
            panic!(
                "still running after {:?}: {}",
                start.elapsed(),
                server.log_text()
            )
        });
    assert!(status.success(), "{status:?}: {}", server.log_text());
    assert!(wait_closed(&mut slow, Duration::from_secs(1)).is_some());
    assert!(
        server.log_text().contains("shutting down"),
        "{}",
        server.log_text()
    );
}

#[test]
fn sigterm_ends_an_open_event_stream_with_a_final_comment_long_before_the_deadline() {
    let data = Fixture::new();
    let mut server = Server::start(data.path(), &["--shutdown-timeout-secs", "30"]);
    let mut events = connect(server.addr);
    events
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    send(&mut events, b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = events.read(&mut buf).expect("the stream's head");
        assert!(n > 0, "closed before the head");
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    let start = Instant::now();
    server.terminate();
    // Far below the 30 s deadline: the stream ends itself instead of holding the shutdown.
    let status = server.wait_exit(SLACK + SLACK).unwrap_or_else(|| {
        panic!(
            "an open event stream held the shutdown for {:?}: {}",
            start.elapsed(),
            server.log_text()
        )
    });
    assert!(status.success(), "{status:?}: {}", server.log_text());
    while let Ok(n) = events.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains(": closed; reconnect to resume"), "{text}");
}

#[test]
fn a_reader_that_stops_reading_is_cut_after_the_write_timeout() {
    let data = Fixture::new();
    let server = Server::start(data.path(), &["--write-timeout-secs", "2"]);
    let path = "/api/export/sites.geojson";
    let (status, body) = server.get(path).expect("an export");
    assert_eq!(status, 200);
    // Pipelined answers far beyond what the socket buffers hold (loopback: a few MiB).
    let one = body.len() + 512;
    let n = (48 << 20) / one + 1;
    let mut stalled = connect(server.addr);
    stalled
        .set_write_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    send(&mut stalled, request.repeat(n).as_bytes());
    std::thread::sleep(Duration::from_secs(2) + SLACK);
    health_ok(&server);
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let ended = loop {
        match stalled.read(&mut buf) {
            Ok(0) => break true,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(
        ended,
        "the stalled connection is still open after {got} bytes"
    );
    assert!(
        got < n * body.len(),
        "all {n} answers were delivered ({got} bytes): nothing was cut"
    );
}

fn raw_exchange(addr: SocketAddr, head: &str, body: &[u8]) -> (String, Duration) {
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let start = Instant::now();
    send(&mut s, head.as_bytes());
    send(&mut s, body);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"}") {
            break;
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

#[test]
fn the_token_is_checked_before_the_body_and_a_late_body_gets_408() {
    let data = Fixture::new();
    let token = planner_token(data.path(), "planner");
    let server = Server::start(data.path(), &["--body-timeout-secs", "2"]);
    // Anonymous, asking for 100 Continue: refused at once, no 100, no body read.
    let (answer, took) = raw_exchange(
        server.addr,
        "PATCH /api/sites/park-001 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIf-Match: \"1\"\r\nExpect: 100-continue\r\nContent-Length: 60000\r\n\r\n",
        b"",
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // With a valid token the body is read; one that stops half-way gets 408 in time.
    let (answer, took) = raw_exchange(
        server.addr,
        &format!(
            "PATCH /api/sites/park-001 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nIf-Match: \"1\"\r\nContent-Length: 100\r\n\r\n"
        ),
        b"{\"status\":",
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(2) + SLACK,
        "{took:?}"
    );
    // And a whole body is applied.
    let body = r#"{"status": "design", "note": "hardening"}"#;
    let (answer, _) = raw_exchange(
        server.addr,
        &format!(
            "PATCH /api/sites/park-001 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nIf-Match: \"1\"\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ),
        body.as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"design\""), "{answer}");
}

/// `GET /api/me` with `token` from the local address `from` (any 127.x address is loopback).
async fn me_from(addr: SocketAddr, from: [u8; 4], token: &str) -> (u16, Option<String>) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback source address");
    let mut s = socket.connect(addr).await.expect("connect");
    let req = format!(
        "GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let retry = text.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("retry-after:")
            .map(|v| v.trim().to_owned())
    });
    (status, retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_tokens_are_throttled_per_address_and_valid_tokens_are_not() {
    let data = Fixture::new();
    let token = planner_token(data.path(), "planner");
    let server = Server::start(data.path(), &["--auth-failures-per-minute", "5"]);
    let addr = server.addr;
    let guess = "rm_0000000000000000000000000000000000000000000000000000000000000000";
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(me_from(addr, [127, 0, 0, 2], guess).await);
    }
    assert!(statuses[..5].iter().all(|(s, _)| *s == 401), "{statuses:?}");
    assert!(
        statuses[5..].iter().all(|(s, r)| *s == 429
            && r.as_deref()
                .and_then(|r| r.parse::<u64>().ok())
                .is_some_and(|r| (1..=60).contains(&r))),
        "{statuses:?}"
    );
    // Another address, and valid tokens any number of times, are unaffected.
    for _ in 0..20 {
        assert_eq!(me_from(addr, [127, 0, 0, 1], &token).await.0, 200);
    }
    assert_eq!(me_from(addr, [127, 0, 0, 3], guess).await.0, 401);
    let log = server.log_text();
    assert_eq!(
        log.matches("too many failed token checks").count(),
        1,
        "logged once per burst: {log}"
    );
    assert!(log.contains("127.0.0.2"), "{log}");
    assert!(
        !log.contains(guess) && !log.contains(&token),
        "no token in the log: {log}"
    );
}
