//! Status updates and their history: `PATCH /api/sites/{id}`, `GET /api/sites/{id}/history`,
//! `GET /api/changes`, `GET /api/me`.
//!
//! A write is checked here in this order: token (401), site (404), rights over the site (403),
//! `If-Match` (428/400), body (413/400); the rest of the protocol (version 412, lifecycle
//! rules 403/422, the store transaction that checks token and assignment again, the snapshot
//! swap, publishing) is the write service's: [`crate::update`].

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, update_error};
use super::extract::{ApiPath, Params, clip};
use crate::features::site_feature;
use crate::model::{Account, Role, Site, SiteId, SitePatch};
use crate::store::{Change, SiteStore, StoreError};
use crate::update::{Edit, RequestKey, Write};

/// Page size of `/api/changes` when `limit` is not given.
const DEFAULT_CHANGES: usize = 100;

pub(super) fn store(state: &AppState) -> Result<Arc<dyn SiteStore>, ApiError> {
    state.store.clone().ok_or(ApiError::ReadOnly)
}

/// A failed store read: 503 with `Retry-After` when the database cannot be reached, else 500.
pub(super) fn internal(what: &str) -> impl FnOnce(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::Unavailable(_) => {
            tracing::warn!("{what}: {e}");
            ApiError::StoreUnavailable
        }
        e => {
            tracing::error!("{what}: {e}");
            ApiError::Internal
        }
    }
}

/// A failed write: 507 with what is wrong when the disk is full or the store read-only
/// (SQLite rolled the transaction back, so nothing was written), else 500.
pub(super) fn write_failed(
    state: &AppState,
    e: crate::update::UpdateError,
    today: crate::model::Date,
) -> ApiError {
    let crate::update::UpdateError::Store(e) = e else {
        return update_error(e, today);
    };
    let Some(store) = state.store.as_ref() else {
        return internal("record change")(e);
    };
    match store.fault(Some(&e)) {
        Some(crate::store::fault::StorageFault::Unreachable) => {
            tracing::warn!("write refused: {e}");
            ApiError::StoreUnavailable
        }
        Some(fault) => {
            tracing::warn!("write refused, {fault}: {e}");
            ApiError::InsufficientStorage {
                message: format!("{fault}; nothing was written, try again later"),
            }
        }
        None => internal("record change")(e),
    }
}

/// Runs blocking store work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!("store task failed: {e}");
        ApiError::Internal
    })?
}

/// The credentials of `Authorization: Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110 §11.1).
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The account behind `Authorization: Bearer <token>`, or 401.
pub(super) async fn account(
    store: &Arc<dyn SiteStore>,
    headers: &HeaderMap,
) -> Result<Account, ApiError> {
    let token = bearer(headers)
        .filter(|t| crate::store::token_looks_valid(t))
        .ok_or(ApiError::Unauthorized)?
        .to_owned();
    let store = store.clone();
    blocking(move || {
        store
            .authenticate(&token)
            .map_err(internal("authenticate"))?
            .ok_or(ApiError::Unauthorized)
    })
    .await
}

pub(super) fn checked_id(id: &str) -> Result<(), ApiError> {
    if SiteId::is_well_formed(id) {
        Ok(())
    } else {
        Err(ApiError::bad_param(format!(
            "{:?} is not a site id (letters, digits, - and _)",
            clip(id)
        )))
    }
}

fn unknown_site(id: &str) -> ApiError {
    ApiError::not_found("unknown_site", format!("no site with id {id:?}"))
}

/// The strong entity tags of an `If-Match` header, compared with the site's ETag by exact
/// string (RFC 9110 §13.1.1, strong comparison): `"03"` does not match version 3, and weak tags
/// (`W/"3"`) never match.
#[derive(Debug, PartialEq)]
pub(super) struct IfMatch(Vec<String>);

impl IfMatch {
    /// The versions whose ETag is listed: a tag counts only when it is exactly the decimal
    /// form of a version.
    pub(super) fn versions(&self) -> Vec<u64> {
        self.0
            .iter()
            .filter_map(|t| t.parse::<u64>().ok().filter(|v| v.to_string() == *t))
            .collect()
    }
}

