//! Pieces of the OpenAPI 3.0 document that `ogc::api_definition` assembles: every read route,
//! one path per collection with exactly the parameters that collection takes, and the error
//! responses (400, 404, 405) every operation can give.

use serde_json::{Map, Value, json};

use super::ogc::{CRS84, GEOJSON, JSON_SCHEMA, OPENAPI, items_params};
use crate::config::Limits;
use crate::features::Collection;
use crate::filter_cql::FilterLang;
use crate::model::{RenewalStatus, SubDistrict};
use crate::tiles::MAX_ZOOM;

pub(super) fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "style": "form", "explode": false,
        "description": description, "schema": schema})
}

pub(super) fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

pub(super) fn error_ref() -> Value {
    json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}})
}

/// The responses of a GET: `200` with `media`, and the JSON errors.
pub(super) fn responses(description: &str, media: &str, schema: Value) -> Value {
    json!({
        "200": {"description": description, "content": {media: {"schema": schema}}},
        "400": {"description": "Bad request: a parameter that does not parse, is out of range or unknown", "content": error_ref()},
        "404": {"description": "Not found", "content": error_ref()},
        "405": {"description": "Method not allowed: this path takes GET and HEAD", "content": error_ref()},
    })
}

pub(super) fn get(
    summary: &str,
    operation: &str,
    parameters: Vec<Value>,
    responses: Value,
) -> Value {
    json!({"get": {"summary": summary, "operationId": operation, "parameters": parameters, "responses": responses}})
}

fn format_param() -> Value {
    query(
        "f",
        "Format: json (the only one served)",
        json!({"type": "string", "enum": ["json"]}),
    )
}

pub(super) fn object() -> Value {
    json!({"type": "object"})
}

