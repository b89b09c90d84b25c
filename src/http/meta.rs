//! `GET /api/meta`: what the map page needs to know and must not copy: status and kind
//! labels in both languages, the status palette, the moves each role may make (computed from
//! the lifecycle rules in `model::transition`, not restated), request limits, the data set's
//! provenance and its notice, the names of places in both languages, and the data set's time
//! zone (`time_zone`, from `plan.json`, default `Asia/Shanghai`) in which the page shows times.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::Params;
use crate::model::{
    BaseKind, MAX_NOTE_CHARS, Programme, RenewalKind, RenewalStatus, Role, Site, SitePatch,
    Timestamp, apply_patch,
};
use crate::tiles::MAX_ZOOM;
use crate::tiles::encode::site_layer;

/// Background of the map page; every status colour has at least 3:1 contrast against it and
/// against [`DISTRICT_FILL`] (checked by the browser palette test).
pub const BACKGROUND: &str = "#f3f0e8";
/// Fill of the district area the sites are drawn on.
pub const DISTRICT_FILL: &str = "#fffdf7";
/// Outline of sites that are late; lateness is also drawn as a dashed ring (a second
/// channel), so it never depends on colour alone.
pub const LATE_OUTLINE: &str = "#000000";

/// Colour of each status. Chosen from Okabe–Ito hues and adjusted so that any two differ by
/// CIEDE2000 ≥ 10 under normal vision and Machado (2009) deuteranopia and protanopia
/// simulation, and each has ≥ 3:1 contrast against [`BACKGROUND`] and [`DISTRICT_FILL`].
pub fn status_color(s: RenewalStatus) -> &'static str {
    match s {
        RenewalStatus::Planned => "#85767a",
        RenewalStatus::Design => "#775774",
        RenewalStatus::Tendering => "#0053c9",
        RenewalStatus::UnderConstruction => "#c24f00",
        RenewalStatus::Completed => "#286648",
        RenewalStatus::Accepted => "#00172e",
        RenewalStatus::Suspended => "#222222",
    }
}

/// The English label of a status.
pub fn status_label_en(s: RenewalStatus) -> &'static str {
    match s {
        RenewalStatus::Planned => "Planned",
        RenewalStatus::Design => "Design",
        RenewalStatus::Tendering => "Tendering",
        RenewalStatus::UnderConstruction => "Under construction",
        RenewalStatus::Completed => "Completed",
        RenewalStatus::Accepted => "Accepted",
        RenewalStatus::Suspended => "Suspended",
    }
}

/// The English label of a kind of site.
pub fn kind_label_en(k: RenewalKind) -> &'static str {
    match k {
        RenewalKind::Road => "Road renewal",
        RenewalKind::RoadOpening => "Road opening",
        RenewalKind::LogisticsRoad => "Logistics road",
        RenewalKind::Alley => "Back street or alley",
        RenewalKind::Compound => "Old residential compound",
        RenewalKind::PocketPark => "Pocket park",
        RenewalKind::Plaza => "Plaza",
    }
}

fn programme_labels(p: Programme) -> (&'static str, &'static str) {
    match p {
        Programme::Construction => ("建设类", "Construction"),
        Programme::Maintenance => ("维护类", "Maintenance"),
    }
}

/// Per role, per current status: the statuses it may move a site to and whether the move
/// needs a reason. Worked out by running the lifecycle rules on `template` (any site), so the
/// page offers exactly what the server accepts.
fn moves(template: &Site) -> Value {
    let now = Timestamp::from_unix(0);
    let mut out = serde_json::Map::new();
    for role in Role::ALL {
        let mut by_from = serde_json::Map::new();
        for from in RenewalStatus::ALL {
            let mut site = template.clone();
            site.status = from;
            site.progress = if from.is_done() { 100 } else { 0 };
            let mut list = Vec::new();
            for to in RenewalStatus::ALL.into_iter().filter(|&to| to != from) {
                let mut patch = SitePatch {
                    status: Some(to),
                    ..SitePatch::default()
                };
                if apply_patch(&site, &patch, role, now).is_ok() {
                    list.push(json!({"to": to, "reason": false}));
                    continue;
                }
                patch.reason = Some("reason".to_owned());
                if apply_patch(&site, &patch, role, now).is_ok() {
                    list.push(json!({"to": to, "reason": true}));
                }
            }
            by_from.insert(from.as_str().to_owned(), Value::Array(list));
        }
        out.insert(role.as_str().to_owned(), Value::Object(by_from));
    }
    Value::Object(out)
}

