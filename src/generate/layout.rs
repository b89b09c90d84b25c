//! The illustrative base layout of one district copy: sub-district cells (Voronoi cells of ten
//! seeds, clipped to the outline so they tile it exactly) and the street network.

use geo::{BooleanOps, Coord, LineString, MultiLineString, MultiPolygon, Polygon, coord};

use super::geometry::{Region, dist, path_length, to_m};
use super::rng::Rng;
use super::sources::Sources;

/// Where each 街道's seed starts, as (NBS code, anchor id to pin it, or a lon/lat hint that the
/// Lloyd iterations may move). Anchored seeds use the estimated area points of the anchor table;
/// the hints are rough general-knowledge placements (舍利塔/塔湾 west, 北塔 south-east, 鸭绿江
/// in the northern part), illustrative only.
const SEED_HINTS: [(&str, Option<&str>, f64, f64); 10] = [
    ("210105001", Some("santaizi"), 0.0, 0.0),
    ("210105008", Some("beihang"), 0.0, 0.0),
    ("210105013", None, 123.415, 41.823),
    ("210105017", None, 123.362, 41.842),
    ("210105019", None, 123.412, 41.856),
    ("210105020", None, 123.385, 41.828),
    ("210105021", None, 123.443, 41.826),
    ("210105022", Some("lingdong"), 0.0, 0.0),
    ("210105023", None, 123.432, 41.872),
    ("210105024", Some("sitaizi"), 0.0, 0.0),
];

/// Sub-district cells of one copy, in the order of the sub-district CSV.
#[derive(Debug, Clone)]
pub(crate) struct Cells {
    pub(crate) seeds: Vec<Coord>,
    pub(crate) shapes: Vec<MultiPolygon>,
}

impl Cells {
    /// Index of the cell containing `c` (the nearest seed, which is what a Voronoi cell is).
    pub(crate) fn locate(&self, c: Coord) -> usize {
        nearest(&self.seeds, c)
    }
}

/// Index of the seed nearest to `c` (the first on ties).
fn nearest(seeds: &[Coord], c: Coord) -> usize {
    let mut best = 0;
    for (i, s) in seeds.iter().enumerate() {
        if dist(*s, c) < dist(seeds[best], c) {
            best = i;
        }
    }
    best
}

/// Points on a 150 m grid inside the outline, used as a mass sample for the Lloyd step.
pub(crate) fn sample_grid(region: &Region) -> Vec<Coord> {
    let step = 150.0;
    let mut out = Vec::new();
    let mut y = region.bbox.min().y + step / 2.0;
    while y < region.bbox.max().y {
        let mut x = region.bbox.min().x + step / 2.0;
        while x < region.bbox.max().x {
            let c = coord! { x: x, y: y };
            if region.contains(c) {
                out.push(c);
            }
            x += step;
        }
        y += step;
    }
    out
}

/// Places the seeds (anchors pinned, the rest jittered then relaxed) and cuts the cells.
pub(crate) fn cells(sources: &Sources, region: &Region, samples: &[Coord], rng: &mut Rng) -> Cells {
    let mut seeds = Vec::with_capacity(sources.subdistricts.len());
    let mut pinned = Vec::with_capacity(sources.subdistricts.len());
    for (i, sd) in sources.subdistricts.iter().enumerate() {
        let hint = SEED_HINTS.iter().find(|h| h.0 == sd.code);
        let anchor = hint.and_then(|h| h.1).and_then(|id| sources.anchor(id));
        let start = match (anchor, hint) {
            (Some(a), _) => Some(to_m(a)),
            (None, Some(h)) => {
                let c = to_m(coord! { x: h.2, y: h.3 });
                Some(
                    coord! { x: c.x + rng.range(-400.0, 400.0), y: c.y + rng.range(-400.0, 400.0) },
                )
            }
            (None, None) => None,
        };
        let start = start
            .filter(|c| region.contains(*c))
            .unwrap_or_else(|| samples[(i * 7919 + rng.below(samples.len())) % samples.len()]);
        seeds.push(start);
        pinned.push(anchor.is_some());
    }
    // Lloyd relaxation of the free seeds over the sampled area spreads them out.
    for _ in 0..2 {
        let mut sum = vec![(0.0, 0.0, 0usize); seeds.len()];
        for &p in samples {
            let i = nearest(&seeds, p);
            sum[i].0 += p.x;
            sum[i].1 += p.y;
            sum[i].2 += 1;
        }
        for (i, (sx, sy, n)) in sum.into_iter().enumerate() {
            if !pinned[i] && n > 0 {
                seeds[i] = coord! { x: sx / n as f64, y: sy / n as f64 };
            }
        }
    }
    let shapes = (0..seeds.len())
        .map(|i| region.shape.intersection(&voronoi_cell(&seeds, i, region)))
        .collect();
    Cells { seeds, shapes }
}

