//! OGC API – Features, Part 1: Core, with GeoJSON, under `/ogc`: landing page, conformance,
//! API definition, collections, items (bbox, limit, offset paging, property filters) and
//! single items. Links are absolute, built from the request's Host.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiPath, FILTER_PARAMS, Params, clip, site_filter};
use super::{AppState, base_url};
use crate::features::{Collection, ItemsQuery, item as find_item, items as find_items};
use crate::model::Timestamp;

const GEOJSON: &str = "application/geo+json";
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const CONFORMANCE: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

/// For the metadata routes: no parameter but `f`, and `f` must be JSON.
fn json_only(params: &Params) -> Result<(), ApiError> {
    params.allow(&["f"])?;
    check_format(params)
}

/// Accepts `f=json` (the only format served) so clients that always send it work.
fn check_format(params: &Params) -> Result<(), ApiError> {
    match params.get("f") {
        None | Some("json") | Some("geojson") => Ok(()),
        Some(other) => Err(ApiError::bad_param(format!(
            "f must be json, got {:?}",
            clip(other)
        ))),
    }
}

pub(super) async fn landing(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let base = base_url(&headers);
    let plan = &state.current().fixed.plan;
    Ok(Json(json!({
        "title": format!("renewal-map: {} urban renewal", plan.district_name),
        "description": format!("Renewal sites, pocket parks and base map of {} ({}) as OGC API – Features", plan.district_name, plan.district_code),
        "links": [
            link(format!("{base}/ogc"), "self", "application/json", "This document"),
            link(format!("{base}/ogc/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "API definition"),
            link(format!("{base}/ogc/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{base}/ogc/collections"), "data", "application/json", "Collections"),
            link(format!("{base}/tiles.json"), "describedby", "application/json", "Vector tiles (TileJSON)"),
        ],
    })))
}

pub(super) async fn conformance(params: Params) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let classes: Vec<&str> = CONFORMANCE
        .iter()
        .chain(super::ogc_write::CONFORMANCE.iter())
        .copied()
        .collect();
    Ok(Json(json!({ "conformsTo": classes })))
}

fn collection_json(state: &AppState, base: &str, c: Collection) -> Value {
    let snap = state.current();
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    // Site collections share the provenance of the data set's `sites` layer.
    let data_layer = match c.id() {
        "roads" | "compounds" | "parks" | "plazas" => "sites",
        id => id,
    };
    json!({
        "provenance": snap.fixed.provenance.layer(data_layer),
        "id": c.id(),
        "title": c.title(),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[w, s, e, n]], "crs": CRS84}},
        "links": [
            link(format!("{base}/ogc/collections/{}", c.id()), "self", "application/json", c.title()),
            link(format!("{base}/ogc/collections/{}/items", c.id()), "items", GEOJSON, "Items"),
        ],
    })
}

pub(super) async fn collections(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let base = base_url(&headers);
    let list: Vec<Value> = Collection::ALL
        .iter()
        .map(|&c| collection_json(&state, &base, c))
        .collect();
    Ok(Json(json!({
        "links": [link(format!("{base}/ogc/collections"), "self", "application/json", "Collections")],
        "collections": list,
    })))
}

fn find_collection(id: &str) -> Result<Collection, ApiError> {
    Collection::from_id(id).ok_or_else(|| {
        let ids: Vec<&str> = Collection::ALL.iter().map(|c| c.id()).collect();
        ApiError::not_found(
            "unknown_collection",
            format!(
                "no collection {:?}; there are: {}",
                clip(id),
                ids.join(", ")
            ),
        )
    })
}

pub(super) async fn collection(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let c = find_collection(&id)?;
    Ok(Json(collection_json(&state, &base_url(&headers), c)))
}

/// Parses an OGC `datetime`: an instant (`2026-10-01T08:00:00Z` or a whole day `2026-10-01`)
/// or an interval `start/end` with `..` (or nothing) for an open end.
fn parse_datetime(raw: &str) -> Result<(Option<Timestamp>, Option<Timestamp>), ApiError> {
    let bad = || {
        ApiError::bad_param(format!(
            "datetime must be an RFC 3339 UTC time, a date, or an interval a/b with .. for an open end; got {:?}",
            clip(raw)
        ))
    };
    let instant = |s: &str, end: bool| -> Result<Option<Timestamp>, ApiError> {
        match s {
            "" | ".." => Ok(None),
            day if day.len() == 10 => {
                let start: Timestamp = day.parse().map_err(|_| bad())?;
                Ok(Some(if end {
                    Timestamp::from_unix(start.unix() + 86_399)
                } else {
                    start
                }))
            }
            t => t.parse().map(Some).map_err(|_| bad()),
        }
    };
    let (from, to) = match raw.split_once('/') {
        Some((a, b)) => (instant(a, false)?, instant(b, true)?),
        None if raw == ".." || raw.is_empty() => return Err(bad()),
        None => (instant(raw, false)?, instant(raw, true)?),
    };
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::bad_param(
            "datetime interval ends before it starts",
        ));
    }
    Ok((from, to))
}

