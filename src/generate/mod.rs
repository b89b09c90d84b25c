//! Deterministic generator of the district data set in `data/huanggu/`: the real outline and
//! landmarks, plus illustrative sub-district cells, streets and renewal sites whose counts,
//! projects and money match the plan exactly.
//!
//! Reads only `data/sources` (see [`GenerateOptions::sources`]) and writes GeoJSON (RFC 7946,
//! WGS84) and JSON files. Depends on `model` for the domain vocabulary; knows nothing about
//! HTTP, tiles or storage. The same seed and scale always give byte-identical files: the PRNG
//! lives here, nothing iterates a hash map, and coordinates are rounded to 7 decimals.

mod geometry;
mod layout;
mod manifest;
mod names;
mod rng;
mod schedule;
mod sites;
mod sources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Orient, Polygon, orient::Direction};
use serde_json::{Value, json};

use crate::model::{Plan, RenewalKind};
use geometry::{Region, to_deg, to_m};
use rng::Rng;
pub use schedule::REFERENCE_DATE;
use sites::Shape;

/// Version string written to the manifest; bump when the output for a given seed changes.
pub const GENERATOR_VERSION: &str = "renewal-map-generate/2";

/// The files written to [`GenerateOptions::out`].
pub const OUTPUT_FILES: [&str; 7] = [
    "district.geojson",
    "subdistricts.geojson",
    "streets.geojson",
    "landmarks.geojson",
    "sites.geojson",
    "plan.json",
    "manifest.json",
];

/// Gap in degrees between district copies when `scale > 1`.
const COPY_GAP_DEG: f64 = 0.02;

/// What to generate and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// PRNG seed; the same seed and scale give byte-identical output.
    pub seed: u64,
    /// Number of district copies (≥ 1); copy 1 is at the real position, others are laid out in
    /// a grid of ⌈√scale⌉ columns to the east and south.
    pub scale: u32,
    /// Directory with the source files (normally `data/sources`).
    pub sources: PathBuf,
    /// Output directory (created if missing).
    pub out: PathBuf,
}

