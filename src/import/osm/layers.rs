//! Which OSM features make which base layer, and their GeoJSON form: tags → layer, nodes →
//! lines or (multi)polygons, clipped to the import area, rounded to 7 decimals and checked.
//!
//! A closed way is an area when it says `area=yes`, or carries one of the keys that make
//! closed ways areas in GDAL's OSM driver (and `area=no` is absent); otherwise it is a line.
//! Using the same rule as GDAL is what lets the test compare counts with `ogr2ogr`.

use geo::{
    BooleanOps, BoundingRect, Contains, Coord, LineString, MultiLineString, MultiPolygon, Rect,
};
use serde_json::{Map, Value, json};

use super::assemble;
use super::read::{OsmData, Tags};
use crate::load::files;
use crate::model::BaseKind;

/// A base layer that the import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// `highway=*` lines.
    Streets,
    /// `leisure=park|garden|playground` areas.
    Green,
    /// `natural=water` areas and `waterway=river|canal` lines.
    Water,
    /// Railway lines (rail, light rail, subway, tram, narrow gauge, monorail, funicular).
    Railways,
    /// `building=*` areas (only with `--buildings`).
    Buildings,
}

impl Layer {
    /// Every layer, in file order.
    pub const ALL: [Layer; 5] = [
        Layer::Streets,
        Layer::Green,
        Layer::Water,
        Layer::Railways,
        Layer::Buildings,
    ];

    /// The layer's id in the manifest and in tiles.
    pub fn id(self) -> &'static str {
        match self {
            Layer::Streets => "streets",
            Layer::Green => "green",
            Layer::Water => "water",
            Layer::Railways => "railways",
            Layer::Buildings => "buildings",
        }
    }

    /// The data-set file the layer is written to.
    pub fn file(self) -> &'static str {
        match self {
            Layer::Streets => files::STREETS,
            Layer::Green => files::GREEN,
            Layer::Water => files::WATER,
            Layer::Railways => files::RAILWAYS,
            Layer::Buildings => files::BUILDINGS,
        }
    }

    /// The base-map kind its features load as.
    pub fn kind(self) -> BaseKind {
        match self {
            Layer::Streets => BaseKind::Street,
            Layer::Green => BaseKind::GreenSpace,
            Layer::Water => BaseKind::Water,
            Layer::Railways => BaseKind::Railway,
            Layer::Buildings => BaseKind::Building,
        }
    }
}

/// Keys that make a closed way an area (GDAL 3.6 `osmconf.ini`, `closed_ways_are_polygons`).
const AREA_KEYS: &[&str] = &[
    "aeroway",
    "amenity",
    "boundary",
    "building",
    "craft",
    "geological",
    "historic",
    "landuse",
    "leisure",
    "military",
    "natural",
    "office",
    "place",
    "shop",
    "sport",
    "tourism",
];

const RAILWAYS: &[&str] = &[
    "rail",
    "light_rail",
    "subway",
    "tram",
    "narrow_gauge",
    "monorail",
    "funicular",
];

fn tag<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.get(key).map(String::as_str)
}

/// Whether a way with these tags, closed or not, is an area.
pub fn is_area(tags: &Tags, closed: bool) -> bool {
    if !closed {
        return false;
    }
    match tag(tags, "area") {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            AREA_KEYS.iter().any(|k| tags.contains_key(*k))
                || tag(tags, "highway") == Some("platform")
                || tag(tags, "public_transport") == Some("platform")
        }
    }
}

/// The line layers a line with these tags belongs to, and its class in each.
pub fn line_layers(tags: &Tags) -> Vec<(Layer, String)> {
    let mut out = Vec::new();
    if let Some(h) = tag(tags, "highway") {
        out.push((Layer::Streets, h.to_owned()));
    }
    if let Some(r) = tag(tags, "railway").filter(|r| RAILWAYS.contains(r)) {
        out.push((Layer::Railways, r.to_owned()));
    }
    if let Some(w) = tag(tags, "waterway").filter(|w| matches!(*w, "river" | "canal")) {
        out.push((Layer::Water, w.to_owned()));
    }
    out
}

/// The area layers an area with these tags belongs to, and its class in each.
pub fn area_layers(tags: &Tags, buildings: bool) -> Vec<(Layer, String)> {
    let mut out = Vec::new();
    if let Some(l) = tag(tags, "leisure").filter(|l| matches!(*l, "park" | "garden" | "playground"))
    {
        out.push((Layer::Green, l.to_owned()));
    }
    if tag(tags, "natural") == Some("water") {
        out.push((
            Layer::Water,
            tag(tags, "water").unwrap_or("water").to_owned(),
        ));
    }
    if let Some(b) = tag(tags, "building").filter(|b| buildings && *b != "no") {
        out.push((Layer::Buildings, b.to_owned()));
    }
    out
}

