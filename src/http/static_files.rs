//! The front-end's static files, served from the web directory for `GET` and `HEAD`.
//!
//! What is public is decided on the decoded, normalised path, never on the raw one: the path
//! is percent-decoded, empty segments (`//`, a trailing `/`) and `.` segments are dropped, and
//! a `..` segment, a backslash, a NUL, a segment over 255 bytes or a hidden (`.`-prefixed)
//! segment makes it a 404. The result must be on the allow-list:
//!
//! - a file of the page itself, anywhere under the web directory but outside `node_modules/`,
//!   with a web extension ([`PAGE_EXTENSIONS`]), except npm's `package.json` and
//!   `package-lock.json`;
//! - anything under `node_modules/maplibre-gl/dist/`, `node_modules/uplot/dist/`,
//!   `node_modules/idb/build/` and `node_modules/swagger-ui-dist/` (the map, chart,
//!   IndexedDB-outbox and API-docs libraries, served by us).
//!
//! The service worker is the page file `sw.js` at the web directory's root, so its scope is the
//! page's directory without `Service-Worker-Allowed`; it is served `no-cache` like the page, so
//! a deploy reaches the browser's update check. The web app manifest is `manifest.webmanifest`
//! (`application/manifest+json`).
//!
//! The file is then served by path (tower-http's `ServeFile`), so no spelling of the request
//! can reach another file, and nothing is ever redirected (so no protocol-relative
//! `Location: //…`). `/` is `index.html`. Everything else is the JSON 404 of an unknown route.
//!
//! Responses are compressed on the fly (gzip or brotli, as `Accept-Encoding` allows, by
//! tower-http's `CompressionLayer`). MapLibre's files carry `Cache-Control: public,
//! max-age=31536000, immutable` (they change only with its pinned version; see
//! docs/operations.md for upgrades); the page's own files carry `no-cache`, so a deploy shows
//! on the next load while `Last-Modified` revalidation keeps it cheap.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, ServiceExt};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeFile;

use super::AppState;

/// Extensions of the page's own files that may be served.
pub const PAGE_EXTENSIONS: &[&str] = &[
    "html",
    "js",
    "mjs",
    "css",
    "json",
    "svg",
    "png",
    "jpg",
    "jpeg",
    "webp",
    "ico",
    "woff2",
    "webmanifest",
    "txt",
];

/// The public prefix of MapLibre's distribution.
pub const MAPLIBRE_DIST: &str = "node_modules/maplibre-gl/dist/";

/// The public prefix of uPlot's distribution (the page's chart library).
pub const UPLOT_DIST: &str = "node_modules/uplot/dist/";

/// The public prefix of Swagger UI's distribution (the HTML API docs at `/ogc/api?f=html`).
pub const SWAGGER_UI_DIST: &str = "node_modules/swagger-ui-dist/";

/// The public prefix of idb's ES module build (the field app's IndexedDB outbox).
pub const IDB_DIST: &str = "node_modules/idb/build/";

/// Whether `path` lies in a pinned npm distribution served to the page.
fn in_vendor_dist(path: &str) -> bool {
    [MAPLIBRE_DIST, UPLOT_DIST, IDB_DIST, SWAGGER_UI_DIST]
        .iter()
        .any(|dist| path.starts_with(dist))
}

/// `Cache-Control` of MapLibre's and uPlot's files.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of the page's own files.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// The decoded, normalised path (no leading `/`) of a request path, if it may be served.
///
/// # Examples
///
/// ```
/// use renewal_map::http::static_files::public_path;
/// assert_eq!(public_path("/").as_deref(), Some("index.html"));
/// assert_eq!(public_path("//main.js/").as_deref(), Some("main.js"));
/// assert_eq!(public_path("/package.jso%6e"), None);
/// assert_eq!(public_path("/./node_modules/x/index.js"), None);
/// ```
pub fn public_path(raw: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut segments = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s if s.len() > 255 || s.starts_with('.') => return None,
            s => segments.push(s),
        }
    }
    if segments.is_empty() {
        return Some("index.html".to_owned());
    }
    let path = segments.join("/");
    if in_vendor_dist(&path) {
        return Some(path);
    }
    let name = segments.last()?;
    let allowed = segments[0] != "node_modules"
        && *name != "package.json"
        && *name != "package-lock.json"
        && name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| PAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
    allowed.then_some(path)
}

/// The fallback handler: a public file of the web directory, or the JSON 404.
pub(super) async fn web_files(State(state): State<AppState>, req: Request) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return super::unknown_route().await.into_response();
    }
    let Some(path) = public_path(req.uri().path()) else {
        return super::unknown_route().await.into_response();
    };
    let cache = if in_vendor_dist(&path) {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    };
    let file: PathBuf = state.config.web_dir.join(&path);
    let service = CompressionLayer::new()
        .quality(CompressionLevel::Precise(5))
        .layer(ServeFile::new(file));
    match service.oneshot(req).await {
        Ok(resp) if resp.status().is_success() || resp.status().as_u16() == 304 => {
            let mut resp = resp.map(Body::new);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            resp
        }
        Ok(_) => super::unknown_route().await.into_response(),
        Err(e) => {
            // `path` passed the allow-list, so it is short and printable.
            tracing::debug!("static file {path:?}: {e}");
            super::unknown_route().await.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::public_path;

    #[test]
    fn every_bypass_spelling_is_refused() {
        for raw in [
            "/package.json",
            "/package.jso%6e",
            "/%70ackage.json",
            "/package.json/",
            "//package.json",
            "/web/../package.json",
            "/%2e%2e/Cargo.toml",
            "/%6eode_modules/maplibre-gl/package.json",
            "/./node_modules/left-pad/index.js",
            "/node_modules/maplibre-gl/package.json",
            "/node_modules/maplibre-gl/dist/../package.json",
            "/node_modules/maplibre-gl/dist/%2e%2e/package.json",
            "/.git/config",
            "/package-lock.json",
            "/main.js%00.png",
            "/a%5c..%5cpackage.json",
            "/%ff.js",
            "/README.md",
            "//node_modules",
        ] {
            assert_eq!(public_path(raw), None, "{raw}");
        }
    }

    #[test]
    fn page_files_and_maplibre_pass_in_canonical_form() {
        assert_eq!(public_path("/index.html").as_deref(), Some("index.html"));
        assert_eq!(public_path("/%6dain.js").as_deref(), Some("main.js"));
        assert_eq!(
            public_path("/node_modules/maplibre-gl/dist/maplibre-gl.js").as_deref(),
            Some("node_modules/maplibre-gl/dist/maplibre-gl.js")
        );
        assert_eq!(public_path("/config.json").as_deref(), Some("config.json"));
        assert_eq!(public_path("/sw.js").as_deref(), Some("sw.js"));
        assert_eq!(
            public_path("/manifest.webmanifest").as_deref(),
            Some("manifest.webmanifest")
        );
        assert_eq!(
            public_path("/node_modules/idb/build/index.js").as_deref(),
            Some("node_modules/idb/build/index.js")
        );
        assert_eq!(public_path("/node_modules/idb/package.json"), None);
    }
}
