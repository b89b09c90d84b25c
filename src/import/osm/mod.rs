//! `renewal-map import osm`: the base layers of a data set (streets, green space, water,
//! railways, optionally buildings) from an OpenStreetMap PBF extract.
//!
//! [`read`] takes what is needed from the file, [`assemble`] makes multipolygons, [`layers`]
//! decides which feature goes where and writes its GeoJSON. This file checks the arguments,
//! stages every file in a directory beside the target, loads the staged data set as the
//! server would, and only then moves the files into place: a failure writes nothing.

pub mod assemble;
pub mod layers;
pub mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Coord, MultiPolygon, Polygon, Rect};
use serde_json::{Value, json};

use crate::export::cli::Meter;
use crate::load::files;
use crate::model::{Basis, FieldProvenance, LayerProvenance};
use layers::ClipArea;

/// The attribution OpenStreetMap data must carry.
pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors";
/// The licence of OpenStreetMap data.
pub const OSM_LICENCE: &str =
    "ODbL 1.0 (Open Database License), https://opendatacommons.org/licenses/odbl/1-0/";

/// What to import and where.
#[derive(Debug, Clone)]
pub struct OsmImport {
    /// The `.osm.pbf` file.
    pub file: PathBuf,
    /// The data set directory (created when missing).
    pub into: PathBuf,
    /// `w,s,e,n` in WGS84 degrees, as given.
    pub bbox: Option<String>,
    /// A GeoJSON file whose polygons bound the import (a data set's `district.geojson`).
    pub clip_to: Option<PathBuf>,
    /// Also import buildings.
    pub buildings: bool,
}

/// Parses `w,s,e,n` (WGS84 degrees, west < east, south < north).
///
/// # Examples
/// ```
/// use renewal_map::import::osm::parse_bbox;
/// let r = parse_bbox("24.93,60.16,24.95,60.17").unwrap();
/// assert_eq!(r.min().x, 24.93);
/// assert!(parse_bbox("24.95,60.16,24.93,60.17").is_err());
/// assert!(parse_bbox("1,2,3").is_err());
/// ```
pub fn parse_bbox(text: &str) -> Result<Rect, String> {
    let v: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--bbox {text:?}: {e} (expected w,s,e,n in degrees)"))?;
    let [w, s, e, n] = v[..] else {
        return Err(format!(
            "--bbox {text:?}: expected four numbers w,s,e,n, got {}",
            v.len()
        ));
    };
    if !v.iter().all(|x| x.is_finite())
        || !(-180.0..=180.0).contains(&w)
        || !(-180.0..=180.0).contains(&e)
        || !(-90.0..=90.0).contains(&s)
        || !(-90.0..=90.0).contains(&n)
    {
        return Err(format!(
            "--bbox {text:?}: longitudes must be within ±180 and latitudes within ±90"
        ));
    }
    if w >= e || s >= n {
        return Err(format!(
            "--bbox {text:?}: west must be less than east and south less than north"
        ));
    }
    Ok(Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n }))
}

/// Reads the polygons of a GeoJSON file into one multipolygon.
fn read_clip(file: &Path) -> Result<MultiPolygon, String> {
    let what = |m: String| format!("--clip-to {}: {m}", file.display());
    let text = std::fs::read_to_string(file).map_err(|e| what(format!("cannot read: {e}")))?;
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e| what(format!("not GeoJSON: {e}")))?;
    let geometries: Vec<geojson::Geometry> = match gj {
        geojson::GeoJson::FeatureCollection(fc) => {
            fc.features.into_iter().filter_map(|f| f.geometry).collect()
        }
        geojson::GeoJson::Feature(f) => f.geometry.into_iter().collect(),
        geojson::GeoJson::Geometry(g) => vec![g],
    };
    let mut polygons = Vec::new();
    for g in geometries {
        match geo::Geometry::<f64>::try_from(&g.value) {
            Ok(geo::Geometry::Polygon(p)) => polygons.push(p),
            Ok(geo::Geometry::MultiPolygon(m)) => polygons.extend(m.0),
            _ => {
                return Err(what(
                    "only Polygon and MultiPolygon geometries can bound an import".into(),
                ));
            }
        }
    }
    assemble::valid_areas(MultiPolygon::new(polygons))
        .ok_or_else(|| what("no valid polygon in the file".into()))
}

