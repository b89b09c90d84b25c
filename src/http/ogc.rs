//! OGC API – Features under `/ogc`: Part 1 Core with GeoJSON (landing page, conformance, API
//! definition, collections, items with bbox, limit, offset paging, property filters, single
//! items), Part 3 filtering (queryables, CQL2 `filter`) and per-collection JSON Schemas. Links
//! are absolute, built from the request's public base (see [`super::proxy`]).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, FILTER_PARAMS, Params, clip, site_filter};
use super::proxy::PublicBase;
use crate::features::{Collection, ItemsQuery, extent, item as find_item, items as find_items};
use crate::filter_cql::{CqlFilter, FilterLang};
use crate::model::Timestamp;
use crate::queryables::{DATETIME_PROPERTY, SchemaKind, json_schema};
use crate::temporal::parse_datetime;

pub(super) const GEOJSON: &str = "application/geo+json";
pub(super) const JSON_SCHEMA: &str = "application/schema+json";
pub(super) const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
pub(super) const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// The link relation of a collection's queryables (OGC API – Features Part 3).
const REL_QUERYABLES: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";
/// The calendar of temporal extents.
const GREGORIAN: &str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian";

/// The conformance classes of every part the service implements.
const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
];

pub(super) fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

/// For the metadata routes: no parameter but `f`, and `f` must be JSON.
pub(super) fn json_only(params: &Params) -> Result<(), ApiError> {
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
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let plan = &state.current().fixed.plan;
    Ok(Json(json!({
        "title": format!("renewal-map: {} urban renewal", plan.district_name),
        "description": format!("Renewal sites, pocket parks and base map of {} ({}) as OGC API – Features and Tiles", plan.district_name, plan.district_code),
        "links": [
            link(format!("{base}/ogc"), "self", "application/json", "This document"),
            link(format!("{base}/ogc/api"), "service-desc", OPENAPI, "API definition"),
            link(format!("{base}/ogc/api?f=html"), "service-doc", "text/html", "API documentation"),
            link(format!("{base}/ogc/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{base}/ogc/collections"), "data", "application/json", "Collections"),
            link(format!("{base}/ogc/tiles"), super::ogc_tiles::REL_TILESETS_VECTOR, "application/json", "Vector tilesets"),
            link(format!("{base}/ogc/tileMatrixSets"), super::ogc_tiles::REL_TILING_SCHEMES, "application/json", "Tile matrix sets"),
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

fn collection_json(state: &AppState, base: &PublicBase, c: Collection) -> Value {
    let snap = state.current();
    let ext = extent(&snap, c);
    let [w, s, e, n] = ext.bbox.unwrap_or(snap.fixed.lnglat_bounds);
    let mut extent_json = json!({"spatial": {"bbox": [[w, s, e, n]], "crs": CRS84}});
    let mut description = format!(
        "{}: {} geometry.",
        c.title(),
        crate::queryables::geometry_type(c)
    );
    if let Some((first, last)) = ext.updated {
        extent_json["temporal"] = json!({"interval": [[first, last]], "trs": GREGORIAN});
        description.push_str(&format!(
            " datetime and the temporal extent refer to {DATETIME_PROPERTY} (last change of status or progress); filter planned_start and planned_finish with CQL2."
        ));
    }
    let id = c.id();
    let here = format!("{base}/ogc/collections/{id}");
    let mut body = json!({
        "id": id,
        "title": c.title(),
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extent_json,
        "links": [
            link(here.clone(), "self", "application/json", c.title()),
            link(format!("{here}/items"), "items", GEOJSON, "Items"),
            link(format!("{here}/queryables"), REL_QUERYABLES, JSON_SCHEMA, "Queryables"),
            // GDAL up to 3.6 knows the pre-1.0 relation name only.
            link(format!("{here}/queryables"), "queryables", JSON_SCHEMA, "Queryables"),
            link(format!("{here}/schema"), "describedby", JSON_SCHEMA, "Schema of the features"),
            // Relation types are case-insensitive, but GDAL up to 3.6 compares this spelling.
            link(format!("{here}/schema"), "describedBy", JSON_SCHEMA, "Schema of the features"),
            link(format!("{here}/tiles"), super::ogc_tiles::REL_TILESETS_VECTOR, "application/json", "Vector tilesets of this collection"),
        ],
    });
    if c.holds_sites() {
        body["datetimeProperty"] = json!(DATETIME_PROPERTY);
    }
    // What the collection's geometry and fields are worth, from the data set's manifest; site
    // collections share the provenance of its `sites` layer.
    let data_layer = match id {
        "sites" | "roads" | "compounds" | "parks" | "plazas" => "sites",
        other => other,
    };
    body["provenance"] = json!(snap.fixed.provenance.layer(data_layer));
    body
}

pub(super) async fn collections(
    State(state): State<AppState>,
    params: Params,
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let list: Vec<Value> = Collection::ALL
        .iter()
        .map(|&c| collection_json(&state, &base, c))
        .collect();
    Ok(Json(json!({
        "links": [link(format!("{base}/ogc/collections"), "self", "application/json", "Collections")],
        "collections": list,
    })))
}

pub(super) fn find_collection(id: &str) -> Result<Collection, ApiError> {
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
    base: PublicBase,
) -> Result<Json<Value>, ApiError> {
    json_only(&params)?;
    let c = find_collection(&id)?;
    Ok(Json(collection_json(&state, &base, c)))
}

async fn schema_doc(
    id: String,
    params: Params,
    base: PublicBase,
    kind: SchemaKind,
) -> Result<Response, ApiError> {
    json_only(&params)?;
    let c = find_collection(&id)?;
    let name = match kind {
        SchemaKind::Queryables => "queryables",
        SchemaKind::Schema => "schema",
    };
    let url = format!("{base}/ogc/collections/{}/{name}", c.id());
    Ok((
        [(header::CONTENT_TYPE, JSON_SCHEMA)],
        Json(json_schema(c, kind, &url)),
    )
        .into_response())
}

/// `GET /ogc/collections/{c}/queryables`: what a CQL2 filter may name, typed.
pub(super) async fn queryables(
    ApiPath(id): ApiPath<String>,
    params: Params,
    base: PublicBase,
) -> Result<Response, ApiError> {
    schema_doc(id, params, base, SchemaKind::Queryables).await
}

/// `GET /ogc/collections/{c}/schema`: the JSON Schema of the collection's features.
pub(super) async fn schema(
    ApiPath(id): ApiPath<String>,
    params: Params,
    base: PublicBase,
) -> Result<Response, ApiError> {
    schema_doc(id, params, base, SchemaKind::Schema).await
}

/// The query parameters the items of `c` take.
pub(super) fn items_params(c: Collection) -> Vec<&'static str> {
    let mut allowed = vec![
        "f",
        "limit",
        "offset",
        "bbox",
        "bbox-crs",
        "filter",
        "filter-lang",
        "filter-crs",
    ];
    if c.holds_sites() {
        allowed.push("datetime");
        allowed.extend(FILTER_PARAMS);
        allowed.push(super::as_of::AS_OF);
    }
    allowed
}

/// The CQL2 filter of a request, if it has one.
pub(super) fn cql_filter(params: &Params, c: Collection) -> Result<Option<CqlFilter>, ApiError> {
    let lang = match params.get("filter-lang") {
        None => FilterLang::Text,
        Some(name) => FilterLang::from_name(name).ok_or_else(|| {
            ApiError::bad_param(format!(
                "filter-lang must be one of {}, got {:?}",
                FilterLang::NAMES.join(", "),
                clip(name)
            ))
        })?,
    };
    if let Some(crs) = params.get("filter-crs")
        && crs != CRS84
    {
        return Err(ApiError::bad_param(format!("filter-crs must be {CRS84}")));
    }
    let Some(raw) = params.get("filter") else {
        if params.get("filter-lang").is_some() || params.get("filter-crs").is_some() {
            return Err(ApiError::bad_param(
                "filter-lang and filter-crs need a filter",
            ));
        }
        return Ok(None);
    };
    CqlFilter::parse(raw, lang, c)
        .map(Some)
        .map_err(|e| ApiError::BadRequest {
            code: "invalid_filter",
            message: e.to_string(),
        })
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
    base: PublicBase,
) -> Result<Response, ApiError> {
    let c = find_collection(&id)?;
    let allowed = items_params(c);
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
        updated: params
            .get("datetime")
            .map(parse_datetime)
            .transpose()
            .map_err(|e| ApiError::bad_param(e.to_string()))?,
        cql: cql_filter(&params, c)?,
        // OGC API – Features: a limit above the maximum is served at the maximum, not refused.
        limit: params
            .usize_in("limit", 1..=usize::MAX / 2)?
            .map_or(limits.default_page, |l| l.min(limits.max_page)),
        offset: params.usize_in("offset", 0..=usize::MAX / 2)?.unwrap_or(0),
    };
    let page = find_items(&snap, c, &query, today);
    let self_url = |offset: usize| {
        let mut pairs: Vec<String> = allowed
            .iter()
            .filter(|k| !matches!(**k, "limit" | "offset"))
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
        // Part 3: a filterable resource names its queryables (body and `Link` header).
        link(
            format!("{base}/ogc/collections/{}/queryables", c.id()),
            REL_QUERYABLES,
            JSON_SCHEMA,
            "Queryables",
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
    let header = super::link_header::link_header(&links);
    let body = json!({
        "type": "FeatureCollection",
        // A past map's page is stamped with its instant, so it is the same bytes every time.
        "timeStamp": view.at.unwrap_or_else(Timestamp::now),
        "numberMatched": page.number_matched,
        "numberReturned": page.features.len(),
        "links": links,
        "features": page.features,
    });
    let mut resp = super::as_of::json_response(&view, GEOJSON, &body);
    if let Some(v) = header {
        resp.headers_mut().insert(header::LINK, v);
    }
    Ok(resp)
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
    base: PublicBase,
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

/// `GET /ogc/api`: the OpenAPI 3.0 document of every route (JSON), or for a person
/// (`f=html`, or a browser's `Accept: text/html`) a page that renders it.
pub(super) async fn api_definition(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    base: PublicBase,
) -> Result<Response, ApiError> {
    params.allow(&["f"])?;
    let html = match params.get("f") {
        Some("html") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::bad_param(format!(
                "f must be json or html, got {:?}",
                clip(other)
            )));
        }
        None => prefers_html(&headers),
    };
    if html {
        return Ok(super::api_docs::page(&base));
    }
    let snap = state.current();
    let mut paths = serde_json::Map::new();
    super::openapi::ogc_paths(&mut paths, &state.config.limits, &snap.fixed.subdistricts);
    super::openapi::root_paths(&mut paths, &base.0);
    super::openapi_api::api_paths(&mut paths, &base.0);
    let mut body = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "renewal-map OGC API – Features and Tiles",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Errors are JSON {\"error\", \"message\"}. Paths are relative to /ogc unless they name their own server.",
        },
        "servers": [{"url": format!("{base}/ogc")}],
        "paths": paths,
        "components": super::openapi::components(),
    });
    super::ogc_write::add_write_operations(&mut body);
    Ok(([(header::CONTENT_TYPE, OPENAPI)], Json(body)).into_response())
}

/// Whether `Accept` ranks `text/html` above JSON (a browser), ignoring `*/*`.
fn prefers_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()) else {
        return false;
    };
    let q = |media: &str| -> f32 {
        accept
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let m = it.next()?.trim();
                (m == media).then(|| {
                    it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse().ok()))
                        .unwrap_or(1.0)
                })
            })
            .fold(0.0, f32::max)
    };
    let html = q("text/html");
    html > 0.0
        && html
            >= q("application/json")
                .max(q(OPENAPI))
                .max(q("application/vnd.oai.openapi+json"))
}
