//! Reads a district data set from a directory of RFC 7946 GeoJSON files (WGS84) and a plan
//! file into the domain [`Dataset`](crate::model::Dataset).
//!
//! Everything is checked here, once, at start-up: a bad file or feature stops the service
//! with a [`LoadError`] that names the file and the feature. Depends on `model` only.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use geo::{Geodesic, GeodesicArea, Geometry, Length};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

mod check;

use crate::model::{
    BaseFeature, BaseKind, Compound, Dataset, Date, GeometryBasis, Plan, Programme, Provenance,
    RenewalKind, RenewalStatus, Site, SiteDetail, SiteId, SubDistrict, Timestamp,
};

/// The files a data set directory holds.
pub mod files {
    /// The plan's targets (JSON).
    pub const PLAN: &str = "plan.json";
    /// District outline(s).
    pub const DISTRICT: &str = "district.geojson";
    /// Sub-district areas.
    pub const SUBDISTRICTS: &str = "subdistricts.geojson";
    /// Base street network.
    pub const STREETS: &str = "streets.geojson";
    /// Named landmark points.
    pub const LANDMARKS: &str = "landmarks.geojson";
    /// Renewal sites.
    pub const SITES: &str = "sites.geojson";
    /// Existing green space: parks, gardens, playgrounds (optional; `import osm`).
    pub const GREEN: &str = "green.geojson";
    /// Lakes, ponds, rivers and canals (optional; `import osm`).
    pub const WATER: &str = "water.geojson";
    /// Railway lines (optional; `import osm`).
    pub const RAILWAYS: &str = "railways.geojson";
    /// Building footprints (optional; `import osm --buildings`).
    pub const BUILDINGS: &str = "buildings.geojson";
    /// Seed, counts and provenance (optional).
    pub const MANIFEST: &str = "manifest.json";
}

/// Why a data set could not be loaded; always names the file and, where it applies, the feature.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not the JSON it should be.
    #[error("{file}: not valid JSON: {source}")]
    Json {
        /// The file.
        file: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A feature (or the file as a whole) breaks a rule.
    #[error("{file}: {feature}: {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Which feature: its id, or its position (`feature #3`), or `file`.
        feature: String,
        /// What is wrong.
        message: String,
    },
}

/// Loads and validates the data set in `dir`.
pub fn load_dataset(dir: &Path) -> Result<Dataset, LoadError> {
    let plan = load_plan(&dir.join(files::PLAN))?;
    let subdistrict_file = dir.join(files::SUBDISTRICTS);
    let mut base = Vec::new();
    let subdistricts = load_base(&subdistrict_file, BaseKind::SubDistrict, &mut base)?;
    load_base(&dir.join(files::DISTRICT), BaseKind::District, &mut base)?;
    load_base(&dir.join(files::STREETS), BaseKind::Street, &mut base)?;
    for (file, kind) in [
        (files::LANDMARKS, BaseKind::Landmark),
        (files::GREEN, BaseKind::GreenSpace),
        (files::WATER, BaseKind::Water),
        (files::RAILWAYS, BaseKind::Railway),
        (files::BUILDINGS, BaseKind::Building),
    ] {
        let path = dir.join(file);
        if path.exists() {
            load_base(&path, kind, &mut base)?;
        }
    }
    let sites = load_sites(&dir.join(files::SITES), &subdistricts, &plan)?;
    let provenance = load_provenance(&dir.join(files::MANIFEST))?;
    Ok(Dataset {
        plan,
        subdistricts,
        base,
        sites,
        provenance,
    })
}

/// The `provenance` of a data set's manifest; empty when there is no manifest or it says
/// nothing about provenance (an imported data set may have neither).
fn load_provenance(file: &Path) -> Result<Provenance, LoadError> {
    if !file.exists() {
        return Ok(Provenance::default());
    }
    match read_json(file)?.get("provenance") {
        None => Ok(Provenance::default()),
        Some(p) => serde_json::from_value(p.clone()).map_err(|e| invalid(file, "provenance", e)),
    }
}

fn read_text(file: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(file).map_err(|source| LoadError::Read {
        file: file.to_owned(),
        source,
    })
}

