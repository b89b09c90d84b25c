//! What a data set's layers and fields are worth: real, estimated, illustrative or imported,
//! and from where. Read from the data set's `manifest.json` and shown to users, so that
//! invented figures are never presented as real ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How far a layer's geometry or a field's values can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Taken from an authoritative source.
    Real,
    /// Placed by hand or derived, with a stated precision.
    Estimated,
    /// Made up for demonstration; must be marked as such wherever it is shown.
    Illustrative,
    /// Copied from another system (the layer's or field's `source` names it).
    Imported,
    /// Differs by feature: each feature's `geometry` property says which.
    Mixed,
}

impl Basis {
    /// Whether users must be told that what they see is not real.
    pub fn is_illustrative(self) -> bool {
        matches!(self, Basis::Illustrative)
    }
}

/// Provenance of one field of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldProvenance {
    /// What the values are worth.
    pub basis: Basis,
    /// Where the values come from, when not the layer's source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Provenance of one layer (one file) of a data set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerProvenance {
    /// What the geometry is worth.
    pub geometry: Basis,
    /// Where the layer comes from, in a sentence.
    pub source: String,
    /// Per field (feature property), what its values are worth.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldProvenance>,
}

impl LayerProvenance {
    /// Fields whose values are illustrative, in name order.
    pub fn illustrative_fields(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|(_, f)| f.basis.is_illustrative())
            .map(|(k, _)| k.as_str())
    }
}

/// A short notice in both page languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Simplified Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// What a whole data set is worth, layer by layer. Empty when the data set says nothing
/// (no `manifest.json`, or one without `provenance`): then nothing is claimed either way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// By data-set layer: `district`, `subdistricts`, `streets`, `landmarks`, `sites`.
    #[serde(default)]
    pub layers: BTreeMap<String, LayerProvenance>,
    /// What to tell users while illustrative figures or shapes are on screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// The credit the data's licence requires (`© OpenStreetMap contributors`), shown with
    /// the map and in TileJSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// The licence of imported data (`ODbL 1.0 …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
}

impl Provenance {
    /// The provenance of a data-set layer, if the manifest describes it.
    pub fn layer(&self, id: &str) -> Option<&LayerProvenance> {
        self.layers.get(id)
    }

    /// Whether anything in the data set is illustrative (geometry or any field).
    ///
    /// # Examples
    /// ```
    /// # use renewal_map::model::{Basis, LayerProvenance, Provenance};
    /// let mut p = Provenance::default();
    /// assert!(!p.has_illustrative());
    /// p.layers.insert("streets".into(), LayerProvenance {
    ///     geometry: Basis::Illustrative, source: "generated".into(), fields: Default::default() });
    /// assert!(p.has_illustrative());
    /// ```
    pub fn has_illustrative(&self) -> bool {
        self.layers.values().any(|l| {
            l.geometry.is_illustrative() || l.fields.values().any(|f| f.basis.is_illustrative())
        })
    }
}
