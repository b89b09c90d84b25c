//! Fixtures for the status-update tests: a tiny data set in a temp directory
//! (`two_subdistricts_four_sites`), the app over it with a fresh store, tokens, and two HTTP
//! clients: `oneshot` on the router, and plain HTTP/1.1 over `std::net::TcpStream` for the
//! real binary.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use renewal_map::config::Config;
use renewal_map::model::{Role, SiteId};
use renewal_map::snapshot::Snapshot;
use renewal_map::store::{NewAccount, OpenMode, Store};
use renewal_map::{AppState, app, load};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sub-district A: 三台子街道, lon 123.40–123.42.
pub const SUB_A: (&str, &str) = ("210105011", "三台子街道");
/// Sub-district B: 华山街道, lon 123.42–123.44.
pub const SUB_B: (&str, &str) = ("210105001", "华山街道");
/// Latitude band of the fixture.
const LAT: (f64, f64) = (41.81, 41.83);

fn square(x0: f64, y0: f64, d: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]})
}

fn fc(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

fn site(
    id: &str,
    fid: u64,
    kind: &str,
    sub: (&str, &str),
    status: &str,
    progress: u8,
    geometry: Value,
) -> Value {
    let mut props = json!({
        "fid": fid, "name": format!("测试{id}"), "kind": kind,
        "subdistrict": sub.1, "subdistrict_code": sub.0,
        "status": status, "progress": progress, "investment_wan": 100.0,
        "programme": "construction", "project_id": format!("P-{id}"),
        "planned_start": "2026-03-01", "planned_finish": "2026-10-31",
        "updated_at": "2026-01-15T08:00:00Z", "geometry": "illustrative",
    });
    if kind == "compound" {
        let p = props.as_object_mut().expect("object");
        p.insert("households".into(), json!(420));
        p.insert("built_year".into(), json!(1988));
        p.insert("community".into(), json!("测试社区"));
        p.insert("community_code".into(), json!("210105011001"));
    }
    json!({"type": "Feature", "id": id, "properties": props, "geometry": geometry})
}

/// Centre of `park-001` (sub-district A), WGS84.
pub const PARK_001: (f64, f64) = (123.4055, 41.8155);

/// Writes the fixture data set into `dir`: two sub-districts, one street, and four sites:
/// `park-001` (A, planned), `road-001` (A, design), `park-002` (B, completed),
/// `compound-001` (B, under construction 40 %).
pub fn write_dataset(dir: &Path) {
    let w = |name: &str, v: &Value| {
        std::fs::write(dir.join(name), serde_json::to_vec_pretty(v).expect("json"))
            .expect("write fixture");
    };
    w(
        "plan.json",
        &json!({
            "district_code": "210105", "district_name": "皇姑区", "source": "test fixture",
            "targets": {"road": 1, "pocket_park": 2, "compound": 1},
            "programmes": [{"programme": "construction", "projects": 4, "investment_wan": 400.0}],
            "park_service_radii_m": [300.0, 500.0]
        }),
    );
    w(
        "district.geojson",
        &fc(vec![
            json!({"type": "Feature", "properties": {"name": "皇姑区", "code": "210105", "geometry": "illustrative"},
            "geometry": {"type": "Polygon", "coordinates": [[[123.40, LAT.0], [123.44, LAT.0], [123.44, LAT.1], [123.40, LAT.1], [123.40, LAT.0]]]}}),
        ]),
    );
    w(
        "subdistricts.geojson",
        &fc(vec![
            json!({"type": "Feature", "properties": {"name": SUB_A.1, "code": SUB_A.0, "name_en": "Santaizi", "geometry": "illustrative"},
                "geometry": {"type": "Polygon", "coordinates": [[[123.40, LAT.0], [123.42, LAT.0], [123.42, LAT.1], [123.40, LAT.1], [123.40, LAT.0]]]}}),
            json!({"type": "Feature", "properties": {"name": SUB_B.1, "code": SUB_B.0, "name_en": "Huashan", "geometry": "illustrative"},
                "geometry": {"type": "Polygon", "coordinates": [[[123.42, LAT.0], [123.44, LAT.0], [123.44, LAT.1], [123.42, LAT.1], [123.42, LAT.0]]]}}),
        ]),
    );
    w(
        "streets.geojson",
        &fc(vec![
            json!({"type": "Feature", "properties": {"name": "测试街", "class": "main", "geometry": "illustrative"},
            "geometry": {"type": "LineString", "coordinates": [[123.40, 41.82], [123.44, 41.82]]}}),
        ]),
    );
    w(
        "sites.geojson",
        &fc(vec![
            site(
                "park-001",
                1,
                "pocket_park",
                SUB_A,
                "planned",
                0,
                square(PARK_001.0 - 0.0005, PARK_001.1 - 0.0005, 0.001),
            ),
            site(
                "road-001",
                2,
                "road",
                SUB_A,
                "design",
                5,
                json!({"type": "LineString", "coordinates": [[123.401, 41.825], [123.418, 41.825]]}),
            ),
            site(
                "park-002",
                3,
                "pocket_park",
                SUB_B,
                "completed",
                100,
                square(123.430, 41.815, 0.001),
            ),
            site(
                "compound-001",
                4,
                "compound",
                SUB_B,
                "under_construction",
                40,
                square(123.425, 41.822, 0.003),
            ),
        ]),
    );
}

/// A temp directory holding the fixture data set; the store goes beside it.
pub struct Fixture {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// A fresh data set.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        write_dataset(dir.path());
        Fixture { dir }
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Loads the data set, opens (creating) the store, overlays it: what `serve` does.
    pub fn open(&self) -> (AppState, Store) {
        let mut dataset = load::load_dataset(self.path()).expect("fixture loads");
        let store = Store::open(
            &renewal_map::store::default_path(self.path()),
            &dataset.sites,
            OpenMode::CreateIfMissing,
        )
        .expect("store opens");
        store.overlay(&mut dataset.sites).expect("overlay");
        let config = Config {
            data_dir: self.path().to_owned(),
            today: Some("2026-06-01".parse().expect("date")),
            ..Config::default()
        };
        let state = AppState::with_store(Snapshot::build(dataset), store.clone(), config);
        (state, store)
    }
}

/// Creates an account and returns its token.
pub fn token(
    store: &Store,
    name: &str,
    role: Role,
    subdistricts: &[&str],
    sites: &[&str],
) -> String {
    store
        .add_account(&NewAccount {
            name: name.into(),
            role,
            team: None,
            subdistricts: subdistricts.iter().map(|s| (*s).to_owned()).collect(),
            sites: sites.iter().map(|s| SiteId((*s).to_owned())).collect(),
        })
        .expect("account")
        .1
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// The ETag header.
    pub fn etag(&self) -> Option<String> {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Panics with status and body unless the status is `want`.
    pub fn expect(self, want: u16) -> Reply {
        assert_eq!(
            self.status.as_u16(),
            want,
            "expected {want}, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.bytes)
        );
        self
    }
}

/// Sends one request through the router.
pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(body.into()).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        bytes,
    }
}

