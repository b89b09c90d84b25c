//! Operations: CORS (reads from anywhere, writes only from configured origins, preflight 204),
//! links behind trusted and untrusted proxies, `/metrics` in the Prometheus text format
//! (parsed by the `prometheus-parse` crate and, when installed, Debian's `promtool`), the
//! HTML API page and an OpenAPI document that covers the routes.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use common::{config, fixture_dir, get, send};
use http_body_util::BodyExt;
use renewal_map::{AppState, app};
use tower::ServiceExt;

fn router_with(
    dir: &std::path::Path,
    edit: impl FnOnce(&mut renewal_map::config::Config),
) -> axum::Router {
    let mut c = config(dir);
    edit(&mut c);
    app(AppState::new(common::snapshot(dir), c))
}

#[tokio::test]
async fn cors_reads_from_any_origin_and_answers_preflights() {
    let dir = fixture_dir();
    let router = common::router(dir.path());
    let r = send(
        &router,
        Method::GET,
        "/tiles.json",
        &[("host", "svc"), ("origin", "https://elsewhere.example")],
        "",
    )
    .await
    .expect(200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://elsewhere.example")
    );
    // Vary may come as several lines (TileJSON names Accept-Encoding too).
    assert!(
        r.headers.get_all("vary").iter().any(|v| v
            .to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("origin"))),
        "{:?}",
        r.headers
    );
    let pre = send(
        &router,
        Method::OPTIONS,
        "/ogc/collections/sites/items",
        &[
            ("host", "svc"),
            ("origin", "https://elsewhere.example"),
            ("access-control-request-method", "GET"),
            (
                "access-control-request-headers",
                "if-none-match, last-event-id",
            ),
        ],
        "",
    )
    .await
    .expect(204);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("https://elsewhere.example")
    );
    let methods = pre
        .header("access-control-allow-methods")
        .unwrap_or("")
        .to_ascii_uppercase();
    assert!(
        methods.contains("GET") && methods.contains("PATCH"),
        "{methods}"
    );
    let headers = pre
        .header("access-control-allow-headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    for h in ["authorization", "if-match", "last-event-id"] {
        assert!(headers.contains(h), "{h} in {headers}");
    }
    assert!(pre.header("access-control-max-age").is_some());
    // A write preflight from an origin not configured for writes gets no allow-origin.
    let pre_write = send(
        &router,
        Method::OPTIONS,
        "/api/sites/park-001",
        &[
            ("host", "svc"),
            ("origin", "https://elsewhere.example"),
            ("access-control-request-method", "PATCH"),
        ],
        "",
    )
    .await;
    assert_eq!(pre_write.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn cors_writes_only_from_configured_origins() {
    let dir = fixture_dir();
    let router = router_with(dir.path(), |c| {
        c.cors_write_origins = vec!["https://planner.example".into()];
        c.cors_read_origins = vec![
            "https://planner.example".into(),
            "https://public.example".into(),
        ];
    });
    let origin = |o: &'static str| {
        [
            ("host", "svc"),
            ("origin", o),
            ("access-control-request-method", "PATCH"),
        ]
    };
    let ok = send(
        &router,
        Method::OPTIONS,
        "/api/sites/park-001",
        &origin("https://planner.example"),
        "",
    )
    .await
    .expect(204);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://planner.example")
    );
    let no = send(
        &router,
        Method::OPTIONS,
        "/api/sites/park-001",
        &origin("https://public.example"),
        "",
    )
    .await;
    assert_eq!(no.header("access-control-allow-origin"), None);
    // Reads: listed origins only.
    let listed = send(
        &router,
        Method::GET,
        "/health",
        &[("host", "svc"), ("origin", "https://public.example")],
        "",
    )
    .await;
    assert_eq!(
        listed.header("access-control-allow-origin"),
        Some("https://public.example")
    );
    let other = send(
        &router,
        Method::GET,
        "/health",
        &[("host", "svc"), ("origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    // A write that skips the preflight is refused before any handler runs.
    let body = r#"{"status":"completed"}"#;
    let r = send(
        &router,
        Method::PATCH,
        "/api/sites/park-002",
        &[
            ("host", "svc"),
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
    .expect(403)
    .json();
    assert_eq!(r["rule"], "cross_origin_write");
    // The page's own origin, and the configured one, reach the handler (which refuses for
    // its own reasons: no token, no store).
    for o in ["http://svc", "https://planner.example"] {
        let r = send(
            &router,
            Method::PATCH,
            "/api/sites/park-002",
            &[
                ("host", "svc"),
                ("origin", o),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await;
        assert_ne!(
            r.status.as_u16(),
            403,
            "{o}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_ne!(r.json()["rule"], "cross_origin_write");
    }
}

async fn get_from(
    router: &axum::Router,
    peer: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> serde_json::Value {
    let mut req = Request::builder().uri(uri).header("host", "svc:8080");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::empty()).expect("request");
    let peer: SocketAddr = peer.parse().expect("peer address");
    req.extensions_mut().insert(ConnectInfo(peer));
    let resp = router.clone().oneshot(req).await.unwrap();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).expect("JSON body")
}

#[tokio::test]
async fn links_follow_trusted_proxies_only() {
    let dir = fixture_dir();
    let router = router_with(dir.path(), |c| {
        c.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    });
    let fwd = [
        ("x-forwarded-host", "maps.example.org"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-prefix", "/renewal"),
    ];
    let tj = get_from(&router, "10.1.2.3:5555", "/tiles.json", &fwd).await;
    assert_eq!(
        tj["tiles"][0],
        "https://maps.example.org/renewal/tiles/{z}/{x}/{y}.mvt"
    );
    let landing = get_from(
        &router,
        "10.1.2.3:5555",
        "/ogc",
        &[("forwarded", "for=1.2.3.4;host=gis.example;proto=https")],
    )
    .await;
    assert_eq!(landing["links"][0]["href"], "https://gis.example/ogc");
    let items = get_from(
        &router,
        "10.1.2.3:5555",
        "/ogc/collections/parks/items?limit=1",
        &fwd,
    )
    .await;
    let next = items["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap();
    assert!(
        next["href"]
            .as_str()
            .unwrap()
            .starts_with("https://maps.example.org/renewal/ogc/collections/parks/items?"),
        "{next}"
    );
    // The same headers from anyone else, or with no peer known, change nothing.
    let spoofed = get_from(&router, "192.168.1.9:5555", "/tiles.json", &fwd).await;
    assert_eq!(spoofed["tiles"][0], "http://svc:8080/tiles/{z}/{x}/{y}.mvt");
    let mut req = Request::builder()
        .uri("/tiles.json")
        .header("host", "svc:8080");
    for (k, v) in fwd {
        req = req.header(k, v);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let tj: serde_json::Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(tj["tiles"][0], "http://svc:8080/tiles/{z}/{x}/{y}.mvt");
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_routes_tiles_and_generation() {
    let dir = fixture_dir();
    let router = common::router(dir.path());
    get(&router, "/ogc/collections/parks/items")
        .await
        .expect(200);
    get(&router, "/ogc/collections/nope/items")
        .await
        .expect(404);
    get(&router, "/tiles/11/1726/761.mvt").await.expect(200);
    get(&router, "/tiles/11/1726/761.mvt").await.expect(200);
    let r = get(&router, "/metrics").await.expect(200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(r.body.clone()).unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text parses");
    let find = |name: &str, labels: &[(&str, &str)]| {
        scrape
            .samples
            .iter()
            .any(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
    };
    assert!(
        find(
            "http_requests_total",
            &[
                ("route", "/ogc/collections/:collection/items"),
                ("status", "200")
            ]
        ),
        "{text}"
    );
    assert!(
        find(
            "http_requests_total",
            &[
                ("route", "/ogc/collections/:collection/items"),
                ("status", "404")
            ]
        ),
        "{text}"
    );
    assert!(
        find(
            "http_request_duration_seconds",
            &[("route", "/tiles/:z/:x/:y")]
        ),
        "{text}"
    );
    assert!(
        find("tile_cache_requests_total", &[("outcome", "hit")]),
        "{text}"
    );
    assert!(
        find("tile_cache_requests_total", &[("outcome", "miss")]),
        "{text}"
    );
    assert!(find("tile_encode_seconds", &[("zoom", "11")]), "{text}");
    assert!(find("snapshot_generation", &[]), "{text}");
    // Debian's promtool (package prometheus), when scripts/test installed it.
    if let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let problems = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        // promtool exits 3 for lint warnings (e.g. missing HELP); only errors (1) fail.
        assert_ne!(out.status.code(), Some(1), "promtool: {problems}");
    }
}

#[tokio::test]
async fn openapi_covers_every_collection_and_the_html_page_renders_it() {
    let dir = fixture_dir();
    let router = common::router(dir.path());
    let api = get(&router, "/ogc/api").await.expect(200);
    assert!(
        api.header("content-type")
            .unwrap()
            .starts_with("application/vnd.oai.openapi+json")
    );
    let api = api.json();
    let paths = api["paths"].as_object().unwrap();
    for p in [
        "/collections/sites/items",
        "/collections/streets/items",
        "/collections/parks/queryables",
        "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}",
        "/tileMatrixSets/WebMercatorQuad",
        "/tiles/{z}/{x}/{y}.mvt",
        "/api/stats",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    let names = |p: &str| -> Vec<String> {
        paths[p]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(names("/collections/sites/items").contains(&"status".to_owned()));
    assert!(
        !names("/collections/streets/items").contains(&"status".to_owned()),
        "no site filters on base collections"
    );
    assert!(names("/collections/streets/items").contains(&"filter".to_owned()));
    let kinds = &paths["/collections/parks/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "kind")
        .unwrap()["schema"]["items"]["enum"];
    assert_eq!(kinds, &serde_json::json!(["pocket_park"]));
    assert!(paths["/collections/sites/items"]["get"]["responses"]["405"].is_object());
    let html = send(
        &router,
        Method::GET,
        "/ogc/api",
        &[
            ("host", "svc"),
            ("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
        ],
        "",
    )
    .await
    .expect(200);
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let page = String::from_utf8(html.body).unwrap();
    assert!(
        page.contains("../node_modules/swagger-ui-dist/swagger-ui-bundle.js")
            && page.contains("src=\"api.js\""),
        "{page}"
    );
    let js = get(&router, "/ogc/api.js").await.expect(200);
    assert!(String::from_utf8(js.body).unwrap().contains("api?f=json"));
    get(&router, "/ogc/api?f=xml").await.expect(400);
}