/// Parses `bbox=west,south,east,north` in WGS84 degrees (or the 6-number 3D form, whose
/// heights are ignored). Boxes crossing the antimeridian (west > east) are not supported and
/// rejected as inverted.
fn parse_bbox(raw: &str) -> Result<[f64; 4], ApiError> {
    let all: Vec<&str> = raw.split(',').collect();
    let parts: Vec<&str> = match all.len() {
        4 => all,
        6 if [all[2], all[5]]
            .iter()
            .all(|h| h.trim().parse::<f64>().is_ok_and(f64::is_finite)) =>
        {
            vec![all[0], all[1], all[3], all[4]]
        }
        _ => {
            return Err(ApiError::bad_param(
                "bbox must be four numbers: west,south,east,north (WGS84 degrees)",
            ));
        }
    };
    let mut b = [0.0; 4];
    for (slot, p) in b.iter_mut().zip(&parts) {
        *slot = p
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                ApiError::bad_param(format!("bbox value {:?} is not a number", clip(p)))
            })?;
    }
    let [w, s, e, n] = b;
    if !((-180.0..=180.0).contains(&w) && (-180.0..=180.0).contains(&e)) {
        return Err(ApiError::bad_param(
            "bbox longitudes must be within -180..180",
        ));
    }
    if !((-90.0..=90.0).contains(&s) && (-90.0..=90.0).contains(&n)) {
        return Err(ApiError::bad_param("bbox latitudes must be within -90..90"));
    }
    if w > e || s > n {
        return Err(ApiError::bad_param(
            "bbox is inverted: need west <= east and south <= north",
        ));
    }
    Ok(b)
}

pub(super) async fn items(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let c = find_collection(&id)?;
    let mut allowed = vec!["f", "limit", "offset", "bbox", "bbox-crs", "datetime"];
    if c.holds_sites() {
        allowed.extend(FILTER_PARAMS);
        allowed.push(super::as_of::AS_OF);
    }
    params.allow(&allowed)?;
    check_format(&params)?;
    if let Some(crs) = params.get("bbox-crs")
        && crs != CRS84
    {
        return Err(ApiError::bad_param(format!("bbox-crs must be {CRS84}")));
    }
    let limits = &state.config.limits;
    let view = super::as_of::view(&state, &params).await?;
    let snap = std::sync::Arc::clone(&view.snap);
    let today = state.config.today();
    let query = ItemsQuery {
        bbox: params.get("bbox").map(parse_bbox).transpose()?,
        filter: if c.holds_sites() {
            site_filter(&params, &snap, today)?
        } else {
            Default::default()
        },
        updated: params.get("datetime").map(parse_datetime).transpose()?,
        // OGC API – Features: a limit above the maximum is served at the maximum, not refused.
        limit: params
            .usize_in("limit", 1..=usize::MAX / 2)?
            .map_or(limits.default_page, |l| l.min(limits.max_page)),
        offset: params.usize_in("offset", 0..=usize::MAX / 2)?.unwrap_or(0),
    };
    let page = find_items(&snap, c, &query, today);
    let base = base_url(&headers);
    let self_url = |offset: usize| {
        let mut pairs: Vec<String> = [
            "bbox",
            "datetime",
            "status",
            "kind",
            "subdistrict",
            "late",
            "as_of",
        ]
        .iter()
        .filter_map(|k| params.get(k).map(|v| format!("{k}={}", encode(v))))
        .collect();
        pairs.push(format!("limit={}", query.limit));
        pairs.push(format!("offset={offset}"));
        format!(
            "{base}/ogc/collections/{}/items?{}",
            c.id(),
            pairs.join("&")
        )
    };
    let mut links = vec![
        link(self_url(query.offset), "self", GEOJSON, "This page"),
        link(
            format!("{base}/ogc/collections/{}", c.id()),
            "collection",
            "application/json",
            c.title(),
        ),
    ];
    if query.offset + page.features.len() < page.number_matched {
        links.push(link(
            self_url(query.offset + query.limit),
            "next",
            GEOJSON,
            "Next page",
        ));
    }
    if query.offset > 0 {
        links.push(link(
            self_url(query.offset.saturating_sub(query.limit)),
            "prev",
            GEOJSON,
            "Previous page",
        ));
    }
    let body = json!({
        "type": "FeatureCollection",
        // A past map's page is stamped with its instant, so it is the same bytes every time.
        "timeStamp": view.at.unwrap_or_else(Timestamp::now),
        "numberMatched": page.number_matched,
        "numberReturned": page.features.len(),
        "links": links,
        "features": page.features,
    });
    Ok(super::as_of::json_response(&view, GEOJSON, &body))
}

