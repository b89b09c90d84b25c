//! MapLibre Tiles (MLT): a tile's MVT bytes converted to MLT, and MLT read back into features
//! (for tests and figures). The only module that knows `mlt-core`.
//!
//! MLT is made from the MVT the encoder produced, so both formats carry the very same
//! features: same layers in the same order, same feature order, ids, properties and tile
//! coordinates (extent 4096). The encoder is configured for what the MLT decoder bundled in
//! MapLibre GL JS 5.24.1 (its copy of `@maplibre/mlt`) reads, as the page's browser test
//! checks: FastPFOR integers are allowed; FSST strings are not (that decoder fails on an FSST
//! string column without nulls: it builds the column with a null presence vector and reads
//! its `size`); shared string dictionaries are not (it reads one only when every child column
//! carries a presence stream); no pre-tessellated polygons (MapLibre tessellates itself, and
//! tessellation would add bytes); and no feature reordering (spatial or id sorts), so draw
//! order and label priority match the MVT tile. Plain and dictionary strings remain.

use geo::Geometry;
use mlt_core::encoder::EncoderConfig;
use mlt_core::{Decoder, Layer, Parser, PropValue};

/// Why a tile could not be converted to or read from MLT.
#[derive(Debug, thiserror::Error)]
pub enum MltError {
    /// The MVT bytes given do not parse.
    #[error("cannot read the MVT tile for MLT: {0}")]
    ReadMvt(#[source] mlt_core::MltError),
    /// One layer could not be written as MLT.
    #[error("cannot encode layer {layer:?} as MLT: {source}")]
    Encode {
        /// The layer's name.
        layer: String,
        /// What the encoder said.
        #[source]
        source: mlt_core::MltError,
    },
    /// MLT bytes do not parse or decode.
    #[error("cannot decode the MLT tile: {0}")]
    Decode(#[source] mlt_core::MltError),
}

/// The encoder settings (see the module notes for why each is chosen).
fn config() -> EncoderConfig {
    EncoderConfig::default()
        .with_tessellation(false)
        .with_shared_dict(false)
        .with_spatial_morton_sort(false)
        .with_spatial_hilbert_sort(false)
        .with_id_sort(false)
        .with_fsst(false)
        .with_fastpfor(true)
}

/// Converts an MVT tile to MLT: one MLT layer record per MVT layer, in the same order (an
/// MLT tile is the concatenation of its layer records). A layer without features is left out.
///
/// # Examples
/// ```
/// let mvt = {
///     let mut tile = mvt::Tile::new(4096);
///     let layer = tile.create_layer("parks");
///     let point = mvt::GeomEncoder::new(mvt::GeomType::Point).point(10.0, 20.0).unwrap();
///     let mut f = layer.into_feature(point.encode().unwrap());
///     f.set_id(7);
///     f.add_tag_string("name", "Plaza");
///     tile.add_layer(f.into_layer()).unwrap();
///     tile.to_bytes().unwrap()
/// };
/// let mlt = renewal_map::tiles::mlt::mvt_to_mlt(&mvt).unwrap();
/// let layers = renewal_map::tiles::mlt::decode(&mlt).unwrap();
/// assert_eq!(layers[0].name, "parks");
/// assert_eq!(layers[0].features[0].id, Some(7));
/// assert_eq!(layers[0].features[0].geometry, geo::Geometry::Point(geo::Point::new(10, 20)));
/// ```
pub fn mvt_to_mlt(mvt: &[u8]) -> Result<Vec<u8>, MltError> {
    let layers = mlt_core::mvt::mvt_to_tile_layers(mvt).map_err(MltError::ReadMvt)?;
    let mut out = Vec::with_capacity(mvt.len());
    for layer in layers {
        let name = layer.name().to_owned();
        let record = layer.encode(config()).map_err(|source| MltError::Encode {
            layer: name,
            source,
        })?;
        out.extend_from_slice(&record);
    }
    Ok(out)
}

/// A property value read from an MLT tile.
#[derive(Debug, Clone, PartialEq)]
pub enum MltValue {
    /// A boolean.
    Bool(bool),
    /// A signed integer (any width).
    Int(i64),
    /// An unsigned integer (any width).
    UInt(u64),
    /// A floating-point number (either width, widened).
    Float(f64),
    /// A string.
    Str(String),
}

/// One feature read from an MLT tile, in tile coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct MltFeature {
    /// The feature id, when it has one.
    pub id: Option<u64>,
    /// The geometry in tile coordinates (0..extent, y down).
    pub geometry: Geometry<i32>,
    /// The properties it has (columns where it is null are left out), in column order.
    pub properties: Vec<(String, MltValue)>,
}

/// One layer read from an MLT tile.
#[derive(Debug, Clone, PartialEq)]
pub struct MltLayer {
    /// The layer's name.
    pub name: String,
    /// Tile units across the tile.
    pub extent: u32,
    /// Its features, in tile order.
    pub features: Vec<MltFeature>,
}

/// Reads every layer of an MLT tile (layers of a kind this decoder does not know are skipped,
/// as the format asks).
pub fn decode(mlt: &[u8]) -> Result<Vec<MltLayer>, MltError> {
    let parsed = Parser::default()
        .parse_layers(mlt)
        .map_err(MltError::Decode)?;
    let mut dec = Decoder::default();
    let mut out = Vec::with_capacity(parsed.len());
    for layer in parsed {
        let Layer::Tag01(layer) = layer else { continue };
        let tile = layer.into_tile(&mut dec).map_err(MltError::Decode)?;
        let names = tile.property_names();
        let features = tile
            .features()
            .iter()
            .map(|f| MltFeature {
                id: f.id(),
                geometry: f.geometry().clone(),
                properties: names
                    .iter()
                    .zip(f.properties())
                    .filter_map(|(n, v)| value(v).map(|v| (n.clone(), v)))
                    .collect(),
            })
            .collect();
        out.push(MltLayer {
            name: tile.name().to_owned(),
            extent: tile.extent().get(),
            features,
        });
    }
    Ok(out)
}

/// The value of a property, `None` when null.
fn value(v: &PropValue) -> Option<MltValue> {
    Some(match v {
        PropValue::Bool(b) => MltValue::Bool((*b)?),
        PropValue::I8(n) => MltValue::Int((*n)?.into()),
        PropValue::I32(n) => MltValue::Int((*n)?.into()),
        PropValue::I64(n) => MltValue::Int((*n)?),
        PropValue::U8(n) => MltValue::UInt((*n)?.into()),
        PropValue::U32(n) => MltValue::UInt((*n)?.into()),
        PropValue::U64(n) => MltValue::UInt((*n)?),
        PropValue::F32(n) => MltValue::Float((*n)?.into()),
        PropValue::F64(n) => MltValue::Float((*n)?),
        PropValue::Str(s) => MltValue::Str(s.clone()?),
    })
}

#[cfg(test)]
mod tests {
    use super::{MltError, MltValue, decode, mvt_to_mlt};

