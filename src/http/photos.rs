//! Field photos: `POST /api/sites/{id}/photos` (raw image bytes, bearer token),
//! `GET /api/sites/{id}/photos`, `GET /api/photos/{id}` and `GET /api/photos/{id}/thumbnail`.
//!
//! An upload is checked here in this order: token (401, by the gate, which also reads at most
//! [`MAX_PHOTO_BYTES`]: 413), site (404), rights over the site (403, the same assignment rule
//! as a status update), an earlier upload of the same bytes (200 with its record, or 409 when
//! it belongs to another site), the site's photo count (409), then the image itself on a
//! blocking thread ([`crate::photos::process`]: 415 by type, 422 for too many pixels or an
//! unreadable image), and last the store, which checks the token and the count again in the
//! transaction that writes the row. Nothing is stored unless the answer is 201.

use std::sync::LazyLock;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, Params, clip};
use super::sites::{account, blocking, checked_id, store};
use crate::model::{Role, is_photo_id};
use crate::photos::{
    DEFAULT_UTC_OFFSET_S, MAX_PHOTO_BYTES, MAX_PHOTOS_PER_SITE, PhotoError, photo_id, process,
};
use crate::store::{NewPhoto, PhotoAdded, PhotoRecord, PhotoVariant, StoreError};

/// Most photos decoded at the same time: decoding a large photo takes up to a few hundred
/// MB and a CPU for a second, so uploads beyond this wait their turn.
pub const MAX_CONCURRENT_DECODES: usize = 2;

/// `Cache-Control` of a photo or thumbnail: its URL names its content, so it never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Longest `Content-Type` recorded as sent, in characters.
const MAX_SENT_TYPE: usize = 100;

static DECODES: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(MAX_CONCURRENT_DECODES));

/// The URL of a photo's image.
pub(super) fn photo_url(id: &str) -> String {
    format!("/api/photos/{id}")
}

/// The URL of a photo's thumbnail.
pub(super) fn thumbnail_url(id: &str) -> String {
    format!("/api/photos/{id}/thumbnail")
}

/// A photo named by a change: its id and URLs.
pub(super) fn photo_ref(id: &str) -> Value {
    json!({"id": id, "url": photo_url(id), "thumbnail_url": thumbnail_url(id)})
}

/// A photo's record as the API shows it.
pub(super) fn record_json(p: &PhotoRecord) -> Value {
    json!({
        "id": p.id,
        "site_id": p.site.as_str(),
        "url": photo_url(&p.id),
        "thumbnail_url": thumbnail_url(&p.id),
        "content_type": p.content_type,
        "bytes": p.bytes,
        "upload_bytes": p.upload_bytes,
        "width": p.width,
        "height": p.height,
        "taken_at": p.taken_at,
        "location": p.location.map(|(lon, lat)| json!({"lon": lon, "lat": lat})),
        "uploaded_at": p.uploaded_at,
        "uploaded_by": {"name": p.uploaded_by, "role": p.uploaded_role},
        "change_seq": p.change_seq,
    })
}

