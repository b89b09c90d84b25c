//! OGC API – Features Part 4 (create, replace, update, delete) on the site collections
//! `roads`, `compounds`, `parks` and `plazas`, for planners:
//!
//! | route | what |
//! |---|---|
//! | `POST /ogc/collections/{c}/items` | create from a GeoJSON Feature → 201, `Location`, `ETag` |
//! | `PUT /ogc/collections/{c}/items/{id}` | replace → 200, new `ETag` |
//! | `PATCH /ogc/collections/{c}/items/{id}` | RFC 7396 merge patch (`application/merge-patch+json`) |
//! | `DELETE /ogc/collections/{c}/items/{id}` | retire → 204; history stays readable |
//! | `POST /ogc/collections/{c}/items/{id}/restore` | bring a retired site back → 200 |
//! | `GET /api/sites/{id}/versions/{v}` | one stored version of a site (retired too) |
//!
//! Order of checks: token (401), role planner (403), collection writable (404/405), site id
//! (400), `If-Match` on PUT/PATCH/DELETE/restore (428/400), media type (415), body (413/400),
//! the draft's checks ([`crate::draft`]: 400/422); then the write service (404, 409, 412).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::ApiPath;
use super::sites::{account, blocking, checked_id, if_match, store};
use crate::draft::{DraftError, DraftRules, draft_id, draft_of, merge_patch, site_from_draft};
use crate::features::{Collection, site_feature};
use crate::model::{Account, Role, Site, SiteId};
use crate::update::{Applied, Edit, Write};

/// The Part 4 conformance classes implemented, added to `/ogc/conformance`.
pub const CONFORMANCE: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
];

/// The collections planners may write.
const WRITABLE: [Collection; 4] = [
    Collection::Roads,
    Collection::Compounds,
    Collection::Parks,
    Collection::Plazas,
];

/// The write routes (merged into the router in `http/mod.rs`).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ogc/collections/{collection}/items", post(create))
        .route(
            "/ogc/collections/{collection}/items/{feature}",
            axum::routing::put(replace).patch(merge).delete(retire),
        )
        .route(
            "/ogc/collections/{collection}/items/{feature}/restore",
            post(restore),
        )
}

fn writable(id: &str) -> Result<Collection, ApiError> {
    let c = Collection::from_id(id).ok_or_else(|| {
        ApiError::not_found(
            "unknown_collection",
            format!("no collection {:?}", super::extract::clip(id)),
        )
    })?;
    if WRITABLE.contains(&c) {
        Ok(c)
    } else {
        Err(ApiError::MethodNotAllowed)
    }
}

/// The planner behind the token: 401 without a valid one, 403 for other roles.
async fn planner(state: &AppState, headers: &HeaderMap) -> Result<Account, ApiError> {
    let account = account(&store(state)?, headers).await?;
    if account.role != Role::Planner {
        return Err(ApiError::Forbidden {
            rule: "planner_only",
            message: "only planners create, replace, retire and restore sites; field teams use PATCH /api/sites/{id}".into(),
        });
    }
    Ok(account)
}

fn draft_error(e: DraftError) -> ApiError {
    if e.malformed {
        ApiError::BadRequest {
            code: e.code,
            message: e.message,
        }
    } else {
        ApiError::Unprocessable {
            code: e.code,
            message: e.message,
        }
    }
}

/// The body as JSON, with `Content-Type` one of `accepted` (415 otherwise).
fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
    accepted: &[&str],
) -> Result<Value, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if !media.as_deref().is_some_and(|m| accepted.contains(&m)) {
        return Err(ApiError::UnsupportedMediaType {
            message: format!("send the body as {}", accepted.join(" or ")),
        });
    }
    if let Some(crs) = headers.get("content-crs") {
        let crs = crs.to_str().unwrap_or("");
        if !crate::draft::is_crs84(crs) {
            return Err(ApiError::BadRequest {
                code: "unsupported_crs",
                message: "Content-Crs must be <http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
                    .into(),
            });
        }
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                code: "payload_too_large",
                message: format!("request bodies are limited to {limit} bytes"),
            }
        } else {
            ApiError::BadRequest {
                code: "unreadable_body",
                message: "the request body could not be read".into(),
            }
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
        code: "invalid_json",
        message: format!("the body is not JSON: {e}"),
    })
}

fn rules(state: &AppState, c: Collection) -> DraftRules<'static> {
    DraftRules {
        kinds: c.site_kinds().unwrap_or(&[]),
        collection: c.id(),
        park_area_m2: state.config.pocket_park_area_m2,
        today: state.config.today(),
    }
}

