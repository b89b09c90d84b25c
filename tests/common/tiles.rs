//! Tile helpers shared by the tile tests: undoing a content coding, and reading a tile's
//! features — MVT with the independent `mvt-reader`, MLT with the service's own reader — into
//! one comparable form (layer, id, geometry type and tile coordinates, property values).

use std::collections::BTreeMap;
use std::io::Read;

use geo::Geometry;
use mvt_reader::Reader;
use mvt_reader::feature::Value;
use renewal_map::tiles::mlt::{MltValue, decode};

/// `body` with the content coding `coding` (`gzip`, `br` or `zstd`) undone.
pub fn decompress(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("gzip decodes");
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("brotli decodes");
        }
        "zstd" => out = zstd::stream::decode_all(body).expect("zstd decodes"),
        other => panic!("unexpected coding {other}"),
    }
    out
}

/// A property value as both formats can say it: numbers as `f64` bits compared exactly
/// (every value the service writes is an integer below 2^53 or a double).
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
}

/// Geometry kind and parts in tile units: points, lines, or polygons' rings, each a list of
/// vertices (multi-geometries and single ones of a kind read the same).
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// `point`, `line` or `polygon`.
    pub kind: &'static str,
    /// Each part's vertices (a polygon contributes each of its rings as a part).
    pub parts: Vec<Vec<(i64, i64)>>,
}

/// One feature in comparable form.
#[derive(Debug, Clone, PartialEq)]
pub struct Feat {
    /// Feature id.
    pub id: Option<u64>,
    /// Geometry.
    pub shape: Shape,
    /// Properties by name (nulls left out).
    pub props: BTreeMap<String, Prop>,
}

/// A tile's layers, in order: name and features in tile order.
pub type Layers = Vec<(String, Vec<Feat>)>;

fn shape<T: geo::CoordNum + Into<f64>>(g: &Geometry<T>) -> Shape {
    let pt = |c: geo::Coord<T>| (c.x.into().round() as i64, c.y.into().round() as i64);
    let line = |l: &geo::LineString<T>| l.coords().map(|c| pt(*c)).collect::<Vec<_>>();
    let rings = |p: &geo::Polygon<T>| {
        std::iter::once(line(p.exterior()))
            .chain(p.interiors().iter().map(line))
            .collect::<Vec<_>>()
    };
    match g {
        Geometry::Point(p) => Shape {
            kind: "point",
            parts: vec![vec![pt(p.0)]],
        },
        Geometry::MultiPoint(m) => Shape {
            kind: "point",
            parts: m.iter().map(|p| vec![pt(p.0)]).collect(),
        },
        Geometry::LineString(l) => Shape {
            kind: "line",
            parts: vec![line(l)],
        },
        Geometry::MultiLineString(m) => Shape {
            kind: "line",
            parts: m.iter().map(line).collect(),
        },
        Geometry::Polygon(p) => Shape {
            kind: "polygon",
            parts: rings(p),
        },
        Geometry::MultiPolygon(m) => Shape {
            kind: "polygon",
            parts: m.iter().flat_map(rings).collect(),
        },
        other => panic!("unexpected geometry {other:?}"),
    }
}

/// The layers of an MVT tile as `mvt-reader` reads them.
pub fn mvt_layers(mvt: &[u8]) -> Layers {
    let reader = Reader::new(mvt.to_vec()).expect("MVT decodes");
    let names = reader.get_layer_names().expect("layer names");
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let fs = reader.get_features_as::<f64>(i).expect("features decode");
            let fs = fs
                .iter()
                .map(|f| Feat {
                    id: f.id,
                    shape: shape(&f.geometry),
                    props: f
                        .properties
                        .iter()
                        .flatten()
                        .filter_map(|(k, v)| {
                            let v = match v {
                                Value::String(s) => Prop::Str(s.clone()),
                                Value::Float(x) => Prop::Num(f64::from(*x)),
                                Value::Double(x) => Prop::Num(*x),
                                Value::Int(x) | Value::SInt(x) => Prop::Num(*x as f64),
                                Value::UInt(x) => Prop::Num(*x as f64),
                                Value::Bool(b) => Prop::Bool(*b),
                                Value::Null => return None,
                            };
                            Some((k.clone(), v))
                        })
                        .collect(),
                })
                .collect();
            (name, fs)
        })
        .collect()
}

/// The layers of an MLT tile as the service's MLT reader reads them (extent checked: 4096).
pub fn mlt_layers(mlt: &[u8]) -> Layers {
    decode(mlt)
        .expect("MLT decodes")
        .into_iter()
        .map(|layer| {
            assert_eq!(layer.extent, 4096, "layer {} extent", layer.name);
            let fs = layer
                .features
                .iter()
                .map(|f| Feat {
                    id: f.id,
                    shape: shape(&f.geometry),
                    props: f
                        .properties
                        .iter()
                        .map(|(k, v)| {
                            let v = match v {
                                MltValue::Str(s) => Prop::Str(s.clone()),
                                MltValue::Bool(b) => Prop::Bool(*b),
                                MltValue::Int(x) => Prop::Num(*x as f64),
                                MltValue::UInt(x) => Prop::Num(*x as f64),
                                MltValue::Float(x) => Prop::Num(*x),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                })
                .collect();
            (layer.name, fs)
        })
        .collect()
}
