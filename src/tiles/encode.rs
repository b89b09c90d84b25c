//! Encodes one tile of a [`Snapshot`] as a Mapbox Vector Tile (MVT 2.1) with the `mvt` crate.
//!
//! Geometry arrives projected (done once at load); here it is moved to tile units, clipped to
//! the buffered tile, simplified for the zoom, snapped to the grid, cleaned of degenerate
//! rings and given MVT winding. Only this module knows `mvt`.

use mvt::{GeomData, GeomEncoder, GeomType, Layer, Tile};

use super::clip::{
    Rect, clip_line, clip_polygon, ring_area2, simplify_line, simplify_ring, snap_line, snap_ring,
};
use super::{BUFFER, EXTENT, FULL_DETAIL_ZOOM, TileCoord};
use crate::mercator::MercGeom;
use crate::model::{BaseKind, Date, RenewalKind, Site, SiteFilter};
use crate::snapshot::Snapshot;

/// The layers a tile may hold, in drawing order, and what each carries.
pub const LAYERS: &[(&str, &str)] = &[
    (
        "district",
        "District outline (polygon): name, name_en, code, basis",
    ),
    (
        "subdistricts",
        "Sub-districts 街道 (polygon): name, name_en, code, basis",
    ),
    (
        "green",
        "Existing green space: parks, gardens, playgrounds (polygon): name, class, osm_id, basis",
    ),
    (
        "water",
        "Lakes and ponds (polygon), rivers and canals (line): name, class, osm_id, basis",
    ),
    (
        "buildings",
        "Building footprints (polygon): name, class, osm_id, basis",
    ),
    (
        "streets",
        "Base street network (line): name, class, osm_id, basis",
    ),
    (
        "railways",
        "Railway lines (line): name, class, osm_id, basis",
    ),
    (
        "compounds",
        "Old residential compounds 老旧小区 (polygon): site fields, households, built_year",
    ),
    (
        "parks",
        "Pocket parks 口袋公园 (polygon): site fields, area_m2, open",
    ),
    ("plazas", "Public squares (polygon): site fields"),
    (
        "roads",
        "Renewed roads, opened sections, logistics road, alleys (line): site fields, length_m",
    ),
    ("landmarks", "Named landmarks (point): name, kind, basis"),
    (
        "site_points",
        "Every renewal site as a point at its label position: site fields",
    ),
];

/// The site fields every site layer carries, with their MVT value types.
pub const SITE_FIELDS: &[(&str, &str)] = &[
    ("id", "String"),
    ("name", "String"),
    ("name_en", "String"),
    ("kind", "String"),
    ("status", "String"),
    ("progress", "Number"),
    ("late", "Boolean"),
    ("subdistrict", "String"),
    ("investment_wan", "Number"),
    ("planned_finish", "String"),
];

/// The attribute fields of layer `id` and their TileJSON types (`String`, `Number`,
/// `Boolean`), as `vector_layers[].fields` of the live TileJSON and of the exported archives
/// name them.
pub fn layer_fields(id: &str) -> serde_json::Value {
    use serde_json::json;
    match id {
        "district" | "subdistricts" => {
            json!({"name": "String", "name_en": "String", "code": "String", "basis": "String"})
        }
        "streets" | "green" | "water" | "railways" | "buildings" => {
            json!({"name": "String", "name_en": "String", "class": "String", "osm_id": "String", "basis": "String"})
        }
        "landmarks" => {
            json!({"name": "String", "name_en": "String", "kind": "String", "basis": "String"})
        }
        site_layer => {
            let mut f: serde_json::Map<String, serde_json::Value> = SITE_FIELDS
                .iter()
                .map(|(k, t)| ((*k).to_owned(), json!(t)))
                .collect();
            let extra: &[(&str, &str)] = match site_layer {
                "parks" => &[("area_m2", "Number"), ("open", "Boolean")],
                "compounds" => &[("households", "Number"), ("built_year", "Number")],
                "roads" => &[("length_m", "Number")],
                _ => &[],
            };
            for (k, t) in extra {
                f.insert((*k).to_owned(), json!(t));
            }
            serde_json::Value::Object(f)
        }
    }
}

