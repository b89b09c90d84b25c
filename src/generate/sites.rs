//! Places the renewal sites of one district copy: road sections along the generated streets,
//! the 凌河街 opening, the 沈飞 logistics road, the North Station plaza, compounds, pocket parks
//! and alleys. Areas never overlap each other and keep clear of streets; everything stays
//! inside the outline with a margin.

use std::collections::BTreeSet;

use geo::{BoundingRect, Centroid, Coord, Distance, Euclidean, LineString, Polygon, Rect, coord};

use super::GenerateError;
use super::geometry::{Region, SegmentGrid, path_length, point_along, sub_path, to_m};
use super::layout::{Cells, Street};
use super::rng::Rng;
use super::sources::Sources;
use crate::model::RenewalKind;

/// A site's geometry in local metres.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// A path.
    Line(Vec<Coord>),
    /// A closed exterior ring (first == last).
    Area(Vec<Coord>),
}

/// A placed site before its schedule and budget are assigned.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) kind: RenewalKind,
    pub(crate) name: String,
    pub(crate) shape: Shape,
    /// Representative point (line midpoint or polygon centroid), metres.
    pub(crate) anchor: Coord,
    /// Index into the sub-district list.
    pub(crate) subdistrict: usize,
    /// Index into the community list (compounds only).
    pub(crate) community: Option<usize>,
    pub(crate) households: u32,
    pub(crate) built_year: u16,
    /// Relative cost, used to share out the programme budget.
    pub(crate) cost_weight: f64,
    /// Paid from the maintenance programme.
    pub(crate) maintenance: bool,
}

/// Shared state while placing one copy's sites.
struct Placer<'a> {
    sources: &'a Sources,
    region: &'a Region,
    cells: &'a Cells,
    street_grid: SegmentGrid,
    areas: Vec<(Rect, Polygon)>,
    alleys: Vec<(Rect, LineString)>,
    names: BTreeSet<String>,
    used_communities: BTreeSet<usize>,
    copy: u32,
}

/// How many times a placement is retried before the layout is declared impossible.
const MAX_ATTEMPTS: usize = 20_000;

/// Road sections (the last ones picked) that are resurfacing jobs paid from maintenance.
const MAINTENANCE_ROADS: usize = 3;

pub(crate) fn place(
    sources: &Sources,
    region: &Region,
    cells: &Cells,
    streets: &[Street],
    copy: u32,
    rng: &mut Rng,
) -> Result<Vec<Draft>, GenerateError> {
    let mut street_grid = SegmentGrid::new(region.bbox, 250.0);
    for s in streets {
        for p in &s.pieces {
            street_grid.insert_path(p);
        }
    }
    let mut placer = Placer {
        sources,
        region,
        cells,
        street_grid,
        areas: Vec::new(),
        alleys: Vec::new(),
        names: BTreeSet::new(),
        used_communities: BTreeSet::new(),
        copy,
    };
    let target = |k: RenewalKind| sources.plan.targets.get(&k).copied().unwrap_or(0) as usize;
    let mut drafts = Vec::new();
    drafts.extend(placer.roads(streets, target(RenewalKind::Road), rng)?);
    drafts.extend(placer.opening(streets, target(RenewalKind::RoadOpening), rng)?);
    drafts.extend(placer.logistics(target(RenewalKind::LogisticsRoad), rng)?);
    drafts.extend(placer.plaza(target(RenewalKind::Plaza))?);
    drafts.extend(placer.compounds(target(RenewalKind::Compound), rng)?);
    drafts.extend(placer.parks(streets, target(RenewalKind::PocketPark), rng)?);
    drafts.extend(placer.alleys(target(RenewalKind::Alley), rng)?);
    // Number sites north to south within each sub-district, so ids read like a walk.
    drafts.sort_by(|a, b| {
        (a.kind, a.subdistrict)
            .cmp(&(b.kind, b.subdistrict))
            .then(b.anchor.y.total_cmp(&a.anchor.y))
            .then(a.anchor.x.total_cmp(&b.anchor.x))
    });
    Ok(drafts)
}

