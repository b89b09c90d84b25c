//! The service's read model: one immutable, consistent version of the data set, projected and
//! indexed, that every request reads from.
//!
//! Geometry never changes after load, so the projected shapes and R-trees are built once and
//! shared (`Arc`) by every later snapshot; a status update only replaces the changed site's
//! attributes and bumps the generation. Depends on `model`, `mercator` and `index`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::index::SpatialIndex;
use crate::mercator::{MercGeom, MercRect, project_geometry};
use crate::model::{BaseFeature, BaseKind, Dataset, Plan, RenewalKind, Site, SiteId, SubDistrict};

/// A feature list with its projected shapes and its R-tree, built once at load.
#[derive(Debug)]
pub struct Shapes {
    /// Projected geometry, by position.
    pub merc: Vec<MercGeom>,
    /// Bounds of each projected geometry, by position.
    pub bounds: Vec<MercRect>,
    /// R-tree over `bounds`.
    pub index: SpatialIndex,
}

impl Shapes {
    fn build<'a>(geoms: impl Iterator<Item = &'a geo::Geometry<f64>>) -> Shapes {
        let merc: Vec<MercGeom> = geoms.map(project_geometry).collect();
        let empty = MercRect {
            min_x: f64::NAN,
            min_y: f64::NAN,
            max_x: f64::NAN,
            max_y: f64::NAN,
        };
        let bounds: Vec<MercRect> = merc.iter().map(|g| g.bounds().unwrap_or(empty)).collect();
        let index = SpatialIndex::build(
            bounds
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, r)| !r.min_x.is_nan()),
        );
        Shapes {
            merc,
            bounds,
            index,
        }
    }
}

/// The parts of a snapshot that never change after load.
#[derive(Debug)]
pub struct Fixed {
    /// The plan's targets.
    pub plan: Plan,
    /// Sub-districts in file order.
    pub subdistricts: Vec<SubDistrict>,
    /// Base-map features.
    pub base: Vec<BaseFeature>,
    /// Projected base-map shapes.
    pub base_shapes: Shapes,
    /// Projected site shapes, by site position.
    pub site_shapes: Shapes,
    /// Positions of the pocket parks among the sites, and an R-tree over just them.
    pub park_positions: Vec<usize>,
    /// R-tree over the pocket parks; its positions index `park_positions`.
    pub park_index: SpatialIndex,
    /// Each site's label point (an interior point of areas, the middle of lines), projected.
    pub site_anchors: Vec<crate::mercator::MercPoint>,
    /// Site position by public id.
    pub by_id: HashMap<SiteId, usize>,
    /// Bounds of the whole data set in WGS84 degrees: west, south, east, north.
    pub lnglat_bounds: [f64; 4],
    /// What each layer and field of the data set is worth (from its manifest).
    pub provenance: crate::model::Provenance,
}

/// One consistent version of the data: fixed geometry plus the current state of every site.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Increases by one with every accepted change; part of tile and item ETags.
    pub generation: u64,
    /// What never changes after load.
    pub fixed: Arc<Fixed>,
    /// The sites' current attributes, by position (same order as the data file).
    pub sites: Arc<Vec<Arc<Site>>>,
    /// Where the most recent changes happened: `(generation, bounds of the changed site)`,
    /// oldest first, at most [`CHANGE_LOG_LEN`]. Caches use it to drop only what a change
    /// touched.
    pub changes: Arc<Vec<(u64, MercRect)>>,
}

/// How many recent changes a snapshot remembers the place of.
pub const CHANGE_LOG_LEN: usize = 1024;

