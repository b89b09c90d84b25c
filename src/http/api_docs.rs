//! The API definition for people: `/ogc/api?f=html` renders the OpenAPI document with
//! Swagger UI (npm `swagger-ui-dist`, pinned in `web/package.json` and served by us from
//! `web/node_modules/swagger-ui-dist/`, no CDN). Every URL is relative to the page, so it
//! works behind a proxy on a sub-path; the start-up script is a file, not inline, so a
//! `script-src 'self'` policy allows it.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::proxy::PublicBase;

/// Where the Swagger UI files are, relative to `/ogc/api`.
pub const SWAGGER_UI_DIR: &str = "../node_modules/swagger-ui-dist";

/// The HTML page.
pub fn page(_base: &PublicBase) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>renewal-map API</title>
<link rel="stylesheet" href="{SWAGGER_UI_DIR}/swagger-ui.css">
</head>
<body>
<noscript>This page renders the <a href="api?f=json">OpenAPI document</a>; it needs JavaScript.</noscript>
<div id="api"></div>
<script src="{SWAGGER_UI_DIR}/swagger-ui-bundle.js"></script>
<script src="api.js"></script>
</body>
</html>
"#
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::VARY, "Accept"),
        ],
        html,
    )
        .into_response()
}

/// `GET /ogc/api.js`: starts Swagger UI on the JSON definition next to the page.
pub(super) async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        "window.ui = SwaggerUIBundle({ url: 'api?f=json', dom_id: '#api', deepLinking: true });\n",
    )
        .into_response()
}