fn read_json(file: &Path) -> Result<Value, LoadError> {
    serde_json::from_str(&read_text(file)?).map_err(|source| LoadError::Json {
        file: file.to_owned(),
        source,
    })
}

fn load_plan(file: &Path) -> Result<Plan, LoadError> {
    let value = read_json(file)?;
    let plan: Plan = serde_json::from_value(value).map_err(|e| invalid(file, "plan", e))?;
    if plan
        .park_service_radii_m
        .iter()
        .any(|r| !(r.is_finite() && *r > 0.0))
    {
        return Err(invalid(
            file,
            "plan",
            "park_service_radii_m must be positive metres",
        ));
    }
    if plan
        .time_zone
        .as_deref()
        .is_some_and(|tz| !crate::model::is_time_zone_name(tz))
    {
        return Err(invalid(
            file,
            "plan",
            "time_zone must be an IANA time zone name such as Asia/Shanghai",
        ));
    }
    let programmes: HashSet<_> = plan.programmes.iter().map(|p| p.programme).collect();
    if programmes.len() != plan.programmes.len() {
        return Err(invalid(file, "plan", "a programme is listed twice"));
    }
    Ok(plan)
}

fn invalid(file: &Path, feature: impl Into<String>, message: impl ToString) -> LoadError {
    LoadError::Invalid {
        file: file.to_owned(),
        feature: feature.into(),
        message: message.to_string(),
    }
}

/// One parsed GeoJSON feature: its label for errors, its id, properties and geometry.
struct RawFeature {
    label: String,
    id: Option<String>,
    props: Map<String, Value>,
    geometry: Geometry<f64>,
}

/// The top level of a GeoJSON file with its features left as unparsed text: each feature is
/// parsed, checked and converted in turn, so a large file never sits in memory as one JSON
/// tree (at `generate --scale 100` that tree was several times the file's 16 MB).
#[derive(serde::Deserialize)]
struct RawCollection<'a> {
    #[serde(rename = "type")]
    kind: Option<Value>,
    #[serde(borrow)]
    features: Option<&'a RawValue>,
}

/// Calls `visit` with each feature of the FeatureCollection in `file`, in file order.
fn each_feature(
    file: &Path,
    mut visit: impl FnMut(RawFeature) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let text = read_text(file)?;
    let json_error = |source| LoadError::Json {
        file: file.to_owned(),
        source,
    };
    let top: RawCollection = serde_json::from_str(&text).map_err(json_error)?;
    if top.kind.as_ref().and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(invalid(
            file,
            "file",
            "expected a GeoJSON FeatureCollection",
        ));
    }
    let Some(features) = top
        .features
        .and_then(|f| serde_json::from_str::<Vec<&RawValue>>(f.get()).ok())
    else {
        return Err(invalid(
            file,
            "file",
            "FeatureCollection without a features array",
        ));
    };
    for (i, raw) in features.into_iter().enumerate() {
        let value: Value = serde_json::from_str(raw.get()).map_err(json_error)?;
        visit(read_feature(file, i, value)?)?;
    }
    Ok(())
}

fn read_feature(file: &Path, i: usize, f: Value) -> Result<RawFeature, LoadError> {
    let id = match f.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let label = id
        .as_ref()
        .map_or_else(|| format!("feature #{i}"), |id| format!("feature {id:?}"));
    if !check::rings_closed(f.get("geometry")) {
        return Err(invalid(
            file,
            &label,
            "polygon ring is not closed (first and last positions differ)",
        ));
    }
    let feature: geojson::Feature =
        serde_json::from_value(f).map_err(|e| invalid(file, &label, e))?;
    let Some(g) = feature.geometry else {
        return Err(invalid(file, &label, "feature has no geometry"));
    };
    let geometry = Geometry::<f64>::try_from(&g.value).map_err(|e| invalid(file, &label, e))?;
    check::geometry(&geometry).map_err(|m| invalid(file, &label, m))?;
    Ok(RawFeature {
        label,
        id,
        props: feature.properties.unwrap_or_default(),
        geometry,
    })
}

