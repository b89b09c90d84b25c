//! Which park next: the parks not yet open, ranked by the households they would newly bring
//! within reach given the open ones, greedily (each pick counts only what the earlier picks
//! left uncovered), with the cumulative share, and the "every planned park opens" scenario.
//!
//! Reach per park is computed once: a walk search bounded by the radius from the park's
//! gates (network), or the compounds within the radius in a straight line (straight, and the
//! indicator at the park's own class radius). The greedy step is lazy: a candidate's gain only
//! falls as others are picked, so a stale gain that still tops the queue once refreshed is
//! the true best.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::Serialize;

use super::{
    AccessModel, Method, compounds_within_straight, households, indicator_radius_m, percent,
};
use crate::snapshot::Snapshot;
use crate::walk::search::within_of_park;

/// One ranked park.
#[derive(Debug, Clone, Serialize)]
pub struct Pick {
    /// 1 for the first pick.
    pub rank: u32,
    /// Site id.
    pub id: String,
    /// Name.
    pub name: String,
    /// English name, when the data set has one.
    pub name_en: Option<String>,
    /// Current status.
    pub status: &'static str,
    /// Sub-district code.
    pub subdistrict_code: String,
    /// Area, m².
    pub area_m2: f64,
    /// Its service radius under the indicator rule; `null` under 2,000 m².
    pub indicator_radius_m: Option<f64>,
    /// Whether opening it can raise 公园绿地服务半径覆盖率 (2,000 m² or more).
    pub counts_for_indicator: bool,
    /// Households it newly brings within reach, after the earlier picks.
    pub new_households: u64,
    /// Compounds it newly brings within reach.
    pub new_compounds: u32,
    /// Households within reach once it and every earlier pick are open.
    pub cumulative_households: u64,
    /// Their share of all households, percent.
    pub cumulative_households_percent: f64,
    /// Compounds within reach once it and every earlier pick are open.
    pub cumulative_compounds: u32,
    /// Their share of all compounds, percent.
    pub cumulative_compounds_percent: f64,
}

/// Households and compounds within reach in one situation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reach {
    /// Households within reach.
    pub households: u64,
    /// Their share, percent.
    pub households_percent: f64,
    /// Compounds within reach.
    pub compounds: u32,
    /// Their share, percent.
    pub compounds_percent: f64,
}

/// The ranking of the parks not yet open.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    /// The method.
    pub method: Method,
    /// The method in words.
    pub method_description: &'static str,
    /// The radius in metres; `null` for the indicator (radius by park size).
    pub radius_m: Option<f64>,
    /// Households in all compounds.
    pub households: u64,
    /// All compounds.
    pub compounds: u32,
    /// Parks not yet open.
    pub candidates: u32,
    /// Reach with the parks open today.
    pub now: Reach,
    /// Reach if every park not yet open opens.
    pub all_planned_open: Reach,
    /// The ranked parks, best first; those adding nothing come last, by id.
    pub picks: Vec<Pick>,
}

/// Greedy maximum coverage: repeatedly takes the candidate whose set adds the most weight
/// not yet covered (ties: more new members, then the earlier candidate). Returns
/// `(candidate, new weight, new members)` for every candidate, best first; candidates adding
/// nothing come last in their given order. `covered` is updated.
pub fn greedy(
    weights: &[u64],
    covered: &mut [bool],
    sets: &[Vec<usize>],
) -> Vec<(usize, u64, u32)> {
    let gain = |covered: &[bool], s: &[usize]| {
        s.iter()
            .filter(|&&c| !covered[c])
            .fold((0u64, 0u32), |(w, n), &c| (w + weights[c], n + 1))
    };
    let mut heap: BinaryHeap<(u64, u32, Reverse<usize>)> = sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (w, n) = gain(covered, s);
            (w, n, Reverse(i))
        })
        .collect();
    let mut order = Vec::with_capacity(sets.len());
    let mut taken = vec![false; sets.len()];
    while let Some((w, n, Reverse(i))) = heap.pop() {
        let (fw, fn_) = gain(covered, &sets[i]);
        if (fw, fn_) != (w, n) {
            heap.push((fw, fn_, Reverse(i)));
            continue;
        }
        if fw == 0 && fn_ == 0 {
            break;
        }
        for &c in &sets[i] {
            covered[c] = true;
        }
        taken[i] = true;
        order.push((i, fw, fn_));
    }
    order.extend((0..sets.len()).filter(|&i| !taken[i]).map(|i| (i, 0, 0)));
    order
}

