//! The HTTP API (axum): routes, shared state, errors. The only module that knows axum.
//!
//! | route | what |
//! |---|---|
//! | `GET /tiles/{z}/{x}/{y}.mvt` | vector tile (the last segment is `{y}.mvt`) |
//! | `GET /tiles.json` | TileJSON 3.0.0 |
//! | `GET /ogc…` | OGC API – Features (landing, conformance, collections, items, queryables, schemas) |
//! | `GET /ogc/tiles…`, `/ogc/tileMatrixSets…` | OGC API – Tiles (also per collection) |
//! | `GET /metrics` | Prometheus metrics |
//! | `GET /api/parks/nearest` | pocket parks nearest a point |
//! | `GET /api/stats` | progress figures |
//! | `GET /api/sites/{id}` | one site as GeoJSON, ETag `"<version>"` |
//! | `PATCH /api/sites/{id}` | status update (bearer token, `If-Match`) |
//! | `GET /api/sites/{id}/history` | every change of one site |
//! | `GET /api/changes?since=` | feed of all changes |
//! | `GET /api/me` | the token's account and assignment |
//! | `GET /health` | liveness and data generation |
//! | `GET /` | the web front-end (static files) |

mod api;
mod api_docs;
mod cors;
pub mod error;
mod extract;
pub mod metrics;
mod ogc;
mod ogc_tiles;
mod openapi;
pub mod proxy;
mod sites;
pub mod state;
mod tiles;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tower_http::services::ServeDir;

use error::ApiError;
pub use state::AppState;

/// The whole service as a router over `state`, ready to serve or to drive in tests.
pub fn app(state: AppState) -> Router {
    // The Prometheus recorder must exist before the first request is counted.
    let _ = metrics::handle();
    Router::new()
        .route("/health", get(api::health))
        .route("/tiles.json", get(tiles::tilejson))
        .route("/tiles/{z}/{x}/{y}", get(tiles::tile))
        .route("/api/stats", get(api::stats))
        .route("/api/parks/nearest", get(api::nearest_parks))
        .route("/api/sites/{id}", get(api::site).patch(sites::patch_site))
        .route("/api/sites/{id}/history", get(sites::history))
        .route("/api/changes", get(sites::changes))
        .route("/api/me", get(sites::me))
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
        .fallback(web_files)
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
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

/// Serves the front-end from the web directory for GET and HEAD. Anything else, and anything
/// not found or not meant to be public (npm manifests, packages other than MapLibre's
/// distribution), is the JSON 404 of an unknown route.
async fn web_files(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    let public = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) && path.split('/').all(|seg| seg.len() <= 255)
        && (!path.starts_with("/node_modules/")
            || path.starts_with("/node_modules/maplibre-gl/dist/"))
        && !path.ends_with("package.json")
        && !path.ends_with("package-lock.json");
    if !public {
        return unknown_route().await.into_response();
    }
    let path = path.to_owned();
    match ServeDir::new(&state.config.web_dir).try_call(req).await {
        Ok(resp)
            if resp.status().is_success()
                || resp.status().is_redirection()
                || resp.status() == axum::http::StatusCode::NOT_MODIFIED =>
        {
            resp.into_response()
        }
        Ok(_) => unknown_route().await.into_response(),
        Err(e) => {
            tracing::warn!("static file {path}: {e}");
            unknown_route().await.into_response()
        }
    }
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("unknown_route", "no such route; see /ogc for the API")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