impl Placer<'_> {
    fn fail(&self, what: &str) -> GenerateError {
        GenerateError::Layout {
            what: what.to_string(),
            copy: self.copy,
        }
    }

    fn line_draft(
        &self,
        kind: RenewalKind,
        name: String,
        path: Vec<Coord>,
        cost_weight: f64,
    ) -> Draft {
        let anchor = point_along(&path, path_length(&path) / 2.0);
        Draft {
            kind,
            name,
            subdistrict: self.cells.locate(anchor),
            anchor,
            shape: Shape::Line(path),
            community: None,
            households: 0,
            built_year: 0,
            cost_weight,
            maintenance: false,
        }
    }

    fn area_draft(
        &self,
        kind: RenewalKind,
        name: String,
        ring: Vec<Coord>,
        cost_weight: f64,
    ) -> Draft {
        let poly = Polygon::new(LineString::from(ring.clone()), vec![]);
        let anchor = poly.centroid().map(|p| p.0).unwrap_or(ring[0]);
        Draft {
            kind,
            name,
            subdistrict: self.cells.locate(anchor),
            anchor,
            shape: Shape::Area(ring),
            community: None,
            households: 0,
            built_year: 0,
            cost_weight,
            maintenance: false,
        }
    }

    /// Claims the first free name of `candidates`, or a numbered variant of the first one.
    fn claim(&mut self, candidates: &[String]) -> String {
        for c in candidates {
            if self.names.insert(c.clone()) {
                return c.clone();
            }
        }
        let base = candidates.first().cloned().unwrap_or_default();
        (2..)
            .map(|n| format!("{base}{n}"))
            .find(|c| self.names.insert(c.clone()))
            .unwrap_or(base)
    }

    /// Communities of a sub-district, starting at a random one, unused ones first.
    fn communities_of(&self, subdistrict: usize, rng: &mut Rng) -> Vec<usize> {
        let code = &self.sources.subdistricts[subdistrict].code;
        let mut list: Vec<usize> = (0..self.sources.communities.len())
            .filter(|&i| &self.sources.communities[i].subdistrict_code == code)
            .collect();
        if !list.is_empty() {
            let k = rng.below(list.len());
            list.rotate_left(k);
        }
        list.sort_by_key(|i| self.used_communities.contains(i));
        list
    }

    fn area_is_free(&self, ring: &[Coord], street_margin: f64, area_margin: f64) -> bool {
        // Cheapest tests first: the outline test walks all of its ~670 vertices.
        if !self.street_grid.clear_of(ring, street_margin) || !self.region.holds(ring, 10.0) {
            return false;
        }
        let poly = Polygon::new(LineString::from(ring.to_vec()), vec![]);
        let Some(bbox) = poly.bounding_rect() else {
            return false;
        };
        self.areas.iter().all(|(b, other)| {
            !grown(*b, area_margin).intersects_rect(&bbox)
                || Euclidean.distance(&poly, other) >= area_margin
        })
    }

    fn add_area(&mut self, ring: &[Coord]) {
        let poly = Polygon::new(LineString::from(ring.to_vec()), vec![]);
        if let Some(b) = poly.bounding_rect() {
            self.areas.push((b, poly));
        }
    }

    fn random_point(&self, rng: &mut Rng) -> Coord {
        let (lo, hi) = (self.region.bbox.min(), self.region.bbox.max());
        for _ in 0..10_000 {
            let c = coord! { x: rng.range(lo.x, hi.x), y: rng.range(lo.y, hi.y) };
            if self.region.contains(c) {
                return c;
            }
        }
        self.region.bbox.center()
    }

    fn roads(
        &mut self,
        streets: &[Street],
        count: usize,
        rng: &mut Rng,
    ) -> Result<Vec<Draft>, GenerateError> {
        let mut order: Vec<&Street> = streets
            .iter()
            .filter(|s| s.name != "梅江街" && s.name != "凌河街")
            .collect();
        rng.shuffle(&mut order);
        if let Some(meijiang) = streets.iter().find(|s| s.name == "梅江街") {
            order.insert(0, meijiang);
        }
        let mut out = Vec::new();
        for street in order {
            if out.len() == count {
                break;
            }
            let piece = &street.pieces[0];
            let len = path_length(piece);
            if len < 1_100.0 {
                continue;
            }
            let section = rng.range(1_000.0, 3_000.0).min(len - 60.0);
            let from = rng.range(30.0, len - section - 30.0);
            let path = sub_path(piece, from, from + section);
            let third = ((from + section / 2.0) / len * 3.0).floor() as usize;
            let part = match (street.north_south, third) {
                (true, 0) => "南段",
                (true, 1) => "中段",
                (true, _) => "北段",
                (false, 0) => "西段",
                (false, 1) => "中段",
                (false, _) => "东段",
            };
            let name = self.claim(&[format!("{}{part}", street.name)]);
            // A main street costs more per km than a secondary one.
            let per_km = if street.class == "main" {
                3_500.0
            } else {
                2_500.0
            };
            let mut d = self.line_draft(RenewalKind::Road, name, path, per_km * section / 1_000.0);
            d.maintenance = out.len() + MAINTENANCE_ROADS >= count && !out.is_empty();
            out.push(d);
        }
        if out.len() < count {
            return Err(self.fail("road sections"));
        }
        Ok(out)
    }

    fn opening(
        &mut self,
        streets: &[Street],
        count: usize,
        rng: &mut Rng,
    ) -> Result<Vec<Draft>, GenerateError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let linghe = streets
            .iter()
            .find(|s| s.name == "凌河街")
            .ok_or_else(|| self.fail("凌河街"))?;
        let south = linghe
            .pieces
            .iter()
            .min_by(|a, b| a[0].y.total_cmp(&b[0].y))
            .ok_or_else(|| self.fail("凌河街 south piece"))?;
        let len = path_length(south);
        let mut out = Vec::new();
        for n in 0..count {
            let section = rng.range(900.0, 1_600.0).min(len * 0.8);
            let from = (len * 0.05).min(30.0) + n as f64 * section;
            if from + section > len {
                return Err(self.fail("凌河街 south section"));
            }
            let path = sub_path(south, from, from + section);
            let name = self.claim(&["凌河街南段".to_string()]);
            out.push(self.line_draft(
                RenewalKind::RoadOpening,
                name,
                path,
                6_000.0 * section / 1_000.0,
            ));
        }
        Ok(out)
    }

    fn logistics(&mut self, count: usize, rng: &mut Rng) -> Result<Vec<Draft>, GenerateError> {
        let sac = self.sources.anchor("sac").map(to_m);
        let mut out = Vec::new();
        for _ in 0..count {
            let sac = sac.ok_or_else(|| self.fail("沈飞 (sac) anchor"))?;
            let path = (0..MAX_ATTEMPTS)
                .map(|_| {
                    let start = coord! { x: sac.x + rng.range(-400.0, 400.0), y: sac.y + rng.range(-400.0, 400.0) };
                    let angle = rng.range(0.0, std::f64::consts::TAU);
                    let len = rng.range(1_600.0, 2_800.0);
                    let (dx, dy) = (angle.cos(), angle.sin());
                    let bend = rng.range(-60.0, 60.0);
                    (0..=6)
                        .map(|k| {
                            let t = k as f64 / 6.0;
                            let off = bend * (t * std::f64::consts::PI).sin();
                            coord! { x: start.x + dx * len * t - dy * off, y: start.y + dy * len * t + dx * off }
                        })
                        .collect::<Vec<_>>()
                })
                .find(|p| self.region.holds(p, 30.0))
                .ok_or_else(|| self.fail("沈飞物流通道"))?;
            let name = self.claim(&["沈飞物流通道".to_string()]);
            let len = path_length(&path);
            out.push(self.line_draft(
                RenewalKind::LogisticsRoad,
                name,
                path,
                4_000.0 * len / 1_000.0,
            ));
        }
        Ok(out)
    }

    fn plaza(&mut self, count: usize) -> Result<Vec<Draft>, GenerateError> {
        let mut out = Vec::new();
        for _ in 0..count {
            let anchor = self
                .sources
                .anchor("north_plaza")
                .map(to_m)
                .ok_or_else(|| self.fail("north_plaza anchor"))?;
            // Nudge north (away from the railway boundary) until the square fits.
            let ring = (0..200)
                .map(|k| {
                    rectangle(
                        coord! { x: anchor.x, y: anchor.y + 10.0 * k as f64 },
                        200.0,
                        120.0,
                        0.0,
                    )
                })
                .find(|r| self.area_is_free(r, 0.0, 15.0))
                .ok_or_else(|| self.fail("沈阳北站北广场"))?;
            self.add_area(&ring);
            let name = self.claim(&["沈阳北站北广场".to_string()]);
            out.push(self.area_draft(RenewalKind::Plaza, name, ring, 15_000.0));
        }
        Ok(out)
    }

    fn compounds(&mut self, count: usize, rng: &mut Rng) -> Result<Vec<Draft>, GenerateError> {
        let mut out = Vec::new();
        for _ in 0..count {
            let ring = (0..MAX_ATTEMPTS)
                .map(|_| {
                    let c = self.random_point(rng);
                    let (w, h) = (rng.range(80.0, 300.0), rng.range(80.0, 300.0));
                    let angle = rng.range(-0.12, 0.12);
                    if rng.chance(0.3) {
                        l_shape(c, w, h, rng.range(0.35, 0.6), rng.range(0.35, 0.6), angle)
                    } else {
                        rectangle(c, w, h, angle)
                    }
                })
                .find(|r| self.area_is_free(r, 15.0, 20.0))
                .ok_or_else(|| self.fail("老旧小区"))?;
            self.add_area(&ring);
            let area = ring_area(&ring);
            let mut d = self.area_draft(RenewalKind::Compound, String::new(), ring, 0.0);
            let community = self
                .communities_of(d.subdistrict, rng)
                .first()
                .copied()
                .ok_or_else(|| self.fail("a community for a compound"))?;
            self.used_communities.insert(community);
            let stem = self.sources.communities[community].stem().to_string();
            let mut suffixes = vec!["小区", "新村", "家园", "里小区", "花园小区"];
            if stem.ends_with('里') {
                suffixes.retain(|s| !s.starts_with('里'));
            }
            let first = rng.below(2);
            suffixes.swap(0, first);
            let candidates: Vec<String> = suffixes.iter().map(|s| format!("{stem}{s}")).collect();
            d.name = self.claim(&candidates);
            d.community = Some(community);
            d.households = (area * rng.range(0.02, 0.04)).round().clamp(150.0, 2_000.0) as u32;
            d.built_year = rng.int(1980, 2000) as u16;
            d.cost_weight = d.households as f64 * rng.range(1.2, 1.8);
            out.push(d);
        }
        Ok(out)
    }

    fn parks(
        &mut self,
        streets: &[Street],
        count: usize,
        rng: &mut Rng,
    ) -> Result<Vec<Draft>, GenerateError> {
        let homes: Vec<Coord> = self
            .areas
            .iter()
            .filter_map(|(_, p)| p.centroid().map(|c| c.0))
            .collect();
        let mut out = Vec::new();
        for _ in 0..count {
            let ring = (0..MAX_ATTEMPTS)
                .map(|_| {
                    // Most parks sit near a compound (that is who they serve); some are anywhere,
                    // which leaves a few compounds outside the 300–500 m service radii.
                    let c = if !homes.is_empty() && rng.chance(0.7) {
                        let home = homes[rng.below(homes.len())];
                        let (r, a) = (
                            rng.range(120.0, 420.0),
                            rng.range(0.0, std::f64::consts::TAU),
                        );
                        coord! { x: home.x + r * a.cos(), y: home.y + r * a.sin() }
                    } else {
                        self.random_point(rng)
                    };
                    let (mut w, mut h) = (rng.range(25.0, 95.0), rng.range(25.0, 95.0));
                    let scale = (w * h).clamp(700.0, 7_500.0) / (w * h);
                    w *= scale.sqrt();
                    h *= scale.sqrt();
                    let mut ring = rectangle(c, w, h, rng.range(-0.15, 0.15));
                    let j = 0.08 * w.min(h);
                    for p in ring.iter_mut().take(4) {
                        p.x += rng.range(-j, j);
                        p.y += rng.range(-j, j);
                    }
                    ring[4] = ring[0];
                    ring
                })
                .find(|r| {
                    (600.0..=8_500.0).contains(&ring_area(r)) && self.area_is_free(r, 8.0, 15.0)
                })
                .ok_or_else(|| self.fail("口袋公园"))?;
            self.add_area(&ring);
            let area = ring_area(&ring);
            let mut d = self.area_draft(
                RenewalKind::PocketPark,
                String::new(),
                ring,
                area * rng.range(0.04, 0.07),
            );
            let mut candidates: Vec<String> = self
                .communities_of(d.subdistrict, rng)
                .iter()
                .map(|&i| format!("{}口袋公园", self.sources.communities[i].stem()))
                .collect();
            if let Some(street) = nearest_street(streets, d.anchor) {
                candidates.push(format!("{street}口袋公园"));
                for side in ["东", "西", "南", "北"] {
                    candidates.push(format!("{street}{side}口袋公园"));
                }
            }
            d.name = self.claim(&candidates);
            out.push(d);
        }
        Ok(out)
    }

    fn alleys(&mut self, count: usize, rng: &mut Rng) -> Result<Vec<Draft>, GenerateError> {
        let mut out = Vec::new();
        for _ in 0..count {
            let path = (0..MAX_ATTEMPTS)
                .map(|_| {
                    let c = self.random_point(rng);
                    let base = if rng.chance(0.5) {
                        0.0
                    } else {
                        std::f64::consts::FRAC_PI_2
                    };
                    let angle = base + rng.range(-0.1, 0.1);
                    let len = rng.range(170.0, 560.0);
                    let (dx, dy) = (angle.cos(), angle.sin());
                    let kink = rng.range(-10.0, 10.0);
                    let t = rng.range(0.3, 0.7);
                    vec![
                        coord! { x: c.x - dx * len * t, y: c.y - dy * len * t },
                        coord! { x: c.x - dy * kink, y: c.y + dx * kink },
                        coord! { x: c.x + dx * len * (1.0 - t), y: c.y + dy * len * (1.0 - t) },
                    ]
                })
                .find(|p| self.alley_is_free(p))
                .ok_or_else(|| self.fail("背街小巷"))?;
            let line = LineString::from(path.clone());
            if let Some(b) = line.bounding_rect() {
                self.alleys.push((b, line));
            }
            let len = path_length(&path);
            let mut d = self.line_draft(
                RenewalKind::Alley,
                String::new(),
                path,
                len * rng.range(1.2, 1.8),
            );
            let mut candidates = Vec::new();
            for i in self.communities_of(d.subdistrict, rng) {
                let stem = self.sources.communities[i].stem();
                let mut suffixes = ["后巷", "胡同", "里巷", "一巷", "二巷", "三巷"];
                rng.shuffle(&mut suffixes[..3]);
                candidates.extend(suffixes.iter().map(|s| format!("{stem}{s}")));
            }
            d.name = self.claim(&candidates);
            d.maintenance = true;
            out.push(d);
        }
        Ok(out)
    }

    fn alley_is_free(&self, path: &[Coord]) -> bool {
        if !(150.0..=600.0).contains(&path_length(path))
            || !self.street_grid.clear_of(path, 35.0)
            || !self.region.holds(path, 10.0)
        {
            return false;
        }
        let line = LineString::from(path.to_vec());
        let Some(bbox) = line.bounding_rect() else {
            return false;
        };
        self.areas.iter().all(|(b, p)| {
            !grown(*b, 10.0).intersects_rect(&bbox) || Euclidean.distance(&line, p) >= 10.0
        }) && self.alleys.iter().all(|(b, l)| {
            !grown(*b, 40.0).intersects_rect(&bbox) || Euclidean.distance(&line, l) >= 40.0
        })
    }
}