/// What was written: feature counts per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    /// District outlines (one per copy).
    pub districts: usize,
    /// Sub-district cells.
    pub subdistricts: usize,
    /// Street pieces.
    pub streets: usize,
    /// Landmark points.
    pub landmarks: usize,
    /// Renewal sites in total.
    pub sites: usize,
    /// Renewal sites per kind.
    pub sites_by_kind: BTreeMap<RenewalKind, usize>,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// `scale` was 0.
    #[error("scale must be at least 1")]
    BadScale,
    /// A source file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A source file was not in the expected format.
    #[error("cannot parse {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The plan's project counts do not fit the sites.
    #[error("plan does not fit the sites: {message}")]
    Plan {
        /// What did not fit.
        message: String,
    },
    /// The layout could not fit something inside the outline.
    #[error("could not place {what} in district copy {copy}")]
    Layout {
        /// What could not be placed.
        what: String,
        /// 0-based copy index.
        copy: u32,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Generates the data set described by `opts` and writes it to `opts.out`.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    if opts.scale == 0 {
        return Err(GenerateError::BadScale);
    }
    let src = sources::read(&opts.sources)?;
    let outline_m = MultiPolygon(src.outline.0.iter().map(|p| map_polygon(p, to_m)).collect());
    let region = Region::new(outline_m).ok_or_else(|| GenerateError::Parse {
        path: opts.sources.join(sources::BOUNDARY_FILE),
        message: "empty outline".into(),
    })?;
    let samples = layout::sample_grid(&region);
    let (lo, hi) = (to_deg(region.bbox.min()), to_deg(region.bbox.max()));
    let cols = (1..).find(|c: &u32| c * c >= opts.scale).unwrap_or(1);

    let mut out = Output::default();
    for copy in 0..opts.scale {
        let offset = Coord {
            x: f64::from(copy % cols) * (hi.x - lo.x + COPY_GAP_DEG),
            y: -f64::from(copy / cols) * (hi.y - lo.y + COPY_GAP_DEG),
        };
        let stream = |purpose: u64| Rng::new(opts.seed, u64::from(copy) * 16 + purpose);
        let cells = layout::cells(&src, &region, &samples, &mut stream(1));
        let streets = layout::streets(&region, &mut stream(2));
        let drafts = sites::place(&src, &region, &cells, &streets, copy, &mut stream(3))?;
        let schedules = schedule::assign(&drafts, &src.plan, copy, opts.scale, &mut stream(4))?;
        out.add_copy(
            &src, copy, opts.scale, offset, &cells, &streets, &drafts, &schedules,
        );
    }
    out.add_landmarks(&src, &region);

    std::fs::create_dir_all(&opts.out).map_err(|source| GenerateError::Write {
        path: opts.out.clone(),
        source,
    })?;
    write_collection(&opts.out.join("district.geojson"), &out.districts)?;
    write_collection(&opts.out.join("subdistricts.geojson"), &out.subdistricts)?;
    write_collection(&opts.out.join("streets.geojson"), &out.streets)?;
    write_collection(&opts.out.join("landmarks.geojson"), &out.landmarks)?;
    write_collection(&opts.out.join("sites.geojson"), &out.sites)?;
    write_json(
        &opts.out.join("plan.json"),
        &serde_json::to_value(scaled_plan(&src.plan, opts.scale)).unwrap_or_default(),
    )?;

    let summary = GenerateSummary {
        districts: out.districts.len(),
        subdistricts: out.subdistricts.len(),
        streets: out.streets.len(),
        landmarks: out.landmarks.len(),
        sites: out.sites.len(),
        sites_by_kind: out.by_kind.clone(),
    };
    let by_kind: BTreeMap<&str, usize> = summary
        .sites_by_kind
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    let (y, m, d) = REFERENCE_DATE;
    let manifest = json!({
        "generator": GENERATOR_VERSION,
        "seed": opts.seed,
        "scale": opts.scale,
        "reference_date": format!("{y:04}-{m:02}-{d:02}"),
        "files": {
            "district.geojson": summary.districts,
            "subdistricts.geojson": summary.subdistricts,
            "streets.geojson": summary.streets,
            "landmarks.geojson": summary.landmarks,
            "sites.geojson": summary.sites,
        },
        "sites_by_kind": by_kind,
        "provenance": serde_json::to_value(manifest::provenance(opts.scale)).unwrap_or_default(),
    });
    write_json(&opts.out.join("manifest.json"), &manifest)?;
    Ok(summary)
}

/// The plan with every target, project count and investment multiplied by `scale`.
fn scaled_plan(plan: &Plan, scale: u32) -> Plan {
    let mut plan = plan.clone();
    for n in plan.targets.values_mut() {
        *n *= scale;
    }
    for p in &mut plan.programmes {
        p.projects *= scale;
        p.investment_wan *= f64::from(scale);
    }
    plan
}

/// Features collected for the output files, in output order.
#[derive(Default)]
struct Output {
    districts: Vec<Value>,
    subdistricts: Vec<Value>,
    streets: Vec<Value>,
    landmarks: Vec<Value>,
    sites: Vec<Value>,
    by_kind: BTreeMap<RenewalKind, usize>,
    /// Sites numbered so far per kind, across copies.
    seq: BTreeMap<RenewalKind, u64>,
}

/// What generated names are made of, in English: street names and community stems.
fn english_names(src: &sources::Sources, streets: &[layout::Street]) -> names::English {
    let mut english = names::English::default().with_places();
    for street in streets {
        english.learn(street.name, street.name_en);
    }
    for c in &src.communities {
        english.learn(c.stem(), &c.pinyin);
    }
    english
}

/// Id prefix and minimum number width per kind (`compound-001`).
fn id_prefix(kind: RenewalKind) -> (&'static str, usize) {
    match kind {
        RenewalKind::Road => ("road", 2),
        RenewalKind::RoadOpening => ("road-opening", 2),
        RenewalKind::LogisticsRoad => ("logistics-road", 2),
        RenewalKind::Alley => ("alley", 3),
        RenewalKind::Compound => ("compound", 3),
        RenewalKind::PocketPark => ("park", 3),
        RenewalKind::Plaza => ("plaza", 2),
    }
}

