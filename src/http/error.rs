//! The one place where errors become HTTP responses: `{"error": code, "message": …}` with a
//! 4xx status for bad input, and a bare "internal error" for anything else.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 413: the body is larger than the configured limit.
    PayloadTooLarge {
        /// The limit that was exceeded.
        message: String,
    },
    /// 500: a fault of ours. The cause is logged where it happened, never sent.
    Internal,
}

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
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method".to_owned(),
            ),
            ApiError::PayloadTooLarge { message } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
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
