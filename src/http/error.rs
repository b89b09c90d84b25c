//! The one place where errors become HTTP responses: `{"error": code, "message": …}` with a
//! 4xx status for bad input, and a bare "internal error" for anything else.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error a handler returns; each variant maps to one status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: unparseable or out-of-limit input.
    BadRequest {
        /// Machine-readable code, e.g. `invalid_parameter`.
        code: &'static str,
        /// What was wrong, for people.
        message: String,
    },
    /// 404: unknown id, collection, route, or a zoom outside the served range.
    NotFound {
        /// Machine-readable code, e.g. `unknown_site`.
        code: &'static str,
        /// What was not found.
        message: String,
    },
    /// 401: a write without a valid token (missing, malformed, unknown or revoked).
    Unauthorized,
    /// 403: a valid token outside its rights; `rule` names the rule.
    Forbidden {
        /// The rule, e.g. `outside_assignment`, `backward_requires_planner`.
        rule: &'static str,
        /// What was not allowed.
        message: String,
    },
    /// 412: the `If-Match` version is not the site's current one.
    VersionMismatch {
        /// The site's current version (sent as the ETag).
        version: u64,
        /// The site's current state as a GeoJSON Feature.
        current: Box<Value>,
    },
    /// 409: the request conflicts with the site's state (id taken, not retired).
    Conflict {
        /// Machine-readable code, e.g. `id_taken`.
        code: &'static str,
        /// What conflicts.
        message: String,
    },
    /// 422: a well-formed update that breaks a lifecycle rule; `code` names the rule.
    Unprocessable {
        /// The rule, e.g. `progress_out_of_range`.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// 428: a write without `If-Match`, or with `If-Match: *`, which names no version.
    PreconditionRequired {
        /// What to send instead.
        message: &'static str,
    },
    /// 503: the service runs without a store and accepts no writes.
    ReadOnly,
    /// 503: a limit on concurrent use is reached; retry later.
    Unavailable {
        /// Machine-readable code, e.g. `too_many_streams`.
        code: &'static str,
        /// Which limit.
        message: String,
    },
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 415: the body's `Content-Type` is not one the route reads.
    UnsupportedMediaType {
        /// What to send instead.
        message: String,
    },
    /// 415: an upload that is not a JPEG, PNG or WebP image by its content.
    UnsupportedPhoto {
        /// What was wrong.
        message: String,
    },
    /// 413: the body is larger than the route's limit.
    PayloadTooLarge {
        /// Machine-readable code: `payload_too_large`, or `photo_too_large` on photo uploads.
        code: &'static str,
        /// The limit that was exceeded.
        message: String,
    },
    /// 429: too many failed token checks from this client address.
    TooManyRequests {
        /// Seconds until the next check is allowed (sent as `Retry-After`).
        retry_after_secs: u64,
    },
    /// 408: the request body did not arrive within the body timeout.
    RequestTimeout,
    /// 507 (`Retry-After`): the store cannot take writes now (disk full, read-only); nothing
    /// was written.
    InsufficientStorage {
        /// What is wrong, for people.
        message: String,
    },
    /// 503 (`Retry-After`): the database (PostgreSQL) cannot be reached now; nothing was
    /// written. Reads of the map go on from memory.
    StoreUnavailable,
    /// 500: a fault of ours. The cause is logged where it happened, never sent.
    Internal,
}

/// Seconds a client is told to wait (`Retry-After`) when the database cannot be reached.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;