/// Components shared by the paths: the error body.
pub fn components() -> Value {
    json!({"schemas": {"Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    }}})
}

/// The parameters of `c`'s items: only those it accepts.
fn items_parameters(c: Collection, limits: &Limits, subdistricts: &[SubDistrict]) -> Vec<Value> {
    let mut out = Vec::new();
    for name in items_params(c) {
        out.push(match name {
            "f" => format_param(),
            "limit" => query(
                "limit",
                "Page size; values above the maximum are served at the maximum",
                json!({"type": "integer", "minimum": 1, "maximum": limits.max_page, "default": limits.default_page}),
            ),
            "offset" => query(
                "offset",
                "Features to skip (paging; follow the next link)",
                json!({"type": "integer", "minimum": 0, "default": 0}),
            ),
            "bbox" => query(
                "bbox",
                "west,south,east,north in CRS84 degrees (6 numbers: heights ignored); west <= east, south <= north",
                json!({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number", "minimum": -180, "maximum": 180}}),
            ),
            "bbox-crs" => query("bbox-crs", "Only CRS84", json!({"type": "string", "enum": [CRS84]})),
            "filter" => query(
                "filter",
                "CQL2 filter over the queryables (see the queryables link of the collection)",
                json!({"type": "string"}),
            ),
            "filter-lang" => query(
                "filter-lang",
                "Encoding of filter (default cql2-text)",
                json!({"type": "string", "enum": FilterLang::NAMES, "default": "cql2-text"}),
            ),
            "filter-crs" => query("filter-crs", "Only CRS84", json!({"type": "string", "enum": [CRS84]})),
            "datetime" => query(
                "datetime",
                "Instant or interval (a/b, .. or nothing for an open end) of updated_at, the last change of status or progress; RFC 3339 with any offset, or dates",
                json!({"type": "string"}),
            ),
            "status" => query(
                "status",
                "Site statuses, comma separated",
                json!({"type": "array", "items": {"type": "string", "enum": RenewalStatus::ALL.map(|s| s.as_str())}}),
            ),
            "kind" => query(
                "kind",
                "Site kinds, comma separated",
                json!({"type": "array", "items": {"type": "string", "enum": c.site_kinds().unwrap_or_default().iter().map(|k| k.as_str()).collect::<Vec<_>>()}}),
            ),
            "subdistrict" => query(
                "subdistrict",
                "Sub-district code or name",
                json!({"type": "string", "enum": subdistricts.iter().flat_map(|s| [s.code.as_str(), s.name.as_str()]).collect::<Vec<_>>()}),
            ),
            "late" => query(
                "late",
                "Only sites past their planned finish and not done (true) or every site (false)",
                json!({"type": "boolean"}),
            ),
            "as_of" => query(
                "as_of",
                "The map as it stood at this RFC 3339 date or date-time (not before the store was seeded, not in the future)",
                json!({"type": "string"}),
            ),
            other => query(other, other, json!({"type": "string"})),
        });
    }
    out
}

fn tile_coords() -> Vec<Value> {
    vec![
        path_param(
            "tileMatrix",
            "Zoom level (0 to 22)",
            json!({"type": "string", "pattern": "^[0-9]{1,2}$"}),
        ),
        path_param(
            "tileRow",
            "Row, counted from the north",
            json!({"type": "integer", "minimum": 0}),
        ),
        path_param(
            "tileCol",
            "Column, counted from the west",
            json!({"type": "integer", "minimum": 0}),
        ),
    ]
}

/// The `f` parameter of the tile routes: MVT or MapLibre Tile.
fn tile_format_param() -> Value {
    query(
        "f",
        "Tile format: mvt (Mapbox Vector Tile, the default) or mlt (MapLibre Tile, the same \
         features converted from the MVT). Without f, Accept: application/vnd.maplibre-tile \
         (quality above 0 and at least that of application/vnd.mapbox-vector-tile; the first \
         1 KiB of the header is read) asks for MLT, and Vary names Accept",
        json!({"type": "string", "enum": ["mvt", "mlt"]}),
    )
}

fn tile_responses() -> Value {
    let binary = json!({"schema": {"type": "string", "format": "binary"}});
    let mut r = responses(
        "Mapbox Vector Tile, or MapLibre Tile when asked (f=mlt, the .mlt path or Accept); \
         Content-Encoding br, zstd or gzip as Accept-Encoding asks (q-values; brotli, zstd, gzip \
         among equals; the first 1 KiB of the header is read), Vary: Accept-Encoding (and Accept \
         when Accept chose the format), a strong ETag per format and encoding",
        "application/vnd.mapbox-vector-tile",
        json!({"type": "string", "format": "binary"}),
    );
    r["200"]["content"]["application/vnd.maplibre-tile"] = binary;
    r["204"] = json!({"description": "No feature in this tile"});
    r["304"] = json!({"description": "Not modified (If-None-Match)"});
    r
}

/// The OGC API paths (relative to `/ogc`).
pub fn ogc_paths(paths: &mut Map<String, Value>, limits: &Limits, subdistricts: &[SubDistrict]) {
    let json = "application/json";
    let f = || vec![format_param()];
    paths.insert(
        "/".into(),
        get(
            "Landing page",
            "getLandingPage",
            f(),
            responses("Landing page", json, object()),
        ),
    );
    paths.insert(
        "/conformance".into(),
        get(
            "Conformance classes",
            "getConformance",
            f(),
            responses("Conformance", json, object()),
        ),
    );
    paths.insert(
        "/api".into(),
        get(
            "This API definition (f=html: for people)",
            "getApi",
            vec![query(
                "f",
                "json or html",
                json!({"type": "string", "enum": ["json", "html"]}),
            )],
            {
                let mut r = responses("OpenAPI 3.0", OPENAPI, object());
                // f=html (or a browser's Accept) gets the page that renders the document.
                r["200"]["content"]["text/html"] = json!({"schema": {"type": "string"}});
                r
            },
        ),
    );
    paths.insert(
        "/collections".into(),
        get(
            "Collections",
            "getCollections",
            f(),
            responses("Collections", json, object()),
        ),
    );
    let fc = json!({"type": "object", "required": ["type", "features"], "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]}, "features": {"type": "array"}}});
    let feature = json!({"type": "object", "required": ["type", "geometry", "properties"], "properties": {"type": {"type": "string", "enum": ["Feature"]}}});
    for c in Collection::ALL {
        let id = c.id();
        let op = |what: &str| format!("{what}_{id}");
        paths.insert(
            format!("/collections/{id}"),
            get(
                c.title(),
                &op("describeCollection"),
                f(),
                responses("Collection", json, object()),
            ),
        );
        paths.insert(
            format!("/collections/{id}/items"),
            get(
                &format!("Features of {id}"),
                &op("getFeatures"),
                items_parameters(c, limits, subdistricts),
                responses("GeoJSON FeatureCollection", GEOJSON, fc.clone()),
            ),
        );
        let mut one = vec![path_param(
            "featureId",
            if c.holds_sites() {
                "Site id, e.g. park-001"
            } else {
                "Numeric id"
            },
            json!({"type": "string"}),
        )];
        one.extend(f());
        paths.insert(
            format!("/collections/{id}/items/{{featureId}}"),
            get(
                &format!("One feature of {id}"),
                &op("getFeature"),
                one,
                responses("GeoJSON Feature", GEOJSON, feature.clone()),
            ),
        );
        paths.insert(
            format!("/collections/{id}/queryables"),
            get(
                &format!("Queryables of {id}"),
                &op("getQueryables"),
                f(),
                responses("JSON Schema", JSON_SCHEMA, object()),
            ),
        );
        paths.insert(
            format!("/collections/{id}/schema"),
            get(
                &format!("Schema of {id}"),
                &op("getSchema"),
                f(),
                responses("JSON Schema", JSON_SCHEMA, object()),
            ),
        );
        paths.insert(
            format!("/collections/{id}/tiles"),
            get(
                &format!("Vector tilesets of {id}"),
                &op("getTileSets"),
                f(),
                responses("Tilesets", json, object()),
            ),
        );
        paths.insert(
            format!("/collections/{id}/tiles/WebMercatorQuad"),
            get(
                &format!("Vector tileset of {id}"),
                &op("getTileSet"),
                f(),
                responses("Tileset", json, object()),
            ),
        );
        paths.insert(
            format!(
                "/collections/{id}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
            ),
            get(
                &format!("A vector tile with the {id} layer only"),
                &op("getTile"),
                tile_coords()
                    .into_iter()
                    .chain([tile_format_param()])
                    .collect(),
                tile_responses(),
            ),
        );
    }
    paths.insert(
        "/tiles".into(),
        get(
            "Vector tilesets of the dataset",
            "getTileSets",
            f(),
            responses("Tilesets", json, object()),
        ),
    );
    paths.insert(
        "/tiles/WebMercatorQuad".into(),
        get(
            "Vector tileset of the dataset",
            "getTileSet",
            f(),
            responses("Tileset", json, object()),
        ),
    );
    let mut tile_params = tile_coords();
    for name in super::extract::FILTER_PARAMS {
        tile_params.push(query(
            name,
            "Site filter, as on /tiles",
            json!({"type": "string"}),
        ));
    }
    tile_params.push(query(
        "filter",
        "CQL2 filter over the sites' queryables",
        json!({"type": "string"}),
    ));
    tile_params.push(query(
        "filter-lang",
        "Encoding of filter",
        json!({"type": "string", "enum": FilterLang::NAMES}),
    ));
    tile_params.push(tile_format_param());
    paths.insert(
        "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}".into(),
        get(
            "A vector tile, every layer",
            "getTile",
            tile_params,
            tile_responses(),
        ),
    );
    paths.insert(
        "/tileMatrixSets".into(),
        get(
            "Tile matrix sets",
            "getTileMatrixSets",
            f(),
            responses("Tile matrix sets", json, object()),
        ),
    );
    paths.insert(
        "/tileMatrixSets/WebMercatorQuad".into(),
        get(
            "The WebMercatorQuad tile matrix set",
            "getTileMatrixSet",
            f(),
            responses("Tile matrix set", json, object()),
        ),
    );
}

/// The routes outside `/ogc`, each with its own server (the service root).
pub fn root_paths(paths: &mut Map<String, Value>, base: &str) {
    let json = "application/json";
    let root = json!([{"url": base}]);
    let mut add = |path: &str, mut item: Value| {
        item["servers"] = root.clone();
        paths.insert(path.into(), item);
    };
    let mut tile = vec![
        path_param(
            "z",
            "Zoom, 0 to 22",
            json!({"type": "integer", "minimum": 0, "maximum": MAX_ZOOM}),
        ),
        path_param("x", "Column", json!({"type": "integer", "minimum": 0})),
        path_param("y", "Row", json!({"type": "integer", "minimum": 0})),
    ];
    for name in super::extract::FILTER_PARAMS {
        tile.push(query(name, "Site filter", json!({"type": "string"})));
    }
    tile.push(query(
        "filter",
        "CQL2 filter over the sites' queryables",
        json!({"type": "string"}),
    ));
    tile.push(query(
        "filter-lang",
        "Encoding of filter",
        json!({"type": "string", "enum": FilterLang::NAMES}),
    ));
    let mlt_tile = tile.clone();
    tile.push(tile_format_param());
    add(
        "/tiles/{z}/{x}/{y}.mvt",
        get("A vector tile", "getMvt", tile, tile_responses()),
    );
    let mut mlt_responses = responses(
        "MapLibre Tile (the MVT's features, converted), coded as on the .mvt path; Vary: \
         Accept-Encoding; a strong ETag per encoding (\"<hash>-mlt…\")",
        "application/vnd.maplibre-tile",
        json!({"type": "string", "format": "binary"}),
    );
    mlt_responses["204"] = json!({"description": "No feature in this tile"});
    mlt_responses["304"] = json!({"description": "Not modified (If-None-Match)"});
    add(
        "/tiles/{z}/{x}/{y}.mlt",
        get(
            "A vector tile as MapLibre Tile (f=mvt here is a 400)",
            "getMlt",
            mlt_tile,
            mlt_responses,
        ),
    );
    add(
        "/tiles.json",
        get(
            "TileJSON 3.0.0. formats.mvt and formats.mlt give each format's tile URLs; \
             formats.sample the bytes of both over a sample of the data set's tiles (z12–16, \
             at most 25 tiles, in the request's Accept-Encoding coding) and formats.smaller \
             the smaller format. f=mlt puts the MLT URLs in tiles and adds encoding: mlt",
            "getTileJson",
            vec![query(
                "f",
                "The format of the URLs in tiles: mvt (default) or mlt",
                json!({"type": "string", "enum": ["mvt", "mlt"]}),
            )],
            responses("TileJSON", json, object()),
        ),
    );
    add(
        "/api/parks/nearest",
        get(
            "Pocket parks nearest a point (features), and existing green space imported from OpenStreetMap (green_space)",
            "nearestParks",
            vec![
                query(
                    "lon",
                    "Longitude",
                    json!({"type": "number", "minimum": -180, "maximum": 180}),
                ),
                query(
                    "lat",
                    "Latitude",
                    json!({"type": "number", "minimum": -90, "maximum": 90}),
                ),
                query(
                    "limit",
                    "How many",
                    json!({"type": "integer", "minimum": 1}),
                ),
                query(
                    "include",
                    "all: parks not yet open too",
                    json!({"type": "string", "enum": ["all"]}),
                ),
            ],
            responses("Nearest parks", json, object()),
        ),
    );
    add(
        "/api/stats",
        get(
            "Progress figures",
            "stats",
            vec![query(
                "late_as_of",
                "Date lateness is measured against",
                json!({"type": "string", "format": "date"}),
            )],
            responses("Figures", json, object()),
        ),
    );
    let site_id = || path_param("id", "Site id", json!({"type": "string"}));
    add(
        "/api/sites/{id}",
        get(
            "One site",
            "getSite",
            vec![site_id()],
            responses("GeoJSON Feature", GEOJSON, object()),
        ),
    );
    add(
        "/api/sites/{id}/history",
        get(
            "Every change of one site",
            "siteHistory",
            vec![site_id()],
            responses("History", json, object()),
        ),
    );
    add(
        "/api/changes",
        get(
            "Feed of all changes",
            "changes",
            vec![query(
                "since",
                "Sequence number",
                json!({"type": "integer", "minimum": 0}),
            )],
            responses("Changes", json, object()),
        ),
    );
    add(
        "/health",
        get(
            "Liveness and data generation",
            "health",
            vec![],
            responses("Health", json, object()),
        ),
    );
    add(
        "/metrics",
        get(
            "Prometheus metrics",
            "metrics",
            vec![],
            responses(
                "Prometheus text 0.0.4",
                "text/plain",
                json!({"type": "string"}),
            ),
        ),
    );
}