impl Output {
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, every part of a copy"
    )]
    fn add_copy(
        &mut self,
        src: &sources::Sources,
        copy: u32,
        scale: u32,
        offset: Coord,
        cells: &layout::Cells,
        streets: &[layout::Street],
        drafts: &[sites::Draft],
        schedules: &[schedule::Schedule],
    ) {
        let tag = |s: &str| {
            if copy == 0 {
                s.to_string()
            } else {
                format!("{s}（{}）", copy + 1)
            }
        };
        let tag_en = |s: String| {
            if copy == 0 {
                s
            } else {
                format!("{s} (copy {})", copy + 1)
            }
        };
        let english = english_names(src, streets);
        let code = |s: &str| {
            if copy == 0 {
                s.to_string()
            } else {
                format!("{s}-{}", copy + 1)
            }
        };
        let place = |c: Coord| round_coord(to_deg(c) + offset);

        let outline: Vec<Value> = src
            .outline
            .0
            .iter()
            .map(|p| polygon_json(&map_polygon(p, |c| round_coord(c + offset))))
            .collect();
        self.districts.push(feature(
            None,
            json!({
                "fid": u64::from(copy) + 1,
                "code": code(&src.district_code),
                "name": tag(&src.district_name),
                "name_en": if copy == 0 { src.district_name_en.clone() } else { format!("{} (copy {})", src.district_name_en, copy + 1) },
                "geometry": if copy == 0 { "real" } else { "illustrative" },
            }),
            json!({ "type": "MultiPolygon", "coordinates": outline }),
        ));

        for (sd, shape) in src.subdistricts.iter().zip(&cells.shapes) {
            let polys: Vec<Value> = shape
                .0
                .iter()
                .map(|p| polygon_json(&map_polygon(p, place)))
                .collect();
            let geometry = match polys.as_slice() {
                [one] => json!({ "type": "Polygon", "coordinates": one }),
                _ => json!({ "type": "MultiPolygon", "coordinates": polys }),
            };
            self.subdistricts.push(feature(
                None,
                json!({
                    "fid": self.subdistricts.len() as u64 + 1,
                    "code": code(&sd.code),
                    "name": tag(&sd.name),
                    "name_en": sd.name_en,
                    "geometry": "illustrative",
                }),
                geometry,
            ));
        }

        for street in streets {
            for piece in &street.pieces {
                self.streets.push(feature(
                    None,
                    json!({
                        "fid": self.streets.len() as u64 + 1,
                        "name": street.name,
                        "name_en": street.name_en,
                        "class": street.class,
                        "geometry": "illustrative",
                    }),
                    json!({ "type": "LineString", "coordinates": line_json(piece, place) }),
                ));
            }
        }

        for (d, s) in drafts.iter().zip(schedules) {
            let kind_index = RenewalKind::ALL
                .iter()
                .position(|k| *k == d.kind)
                .unwrap_or(0) as u64
                + 1;
            let seq = self.seq.entry(d.kind).or_insert(0);
            *seq += 1;
            *self.by_kind.entry(d.kind).or_insert(0) += 1;
            let (prefix, min_width) = id_prefix(d.kind);
            let total =
                u64::from(src.plan.targets.get(&d.kind).copied().unwrap_or(0)) * u64::from(scale);
            let width = schedule::digits(total).max(min_width);
            let id = format!("{prefix}-{:0width$}", *seq);
            let sd = &src.subdistricts[d.subdistrict];
            let mut props = json!({
                "fid": kind_index * 10_000_000 + *seq,
                "name": tag(&d.name),
                "kind": d.kind.as_str(),
                "subdistrict": tag(&sd.name),
                "subdistrict_code": code(&sd.code),
                "status": s.status.as_str(),
                "progress": s.progress,
                "planned_start": s.planned_start.to_string(),
                "planned_finish": s.planned_finish.to_string(),
                "updated_at": s.updated_at.to_string(),
                "investment_wan": s.investment_tenths as f64 / 10.0,
                "programme": s.programme.as_str(),
                "project_id": s.project_id,
                "geometry": if d.kind == RenewalKind::Plaza { "estimated" } else { "illustrative" },
            });
            if let (Some(c), Some(map)) = (
                d.community.map(|i| &src.communities[i]),
                props.as_object_mut(),
            ) {
                map.insert("households".into(), json!(d.households));
                map.insert("built_year".into(), json!(d.built_year));
                map.insert("community".into(), json!(tag(&c.name)));
                map.insert("community_code".into(), json!(code(&c.code)));
            }
            if let (Some(en), Some(map)) = (english.name(&d.name), props.as_object_mut()) {
                map.insert("name_en".into(), json!(tag_en(en)));
            }
            let geometry = match &d.shape {
                Shape::Line(path) => {
                    json!({ "type": "LineString", "coordinates": line_json(path, place) })
                }
                Shape::Area(ring) => {
                    let poly =
                        map_polygon(&Polygon::new(LineString::from(ring.clone()), vec![]), place);
                    json!({ "type": "Polygon", "coordinates": polygon_json(&poly) })
                }
            };
            self.sites.push(feature(Some(id), props, geometry));
        }
    }

    fn add_landmarks(&mut self, src: &sources::Sources, region: &Region) {
        for a in &src.anchors {
            let Some(p) = a.position else { continue };
            // Computed or attribute points (the polygon centroid, AMap's `center`) are
            // reference points, not places: they are not drawn.
            if a.kind == "admin" {
                continue;
            }
            let basis = if a.basis == "estimate" {
                "estimated"
            } else {
                "real"
            };
            self.landmarks.push(feature(
                Some(a.id.clone()),
                json!({
                    "fid": self.landmarks.len() as u64 + 1,
                    "id": a.id,
                    "name": a.name,
                    "name_en": a.name_en,
                    "kind": a.kind,
                    "precision_m": a.precision_m,
                    "geometry": basis,
                    "in_district": region.contains(to_m(p)),
                }),
                json!({ "type": "Point", "coordinates": [round(p.x), round(p.y)] }),
            ));
        }
    }
}

