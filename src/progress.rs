//! Renewal progress figures computed from a snapshot: per kind against the plan's targets, per
//! budget line, per sub-district, and park access. Every number comes from the data.

use std::collections::BTreeMap;

use geo::InteriorPoint;
use serde::Serialize;

use crate::model::{Date, Programme, RenewalKind, RenewalStatus, Site};
use crate::nearest::{ParkScope, nearest_parks};
use crate::snapshot::Snapshot;

/// Counts of sites by status, keyed by the status's machine name.
pub type StatusCounts = BTreeMap<&'static str, u32>;

/// The progress report behind `/api/stats`.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// The date lateness is measured against (today, or the `late_as_of` asked for). The
    /// other figures are always the current state.
    pub as_of: Date,
    /// District code.
    pub district_code: String,
    /// District name.
    pub district_name: String,
    /// All sites together.
    pub totals: Tally,
    /// One entry per kind, in plan order.
    pub kinds: Vec<KindProgress>,
    /// One entry per budget line.
    pub programmes: Vec<ProgrammeProgress>,
    /// One entry per sub-district, in data order.
    pub subdistricts: Vec<SubDistrictProgress>,
    /// Share of compounds and households near an open pocket park.
    pub park_access: ParkAccess,
}

/// Counts over a group of sites.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Number of sites.
    pub sites: u32,
    /// Sites by status (every status present, zeros included).
    pub by_status: StatusCounts,
    /// Completed or accepted sites.
    pub completed: u32,
    /// Sites past their planned finish and not done.
    pub late: u32,
    /// Sum of budgeted investment, 万元.
    pub investment_wan: f64,
    /// Investment of the completed sites, 万元.
    pub investment_completed_wan: f64,
    /// Mean progress of the sites, percent.
    pub mean_progress: f64,
}

impl Tally {
    fn add(&mut self, s: &Site, today: Date) {
        if self.by_status.is_empty() {
            self.by_status = RenewalStatus::ALL
                .iter()
                .map(|st| (st.as_str(), 0))
                .collect();
        }
        let n = f64::from(self.sites);
        self.mean_progress = (self.mean_progress * n + f64::from(s.progress)) / (n + 1.0);
        self.sites += 1;
        *self.by_status.entry(s.status.as_str()).or_default() += 1;
        if s.status.is_done() {
            self.completed += 1;
            self.investment_completed_wan += s.investment_wan;
        }
        if s.is_late(today) {
            self.late += 1;
        }
        self.investment_wan += s.investment_wan;
    }

    fn finish(mut self) -> Tally {
        if self.by_status.is_empty() {
            self.by_status = RenewalStatus::ALL
                .iter()
                .map(|st| (st.as_str(), 0))
                .collect();
        }
        self.investment_wan = round1(self.investment_wan);
        self.investment_completed_wan = round1(self.investment_completed_wan);
        self.mean_progress = round1(self.mean_progress);
        self
    }
}

/// Progress of one kind of site against its target.
#[derive(Debug, Clone, Serialize)]
pub struct KindProgress {
    /// The kind.
    pub kind: RenewalKind,
    /// Its Chinese label.
    pub label: &'static str,
    /// The plan's target number of sites.
    pub target: u32,
    /// Counts over the sites of this kind.
    #[serde(flatten)]
    pub tally: Tally,
    /// Completed sites as a percentage of the target.
    pub percent_of_target: f64,
}

/// Progress of one budget line against its project and investment targets.
#[derive(Debug, Clone, Serialize)]
pub struct ProgrammeProgress {
    /// The budget line.
    pub programme: Programme,
    /// Planned number of projects.
    pub target_projects: u32,
    /// Projects found in the data.
    pub projects: u32,
    /// Projects whose every site is completed or accepted.
    pub projects_completed: u32,
    /// Planned investment, 万元.
    pub target_investment_wan: f64,
    /// Counts over the sites of this budget line.
    #[serde(flatten)]
    pub tally: Tally,
}

/// Progress of the sites of one sub-district.
#[derive(Debug, Clone, Serialize)]
pub struct SubDistrictProgress {
    /// NBS code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Counts over its sites.
    #[serde(flatten)]
    pub tally: Tally,
    /// Its sites by kind.
    pub by_kind: BTreeMap<RenewalKind, u32>,
    /// Completed sites as a percentage of its sites.
    pub percent_completed: f64,
}

/// The park-coverage indicator: compounds within walking radii of an open pocket park.
#[derive(Debug, Clone, Serialize)]
pub struct ParkAccess {
    /// How distance is measured.
    pub method: &'static str,
    /// Open pocket parks.
    pub open_parks: u32,
    /// Compounds in the data.
    pub compounds: u32,
    /// Households in those compounds.
    pub households: u64,
    /// One entry per service radius of the plan.
    pub radii: Vec<RadiusCoverage>,
}

