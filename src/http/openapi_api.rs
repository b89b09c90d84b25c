//! The OpenAPI paths of the JSON API beyond the first read routes: walking access, the event
//! stream, exports, the signed-in account, data-set metadata, site versions, the progress
//! timeline, the MapLibre style and the field teams' status update, plus `as_of` and the
//! walking options on the routes `openapi::root_paths` describes.

use serde_json::{Map, Value, json};

use super::access::{MAX_RADIUS_M, MAX_RANKED};
use super::openapi::{error_ref, get, object, path_param, query, responses};

/// The `as_of` parameter: a past instant of the map (RFC 3339 date or date-time).
fn as_of() -> Value {
    query(
        super::as_of::AS_OF,
        "The map as it stood at this instant (RFC 3339 date or date-time, not before the store was seeded, not in the future)",
        json!({"type": "string"}),
    )
}

/// Adds `as_of` to the GET of `path`, if the path is there.
fn add_as_of(paths: &mut Map<String, Value>, path: &str) {
    if let Some(list) = paths
        .get_mut(path)
        .and_then(|p| p["get"]["parameters"].as_array_mut())
    {
        list.push(as_of());
    }
}

/// Completes the root paths: the routes and parameters `root_paths` leaves out.
pub(super) fn api_paths(paths: &mut Map<String, Value>, base: &str) {
    for path in ["/tiles/{z}/{x}/{y}.mvt", "/tiles.json", "/api/stats"] {
        add_as_of(paths, path);
    }
    if let Some(list) = paths
        .get_mut("/api/parks/nearest")
        .and_then(|p| p["get"]["parameters"].as_array_mut())
    {
        list.push(query(
            "order",
            "distance (straight line, the default) or walk (along the pedestrian network)",
            json!({"type": "string", "enum": ["distance", "walk"]}),
        ));
        list.push(query(
            "route",
            "true: each park's walking route as a GeoJSON LineString",
            json!({"type": "string", "enum": ["true", "false"]}),
        ));
        list.push(as_of());
    }
    if let Some(item) = paths.get_mut("/api/sites/{id}") {
        item["patch"] = status_update();
    }
    super::openapi_photos::photo_paths(paths, base);
    let root = json!([{"url": base}]);
    let mut add = |path: &str, mut item: Value| {
        item["servers"] = root.clone();
        paths.insert(path.into(), item);
    };
    add("/api/access", access());
    add("/api/access/next-parks", next_parks());
    add("/api/events", events());
    add("/api/export/{file}", export());
    add(
        "/api/me",
        get(
            "The signed-in account: name, role and assigned sites",
            "me",
            vec![],
            with_auth(responses("Account", "application/json", object())),
        ),
    );
    add(
        "/api/meta",
        get(
            "The data set: what is real and what is illustrative, sources, licences, limits, labels, its time zone (`time_zone`, IANA name, default Asia/Shanghai)",
            "meta",
            vec![],
            responses("Metadata", "application/json", object()),
        ),
    );
    add(
        "/api/sites/{id}/versions/{version}",
        get(
            "One stored version of a site, geometry and properties",
            "siteVersion",
            vec![
                path_param("id", "Site id", json!({"type": "string"})),
                path_param(
                    "version",
                    "Version number",
                    json!({"type": "integer", "minimum": 1}),
                ),
            ],
            responses("GeoJSON Feature", super::ogc::GEOJSON, object()),
        ),
    );
    add(
        "/api/stats/timeline",
        get(
            "Sites completed and started per month, per kind, against the plan",
            "timeline",
            vec![],
            responses("Timeline", "application/json", object()),
        ),
    );
    add(
        "/style.json",
        get(
            "The page's MapLibre style (spec v8) with absolute, proxy-correct URLs",
            "style",
            vec![],
            responses("MapLibre style", "application/json", object()),
        ),
    );
}

/// The radius and method parameters of the access routes.
fn method_and_radius() -> Vec<Value> {
    vec![
        query(
            "method",
            "network (walking, the default), straight (straight line) or indicator (城市体检 service radius by park size)",
            json!({"type": "string", "enum": ["network", "straight", "indicator"]}),
        ),
        query(
            "radius",
            &format!(
                "Comma list of radii in metres, each above 0 and at most {MAX_RADIUS_M} (not with indicator)"
            ),
            json!({"type": "string"}),
        ),
    ]
}

fn access() -> Value {
    let mut params = method_and_radius();
    params.push(query(
        "route",
        "true: each compound's walking route to its nearest open park",
        json!({"type": "string", "enum": ["true", "false"]}),
    ));
    params.push(query(
        "compounds",
        "false: leave out the per-compound list",
        json!({"type": "string", "enum": ["true", "false"]}),
    ));
    get(
        "Share of compounds and households within reach of an open park, district and per sub-district",
        "access",
        params,
        responses("Access figures", "application/json", object()),
    )
}