/// The compounds (positions in `network.compounds`) park `p` would bring within `radius_m`
/// under `method` (the indicator uses the park's class radius).
pub fn reach_of_park(
    model: &AccessModel,
    snap: &Snapshot,
    method: Method,
    p: usize,
    radius_m: f64,
) -> Vec<usize> {
    let net = &model.network;
    let park = &snap.sites[net.parks[p].site_pos];
    let mut out: Vec<usize> = match method {
        Method::Network => within_of_park(net, p, radius_m)
            .into_iter()
            .flat_map(|(node, d)| {
                net.node_compounds[node as usize]
                    .iter()
                    .filter(move |(_, off)| d + off <= radius_m)
                    .map(|(c, _)| *c as usize)
            })
            .collect(),
        Method::Straight => compounds_within_straight(snap, net, park, radius_m)
            .into_iter()
            .map(|(c, _)| c)
            .collect(),
        Method::Indicator => indicator_radius_m(park.area_m2)
            .map(|r| compounds_within_straight(snap, net, park, r))
            .unwrap_or_default()
            .into_iter()
            .map(|(c, _)| c)
            .collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Ranks the parks of `snap` not yet open under `method` and `radius_m`.
pub fn next_parks(model: &AccessModel, snap: &Snapshot, method: Method, radius_m: f64) -> Ranking {
    let net = &model.network;
    let weights: Vec<u64> = net
        .compounds
        .iter()
        .map(|a| households(snap, a.site_pos))
        .collect();
    let total_hh: u64 = weights.iter().sum();
    let total_c = weights.len();
    let mut covered: Vec<bool> = (0..total_c)
        .map(|c| model.covered(method, c, radius_m))
        .collect();
    let reach = |covered: &[bool]| {
        let (h, n) = covered
            .iter()
            .zip(&weights)
            .filter(|(c, _)| **c)
            .fold((0u64, 0u32), |(h, n), (_, w)| (h + w, n + 1));
        Reach {
            households: h,
            households_percent: percent(h as f64, total_hh as f64),
            compounds: n,
            compounds_percent: percent(f64::from(n), total_c as f64),
        }
    };
    let now = reach(&covered);
    let mut candidates: Vec<usize> = (0..net.parks.len()).filter(|&p| !model.open[p]).collect();
    candidates.sort_by(|&a, &b| {
        snap.sites[net.parks[a].site_pos]
            .id
            .cmp(&snap.sites[net.parks[b].site_pos].id)
    });
    let sets: Vec<Vec<usize>> = candidates
        .iter()
        .map(|&p| reach_of_park(model, snap, method, p, radius_m))
        .collect();
    let mut all = covered.clone();
    for s in &sets {
        for &c in s {
            all[c] = true;
        }
    }
    let all_planned_open = reach(&all);
    let order = greedy(&weights, &mut covered, &sets);
    let (mut cum_h, mut cum_c) = (now.households, now.compounds);
    let picks = order
        .into_iter()
        .enumerate()
        .map(|(rank, (i, w, n))| {
            cum_h += w;
            cum_c += n;
            let site = &snap.sites[net.parks[candidates[i]].site_pos];
            let radius = indicator_radius_m(site.area_m2);
            Pick {
                rank: rank as u32 + 1,
                id: site.id.to_string(),
                name: site.name.clone(),
                name_en: site.name_en.clone(),
                status: site.status.as_str(),
                subdistrict_code: site.subdistrict_code.clone(),
                area_m2: (site.area_m2 * 10.0).round() / 10.0,
                indicator_radius_m: radius,
                counts_for_indicator: radius.is_some(),
                new_households: w,
                new_compounds: n,
                cumulative_households: cum_h,
                cumulative_households_percent: percent(cum_h as f64, total_hh as f64),
                cumulative_compounds: cum_c,
                cumulative_compounds_percent: percent(f64::from(cum_c), total_c as f64),
            }
        })
        .collect();
    Ranking {
        method,
        method_description: method.describe(),
        radius_m: (method != Method::Indicator).then_some(radius_m),
        households: total_hh,
        compounds: total_c as u32,
        candidates: candidates.len() as u32,
        now,
        all_planned_open,
        picks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Best total weight of any `k` sets, by trying every combination.
    fn best_of_k(weights: &[u64], covered: &[bool], sets: &[Vec<usize>], k: usize) -> u64 {
        let n = sets.len();
        let mut best = 0;
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != k {
                continue;
            }
            let mut cov = covered.to_vec();
            for (i, s) in sets.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    for &c in s {
                        cov[c] = true;
                    }
                }
            }
            let w: u64 = (0..weights.len())
                .filter(|&c| cov[c] && !covered[c])
                .map(|c| weights[c])
                .sum();
            best = best.max(w);
        }
        best
    }

    #[test]
    fn greedy_against_exhaustive_search() {
        let mut seed = 7u64;
        let mut next = move |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % m
        };
        for _ in 0..200 {
            let n_items = 3 + next(10) as usize;
            let weights: Vec<u64> = (0..n_items).map(|_| 1 + next(500)).collect();
            let covered: Vec<bool> = (0..n_items).map(|_| next(4) == 0).collect();
            let sets: Vec<Vec<usize>> = (0..1 + next(7))
                .map(|_| (0..n_items).filter(|_| next(3) == 0).collect())
                .collect();
            let mut cov = covered.clone();
            let order = greedy(&weights, &mut cov, &sets);
            assert_eq!(order.len(), sets.len());
            let mut seen = covered.clone();
            let mut total = 0;
            for (k, &(i, w, _)) in order.iter().enumerate() {
                // Each pick adds the most that any single remaining set could add.
                let best_single = (0..sets.len())
                    .filter(|j| !order[..k].iter().any(|(o, _, _)| o == j))
                    .map(|j| {
                        sets[j]
                            .iter()
                            .filter(|&&c| !seen[c])
                            .map(|&c| weights[c])
                            .sum::<u64>()
                    })
                    .max()
                    .unwrap_or(0);
                assert_eq!(w, best_single);
                for &c in &sets[i] {
                    seen[c] = true;
                }
                total += w;
                // Greedy keeps within 1 - 1/e of the best k-set choice.
                let opt = best_of_k(&weights, &covered, &sets, k + 1);
                assert!(total as f64 >= (1.0 - 1.0 / std::f64::consts::E) * opt as f64);
                assert!(total <= opt);
            }
            assert_eq!(cov, seen);
        }
    }

    #[test]
    fn greedy_breaks_ties_by_order_and_lists_useless_sets_last() {
        let weights = [5, 5, 1];
        let mut covered = [false, false, false];
        let sets = vec![vec![2], vec![1], vec![0], vec![0, 1]];
        let order = greedy(&weights, &mut covered, &sets);
        assert_eq!(order, vec![(3, 10, 2), (0, 1, 1), (1, 0, 0), (2, 0, 0)]);
    }
}
