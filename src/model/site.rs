//! Renewal sites and the plan they are measured against.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use geo::Geometry;
use serde::{Deserialize, Serialize};

use super::{Date, Timestamp};

/// Where a site is in the renewal lifecycle.
///
/// The normal order is planned → design → tendering → under construction → completed →
/// accepted; `suspended` can interrupt any stage before completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStatus {
    /// Approved in the plan, no work yet.
    Planned,
    /// Being designed.
    Design,
    /// Contract out to tender.
    Tendering,
    /// Works on site.
    UnderConstruction,
    /// Works finished (for parks: open to the public).
    Completed,
    /// Completed and formally accepted (验收).
    Accepted,
    /// Works halted.
    Suspended,
}

impl RenewalStatus {
    /// Every status, in lifecycle order with `suspended` last.
    pub const ALL: [RenewalStatus; 7] = [
        RenewalStatus::Planned,
        RenewalStatus::Design,
        RenewalStatus::Tendering,
        RenewalStatus::UnderConstruction,
        RenewalStatus::Completed,
        RenewalStatus::Accepted,
        RenewalStatus::Suspended,
    ];

    /// The machine name used in data files and the API (`under_construction`).
    pub fn as_str(self) -> &'static str {
        match self {
            RenewalStatus::Planned => "planned",
            RenewalStatus::Design => "design",
            RenewalStatus::Tendering => "tendering",
            RenewalStatus::UnderConstruction => "under_construction",
            RenewalStatus::Completed => "completed",
            RenewalStatus::Accepted => "accepted",
            RenewalStatus::Suspended => "suspended",
        }
    }

    /// The Chinese label shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            RenewalStatus::Planned => "计划",
            RenewalStatus::Design => "设计",
            RenewalStatus::Tendering => "招标",
            RenewalStatus::UnderConstruction => "施工中",
            RenewalStatus::Completed => "已完工",
            RenewalStatus::Accepted => "已验收",
            RenewalStatus::Suspended => "暂停",
        }
    }

    /// Whether the works are finished (completed or accepted).
    pub fn is_done(self) -> bool {
        matches!(self, RenewalStatus::Completed | RenewalStatus::Accepted)
    }

    /// Position in the forward lifecycle; `None` for `suspended`, which sits outside it.
    pub fn stage(self) -> Option<u8> {
        match self {
            RenewalStatus::Suspended => None,
            s => Some(s as u8),
        }
    }
}

impl fmt::Display for RenewalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the enumerated values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {got:?}; expected one of: {expected}")]
pub struct UnknownName {
    /// What was being parsed ("status", "kind").
    pub what: &'static str,
    /// The rejected input (truncated).
    pub got: String,
    /// The accepted names, comma separated.
    pub expected: String,
}

impl FromStr for RenewalStatus {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RenewalStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "status",
                got: s.chars().take(40).collect(),
                expected: RenewalStatus::ALL.map(|k| k.as_str()).join(", "),
            })
    }
}

/// What kind of renewal work a site is; each kind has its own target in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalKind {
    /// A renewed road (道路改造), e.g. 梅江街.
    Road,
    /// A road section newly opened (打通), e.g. the south section of 凌河街.
    RoadOpening,
    /// The 沈飞 logistics road.
    LogisticsRoad,
    /// A back street or alley (背街小巷).
    Alley,
    /// An old residential compound (老旧小区).
    Compound,
    /// A pocket park (口袋公园).
    PocketPark,
    /// A public square, e.g. the North Station north plaza.
    Plaza,
}

impl RenewalKind {
    /// Every kind, in the order the plan lists them.
    pub const ALL: [RenewalKind; 7] = [
        RenewalKind::Road,
        RenewalKind::RoadOpening,
        RenewalKind::LogisticsRoad,
        RenewalKind::Alley,
        RenewalKind::Compound,
        RenewalKind::PocketPark,
        RenewalKind::Plaza,
    ];

    /// The machine name used in data files and the API (`pocket_park`).
    pub fn as_str(self) -> &'static str {
        match self {
            RenewalKind::Road => "road",
            RenewalKind::RoadOpening => "road_opening",
            RenewalKind::LogisticsRoad => "logistics_road",
            RenewalKind::Alley => "alley",
            RenewalKind::Compound => "compound",
            RenewalKind::PocketPark => "pocket_park",
            RenewalKind::Plaza => "plaza",
        }
    }

    /// The Chinese label shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            RenewalKind::Road => "道路改造",
            RenewalKind::RoadOpening => "道路打通",
            RenewalKind::LogisticsRoad => "物流通道",
            RenewalKind::Alley => "背街小巷",
            RenewalKind::Compound => "老旧小区",
            RenewalKind::PocketPark => "口袋公园",
            RenewalKind::Plaza => "广场",
        }
    }

    /// Whether sites of this kind are lines (roads, alleys) rather than areas.
    pub fn is_linear(self) -> bool {
        matches!(
            self,
            RenewalKind::Road
                | RenewalKind::RoadOpening
                | RenewalKind::LogisticsRoad
                | RenewalKind::Alley
        )
    }
}

