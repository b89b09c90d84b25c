//! The public base URL of a request (`https://maps.example.org/renewal`), for every absolute
//! link the service writes (OGC API links, TileJSON tile URLs).
//!
//! From a trusted proxy (`--trusted-proxy`, addresses or CIDR blocks) the RFC 7239
//! `Forwarded` header (`host=`, `proto=`) is believed, else `X-Forwarded-Host`,
//! `X-Forwarded-Proto` and `X-Forwarded-Prefix`. From anyone else, and when the peer address
//! is unknown (no `ConnectInfo`, as in in-process tests), only `Host` counts and the scheme
//! is `http`: an untrusted client cannot point links elsewhere.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::AppState;
use super::error::ApiError;

/// Scheme, authority and path prefix, without a trailing slash: links are `{base}/ogc/…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBase(pub String);

impl std::fmt::Display for PublicBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromRequestParts<AppState> for PublicBase {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let trusted = peer.is_some_and(|ip| is_trusted(ip, &state.config.trusted_proxies));
        Ok(public_base(&parts.headers, trusted))
    }
}

/// Whether `ip` is one of the trusted proxies. IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`)
/// match their IPv4 entries.
pub fn is_trusted(ip: IpAddr, trusted: &[ipnet::IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&ip))
}

/// The base URL from `headers`, believing forwarding headers only when `trusted`.
pub fn public_base(headers: &HeaderMap, trusted: bool) -> PublicBase {
    let own_host = header_str(headers, header::HOST.as_str())
        .filter(|h| valid_host(h))
        .unwrap_or("localhost");
    if !trusted {
        return PublicBase(format!("http://{own_host}"));
    }
    let forwarded = header_str(headers, "forwarded").map(parse_forwarded);
    let (fwd_host, fwd_proto) = forwarded.unwrap_or_default();
    let host = fwd_host
        .or_else(|| first(headers, "x-forwarded-host").map(str::to_owned))
        .filter(|h| valid_host(h))
        .unwrap_or_else(|| own_host.to_owned());
    let proto = fwd_proto
        .or_else(|| first(headers, "x-forwarded-proto").map(str::to_owned))
        .map(|p| p.to_ascii_lowercase())
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".to_owned());
    let prefix = first(headers, "x-forwarded-prefix")
        .and_then(valid_prefix)
        .unwrap_or_default();
    PublicBase(format!("{proto}://{host}{prefix}"))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The first value of a comma-separated header: the one the client-facing proxy wrote.
fn first<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header_str(headers, name)
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `host` and `proto` of the first element of an RFC 7239 `Forwarded` header.
fn parse_forwarded(value: &str) -> (Option<String>, Option<String>) {
    let element = value.split(',').next().unwrap_or("");
    let (mut host, mut proto) = (None, None);
    for pair in element.split(';') {
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "host" => host = Some(v),
            "proto" => proto = Some(v),
            _ => {}
        }
    }
    (host, proto)
}

/// A host with an optional port: letters, digits, `.-:[]` only (no path, user info or spaces).
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// A path prefix such as `/renewal` (trailing slash dropped); `None` unless it is made of
/// plain path characters.
fn valid_prefix(p: &str) -> Option<String> {
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        return None;
    }
    let ok = p.starts_with('/')
        && p.len() <= 200
        && !p.contains("//")
        && !p.split('/').any(|seg| seg == "..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~'));
    ok.then(|| p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let h = headers(&[
            ("host", "svc:8080"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-prefix", "/x"),
            ("forwarded", "host=evil.example;proto=https"),
        ]);
        assert_eq!(public_base(&h, false).0, "http://svc:8080");
    }

    #[test]
    fn trusted_proxies_set_scheme_host_and_prefix() {
        let h = headers(&[
            ("host", "svc:8080"),
            ("x-forwarded-host", "maps.example.org, inner"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-prefix", "/renewal/"),
        ]);
        assert_eq!(public_base(&h, true).0, "https://maps.example.org/renewal");
        let rfc = headers(&[
            ("host", "svc:8080"),
            (
                "forwarded",
                "for=1.2.3.4;host=\"maps.example.org:8443\";proto=https, for=10.0.0.1",
            ),
            ("x-forwarded-host", "ignored.example"),
        ]);
        assert_eq!(public_base(&rfc, true).0, "https://maps.example.org:8443");
        let bad = headers(&[
            ("host", "svc"),
            ("x-forwarded-host", "a/b@c"),
            ("x-forwarded-proto", "gopher"),
            ("x-forwarded-prefix", "/../etc"),
        ]);
        assert_eq!(public_base(&bad, true).0, "http://svc");
    }

    #[test]
    fn trust_by_address_and_cidr() {
        let nets: Vec<ipnet::IpNet> =
            vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        assert!(is_trusted("10.1.2.3".parse().unwrap(), &nets));
        assert!(is_trusted("::ffff:10.1.2.3".parse().unwrap(), &nets));
        assert!(is_trusted("::1".parse().unwrap(), &nets));
        assert!(!is_trusted("192.168.0.1".parse().unwrap(), &nets));
    }
}
