//! Gives each placed site a lifecycle status, progress, dates, and a share of the programme
//! budget, grouping sites into projects so project counts and sums match the plan exactly.
//! Money is handled in integer tenths of 万元 so sums are exact.

use super::GenerateError;
use super::rng::Rng;
use super::sites::Draft;
use crate::model::{Date, Plan, Programme, RenewalKind, RenewalStatus, Timestamp};

/// The date the generated progress describes; nothing is updated after it.
pub const REFERENCE_DATE: (i32, u32, u32) = (2026, 11, 1);

/// Pocket parks per construction project (parks are tendered in batches).
const PARKS_PER_PROJECT: usize = 4;

/// Share of each kind's sites past their planned finish without being done.
const LATE_SHARE: f64 = 0.12;

/// The schedule and budget of one site.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    pub(crate) status: RenewalStatus,
    pub(crate) progress: u8,
    pub(crate) planned_start: Date,
    pub(crate) planned_finish: Date,
    pub(crate) updated_at: Timestamp,
    pub(crate) investment_tenths: u64,
    pub(crate) programme: Programme,
    pub(crate) project_id: String,
}

fn day(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap_or(Date::from_days_since_epoch(0))
}

pub(crate) fn reference_date() -> Date {
    day(REFERENCE_DATE.0, REFERENCE_DATE.1, REFERENCE_DATE.2)
}

fn between(rng: &mut Rng, a: Date, b: Date) -> Date {
    a.add_days(rng.int(
        0,
        i64::from((b.days_since_epoch() - a.days_since_epoch()).max(0)),
    ) as i32)
}

/// Status shares (planned, design, tendering, under construction, completed, accepted,
/// suspended). Parks are quick works, so most are already open.
fn status_weights(kind: RenewalKind) -> [f64; 7] {
    match kind {
        RenewalKind::PocketPark => [0.03, 0.05, 0.04, 0.28, 0.30, 0.26, 0.04],
        _ => [0.07, 0.09, 0.08, 0.37, 0.17, 0.17, 0.05],
    }
}

/// Splits `total` into integer shares proportional to `weights` (largest remainder; ties go to
/// the earlier entry), so the shares always sum to `total`.
pub(crate) fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut shares: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let given: u64 = shares.iter().sum();
    for &i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(given) as usize)
    {
        shares[i] += 1;
    }
    shares
}

