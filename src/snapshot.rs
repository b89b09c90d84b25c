//! The service's read model: one immutable, consistent version of the data set, projected and
//! indexed, that every request reads from.
//!
//! The base map never changes after load: its projected shapes and R-tree are built once and
//! shared (`Arc`) by every later snapshot. A status update only replaces the changed site's
//! attributes and bumps the generation. A created or moved site is projected once and
//! inserted into (or moved within) copies of the site R-trees, O(log n) per tree plus an
//! O(n) copy of pointers; a retired site leaves the site list, and the site positions after it
//! shift, so its trees are rebuilt (O(n log n), bulk load). Depends on `model`, `mercator` and
//! `index`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::index::SpatialIndex;
use crate::mercator::{MercGeom, MercRect, project_geometry};
use crate::model::{BaseFeature, BaseKind, Dataset, Plan, RenewalKind, Site, SiteId, SubDistrict};

/// A feature list with its projected shapes and its R-tree.
#[derive(Debug, Clone)]
pub struct Shapes {
    /// Projected geometry, by position (shared between snapshots).
    pub merc: Vec<Arc<MercGeom>>,
    /// Bounds of each projected geometry, by position.
    pub bounds: Vec<MercRect>,
    /// R-tree over `bounds`.
    pub index: SpatialIndex,
}