fn layer_provenance(file_name: &str) -> LayerProvenance {
    let field = |basis| FieldProvenance {
        basis,
        source: None,
    };
    LayerProvenance {
        geometry: Basis::Imported,
        source: format!("OpenStreetMap extract {file_name} ({OSM_ATTRIBUTION}, {OSM_LICENCE})"),
        fields: ["name", "name_en", "class", "osm_id"]
            .into_iter()
            .map(|f| (f.to_owned(), field(Basis::Imported)))
            .collect(),
    }
}

/// The files a data set needs besides the base layers, for a directory that has no plan:
/// the import area as district and single sub-district, a plan without targets, no sites.
fn skeleton(name: &str, area: &MultiPolygon) -> Vec<(&'static str, String)> {
    let geometry = geojson::Geometry::new(geojson::GeometryValue::from(
        &geo::Geometry::MultiPolygon(area.clone()),
    ));
    let outline = |code: &str| {
        json!({"type": "FeatureCollection", "features": [{"type": "Feature", "id": code,
            "properties": {"fid": 1, "code": code, "name": name, "name_en": name, "geometry": "estimated"},
            "geometry": geometry}]})
        .to_string()
    };
    let plan = json!({
        "district_code": "000000",
        "district_name": name,
        "source": "renewal-map import osm: base layers only, no renewal plan",
        "targets": {},
        "programmes": [],
        "park_service_radii_m": [300.0, 500.0],
    });
    vec![
        (files::DISTRICT, outline("000000")),
        (files::SUBDISTRICTS, outline("000000001")),
        (files::PLAN, format!("{plan:#}\n")),
        (
            files::SITES,
            "{\"type\":\"FeatureCollection\",\"features\":[]}\n".to_owned(),
        ),
    ]
}

/// The manifest with the imported layers' provenance, the licence and the attribution.
fn manifest(
    existing: Option<Value>,
    file_name: &str,
    counts: &BTreeMap<&str, usize>,
    new_outline: bool,
) -> Result<String, String> {
    let mut m = match existing {
        Some(Value::Object(m)) => m,
        Some(_) => return Err("manifest.json is not a JSON object".into()),
        None => serde_json::Map::new(),
    };
    let prov = m
        .entry("provenance")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or("manifest.json: provenance is not an object")?;
    let layers = prov
        .entry("layers")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or("manifest.json: provenance.layers is not an object")?;
    for id in counts.keys() {
        let p = serde_json::to_value(layer_provenance(file_name)).map_err(|e| e.to_string())?;
        layers.insert((*id).to_owned(), p);
    }
    if new_outline {
        for id in ["district", "subdistricts"] {
            layers.insert(id.to_owned(), json!({"geometry": "estimated", "source": "the area of the OpenStreetMap import (--bbox, --clip-to or the data's extent)", "fields": {}}));
        }
    }
    prov.insert("attribution".into(), json!(OSM_ATTRIBUTION));
    prov.insert("licence".into(), json!(OSM_LICENCE));
    m.insert(
        "osm_import".into(),
        json!({"file": file_name, "counts": counts}),
    );
    Ok(format!("{:#}\n", Value::Object(m)))
}