/// Percent-encodes a query value for a link.
pub(super) fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) async fn item(
    State(state): State<AppState>,
    ApiPath((id, feature)): ApiPath<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_only(&params)?;
    let c = find_collection(&id)?;
    let snap = state.current();
    let mut f = find_item(&snap, c, &feature, state.config.today()).ok_or_else(|| {
        ApiError::not_found(
            "unknown_feature",
            format!("no feature {:?} in collection {}", clip(&feature), c.id()),
        )
    })?;
    let base = base_url(&headers);
    if let Some(obj) = f.as_object_mut() {
        obj.insert(
            "links".into(),
            json!([
                link(
                    format!(
                        "{base}/ogc/collections/{}/items/{}",
                        c.id(),
                        encode(&feature)
                    ),
                    "self",
                    GEOJSON,
                    "This feature"
                ),
                link(
                    format!("{base}/ogc/collections/{}", c.id()),
                    "collection",
                    "application/json",
                    c.title()
                ),
            ]),
        );
    }
    Ok(([(header::CONTENT_TYPE, GEOJSON)], Json(f)).into_response())
}

pub(super) async fn api_definition(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    json_only(&params)?;
    let base = base_url(&headers);
    let limits = &state.config.limits;
    let query = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "style": "form", "explode": false, "description": description, "schema": schema});
    let path_param = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
    let errors = json!({
        "400": {"description": "Bad request: {\"error\", \"message\"}"},
        "404": {"description": "Not found: {\"error\", \"message\"}"},
    });
    let ok = |description: &str, media: &str| {
        let mut r = errors.clone();
        r["200"] = json!({"description": description, "content": {media: {}}});
        r
    };
    let ids: Vec<&str> = Collection::ALL.iter().map(|c| c.id()).collect();
    let items_params = json!([
        path_param("collectionId"),
        query(
            "limit",
            "Page size; values above the maximum are served at the maximum",
            json!({"type": "integer", "minimum": 1, "maximum": limits.max_page, "default": limits.default_page})
        ),
        query(
            "offset",
            "Features to skip (paging; follow the next link)",
            json!({"type": "integer", "minimum": 0, "default": 0})
        ),
        query(
            "bbox",
            "west,south,east,north in CRS84 degrees (6 numbers: heights ignored); west <= east",
            json!({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}})
        ),
        query(
            "bbox-crs",
            "Only CRS84",
            json!({"type": "string", "enum": [CRS84]})
        ),
        query(
            "datetime",
            "Last update instant or interval (a/b, .. for open ends); sites only",
            json!({"type": "string"})
        ),
        query(
            "status",
            "Site statuses, comma separated",
            json!({"type": "array", "items": {"type": "string", "enum": crate::model::RenewalStatus::ALL.map(|s| s.as_str())}})
        ),
        query(
            "kind",
            "Site kinds, comma separated",
            json!({"type": "array", "items": {"type": "string", "enum": crate::model::RenewalKind::ALL.map(|k| k.as_str())}})
        ),
        query(
            "subdistrict",
            "Sub-district code or name",
            json!({"type": "string"})
        ),
        query(
            "late",
            "Only sites past their planned finish and not done",
            json!({"type": "boolean"})
        ),
        query(
            "f",
            "Format (json only)",
            json!({"type": "string", "enum": ["json"]})
        ),
    ]);
    let mut body = json!({
        "openapi": "3.0.3",
        "info": {"title": "renewal-map OGC API – Features", "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": format!("{base}/ogc")}],
        "paths": {
            "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "responses": ok("Landing page", "application/json")}},
            "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance", "responses": ok("Conformance", "application/json")}},
            "/collections": {"get": {"summary": "Collections", "operationId": "getCollections", "responses": ok("Collections", "application/json")}},
            "/collections/{collectionId}": {"get": {"summary": "One collection", "operationId": "describeCollection",
                "parameters": [{"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": ids}}],
                "responses": ok("Collection", "application/json")}},
            "/collections/{collectionId}/items": {"get": {"summary": "Features of a collection", "operationId": "getFeatures",
                "parameters": items_params, "responses": ok("GeoJSON FeatureCollection", GEOJSON)}},
            "/collections/{collectionId}/items/{featureId}": {"get": {"summary": "One feature", "operationId": "getFeature",
                "parameters": [path_param("collectionId"), path_param("featureId")], "responses": ok("GeoJSON Feature", GEOJSON)}},
        },
    });
    super::ogc_write::add_write_operations(&mut body);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/vnd.oai.openapi+json;version=3.0",
        )],
        Json(body),
    )
        .into_response())
}