/// The convex Voronoi cell of seed `i`, bounded by the region's box plus a margin.
fn voronoi_cell(seeds: &[Coord], i: usize, region: &Region) -> Polygon {
    let (lo, hi) = (region.bbox.min(), region.bbox.max());
    let m = 2_000.0;
    let mut ring = vec![
        coord! { x: lo.x - m, y: lo.y - m },
        coord! { x: hi.x + m, y: lo.y - m },
        coord! { x: hi.x + m, y: hi.y + m },
        coord! { x: lo.x - m, y: hi.y + m },
    ];
    let si = seeds[i];
    for (j, &sj) in seeds.iter().enumerate() {
        if j == i {
            continue;
        }
        let mid = coord! { x: (si.x + sj.x) / 2.0, y: (si.y + sj.y) / 2.0 };
        let n = sj - si;
        let side = |p: Coord| (p.x - mid.x) * n.x + (p.y - mid.y) * n.y;
        // Sutherland–Hodgman against the half-plane nearer to seed i.
        let mut next = Vec::with_capacity(ring.len() + 1);
        for k in 0..ring.len() {
            let (a, b) = (ring[k], ring[(k + 1) % ring.len()]);
            let (da, db) = (side(a), side(b));
            if da <= 0.0 {
                next.push(a);
            }
            if (da < 0.0 && db > 0.0) || (da > 0.0 && db < 0.0) {
                let t = da / (da - db);
                next.push(coord! { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t });
            }
        }
        ring = next;
    }
    Polygon::new(LineString::from(ring), vec![])
}

/// A named street of the base network, possibly cut into several pieces by the outline.
#[derive(Debug, Clone)]
pub(crate) struct Street {
    pub(crate) name: &'static str,
    /// Its English name (`Meijiang Street`).
    pub(crate) name_en: &'static str,
    pub(crate) class: &'static str,
    /// Runs north–south (街) rather than east–west (路).
    pub(crate) north_south: bool,
    /// Pieces inside the outline, each ordered south→north or west→east, longest first.
    pub(crate) pieces: Vec<Vec<Coord>>,
}

/// North–south streets, west to east: 街 named after rivers, with their English (pinyin and
/// the generic part, as on the city's bilingual signs). `true` = main street.
const NS_STREETS: [(&str, &str, bool); 14] = [
    ("塔湾街", "Tawan Street", false),
    ("汾河街", "Fenhe Street", false),
    ("怒江街", "Nujiang Street", true),
    ("淮河街", "Huaihe Street", false),
    ("长江街", "Changjiang Street", true),
    ("黄河北大街", "Huanghe North Avenue", true),
    ("珠江街", "Zhujiang Street", false),
    ("鸭绿江街", "Yalujiang Street", false),
    ("北陵大街", "Beiling Avenue", true),
    ("梅江街", "Meijiang Street", false),
    ("松花江街", "Songhuajiang Street", false),
    ("凌河街", "Linghe Street", false),
    ("嫩江街", "Nenjiang Street", false),
    ("辽河街", "Liaohe Street", false),
];

