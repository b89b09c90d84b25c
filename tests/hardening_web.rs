//! Static files and response headers against the real binary: every bypass spelling of a
//! private file is 404 (decoded, normalised path against an allow-list), no
//! protocol-relative redirect, the security headers on pages, API and errors, caching and
//! compression of static files; logs stay bounded under hostile paths and protocol errors
//! are not logged as errors.

mod common;
mod hardening_support;

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use common::http;
use common::store::Fixture;
use hardening_support::{Server, connect};

/// A web directory with page files, npm manifests, MapLibre's dist and another package.
fn web_dir(dir: &Path) {
    let w = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    w(
        "index.html",
        "<!doctype html><html><head><script type=\"module\" src=\"main.js\"></script></head></html>",
    );
    w("main.js", &"export const page = 'main';\n".repeat(200));
    w("style.css", "body { margin: 0 }");
    w("package.json", "{\"name\": \"secret-manifest\"}");
    w("package-lock.json", "{\"lockfileVersion\": 3}");
    w(
        "node_modules/maplibre-gl/dist/maplibre-gl.js",
        &"var maplibregl = {};\n".repeat(500),
    );
    w(
        "node_modules/maplibre-gl/package.json",
        "{\"name\": \"maplibre-gl\"}",
    );
    w(
        "node_modules/left-pad/index.js",
        "module.exports = 'private';",
    );
    w(".git/config", "[core]");
}

fn start(web: &Path) -> (Fixture, Server) {
    let data = Fixture::new();
    let server = Server::start(data.path(), &["--web", web.to_str().expect("utf-8")]);
    (data, server)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn every_bypass_spelling_is_404_and_nothing_redirects() {
    let web = tempfile::tempdir().expect("tempdir");
    web_dir(web.path());
    let (_data, server) = start(web.path());
    for path in [
        "/package.json",
        "/package.jso%6e",
        "/%70ackage.json",
        "/package.json/",
        "//package.json",
        "/./package.json",
        "/package-lock.json",
        "/%6eode_modules/left-pad/index.js",
        "/./node_modules/left-pad/index.js",
        "/node_modules/left-pad/index.js",
        "/node_modules/maplibre-gl/package.json",
        "/node_modules/maplibre-gl/dist/../package.json",
        "/node_modules/maplibre-gl/dist/%2e%2e/package.json",
        "/node_modules/maplibre-gl/dist/..%2fpackage.json",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/.git/config",
        "/%2egit/config",
        "//node_modules",
        "//node_modules/",
        "/node_modules",
        "/node_modules/maplibre-gl/dist",
    ] {
        let (status, headers, body) = http(server.addr, "GET", path, &[], "").expect("an answer");
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 404, "{path}: {text}");
        assert!(text.contains("unknown_route"), "{path}: {text}");
        assert!(
            header(&headers, "location").is_none(),
            "{path}: {headers:?}"
        );
        assert!(
            !text.contains("secret-manifest") && !text.contains("private"),
            "{path}"
        );
    }
    for (path, needle) in [
        ("/", "<!doctype html>"),
        ("/index.html", "<!doctype html>"),
        ("/main.js", "export const page"),
        ("/%6dain.js", "export const page"),
        (
            "/node_modules/maplibre-gl/dist/maplibre-gl.js",
            "var maplibregl",
        ),
    ] {
        let (status, _, body) = http(server.addr, "GET", path, &[], "").expect("an answer");
        assert_eq!(status, 200, "{path}");
        assert!(String::from_utf8_lossy(&body).contains(needle), "{path}");
    }
}

#[test]
fn security_headers_caching_and_compression() {
    let web = tempfile::tempdir().expect("tempdir");
    web_dir(web.path());
    let (_data, server) = start(web.path());
    for path in ["/", "/health", "/nope", "/api/sites/park-001", "/main.js"] {
        let (_, headers, _) = http(server.addr, "GET", path, &[], "").expect("an answer");
        let csp = header(&headers, "content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(
            csp.contains("worker-src 'self' blob:") && csp.contains("img-src 'self' data: blob:"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(
            header(&headers, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            header(&headers, "referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
    }
    let (_, headers, _) = http(server.addr, "GET", "/", &[], "").expect("an answer");
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    assert!(
        header(&headers, "content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let dist = "/node_modules/maplibre-gl/dist/maplibre-gl.js";
    for (encoding, want) in [("gzip", "gzip"), ("br", "br"), ("identity", "")] {
        let (status, headers, body) = http(
            server.addr,
            "GET",
            dist,
            &[("Accept-Encoding", encoding)],
            "",
        )
        .expect("an answer");
        assert_eq!(status, 200);
        assert_eq!(
            header(&headers, "cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(
            header(&headers, "content-encoding").unwrap_or(""),
            want,
            "{encoding}"
        );
        if want.is_empty() {
            assert_eq!(body.len(), "var maplibregl = {};\n".len() * 500);
        } else {
            assert!(body.len() < 2_000, "{encoding}: {} bytes", body.len());
        }
    }
    let (status, headers, _) = http(
        server.addr,
        "GET",
        "/main.js",
        &[("Accept-Encoding", "gzip")],
        "",
    )
    .expect("an answer");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
}

#[test]
fn hostile_paths_and_protocol_errors_keep_the_log_small_and_out_of_error() {
    let web = tempfile::tempdir().expect("tempdir");
    web_dir(web.path());
    let (_data, server) = start(web.path());
    std::thread::sleep(Duration::from_millis(200));
    let before = *server.log_bytes.lock().expect("log");
    let long = format!("/{}", "%1b[31m".repeat(60_000 / 7));
    for _ in 0..50 {
        let (status, _, _) = http(server.addr, "GET", &long, &[], "").expect("an answer");
        assert_eq!(status, 404);
    }
    // A request line without the leading slash, and bytes that are not HTTP at all.
    for raw in [
        &b"GET health HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
    ] {
        let mut s = connect(server.addr);
        s.write_all(raw).expect("write");
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 400"),
            "{text}"
        );
    }
    assert_eq!(
        http(server.addr, "GET", "/health", &[], "")
            .expect("answer")
            .0,
        200
    );
    std::thread::sleep(Duration::from_millis(200));
    let grown = *server.log_bytes.lock().expect("log") - before;
    let log = server.log_text();
    assert!(
        grown < 50 * 1024,
        "50 requests of 60 KB paths wrote {grown} bytes of log"
    );
    assert!(!log.contains("ERROR"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no raw escape from a client reaches the log"
    );
}
