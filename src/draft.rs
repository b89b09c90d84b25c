//! A planner's draft of a site: a GeoJSON Feature sent to OGC API – Features Part 4 → a
//! [`Site`], with every check, so nothing invalid reaches the write service.
//!
//! Checks, each a [`DraftError`] naming the problem: the body is a Feature; its geometry type
//! fits the collection (roads: LineString/MultiLineString; compounds, parks, plazas:
//! Polygon/MultiPolygon); rings are closed, the geometry is valid (no self-intersection, no
//! degenerate parts), has at most [`MAX_VERTICES`] positions, uses CRS84 longitude/latitude,
//! and lies inside the district outline (every position within [`OUTLINE_TOLERANCE_M`] of
//! it); a park's area is within the configured range; `name`, `kind` (one of the
//! collection's) and `status` are present, and no property is unknown. Depends on `model`,
//! `load` (the data file's geometry checks) and `snapshot` (outline, sub-districts, plan).
//! [`WRITABLE`] lists the properties a draft may set; [`DERIVED`] the ones the service
//! computes, accepted and ignored so that a feature read with GET can be sent back.

use geo::{Contains, Coord, CoordsIter, Geometry, InteriorPoint, Point};
use serde_json::{Map, Value, json};

use crate::load::{check_site_geometry, measures, raw_rings_closed};
use crate::model::{
    BaseKind, Compound, Date, GeometryBasis, Programme, RenewalKind, RenewalStatus, Site,
    SiteDetail, SiteId, Timestamp,
};
use crate::snapshot::Snapshot;

/// Most positions a site geometry may have (64 KiB bodies hold about 2,500).
pub const MAX_VERTICES: usize = 2_000;

/// How far outside the district outline a position may lie, in metres (digitising slack).
pub const OUTLINE_TOLERANCE_M: f64 = 25.0;

/// How far past an outline's bounds a position is still checked against it, in Web Mercator
/// unit-square units (about 300 m at 41° N; far more than [`OUTLINE_TOLERANCE_M`] anywhere
/// below 85° latitude, where the unit shrinks by cos(latitude)).
const OUTLINE_MARGIN: f64 = 1e-5;

/// Properties a draft may set.
pub const WRITABLE: &[&str] = &[
    "name",
    "name_en",
    "kind",
    "status",
    "progress",
    "investment_wan",
    "programme",
    "project_id",
    "planned_start",
    "planned_finish",
    "note",
    "geometry_basis",
    "subdistrict_code",
    "households",
    "built_year",
    "community",
    "community_code",
];

/// Properties the service computes; a draft may carry them (as read), they are ignored.
pub const DERIVED: &[&str] = &[
    "fid",
    "kind_label",
    "status_label",
    "late",
    "version",
    "updated_at",
    "area_m2",
    "length_m",
    "open",
    "subdistrict",
];

/// What is wrong with a draft.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DraftError {
    /// Machine-readable code, e.g. `outside_district`.
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// Whether the body was malformed (400) rather than well-formed but unacceptable (422).
    pub malformed: bool,
}

fn bad(code: &'static str, message: impl Into<String>) -> DraftError {
    DraftError {
        code,
        message: message.into(),
        malformed: true,
    }
}

fn refused(code: &'static str, message: impl Into<String>) -> DraftError {
    DraftError {
        code,
        message: message.into(),
        malformed: false,
    }
}

/// The rules a draft is checked against, besides the snapshot's outline and plan.
#[derive(Debug, Clone, Copy)]
pub struct DraftRules<'a> {
    /// The kinds the collection holds.
    pub kinds: &'a [RenewalKind],
    /// The collection's id, for messages.
    pub collection: &'a str,
    /// Smallest and largest pocket-park area in m².
    pub park_area_m2: (f64, f64),
    /// The date defaults are taken from.
    pub today: Date,
}

/// A site as a draft (the writable properties only): what a merge patch applies to.
pub fn draft_of(site: &Site) -> Value {
    let mut p = Map::new();
    p.insert("name".into(), json!(site.name));
    p.insert("name_en".into(), json!(site.name_en));
    p.insert("kind".into(), json!(site.kind.as_str()));
    p.insert("status".into(), json!(site.status.as_str()));
    p.insert("progress".into(), json!(site.progress));
    p.insert("investment_wan".into(), json!(site.investment_wan));
    p.insert("programme".into(), json!(site.programme.as_str()));
    p.insert("project_id".into(), json!(site.project_id));
    p.insert(
        "planned_start".into(),
        json!(site.planned_start.to_string()),
    );
    p.insert(
        "planned_finish".into(),
        json!(site.planned_finish.to_string()),
    );
    p.insert("note".into(), json!(site.note));
    p.insert("geometry_basis".into(), json!(site.basis.as_str()));
    p.insert("subdistrict_code".into(), json!(site.subdistrict_code));
    if let Some(c) = site.compound() {
        p.insert("households".into(), json!(c.households));
        p.insert("built_year".into(), json!(c.built_year));
        p.insert("community".into(), json!(c.community));
        p.insert("community_code".into(), json!(c.community_code));
    }
    let record = crate::load::site_record(site);
    json!({"type": "Feature", "id": site.id.as_str(), "geometry": record["geometry"], "properties": p})
}

