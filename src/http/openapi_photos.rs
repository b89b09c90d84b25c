//! The OpenAPI paths of field photos (issue 13) and the evidence fields of a status update.

use serde_json::{Map, Value, json};

use super::openapi::{error_ref, get, path_param, responses};
use super::openapi_api::with_auth;
use crate::model::{MAX_ACCURACY_M, MAX_PHOTOS_PER_UPDATE};
use crate::photos::{MAX_PHOTO_BYTES, MAX_PHOTOS_PER_SITE, MAX_PIXELS, MAX_SIDE_PX};

/// The schema of a photo record.
fn record() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the uploaded bytes"},
            "site_id": {"type": "string"},
            "url": {"type": "string"},
            "thumbnail_url": {"type": "string"},
            "content_type": {"type": "string", "enum": ["image/jpeg", "image/png", "image/webp"]},
            "bytes": {"type": "integer", "description": "Size of the served image"},
            "upload_bytes": {"type": "integer", "description": "Size of the upload"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "taken_at": {"type": "string", "format": "date-time", "nullable": true,
                "description": "EXIF DateTimeOriginal in UTC; local time read as Asia/Shanghai (UTC+8) unless OffsetTimeOriginal says otherwise"},
            "location": {"type": "object", "nullable": true, "description": "EXIF GPS position (WGS84)",
                "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}}},
            "uploaded_at": {"type": "string", "format": "date-time"},
            "uploaded_by": {"type": "object", "properties": {"name": {"type": "string"}, "role": {"type": "string"}}},
            "change_seq": {"type": "integer", "nullable": true, "description": "The change it is attached to"},
        },
    })
}

fn photo_id_param() -> Value {
    path_param(
        "id",
        "Photo id (64 hex digits)",
        json!({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
    )
}

fn bytes_of(what: &str, operation: &str, media: Value) -> Value {
    let mut r = responses(
        what,
        "image/jpeg",
        json!({"type": "string", "format": "binary"}),
    );
    r["200"]["content"] = media;
    r["200"]["headers"] = json!({
        "ETag": {"schema": {"type": "string"}},
        "Cache-Control": {"schema": {"type": "string"}, "description": "public, max-age=31536000, immutable"},
    });
    r["304"] = json!({"description": "If-None-Match names this ETag"});
    get(
        &format!("{what}, with every metadata field stripped"),
        operation,
        vec![photo_id_param()],
        r,
    )
}

fn upload() -> Value {
    let mut r = with_auth(json!({
        "201": {"description": "Stored; Location is the image URL", "content": {"application/json": {"schema": record()}}},
        "200": {"description": "The same bytes were uploaded to this site before: that record", "content": {"application/json": {"schema": record()}}},
        "400": {"description": "A malformed site id", "content": error_ref()},
        "403": {"description": "The account may not update this site (rule outside_assignment, role_cannot_edit)", "content": error_ref()},
        "404": {"description": "Unknown site", "content": error_ref()},
    }));
    r["409"] = json!({"description": format!("photo_limit_reached (a site holds at most {MAX_PHOTOS_PER_SITE}) or photo_on_other_site (these bytes are another site's photo)"), "content": error_ref()});
    r["413"] = json!({"description": format!("photo_too_large: over {MAX_PHOTO_BYTES} bytes"), "content": error_ref()});
    r["415"] = json!({"description": "unsupported_photo_type: not JPEG, PNG or WebP by content", "content": error_ref()});
    r["422"] = json!({"description": format!("photo_too_many_pixels (over {MAX_SIDE_PX} px a side or {MAX_PIXELS} px in all) or photo_unreadable (truncated, corrupt)"), "content": error_ref()});
    r["507"] = json!({"description": "The store cannot be written; nothing was stored", "content": error_ref()});
    json!({
        "summary": "Upload a photo as evidence for a site (field teams on their sites, planners anywhere)",
        "description": "The body is the image bytes (not multipart). The type is decided by content; Content-Type is only recorded. EXIF time and GPS position are read into the record; the served image and thumbnail carry no metadata.",
        "operationId": "uploadSitePhoto",
        "parameters": [path_param("id", "Site id", json!({"type": "string"}))],
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/webp": {"schema": {"type": "string", "format": "binary"}},
        }},
        "responses": r,
    })
}

/// Adds the photo routes.
pub(super) fn photo_paths(paths: &mut Map<String, Value>, base: &str) {
    let root = json!([{"url": base}]);
    let mut add = |path: &str, mut item: Value| {
        item["servers"] = root.clone();
        paths.insert(path.into(), item);
    };
    let mut list = get(
        "A site's photos, oldest first",
        "sitePhotos",
        vec![path_param("id", "Site id", json!({"type": "string"}))],
        responses(
            "Photos",
            "application/json",
            json!({"type": "object", "properties": {
                "site": {"type": "string"},
                "photos": {"type": "array", "items": record()},
            }}),
        ),
    );
    list["post"] = upload();
    add("/api/sites/{id}/photos", list);
    let binary = json!({"type": "string", "format": "binary"});
    add(
        "/api/photos/{id}",
        bytes_of(
            "A photo",
            "photo",
            json!({"image/jpeg": {"schema": binary}, "image/png": {"schema": binary}, "image/webp": {"schema": binary}}),
        ),
    );
    add(
        "/api/photos/{id}/thumbnail",
        bytes_of(
            "A photo's thumbnail (JPEG, longest side 320 px)",
            "photoThumbnail",
            json!({"image/jpeg": {"schema": binary}}),
        ),
    );
}

/// The `photos` and `position` properties of a status update's body.
pub(super) fn evidence_properties() -> [(&'static str, Value); 2] {
    [
        (
            "photos",
            json!({"type": "array", "maxItems": MAX_PHOTOS_PER_UPDATE, "uniqueItems": true,
                "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "description": "Ids of photos uploaded to this site and not attached yet (422 unknown_photo, photo_already_attached); photos alone make an update"}),
        ),
        (
            "position",
            json!({"type": "object", "additionalProperties": false, "required": ["lon", "lat"],
            "description": "The device's position (WGS84), recorded in the history; 422 position_out_of_range, accuracy_out_of_range",
            "properties": {
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "accuracy_m": {"type": "number", "minimum": 0, "maximum": MAX_ACCURACY_M},
            }}),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_photo_route_is_described() {
        let mut paths = Map::new();
        photo_paths(&mut paths, "http://x");
        assert!(paths["/api/sites/{id}/photos"]["post"]["responses"]["415"].is_object());
        assert!(paths["/api/photos/{id}"]["get"]["responses"]["304"].is_object());
        assert!(paths["/api/photos/{id}/thumbnail"]["get"].is_object());
    }
}
