//! The `Link` response header (RFC 8288) that repeats a page's `self`, `next`, `prev` and
//! queryables links, for clients that read links from headers (OGC API – Features allows
//! either place; Part 3 asks for the queryables link in the header).

use axum::http::HeaderValue;
use serde_json::Value;

/// Relations repeated in the header (paging, and Part 3's queryables, which the standard
/// asks for in the header of a filterable resource); the rest stay in the body only.
const HEADER_RELS: [&str; 5] = [
    "self",
    "alternate",
    "next",
    "prev",
    "http://www.opengis.net/def/rel/ogc/1.0/queryables",
];

/// The `Link` header for `links` (objects with `href`, `rel`, `type`), or `None` if none of
/// them is a relation repeated here or a link cannot be written as a header value.
///
/// Commas in a target are written `%2C`, which means the same in a query string, so a client
/// that splits the header on commas still finds every link whole. Titles are left out: they
/// may hold Chinese, which a header value cannot carry unencoded.
pub(super) fn link_header(links: &[Value]) -> Option<HeaderValue> {
    let parts: Vec<String> = links
        .iter()
        .filter(|l| HEADER_RELS.contains(&l["rel"].as_str().unwrap_or("")))
        .filter_map(|l| {
            let href = l["href"].as_str()?.replace(',', "%2C");
            let rel = l["rel"].as_str()?;
            let kind = l["type"].as_str()?;
            Some(format!("<{href}>; rel=\"{rel}\"; type=\"{kind}\""))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    HeaderValue::from_str(&parts.join(", ")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paging_links_only_with_commas_escaped() {
        let links = [
            json!({"href": "http://h/ogc/collections/sites/items?bbox=1,2,3,4&limit=10&offset=0", "rel": "self", "type": "application/geo+json", "title": "本页"}),
            json!({"href": "http://h/ogc/collections/sites", "rel": "collection", "type": "application/json", "title": "x"}),
            json!({"href": "http://h/ogc/collections/sites/items?limit=10&offset=10", "rel": "next", "type": "application/geo+json", "title": "下一页"}),
        ];
        let v = link_header(&links).expect("a header");
        assert_eq!(
            v.to_str().unwrap(),
            "<http://h/ogc/collections/sites/items?bbox=1%2C2%2C3%2C4&limit=10&offset=0>; rel=\"self\"; type=\"application/geo+json\", \
             <http://h/ogc/collections/sites/items?limit=10&offset=10>; rel=\"next\"; type=\"application/geo+json\""
        );
    }

    #[test]
    fn nothing_to_repeat_is_no_header() {
        let links = [json!({"href": "http://h/", "rel": "collection", "type": "application/json"})];
        assert!(link_header(&links).is_none());
    }
}