/// The area features are clipped to.
#[derive(Debug, Clone)]
pub struct ClipArea {
    /// The area (WGS84 degrees).
    pub area: MultiPolygon,
    /// Its bounding box.
    pub bounds: Rect,
    /// Whether the area is its bounding box (then features inside it are kept as they are).
    pub is_rect: bool,
}

/// One layer's output: GeoJSON features and how many OSM features were left out, and why.
#[derive(Debug, Default)]
pub struct LayerOutput {
    /// Features in file order (ways, then relations).
    pub features: Vec<Value>,
    /// Features with a node missing from the file.
    pub missing_nodes: usize,
    /// Multipolygons that do not assemble into valid polygons, and areas invalid after rounding.
    pub invalid: usize,
    /// Features entirely outside the clip area.
    pub outside: usize,
}

fn round(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn coords(data: &OsmData, refs: &[i64]) -> Option<Vec<Coord>> {
    refs.iter()
        .map(|r| data.nodes.get(r).map(|&[x, y]| Coord { x, y }))
        .collect()
}

fn rounded_line(l: &LineString) -> Option<LineString> {
    let mut v: Vec<Coord> =
        l.0.iter()
            .map(|c| Coord {
                x: round(c.x),
                y: round(c.y),
            })
            .collect();
    v.dedup();
    (v.len() >= 2).then(|| LineString::from(v))
}

fn rounded_areas(mp: &MultiPolygon) -> Option<MultiPolygon> {
    let ring = |l: &LineString| {
        assemble::ring_line(
            l.0.iter()
                .map(|c| Coord {
                    x: round(c.x),
                    y: round(c.y),
                })
                .collect(),
        )
    };
    let polys = mp
        .0
        .iter()
        .map(|p| geo::Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
        .collect();
    assemble::valid_areas(MultiPolygon::new(polys))
}

fn properties(osm_id: &str, tags: &Tags, class: &str) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("osm_id".into(), json!(osm_id));
    p.insert("basis".into(), json!("osm"));
    p.insert("geometry".into(), json!("real"));
    p.insert("name".into(), json!(tag(tags, "name").unwrap_or("")));
    if let Some(en) = tag(tags, "name:en") {
        p.insert("name_en".into(), json!(en));
    }
    p.insert("class".into(), json!(class));
    p
}

fn feature(osm_id: &str, props: Map<String, Value>, geometry: geo::Geometry) -> Value {
    json!({
        "type": "Feature",
        "id": osm_id,
        "properties": props,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&geometry)),
    })
}

/// The runs of consecutive nodes whose positions are known, each of two nodes or more.
fn known_runs(data: &OsmData, refs: &[i64]) -> Vec<Vec<Coord>> {
    let mut runs = vec![Vec::new()];
    for r in refs {
        match data.nodes.get(r) {
            Some(&[x, y]) => {
                if let Some(run) = runs.last_mut() {
                    run.push(Coord { x, y });
                }
            }
            None => runs.push(Vec::new()),
        }
    }
    runs.retain(|r| r.len() >= 2);
    runs
}

/// One line or a multi-line from clipped parts; `None` when there is none.
fn join_lines(parts: Vec<geo::Geometry>) -> Option<geo::Geometry> {
    let mut lines: Vec<LineString> = Vec::new();
    for p in parts {
        match p {
            geo::Geometry::LineString(l) => lines.push(l),
            geo::Geometry::MultiLineString(m) => lines.extend(m.0),
            _ => {}
        }
    }
    match lines.len() {
        0 => None,
        1 => lines.pop().map(geo::Geometry::LineString),
        _ => Some(geo::Geometry::MultiLineString(MultiLineString::new(lines))),
    }
}

/// Clips a line to the area; `None` when nothing of it is inside.
fn clip_line(line: LineString, clip: Option<&ClipArea>) -> Option<geo::Geometry> {
    let lines = match clip {
        None => vec![line],
        Some(c) if c.is_rect && line.bounding_rect().is_some_and(|b| c.bounds.contains(&b)) => {
            vec![line]
        }
        Some(c) => c.area.clip(&MultiLineString::new(vec![line]), false).0,
    };
    let mut lines: Vec<LineString> = lines.iter().filter_map(rounded_line).collect();
    match lines.len() {
        0 => None,
        1 => lines.pop().map(geo::Geometry::LineString),
        _ => Some(geo::Geometry::MultiLineString(MultiLineString::new(lines))),
    }
}

/// Clips areas to the clip area; `Ok(None)` when nothing is inside, `Err(())` when the result
/// is not valid.
fn clip_areas(mp: MultiPolygon, clip: Option<&ClipArea>) -> Result<Option<geo::Geometry>, ()> {
    let clipped = match clip {
        None => mp,
        Some(c) if c.is_rect && mp.bounding_rect().is_some_and(|b| c.bounds.contains(&b)) => mp,
        Some(c) => c.area.intersection(&mp),
    };
    if clipped.0.is_empty() {
        return Ok(None);
    }
    let mut mp = rounded_areas(&clipped).ok_or(())?;
    Ok(Some(if mp.0.len() == 1 {
        geo::Geometry::Polygon(mp.0.remove(0))
    } else {
        geo::Geometry::MultiPolygon(mp)
    }))
}