/// Features whose tile-space bounding box is smaller than this on both sides (half a pixel
/// of a 256 px tile) are left out of area and line layers; `site_points` still shows them.
const MIN_FEATURE_UNITS: f64 = (EXTENT / 512) as f64;

/// Why a tile could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("encoding tile {z}/{x}/{y}: {source}", z = tile.z, x = tile.x, y = tile.y)]
pub struct EncodeError {
    /// The tile.
    pub tile: TileCoord,
    /// The `mvt` error.
    pub source: mvt::Error,
}

/// What to put in a tile.
#[derive(Debug, Clone, Copy)]
pub struct TileRequest<'a> {
    /// Which tile.
    pub tile: TileCoord,
    /// Which sites.
    pub filter: &'a SiteFilter,
    /// The date against which sites are late.
    pub today: Date,
}

/// Encodes one tile. `Ok(None)` means the tile holds no feature at all.
pub fn encode_tile(snap: &Snapshot, req: TileRequest<'_>) -> Result<Option<Vec<u8>>, EncodeError> {
    let tile = req.tile;
    let err = |source| EncodeError { tile, source };
    let mut ctx = Ctx::new(tile);
    let mut out = Tile::new(EXTENT);
    let base = &snap.fixed.base_shapes;
    let base_hits = base.index.query(tile.buffered_bounds());
    let site_hits = snap.fixed.site_shapes.index.query(tile.buffered_bounds());

    for &(name, _) in LAYERS {
        let mut layer = out.create_layer(name);
        match name {
            "district" | "subdistricts" | "streets" | "landmarks" | "green" | "water"
            | "railways" | "buildings" => {
                let kind = match name {
                    "district" => BaseKind::District,
                    "subdistricts" => BaseKind::SubDistrict,
                    "streets" => BaseKind::Street,
                    "green" => BaseKind::GreenSpace,
                    "water" => BaseKind::Water,
                    "railways" => BaseKind::Railway,
                    "buildings" => BaseKind::Building,
                    _ => BaseKind::Landmark,
                };
                for &pos in &base_hits {
                    let b = &snap.fixed.base[pos];
                    if b.kind != kind {
                        continue;
                    }
                    let Some(geom) = ctx.geometry(&base.merc[pos]).map_err(err)? else {
                        continue;
                    };
                    let mut f = layer.into_feature(geom);
                    f.set_id(b.fid);
                    if !b.name.is_empty() {
                        f.add_tag_string("name", &b.name);
                    }
                    if let Some(osm_id) = &b.osm_id {
                        f.add_tag_string("osm_id", osm_id);
                    }
                    if let Some(name_en) = &b.name_en {
                        f.add_tag_string("name_en", name_en);
                    }
                    if let Some(code) = &b.code {
                        f.add_tag_string("code", code);
                    }
                    if let Some(class) = &b.class {
                        f.add_tag_string(
                            if kind == BaseKind::Landmark {
                                "kind"
                            } else {
                                "class"
                            },
                            class,
                        );
                    }
                    f.add_tag_string("basis", b.basis.as_str());
                    layer = f.into_layer();
                }
            }
            "site_points" => {
                let shown = tile.bounds();
                // A site's label point lies within its bounds, so the tile's index hits cover it.
                for &pos in &site_hits {
                    let site = &snap.sites[pos];
                    let p = snap.fixed.site_anchors[pos];
                    if !(shown.contains(p)
                        && p[0] < shown.max_x
                        && p[1] < shown.max_y
                        && req.filter.matches(site))
                    {
                        continue;
                    }
                    let Some(geom) = ctx.geometry(&MercGeom::Points(vec![p])).map_err(err)? else {
                        continue;
                    };
                    layer = site_feature(layer, geom, site, req.today);
                }
            }
            _ => {
                for &pos in &site_hits {
                    let site = &snap.sites[pos];
                    if site_layer(site.kind) != name || !req.filter.matches(site) {
                        continue;
                    }
                    let Some(geom) = ctx
                        .geometry(&snap.fixed.site_shapes.merc[pos])
                        .map_err(err)?
                    else {
                        continue;
                    };
                    layer = site_feature(layer, geom, site, req.today);
                }
            }
        }
        if layer.num_features() > 0 {
            out.add_layer(layer).map_err(err)?;
        }
    }
    if out.num_layers() == 0 {
        return Ok(None);
    }
    out.to_bytes().map(Some).map_err(err)
}