impl ApiError {
    /// A 400 with the code `invalid_parameter`.
    pub fn bad_param(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code: "invalid_parameter",
            message: message.into(),
        }
    }

    /// A 404 with the given code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message),
            ApiError::NotFound { code, message } => (StatusCode::NOT_FOUND, code, message),
            ApiError::Unauthorized => {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    Json(json!({
                        "error": "unauthorized",
                        "message": "this route needs Authorization: Bearer <token> with a valid, unrevoked token",
                    })),
                )
                    .into_response();
            }
            ApiError::Forbidden { rule, message } => {
                return (
                    StatusCode::FORBIDDEN,
                    Json(json!({ "error": "forbidden", "rule": rule, "message": message })),
                )
                    .into_response();
            }
            ApiError::VersionMismatch { version, current } => {
                return (
                    StatusCode::PRECONDITION_FAILED,
                    [(header::ETAG, format!("\"{version}\""))],
                    Json(json!({
                        "error": "version_mismatch",
                        "message": format!("the site changed; it is now at version {version}: reload, reapply, retry"),
                        "current": current,
                    })),
                )
                    .into_response();
            }
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, code, message),
            ApiError::Unprocessable { code, message } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            ApiError::PreconditionRequired { message } => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                message.to_owned(),
            ),
            ApiError::ReadOnly => (
                StatusCode::SERVICE_UNAVAILABLE,
                "read_only",
                "this service runs without a store and accepts no writes".to_owned(),
            ),
            ApiError::Unavailable { code, message } => {
                (StatusCode::SERVICE_UNAVAILABLE, code, message)
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method".to_owned(),
            ),
            ApiError::UnsupportedMediaType { message } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
            ),
            ApiError::UnsupportedPhoto { message } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_photo_type",
                message,
            ),
            ApiError::PayloadTooLarge { code, message } => {
                (StatusCode::PAYLOAD_TOO_LARGE, code, message)
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, retry_after_secs.to_string())],
                    Json(json!({
                        "error": "too_many_failed_tokens",
                        "message": format!("too many failed token checks from this address; try again in {retry_after_secs} s"),
                    })),
                )
                    .into_response();
            }
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "the request body did not arrive in time".to_owned(),
            ),
            ApiError::InsufficientStorage { message } => {
                return (
                    StatusCode::INSUFFICIENT_STORAGE,
                    [(header::RETRY_AFTER, "60")],
                    Json(json!({ "error": "storage_unavailable", "message": message })),
                )
                    .into_response();
            }
            ApiError::StoreUnavailable => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, STORE_RETRY_AFTER_SECS.to_string())],
                    Json(json!({
                        "error": "store_unavailable",
                        "message": "the database cannot be reached; nothing was written, try again later",
                    })),
                )
                    .into_response();
            }
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".to_owned(),
            ),
        };
        (status, Json(json!({ "error": code, "message": message }))).into_response()
    }
}

/// The response for a refused or failed write of the update service; `today` dates the
/// `late` flag of the feature a 412 carries.
pub fn update_error(e: crate::update::UpdateError, today: crate::model::Date) -> ApiError {
    use crate::update::UpdateError as E;
    match e {
        E::UnknownSite(id) => {
            ApiError::not_found("unknown_site", format!("no site with id {id:?}"))
        }
        E::Retired(id) => ApiError::NotFound {
            code: "retired_site",
            message: format!(
                "site {id} is retired; a planner can restore it (POST …/items/{id}/restore)"
            ),
        },
        E::NotRetired(id) => ApiError::Conflict {
            code: "not_retired",
            message: format!("site {id} is not retired"),
        },
        E::IdTaken(id) => ApiError::Conflict {
            code: "id_taken",
            message: format!(
                "a site with id {id:?} exists (or existed) already; choose another or let the server assign one"
            ),
        },
        E::VersionMismatch { current } => ApiError::VersionMismatch {
            version: current.version,
            current: Box::new(crate::features::site_feature(&current, today)),
        },
        E::Rule(b) if crate::update::is_forbidden(&b) => ApiError::Forbidden {
            rule: b.code,
            message: b.message,
        },
        E::Rule(b) => ApiError::Unprocessable {
            code: b.code,
            message: b.message,
        },
        E::KeyReused { key } => ApiError::Unprocessable {
            code: "idempotency_key_reused",
            message: format!(
                "Idempotency-Key {key:?} was sent before with another request; use a new key for a new update"
            ),
        },
        E::UnknownPhoto { id, site } => ApiError::Unprocessable {
            code: "unknown_photo",
            message: format!(
                "site {site} has no photo {id}: upload it first with POST /api/sites/{site}/photos; nothing was written"
            ),
        },
        E::PhotoAttached { id, seq } => ApiError::Unprocessable {
            code: "photo_already_attached",
            message: format!("photo {id} is attached to change {seq} already; nothing was written"),
        },
        E::Revoked => ApiError::Unauthorized,
        E::NotAssigned { site, account } => ApiError::Forbidden {
            rule: "outside_assignment",
            message: format!("site {site} is not in the assignment of {account}"),
        },
        E::Store(e @ crate::store::StoreError::Unavailable(_)) => {
            tracing::warn!("write: {e}");
            ApiError::StoreUnavailable
        }
        E::Store(e) => {
            tracing::error!("write: {e}");
            ApiError::Internal
        }
        E::Inconsistent(id) => {
            tracing::error!("write: snapshot out of step with the store for {id}");
            ApiError::Internal
        }
    }
}