/// `GET uri`.
pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Method::GET, uri, &[], Body::empty()).await
}

/// `PATCH /api/sites/{id}` with a token (if any), an If-Match version (if any) and a JSON body.
pub async fn patch(
    app: &Router,
    id: &str,
    token: Option<&str>,
    version: Option<u64>,
    body: &str,
) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let etag = version.map(|v| format!("\"{v}\""));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    if let Some(e) = &etag {
        headers.push(("if-match", e));
    }
    send(
        app,
        Method::PATCH,
        &format!("/api/sites/{id}"),
        &headers,
        body.to_owned(),
    )
    .await
}

/// The site's current version, from `GET /api/sites/{id}`.
pub async fn version(app: &Router, id: &str) -> u64 {
    let r = get(app, &format!("/api/sites/{id}")).await.expect(200);
    r.json()["properties"]["version"].as_u64().expect("version")
}

/// The router over `state`.
pub fn router(state: &AppState) -> Router {
    app(state.clone())
}

/// The XYZ tile containing (`lng`, `lat`) at zoom `z`.
pub fn tile_of(lng: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lng + 180.0) / 360.0 * n).floor() as u32;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor() as u32;
    (x, y)
}

/// Status, headers (lower-case names) and body of a real server's answer.
pub type RawReply = (u16, Vec<(String, String)>, Vec<u8>);

/// One HTTP/1.1 exchange over a fresh TCP connection (`Connection: close`), for the real
/// binary. Returns status, headers (lower-case names) and body; `None` when the connection
/// failed or the server died mid-answer.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
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
    req.push_str(body);
    s.write_all(req.as_bytes()).ok()?;
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