/// Applies an RFC 7396 JSON merge patch to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The id a draft names (`"id"` member), if any; 400 when it is not a well-formed site id.
pub fn draft_id(draft: &Value) -> Result<Option<SiteId>, DraftError> {
    match draft.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if SiteId::is_well_formed(s) => Ok(Some(SiteId(s.clone()))),
        Some(_) => Err(bad(
            "invalid_id",
            "id must be a string of 1-64 letters, digits, - or _",
        )),
    }
}

/// Checks `draft` against `rules` and the snapshot's outline, sub-districts and plan and
/// builds the site it describes. Id, fid, version and `updated_at` are placeholders the write
/// service sets.
pub fn site_from_draft(
    draft: &Value,
    snap: &Snapshot,
    rules: DraftRules<'_>,
) -> Result<Site, DraftError> {
    let obj = draft
        .as_object()
        .ok_or_else(|| bad("not_a_feature", "the body must be a GeoJSON Feature object"))?;
    if obj.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(bad(
            "not_a_feature",
            "the body must be a GeoJSON Feature (\"type\": \"Feature\")",
        ));
    }
    if let Some(crs) = obj.get("crs") {
        let name = crs
            .pointer("/properties/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !is_crs84(name) {
            return Err(bad(
                "unsupported_crs",
                "coordinates must be CRS84 longitude/latitude (RFC 7946); drop the crs member",
            ));
        }
    }
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "type" | "id" | "geometry" | "properties" | "bbox" | "crs" | "links"
        ) {
            return Err(bad(
                "unknown_member",
                format!("unknown Feature member {key:?}"),
            ));
        }
    }
    let empty = Map::new();
    let props = match obj.get("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => &empty,
        Some(_) => return Err(bad("invalid_properties", "properties must be an object")),
    };
    for key in props.keys() {
        if !WRITABLE.contains(&key.as_str()) && !DERIVED.contains(&key.as_str()) {
            return Err(bad(
                "unknown_property",
                format!(
                    "unknown property {key:?}; writable: {}",
                    WRITABLE.join(", ")
                ),
            ));
        }
    }
    let name = req_str(props, "name")?;
    if name.chars().count() > 200 {
        return Err(refused(
            "invalid_property",
            "name is limited to 200 characters",
        ));
    }
    let name_en = opt_str(props, "name_en")?
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if name_en.is_some_and(|n| n.chars().count() > 200) {
        return Err(refused(
            "invalid_property",
            "name_en is limited to 200 characters",
        ));
    }
    let kind: RenewalKind = req_str(props, "kind")?
        .parse()
        .map_err(|e: crate::model::UnknownName| bad("invalid_property", e.to_string()))?;
    if !rules.kinds.contains(&kind) {
        return Err(refused(
            "kind_not_in_collection",
            format!(
                "kind {kind} does not belong in {}; expected one of: {}",
                rules.collection,
                rules
                    .kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let status: RenewalStatus = req_str(props, "status")?
        .parse()
        .map_err(|e: crate::model::UnknownName| bad("invalid_property", e.to_string()))?;
    let geometry = geometry_of(obj.get("geometry"), kind)?;
    let default_progress = if status.is_done() { 100 } else { 0 };
    let progress = opt_u64(props, "progress", 100)?.unwrap_or(default_progress) as u8;
    if status.is_done() && progress != 100 {
        return Err(refused(
            "progress_out_of_range",
            "a completed or accepted site has progress 100",
        ));
    }
    let investment_wan = match props.get("investment_wan") {
        None | Some(Value::Null) => 0.0,
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| bad("invalid_property", "investment_wan must be a number >= 0"))?,
    };
    let plan = &snap.fixed.plan;
    let programme = match opt_str(props, "programme")? {
        None => plan
            .programmes
            .first()
            .map_or(Programme::Construction, |p| p.programme),
        Some("construction") => Programme::Construction,
        Some("maintenance") => Programme::Maintenance,
        Some(_) => {
            return Err(bad(
                "invalid_property",
                "programme must be construction or maintenance",
            ));
        }
    };
    if !plan.programmes.iter().any(|p| p.programme == programme) {
        return Err(refused(
            "programme_not_in_plan",
            format!("programme {} is not in the plan", programme.as_str()),
        ));
    }
    let planned_start = opt_date(props, "planned_start")?.unwrap_or(rules.today);
    let planned_finish = opt_date(props, "planned_finish")?.unwrap_or(planned_start);
    if planned_finish < planned_start {
        return Err(refused(
            "invalid_plan_dates",
            "planned_finish is before planned_start",
        ));
    }
    let note = opt_str(props, "note")?.map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(refused(
            "invalid_property",
            "note is limited to 2000 characters",
        ));
    }
    let basis = match opt_str(props, "geometry_basis")? {
        None | Some("estimated") => GeometryBasis::Estimated,
        Some("real") => GeometryBasis::Real,
        Some("illustrative") => GeometryBasis::Illustrative,
        Some(_) => {
            return Err(bad(
                "invalid_property",
                "geometry_basis must be real, estimated or illustrative",
            ));
        }
    };
    inside_outline(&geometry, snap)?;
    let (area_m2, length_m) = measures(&geometry);
    if kind == RenewalKind::PocketPark {
        let (lo, hi) = rules.park_area_m2;
        if !(lo..=hi).contains(&area_m2) {
            return Err(refused(
                "park_area_out_of_range",
                format!(
                    "a pocket park covers {lo}-{hi} m² (the configured range); this one covers {area_m2:.0} m²"
                ),
            ));
        }
    }
    let (subdistrict_code, subdistrict) = subdistrict_of(props, &geometry, snap)?;
    let detail = if kind == RenewalKind::Compound {
        SiteDetail::Compound(Compound {
            households: req_u64(props, "households", 1_000_000)? as u32,
            built_year: req_u64(props, "built_year", 2100)? as u16,
            community: req_str(props, "community")?.to_owned(),
            community_code: req_str(props, "community_code")?.to_owned(),
        })
    } else {
        SiteDetail::None
    };
    Ok(Site {
        id: SiteId(String::new()),
        fid: 0,
        name: name.to_owned(),
        name_en: name_en.map(str::to_owned),
        kind,
        subdistrict,
        subdistrict_code,
        status,
        progress,
        investment_wan,
        programme,
        project_id: opt_str(props, "project_id")?.unwrap_or_default().to_owned(),
        planned_start,
        planned_finish,
        updated_at: Timestamp::from_unix(0),
        basis,
        detail,
        note,
        version: 0,
        geometry,
        area_m2,
        length_m,
    })
}

/// Whether a CRS name is CRS84 (OGC URI or URN, or EPSG:4326 read lon/lat as GeoJSON does).
pub fn is_crs84(name: &str) -> bool {
    let n = name.trim().trim_start_matches('<').trim_end_matches('>');
    matches!(
        n,
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
            | "urn:ogc:def:crs:OGC:1.3:CRS84"
            | "urn:ogc:def:crs:OGC::CRS84"
    )
}

fn geometry_of(raw: Option<&Value>, kind: RenewalKind) -> Result<Geometry<f64>, DraftError> {
    let raw = match raw {
        Some(g) if g.is_object() => g,
        _ => return Err(bad("missing_geometry", "the feature needs a geometry")),
    };
    let ty = raw.get("type").and_then(Value::as_str).unwrap_or("");
    let allowed: &[&str] = if kind.is_linear() {
        &["LineString", "MultiLineString"]
    } else {
        &["Polygon", "MultiPolygon"]
    };
    if !allowed.contains(&ty) {
        return Err(refused(
            "wrong_geometry_type",
            format!(
                "a {kind} needs a {} geometry, not {ty:?}",
                allowed.join(" or ")
            ),
        ));
    }
    if !raw_rings_closed(raw) {
        return Err(refused(
            "invalid_geometry",
            "polygon ring is not closed (first and last positions differ)",
        ));
    }
    let g: geojson::Geometry = serde_json::from_value(raw.clone())
        .map_err(|e| bad("invalid_geometry", format!("geometry does not parse: {e}")))?;
    let geometry = Geometry::<f64>::try_from(&g.value)
        .map_err(|e| bad("invalid_geometry", format!("geometry does not parse: {e}")))?;
    let n = geometry.coords_count();
    if n > MAX_VERTICES {
        return Err(refused(
            "too_many_vertices",
            format!("{n} positions; at most {MAX_VERTICES}"),
        ));
    }
    check_site_geometry(&geometry).map_err(|m| refused("invalid_geometry", m))?;
    Ok(geometry)
}

/// Every position lies inside the district outline or within the tolerance of it.
fn inside_outline(g: &Geometry<f64>, snap: &Snapshot) -> Result<(), DraftError> {
    if snap.base_of(BaseKind::District).next().is_none() {
        return Ok(());
    }
    for c in g.coords_iter() {
        let p = Point::from(c);
        // Only outlines whose bounds (grown well past the tolerance) hold the point can
        // contain it or lie within the tolerance: a data set of many districts checks few.
        let near = || snap.base_near(BaseKind::District, c.x, c.y, OUTLINE_MARGIN);
        let inside = near().any(|(_, o)| o.geometry.contains(&p));
        if !inside && near().all(|(_, o)| distance_m(&o.geometry, c) > OUTLINE_TOLERANCE_M) {
            return Err(refused(
                "outside_district",
                format!(
                    "position ({}, {}) lies outside the district outline (tolerance {OUTLINE_TOLERANCE_M} m); coordinates are longitude, latitude",
                    c.x, c.y
                ),
            ));
        }
    }
    Ok(())
}

/// Distance in metres from `c` to the nearest point of `outline`.
fn distance_m(outline: &Geometry<f64>, c: Coord<f64>) -> f64 {
    use geo::{ClosestPoint, Distance, Haversine};
    let p = Point::from(c);
    match outline.closest_point(&p) {
        geo::Closest::Intersection(q) | geo::Closest::SinglePoint(q) => Haversine.distance(p, q),
        geo::Closest::Indeterminate => f64::INFINITY,
    }
}

fn subdistrict_of(
    props: &Map<String, Value>,
    g: &Geometry<f64>,
    snap: &Snapshot,
) -> Result<(String, String), DraftError> {
    let subs = &snap.fixed.subdistricts;
    if let Some(code) = opt_str(props, "subdistrict_code")? {
        return subs
            .iter()
            .find(|s| s.code == code)
            .map(|s| (s.code.clone(), s.name.clone()))
            .ok_or_else(|| {
                refused(
                    "unknown_subdistrict",
                    format!("unknown subdistrict_code {code:?}"),
                )
            });
    }
    let at = match g {
        Geometry::LineString(l) if !l.0.is_empty() => Some(Point(l.0[l.0.len() / 2])),
        _ => g.interior_point(),
    };
    let found = at.and_then(|p| {
        snap.base_near(BaseKind::SubDistrict, p.x(), p.y(), 0.0)
            .find(|(_, b)| b.geometry.contains(&p))
            .and_then(|(_, b)| b.code.clone())
    });
    found
        .and_then(|code| subs.iter().find(|s| s.code == code))
        .map(|s| (s.code.clone(), s.name.clone()))
        .ok_or_else(|| {
            refused(
                "unknown_subdistrict",
                "the site lies in no sub-district; give subdistrict_code",
            )
        })
}

fn req_str<'a>(props: &'a Map<String, Value>, key: &'static str) -> Result<&'a str, DraftError> {
    match props.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        None | Some(Value::Null) => Err(bad(
            "missing_property",
            format!("property {key:?} is required"),
        )),
        Some(_) => Err(bad(
            "invalid_property",
            format!("property {key:?} must be a non-empty string"),
        )),
    }
}