/// The layer a site of this kind is drawn in.
pub fn site_layer(kind: RenewalKind) -> &'static str {
    match kind {
        RenewalKind::Compound => "compounds",
        RenewalKind::PocketPark => "parks",
        RenewalKind::Plaza => "plazas",
        RenewalKind::Road
        | RenewalKind::RoadOpening
        | RenewalKind::LogisticsRoad
        | RenewalKind::Alley => "roads",
    }
}

fn site_feature(layer: Layer, geom: GeomData, site: &Site, today: Date) -> Layer {
    let mut f = layer.into_feature(geom);
    f.set_id(site.fid);
    f.add_tag_string("id", site.id.as_str());
    f.add_tag_string("name", &site.name);
    if let Some(name_en) = &site.name_en {
        f.add_tag_string("name_en", name_en);
    }
    f.add_tag_string("kind", site.kind.as_str());
    f.add_tag_string("status", site.status.as_str());
    f.add_tag_uint("progress", u64::from(site.progress));
    f.add_tag_bool("late", site.is_late(today));
    f.add_tag_string("subdistrict", &site.subdistrict);
    f.add_tag_double("investment_wan", site.investment_wan);
    f.add_tag_string("planned_finish", &site.planned_finish.to_string());
    match site.kind {
        RenewalKind::PocketPark => {
            f.add_tag_double("area_m2", site.area_m2.round());
            f.add_tag_bool("open", site.is_open());
        }
        RenewalKind::Compound => {
            if let Some(c) = site.compound() {
                f.add_tag_uint("households", u64::from(c.households));
                f.add_tag_uint("built_year", u64::from(c.built_year));
            }
        }
        k if k.is_linear() => f.add_tag_double("length_m", site.length_m.round()),
        _ => {}
    }
    f.into_layer()
}

/// Per-tile geometry pipeline settings.
struct Ctx {
    tile: TileCoord,
    clip: Rect,
    eps: f64,
}

impl Ctx {
    fn new(tile: TileCoord) -> Ctx {
        let b = f64::from(BUFFER);
        let e = f64::from(EXTENT);
        Ctx {
            tile,
            clip: Rect {
                min: [-b, -b],
                max: [e + b, e + b],
            },
            // Below full detail, drop vertices that move the outline by less than 1/8 pixel.
            eps: if tile.z >= FULL_DETAIL_ZOOM {
                0.0
            } else {
                e / 256.0 / 8.0
            },
        }
    }

    fn to_units(&self, pts: &[[f64; 2]]) -> Vec<[f64; 2]> {
        pts.iter().map(|&p| self.tile.to_tile_units(p)).collect()
    }

    /// The tile geometry of `g`, or `None` when nothing of it is left in the tile.
    fn geometry(&mut self, g: &MercGeom) -> Result<Option<GeomData>, mvt::Error> {
        // Lines and areas smaller than half a pixel as a whole are left out (their parts are
        // not judged one by one, so a feature made of many small parts is kept or dropped whole).
        if !matches!(g, MercGeom::Points(_))
            && let Some(b) = g.bounds()
            && too_small(&self.to_units(&[[b.min_x, b.min_y], [b.max_x, b.max_y]]))
        {
            return Ok(None);
        }
        match g {
            MercGeom::Points(pts) => self.points(pts),
            MercGeom::Lines(lines) => self.lines(lines),
            MercGeom::Polygons(polys) => self.polygons(polys),
        }
    }

