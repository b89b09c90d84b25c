//! Shared helpers of the integration tests: the read-side fixture `two_parks_compound_road`
//! written to a temp directory, the router over it, in-process request helpers that print
//! status and body on failure, and a plain HTTP/1.1 client for real servers. The store
//! fixture, tokens and PATCH helpers of the write-side tests are in [`store`].
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

pub mod access;
pub mod cli;
pub mod pg;
pub mod store;
pub mod tiles;

use std::fmt::Debug;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use renewal_map::config::Config;
use renewal_map::load::load_dataset;
use renewal_map::model::Date;
use renewal_map::snapshot::Snapshot;
use renewal_map::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The fixed "today" of the tests, so lateness does not depend on the clock.
pub const TODAY: &str = "2026-11-27";

/// The default data set shipped in the repository.
pub fn default_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/huanggu")
}

/// A closed square polygon ring of side `d` degrees with its south-west corner at (lng, lat).
pub fn gj_square(lng: f64, lat: f64, d: f64) -> Value {
    json!([[
        [lng, lat],
        [lng + d, lat],
        [lng + d, lat + d],
        [lng, lat + d],
        [lng, lat]
    ]])
}

/// A GeoJSON `Polygon` geometry: the square of [`gj_square`].
pub fn polygon_square(lng: f64, lat: f64, d: f64) -> Value {
    json!({"type": "Polygon", "coordinates": gj_square(lng, lat, d)})
}

/// A GeoJSON `FeatureCollection` of `features`.
pub fn fc(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

/// Writes `v` as pretty JSON to `dir/name`.
pub fn write_json(dir: &Path, name: &str, v: &Value) {
    std::fs::write(
        dir.join(name),
        serde_json::to_vec_pretty(v).expect("fixture serialises"),
    )
    .expect("write fixture");
}

fn site(
    id: &str,
    fid: u64,
    kind: &str,
    status: &str,
    progress: u8,
    geometry: Value,
    extra: Value,
) -> Value {
    let mut props = json!({
        "fid": fid, "name": format!("测试{id}"), "kind": kind, "subdistrict": if fid.is_multiple_of(2) { "西街道" } else { "东街道" },
        "subdistrict_code": if fid.is_multiple_of(2) { "999001" } else { "999002" }, "status": status, "progress": progress,
        "investment_wan": 100.0, "programme": "construction", "project_id": format!("C-{fid}"),
        "planned_start": "2025-03-01", "planned_finish": "2026-06-30", "updated_at": "2026-10-01T08:00:00Z",
        "geometry": "illustrative"
    });
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "Feature", "id": id, "geometry": geometry, "properties": props})
}

/// Writes the fixture `two_parks_compound_road`: a 0.04° square district split in two
/// sub-districts, two streets, a landmark, and five sites (an open park, a park under
/// construction, a compound with a courtyard hole, a road crossing the district, an alley).
pub fn write_two_parks_compound_road(dir: &Path) {
    let w = |name: &str, v: Value| write_json(dir, name, &v);
    w(
        "plan.json",
        json!({"district_code": "999", "district_name": "测试区", "source": "test fixture",
            "targets": {"pocket_park": 3, "compound": 1, "road": 1, "alley": 2},
            "programmes": [{"programme": "construction", "projects": 5, "investment_wan": 500.0}],
            "park_service_radii_m": [300.0, 500.0]}),
    );
    w(
        "district.geojson",
        fc(vec![
            json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": gj_square(123.40, 41.80, 0.04)},
            "properties": {"name": "测试区", "code": "999", "geometry": "real"}}),
        ]),
    );
    w(
        "subdistricts.geojson",
        fc(vec![
            json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[123.40, 41.80], [123.42, 41.80], [123.42, 41.84], [123.40, 41.84], [123.40, 41.80]]]},
                "properties": {"name": "西街道", "code": "999001", "name_en": "West", "geometry": "illustrative"}}),
            json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[123.42, 41.80], [123.44, 41.80], [123.44, 41.84], [123.42, 41.84], [123.42, 41.80]]]},
                "properties": {"name": "东街道", "code": "999002", "name_en": "East", "geometry": "illustrative"}}),
        ]),
    );
    w(
        "streets.geojson",
        fc(vec![
            json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[123.40, 41.82], [123.44, 41.82]]},
                "properties": {"name": "泰山路", "class": "main", "geometry": "illustrative"}}),
            json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[123.42, 41.80], [123.42, 41.84]]},
                "properties": {"name": "梅江街", "class": "main", "geometry": "illustrative"}}),
        ]),
    );
    w(
        "landmarks.geojson",
        fc(vec![
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [123.43, 41.835]},
            "properties": {"name": "测试地标", "kind": "park", "geometry": "real"}}),
        ]),
    );
    let compound = json!({"type": "Polygon", "coordinates": [
        [[123.405, 41.825], [123.408, 41.825], [123.408, 41.828], [123.405, 41.828], [123.405, 41.825]],
        [[123.406, 41.826], [123.406, 41.827], [123.407, 41.827], [123.407, 41.826], [123.406, 41.826]]]});
    w(
        "sites.geojson",
        fc(vec![
            site(
                "park-001",
                101,
                "pocket_park",
                "completed",
                100,
                polygon_square(123.410, 41.810, 0.0005),
                json!({}),
            ),
            site(
                "park-002",
                102,
                "pocket_park",
                "under_construction",
                40,
                polygon_square(123.430, 41.830, 0.0004),
                json!({}),
            ),
            site(
                "park-003",
                103,
                "pocket_park",
                "accepted",
                100,
                polygon_square(123.4355, 41.8105, 0.0006),
                json!({}),
            ),
            site(
                "compound-001",
                201,
                "compound",
                "design",
                5,
                compound,
                json!({"households": 420, "built_year": 1988, "community": "测试社区", "community_code": "999001001"}),
            ),
            site(
                "road-01",
                302,
                "road",
                "under_construction",
                60,
                json!({"type": "LineString", "coordinates": [[123.401, 41.815], [123.439, 41.815]]}),
                json!({}),
            ),
            site(
                "alley-001",
                401,
                "alley",
                "planned",
                0,
                json!({"type": "LineString", "coordinates": [[123.425, 41.833], [123.427, 41.834]]}),
                json!({"planned_finish": "2027-06-30"}),
            ),
        ]),
    );
}