/// East–west streets, north to south: 路 named after mountains.
const EW_STREETS: [(&str, &str, bool); 12] = [
    ("天山路", "Tianshan Road", false),
    ("黄山路", "Huangshan Road", false),
    ("龙山路", "Longshan Road", false),
    ("岐山路", "Qishan Road", false),
    ("华山路", "Huashan Road", false),
    ("崇山中路", "Chongshan Middle Road", true),
    ("嵩山路", "Songshan Road", false),
    ("泰山路", "Taishan Road", true),
    ("巴山路", "Bashan Road", false),
    ("昆山中路", "Kunshan Middle Road", true),
    ("衡山路", "Hengshan Road", false),
    ("庐山路", "Lushan Road", false),
];

/// Streets that always span the whole district (their renewal sections depend on it).
const FULL_LENGTH: [&str; 2] = ["梅江街", "凌河街"];

/// Lays out wavy streets across the district and clips them to the outline.
pub(crate) fn streets(region: &Region, rng: &mut Rng) -> Vec<Street> {
    let (lo, hi) = (region.bbox.min(), region.bbox.max());
    let mut out = Vec::new();
    for (north_south, list) in [(true, &NS_STREETS[..]), (false, &EW_STREETS[..])] {
        let (across_lo, across_hi, along_lo, along_hi) = if north_south {
            (lo.x, hi.x, lo.y, hi.y)
        } else {
            (hi.y, lo.y, lo.x, hi.x)
        };
        let n = list.len() as f64;
        for (i, &(name, name_en, main)) in list.iter().enumerate() {
            let base =
                across_lo + (across_hi - across_lo) * (i as f64 + 0.5) / n + rng.range(-90.0, 90.0);
            let span = along_hi - along_lo + 400.0;
            let (mut from, mut to) = (along_lo - 200.0, along_hi + 200.0);
            if !main && !FULL_LENGTH.contains(&name) {
                let keep = rng.range(0.6, 1.0) * span;
                from += rng.range(0.0, span - keep);
                to = from + keep;
            }
            let amplitude = rng.range(25.0, 80.0);
            let wavelength = rng.range(2_000.0, 5_000.0);
            let phase = rng.range(0.0, std::f64::consts::TAU);
            let steps = ((to - from) / 300.0).ceil().max(1.0) as usize;
            let line: Vec<Coord> = (0..=steps)
                .map(|k| {
                    let along = from + (to - from) * k as f64 / steps as f64;
                    let off = amplitude
                        * (along / wavelength * std::f64::consts::TAU + phase).sin()
                        + rng.range(-12.0, 12.0);
                    if north_south {
                        coord! { x: base + off, y: along }
                    } else {
                        coord! { x: along, y: base + off }
                    }
                })
                .collect();
            let clipped = region
                .shape
                .clip(&MultiLineString(vec![LineString::from(line)]), false);
            let mut pieces: Vec<Vec<Coord>> = clipped
                .0
                .into_iter()
                .map(|ls| {
                    let mut p = ls.0;
                    p.dedup();
                    let forward = if north_south {
                        p.first().map(|c| c.y) <= p.last().map(|c| c.y)
                    } else {
                        p.first().map(|c| c.x) <= p.last().map(|c| c.x)
                    };
                    if !forward {
                        p.reverse();
                    }
                    p
                })
                .filter(|p| p.len() >= 2 && path_length(p) >= 200.0)
                .collect();
            pieces.sort_by(|a, b| path_length(b).total_cmp(&path_length(a)));
            if !pieces.is_empty() {
                out.push(Street {
                    name,
                    name_en,
                    class: if main { "main" } else { "secondary" },
                    north_south,
                    pieces,
                });
            }
        }
    }
    out
}