    fn points(&self, pts: &[[f64; 2]]) -> Result<Option<GeomData>, mvt::Error> {
        let e = f64::from(EXTENT);
        let inside: Vec<[i32; 2]> = self
            .to_units(pts)
            .into_iter()
            .filter(|p| (0.0..e).contains(&p[0]) && (0.0..e).contains(&p[1]))
            .map(|p| [p[0].round() as i32, p[1].round() as i32])
            .collect();
        if inside.is_empty() {
            return Ok(None);
        }
        let mut enc = GeomEncoder::new(GeomType::Point);
        for p in inside {
            enc.add_point(p[0], p[1])?;
        }
        enc.encode().map(Some)
    }

    fn lines(&self, lines: &[Vec<[f64; 2]>]) -> Result<Option<GeomData>, mvt::Error> {
        let mut parts: Vec<Vec<[i32; 2]>> = Vec::new();
        for line in lines {
            let units = self.to_units(line);
            if !self.clip.touches(&units) {
                continue;
            }
            for piece in clip_line(&units, self.clip) {
                if let Some(snapped) = snap_line(&simplify_line(&piece, self.eps)) {
                    // A piece that starts where the last ended continues it: the encoder would
                    // otherwise fold it into the previous command without a MoveTo.
                    match parts.last_mut() {
                        Some(last) if last.last() == snapped.first() => {
                            last.extend_from_slice(&snapped[1..])
                        }
                        _ => parts.push(snapped),
                    }
                }
            }
        }
        if parts.is_empty() {
            return Ok(None);
        }
        let mut enc = GeomEncoder::new(GeomType::Linestring);
        for part in parts {
            for p in part {
                enc.add_point(p[0], p[1])?;
            }
            enc.complete_geom()?;
        }
        enc.encode().map(Some)
    }

    fn polygons(&self, polys: &[Vec<Vec<[f64; 2]>>]) -> Result<Option<GeomData>, mvt::Error> {
        let mut rings_out: Vec<Vec<[i32; 2]>> = Vec::new();
        for poly in polys {
            let Some(exterior) = poly.first() else {
                continue;
            };
            let ext_units = self.to_units(exterior);
            if !self.clip.touches(&ext_units) {
                continue;
            }
            let units: Vec<Vec<[f64; 2]>> = poly.iter().map(|r| self.to_units(r)).collect();
            let pieces = if self.clip.contains_all(&ext_units) {
                vec![units]
            } else {
                clip_polygon(&units, self.clip)
            };
            for piece in pieces {
                let Some((ext, holes)) = piece.split_first() else {
                    continue;
                };
                let Some(ext) = self.ring(ext, true) else {
                    continue;
                };
                rings_out.push(ext);
                rings_out.extend(holes.iter().filter_map(|h| self.ring(h, false)));
            }
        }
        if rings_out.is_empty() {
            return Ok(None);
        }
        let mut enc = GeomEncoder::new(GeomType::Polygon);
        let mut cursor: Option<[i32; 2]> = None;
        for mut ring in rings_out {
            // The encoder treats a ring starting at the cursor as a continuation; start elsewhere.
            if cursor == ring.first().copied() {
                ring.rotate_left(1);
            }
            cursor = ring.last().copied();
            for p in ring {
                enc.add_point(p[0], p[1])?;
            }
            enc.complete_geom()?;
        }
        enc.encode().map(Some)
    }

    /// Simplify, snap and orient one clipped ring: exterior rings positive area (clockwise on
    /// screen), holes negative, as MVT 2.1 requires.
    fn ring(&self, units: &[[f64; 2]], exterior: bool) -> Option<Vec<[i32; 2]>> {
        if units.len() < 3 {
            return None;
        }
        let mut snapped = snap_ring(&simplify_ring(units, self.eps))?;
        if (ring_area2(&snapped) > 0) != exterior {
            snapped.reverse();
        }
        Some(snapped)
    }
}

fn too_small(units: &[[f64; 2]]) -> bool {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in units {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    hi[0] - lo[0] < MIN_FEATURE_UNITS && hi[1] - lo[1] < MIN_FEATURE_UNITS
}
