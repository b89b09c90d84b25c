//! Which sites a query asks for: by status, kind, sub-district, lateness.

use super::{Date, RenewalKind, RenewalStatus, Site};

/// A filter over sites; an empty filter matches every site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SiteFilter {
    /// Only these statuses (any of them), when set.
    pub statuses: Option<Vec<RenewalStatus>>,
    /// Only these kinds (any of them), when set.
    pub kinds: Option<Vec<RenewalKind>>,
    /// Only sites in this sub-district, given by NBS code or by name.
    pub subdistrict: Option<String>,
    /// Only sites that are late as of the given date.
    pub late_as_of: Option<Date>,
    /// Only sites with these numeric ids (`fid`), when set: the sites a CQL2 filter matched,
    /// evaluated before the tile is encoded.
    pub fids: Option<std::sync::Arc<std::collections::BTreeSet<u64>>>,
}

impl SiteFilter {
    /// Whether `site` passes every condition of the filter.
    pub fn matches(&self, site: &Site) -> bool {
        self.statuses
            .as_ref()
            .is_none_or(|s| s.contains(&site.status))
            && self.kinds.as_ref().is_none_or(|k| k.contains(&site.kind))
            && self
                .subdistrict
                .as_ref()
                .is_none_or(|d| *d == site.subdistrict_code || *d == site.subdistrict)
            && self.late_as_of.is_none_or(|today| site.is_late(today))
            && self.fids.as_ref().is_none_or(|ids| ids.contains(&site.fid))
    }

    /// Whether the filter has no condition at all.
    pub fn is_empty(&self) -> bool {
        *self == SiteFilter::default()
    }
}
