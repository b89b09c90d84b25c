//! Reads what the base layers need from an OSM PBF file (osmpbf), in three passes so that
//! only the needed ways and nodes are held: relations first (which ways they use), then
//! ways (which nodes they use), then the nodes' positions.
//!
//! Knows the PBF format through `osmpbf` only; which tags make a layer is [`super::layers`]'s
//! business, passed in as two predicates.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use osmpbf::{BlobDecode, BlobReader, Element, RelMemberType};

use crate::export::cli::Meter;

/// A feature's tags.
pub type Tags = BTreeMap<String, String>;

/// A way: its id, tags and node references.
#[derive(Debug, Clone)]
pub struct OsmWay {
    /// OSM way id.
    pub id: i64,
    /// Its tags.
    pub tags: Tags,
    /// Node ids in order.
    pub refs: Vec<i64>,
}

/// A multipolygon relation: its id, tags and way members (`true` when the role is `inner`).
#[derive(Debug, Clone)]
pub struct OsmRelation {
    /// OSM relation id.
    pub id: i64,
    /// Its tags.
    pub tags: Tags,
    /// Way members with whether their role is `inner`.
    pub members: Vec<(i64, bool)>,
}

/// What was read: the wanted ways and relations, the member ways, and node positions.
#[derive(Debug, Default)]
pub struct OsmData {
    /// Ways whose own tags make them a feature, in file order.
    pub ways: Vec<OsmWay>,
    /// Relations whose tags make them an area feature, in file order.
    pub relations: Vec<OsmRelation>,
    /// Node references of every way a kept relation uses.
    pub member_ways: HashMap<i64, Vec<i64>>,
    /// `[lng, lat]` (WGS84 degrees) of every node a kept way or member way uses.
    pub nodes: HashMap<i64, [f64; 2]>,
    /// Data blocks in the file.
    pub blocks: u64,
}

fn tags<'a>(iter: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
    iter.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// Calls `f` on every element of every data block; `meter` ticks once per block.
fn each_element(
    file: &Path,
    meter: Option<&mut Meter>,
    mut f: impl FnMut(Element<'_>),
) -> Result<u64, String> {
    let what = |e: osmpbf::Error| format!("{}: not a readable OSM PBF file: {e}", file.display());
    let reader = BlobReader::from_path(file).map_err(what)?;
    let mut meter = meter;
    let mut blocks = 0;
    let mut header_seen = false;
    for blob in reader {
        let blob = blob.map_err(what)?;
        match blob.decode().map_err(what)? {
            BlobDecode::OsmHeader(_) => header_seen = true,
            BlobDecode::OsmData(block) => {
                if !header_seen {
                    return Err(format!(
                        "{}: not an OSM PBF file: data before the OSMHeader block",
                        file.display()
                    ));
                }
                blocks += 1;
                block.for_each_element(&mut f);
                if let Some(m) = meter.as_deref_mut() {
                    m.tick();
                }
            }
            BlobDecode::Unknown(_) => {}
        }
    }
    if !header_seen {
        return Err(format!(
            "{}: not an OSM PBF file: no OSMHeader block",
            file.display()
        ));
    }
    Ok(blocks)
}

/// Reads `file`: relations for which `wants_relation(tags)` holds, ways for which
/// `wants_way(tags)` holds, the ways those relations use and the nodes all of them use.
pub fn read(
    file: &Path,
    wants_way: impl Fn(&Tags) -> bool,
    wants_relation: impl Fn(&Tags) -> bool,
) -> Result<OsmData, String> {
    let mut data = OsmData::default();
    let mut member_ids = HashSet::new();
    data.blocks = each_element(file, None, |e| {
        if let Element::Relation(r) = e {
            let t = tags(r.tags());
            if t.get("type").map(String::as_str) != Some("multipolygon") || !wants_relation(&t) {
                return;
            }
            let members: Vec<(i64, bool)> = r
                .members()
                .filter(|m| m.member_type == RelMemberType::Way)
                .map(|m| (m.member_id, m.role().is_ok_and(|role| role == "inner")))
                .collect();
            member_ids.extend(members.iter().map(|m| m.0));
            data.relations.push(OsmRelation {
                id: r.id(),
                tags: t,
                members,
            });
        }
    })?;

    let mut node_ids = HashSet::new();
    let mut meter = Meter::new("reading ways", data.blocks);
    each_element(file, Some(&mut meter), |e| {
        if let Element::Way(w) = e {
            let is_member = member_ids.contains(&w.id());
            let t = tags(w.tags());
            let wanted = wants_way(&t);
            if !(wanted || is_member) {
                return;
            }
            let refs: Vec<i64> = w.refs().collect();
            node_ids.extend(refs.iter().copied());
            if is_member {
                data.member_ways.insert(w.id(), refs.clone());
            }
            if wanted {
                data.ways.push(OsmWay {
                    id: w.id(),
                    tags: t,
                    refs,
                });
            }
        }
    })?;
    meter.finish();

    let mut meter = Meter::new("reading nodes", data.blocks);
    each_element(file, Some(&mut meter), |e| {
        let (id, lng, lat) = match e {
            Element::Node(n) => (n.id(), n.lon(), n.lat()),
            Element::DenseNode(n) => (n.id(), n.lon(), n.lat()),
            _ => return,
        };
        if node_ids.contains(&id) {
            data.nodes.insert(id, [lng, lat]);
        }
    })?;
    meter.finish();
    Ok(data)
}
