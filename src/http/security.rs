//! Security headers on every response (a middleware over the whole router). Each header is
//! set only when the handler did not set it already.
//!
//! | header | value | what it is for |
//! |---|---|---|
//! | `Content-Security-Policy` | [`CONTENT_SECURITY_POLICY`] | the page may run only its own scripts and styles from this origin (no inline script, no `eval`, no other host), talk only to this origin, and not be framed. MapLibre needs `worker-src blob:` (its worker is built from a blob) and `img-src data: blob:` (sprites and canvas images) |
//! | `X-Content-Type-Options` | `nosniff` | browsers trust `Content-Type` and never run a JSON or text answer as script or style |
//! | `X-Frame-Options` | `DENY` | older browsers' counterpart of `frame-ancestors 'none'`: no other site can frame the map and trick a field team into clicks |
//! | `Referrer-Policy` | `no-referrer` | page and API URLs (site ids, query filters) are not sent to other sites |

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The page's content security policy: this origin only, no inline script or style.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data: blob:; worker-src 'self' blob:; child-src blob:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The headers and values added to every response.
pub const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// Middleware adding [`SECURITY_HEADERS`] to each response that lacks them.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    resp
}