pub(super) async fn meta(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&[])?;
    let snap = state.current();
    let fixed = &snap.fixed;
    let limits = &state.config.limits;
    let district = fixed.base.iter().find(|b| b.kind == BaseKind::District);
    let statuses: Vec<Value> = RenewalStatus::ALL
        .iter()
        .map(|&s| {
            json!({
                "id": s, "label": {"zh": s.label_zh(), "en": status_label_en(s)},
                "done": s.is_done(), "stage": s.stage(), "color": status_color(s),
            })
        })
        .collect();
    let kinds: Vec<Value> = RenewalKind::ALL
        .iter()
        .map(|&k| {
            json!({
                "id": k, "label": {"zh": k.label_zh(), "en": kind_label_en(k)},
                "source_layer": site_layer(k), "linear": k.is_linear(),
                "target": fixed.plan.targets.get(&k),
            })
        })
        .collect();
    let programmes: Vec<Value> = fixed
        .plan
        .programmes
        .iter()
        .map(|p| {
            let (zh, en) = programme_labels(p.programme);
            json!({"id": p.programme, "label": {"zh": zh, "en": en}})
        })
        .collect();
    let subdistricts: Vec<Value> = fixed
        .subdistricts
        .iter()
        .map(|s| json!({"code": s.code, "name": s.name, "name_en": s.name_en}))
        .collect();
    let layers: BTreeMap<&str, bool> = fixed
        .provenance
        .layers
        .iter()
        .map(|(id, l)| (id.as_str(), l.geometry.is_illustrative()))
        .collect();
    Ok(Json(json!({
        "district": {
            "code": fixed.plan.district_code,
            "name": fixed.plan.district_name,
            "name_en": district.and_then(|d| d.name_en.clone()),
        },
        "today": state.config.today().to_string(),
        "time_zone": fixed.plan.time_zone(),
        "provenance": fixed.provenance,
        "illustrative": {
            "any": fixed.provenance.has_illustrative(),
            "geometry": layers,
            "site_fields": fixed.provenance.layer("sites").map(|l| l.illustrative_fields().collect::<Vec<_>>()).unwrap_or_default(),
        },
        "statuses": statuses,
        "kinds": kinds,
        "programmes": programmes,
        "subdistricts": subdistricts,
        "moves": snap.sites.first().map_or(Value::Null, |s| moves(s)),
        "limits": {
            "max_note_chars": MAX_NOTE_CHARS,
            "max_page": limits.max_page,
            "default_page": limits.default_page,
            "max_nearest": limits.max_nearest,
            "default_nearest": limits.default_nearest,
            "max_body_bytes": limits.max_body_bytes,
            "max_zoom": MAX_ZOOM,
            "max_photo_bytes": crate::photos::MAX_PHOTO_BYTES,
            "max_photos_per_site": crate::photos::MAX_PHOTOS_PER_SITE,
            "max_photos_per_update": crate::model::MAX_PHOTOS_PER_UPDATE,
            "photo_types": ["image/jpeg", "image/png", "image/webp"],
            "max_photo_side_px": crate::photos::MAX_SIDE_PX,
            "max_photo_pixels": crate::photos::MAX_PIXELS,
            "max_position_accuracy_m": crate::model::MAX_ACCURACY_M,
        },
        "palette": {
            "background": BACKGROUND,
            "district_fill": DISTRICT_FILL,
            "late_outline": LATE_OUTLINE,
        },
        "distance": {
            "method": "straight_line",
            "about": "distance_m: geodesic distance on the WGS84 ellipsoid from the point to the park's edge; walk_m and walk_min: along the data set's street network (null where it does not reach the park)",
            "label": {"zh": "直线距离", "en": "straight-line distance"},
            "walking_minutes": true,
        },
        "park_service_radii_m": fixed.plan.park_service_radii_m,
    })))
}