/// Statuses, progress and dates for all drafts of one copy.
fn lifecycle(drafts: &[Draft], rng: &mut Rng) -> Vec<(RenewalStatus, u8, Date, Date, Timestamp)> {
    let mut status = vec![RenewalStatus::Planned; drafts.len()];
    let mut late = vec![false; drafts.len()];
    for kind in RenewalKind::ALL {
        let idx: Vec<usize> = (0..drafts.len())
            .filter(|&i| drafts[i].kind == kind)
            .collect();
        let counts = apportion(idx.len() as u64, &status_weights(kind));
        let mut pool: Vec<RenewalStatus> = RenewalStatus::ALL
            .iter()
            .zip(&counts)
            .flat_map(|(s, &n)| std::iter::repeat_n(*s, n as usize))
            .collect();
        rng.shuffle(&mut pool);
        for (&i, s) in idx.iter().zip(pool) {
            status[i] = s;
        }
        // Late sites: suspended first, then works under way, then design and tendering.
        let mut candidates: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| !status[i].is_done() && status[i] != RenewalStatus::Planned)
            .collect();
        rng.shuffle(&mut candidates);
        candidates.sort_by_key(|&i| match status[i] {
            RenewalStatus::Suspended => 0,
            RenewalStatus::UnderConstruction => 1,
            _ => 2,
        });
        let n_late = (idx.len() as f64 * LATE_SHARE).round() as usize;
        for &i in candidates.iter().take(n_late) {
            late[i] = true;
        }
    }
    let (min_start, max_finish, reference) = (day(2024, 3, 1), day(2027, 12, 31), reference_date());
    let update_from = day(2026, 5, 1);
    status
        .iter()
        .zip(&late)
        .map(|(&s, &is_late)| {
            let (start, finish) = if s.is_done() {
                let finish = between(rng, day(2024, 9, 1), day(2026, 10, 20));
                (
                    finish.add_days(-rng.int(90, 400) as i32).max(min_start),
                    finish,
                )
            } else if is_late {
                let finish = between(rng, day(2025, 9, 1), day(2026, 10, 31));
                (
                    finish.add_days(-rng.int(150, 500) as i32).max(min_start),
                    finish,
                )
            } else {
                let start = match s {
                    RenewalStatus::Planned => between(rng, day(2026, 11, 15), day(2027, 6, 30)),
                    RenewalStatus::Design | RenewalStatus::Tendering => {
                        between(rng, day(2026, 9, 1), day(2027, 4, 30))
                    }
                    _ => between(rng, day(2024, 6, 1), day(2026, 8, 31)),
                };
                let earliest = start.add_days(120).max(reference);
                (start, between(rng, earliest, max_finish))
            };
            let progress = match s {
                RenewalStatus::Planned => 0,
                RenewalStatus::Design => rng.int(0, 10),
                RenewalStatus::Tendering => rng.int(5, 15),
                RenewalStatus::UnderConstruction => rng.int(15, 95),
                RenewalStatus::Completed | RenewalStatus::Accepted => 100,
                RenewalStatus::Suspended => rng.int(10, 80),
            } as u8;
            let lo = if s.is_done() {
                finish.max(update_from)
            } else {
                update_from
            };
            let lo = lo.min(reference.add_days(-1));
            let on = between(rng, lo, reference.add_days(-1));
            let updated = Timestamp::from_unix(
                i64::from(on.days_since_epoch()) * 86_400 + rng.int(6 * 3600, 20 * 3600),
            );
            (s, progress, start, finish, updated)
        })
        .collect()
}

/// Splits `items` into `groups` runs of near-equal size (the first ones one larger).
fn chunk(items: &[usize], groups: usize) -> Vec<Vec<usize>> {
    let (base, extra) = (items.len() / groups, items.len() % groups);
    let mut out = Vec::with_capacity(groups);
    let mut at = 0;
    for g in 0..groups {
        let size = base + usize::from(g < extra);
        out.push(items[at..at + size].to_vec());
        at += size;
    }
    out
}