async fn run(state: &AppState, write: Write) -> Result<Applied, ApiError> {
    let updates = state.updates.clone().ok_or(ApiError::ReadOnly)?;
    let fault_state = state.clone();
    let today = state.config.today();
    blocking(move || {
        updates
            .apply(write)
            .map_err(|e| super::sites::write_failed(&fault_state, e, today))
    })
    .await
}

fn feature_response(state: &AppState, status: StatusCode, c: Collection, site: &Site) -> Response {
    let location = format!("/ogc/collections/{}/items/{}", c.id(), site.id);
    (
        status,
        [
            (header::CONTENT_TYPE, "application/geo+json".to_owned()),
            (header::ETAG, format!("\"{}\"", site.version)),
            (header::LOCATION, location),
        ],
        Json(site_feature(site, state.config.today())),
    )
        .into_response()
}

/// The live site `id` of collection `c`, 404 when absent or in another collection.
fn live_site(state: &AppState, c: Collection, id: &str) -> Result<Site, ApiError> {
    let snap = state.current();
    snap.site(id)
        .filter(|s| c.site_kinds().is_some_and(|k| k.contains(&s.kind)))
        .map(|s| s.as_ref().clone())
        .ok_or_else(|| ApiError::not_found("unknown_site", format!("no site {id:?} in {}", c.id())))
}

async fn create(
    State(state): State<AppState>,
    ApiPath(collection): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = planner(&state, &headers).await?;
    let c = writable(&collection)?;
    let draft = json_body(
        &headers,
        body,
        state.config.limits.max_body_bytes,
        &["application/geo+json", "application/json"],
    )?;
    let id = draft_id(&draft).map_err(draft_error)?;
    let site = site_from_draft(&draft, &state.current(), rules(&state, c)).map_err(draft_error)?;
    let note = site.note.clone();
    let applied = run(
        &state,
        Write {
            actor,
            id: id.unwrap_or_else(|| SiteId(String::new())),
            expected: Vec::new(),
            edit: Edit::Create(Box::new(site)),
            note,
            reason: None,
            idempotency: None,
        },
    )
    .await?;
    Ok(feature_response(
        &state,
        StatusCode::CREATED,
        c,
        &applied.site,
    ))
}