trait RectExt {
    fn intersects_rect(&self, other: &Rect) -> bool;
}

impl RectExt for Rect {
    fn intersects_rect(&self, other: &Rect) -> bool {
        self.min().x <= other.max().x
            && other.min().x <= self.max().x
            && self.min().y <= other.max().y
            && other.min().y <= self.max().y
    }
}

fn grown(r: Rect, by: f64) -> Rect {
    Rect::new(
        coord! { x: r.min().x - by, y: r.min().y - by },
        coord! { x: r.max().x + by, y: r.max().y + by },
    )
}

fn nearest_street(streets: &[Street], c: Coord) -> Option<&'static str> {
    let p = geo::Point::from(c);
    streets
        .iter()
        .flat_map(|s| s.pieces.iter().map(move |piece| (s.name, piece)))
        .map(|(name, piece)| {
            (
                name,
                Euclidean.distance(&p, &LineString::from(piece.clone())),
            )
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(name, _)| name)
}

/// Planar area of a closed ring (shoelace), m².
pub(crate) fn ring_area(ring: &[Coord]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        .abs()
        / 2.0
}

fn place_ring(c: Coord, corners: &[(f64, f64)], angle: f64) -> Vec<Coord> {
    let (s, k) = angle.sin_cos();
    let mut ring: Vec<Coord> = corners
        .iter()
        .map(|&(x, y)| coord! { x: c.x + x * k - y * s, y: c.y + x * s + y * k })
        .collect();
    ring.push(ring[0]);
    ring
}

