//! The OpenAPI document describes every route the router has: the test reads the routes out
//! of `src/http/mod.rs` and looks each one (and its methods) up in `/ogc/api`, so a route
//! added without its description fails here.

mod common;

use common::{fixture_dir, get};
use serde_json::Value;

/// The routes in `src/http/mod.rs`: (path, methods) per `.route(…)` call.
fn router_routes() -> Vec<(String, Vec<&'static str>)> {
    let src = include_str!("../src/http/mod.rs");
    let mut out = Vec::new();
    for chunk in src.split(".route(").skip(1) {
        let chunk = chunk.trim_start();
        let Some(rest) = chunk.strip_prefix('"') else {
            continue;
        };
        let path = rest.split('"').next().expect("a closing quote").to_owned();
        // The handler expression ends at the next `.route(` (already split off) or the end.
        let methods = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| chunk.contains(&format!("{m}(")))
            .collect();
        out.push((path, methods));
    }
    out
}

/// The OpenAPI path(s) that describe router path `p`, written as the document writes them.
fn documented_as(p: &str, collections: &[String]) -> Vec<String> {
    let p = p
        .replace("{feature}", "{featureId}")
        .replace("{tms}", "WebMercatorQuad")
        .replace(
            "{tile_matrix}/{tile_row}/{tile_col}",
            "{tileMatrix}/{tileRow}/{tileCol}",
        );
    let p = if p == "/tiles/{z}/{x}/{y}" {
        "/tiles/{z}/{x}/{y}.mvt".to_owned()
    } else {
        p
    };
    let p = match p.strip_prefix("/ogc") {
        Some("") | Some("/") => "/".to_owned(),
        Some(rest) => rest.to_owned(),
        None => p,
    };
    if p.contains("{collection}") {
        collections
            .iter()
            .map(|c| p.replace("{collection}", c))
            .collect()
    } else {
        vec![p]
    }
}

#[tokio::test]
async fn every_route_and_method_is_in_the_openapi_document() {
    let dir = fixture_dir();
    let router = common::router(dir.path());
    let doc = get(&router, "/ogc/api").await.expect(200).json();
    let paths = doc["paths"].as_object().unwrap();
    let collections: Vec<String> =
        get(&router, "/ogc/collections").await.expect(200).json()["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
    let routes = router_routes();
    assert!(routes.len() > 30, "routes read from mod.rs: {routes:?}");
    let mut missing = Vec::new();
    for (route, methods) in &routes {
        // The HTML page's script is an asset of /ogc/api?f=html, not an API operation.
        if route == "/ogc/api.js" {
            continue;
        }
        for path in documented_as(route, &collections) {
            for m in methods {
                if paths.get(&path).and_then(|p| p.get(*m)).is_none() {
                    missing.push(format!("{} {path} (router {route})", m.to_uppercase()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:#?}"
    );
    // Every operation says what a wrong method gets, and every error is the JSON error body.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if method == "servers" || method == "parameters" {
                continue;
            }
            let responses = op["responses"].as_object().unwrap();
            if method == "get" {
                assert!(responses.contains_key("405"), "GET {path}: no 405");
            }
            for (code, r) in responses {
                if code.starts_with('4') && r.get("content").is_some() {
                    let schema = &r["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema,
                        &Value::from("#/components/schemas/Error"),
                        "{method} {path} {code}"
                    );
                }
            }
        }
    }
}