fn internal(what: &'static str) -> impl FnOnce(StoreError) -> ApiError {
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

fn limit_reached(site: &str) -> ApiError {
    ApiError::Conflict {
        code: "photo_limit_reached",
        message: format!("site {site} holds {MAX_PHOTOS_PER_SITE} photos, the most a site may"),
    }
}

fn other_site(id: &str, site: &str) -> ApiError {
    ApiError::Conflict {
        code: "photo_on_other_site",
        message: format!("these bytes were uploaded as photo {id} of site {site}"),
    }
}

fn photo_error(e: PhotoError) -> ApiError {
    let message = e.to_string();
    match e {
        PhotoError::Unsupported => ApiError::UnsupportedPhoto { message },
        PhotoError::TooManyPixels { .. } => ApiError::Unprocessable {
            code: "photo_too_many_pixels",
            message,
        },
        PhotoError::Unreadable(_) => ApiError::Unprocessable {
            code: "photo_unreadable",
            message,
        },
        PhotoError::Encode(_) => {
            tracing::error!("photo: {message}");
            ApiError::Internal
        }
    }
}

fn created(status: StatusCode, p: &PhotoRecord) -> Response {
    (
        status,
        [(header::LOCATION, photo_url(&p.id))],
        Json(record_json(p)),
    )
        .into_response()
}

pub(super) async fn upload(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let store = store(&state)?;
    let account = account(&store, &headers).await?;
    checked_id(&id)?;
    let site =
        state.current().site(&id).cloned().ok_or_else(|| {
            ApiError::not_found("unknown_site", format!("no site with id {id:?}"))
        })?;
    if account.role == Role::Admin {
        return Err(ApiError::Forbidden {
            rule: "role_cannot_edit",
            message: "admin accounts manage accounts and do not add photos".into(),
        });
    }
    if !account.covers(&site) {
        return Err(ApiError::Forbidden {
            rule: "outside_assignment",
            message: format!("site {id} is not in the assignment of {}", account.name),
        });
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                code: "photo_too_large",
                message: format!("a photo is at most {MAX_PHOTO_BYTES} bytes"),
            }
        } else {
            ApiError::BadRequest {
                code: "unreadable_body",
                message: "the request body could not be read".into(),
            }
        }
    })?;
    let sent_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.chars().take(MAX_SENT_TYPE).collect::<String>());

    // The same bytes again (an outbox replay) are answered from the store, before any decode.
    let (hash, earlier, held) = {
        let store = store.clone();
        let bytes = bytes.clone();
        let site = id.clone();
        blocking(move || {
            let hash = photo_id(&bytes);
            let earlier = store.photo(&hash).map_err(internal("photo lookup"))?;
            let held = store
                .photo_count(Some(&site))
                .map_err(internal("photo count"))?;
            Ok((hash, earlier, held))
        })
        .await?
    };
    match earlier {
        Some(p) if p.site.as_str() == id => return Ok(created(StatusCode::OK, &p)),
        Some(p) => return Err(other_site(&hash, p.site.as_str())),
        None if held as usize >= MAX_PHOTOS_PER_SITE => return Err(limit_reached(&id)),
        None => {}
    }

    let processed = {
        let _permit = DECODES.acquire().await.map_err(|_| ApiError::Internal)?;
        let bytes = bytes.clone();
        blocking(move || process(&bytes, DEFAULT_UTC_OFFSET_S).map_err(photo_error)).await?
    };
    let added = blocking(move || {
        let new = NewPhoto {
            id: &processed.id,
            site: &id,
            content_type: processed.format.content_type(),
            sent_type: sent_type.as_deref(),
            upload_bytes: processed.upload_bytes as u64,
            width: processed.width,
            height: processed.height,
            taken_at: processed.taken_at,
            location: processed.location,
            image: &processed.image,
            thumbnail: &processed.thumbnail,
        };
        store
            .add_photo(&account, &new, MAX_PHOTOS_PER_SITE)
            .map_err(|e| match e {
                StoreError::PhotoLimit { site, .. } => limit_reached(&site),
                StoreError::PhotoOnOtherSite { id, site } => other_site(&id, &site),
                StoreError::Revoked(_) => ApiError::Unauthorized,
                e => internal("add photo")(e),
            })
    })
    .await?;
    Ok(match added {
        PhotoAdded::Created(p) => created(StatusCode::CREATED, &p),
        PhotoAdded::Existing(p) => created(StatusCode::OK, &p),
    })
}

pub(super) async fn list(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&[])?;
    checked_id(&id)?;
    let live = state.current().site(&id).is_some();
    let store = store(&state)?;
    let site = id.clone();
    let photos = blocking(move || {
        // A retired site's photos stay readable, like its history.
        if !live && store.stored(&site).map_err(internal("photos"))?.is_none() {
            return Err(ApiError::not_found(
                "unknown_site",
                format!("no site with id {site:?}"),
            ));
        }
        store.site_photos(&site).map_err(internal("photos"))
    })
    .await?;
    let photos: Vec<Value> = photos.iter().map(record_json).collect();
    Ok(Json(json!({ "site": id, "photos": photos })))
}

pub(super) async fn image(
    state: State<AppState>,
    id: ApiPath<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    serve(state, id, headers, params, PhotoVariant::Image).await
}

pub(super) async fn thumbnail(
    state: State<AppState>,
    id: ApiPath<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    serve(state, id, headers, params, PhotoVariant::Thumbnail).await
}

/// Whether `If-None-Match` lists `etag` (weak comparison, RFC 9110 §13.1.2) or `*`.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

async fn serve(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    params: Params,
    variant: PhotoVariant,
) -> Result<Response, ApiError> {
    params.allow(&[])?;
    if !is_photo_id(&id) {
        return Err(ApiError::bad_param(format!(
            "{:?} is not a photo id (64 hex digits)",
            clip(&id)
        )));
    }
    let etag = match variant {
        PhotoVariant::Image => format!("\"{id}\""),
        PhotoVariant::Thumbnail => format!("\"{id}-thumbnail\""),
    };
    let store = store(&state)?;
    let lookup = id.clone();
    let found = blocking(move || {
        store
            .photo_bytes(&lookup, variant)
            .map_err(internal("photo bytes"))
    })
    .await?;
    let Some((content_type, bytes)) = found else {
        return Err(ApiError::not_found(
            "unknown_photo",
            format!("no photo with id {id}"),
        ));
    };
    let mut response = if none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Body::from(bytes).into_response();
        if let Ok(v) = HeaderValue::from_str(&content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_stars() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(none_match(&with("\"abc\""), "\"abc\""));
        assert!(none_match(&with("W/\"abc\""), "\"abc\""));
        assert!(none_match(&with("\"x\", \"abc\""), "\"abc\""));
        assert!(none_match(&with("*"), "\"abc\""));
        assert!(!none_match(&with("\"abd\""), "\"abc\""));
        assert!(!none_match(&HeaderMap::new(), "\"abc\""));
    }
}
