//! The living map on the real binary over 127.0.0.1: a planner's create → move → merge-patch →
//! retire → restore cycle seen by an event stream that reconnects with `Last-Event-ID`, and the
//! `kill -9` harness extended to creates and retires: every acknowledged create and retire is
//! in the store after any number of kills, and the file passes `PRAGMA integrity_check`.
//!
//! `LIVING_KILLS` sets the number of kills (default 10); `LIVING_SEED` replays a run.

mod common;
mod hardening_support;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::store::Fixture;
use common::{Rng, http};
use hardening_support::{Server, planner_token};
use serde_json::{Value, json};

const PARKS: &str = "/ogc/collections/parks/items";

/// A pocket park of about 55 m × 45 m centred on `lng, lat`, as a planner would POST it.
fn park(name: &str, lng: f64, lat: f64) -> String {
    json!({"type": "Feature",
        "geometry": common::polygon_square(lng, lat, 0.0005),
        "properties": {"name": name, "kind": "pocket_park", "status": "planned"}})
    .to_string()
}

/// A write with the planner's token; `None` when the server did not answer (killed).
fn write(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: &str,
) -> Option<common::RawReply> {
    let auth = format!("Bearer {token}");
    let media = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/geo+json"
    };
    let mut headers = vec![("authorization", auth.as_str()), ("content-type", media)];
    if let Some(e) = if_match {
        headers.push(("if-match", e));
    }
    http(addr, method, path, &headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An open `GET /api/events` over HTTP/1.0, so the body arrives unchunked until close.
struct EventStream {
    socket: TcpStream,
    text: String,
}

impl EventStream {
    fn open(addr: SocketAddr, last_event_id: Option<i64>) -> EventStream {
        let mut socket = TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let resume = last_event_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        write!(
            socket,
            "GET /api/events HTTP/1.0\r\nHost: {addr}\r\n{resume}\r\n"
        )
        .expect("send");
        let mut stream = EventStream {
            socket,
            text: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stream.text.contains("\r\n\r\n") {
            assert!(
                Instant::now() < deadline,
                "no response head: {}",
                stream.text
            );
            stream.fill();
        }
        let end = stream.text.find("\r\n\r\n").expect("head") + 4;
        let head: String = stream.text.drain(..end).collect();
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase().contains("text/event-stream"),
            "{head}"
        );
        stream
    }

    fn fill(&mut self) {
        let mut buf = [0u8; 4096];
        match self.socket.read(&mut buf) {
            Ok(0) => panic!("the server closed the event stream"),
            Ok(n) => self
                .text
                .push_str(std::str::from_utf8(&buf[..n]).expect("utf-8")),
            Err(_) => {} // read timeout: nothing yet
        }
    }

    /// The events that arrive within `wait`, as (id, data).
    fn events_within(&mut self, wait: Duration, at_least: usize) -> Vec<(i64, Value)> {
        let deadline = Instant::now() + wait;
        let mut events = Vec::new();
        while Instant::now() < deadline {
            self.fill();
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let id = block
                    .lines()
                    .find_map(|l| l.strip_prefix("id:"))
                    .map(|v| v.trim().parse::<i64>().expect("numeric id"));
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data:"))
                    .map(|v| serde_json::from_str::<Value>(v.trim()).expect("json data"));
                if let (Some(id), Some(data)) = (id, data) {
                    events.push((id, data));
                }
            }
            if events.len() >= at_least && at_least > 0 {
                break;
            }
        }
        events
    }
}