/// Schedules and budgets one copy's sites. `copy` is 0-based; `scale` sets the id width.
pub(crate) fn assign(
    drafts: &[Draft],
    plan: &Plan,
    copy: u32,
    scale: u32,
    rng: &mut Rng,
) -> Result<Vec<Schedule>, GenerateError> {
    let target = |p: Programme| plan.programmes.iter().find(|t| t.programme == p);
    let bad = |message: &str| GenerateError::Plan {
        message: message.to_string(),
    };
    let construction =
        target(Programme::Construction).ok_or_else(|| bad("no construction programme"))?;
    let maintenance =
        target(Programme::Maintenance).ok_or_else(|| bad("no maintenance programme"))?;

    // Nearby sites share a project: order by sub-district, then west to east.
    let mut by_place: Vec<usize> = (0..drafts.len()).collect();
    by_place.sort_by(|&a, &b| {
        drafts[a]
            .subdistrict
            .cmp(&drafts[b].subdistrict)
            .then(drafts[a].anchor.x.total_cmp(&drafts[b].anchor.x))
    });
    let of = |pred: &dyn Fn(&Draft) -> bool| -> Vec<usize> {
        by_place
            .iter()
            .copied()
            .filter(|&i| pred(&drafts[i]))
            .collect()
    };

    // Maintenance: single road jobs, then alleys in batches.
    let m_single: Vec<usize> = (0..drafts.len())
        .filter(|&i| drafts[i].maintenance && drafts[i].kind != RenewalKind::Alley)
        .collect();
    let m_alleys = of(&|d| d.maintenance && d.kind == RenewalKind::Alley);
    let m_groups = (maintenance.projects as usize)
        .checked_sub(m_single.len())
        .filter(|&g| g >= 1 && g <= m_alleys.len())
        .ok_or_else(|| bad("maintenance project count does not fit the alleys"))?;
    let mut m_projects: Vec<Vec<usize>> = m_single.iter().map(|&i| vec![i]).collect();
    m_projects.extend(chunk(&m_alleys, m_groups));

    // Construction: single roads, opening, logistics road and plaza; compounds and parks in batches.
    let c_single: Vec<usize> = (0..drafts.len())
        .filter(|&i| {
            !drafts[i].maintenance
                && !matches!(
                    drafts[i].kind,
                    RenewalKind::Compound | RenewalKind::PocketPark
                )
        })
        .collect();
    let compounds = of(&|d| !d.maintenance && d.kind == RenewalKind::Compound);
    let parks = of(&|d| !d.maintenance && d.kind == RenewalKind::PocketPark);
    let rest = (construction.projects as usize)
        .checked_sub(c_single.len())
        .ok_or_else(|| bad("too few construction projects"))?;
    let park_groups = parks
        .len()
        .div_ceil(PARKS_PER_PROJECT)
        .min(rest.saturating_sub(1))
        .max(1);
    let compound_groups = rest
        .checked_sub(park_groups)
        .filter(|&g| g >= 1 && g <= compounds.len() && park_groups <= parks.len())
        .ok_or_else(|| bad("construction project count does not fit the compounds and parks"))?;
    let mut c_projects: Vec<Vec<usize>> = c_single.iter().map(|&i| vec![i]).collect();
    c_projects.extend(chunk(&compounds, compound_groups));
    c_projects.extend(chunk(&parks, park_groups));

    let lifecycle = lifecycle(drafts, rng);
    let mut out: Vec<Option<Schedule>> = vec![None; drafts.len()];
    for (programme, prefix, min_width, projects, plan_target) in [
        (Programme::Construction, "C", 3, &c_projects, construction),
        (Programme::Maintenance, "M", 2, &m_projects, maintenance),
    ] {
        let total = (plan_target.investment_wan * 10.0).round() as u64;
        let weights: Vec<f64> = projects
            .iter()
            .map(|p| p.iter().map(|&i| drafts[i].cost_weight.max(1.0)).sum())
            .collect();
        let width = digits(u64::from(plan_target.projects) * u64::from(scale)).max(min_width);
        for (j, (members, budget)) in projects.iter().zip(apportion(total, &weights)).enumerate() {
            let number = u64::from(copy) * u64::from(plan_target.projects) + j as u64 + 1;
            let project_id = format!("{prefix}-{number:0width$}");
            let site_weights: Vec<f64> = members
                .iter()
                .map(|&i| drafts[i].cost_weight.max(1.0))
                .collect();
            for (&i, share) in members.iter().zip(apportion(budget, &site_weights)) {
                let (status, progress, planned_start, planned_finish, updated_at) = lifecycle[i];
                out[i] = Some(Schedule {
                    status,
                    progress,
                    planned_start,
                    planned_finish,
                    updated_at,
                    investment_tenths: share,
                    programme,
                    project_id: project_id.clone(),
                });
            }
        }
    }
    out.into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("a site was left out of every project"))
}

/// Number of decimal digits of `n` (at least 1).
pub(crate) fn digits(n: u64) -> usize {
    n.max(1).ilog10() as usize + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), [4, 3, 3]);
        assert_eq!(apportion(0, &[1.0, 2.0]), [0, 0]);
        assert_eq!(apportion(7, &[]), Vec::<u64>::new());
        let shares = apportion(2_000_000, &[3.3, 1.7, 0.01, 9.0]);
        assert_eq!(shares.iter().sum::<u64>(), 2_000_000);
    }

    #[test]
    fn chunks_and_digits() {
        let c = chunk(&[1, 2, 3, 4, 5], 2);
        assert_eq!(c, [vec![1, 2, 3], vec![4, 5]]);
        assert_eq!(
            (digits(0), digits(9), digits(10), digits(9400)),
            (1, 1, 2, 4)
        );
    }
}
