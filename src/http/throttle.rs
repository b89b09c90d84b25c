//! The gate in front of every route that needs a token: failed token checks are throttled per
//! client address, and a write's body is read only after its token was accepted, within the
//! body timeout.
//!
//! Order, for a request reaching a gated route:
//! 1. a client address over its budget of failed checks gets `429` with `Retry-After`, before
//!    its token is looked at (so guessing cannot go on at a lower rate of answers);
//! 2. the bearer token is checked against the store; a bad one (malformed, unknown, revoked)
//!    is `401` and counts as one failure of that address; a request without any token counts
//!    nothing, and successful checks never count, so valid tokens are unaffected;
//! 3. the body is read, at most `max_body_bytes` (the photo limit on uploads; `413`) within `body_timeout` (`408`); only
//!    now does hyper send `100 Continue` to a client that asked for it.
//!
//! The budget is a GCRA quota from the `governor` crate (N failures a minute, burst N, one
//! back every 60/N s). The address is the TCP peer (`ConnectInfo`) or, when the peer is a
//! trusted proxy (`--trusted-proxy`), the client it forwarded for ([`client_ip`]), so one
//! guesser behind the proxy does not block everyone else (see docs/operations.md). The first
//! refusal of a burst is logged once at WARN with the address and never the token.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use http_body_util::BodyExt;

use super::AppState;
use super::error::ApiError;

/// Most addresses remembered as blocked; older entries are dropped first when it is reached.
const MAX_BLOCKED: usize = 10_000;

/// Failed token checks per client address, and the addresses currently refused.
pub struct Throttle {
    failures: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>,
    clock: DefaultClock,
    /// Address → when it may try again.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish_non_exhaustive()
    }
}

impl Throttle {
    /// A throttle allowing `per_minute` failures a minute per address (at least 1).
    pub fn new(per_minute: u32) -> Throttle {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Throttle {
            failures: RateLimiter::hashmap(Quota::per_minute(n)),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `ip` must wait before its next token check, if it is blocked.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let until = *blocked.get(&ip)?;
        let now = Instant::now();
        if until > now {
            Some(until - now)
        } else {
            blocked.remove(&ip);
            None
        }
    }

    /// Counts one failed check of `ip`; returns the wait when this failure exceeds its budget.
    pub fn fail(&self, ip: IpAddr) -> Option<Duration> {
        let not_until = self.failures.check_key(&ip).err()?;
        let wait = not_until
            .wait_time_from(self.clock.now())
            .max(Duration::from_secs(1));
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if blocked.len() >= MAX_BLOCKED {
            blocked.retain(|_, until| *until > now);
            self.failures.retain_recent();
        }
        if blocked.len() < MAX_BLOCKED {
            blocked.insert(ip, now + wait);
        }
        tracing::warn!(
            client = %ip,
            "too many failed token checks from {ip}; refusing its token checks for {}s",
            wait.as_secs()
        );
        Some(wait)
    }
}

/// State of the gate: the app and its throttle.
#[derive(Clone)]
pub struct Gate {
    /// The application (store, limits).
    pub state: AppState,
    /// Failed checks per address.
    pub throttle: Arc<Throttle>,
    /// Largest body read, in bytes: the configured limit, or the photo limit on uploads.
    pub body_limit: usize,
    /// The error code of a body over `body_limit`.
    pub too_large: &'static str,
}

/// The client address failed checks count against: `peer`, unless `peer` is one of the
/// `trusted` proxies; then the nearest address of its forwarding chain that is not a trusted
/// proxy, read from the right of `X-Forwarded-For` (each proxy appends the address it saw)
/// or, without that header, of RFC 7239 `Forwarded: for=`. A chain of trusted proxies only
/// gives its first address; no chain (or nothing parseable) gives `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    if !super::proxy::is_trusted(peer, trusted) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    chain
        .iter()
        .rev()
        .find(|ip| !super::proxy::is_trusted(**ip, trusted))
        .or(chain.first())
        .copied()
        .unwrap_or(peer)
}

/// The addresses of the forwarding chain, nearest last; unparseable entries are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.iter().filter_map(|n| node_ip(n)).collect();
    }
    values("forwarded")
        .iter()
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| node_ip(value))?
            })
        })
        .collect()
}

/// An address from a forwarding entry: `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:80"`.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse().ok().or_else(|| {
        let (host, _port) = node.rsplit_once(':')?;
        host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    })
}

fn retry(wait: Duration) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_secs: wait.as_secs_f64().ceil() as u64,
    }
}

/// Middleware for routes that need a token: throttle, token check, then the body (see the
/// module docs). Without a store it passes the request on (the handler answers 503).
pub async fn require_token(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    match check(&gate, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(gate: &Gate, req: Request) -> Result<Request, ApiError> {
    let Some(store) = gate.state.store.clone() else {
        return Ok(req);
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let ip = client_ip(peer, req.headers(), &gate.state.config.trusted_proxies);
    if let Some(wait) = gate.throttle.blocked(ip) {
        return Err(retry(wait));
    }
    let Some(token) = super::sites::bearer(req.headers()).map(str::to_owned) else {
        return Err(ApiError::Unauthorized);
    };
    let known = crate::store::token_looks_valid(&token)
        && tokio::task::spawn_blocking(move || store.authenticate(&token))
            .await
            .map_err(|e| {
                tracing::error!("token check task failed: {e}");
                ApiError::Internal
            })?
            .map_err(super::sites::internal("token check"))?
            .is_some();
    if !known {
        return Err(match gate.throttle.fail(ip) {
            Some(wait) => retry(wait),
            None => ApiError::Unauthorized,
        });
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return Ok(req);
    }
    let limit = gate.body_limit;
    let (parts, body) = req.into_parts();
    let read = http_body_util::Limited::new(body, limit).collect();
    let bytes = match tokio::time::timeout(gate.state.config.server.body_timeout, read).await {
        Err(_) => return Err(ApiError::RequestTimeout),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(ApiError::PayloadTooLarge {
                code: gate.too_large,
                message: format!("request bodies are limited to {limit} bytes"),
            });
        }
        Ok(Err(_)) => {
            return Err(ApiError::BadRequest {
                code: "unreadable_body",
                message: "the request body could not be read".into(),
            });
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_blocks_one_address_only() {
        let t = Throttle::new(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(t.fail(a), None);
        assert_eq!(t.fail(a), None);
        assert_eq!(t.fail(a), None);
        let wait = t.fail(a).expect("the fourth failure is over budget");
        assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20));
        assert!(t.blocked(a).is_some());
        assert_eq!(t.blocked(b), None);
        assert_eq!(t.fail(b), None);
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_client_counts() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (name, value) in pairs {
                h.append(*name, value.parse().unwrap());
            }
            h
        };
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.7, 203.0.113.9, 10.0.0.4")]);
        // The nearest untrusted entry wins: what the client wrote first is not believed.
        assert_eq!(
            client_ip(proxy, &spoofed, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // From an untrusted peer the header is ignored.
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &spoofed, &trusted), stranger);
        let rfc = headers(&[(
            "forwarded",
            r#"for="[2001:db8::1]:4711";proto=https, for=10.0.0.3"#,
        )]);
        assert_eq!(
            client_ip(proxy, &rfc, &trusted),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let port = headers(&[("x-forwarded-for", "203.0.113.9:5000")]);
        assert_eq!(
            client_ip(proxy, &port, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        let garbage = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_ip(proxy, &garbage, &trusted), proxy);
    }
}
