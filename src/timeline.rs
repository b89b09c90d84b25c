//! Completed sites over time, per kind, against the plan: the series behind
//! `/api/stats/timeline` and the page's progress chart.
//!
//! Month by month from the first planned start to the last planned finish: how many sites
//! the plan's finish dates say should be done by the end of the month (`planned`), and how
//! many of the sites done now were done by then (`completed`, up to `today` only). When a
//! site became done is the time of the last change in the store's history that moved it into
//! `completed`/`accepted`; without such a change (done in the data set as loaded) it is the
//! site's `updated_at` from the data. Sites moved back out of done count as not done.
//! Depends on `model` and `snapshot` only; knows nothing of HTTP or storage.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::model::{Date, RenewalKind, Site, SiteId, Timestamp};
use crate::snapshot::Snapshot;

/// Most months a timeline spans (25 years); a longer plan is cut at its start.
pub const MAX_MONTHS: usize = 300;

/// One kind's series; every vector has one value per month of [`Timeline::months`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KindTimeline {
    /// The kind of site.
    pub kind: RenewalKind,
    /// The plan's target number of sites.
    pub target: u32,
    /// Sites whose planned finish falls on or before the end of the month (cumulative).
    pub planned: Vec<u32>,
    /// Sites done by the end of the month (cumulative); `None` for months after today (or
    /// after the latest recorded completion, if that is later).
    pub completed: Vec<Option<u32>>,
}

/// The whole timeline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Timeline {
    /// The date the `completed` series ends at.
    pub today: Date,
    /// Months as `YYYY-MM`, oldest first.
    pub months: Vec<String>,
    /// Last day of each month.
    pub month_ends: Vec<Date>,
    /// One entry per kind with a target or sites, in kind order.
    pub kinds: Vec<KindTimeline>,
    /// How `completed` dates were found: from the store's history, from the data set.
    pub basis: TimelineBasis,
}

/// How many done sites took their date from each source.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct TimelineBasis {
    /// Done sites dated by a change in the store's history.
    pub from_history: u32,
    /// Done sites dated by the data set's `updated_at`.
    pub from_data: u32,
}

fn first_of_month(d: Date) -> (i32, u32) {
    let (y, m, _) = d.ymd();
    (y, m)
}

fn next_month((y, m): (i32, u32)) -> (i32, u32) {
    if m == 12 { (y + 1, 1) } else { (y, m + 1) }
}

fn month_end(ym: (i32, u32)) -> Date {
    let (y, m) = next_month(ym);
    Date::from_ymd(y, m, 1).map_or(Date::from_days_since_epoch(0), |d| d.add_days(-1))
}

/// When each done site became done: the last history change into a done status, by site.
/// `done_changes` are `(site, at)` of every such change, in any order.
fn done_since<'a>(
    sites: &'a [std::sync::Arc<Site>],
    done_changes: &[(SiteId, Timestamp)],
    basis: &mut TimelineBasis,
) -> Vec<(&'a Site, Date)> {
    let mut last: HashMap<&SiteId, Timestamp> = HashMap::new();
    for (id, at) in done_changes {
        let e = last.entry(id).or_insert(*at);
        if at.unix() > e.unix() {
            *e = *at;
        }
    }
    sites
        .iter()
        .filter(|s| s.status.is_done())
        .map(|s| match last.get(&s.id) {
            Some(at) => {
                basis.from_history += 1;
                (s.as_ref(), at.date())
            }
            None => {
                basis.from_data += 1;
                (s.as_ref(), s.updated_at.date())
            }
        })
        .collect()
}

/// The timeline of `snap` as of `today`, with the history's moves into done.
///
/// # Examples
/// An empty data set has no months and no kinds with sites.
/// ```
/// # use renewal_map::model::*;
/// # use renewal_map::snapshot::Snapshot;
/// # let plan = Plan { district_code: "1".into(), district_name: "D".into(), source: "s".into(),
/// #   targets: Default::default(), programmes: vec![], park_service_radii_m: vec![], time_zone: None };
/// let snap = Snapshot::build(Dataset { plan, subdistricts: vec![], base: vec![], sites: vec![],
///     provenance: Provenance::default() });
/// let t = renewal_map::timeline::timeline(&snap, &[], "2026-11-01".parse().unwrap());
/// assert!(t.months.is_empty() && t.kinds.is_empty());
/// ```
pub fn timeline(snap: &Snapshot, done_changes: &[(SiteId, Timestamp)], today: Date) -> Timeline {
    let mut basis = TimelineBasis::default();
    let done = done_since(&snap.sites, done_changes, &mut basis);
    let start = snap
        .sites
        .iter()
        .map(|s| s.planned_start)
        .chain(done.iter().map(|(_, d)| *d))
        .min();
    let end = snap
        .sites
        .iter()
        .map(|s| s.planned_finish)
        .chain(done.iter().map(|(_, d)| *d))
        .max();
    let mut months = Vec::new();
    let mut month_ends = Vec::new();
    if let (Some(start), Some(end)) = (start, end) {
        let mut ym = first_of_month(start);
        let last = first_of_month(end);
        while ym <= last {
            months.push(format!("{:04}-{:02}", ym.0, ym.1));
            month_ends.push(month_end(ym));
            ym = next_month(ym);
        }
        if months.len() > MAX_MONTHS {
            let cut = months.len() - MAX_MONTHS;
            months.drain(..cut);
            month_ends.drain(..cut);
        }
    }
    // Done is done: a change recorded after the configured today (a fixed `--today`) still
    // counts, so the series runs to whichever is later.
    let horizon = done.iter().map(|(_, d)| *d).fold(today, Date::max);
    let mut by_kind: BTreeMap<RenewalKind, (Vec<Date>, Vec<Date>)> = BTreeMap::new();
    for s in snap.sites.iter() {
        by_kind.entry(s.kind).or_default().0.push(s.planned_finish);
    }
    for (s, d) in &done {
        by_kind.entry(s.kind).or_default().1.push(*d);
    }
    for k in snap.fixed.plan.targets.keys() {
        by_kind.entry(*k).or_default();
    }
    let kinds = RenewalKind::ALL
        .iter()
        .filter_map(|k| by_kind.get(k).map(|v| (*k, v)))
        .map(|(kind, (planned, done))| KindTimeline {
            kind,
            target: snap.fixed.plan.targets.get(&kind).copied().unwrap_or(0),
            planned: month_ends
                .iter()
                .map(|e| planned.iter().filter(|d| *d <= e).count() as u32)
                .collect(),
            completed: month_ends
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    // The month holding the horizon still gets a value (done so far).
                    let started = i == 0 || month_ends[i - 1] < horizon;
                    started.then(|| done.iter().filter(|d| *d <= e).count() as u32)
                })
                .collect(),
        })
        .collect();
    Timeline {
        today,
        months,
        month_ends,
        kinds,
        basis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ends_cover_leap_years_and_december() {
        assert_eq!(month_end((2024, 2)).to_string(), "2024-02-29");
        assert_eq!(month_end((2026, 12)).to_string(), "2026-12-31");
        assert_eq!(next_month((2026, 12)), (2027, 1));
    }
}
