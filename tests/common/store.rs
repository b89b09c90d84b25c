//! The write-side fixture of the status-update and store tests: a tiny data set in a temp
//! directory (`two_subdistricts_four_sites`), the app over it with a fresh store, tokens, and
//! PATCH helpers. Requests go through [`super::send`] / [`super::get`] in-process, or
//! [`super::http`] to the real binary.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use renewal_map::config::Config;
use renewal_map::model::{Role, SiteId};
use renewal_map::snapshot::Snapshot;
use renewal_map::store::{NewAccount, OpenMode, SiteStore, Store};
use renewal_map::{AppState, app, load};
use serde_json::{Value, json};

use super::{Reply, fc, get, polygon_square, send, write_json};

/// Sub-district A: 三台子街道, lon 123.40–123.42.
pub const SUB_A: (&str, &str) = ("210105011", "三台子街道");
/// Sub-district B: 华山街道, lon 123.42–123.44.
pub const SUB_B: (&str, &str) = ("210105001", "华山街道");
/// Latitude band of the fixture.
const LAT: (f64, f64) = (41.81, 41.83);

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
    let w = |name: &str, v: &Value| write_json(dir, name, v);
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
                polygon_square(PARK_001.0 - 0.0005, PARK_001.1 - 0.0005, 0.001),
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
                polygon_square(123.430, 41.815, 0.001),
            ),
            site(
                "compound-001",
                4,
                "compound",
                SUB_B,
                "under_construction",
                40,
                polygon_square(123.425, 41.822, 0.003),
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

    /// Loads the data set, opens (creating) the store, serves the store's sites: what `serve` does.
    pub fn open(&self) -> (AppState, Store) {
        let dataset = load::load_dataset(self.path()).expect("fixture loads");
        let store = Store::open(
            &renewal_map::store::default_path(self.path()),
            &dataset.sites,
            OpenMode::CreateIfMissing,
        )
        .expect("store opens");
        (self.state_over(Arc::new(store.clone())), store)
    }

    /// The app over `store` (SQLite or PostgreSQL), serving the store's sites, as `serve`
    /// builds it; build it outside any runtime (the PostgreSQL client blocks).
    pub fn state_over(&self, store: Arc<dyn SiteStore>) -> AppState {
        let mut dataset = load::load_dataset(self.path()).expect("fixture loads");
        dataset.sites = store.sites().expect("stored sites");
        let config = Config {
            data_dir: self.path().to_owned(),
            today: Some("2026-06-01".parse().expect("date")),
            ..Config::default()
        };
        AppState::with_site_store(Snapshot::build(dataset), store, config)
    }
}

/// Creates an account and returns its token.
pub fn token(
    store: &dyn SiteStore,
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

/// An OGC API – Features Part 4 write (`POST`/`PUT`/`PATCH`/`DELETE`, restore) to `uri` with
/// a bearer token (if any), an If-Match (if any) and the body's media type.
pub async fn write_feature(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    if_match: Option<&str>,
    media: &str,
    body: &Value,
) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", media), ("host", "test.local")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    if let Some(e) = if_match {
        headers.push(("if-match", e));
    }
    send(app, method, uri, &headers, body.to_string()).await
}

/// The site's current version, from `GET /api/sites/{id}`.
pub async fn version(app: &Router, id: &str) -> u64 {
    let r = get(app, &format!("/api/sites/{id}")).await.expect(200);
    r.json()["properties"]["version"].as_u64().expect("version")
}

/// The router over `state`.
pub fn router_of(state: &AppState) -> Router {
    app(state.clone())
}