impl fmt::Display for RenewalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RenewalKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RenewalKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "kind",
                got: s.chars().take(40).collect(),
                expected: RenewalKind::ALL.map(|k| k.as_str()).join(", "),
            })
    }
}

/// Which budget line of the programme a site's project is paid from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Programme {
    /// Construction projects (建设项目).
    Construction,
    /// Maintenance projects (维修项目).
    Maintenance,
}

impl Programme {
    /// The machine name used in data files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Programme::Construction => "construction",
            Programme::Maintenance => "maintenance",
        }
    }
}

/// Whether a geometry was taken from a published source or laid out by the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeometryBasis {
    /// Taken from a published source (possibly converted between datums).
    Real,
    /// Placed from general knowledge, with an uncertainty of hundreds of metres.
    Estimated,
    /// Laid out by the deterministic generator; shows the idea, not the place.
    Illustrative,
}

impl GeometryBasis {
    /// The machine name used in data files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            GeometryBasis::Real => "real",
            GeometryBasis::Estimated => "estimated",
            GeometryBasis::Illustrative => "illustrative",
        }
    }
}

/// A site's stable public identifier, e.g. `compound-017`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SiteId(pub String);

impl SiteId {
    /// Whether `s` has the shape of a site id: 1–64 ASCII letters, digits, `-` or `_`.
    pub fn is_well_formed(s: &str) -> bool {
        (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Facts that only some kinds of site have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SiteDetail {
    /// No extra facts.
    None,
    /// An old residential compound.
    Compound(Compound),
}

/// The facts of an old residential compound (老旧小区).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compound {
    /// Number of households living in it.
    pub households: u32,
    /// Year the buildings were completed.
    pub built_year: u16,
    /// The residents' community (社区) it belongs to.
    pub community: String,
    /// That community's 12-digit NBS code.
    pub community_code: String,
}

/// One renewal site: a road, alley, compound, pocket park or plaza, with its plan and progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Stable public id (`park-042`).
    pub id: SiteId,
    /// Stable numeric id, used as the vector-tile feature id.
    pub fid: u64,
    /// Name in simplified Chinese.
    pub name: String,
    /// Name in English (pinyin with the generic part translated), when the data set has one.
    pub name_en: Option<String>,
    /// What kind of work this is.
    pub kind: RenewalKind,
    /// Name of the sub-district (街道) it lies in.
    pub subdistrict: String,
    /// NBS code of that sub-district.
    pub subdistrict_code: String,
    /// Current lifecycle status.
    pub status: RenewalStatus,
    /// Percent complete, 0–100.
    pub progress: u8,
    /// Budgeted investment in 万元 (10,000 yuan).
    pub investment_wan: f64,
    /// Budget line of the project.
    pub programme: Programme,
    /// The programme project this site belongs to (one project may cover several sites).
    pub project_id: String,
    /// Planned start of works.
    pub planned_start: Date,
    /// Planned finish of works (for parks: planned opening).
    pub planned_finish: Date,
    /// When status or progress last changed.
    pub updated_at: Timestamp,
    /// Where the geometry comes from.
    pub basis: GeometryBasis,
    /// Kind-specific facts.
    pub detail: SiteDetail,
    /// Latest field note, if any.
    pub note: Option<String>,
    /// Number of accepted changes; starts at 1 and is the site's ETag.
    pub version: u64,
    /// Geometry in WGS84 longitude/latitude degrees.
    pub geometry: Geometry<f64>,
    /// Geodesic area in m² (areas) or 0 (lines).
    pub area_m2: f64,
    /// Geodesic length in m (lines) or perimeter (areas).
    pub length_m: f64,
}

impl Site {
    /// Whether the site is past its planned finish without being done, as of `today`.
    pub fn is_late(&self, today: Date) -> bool {
        !self.status.is_done() && self.planned_finish < today
    }

    /// Whether residents can use it: completed or accepted works.
    pub fn is_open(&self) -> bool {
        self.status.is_done()
    }

    /// The compound facts, when the site is a compound.
    pub fn compound(&self) -> Option<&Compound> {
        match &self.detail {
            SiteDetail::Compound(c) => Some(c),
            SiteDetail::None => None,
        }
    }
}

/// A sub-district (街道) of the district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubDistrict {
    /// 9-digit NBS code.
    pub code: String,
    /// Name in simplified Chinese (`三台子街道`).
    pub name: String,
    /// English name.
    pub name_en: String,
}