/// A `w` × `h` rectangle centred on `c`, rotated by `angle` radians, counter-clockwise.
fn rectangle(c: Coord, w: f64, h: f64, angle: f64) -> Vec<Coord> {
    let (x, y) = (w / 2.0, h / 2.0);
    place_ring(c, &[(-x, -y), (x, -y), (x, y), (-x, y)], angle)
}

/// An L: a `w` × `h` rectangle with its upper right `(1-a)·w` × `(1-b)·h` corner removed.
fn l_shape(c: Coord, w: f64, h: f64, a: f64, b: f64, angle: f64) -> Vec<Coord> {
    let (x, y) = (w / 2.0, h / 2.0);
    place_ring(
        c,
        &[
            (-x, -y),
            (x, -y),
            (x, -y + b * h),
            (-x + a * w, -y + b * h),
            (-x + a * w, y),
            (-x, y),
        ],
        angle,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_closed_ccw_with_expected_area() {
        let c = coord! { x: 0.0, y: 0.0 };
        let r = rectangle(c, 100.0, 50.0, 0.3);
        assert_eq!(r.first(), r.last());
        assert!((ring_area(&r) - 5_000.0).abs() < 1e-6);
        let l = l_shape(c, 100.0, 100.0, 0.5, 0.5, 0.0);
        assert!((ring_area(&l) - 7_500.0).abs() < 1e-6);
        let signed: f64 = l
            .windows(2)
            .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
            .sum();
        assert!(signed > 0.0, "counter-clockwise");
    }
}
