//! The HTTP API (axum): routes, shared state, errors. The only module that knows axum.
//!
//! | route | what |
//! |---|---|
//! | `GET /tiles/{z}/{x}/{y}.mvt` | vector tile (the last segment is `{y}.mvt`, or `{y}.mlt` for MapLibre Tiles) |
//! | `GET /tiles.json` | TileJSON 3.0.0 |
//! | `GET /ogc…` | OGC API – Features (landing, conformance, collections, items, queryables, schemas) |
//! | `GET /ogc/tiles…`, `/ogc/tileMatrixSets…` | OGC API – Tiles (also per collection) |
//! | `GET /metrics` | Prometheus metrics |
//! | `GET /api/parks/nearest` | pocket parks nearest a point |
//! | `GET /api/stats` | progress figures |
//! | `GET /api/access` | park access by method, per sub-district and compound |
//! | `GET /api/access/next-parks` | planned parks ranked by households newly within reach |
//! | `GET /api/sites/{id}` | one site as GeoJSON, ETag `"<version>"` |
//! | `PATCH /api/sites/{id}` | status update (bearer token, `If-Match`) |
//! | `GET /api/sites/{id}/history` | every change of one site |
//! | `GET /api/changes?since=` | feed of all changes |
//! | `POST/GET /api/sites/{id}/photos` | upload a photo (bearer token, raw bytes) / list a site's photos |
//! | `GET /api/photos/{id}[/thumbnail]` | a photo or its thumbnail, metadata-free, immutable |
//! | `GET /api/me` | the token's account and assignment |
//! | `GET /api/events` | Server-Sent Events, one per accepted change (`Last-Event-ID`/`since`) |
//! | `GET /api/sites/{id}/versions/{v}` | one stored version of a site, retired ones too |
//! | `POST/PUT/PATCH/DELETE /ogc/collections/{c}/items…` | OGC API – Features Part 4 (planners) |
//! | `GET /api/export/sites.{csv,xlsx,geojson}` | every site passing the items filters |
//! | `GET /api/stats/timeline` | completed sites per kind by month against the plan |
//! | `GET /style.json` | the map page's MapLibre style |
//! | `GET /api/meta` | labels, palette, allowed moves, limits, provenance for the page |
//! | `GET /health` | liveness and data generation |
//! | `GET /` | the web front-end (static files) |

mod access;
mod api;
mod api_docs;
mod as_of;
mod cors;
mod encoding;
pub mod error;
mod events;
mod export;
mod extract;
mod link_header;
mod meta;
pub mod metrics;
mod ogc;
mod ogc_tiles;
mod ogc_write;
mod openapi;
mod openapi_api;
mod openapi_photos;
mod photos;
pub mod proxy;
pub mod security;
pub mod server;
mod sites;
pub mod state;
pub mod static_files;
mod style;
pub mod throttle;
mod tile_format;
mod tilejson;
mod tiles;
mod timeline;

use axum::Router;
use axum::extract::DefaultBodyLimit;

use axum::routing::{get, patch, post};

use error::ApiError;
pub use state::AppState;

