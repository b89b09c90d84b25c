//! The renewal programme's domain: sites, their kinds and lifecycle, sub-districts, the plan.
//!
//! Pure data and validation. This module imports nothing from the rest of the crate and knows
//! nothing about files, HTTP, tiles or databases.

mod date;
mod site;

pub use date::{Date, Timestamp};
pub use site::{
    BaseFeature, BaseKind, Compound, GeometryBasis, Plan, Programme, ProgrammeTarget, RenewalKind,
    RenewalStatus, Site, SiteDetail, SiteId, SubDistrict, UnknownName,
};