#[test]
fn a_planners_cycle_reaches_an_event_stream_once_across_a_reconnect() {
    let fx = Fixture::new();
    let token = planner_token(fx.path(), "cycle");
    let server = Server::start(fx.path(), &[]);
    let addr = server.addr;
    let mut first = EventStream::open(addr, None);

    let (status, headers, body) = write(
        addr,
        "POST",
        PARKS,
        &token,
        None,
        &park("新公园", 123.410, 41.812),
    )
    .expect("answer");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let created: Value = serde_json::from_slice(&body).expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let item = format!("{PARKS}/{id}");
    assert_eq!(header(&headers, "location"), Some(item.as_str()));
    assert_eq!(header(&headers, "etag"), Some("\"1\""));
    let moved = park("新公园", 123.415, 41.825);
    let (status, headers, _) =
        write(addr, "PUT", &item, &token, Some("\"1\""), &moved).expect("answer");
    assert_eq!((status, header(&headers, "etag")), (200, Some("\"2\"")));

    let seen = first.events_within(Duration::from_secs(10), 2);
    assert_eq!(seen.len(), 2, "{seen:?}");
    drop(first); // the map goes away (a phone loses signal) ...

    let patch = json!({"properties": {"name": "改名公园"}}).to_string();
    let (status, _, _) =
        write(addr, "PATCH", &item, &token, Some("\"2\""), &patch).expect("answer");
    assert_eq!(status, 200);
    let (status, _, _) = write(addr, "DELETE", &item, &token, Some("\"3\""), "").expect("answer");
    assert_eq!(status, 204);
    let restore = format!("{item}/restore");
    let (status, headers, _) =
        write(addr, "POST", &restore, &token, Some("\"4\""), "").expect("answer");
    assert_eq!((status, header(&headers, "etag")), (200, Some("\"5\"")));

    // ... and comes back with the last id it saw: the three it missed, each once, in order.
    let mut second = EventStream::open(addr, Some(seen[1].0));
    let rest = second.events_within(Duration::from_secs(10), 3);
    let extra = second.events_within(Duration::from_millis(600), 0);
    assert!(extra.is_empty(), "events after the last change: {extra:?}");
    let all: Vec<_> = seen.iter().chain(&rest).collect();
    let seqs: Vec<i64> = all.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (seqs[0]..seqs[0] + 5).collect::<Vec<_>>(),
        "gaps or repeats"
    );
    let changes: Vec<&str> = all
        .iter()
        .map(|(_, d)| d["change"].as_str().expect("change"))
        .collect();
    assert_eq!(
        changes,
        ["created", "updated", "updated", "retired", "restored"]
    );
    for (seq, d) in &all {
        assert_eq!(d["site_id"], id.as_str(), "{d}");
        assert_eq!(d["seq"], *seq, "{d}");
        assert_eq!(d["collection"], "parks", "{d}");
    }
    // The move's bbox covers the old and the new place.
    let b = &all[1].1["bbox"];
    assert!(
        b[0].as_f64() < Some(123.4101) && b[2].as_f64() > Some(123.4149),
        "{b}"
    );
    assert!(
        b[1].as_f64() < Some(41.8121) && b[3].as_f64() > Some(41.8249),
        "{b}"
    );

    let (status, body) = server.get(&item).expect("answer");
    assert_eq!(status, 200);
    let now: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(now["properties"]["name"], "改名公园");
    assert_eq!(now["geometry"]["coordinates"][0][0][0], 123.415);
}

/// What the writers of one round had acknowledged.
#[derive(Default)]
struct Acks {
    /// Creates answered 201: id and name.
    created: Vec<(String, String)>,
    /// Ids whose retire was answered 204.
    retired: HashSet<String>,
    /// Ids a retire was sent for, answered or not.
    retire_tried: HashSet<String>,
    server_errors: u64,
}

/// POSTs parks until the server stops answering.
fn creator(
    addr: SocketAddr,
    token: &str,
    round: usize,
    seed: u64,
    acks: &Mutex<Acks>,
    stop: &AtomicBool,
) {
    let mut rng = Rng(seed | 1);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let name = format!("断电测试 {round}-{n}");
        let lng = 123.402 + rng.below(3_600) as f64 * 1e-5;
        let lat = 41.812 + rng.below(1_600) as f64 * 1e-5;
        let Some((status, _, body)) =
            write(addr, "POST", PARKS, token, None, &park(&name, lng, lat))
        else {
            break;
        };
        let mut a = acks.lock().expect("acks");
        match status {
            201 => {
                let v: Value = serde_json::from_slice(&body).expect("json");
                a.created
                    .push((v["id"].as_str().expect("id").to_owned(), name));
            }
            s if s >= 500 => a.server_errors += 1,
            s => panic!("create answered {s}: {}", String::from_utf8_lossy(&body)),
        }
    }
}