/// Runs the import; returns the summary printed on stdout.
pub fn run(args: &OsmImport) -> Result<String, String> {
    let started = std::time::Instant::now();
    let file = &args.file;
    let clip = match (&args.bbox, &args.clip_to) {
        (Some(_), Some(_)) => return Err("give --bbox or --clip-to, not both".into()),
        (Some(b), None) => {
            let r = parse_bbox(b)?;
            Some(ClipArea {
                area: MultiPolygon::new(vec![r.to_polygon()]),
                bounds: r,
                is_rect: true,
            })
        }
        (None, Some(f)) => {
            let area = read_clip(f)?;
            let bounds = area.bounding_rect().ok_or("--clip-to: empty area")?;
            Some(ClipArea {
                area,
                bounds,
                is_rect: false,
            })
        }
        (None, None) => None,
    };
    if !file.is_file() {
        return Err(format!("{}: no such file", file.display()));
    }
    let buildings = args.buildings;
    let data = read::read(
        file,
        |t| !layers::line_layers(t).is_empty() || !layers::area_layers(t, buildings).is_empty(),
        |t| !layers::area_layers(t, buildings).is_empty(),
    )?;
    let mut meter = Meter::new(
        "building features",
        (data.ways.len() + data.relations.len()) as u64,
    );
    let out = layers::build(&data, buildings, clip.as_ref(), || meter.tick());
    meter.finish();
    let total: usize = out.values().map(|o| o.features.len()).sum();
    if total == 0 {
        return Err(format!(
            "{}: no streets, green space, water or railways{} (nothing written)",
            file.display(),
            if clip.is_some() {
                " inside the import area"
            } else {
                ""
            }
        ));
    }

    let file_name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let into = &args.into;
    let has_plan = into.join(files::PLAN).is_file();
    let mut staged: Vec<(&str, String)> = out
        .iter()
        .map(|(l, o)| (l.file(), crate::features::collection_text(&o.features)))
        .collect();
    if !has_plan {
        let area = match &clip {
            Some(c) => c.area.clone(),
            None => {
                let bounds = out
                    .values()
                    .flat_map(|o| &o.features)
                    .filter_map(|f| {
                        serde_json::from_value::<geojson::Geometry>(f["geometry"].clone()).ok()
                    })
                    .filter_map(|g| {
                        geo::Geometry::<f64>::try_from(&g.value)
                            .ok()?
                            .bounding_rect()
                    })
                    .reduce(|a, b| {
                        Rect::new(
                            Coord {
                                x: a.min().x.min(b.min().x),
                                y: a.min().y.min(b.min().y),
                            },
                            Coord {
                                x: a.max().x.max(b.max().x),
                                y: a.max().y.max(b.max().y),
                            },
                        )
                    })
                    .ok_or("no feature has a bounding box")?;
                MultiPolygon::new(vec![Polygon::from(bounds)])
            }
        };
        let name = file_name
            .trim_end_matches(".osm.pbf")
            .trim_end_matches(".pbf")
            .to_owned();
        staged.extend(skeleton(&name, &area));
    }
    let existing = match std::fs::read_to_string(into.join(files::MANIFEST)) {
        Ok(t) => Some(
            serde_json::from_str(&t)
                .map_err(|e| format!("{}: {e}", into.join(files::MANIFEST).display()))?,
        ),
        Err(_) => None,
    };
    let counts: BTreeMap<&str, usize> = out
        .iter()
        .map(|(l, o)| (l.id(), o.features.len()))
        .collect();
    staged.push((
        files::MANIFEST,
        manifest(existing, &file_name, &counts, !has_plan)?,
    ));
    commit(into, &staged)?;

    let mut summary = String::new();
    for (layer, o) in &out {
        summary.push_str(&format!(
            "{:<10} {:>6} features -> {}  (left out: {} outside, {} invalid, {} with missing nodes)\n",
            layer.id(),
            o.features.len(),
            layer.file(),
            o.outside,
            o.invalid,
            o.missing_nodes
        ));
    }
    summary.push_str(&format!(
        "imported {} into {} in {:.1} s; licence ODbL 1.0, attribution \"{OSM_ATTRIBUTION}\"\n",
        file.display(),
        into.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(summary)
}

/// Writes the files into a staging directory beside `into` (with copies of the data set's
/// other files), loads it as the server would, then moves the files into place.
fn commit(into: &Path, staged: &[(&str, String)]) -> Result<(), String> {
    let parent = into
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = into
        .file_name()
        .ok_or_else(|| format!("--into {}: not a directory name", into.display()))?;
    let stage = parent.join(format!(
        ".{}.osm-import-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = stage_and_check(into, &stage, staged).and_then(|()| {
        if into.exists() {
            for (file, _) in staged {
                std::fs::rename(stage.join(file), into.join(file))
                    .map_err(|e| format!("{}: cannot write: {e}", into.join(file).display()))?;
            }
            Ok(())
        } else {
            std::fs::rename(&stage, into)
                .map_err(|e| format!("{}: cannot create: {e}", into.display()))
        }
    });
    if stage.exists() {
        let _ = std::fs::remove_dir_all(&stage);
    }
    result
}

fn stage_and_check(into: &Path, stage: &Path, staged: &[(&str, String)]) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: cannot write: {e}", p.display());
    std::fs::create_dir(stage).map_err(|e| err(stage, e))?;
    if into.is_dir() {
        let entries = std::fs::read_dir(into).map_err(|e| format!("{}: {e}", into.display()))?;
        for e in entries.flatten() {
            let path = e.path();
            let is_data = path
                .extension()
                .is_some_and(|x| x == "json" || x == "geojson");
            if path.is_file() && is_data {
                std::fs::copy(&path, stage.join(e.file_name())).map_err(|e| err(stage, e))?;
            }
        }
    } else if into.exists() {
        return Err(format!("--into {}: not a directory", into.display()));
    }
    for (file, text) in staged {
        std::fs::write(stage.join(file), text).map_err(|e| err(&stage.join(file), e))?;
    }
    crate::load::load_dataset(stage)
        .map(|_| ())
        .map_err(|e| format!("the imported data set does not load (nothing written): {e}"))
}