impl Shapes {
    fn build<'a>(geoms: impl Iterator<Item = &'a geo::Geometry<f64>>) -> Shapes {
        let merc: Vec<Arc<MercGeom>> = geoms.map(|g| Arc::new(project_geometry(g))).collect();
        let bounds: Vec<MercRect> = merc.iter().map(|g| bounds_of(g)).collect();
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

fn bounds_of(g: &MercGeom) -> MercRect {
    g.bounds().unwrap_or(MercRect {
        min_x: f64::NAN,
        min_y: f64::NAN,
        max_x: f64::NAN,
        max_y: f64::NAN,
    })
}

/// The indexed geometry of a snapshot: the base map (fixed after load) and the sites' shapes
/// and trees, which a created, moved or retired site replaces (see the module docs).
#[derive(Debug, Clone)]
pub struct Fixed {
    /// The plan's targets.
    pub plan: Plan,
    /// Sub-districts in file order.
    pub subdistricts: Arc<Vec<SubDistrict>>,
    /// Base-map features.
    pub base: Arc<Vec<BaseFeature>>,
    /// Projected base-map shapes.
    pub base_shapes: Arc<Shapes>,
    /// Projected site shapes, by site position.
    pub site_shapes: Shapes,
    /// Positions of the pocket parks among the sites, and an R-tree over just them.
    pub park_positions: Vec<usize>,
    /// R-tree over the pocket parks; its positions index `park_positions`.
    pub park_index: SpatialIndex,
    /// Each site's label point (an interior point of areas, the middle of lines), projected.
    pub site_anchors: Vec<crate::mercator::MercPoint>,
    /// Site position by public id.
    pub by_id: SiteIds,
    /// Bounds of the whole data set in WGS84 degrees: west, south, east, north.
    pub lnglat_bounds: [f64; 4],
    /// What each layer and field of the data set is worth (from its manifest).
    pub provenance: crate::model::Provenance,
}

/// One consistent version of the data: indexed geometry plus the current state of every site.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Increases by one with every accepted change; part of tile and item ETags.
    pub generation: u64,
    /// Indexed geometry (replaced only when a site's geometry changes or a site comes or goes).
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
        let (site_shapes, park_positions, park_index, site_anchors, by_id) = site_parts(&sites);
        let lnglat_bounds = lnglat_bounds(
            base.iter()
                .map(|b| &b.geometry)
                .chain(sites.iter().map(|s| &s.geometry)),
        );
        Snapshot {
            generation: 1,
            fixed: Arc::new(Fixed {
                plan,
                subdistricts: Arc::new(subdistricts),
                base: Arc::new(base),
                base_shapes: Arc::new(base_shapes),
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

    /// A snapshot of the same base map and plan with `sites` instead (e.g. the sites as they
    /// stood at a past instant): site shapes and trees are built for them, the base map's are
    /// shared. Its change log is empty and its generation this one's.
    pub fn with_sites(&self, sites: Vec<Site>) -> Snapshot {
        let (site_shapes, park_positions, park_index, site_anchors, by_id) = site_parts(&sites);
        Snapshot {
            generation: self.generation,
            fixed: Arc::new(Fixed {
                plan: self.fixed.plan.clone(),
                subdistricts: self.fixed.subdistricts.clone(),
                base: Arc::clone(&self.fixed.base),
                base_shapes: Arc::clone(&self.fixed.base_shapes),
                site_shapes,
                park_positions,
                park_index,
                site_anchors,
                by_id,
                lnglat_bounds: self.fixed.lnglat_bounds,
                provenance: self.fixed.provenance.clone(),
            }),
            sites: Arc::new(sites.into_iter().map(Arc::new).collect()),
            changes: Arc::new(Vec::new()),
        }
    }

    /// The site with public id `id`.
    pub fn site(&self, id: &str) -> Option<&Arc<Site>> {
        let pos = self.position(id)?;
        self.sites.get(pos)
    }

    /// The position of the site with public id `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.fixed.by_id.get(id)
    }

    /// A new snapshot in which `site` (matched by id) replaces its older state. When its
    /// geometry changed too, the site is re-projected and moved in the trees, and the change
    /// log gets both its old and its new bounds. Returns `None` when no site has that id.
    pub fn with_site(&self, site: Site) -> Option<Snapshot> {
        let pos = self.position(site.id.as_str())?;
        let old = self.fixed.site_shapes.bounds[pos];
        if self.sites[pos].geometry == site.geometry {
            let mut sites: Vec<Arc<Site>> = self.sites.as_ref().clone();
            sites[pos] = Arc::new(site);
            return Some(self.next(Arc::clone(&self.fixed), sites, &[old]));
        }
        let mut fixed = self.fixed.as_ref().clone();
        let merc = Arc::new(project_geometry(&site.geometry));
        let new = bounds_of(&merc);
        let shapes = &mut fixed.site_shapes;
        if !old.min_x.is_nan() {
            shapes.index.remove(pos, old);
        }
        if !new.min_x.is_nan() {
            shapes.index.insert(pos, new);
        }
        shapes.merc[pos] = merc;
        shapes.bounds[pos] = new;
        fixed.site_anchors[pos] = anchor(&site.geometry);
        if let Some(k) = fixed.park_positions.iter().position(|&p| p == pos) {
            fixed.park_index.remove(k, old);
            fixed.park_index.insert(k, new);
        }
        let mut sites: Vec<Arc<Site>> = self.sites.as_ref().clone();
        sites[pos] = Arc::new(site);
        Some(self.next(Arc::new(fixed), sites, &[old, new]))
    }

    /// A new snapshot with `site` added after the others (a creation or a restore): projected
    /// once and inserted into the trees. Returns `None` when a site has that id already.
    pub fn with_new_site(&self, site: Site) -> Option<Snapshot> {
        if self.position(site.id.as_str()).is_some() {
            return None;
        }
        let mut fixed = self.fixed.as_ref().clone();
        let pos = self.sites.len();
        let merc = Arc::new(project_geometry(&site.geometry));
        let new = bounds_of(&merc);
        let shapes = &mut fixed.site_shapes;
        if !new.min_x.is_nan() {
            shapes.index.insert(pos, new);
        }
        shapes.merc.push(merc);
        shapes.bounds.push(new);
        fixed.site_anchors.push(anchor(&site.geometry));
        if site.kind == RenewalKind::PocketPark {
            fixed.park_index.insert(fixed.park_positions.len(), new);
            fixed.park_positions.push(pos);
        }
        fixed.by_id.insert(site.id.clone(), pos);
        let mut sites: Vec<Arc<Site>> = self.sites.as_ref().clone();
        sites.push(Arc::new(site));
        Some(self.next(Arc::new(fixed), sites, &[new]))
    }

    /// A new snapshot without the site `id` (a retirement). The positions after it shift, so
    /// the site trees are rebuilt. Returns `None` when no site has that id.
    pub fn without_site(&self, id: &str) -> Option<Snapshot> {
        let pos = self.position(id)?;
        let old = self.fixed.site_shapes.bounds[pos];
        let mut fixed = self.fixed.as_ref().clone();
        let mut sites: Vec<Arc<Site>> = self.sites.as_ref().clone();
        sites.remove(pos);
        let shapes = &mut fixed.site_shapes;
        shapes.merc.remove(pos);
        shapes.bounds.remove(pos);
        shapes.index = SpatialIndex::build(
            shapes
                .bounds
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, r)| !r.min_x.is_nan()),
        );
        fixed.site_anchors.remove(pos);
        fixed.park_positions = sites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == RenewalKind::PocketPark)
            .map(|(i, _)| i)
            .collect();
        fixed.park_index = SpatialIndex::build(
            fixed
                .park_positions
                .iter()
                .enumerate()
                .map(|(k, &p)| (k, fixed.site_shapes.bounds[p])),
        );
        fixed.by_id = SiteIds::of(&sites);
        Some(self.next(Arc::new(fixed), sites, &[old]))
    }

    /// The snapshot after this one: `fixed` and `sites`, one generation on, with `touched`
    /// appended to the change log.
    fn next(&self, fixed: Arc<Fixed>, sites: Vec<Arc<Site>>, touched: &[MercRect]) -> Snapshot {
        let generation = self.generation + 1;
        let keep = CHANGE_LOG_LEN.saturating_sub(touched.len());
        let skip = self.changes.len().saturating_sub(keep);
        let mut changes: Vec<(u64, MercRect)> = self.changes[skip..].to_vec();
        changes.extend(
            touched
                .iter()
                .filter(|r| !r.min_x.is_nan())
                .map(|r| (generation, *r)),
        );
        Snapshot {
            generation,
            fixed,
            sites: Arc::new(sites),
            changes: Arc::new(changes),
        }
    }

    /// The bounds of the site `id` in WGS84 degrees (west, south, east, north).
    pub fn site_lnglat_bounds(&self, id: &str) -> Option<[f64; 4]> {
        use geo::BoundingRect;
        let r = self.site(id)?.geometry.bounding_rect()?;
        Some([r.min().x, r.min().y, r.max().x, r.max().y])
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

    /// The base-map features of `kind` whose bounds, grown by `margin` (in Web Mercator unit
    /// square units: 1e-5 is about 400 m at the equator, 300 m at 41° N), hold `lng`, `lat`:
    /// the only ones that can contain the point or lie within `margin` of it.
    pub fn base_near(
        &self,
        kind: BaseKind,
        lng: f64,
        lat: f64,
        margin: f64,
    ) -> impl Iterator<Item = (usize, &BaseFeature)> {
        let p = crate::mercator::project(lng, lat);
        let bounds = &self.fixed.base_shapes.bounds;
        self.base_of(kind)
            .filter(move |(pos, _)| bounds[*pos].expand(margin).contains(p))
    }
}