async fn replace(
    State(state): State<AppState>,
    ApiPath((collection, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = planner(&state, &headers).await?;
    let c = writable(&collection)?;
    checked_id(&id)?;
    let expected = if_match(&headers)?.versions();
    let draft = json_body(
        &headers,
        body,
        state.config.limits.max_body_bytes,
        &["application/geo+json", "application/json"],
    )?;
    write_draft(&state, c, id, actor, expected, draft).await
}

async fn merge(
    State(state): State<AppState>,
    ApiPath((collection, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = planner(&state, &headers).await?;
    let c = writable(&collection)?;
    checked_id(&id)?;
    let expected = if_match(&headers)?.versions();
    let patch = json_body(
        &headers,
        body,
        state.config.limits.max_body_bytes,
        &["application/merge-patch+json"],
    )?;
    if !patch.is_object() {
        return Err(ApiError::BadRequest {
            code: "not_an_object",
            message: "a merge patch of a feature is a JSON object".into(),
        });
    }
    let current = live_site(&state, c, &id)?;
    let mut draft = draft_of(&current);
    merge_patch(&mut draft, &patch);
    write_draft(&state, c, id, actor, expected, draft).await
}

async fn write_draft(
    state: &AppState,
    c: Collection,
    id: String,
    actor: Account,
    expected: Vec<u64>,
    draft: Value,
) -> Result<Response, ApiError> {
    if let Some(named) = draft_id(&draft).map_err(draft_error)?
        && named.as_str() != id
    {
        return Err(ApiError::BadRequest {
            code: "id_mismatch",
            message: format!("the body names id {named:?}, the URL {id:?}"),
        });
    }
    live_site(state, c, &id)?;
    let site = site_from_draft(&draft, &state.current(), rules(state, c)).map_err(draft_error)?;
    let note = site.note.clone();
    let applied = run(
        state,
        Write {
            actor,
            id: SiteId(id),
            expected,
            edit: Edit::Replace(Box::new(site)),
            note,
            reason: None,
            idempotency: None,
        },
    )
    .await?;
    Ok(feature_response(state, StatusCode::OK, c, &applied.site))
}

async fn retire(
    State(state): State<AppState>,
    ApiPath((collection, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = planner(&state, &headers).await?;
    let c = writable(&collection)?;
    checked_id(&id)?;
    let expected = if_match(&headers)?.versions();
    if state.current().site(&id).is_some() {
        live_site(&state, c, &id)?;
    }
    let applied = run(
        &state,
        Write {
            actor,
            id: SiteId(id),
            expected,
            edit: Edit::Retire,
            note: None,
            reason: None,
            idempotency: None,
        },
    )
    .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::ETAG, format!("\"{}\"", applied.site.version))],
    )
        .into_response())
}

async fn restore(
    State(state): State<AppState>,
    ApiPath((collection, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = planner(&state, &headers).await?;
    let c = writable(&collection)?;
    checked_id(&id)?;
    let expected = if_match(&headers)?.versions();
    let applied = run(
        &state,
        Write {
            actor,
            id: SiteId(id),
            expected,
            edit: Edit::Restore,
            note: None,
            reason: None,
            idempotency: None,
        },
    )
    .await?;
    Ok(feature_response(&state, StatusCode::OK, c, &applied.site))
}

/// `GET /api/sites/{id}/versions/{version}`: one stored version, with `retired` saying
/// whether that version took the site off the map.
pub(super) async fn site_version(
    State(state): State<AppState>,
    ApiPath((id, version)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    checked_id(&id)?;
    let version: u64 = version
        .parse()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::bad_param("version must be an integer >= 1"))?;
    let updates = state.updates.clone().ok_or(ApiError::ReadOnly)?;
    let lookup = id.clone();
    let found = blocking(move || {
        updates.store().version(&lookup, version).map_err(|e| {
            tracing::error!("version: {e}");
            ApiError::Internal
        })
    })
    .await?;
    let (site, retired) = found.ok_or_else(|| {
        ApiError::not_found(
            "unknown_version",
            format!("site {id:?} has no version {version}"),
        )
    })?;
    let mut body = site_feature(&site, state.config.today());
    body["properties"]["retired"] = json!(retired);
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json".to_owned()),
            (header::ETAG, format!("\"{version}\"")),
            // A stored version never changes.
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
        ],
        Json(body),
    )
        .into_response())
}

/// Adds the write operations to the OpenAPI document built by `ogc::api_definition`.
pub(super) fn add_write_operations(doc: &mut Value) {
    let p = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
    let if_match = json!({"name": "If-Match", "in": "header", "required": true,
        "description": "The feature's ETag as last read; missing → 428, stale → 412 with the current ETag",
        "schema": {"type": "string"}});
    let errors = json!({
        "400": {"description": "Malformed body or parameter: {\"error\", \"message\"}"},
        "401": {"description": "No valid bearer token"},
        "403": {"description": "Not a planner"},
        "404": {"description": "Unknown collection or feature"},
        "412": {"description": "If-Match is stale; ETag carries the current version"},
        "413": {"description": "Body too large"},
        "415": {"description": "Wrong Content-Type"},
        "422": {"description": "Invalid feature: geometry type, validity, vertex cap, outside the district, park area, properties"},
        "428": {"description": "If-Match missing"},
    });
    let with = |code: &str, description: &str| {
        let mut r = errors.clone();
        r[code] = json!({"description": description});
        r
    };
    let feature_body =
        |media: &str| json!({"required": true, "content": {media: {"schema": {"type": "object"}}}});
    let security = json!([{"bearer": []}]);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    // The document lists each collection's paths on their own (its parameters and queryables
    // differ), so the writes go on the writable collections' paths.
    for c in WRITABLE {
        let id = c.id();
        if let Some(items) = paths.get_mut(&format!("/collections/{id}/items")) {
            items["post"] = json!({"summary": format!("Create a site in {id} (planners)"), "operationId": format!("createFeature_{id}"),
                "security": security, "requestBody": feature_body("application/geo+json"),
                "responses": with("201", "Created; Location and ETag of the new feature")});
        }
        let params = json!([p("featureId"), if_match]);
        if let Some(item) = paths.get_mut(&format!("/collections/{id}/items/{{featureId}}")) {
            item["put"] = json!({"summary": format!("Replace a site of {id} (planners)"), "operationId": format!("replaceFeature_{id}"),
                "parameters": params, "security": security, "requestBody": feature_body("application/geo+json"),
                "responses": with("200", "Replaced; new ETag")});
            item["patch"] = json!({"summary": format!("Merge-patch a site of {id}, RFC 7396 (planners)"), "operationId": format!("updateFeature_{id}"),
                "parameters": params, "security": security, "requestBody": feature_body("application/merge-patch+json"),
                "responses": with("200", "Updated; new ETag")});
            item["delete"] = json!({"summary": format!("Retire a site of {id} (planners); its history stays"), "operationId": format!("deleteFeature_{id}"),
                "parameters": params, "security": security, "responses": with("204", "Retired")});
        }
        paths.insert(
            format!("/collections/{id}/items/{{featureId}}/restore"),
            json!({"post": {"summary": format!("Restore a retired site of {id} (planners)"), "operationId": format!("restoreFeature_{id}"),
                "parameters": params, "security": security,
                "responses": with("200", "Restored; new ETag")}}),
        );
    }
    doc["components"]["securitySchemes"]["bearer"] = json!({"type": "http", "scheme": "bearer"});
}