fn next_parks() -> Value {
    let mut params = method_and_radius();
    params.push(query(
        "limit",
        "How many ranked parks",
        json!({"type": "integer", "minimum": 1, "maximum": MAX_RANKED}),
    ));
    get(
        "Parks not yet open, ranked by the households each would newly bring within reach",
        "nextParks",
        params,
        responses("Ranking", "application/json", object()),
    )
}

fn events() -> Value {
    let mut r = responses(
        "Server-sent events, one per accepted change",
        "text/event-stream",
        json!({"type": "string"}),
    );
    r["503"] = json!({"description": "Too many open event streams; try again later", "content": error_ref()});
    get(
        "Changes pushed to open maps (Server-Sent Events; Last-Event-ID or since resumes)",
        "events",
        vec![
            query(
                "since",
                "Resume after this sequence number",
                json!({"type": "integer", "minimum": 0}),
            ),
            json!({"name": "Last-Event-ID", "in": "header", "required": false,
                "description": "Resume after this sequence number", "schema": {"type": "string"}}),
        ],
        r,
    )
}

fn export() -> Value {
    let mut params = vec![path_param(
        "file",
        "sites.csv, sites.xlsx (a 城市体检 problem ledger) or sites.geojson",
        json!({"type": "string", "enum": ["sites.csv", "sites.xlsx", "sites.geojson"]}),
    )];
    for name in super::extract::FILTER_PARAMS {
        params.push(query(name, "Site filter", json!({"type": "string"})));
    }
    params.push(query(
        "lang",
        "Column headers: zh (the default) or en",
        json!({"type": "string", "enum": ["zh", "en"]}),
    ));
    get(
        "Every site (no page cap) with the items' filters",
        "exportSites",
        params,
        json!({
            "200": {"description": "The file", "content": {
                "text/csv": {"schema": {}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {}},
                "application/geo+json": {"schema": {}},
            }},
            "400": {"description": "Bad request", "content": error_ref()},
            "404": {"description": "Unknown file", "content": error_ref()},
            "405": {"description": "Method not allowed: this path takes GET and HEAD", "content": error_ref()},
        }),
    )
}

/// `responses` plus the answers of a route that needs a bearer token.
pub(super) fn with_auth(mut r: Value) -> Value {
    r["401"] = json!({"description": "No valid bearer token", "content": error_ref()});
    r["429"] = json!({"description": "Too many failed tokens from this address; Retry-After says when to try again", "content": error_ref()});
    r["503"] = json!({"description": "The shared database (PostgreSQL) cannot be reached (store_unavailable); nothing was written; Retry-After says when to try again", "content": error_ref()});
    r
}

/// `PATCH /api/sites/{id}`: the field teams' status and progress update.
fn status_update() -> Value {
    let mut r = with_auth(responses(
        "Updated; the new ETag",
        super::ogc::GEOJSON,
        object(),
    ));
    r["403"] =
        json!({"description": "The account may not update this site", "content": error_ref()});
    r["412"] = json!({"description": "If-Match is stale; ETag carries the current version", "content": error_ref()});
    r["413"] = json!({"description": "Body larger than the limit", "content": error_ref()});
    r["422"] = json!({"description": "A lifecycle rule, or a photo or position that does not pass (unknown_photo, photo_already_attached, position_out_of_range, …); nothing was written", "content": error_ref()});
    r["428"] = json!({"description": "If-Match is required", "content": error_ref()});
    r["507"] = json!({"description": "The store cannot be written (disk full or read-only); nothing was written", "content": error_ref()});
    r["405"] = json!({"description": "Method not allowed: this path takes GET, HEAD and PATCH", "content": error_ref()});
    let mut body = json!({
        "summary": "Update a site's status, progress or note, attach photos (field teams and planners)",
        "operationId": "updateSiteStatus",
        "parameters": [
            path_param("id", "Site id", json!({"type": "string"})),
            {"name": "If-Match", "in": "header", "required": true,
             "description": "The site's ETag as last read", "schema": {"type": "string"}},
            {"name": "Idempotency-Key", "in": "header", "required": false,
             "description": "A client-made key (1–255 visible ASCII characters, e.g. a UUID): a repeat by the same account is answered with the original result (header Idempotent-Replayed: true) and not applied again; the same key with another body is 422",
             "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}},
        ],
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "status": {"type": "string"},
                "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                "note": {"type": "string"},
                "reason": {"type": "string", "description": "Why (kept in the history)"},
                "planned_start": {"type": "string", "format": "date", "description": "Planners only"},
                "planned_finish": {"type": "string", "format": "date", "description": "Planners only"},
                "investment_wan": {"type": "number", "description": "Planners only, 万元"},
            },
        }}}},
        "responses": r,
    });
    let props = &mut body["requestBody"]["content"]["application/json"]["schema"]["properties"];
    for (name, schema) in super::openapi_photos::evidence_properties() {
        props[name] = schema;
    }
    body
}