impl Snapshot {
    /// Projects and indexes a loaded data set.
    pub fn build(dataset: Dataset) -> Snapshot {
        let Dataset {
            plan,
            subdistricts,
            base,
            sites,
            provenance,
        } = dataset;
        let base_shapes = Shapes::build(base.iter().map(|b| &b.geometry));
        let site_shapes = Shapes::build(sites.iter().map(|s| &s.geometry));
        let park_positions: Vec<usize> = sites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == RenewalKind::PocketPark)
            .map(|(i, _)| i)
            .collect();
        let park_index = SpatialIndex::build(
            park_positions
                .iter()
                .enumerate()
                .map(|(k, &pos)| (k, site_shapes.bounds[pos])),
        );
        let site_anchors = sites.iter().map(|s| anchor(&s.geometry)).collect();
        let by_id = sites
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let lnglat_bounds = lnglat_bounds(
            base.iter()
                .map(|b| &b.geometry)
                .chain(sites.iter().map(|s| &s.geometry)),
        );
        Snapshot {
            generation: 1,
            fixed: Arc::new(Fixed {
                plan,
                subdistricts,
                base,
                base_shapes,
                site_shapes,
                park_positions,
                park_index,
                site_anchors,
                by_id,
                lnglat_bounds,
                provenance,
            }),
            sites: Arc::new(sites.into_iter().map(Arc::new).collect()),
            changes: Arc::new(Vec::new()),
        }
    }

    /// The site with public id `id`.
    pub fn site(&self, id: &str) -> Option<&Arc<Site>> {
        let pos = *self.fixed.by_id.get(&SiteId(id.to_owned()))?;
        self.sites.get(pos)
    }

    /// The position of the site with public id `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.fixed.by_id.get(&SiteId(id.to_owned())).copied()
    }

    /// A new snapshot in which `site` (matched by id) replaces its older state. Geometry is
    /// taken to be unchanged. Returns `None` when no site has that id.
    pub fn with_site(&self, site: Site) -> Option<Snapshot> {
        let pos = self.position(site.id.as_str())?;
        let mut sites: Vec<Arc<Site>> = self.sites.as_ref().clone();
        sites[pos] = Arc::new(site);
        let generation = self.generation + 1;
        let skip = (self.changes.len() + 1).saturating_sub(CHANGE_LOG_LEN);
        let mut changes: Vec<(u64, MercRect)> = self.changes[skip..].to_vec();
        changes.push((generation, self.fixed.site_shapes.bounds[pos]));
        Some(Snapshot {
            generation,
            fixed: Arc::clone(&self.fixed),
            sites: Arc::new(sites),
            changes: Arc::new(changes),
        })
    }

    /// Whether anything changed inside `area` after generation `since`; `true` also when the
    /// change log no longer reaches back that far.
    pub fn changed_since(&self, since: u64, area: MercRect) -> bool {
        if since >= self.generation {
            return false;
        }
        match self.changes.first() {
            Some(&(oldest, _)) if oldest <= since + 1 => self
                .changes
                .iter()
                .any(|(g, b)| *g > since && b.intersects(&area)),
            _ => true,
        }
    }

    /// Base features of one kind, with their positions.
    pub fn base_of(&self, kind: BaseKind) -> impl Iterator<Item = (usize, &BaseFeature)> {
        self.fixed
            .base
            .iter()
            .enumerate()
            .filter(move |(_, b)| b.kind == kind)
    }
}

fn lnglat_bounds<'a>(geoms: impl Iterator<Item = &'a geo::Geometry<f64>>) -> [f64; 4] {
    use geo::BoundingRect;
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for r in geoms.filter_map(|g| g.bounding_rect()) {
        b[0] = b[0].min(r.min().x);
        b[1] = b[1].min(r.min().y);
        b[2] = b[2].max(r.max().x);
        b[3] = b[3].max(r.max().y);
    }
    if b[0].is_finite() {
        b
    } else {
        [-180.0, -85.0, 180.0, 85.0]
    }
}

/// Where a site's label goes: an interior point of an area, the middle vertex of a line.
fn anchor(g: &geo::Geometry<f64>) -> crate::mercator::MercPoint {
    use geo::InteriorPoint;
    let p = match g {
        geo::Geometry::LineString(l) if !l.0.is_empty() => Some(geo::Point(l.0[l.0.len() / 2])),
        _ => g.interior_point(),
    };
    p.map_or([f64::NAN, f64::NAN], |p| {
        crate::mercator::project(p.x(), p.y())
    })
}