fn feature(id: Option<String>, properties: Value, geometry: Value) -> Value {
    let mut f = json!({ "type": "Feature", "properties": properties, "geometry": geometry });
    if let (Some(id), Some(map)) = (id, f.as_object_mut()) {
        map.insert("id".into(), Value::String(id));
    }
    f
}

fn round(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn round_coord(c: Coord) -> Coord {
    Coord {
        x: round(c.x),
        y: round(c.y),
    }
}

/// Maps every vertex, drops repeated vertices (rounding can create them) and orients rings
/// RFC 7946 style: exterior counter-clockwise, holes clockwise.
fn map_polygon(p: &Polygon, f: impl Fn(Coord) -> Coord) -> Polygon {
    let ring = |ls: &LineString| {
        let mut v: Vec<Coord> = ls.0.iter().map(|&c| f(c)).collect();
        v.dedup();
        LineString::from(v)
    };
    Polygon::new(
        ring(p.exterior()),
        p.interiors()
            .iter()
            .map(ring)
            .filter(|r| r.0.len() >= 4)
            .collect(),
    )
    .orient(Direction::Default)
}

fn line_json(path: &[Coord], f: impl Fn(Coord) -> Coord) -> Value {
    let mut v: Vec<Coord> = path.iter().map(|&c| f(c)).collect();
    v.dedup();
    Value::Array(v.iter().map(|c| json!([c.x, c.y])).collect())
}

fn polygon_json(p: &Polygon) -> Value {
    let ring = |ls: &LineString| Value::Array(ls.0.iter().map(|c| json!([c.x, c.y])).collect());
    let mut rings = vec![ring(p.exterior())];
    rings.extend(p.interiors().iter().map(ring));
    Value::Array(rings)
}

/// Writes a FeatureCollection with one feature per line (small, readable diffs).
fn write_collection(path: &Path, features: &[Value]) -> Result<(), GenerateError> {
    write_text(path, &crate::features::collection_text(features))
}

fn write_json(path: &Path, value: &Value) -> Result<(), GenerateError> {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    write_text(path, &text)
}

fn write_text(path: &Path, text: &str) -> Result<(), GenerateError> {
    std::fs::write(path, text).map_err(|source| GenerateError::Write {
        path: path.to_path_buf(),
        source,
    })
}