/// Reads every `If-Match` line as one list of entity tags: 428 when absent or `*` (a
/// wildcard names no version, so it would defeat the optimistic check), 400 when malformed.
pub(super) fn if_match(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
    let malformed = || ApiError::BadRequest {
        code: "invalid_if_match",
        message: "If-Match must list the site's ETag, a quoted version like \"3\"".into(),
    };
    let mut lines = headers.get_all(header::IF_MATCH).iter().peekable();
    if lines.peek().is_none() {
        return Err(ApiError::PreconditionRequired {
            message: "writes need If-Match: \"<version>\" with the ETag of the site as last read",
        });
    }
    let separator = |c: char| c == ',' || c == ' ' || c == '\t';
    let mut strong = Vec::new();
    let mut any_tag = false;
    for line in lines {
        let mut rest = line.to_str().map_err(|_| malformed())?;
        loop {
            rest = rest.trim_start_matches(separator);
            if rest.is_empty() {
                break;
            }
            if let Some(after) = rest.strip_prefix('*') {
                if !after.is_empty() && !after.starts_with(separator) {
                    return Err(malformed());
                }
                return Err(ApiError::PreconditionRequired {
                    message: "If-Match: * names no version; send the site's ETag, e.g. \"3\", so a change made since you read it is not overwritten",
                });
            }
            let (weak, tag) = match rest.strip_prefix("W/") {
                Some(tag) => (true, tag),
                None => (false, rest),
            };
            let tag = tag.strip_prefix('"').ok_or_else(malformed)?;
            let end = tag.find('"').ok_or_else(malformed)?;
            rest = &tag[end + 1..];
            if !rest.is_empty() && !rest.starts_with(separator) {
                return Err(malformed());
            }
            any_tag = true;
            if !weak {
                strong.push(tag[..end].to_owned());
            }
        }
    }
    if any_tag {
        Ok(IfMatch(strong))
    } else {
        Err(malformed())
    }
}

/// Parses the body as a [`SitePatch`], mapping each failure to its 4xx.
/// The patch in the body, and the body in a normal form (parsed and written again) that a
/// repeat of an idempotency key is compared with.
fn patch_body(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<(SitePatch, String), ApiError> {
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
    // serde would also read a struct from a positional array (`["completed"]`); only an
    // object names its fields.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::BadRequest {
            code: "not_an_object",
            message: "the body must be a JSON object".into(),
        });
    }
    let patch = serde_json::from_slice::<SitePatch>(&bytes).map_err(|e| {
        use serde_json::error::Category;
        let code = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => "invalid_json",
            Category::Data if e.to_string().starts_with("unknown field") => "unknown_field",
            Category::Data => "invalid_field",
        };
        ApiError::BadRequest {
            code,
            message: format!(
                "{e}; the body is a JSON object with any of status, progress, note, reason, photos, position (planners: planned_start, planned_finish, investment_wan)"
            ),
        }
    })?;
    // It parsed as a patch, so it parses as JSON.
    let request = serde_json::from_slice::<Value>(&bytes).map_or_else(
        |_| String::from_utf8_lossy(&bytes).into_owned(),
        |v| v.to_string(),
    );
    Ok((patch, request))
}

fn site_response(status: StatusCode, site: &Site, body: Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/geo+json".to_owned()),
            (header::ETAG, format!("\"{}\"", site.version)),
        ],
        Json(body),
    )
        .into_response()
}

