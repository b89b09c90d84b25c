//! The renewal programme's domain: sites, their kinds and lifecycle, sub-districts, the plan.
//!
//! Pure data and validation. This module imports nothing from the rest of the crate and knows
//! nothing about files, HTTP, tiles or databases.

mod access;
mod date;
mod evidence;
mod filter;
mod provenance;
mod site;
mod transition;

pub use access::{Account, Role};
pub use date::{Date, Timestamp};
pub use evidence::{
    MAX_ACCURACY_M, MAX_PHOTOS_PER_UPDATE, Position, check_photo_list, is_photo_id,
};
pub use filter::SiteFilter;
pub use provenance::{Basis, FieldProvenance, LayerProvenance, Notice, Provenance};
pub use site::{
    BaseFeature, BaseKind, Compound, DEFAULT_TIME_ZONE, GeometryBasis, MAX_TIME_ZONE_CHARS, Plan,
    Programme, ProgrammeTarget, RenewalKind, RenewalStatus, Site, SiteDetail, SiteId, SubDistrict,
    UnknownName, is_time_zone_name,
};
pub use transition::{
    BreachKind, MAX_INVESTMENT_WAN, MAX_NOTE_CHARS, RuleBreach, SitePatch, apply_patch,
};

/// Everything a district's data set holds: the plan, the base map and the renewal sites.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Targets the programme is measured against.
    pub plan: Plan,
    /// The sub-districts, in file order.
    pub subdistricts: Vec<SubDistrict>,
    /// Base-map features: outline, sub-district areas, streets, landmarks.
    pub base: Vec<BaseFeature>,
    /// The renewal sites, in file order.
    pub sites: Vec<Site>,
    /// What each layer and field is worth (from `manifest.json`; empty when absent).
    pub provenance: Provenance,
}
