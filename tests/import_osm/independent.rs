//! Independent readers of the OSM sample for `tests/import_osm.rs`: GDAL's OSM driver
//! (`ogr2ogr`, ids and geometries per layer) and a plain osmpbf pass (which nodes, ways and
//! relation members the file holds), so the importer's counts are checked against code that
//! is not the importer's.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;

use serde_json::Value;

use super::PBF;

/// The OSM ids GDAL's OSM driver gives for `layer` (lines or multipolygons) under `filter`.
pub fn gdal_ids(layer: &str, filter: &str) -> HashSet<String> {
    gdal_features(layer, filter).into_keys().collect()
}

/// GDAL's features for `layer` under `filter`: OSM id → geometry.
pub fn gdal_features(layer: &str, filter: &str) -> BTreeMap<String, Value> {
    let out = Command::new("ogr2ogr")
        .args([
            "-q",
            "-f",
            "GeoJSON",
            "/vsistdout/",
            PBF,
            layer,
            "-where",
            filter,
        ])
        .output()
        .expect("ogr2ogr not found: install Debian's gdal-bin (scripts/test does)");
    assert!(
        out.status.success(),
        "ogr2ogr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("GDAL GeoJSON");
    let id = |p: &Value, key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
    v["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let key = match (id(p, "osm_id"), id(p, "osm_way_id")) {
                (Some(r), _) if layer == "multipolygons" => format!("relation/{r}"),
                (Some(w), _) => format!("way/{w}"),
                (None, Some(w)) => format!("way/{w}"),
                (None, None) => panic!("GDAL feature without an OSM id: {p}"),
            };
            (key, f["geometry"].clone())
        })
        .collect()
}

/// The sample read independently with osmpbf: node ids, way node lists, relation way members.
pub struct Elements {
    nodes: HashSet<i64>,
    ways: BTreeMap<i64, Vec<i64>>,
    relations: BTreeMap<i64, Vec<i64>>,
}

pub fn elements() -> Elements {
    use osmpbf::{Element, ElementReader, RelMemberType};
    let mut e = Elements {
        nodes: HashSet::new(),
        ways: BTreeMap::new(),
        relations: BTreeMap::new(),
    };
    ElementReader::from_path(PBF)
        .expect("open")
        .for_each(|el| match el {
            Element::Node(n) => {
                e.nodes.insert(n.id());
            }
            Element::DenseNode(n) => {
                e.nodes.insert(n.id());
            }
            Element::Way(w) => {
                e.ways.insert(w.id(), w.refs().collect());
            }
            Element::Relation(r) => {
                let ways = r
                    .members()
                    .filter(|m| m.member_type == RelMemberType::Way)
                    .map(|m| m.member_id)
                    .collect();
                e.relations.insert(r.id(), ways);
            }
        })
        .expect("read");
    e
}

impl Elements {
    /// Whether an area feature cannot be complete in this extract: a node or member way is
    /// not in the file.
    pub fn incomplete(&self, id: &str) -> bool {
        let way_incomplete = |w: &i64| {
            self.ways
                .get(w)
                .is_none_or(|refs| refs.iter().any(|n| !self.nodes.contains(n)))
        };
        match id.split_once('/') {
            Some(("way", w)) => way_incomplete(&w.parse().expect("id")),
            Some(("relation", r)) => self.relations[&r.parse::<i64>().expect("id")]
                .iter()
                .any(way_incomplete),
            _ => panic!("{id}"),
        }
    }
}