pub(super) async fn patch_site(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let store = store(&state)?;
    let account = account(&store, &headers).await?;
    checked_id(&id)?;
    let site = state
        .current()
        .site(&id)
        .cloned()
        .ok_or_else(|| unknown_site(&id))?;
    if account.role == Role::Admin {
        return Err(ApiError::Forbidden {
            rule: "role_cannot_edit",
            message: "admin accounts manage accounts and do not edit sites".into(),
        });
    }
    if !account.covers(&site) {
        return Err(ApiError::Forbidden {
            rule: "outside_assignment",
            message: format!("site {id} is not in the assignment of {}", account.name),
        });
    }
    let expected = if_match(&headers)?;
    let key = idempotency_key(&headers)?;
    let (patch, request) = patch_body(body, state.config.limits.max_body_bytes)?;
    let today = state.config.today();
    let updates = state.updates.clone().ok_or(ApiError::ReadOnly)?;
    let fault_state = state.clone();
    let write = Write {
        actor: account,
        id: SiteId(id),
        expected: expected.versions(),
        note: patch.note.clone(),
        reason: patch.reason.clone(),
        edit: Edit::Patch(patch),
        idempotency: key.map(|key| RequestKey { key, request }),
    };
    let applied = blocking(move || {
        updates
            .apply(write)
            .map_err(|e| write_failed(&fault_state, e, today))
    })
    .await?;
    let body = site_feature(&applied.site, today);
    let mut response = site_response(StatusCode::OK, &applied.site, body);
    if applied.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Set on the answer to a repeated `Idempotency-Key`: the original result, nothing written.
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Longest `Idempotency-Key`, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The optional `Idempotency-Key` header: 1–255 visible ASCII characters (a UUID from the
/// client, say), possibly quoted as an RFC 8941 string.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    let bad = || ApiError::BadRequest {
        code: "invalid_idempotency_key",
        message: format!(
            "Idempotency-Key must be one value of 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters (a UUID, say)"
        ),
    };
    if values.next().is_some() {
        return Err(bad());
    }
    let text = v.to_str().map_err(|_| bad())?.trim();
    let key = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

pub(super) fn change_json(c: &Change, with_site: bool) -> Value {
    let mut v = json!({
        "seq": c.seq,
        "at": c.at,
        "actor": c.actor,
        "role": c.role,
        "from": {"status": c.from.0, "progress": c.from.1},
        "to": {"status": c.to.0, "progress": c.to.1},
        "note": c.note,
        "reason": c.reason,
        "version": c.version,
        "change": c.kind.as_str(),
        "geometry_changed": c.geometry_changed,
        "bbox": c.bbox,
        "photos": c.photos.iter().map(|id| super::photos::photo_ref(id)).collect::<Vec<_>>(),
        "position": c.position,
    });
    if let Some(obj) = v.as_object_mut() {
        if with_site {
            obj.insert("site".into(), json!(c.site.as_str()));
        }
        if let Some(plan) = &c.plan {
            obj.insert("plan".into(), plan.clone());
        }
    }
    v
}

pub(super) async fn history(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&[])?;
    checked_id(&id)?;
    let live = state.current().site(&id).is_some();
    let store = store(&state)?;
    let lookup = id.clone();
    let changes = blocking(move || {
        // A retired site is off the map, but its history stays readable.
        if !live
            && store
                .stored(&lookup)
                .map_err(internal("history"))?
                .is_none()
        {
            return Err(unknown_site(&lookup));
        }
        store.history(&lookup).map_err(internal("history"))
    })
    .await?;
    let changes: Vec<Value> = changes.iter().map(|c| change_json(c, false)).collect();
    Ok(Json(json!({ "site": id, "changes": changes })))
}

pub(super) async fn changes(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&["since", "limit"])?;
    let since = params
        .usize_in("since", 0..=i64::MAX as usize)?
        .unwrap_or(0) as i64;
    let max = state.config.limits.max_page;
    let limit = params
        .usize_in("limit", 1..=max)?
        .unwrap_or(DEFAULT_CHANGES.min(max));
    let store = store(&state)?;
    let changes = blocking(move || {
        store
            .changes_since(since, limit)
            .map_err(internal("changes"))
    })
    .await?;
    let next_since = changes.last().map_or(since, |c| c.seq);
    let changes: Vec<Value> = changes.iter().map(|c| change_json(c, true)).collect();
    Ok(Json(
        json!({ "changes": changes, "next_since": next_since }),
    ))
}

pub(super) async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&[])?;
    let store = store(&state)?;
    let account = account(&store, &headers).await?;
    let snap = state.current();
    let sites: Vec<&str> = match account.role {
        // A planner covers every site; listing them all would only repeat /ogc.
        Role::Planner | Role::Admin => Vec::new(),
        Role::Field => snap
            .sites
            .iter()
            .filter(|s| account.covers(s))
            .map(|s| s.id.as_str())
            .collect(),
    };
    Ok(Json(json!({
        "name": account.name,
        "role": account.role,
        "team": account.team,
        "subdistricts": account.subdistricts,
        "sites": sites,
        "all_sites": account.role == Role::Planner,
    })))
}