type Outputs = std::collections::BTreeMap<Layer, LayerOutput>;

fn record(
    out: &mut Outputs,
    layer: Layer,
    osm_id: &str,
    tags: &Tags,
    class: &str,
    g: Result<Option<geo::Geometry>, ()>,
) {
    let Some(o) = out.get_mut(&layer) else { return };
    match g {
        Ok(Some(g)) => o
            .features
            .push(feature(osm_id, properties(osm_id, tags, class), g)),
        Ok(None) => o.outside += 1,
        Err(()) => o.invalid += 1,
    }
}

/// Builds every layer from what was read; `tick` is called once per way or relation.
pub fn build(
    data: &OsmData,
    buildings: bool,
    clip: Option<&ClipArea>,
    mut tick: impl FnMut(),
) -> Outputs {
    let mut out: Outputs = Layer::ALL
        .iter()
        .filter(|l| buildings || **l != Layer::Buildings)
        .map(|l| (*l, LayerOutput::default()))
        .collect();
    // A closed way that is an outer ring of a multipolygon of the same layer is drawn by
    // the relation; GDAL's OSM driver leaves it out too.
    let outer_of_relation: std::collections::HashSet<(Layer, i64)> = data
        .relations
        .iter()
        .flat_map(|r| {
            let layers = area_layers(&r.tags, buildings);
            r.members
                .iter()
                .filter(|(_, inner)| !inner)
                .flat_map(move |(way, _)| layers.clone().into_iter().map(move |(l, _)| (l, *way)))
        })
        .collect();
    for way in &data.ways {
        tick();
        let osm_id = format!("way/{}", way.id);
        let closed = way.refs.len() >= 4 && way.refs.first() == way.refs.last();
        let area = is_area(&way.tags, closed);
        let mut layers = if area {
            area_layers(&way.tags, buildings)
        } else {
            line_layers(&way.tags)
        };
        if area {
            layers.retain(|(l, _)| !outer_of_relation.contains(&(*l, way.id)));
        }
        if layers.is_empty() {
            continue;
        }
        let Some(cs) = coords(data, &way.refs) else {
            // An extract cut at its edge keeps the nodes inside: a line keeps its runs of
            // known nodes; an area with a node missing cannot be closed and is left out.
            let runs = if area {
                Vec::new()
            } else {
                known_runs(data, &way.refs)
            };
            for (layer, class) in &layers {
                if runs.is_empty() {
                    if let Some(o) = out.get_mut(layer) {
                        o.missing_nodes += 1;
                    }
                    continue;
                }
                let parts: Vec<geo::Geometry> = runs
                    .iter()
                    .filter_map(|r| clip_line(LineString::from(r.clone()), clip))
                    .collect();
                let g = join_lines(parts);
                record(&mut out, *layer, &osm_id, &way.tags, class, Ok(g));
            }
            continue;
        };
        for (layer, class) in layers {
            let g = if area {
                let mp = MultiPolygon::new(vec![geo::Polygon::new(
                    assemble::ring_line(cs.clone()),
                    vec![],
                )]);
                assemble::valid_areas(mp)
                    .ok_or(())
                    .and_then(|mp| clip_areas(mp, clip))
            } else {
                Ok(clip_line(LineString::from(cs.clone()), clip))
            };
            record(&mut out, layer, &osm_id, &way.tags, &class, g);
        }
    }
    for rel in &data.relations {
        tick();
        let osm_id = format!("relation/{}", rel.id);
        let layers = area_layers(&rel.tags, buildings);
        let mut ways = (Vec::new(), Vec::new());
        let mut missing = false;
        for (way, inner) in &rel.members {
            match data.member_ways.get(way) {
                Some(refs) if refs.iter().any(|n| !data.nodes.contains_key(n)) => missing = true,
                Some(refs) if *inner => ways.1.push(refs.clone()),
                Some(refs) => ways.0.push(refs.clone()),
                None => missing = true,
            }
        }
        let ring_coords = |ways: Vec<Vec<i64>>| -> Option<Vec<LineString>> {
            assemble::rings(ways)?
                .iter()
                .map(|r| coords(data, r).map(assemble::ring_line))
                .collect()
        };
        let geometry = if missing {
            None
        } else {
            ring_coords(ways.0).zip(ring_coords(ways.1))
        };
        for (layer, class) in layers {
            let g = match &geometry {
                None if missing => {
                    if let Some(o) = out.get_mut(&layer) {
                        o.missing_nodes += 1;
                    }
                    continue;
                }
                None => Err(()),
                Some((outers, inners)) => assemble::multipolygon(outers.clone(), inners.clone())
                    .ok_or(())
                    .and_then(|mp| clip_areas(mp, clip)),
            };
            record(&mut out, layer, &osm_id, &rel.tags, &class, g);
        }
    }
    out
}