/// Coverage within one radius.
#[derive(Debug, Clone, Serialize)]
pub struct RadiusCoverage {
    /// The radius in metres.
    pub radius_m: f64,
    /// Compounds within it.
    pub compounds: u32,
    /// Their share of all compounds, percent.
    pub compounds_percent: f64,
    /// Households within it.
    pub households: u64,
    /// Their share of all households, percent.
    pub households_percent: f64,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        round1(100.0 * part / whole)
    } else {
        0.0
    }
}

/// Computes the progress report for `snap` as of `today`.
pub fn progress(snap: &Snapshot, today: Date) -> Progress {
    let plan = &snap.fixed.plan;
    let sites = snap.sites.as_slice();
    let mut totals = Tally::default();
    let mut by_kind: BTreeMap<RenewalKind, Tally> = BTreeMap::new();
    let mut by_programme: BTreeMap<Programme, (Tally, BTreeMap<&str, bool>)> = BTreeMap::new();
    let mut by_sub: BTreeMap<&str, (Tally, BTreeMap<RenewalKind, u32>)> = BTreeMap::new();
    for s in sites {
        totals.add(s, today);
        by_kind.entry(s.kind).or_default().add(s, today);
        let (t, projects) = by_programme.entry(s.programme).or_default();
        t.add(s, today);
        let done = projects.entry(s.project_id.as_str()).or_insert(true);
        *done &= s.status.is_done();
        let (t, kinds) = by_sub.entry(s.subdistrict_code.as_str()).or_default();
        t.add(s, today);
        *kinds.entry(s.kind).or_default() += 1;
    }
    let listed: Vec<RenewalKind> = RenewalKind::ALL
        .into_iter()
        .filter(|k| plan.targets.contains_key(k) || by_kind.contains_key(k))
        .collect();
    let kinds = listed
        .into_iter()
        .map(|k| {
            let tally = by_kind.remove(&k).unwrap_or_default().finish();
            let target = plan.targets.get(&k).copied().unwrap_or(0);
            KindProgress {
                kind: k,
                label: k.label_zh(),
                target,
                percent_of_target: percent(f64::from(tally.completed), f64::from(target)),
                tally,
            }
        })
        .collect();
    let programmes = plan
        .programmes
        .iter()
        .map(|pt| {
            let (tally, projects) = by_programme.remove(&pt.programme).unwrap_or_default();
            ProgrammeProgress {
                programme: pt.programme,
                target_projects: pt.projects,
                projects: projects.len() as u32,
                projects_completed: projects.values().filter(|d| **d).count() as u32,
                target_investment_wan: pt.investment_wan,
                tally: tally.finish(),
            }
        })
        .collect();
    let subdistricts = snap
        .fixed
        .subdistricts
        .iter()
        .map(|d| {
            let (tally, by_kind) = by_sub.remove(d.code.as_str()).unwrap_or_default();
            let tally = tally.finish();
            SubDistrictProgress {
                code: d.code.clone(),
                name: d.name.clone(),
                percent_completed: percent(f64::from(tally.completed), f64::from(tally.sites)),
                tally,
                by_kind,
            }
        })
        .collect();
    Progress {
        as_of: today,
        district_code: plan.district_code.clone(),
        district_name: plan.district_name.clone(),
        totals: totals.finish(),
        kinds,
        programmes,
        subdistricts,
        park_access: park_access(snap),
    }
}

/// Park coverage: for each compound, the distance from its interior point to the edge of the
/// nearest open pocket park, compared with each service radius of the plan.
fn park_access(snap: &Snapshot) -> ParkAccess {
    let radii_m = &snap.fixed.plan.park_service_radii_m;
    let mut within = vec![(0u32, 0u64); radii_m.len()];
    let (mut compounds, mut households) = (0u32, 0u64);
    for s in snap.sites.iter() {
        let Some(c) = s.compound() else { continue };
        compounds += 1;
        households += u64::from(c.households);
        let Some(p) = s.geometry.interior_point() else {
            continue;
        };
        let nearest = nearest_parks(snap, p.x(), p.y(), 1, ParkScope::Open);
        let Some(d) = nearest.first().map(|n| n.distance_m) else {
            continue;
        };
        for (slot, r) in within.iter_mut().zip(radii_m) {
            if d <= *r {
                slot.0 += 1;
                slot.1 += u64::from(c.households);
            }
        }
    }
    ParkAccess {
        method: "geodesic distance from each compound's interior point to the edge of the nearest open (completed or accepted) pocket park",
        open_parks: snap
            .sites
            .iter()
            .filter(|s| s.kind == RenewalKind::PocketPark && s.is_open())
            .count() as u32,
        compounds,
        households,
        radii: radii_m
            .iter()
            .zip(within)
            .map(|(&radius_m, (c, h))| RadiusCoverage {
                radius_m,
                compounds: c,
                compounds_percent: percent(f64::from(c), f64::from(compounds)),
                households: h,
                households_percent: percent(h as f64, households as f64),
            })
            .collect(),
    }
}