type SiteParts = (
    Shapes,
    Vec<usize>,
    SpatialIndex,
    Vec<crate::mercator::MercPoint>,
    SiteIds,
);

/// New ids kept beside the shared map before they are folded into a copy of it, so a create
/// copies a few ids rather than every one.
const NEW_IDS_MAX: usize = 64;

/// Site positions by public id: a map shared between snapshots plus the few ids created
/// since it was last copied (a create would otherwise copy 24,000 ids at K=100).
#[derive(Debug, Clone, Default)]
pub struct SiteIds {
    shared: Arc<HashMap<SiteId, usize>>,
    new: Vec<(SiteId, usize)>,
}

impl SiteIds {
    /// The ids of `sites`, by position.
    fn of<T: std::borrow::Borrow<Site>>(sites: &[T]) -> SiteIds {
        SiteIds {
            shared: Arc::new(
                sites
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.borrow().id.clone(), i))
                    .collect(),
            ),
            new: Vec::new(),
        }
    }

    /// The position of the site with id `id`.
    pub fn get(&self, id: &str) -> Option<usize> {
        self.new
            .iter()
            .find(|(s, _)| s.as_str() == id)
            .map(|(_, p)| *p)
            .or_else(|| self.shared.get(&SiteId(id.to_owned())).copied())
    }

    fn insert(&mut self, id: SiteId, pos: usize) {
        self.new.push((id, pos));
        if self.new.len() >= NEW_IDS_MAX {
            Arc::make_mut(&mut self.shared).extend(self.new.drain(..));
        }
    }
}

/// The projected shapes, park positions, park tree, label points and id map of `sites`.
fn site_parts(sites: &[Site]) -> SiteParts {
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
    let by_id = SiteIds::of(sites);
    (site_shapes, park_positions, park_index, site_anchors, by_id)
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