fn opt_str<'a>(
    props: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a str>, DraftError> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(
            "invalid_property",
            format!("property {key:?} must be a string"),
        )),
    }
}

fn opt_u64(
    props: &Map<String, Value>,
    key: &'static str,
    max: u64,
) -> Result<Option<u64>, DraftError> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|n| *n <= max).map(Some).ok_or_else(|| {
            bad(
                "invalid_property",
                format!("property {key:?} must be an integer 0..={max}"),
            )
        }),
    }
}

fn req_u64(props: &Map<String, Value>, key: &'static str, max: u64) -> Result<u64, DraftError> {
    opt_u64(props, key, max)?.ok_or_else(|| {
        bad(
            "missing_property",
            format!("property {key:?} is required for this kind"),
        )
    })
}

fn opt_date(props: &Map<String, Value>, key: &'static str) -> Result<Option<Date>, DraftError> {
    opt_str(props, key)?
        .map(|s| {
            s.parse::<Date>()
                .map_err(|e| bad("invalid_property", format!("property {key:?}: {e}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
        let mut t = json!({"a": [1, 2]});
        merge_patch(&mut t, &json!({"a": [3]}));
        assert_eq!(t, json!({"a": [3]}));
        let mut t = json!({"a": 1});
        merge_patch(&mut t, &json!(["x"]));
        assert_eq!(t, json!(["x"]));
    }

    #[test]
    fn crs84_names() {
        assert!(is_crs84("http://www.opengis.net/def/crs/OGC/1.3/CRS84"));
        assert!(is_crs84("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"));
        assert!(!is_crs84("http://www.opengis.net/def/crs/EPSG/0/3857"));
    }
}
