//! The access report: coverage of the district and each sub-district under one method and
//! radii ([`AccessModel::summary`]), and one row per compound ([`AccessModel::compound_rows`]).

use serde::Serialize;
use serde_json::{Value, json};

use super::{AccessModel, Method, Nearest, indicator_radius_m};
use crate::snapshot::Snapshot;
use crate::walk::walk_minutes;

/// Coverage within one radius (or, for the indicator, by its rule).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Coverage {
    /// The radius in metres; `null` for the indicator, whose radius depends on park size.
    pub radius_m: Option<f64>,
    /// Walking minutes at the documented speed, for the radius.
    pub walk_min: Option<f64>,
    /// Compounds covered.
    pub compounds: u32,
    /// Their share of all compounds, percent.
    pub compounds_percent: f64,
    /// Households covered.
    pub households: u64,
    /// Their share of all households, percent.
    pub households_percent: f64,
}

/// Coverage of one area (the district or a sub-district).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AreaCoverage {
    /// NBS code (the district's code for the district line).
    pub code: String,
    /// Name.
    pub name: String,
    /// Compounds in the area.
    pub compounds: u32,
    /// Households in them.
    pub households: u64,
    /// One line per radius.
    pub radii: Vec<Coverage>,
}

/// The access report of one method.
#[derive(Debug, Clone, Serialize)]
pub struct AccessSummary {
    /// The method.
    pub method: Method,
    /// The method in words.
    pub method_description: &'static str,
    /// Walking speed used for minutes, m/min.
    pub walk_m_per_min: f64,
    /// Open pocket parks.
    pub open_parks: u32,
    /// Open parks that count for the indicator (2,000 m² or more).
    pub open_parks_counting_for_indicator: u32,
    /// Parks not yet open under 2,000 m²: opening them cannot raise the indicator.
    pub planned_parks_under_2000_m2: u32,
    /// The whole district.
    pub district: AreaCoverage,
    /// Each sub-district, in data order.
    pub subdistricts: Vec<AreaCoverage>,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

pub(crate) fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        round1(100.0 * part / whole)
    } else {
        0.0
    }
}

/// Households of compound `pos` in `snap`.
pub(crate) fn households(snap: &Snapshot, pos: usize) -> u64 {
    snap.sites[pos]
        .compound()
        .map_or(0, |c| u64::from(c.households))
}

impl AccessModel {
    /// Coverage of the district and each sub-district under `method` for each of `radii_m`
    /// (one line by the rule for the indicator).
    pub fn summary(&self, snap: &Snapshot, method: Method, radii_m: &[f64]) -> AccessSummary {
        let radii: Vec<Option<f64>> = match method {
            Method::Indicator => vec![None],
            _ => radii_m.iter().map(|r| Some(*r)).collect(),
        };
        let plan = &snap.fixed.plan;
        let mut areas: Vec<(String, String, Vec<usize>)> = vec![(
            plan.district_code.clone(),
            plan.district_name.clone(),
            Vec::new(),
        )];
        for d in snap.fixed.subdistricts.iter() {
            areas.push((d.code.clone(), d.name.clone(), Vec::new()));
        }
        // By code, not a scan per compound: K = 100 has 1,000 sub-districts.
        let by_code: std::collections::HashMap<String, usize> = areas
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, a)| (a.0.clone(), i))
            .rev()
            .collect();
        for (c, att) in self.network.compounds.iter().enumerate() {
            areas[0].2.push(c);
            let code = &snap.sites[att.site_pos].subdistrict_code;
            if let Some(&i) = by_code.get(code) {
                areas[i].2.push(c);
            }
        }
        let mut lines = areas.into_iter().map(|(code, name, members)| {
            let hh = |c: usize| households(snap, self.network.compounds[c].site_pos);
            let total_hh: u64 = members.iter().map(|&c| hh(c)).sum();
            let radii = radii
                .iter()
                .map(|r| {
                    let inside: Vec<usize> = members
                        .iter()
                        .copied()
                        .filter(|&c| self.covered(method, c, r.unwrap_or(0.0)))
                        .collect();
                    let covered_hh: u64 = inside.iter().map(|&c| hh(c)).sum();
                    Coverage {
                        radius_m: *r,
                        walk_min: r.map(walk_minutes),
                        compounds: inside.len() as u32,
                        compounds_percent: percent(inside.len() as f64, members.len() as f64),
                        households: covered_hh,
                        households_percent: percent(covered_hh as f64, total_hh as f64),
                    }
                })
                .collect();
            AreaCoverage {
                code,
                name,
                compounds: members.len() as u32,
                households: total_hh,
                radii,
            }
        });
        let district = lines.next().unwrap_or_else(|| AreaCoverage {
            code: String::new(),
            name: String::new(),
            compounds: 0,
            households: 0,
            radii: Vec::new(),
        });
        let subdistricts = lines.collect();
        let parks = || {
            self.network
                .parks
                .iter()
                .enumerate()
                .map(|(p, a)| (self.open[p], snap.sites[a.site_pos].area_m2))
        };
        AccessSummary {
            method,
            method_description: method.describe(),
            walk_m_per_min: crate::walk::WALK_M_PER_MIN,
            open_parks: parks().filter(|(o, _)| *o).count() as u32,
            open_parks_counting_for_indicator: parks()
                .filter(|(o, a)| *o && indicator_radius_m(*a).is_some())
                .count() as u32,
            planned_parks_under_2000_m2: parks()
                .filter(|(o, a)| !*o && indicator_radius_m(*a).is_none())
                .count() as u32,
            district,
            subdistricts,
        }
    }

    /// One row per compound: its nearest open park under `method`, the distance, and the
    /// straight and walking distances; with `routes`, the walking route.
    pub fn compound_rows(&self, snap: &Snapshot, method: Method, routes: bool) -> Vec<Value> {
        let round = |v: f64| round1(v);
        self.network
            .compounds
            .iter()
            .enumerate()
            .map(|(c, att)| {
                let site = &snap.sites[att.site_pos];
                let park_json = |n: Option<Nearest>| {
                    n.map(|n| {
                        let p = &snap.sites[self.network.parks[n.park as usize].site_pos];
                        json!({"id": p.id, "name": p.name, "area_m2": round(p.area_m2)})
                    })
                };
                let nearest = self.nearest(method, c);
                let walk = self.walk[c];
                let mut row = json!({
                    "id": site.id,
                    "name": site.name,
                    "subdistrict_code": site.subdistrict_code,
                    "households": households(snap, att.site_pos),
                    "nearest_park": park_json(nearest),
                    "distance_m": nearest.map(|n| round(n.distance_m)),
                    "straight_m": self.straight[c].map(|n| round(n.distance_m)),
                    "walk_m": walk.map(|n| round(n.distance_m)),
                    "walk_min": walk.map(|n| walk_minutes(n.distance_m)),
                    "walk_park": park_json(walk),
                });
                if routes && let Some(obj) = row.as_object_mut() {
                    obj.insert("route".into(), self.route(c).unwrap_or(Value::Null));
                }
                row
            })
            .collect()
    }
}