/// The whole service as a router over `state`, ready to serve or to drive in tests.
pub fn app(state: AppState) -> Router {
    // Hardening (issue 15): routes that need a token pass the gate first (throttle, token,
    // then the body); every response gets the security headers.
    let gate = throttle::Gate {
        state: state.clone(),
        throttle: std::sync::Arc::new(throttle::Throttle::new(
            state.config.server.auth_failures_per_minute,
        )),
        body_limit: state.config.limits.max_body_bytes,
        too_large: "payload_too_large",
    };
    // Photo uploads (issue 13) share the throttle and take bodies up to the photo limit.
    let photo_gate = throttle::Gate {
        body_limit: crate::photos::MAX_PHOTO_BYTES,
        too_large: "photo_too_large",
        ..gate.clone()
    };
    let require_token = axum::middleware::from_fn_with_state(gate, throttle::require_token);
    let require_photo_token =
        axum::middleware::from_fn_with_state(photo_gate, throttle::require_token);
    // The Prometheus recorder must exist before the first request is counted.
    let _ = metrics::handle();
    Router::new()
        .route("/health", get(api::health))
        .route("/tiles.json", get(tilejson::tilejson))
        .route("/tiles/{z}/{x}/{y}", get(tiles::tile))
        .route("/api/stats", get(api::stats))
        .route("/api/parks/nearest", get(api::nearest_parks))
        .route(
            "/api/sites/{id}",
            get(api::site).merge(patch(sites::patch_site).route_layer(require_token.clone())),
        )
        .route("/api/sites/{id}/history", get(sites::history))
        .route("/api/changes", get(sites::changes))
        .route("/api/me", get(sites::me).route_layer(require_token))
        // Field photos (issue 13).
        .route(
            "/api/sites/{id}/photos",
            get(photos::list).merge(
                post(photos::upload)
                    .route_layer(require_photo_token)
                    .layer(DefaultBodyLimit::max(crate::photos::MAX_PHOTO_BYTES)),
            ),
        )
        .route("/api/photos/{id}", get(photos::image))
        .route("/api/photos/{id}/thumbnail", get(photos::thumbnail))
        // Park access (issue 14).
        .route("/api/access", get(access::access))
        .route("/api/access/next-parks", get(access::next))
        // Map page (issue 12): what the page must not copy.
        .route("/api/meta", get(meta::meta))
        .route("/api/stats/timeline", get(timeline::timeline))
        .route("/style.json", get(style::style_json))
        .route("/ogc", get(ogc::landing))
        .route("/ogc/", get(ogc::landing))
        .route("/ogc/conformance", get(ogc::conformance))
        .route("/ogc/api", get(ogc::api_definition))
        .route("/ogc/collections", get(ogc::collections))
        .route("/ogc/collections/{collection}", get(ogc::collection))
        .route("/ogc/collections/{collection}/items", get(ogc::items))
        .route(
            "/ogc/collections/{collection}/items/{feature}",
            get(ogc::item),
        )
        // --- the living map (issue 7): change events, OGC API – Features Part 4 writes ---
        .route("/api/events", get(events::events))
        .route(
            "/api/sites/{id}/versions/{version}",
            get(ogc_write::site_version),
        )
        .merge(ogc_write::routes())
        // --- end of the living map block ---
        // Data exports (issue 11).
        .route("/api/export/{file}", get(export::export))
        // --- standards (issue 10): queryables, schemas, OGC API – Tiles, API docs, metrics ---
        .route("/ogc/api.js", get(api_docs::script))
        .route(
            "/ogc/collections/{collection}/queryables",
            get(ogc::queryables),
        )
        .route("/ogc/collections/{collection}/schema", get(ogc::schema))
        .route("/ogc/tileMatrixSets", get(ogc_tiles::tile_matrix_sets))
        .route("/ogc/tileMatrixSets/{tms}", get(ogc_tiles::tile_matrix_set))
        .route("/ogc/tiles", get(ogc_tiles::dataset_tilesets))
        .route("/ogc/tiles/{tms}", get(ogc_tiles::dataset_tileset))
        .route(
            "/ogc/tiles/{tms}/{tile_matrix}/{tile_row}/{tile_col}",
            get(ogc_tiles::dataset_tile),
        )
        .route(
            "/ogc/collections/{collection}/tiles",
            get(ogc_tiles::collection_tilesets),
        )
        .route(
            "/ogc/collections/{collection}/tiles/{tms}",
            get(ogc_tiles::collection_tileset),
        )
        .route(
            "/ogc/collections/{collection}/tiles/{tms}/{tile_matrix}/{tile_row}/{tile_col}",
            get(ogc_tiles::collection_tile),
        )
        .route("/metrics", get(metrics::metrics))
        // --- end standards routes ---
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(static_files::web_files)
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(axum::middleware::from_fn(security::security_headers))
        // --- standards (issue 10) layers: metrics per route, request log, CORS ---
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(metrics::request_log())
        .layer(cors::layer(&state.config))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::guard,
        ))
        // --- end standards layers ---
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("unknown_route", "no such route; see /ogc for the API")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