/// What a base-map feature is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseKind {
    /// The district outline.
    District,
    /// A sub-district area.
    SubDistrict,
    /// A street of the base network.
    Street,
    /// A named landmark point.
    Landmark,
    /// Existing green space: a park, garden or playground (polygon).
    GreenSpace,
    /// Water: a lake or pond (polygon) or a river or canal (line).
    Water,
    /// A railway line (rail, light rail, subway, tram).
    Railway,
    /// A building footprint (polygon).
    Building,
}

/// A feature of the base map: outline, sub-districts, streets, landmarks, green space, water,
/// railways, buildings. Not a renewal site.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseFeature {
    /// Stable numeric id, unique within its kind.
    pub fid: u64,
    /// What it is.
    pub kind: BaseKind,
    /// Name in simplified Chinese.
    pub name: String,
    /// English name, when the data has one.
    pub name_en: Option<String>,
    /// Official code (district, sub-district) when it has one.
    pub code: Option<String>,
    /// Sub-kind: street class (`main`, `secondary`), landmark kind (`park`, `transport`…).
    pub class: Option<String>,
    /// Where the geometry comes from.
    pub basis: GeometryBasis,
    /// The feature's OpenStreetMap id (`way/123`, `relation/45`) when it was imported from OSM.
    pub osm_id: Option<String>,
    /// Geometry in WGS84 longitude/latitude degrees.
    pub geometry: Geometry<f64>,
}

/// One budget line's target: how many projects and how much money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgrammeTarget {
    /// The budget line.
    pub programme: Programme,
    /// Planned number of projects.
    pub projects: u32,
    /// Planned investment in 万元.
    pub investment_wan: f64,
}

/// The district's renewal plan: what it promises, against which progress is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Official code of the district (`210105`).
    pub district_code: String,
    /// District name (`皇姑区`).
    pub district_name: String,
    /// Where the targets were published.
    pub source: String,
    /// Target number of sites per kind.
    pub targets: BTreeMap<RenewalKind, u32>,
    /// Project-count and investment targets per budget line.
    pub programmes: Vec<ProgrammeTarget>,
    /// Walking radii in metres for the park-access indicator (e.g. 300 and 500).
    pub park_service_radii_m: Vec<f64>,
    /// The district's IANA time zone (`Asia/Shanghai`), in which the map page shows times;
    /// `None` (the key left out of `plan.json`) means [`DEFAULT_TIME_ZONE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// The time zone of a data set whose plan names none: the first user's, Shenyang's.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// Longest time zone name a plan may give (IANA names are far shorter).
pub const MAX_TIME_ZONE_CHARS: usize = 64;

impl Plan {
    /// The time zone times are shown in: the plan's, else [`DEFAULT_TIME_ZONE`].
    pub fn time_zone(&self) -> &str {
        self.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE)
    }
}

/// Whether `name` is spelled like an IANA time zone (`Asia/Shanghai`, `UTC`, `Etc/GMT-8`):
/// ASCII letters, digits, `/`, `_`, `-` and `+`, starting with a letter, at most
/// [`MAX_TIME_ZONE_CHARS`]. Whether the zone exists is the browser's to know (the page falls
/// back to [`DEFAULT_TIME_ZONE`] for a zone it does not know).
///
/// # Examples
///
/// ```
/// use renewal_map::model::is_time_zone_name;
/// assert!(is_time_zone_name("Asia/Shanghai"));
/// assert!(is_time_zone_name("Etc/GMT-8"));
/// assert!(!is_time_zone_name(""));
/// assert!(!is_time_zone_name("Asia/Shang hai"));
/// assert!(!is_time_zone_name("../etc"));
/// ```
pub fn is_time_zone_name(name: &str) -> bool {
    name.len() <= MAX_TIME_ZONE_CHARS
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in RenewalStatus::ALL {
            assert_eq!(s.as_str().parse::<RenewalStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in RenewalKind::ALL {
            assert_eq!(k.as_str().parse::<RenewalKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("Completed".parse::<RenewalStatus>().is_err());
    }

    #[test]
    fn lifecycle_order() {
        assert!(RenewalStatus::Planned.stage() < RenewalStatus::Accepted.stage());
        assert_eq!(RenewalStatus::Suspended.stage(), None);
        assert!(RenewalStatus::Accepted.is_done() && !RenewalStatus::Suspended.is_done());
    }

    #[test]
    fn site_ids() {
        assert!(SiteId::is_well_formed("park-042"));
        for bad in ["", "a b", "公园", &"x".repeat(65), "../etc"] {
            assert!(!SiteId::is_well_formed(bad), "{bad}");
        }
    }
}
