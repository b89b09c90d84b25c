//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3) for tiles: which of gzip, brotli, zstd or
//! no coding to send.
//!
//! Each listed coding has a quality `q` (0–1, default 1); `*` stands for every coding not
//! listed; `identity` is acceptable unless refused by `identity;q=0` or by `*;q=0` without an
//! `identity` entry. The highest quality wins; among equals the server prefers the smallest
//! output (brotli, zstd, gzip, then none). A malformed entry (bad `q`) is skipped, as if the
//! client had not sent it. When nothing is acceptable the tile goes out uncoded, which RFC 9110
//! allows instead of a 406. Without the header: no coding.

use axum::http::{HeaderMap, header};

use crate::tiles::compress::ContentCoding;

/// Longest `Accept-Encoding` read, in bytes over all its lines; the rest is ignored (browsers
/// send about 30).
pub const MAX_ACCEPT_ENCODING_BYTES: usize = 1024;

/// Qualities in thousandths, as RFC 9110 gives at most three decimals.
type Quality = u16;

/// Parses a `qvalue`: `0`, `0.` with up to three digits, `1` or `1.` with up to three zeros.
pub(super) fn quality(raw: &str) -> Option<Quality> {
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The qualities a request gives each coding: explicit entries and `*`.
#[derive(Debug, Default)]
struct Accepted {
    /// Quality per coding named explicitly, indexed like [`slot`].
    named: [Option<Quality>; 4],
    star: Option<Quality>,
}

fn slot(c: ContentCoding) -> usize {
    match c {
        ContentCoding::Identity => 0,
        ContentCoding::Gzip => 1,
        ContentCoding::Brotli => 2,
        ContentCoding::Zstd => 3,
    }
}

impl Accepted {
    fn parse(headers: &HeaderMap) -> Option<Accepted> {
        let mut acc = Accepted::default();
        let mut seen = false;
        let mut budget = MAX_ACCEPT_ENCODING_BYTES;
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            seen = true;
            let Ok(text) = value.to_str() else { continue };
            let text = &text[..text.len().min(budget)];
            budget -= text.len();
            for item in text.split(',') {
                let mut parts = item.split(';').map(str::trim);
                let coding = parts.next().unwrap_or("");
                let mut q = Some(1000);
                for p in parts {
                    if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                        q = quality(v.trim());
                    }
                }
                let Some(q) = q else { continue };
                let target = if coding == "*" {
                    &mut acc.star
                } else if let Some(c) = [
                    ContentCoding::Identity,
                    ContentCoding::Gzip,
                    ContentCoding::Brotli,
                    ContentCoding::Zstd,
                ]
                .into_iter()
                .find(|c| coding.eq_ignore_ascii_case(c.token()))
                {
                    &mut acc.named[slot(c)]
                } else {
                    continue;
                };
                // A coding listed twice keeps its highest quality.
                *target = Some(target.map_or(q, |old| old.max(q)));
            }
        }
        seen.then_some(acc)
    }

    fn quality(&self, c: ContentCoding) -> Quality {
        match (self.named[slot(c)], c) {
            (Some(q), _) => q,
            (None, ContentCoding::Identity) => match self.star {
                Some(0) => 0,
                _ => 1, // acceptable, but below any coding asked for
            },
            (None, _) => self.star.unwrap_or(0),
        }
    }
}

/// The coding to send a tile in, given the request's headers: `gzip;q=0.8, br` gives
/// brotli, `gzip` gzip, no header none (see the tests below).
pub(super) fn negotiate(headers: &HeaderMap) -> ContentCoding {
    let Some(acc) = Accepted::parse(headers) else {
        return ContentCoding::Identity;
    };
    let mut best = (
        acc.quality(ContentCoding::Identity),
        ContentCoding::Identity,
    );
    for c in ContentCoding::COMPRESSED {
        let q = acc.quality(c);
        // Strictly better only: COMPRESSED is in preference order, identity least preferred.
        if q > 0 && (q > best.0 || (best.1 == ContentCoding::Identity && q >= best.0)) {
            best = (q, c);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{negotiate, quality};
    use crate::tiles::compress::ContentCoding::{self, Brotli, Gzip, Identity, Zstd};

    fn pick(values: &[&'static str]) -> ContentCoding {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
        }
        negotiate(&h)
    }

    #[test]
    fn qvalues_parse_by_the_grammar() {
        assert_eq!(quality("0"), Some(0));
        assert_eq!(quality("0.5"), Some(500));
        assert_eq!(quality("0.125"), Some(125));
        assert_eq!(quality("1"), Some(1000));
        assert_eq!(quality("1.000"), Some(1000));
        assert_eq!(quality("1.5"), None);
        assert_eq!(quality("0.1234"), None);
        assert_eq!(quality("2"), None);
        assert_eq!(quality(""), None);
        assert_eq!(quality("-0"), None);
    }

    #[test]
    fn no_header_or_empty_means_identity() {
        assert_eq!(negotiate(&HeaderMap::new()), Identity);
        assert_eq!(pick(&[""]), Identity);
        assert_eq!(pick(&["identity"]), Identity);
        assert_eq!(pick(&["deflate, compress"]), Identity);
    }

    #[test]
    fn server_prefers_the_smallest_among_equals() {
        assert_eq!(pick(&["gzip, deflate, br, zstd"]), Brotli);
        assert_eq!(pick(&["gzip, zstd"]), Zstd);
        assert_eq!(pick(&["gzip"]), Gzip);
        assert_eq!(pick(&["GZIP"]), Gzip);
        assert_eq!(pick(&["*"]), Brotli);
    }

    #[test]
    fn higher_quality_wins() {
        assert_eq!(pick(&["br;q=0.5, gzip;q=0.8"]), Gzip);
        assert_eq!(pick(&["br;q=0.5, gzip;q=0.8, zstd;q=0.9"]), Zstd);
        assert_eq!(pick(&["br;q=0.001, identity;q=1"]), Identity);
        assert_eq!(pick(&["gzip;q=0.2", "br;q=0.3"]), Brotli); // two header lines
        assert_eq!(pick(&["*;q=0.5, gzip"]), Gzip);
    }

    #[test]
    fn refusals_are_respected() {
        assert_eq!(pick(&["gzip;q=0"]), Identity);
        assert_eq!(pick(&["gzip;q=0, br;q=0, zstd;q=0"]), Identity);
        assert_eq!(pick(&["*;q=0, gzip"]), Gzip);
        assert_eq!(pick(&["br;q=0, *"]), Zstd);
        // Nothing acceptable at all: sent uncoded rather than refused.
        assert_eq!(pick(&["*;q=0"]), Identity);
        assert_eq!(pick(&["identity;q=0"]), Identity);
    }

    #[test]
    fn malformed_entries_are_skipped() {
        assert_eq!(pick(&["br;q=2, gzip"]), Gzip);
        assert_eq!(pick(&["br;q=abc"]), Identity);
        assert_eq!(pick(&[" , ;, gzip ; q=0.9 "]), Gzip);
    }
}