fn prop_str(file: &Path, f: &RawFeature, key: &str) -> Result<String, LoadError> {
    match f.props.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(invalid(
            file,
            &f.label,
            format!("property {key:?} must be a non-empty string"),
        )),
    }
}

fn prop_opt_str(f: &RawFeature, key: &str) -> Option<String> {
    f.props.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn prop_u64(file: &Path, f: &RawFeature, key: &str, max: u64) -> Result<u64, LoadError> {
    match f.props.get(key).and_then(Value::as_u64) {
        Some(n) if n <= max => Ok(n),
        _ => Err(invalid(
            file,
            &f.label,
            format!("property {key:?} must be an integer 0..={max}"),
        )),
    }
}

fn prop_parse<T: std::str::FromStr>(file: &Path, f: &RawFeature, key: &str) -> Result<T, LoadError>
where
    T::Err: std::fmt::Display,
{
    let s = prop_str(file, f, key)?;
    s.parse()
        .map_err(|e: T::Err| invalid(file, &f.label, format!("property {key:?}: {e}")))
}

fn basis(file: &Path, f: &RawFeature) -> Result<GeometryBasis, LoadError> {
    match f.props.get("geometry").and_then(Value::as_str) {
        Some("real") => Ok(GeometryBasis::Real),
        Some("estimated") => Ok(GeometryBasis::Estimated),
        Some("illustrative") => Ok(GeometryBasis::Illustrative),
        _ => Err(invalid(
            file,
            &f.label,
            "property \"geometry\" must say \"real\", \"estimated\" or \"illustrative\"",
        )),
    }
}

fn load_base(
    file: &Path,
    kind: BaseKind,
    out: &mut Vec<BaseFeature>,
) -> Result<Vec<SubDistrict>, LoadError> {
    let mut subdistricts = Vec::new();
    let mut fid = 0;
    each_feature(file, |f| {
        fid += 1;
        let wants_area = matches!(
            kind,
            BaseKind::District
                | BaseKind::SubDistrict
                | BaseKind::GreenSpace
                | BaseKind::Water
                | BaseKind::Building
        );
        let wants_line = matches!(kind, BaseKind::Street | BaseKind::Water | BaseKind::Railway);
        let shape_ok = match (&f.geometry, kind) {
            (Geometry::Polygon(_) | Geometry::MultiPolygon(_), _) => wants_area,
            (Geometry::LineString(_) | Geometry::MultiLineString(_), _) => wants_line,
            (Geometry::Point(_), BaseKind::Landmark) => true,
            _ => false,
        };
        if !shape_ok {
            return Err(invalid(
                file,
                &f.label,
                "geometry type does not fit this file",
            ));
        }
        // Outlines and landmarks are named; streets, water and the like often are not.
        let name = match kind {
            BaseKind::District | BaseKind::SubDistrict | BaseKind::Landmark => {
                prop_str(file, &f, "name")?
            }
            _ => prop_opt_str(&f, "name").unwrap_or_default(),
        };
        let code = prop_opt_str(&f, "code");
        if kind == BaseKind::SubDistrict {
            let Some(code) = code.clone() else {
                return Err(invalid(file, &f.label, "sub-district needs a \"code\""));
            };
            subdistricts.push(SubDistrict {
                code,
                name: name.clone(),
                name_en: prop_opt_str(&f, "name_en").unwrap_or_default(),
            });
        }
        let class = match kind {
            BaseKind::Landmark => prop_opt_str(&f, "kind"),
            _ => prop_opt_str(&f, "class"),
        };
        out.push(BaseFeature {
            fid,
            kind,
            name,
            name_en: prop_opt_str(&f, "name_en").filter(|n| !n.is_empty()),
            code,
            class,
            basis: basis(file, &f)?,
            osm_id: prop_opt_str(&f, "osm_id"),
            geometry: f.geometry,
        });
        Ok(())
    })?;
    if subdistricts
        .iter()
        .map(|s| &s.code)
        .collect::<HashSet<_>>()
        .len()
        != subdistricts.len()
    {
        return Err(invalid(file, "file", "sub-district codes are not unique"));
    }
    Ok(subdistricts)
}

fn load_sites(
    file: &Path,
    subdistricts: &[SubDistrict],
    plan: &Plan,
) -> Result<Vec<Site>, LoadError> {
    let mut ids = HashSet::new();
    let mut fids = HashSet::new();
    let names: HashMap<&str, &str> = subdistricts
        .iter()
        .map(|s| (s.code.as_str(), s.name.as_str()))
        .collect();
    let mut project_programme: HashMap<String, crate::model::Programme> = HashMap::new();
    let mut sites = Vec::new();
    each_feature(file, |f| {
        let site = site_from_feature(file, &f)?;
        match names.get(site.subdistrict_code.as_str()) {
            None => {
                return Err(invalid(
                    file,
                    &f.label,
                    format!("unknown subdistrict_code {:?}", site.subdistrict_code),
                ));
            }
            Some(name) if *name != site.subdistrict => {
                return Err(invalid(
                    file,
                    &f.label,
                    format!(
                        "subdistrict {:?} is not the name of code {} ({name})",
                        site.subdistrict, site.subdistrict_code
                    ),
                ));
            }
            Some(_) => {}
        }
        if !plan
            .programmes
            .iter()
            .any(|p| p.programme == site.programme)
        {
            return Err(invalid(
                file,
                &f.label,
                format!("programme {} is not in the plan", site.programme.as_str()),
            ));
        }
        let programme = *project_programme
            .entry(site.project_id.clone())
            .or_insert(site.programme);
        if programme != site.programme {
            return Err(invalid(
                file,
                &f.label,
                format!("project {} is in two programmes", site.project_id),
            ));
        }
        if !ids.insert(site.id.clone()) {
            return Err(invalid(file, &f.label, "duplicate id"));
        }
        if !fids.insert(site.fid) {
            return Err(invalid(
                file,
                &f.label,
                format!("duplicate fid {}", site.fid),
            ));
        }
        sites.push(site);
        Ok(())
    })?;
    Ok(sites)
}

fn site_from_feature(file: &Path, f: &RawFeature) -> Result<Site, LoadError> {
    let id = match &f.id {
        Some(id) if SiteId::is_well_formed(id) => SiteId(id.clone()),
        _ => {
            return Err(invalid(
                file,
                &f.label,
                "site needs a string id of 1-64 letters, digits, - or _",
            ));
        }
    };
    let kind: RenewalKind = prop_parse(file, f, "kind")?;
    let linear = matches!(
        f.geometry,
        Geometry::LineString(_) | Geometry::MultiLineString(_)
    );
    let areal = matches!(f.geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_));
    if (kind.is_linear() && !linear) || (!kind.is_linear() && !areal) {
        return Err(invalid(
            file,
            &f.label,
            format!(
                "a {kind} needs a {} geometry",
                if kind.is_linear() { "line" } else { "polygon" }
            ),
        ));
    }
    let status: RenewalStatus = prop_parse(file, f, "status")?;
    let progress = prop_u64(file, f, "progress", 100)? as u8;
    if status.is_done() && progress != 100 {
        return Err(invalid(
            file,
            &f.label,
            "a completed or accepted site must have progress 100",
        ));
    }
    let investment_wan = match f.props.get("investment_wan").and_then(Value::as_f64) {
        Some(v) if v.is_finite() && v >= 0.0 => v,
        _ => {
            return Err(invalid(
                file,
                &f.label,
                "property \"investment_wan\" must be a number >= 0",
            ));
        }
    };
    let programme = match prop_str(file, f, "programme")?.as_str() {
        "construction" => Programme::Construction,
        "maintenance" => Programme::Maintenance,
        _ => {
            return Err(invalid(
                file,
                &f.label,
                "property \"programme\" must be construction or maintenance",
            ));
        }
    };
    let planned_start: Date = prop_parse(file, f, "planned_start")?;
    let planned_finish: Date = prop_parse(file, f, "planned_finish")?;
    if planned_finish < planned_start {
        return Err(invalid(
            file,
            &f.label,
            "planned_finish is before planned_start",
        ));
    }
    let detail = if kind == RenewalKind::Compound {
        SiteDetail::Compound(Compound {
            households: prop_u64(file, f, "households", 1_000_000)? as u32,
            built_year: prop_u64(file, f, "built_year", 2100)? as u16,
            community: prop_str(file, f, "community")?,
            community_code: prop_str(file, f, "community_code")?,
        })
    } else {
        SiteDetail::None
    };
    let (area_m2, length_m) = measures(&f.geometry);
    Ok(Site {
        id,
        fid: prop_u64(file, f, "fid", u64::from(u32::MAX))?,
        name: prop_str(file, f, "name")?,
        name_en: prop_opt_str(f, "name_en").filter(|n| !n.trim().is_empty()),
        kind,
        subdistrict: prop_str(file, f, "subdistrict")?,
        subdistrict_code: prop_str(file, f, "subdistrict_code")?,
        status,
        progress,
        investment_wan,
        programme,
        project_id: prop_str(file, f, "project_id")?,
        planned_start,
        planned_finish,
        updated_at: prop_parse::<Timestamp>(file, f, "updated_at")?,
        basis: basis(file, f)?,
        detail,
        note: prop_opt_str(f, "note"),
        version: 1,
        geometry: f.geometry.clone(),
        area_m2,
        length_m,
    })
}