/// A temp directory holding the `two_parks_compound_road` fixture.
pub fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_two_parks_compound_road(dir.path());
    dir
}

/// The test configuration over `data_dir`: fixed today, default limits.
pub fn config(data_dir: &Path) -> Config {
    Config {
        data_dir: data_dir.to_owned(),
        today: Some(TODAY.parse::<Date>().expect("date")),
        ..Config::default()
    }
}

/// Loads `data_dir` and returns the router over it.
pub fn router(data_dir: &Path) -> Router {
    app(AppState::new(snapshot(data_dir), config(data_dir)))
}

/// Loads `data_dir` into a snapshot.
pub fn snapshot(data_dir: &Path) -> Snapshot {
    Snapshot::build(load_dataset(data_dir).expect("data set loads"))
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON, panicking with status and body if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{e}: status {} body {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Panics with status and body unless the status is `want` (a `StatusCode` or a `u16`).
    pub fn expect<S>(self, want: S) -> Reply
    where
        S: TryInto<StatusCode>,
        S::Error: Debug,
    {
        let want: StatusCode = want.try_into().expect("valid status code");
        assert_eq!(
            self.status,
            want,
            "expected {want}, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// The value of a header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The ETag header.
    pub fn etag(&self) -> Option<String> {
        self.header("etag").map(str::to_owned)
    }
}

/// Sends one request through the router in-process.
pub async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = router
        .clone()
        .oneshot(req.body(body.into()).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `GET uri` through the router, with a `Host` header for absolute links.
pub async fn get(router: &Router, uri: &str) -> Reply {
    send(
        router,
        Method::GET,
        uri,
        &[("host", "test.local")],
        Body::empty(),
    )
    .await
}

/// Serves `router` on a free 127.0.0.1 port in the background and returns the address.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    addr
}

/// Status, headers (lower-case names) and body of a real server's answer.
pub type RawReply = (u16, Vec<(String, String)>, Vec<u8>);

/// One HTTP/1.1 exchange over a fresh TCP connection (`Connection: close`), for a real
/// server. Returns status, headers (lower-case names) and body (chunked encoding undone);
/// `None` when the connection failed or the server died mid-answer.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<RawReply> {
    http_bytes(addr, method, path, headers, body.as_bytes())
}

/// [`http`] with a body of any bytes (a photo upload).
pub fn http_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<RawReply> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut req = req.into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body)?;
    } else if let Some(len) = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        && body.len() < len
    {
        return None;
    }
    Some((status, headers, body))
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..line_end]).ok()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// xorshift64*: enough randomness for kill timing, and replayable from the printed seed.
pub struct Rng(pub u64);

impl Rng {
    /// A generator seeded from the environment variable `var`, or from the clock; with the
    /// seed, so a failing run can be replayed.
    pub fn from_env(var: &str) -> (Rng, u64) {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        (Rng(seed), seed)
    }

    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A pseudo-random number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