/// Retires acknowledged parks (one in three) until the server stops answering.
fn retirer(addr: SocketAddr, token: &str, acks: &Mutex<Acks>, stop: &AtomicBool) {
    let mut next = 0;
    while !stop.load(Ordering::Relaxed) {
        let target = {
            let mut a = acks.lock().expect("acks");
            let pick = a.created.get(next).map(|(id, _)| id.clone());
            if let Some(id) = &pick {
                a.retire_tried.insert(id.clone());
                next += 3;
            }
            pick
        };
        let Some(id) = target else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let item = format!("{PARKS}/{id}");
        let Some((status, headers, _)) = http(addr, "GET", &format!("/api/sites/{id}"), &[], "")
        else {
            break;
        };
        if status != 200 {
            continue; // retired by an unacknowledged DELETE before a kill
        }
        let Some(etag) = header(&headers, "etag").map(str::to_owned) else {
            break; // the answer was cut by the kill
        };
        let Some((status, _, body)) = write(addr, "DELETE", &item, token, Some(&etag), "") else {
            break;
        };
        let mut a = acks.lock().expect("acks");
        match status {
            204 => {
                a.retired.insert(id);
            }
            s if s >= 500 => a.server_errors += 1,
            s => panic!("retire answered {s}: {}", String::from_utf8_lossy(&body)),
        }
    }
}

#[test]
fn acknowledged_creates_and_retires_survive_kill_9() {
    let kills: usize = std::env::var("LIVING_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(10);
    let (mut rng, seed) = Rng::from_env("LIVING_SEED");
    let fx = Fixture::new();
    let db = fx.path().join("renewal.sqlite");
    let token = planner_token(fx.path(), "kill-9");
    let acks = Arc::new(Mutex::new(Acks::default()));
    let started = Instant::now();
    for round in 0..kills {
        let mut server = Server::start(fx.path(), &[]);
        let addr = server.addr;
        let stop = Arc::new(AtomicBool::new(false));
        let writers = [
            {
                let (token, acks, stop, s) =
                    (token.clone(), acks.clone(), stop.clone(), rng.next());
                std::thread::spawn(move || creator(addr, &token, round, s, &acks, &stop))
            },
            {
                let (token, acks, stop) = (token.clone(), acks.clone(), stop.clone());
                std::thread::spawn(move || retirer(addr, &token, &acks, &stop))
            },
        ];
        std::thread::sleep(Duration::from_millis(60 + rng.below(300)));
        server.child.kill().expect("kill -9");
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().expect("writer");
        }
        server.child.wait().expect("reap");
        let conn = rusqlite::Connection::open(&db).expect("open store");
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(ok, "ok", "integrity after kill {round}");
    }

    let server = Server::start(fx.path(), &[]);
    let a = acks.lock().expect("acks");
    let mut lost = Vec::new();
    for (id, name) in &a.created {
        let (status, body) = server
            .get(&format!("/api/sites/{id}/history"))
            .expect("answer");
        assert_eq!(status, 200, "history of {id}");
        let h: Value = serde_json::from_slice(&body).expect("json");
        let changes = h["changes"].as_array().expect("changes");
        let last = changes.last().and_then(|c| c["change"].as_str());
        let (status, body) = server.get(&format!("{PARKS}/{id}")).expect("answer");
        let live = status == 200;
        if a.retired.contains(id) {
            if live || last != Some("retired") {
                lost.push(format!(
                    "retire of {id} (live {live}, last change {last:?})"
                ));
            }
        } else if !a.retire_tried.contains(id) {
            let item: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if !live || item["properties"]["name"] != name.as_str() {
                lost.push(format!("create of {id} {name} ({status})"));
            }
        }
    }
    eprintln!(
        "living kill -9: seed {seed}, {kills} kills, {} acknowledged creates, {} acknowledged retires, {} lost, {} 5xx, {:.1} s",
        a.created.len(),
        a.retired.len(),
        lost.len(),
        a.server_errors,
        started.elapsed().as_secs_f64()
    );
    assert!(lost.is_empty(), "lost acknowledged writes: {lost:?}");
    assert_eq!(a.server_errors, 0);
    assert!(
        a.created.len() >= kills && !a.retired.is_empty(),
        "too few writes to mean anything: {} creates, {} retires",
        a.created.len(),
        a.retired.len()
    );
}