/// Geodesic area (m², polygons only) and length (m: line length, or polygon perimeter).
pub fn measures(g: &Geometry<f64>) -> (f64, f64) {
    match g {
        Geometry::Polygon(p) => (p.geodesic_area_unsigned(), Geodesic.length(p.exterior())),
        Geometry::MultiPolygon(m) => (
            m.geodesic_area_unsigned(),
            m.0.iter().map(|p| Geodesic.length(p.exterior())).sum(),
        ),
        Geometry::LineString(l) => (0.0, Geodesic.length(l)),
        Geometry::MultiLineString(m) => (0.0, Geodesic.length(m)),
        _ => (0.0, 0.0),
    }
}

/// File name used in errors about a site record read back from the store.
const RECORD: &str = "store record";

/// A site as one feature of `sites.geojson` (the data-file form: every stored field, no
/// derived ones); the store keeps every version of a site in this form.
pub fn site_record(site: &Site) -> Value {
    use serde_json::json;
    let mut p = Map::new();
    p.insert("fid".into(), json!(site.fid));
    p.insert("name".into(), json!(site.name));
    if let Some(name_en) = &site.name_en {
        p.insert("name_en".into(), json!(name_en));
    }
    p.insert("kind".into(), json!(site.kind.as_str()));
    p.insert("subdistrict".into(), json!(site.subdistrict));
    p.insert("subdistrict_code".into(), json!(site.subdistrict_code));
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
    p.insert("updated_at".into(), json!(site.updated_at.to_string()));
    p.insert("geometry".into(), json!(site.basis.as_str()));
    if let Some(note) = &site.note {
        p.insert("note".into(), json!(note));
    }
    if let Some(c) = site.compound() {
        p.insert("households".into(), json!(c.households));
        p.insert("built_year".into(), json!(c.built_year));
        p.insert("community".into(), json!(c.community));
        p.insert("community_code".into(), json!(c.community_code));
    }
    let geometry = geojson::Geometry::new(geojson::GeometryValue::from(&site.geometry));
    json!({
        "type": "Feature",
        "id": site.id.as_str(),
        "geometry": geometry,
        "properties": p,
    })
}

/// Reads a site back from its [`site_record`] form, with every check of the data file; the
/// version is set by the caller (records carry none).
pub fn site_from_record(record: Value) -> Result<Site, LoadError> {
    let file = Path::new(RECORD);
    let f = read_feature(file, 0, record)?;
    site_from_feature(file, &f)
}

/// Checks a site geometry as the data file's are checked: WGS84 ranges, at least two distinct
/// points per line, simple non-degenerate polygons with holes inside. Returns what is wrong.
pub fn check_site_geometry(g: &Geometry<f64>) -> Result<(), String> {
    check::geometry(g)
}

/// Whether every polygon ring of a raw GeoJSON geometry repeats its first position last
/// (RFC 7946 §3.1.6); geo-types would close them silently.
pub fn raw_rings_closed(geometry: &Value) -> bool {
    check::rings_closed(Some(geometry))
}