    fn tile() -> Vec<u8> {
        let mut tile = mvt::Tile::new(4096);
        let layer = tile.create_layer("roads");
        let geom = mvt::GeomEncoder::new(mvt::GeomType::Linestring)
            .point(0.0, 0.0)
            .and_then(|g| g.point(100.0, 50.0))
            .and_then(|g| g.point(4096.0, 4096.0))
            .and_then(|g| g.encode())
            .expect("geometry");
        let mut f = layer.into_feature(geom);
        f.set_id(3);
        f.add_tag_string("name", "梅江街");
        f.add_tag_double("length_m", 812.5);
        f.add_tag_bool("late", true);
        let layer = f.into_layer();
        tile.add_layer(layer).expect("layer");
        tile.to_bytes().expect("bytes")
    }

    #[test]
    fn a_line_with_properties_round_trips() {
        let mlt = mvt_to_mlt(&tile()).expect("converts");
        let layers = decode(&mlt).expect("decodes");
        assert_eq!(layers.len(), 1);
        assert_eq!((layers[0].name.as_str(), layers[0].extent), ("roads", 4096));
        let f = &layers[0].features[0];
        assert_eq!(f.id, Some(3));
        let geo::Geometry::LineString(line) = &f.geometry else {
            panic!("a line, got {:?}", f.geometry)
        };
        let pts: Vec<(i32, i32)> = line.points().map(|p| (p.x(), p.y())).collect();
        assert_eq!(pts, [(0, 0), (100, 50), (4096, 4096)]);
        let get = |k: &str| f.properties.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        assert_eq!(get("name"), Some(&MltValue::Str("梅江街".into())));
        assert_eq!(get("length_m"), Some(&MltValue::Float(812.5)));
        assert_eq!(get("late"), Some(&MltValue::Bool(true)));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            mvt_to_mlt(&[0x1a, 0xff, 0xff]),
            Err(MltError::ReadMvt(_))
        ));
        assert!(matches!(
            decode(&[0x05, 0x01, 0x02]),
            Err(MltError::Decode(_))
        ));
        assert!(decode(&[]).expect("an empty tile").is_empty());
    }
}
