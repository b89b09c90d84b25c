//! Model → GeoJSON (RFC 7946): sites and base features as Features, and the collections the
//! OGC API – Features endpoints page through. Knows `serde_json`, not HTTP.

use geo::{BoundingRect, Geometry, Intersects, Rect};
use serde_json::{Map, Value, json};

use crate::filter_cql::CqlFilter;
use crate::mercator::{MercRect, project, unproject};
use crate::model::{BaseFeature, BaseKind, Date, RenewalKind, Site, SiteFilter};
use crate::queryables::DATETIME_PROPERTY;
use crate::snapshot::Snapshot;
use crate::temporal::{Instant, Interval};

/// A feature collection served by the OGC API. Each has one geometry type: `sites` serves every
/// site at its label point, the per-kind collections their real geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// Every renewal site, at its label point.
    Sites,
    /// Renewed roads, opened sections, the logistics road and alleys.
    Roads,
    /// Old residential compounds.
    Compounds,
    /// Pocket parks.
    Parks,
    /// Public squares.
    Plazas,
    /// Sub-district areas.
    SubDistricts,
    /// Base street network.
    Streets,
    /// District outline.
    District,
    /// Named landmarks.
    Landmarks,
}

impl Collection {
    /// Every collection, in the order the API lists them.
    pub const ALL: [Collection; 9] = [
        Collection::Sites,
        Collection::Roads,
        Collection::Compounds,
        Collection::Parks,
        Collection::Plazas,
        Collection::SubDistricts,
        Collection::Streets,
        Collection::District,
        Collection::Landmarks,
    ];

    /// The collection id used in URLs.
    pub fn id(self) -> &'static str {
        match self {
            Collection::Sites => "sites",
            Collection::Roads => "roads",
            Collection::Compounds => "compounds",
            Collection::Parks => "parks",
            Collection::Plazas => "plazas",
            Collection::SubDistricts => "subdistricts",
            Collection::Streets => "streets",
            Collection::District => "district",
            Collection::Landmarks => "landmarks",
        }
    }

    /// The collection with URL id `id`.
    pub fn from_id(id: &str) -> Option<Collection> {
        Collection::ALL.into_iter().find(|c| c.id() == id)
    }

    /// Human-readable title.
    pub fn title(self) -> &'static str {
        match self {
            Collection::Sites => "Renewal sites 更新项目",
            Collection::Roads => "Roads and alleys 道路与背街小巷",
            Collection::Compounds => "Old residential compounds 老旧小区",
            Collection::Parks => "Pocket parks 口袋公园",
            Collection::Plazas => "Plazas 广场",
            Collection::SubDistricts => "Sub-districts 街道",
            Collection::Streets => "Street network 街路 (illustrative)",
            Collection::District => "District outline 区界",
            Collection::Landmarks => "Landmarks 地标",
        }
    }

    /// Whether the collection holds renewal sites (and so takes status/kind filters).
    pub fn holds_sites(self) -> bool {
        self.site_kinds().is_some()
    }

    /// The site kinds the collection holds; `None` for base-map collections.
    pub fn site_kinds(self) -> Option<&'static [RenewalKind]> {
        match self {
            Collection::Sites => Some(&RenewalKind::ALL),
            Collection::Roads => Some(&[
                RenewalKind::Road,
                RenewalKind::RoadOpening,
                RenewalKind::LogisticsRoad,
                RenewalKind::Alley,
            ]),
            Collection::Compounds => Some(&[RenewalKind::Compound]),
            Collection::Parks => Some(&[RenewalKind::PocketPark]),
            Collection::Plazas => Some(&[RenewalKind::Plaza]),
            _ => None,
        }
    }

    fn base_kind(self) -> Option<BaseKind> {
        match self {
            Collection::SubDistricts => Some(BaseKind::SubDistrict),
            Collection::Streets => Some(BaseKind::Street),
            Collection::District => Some(BaseKind::District),
            Collection::Landmarks => Some(BaseKind::Landmark),
            _ => None,
        }
    }
}

/// A page request over one collection.
#[derive(Debug, Clone, Default)]
pub struct ItemsQuery {
    /// Only features intersecting this WGS84 box: west, south, east, north.
    pub bbox: Option<[f64; 4]>,
    /// Site filter (ignored by base-map collections).
    pub filter: SiteFilter,
    /// Only sites last updated ([`DATETIME_PROPERTY`]) within this interval (OGC
    /// `datetime`). Base-map features have no time and are not filtered.
    pub updated: Option<Interval>,
    /// A CQL2 filter the rendered features must pass.
    pub cql: Option<CqlFilter>,
    /// Page size.
    pub limit: usize,
    /// Features to skip.
    pub offset: usize,
}

/// One page of a collection.
#[derive(Debug, Clone)]
pub struct ItemsPage {
    /// The features of this page, as GeoJSON Feature objects.
    pub features: Vec<Value>,
    /// How many features match the query in all.
    pub number_matched: usize,
}

/// Matches a query against a collection and renders the requested page.
pub fn items(snap: &Snapshot, coll: Collection, q: &ItemsQuery, today: Date) -> ItemsPage {
    let candidates: Vec<usize> = match q.bbox {
        Some(b) => {
            let rect = Rect::new((b[0], b[1]), (b[2], b[3]));
            let [x0, y1] = project(b[0], b[1]);
            let [x1, y0] = project(b[2], b[3]);
            let merc = MercRect {
                min_x: x0,
                min_y: y0,
                max_x: x1,
                max_y: y1,
            };
            let shapes_index = if coll.holds_sites() {
                &snap.fixed.site_shapes.index
            } else {
                &snap.fixed.base_shapes.index
            };
            // A label point lies within its site's bounds, so the index of site bounds also
            // finds every label point in the box.
            shapes_index
                .query(merc)
                .into_iter()
                .filter(|&i| match coll {
                    Collection::Sites => rect.intersects(&label_point(snap, i)),
                    _ if coll.holds_sites() => snap.sites[i].geometry.intersects(&rect),
                    _ => snap.fixed.base[i].geometry.intersects(&rect),
                })
                .collect()
        }
        None if coll.holds_sites() => (0..snap.sites.len()).collect(),
        None => (0..snap.fixed.base.len()).collect(),
    };
    let mut features = Vec::new();
    let mut number_matched = 0;
    let mut keep = |f: Value| {
        if q.cql.as_ref().is_none_or(|c| c.matches(&f)) {
            if number_matched >= q.offset && features.len() < q.limit {
                features.push(f);
            }
            number_matched += 1;
        }
    };
    if let Some(kinds) = coll.site_kinds() {
        for i in candidates {
            let s = &snap.sites[i];
            if kinds.contains(&s.kind)
                && q.filter.matches(s)
                && q.updated
                    .is_none_or(|iv| iv.contains(Instant::of(s.updated_at)))
            {
                keep(collection_site_feature(snap, coll, i, today));
            }
        }
    } else {
        let kind = coll.base_kind();
        for i in candidates {
            if Some(snap.fixed.base[i].kind) == kind {
                keep(base_feature(&snap.fixed.base[i]));
            }
        }
    }
    ItemsPage {
        features,
        number_matched,
    }
}

/// The label point of the site at `position`, in WGS84 degrees.
fn label_point(snap: &Snapshot, position: usize) -> geo::Point<f64> {
    let [x, y] = snap.fixed.site_anchors[position];
    let (lng, lat) = unproject(x, y);
    geo::Point::new(lng, lat)
}

/// The site at `position` as a feature of `coll`: at its label point with every field in
/// `sites`, with its real geometry in the per-kind collections.
pub fn collection_feature(
    snap: &Snapshot,
    coll: Collection,
    position: usize,
    today: Date,
) -> Value {
    collection_site_feature(snap, coll, position, today)
}

fn collection_site_feature(
    snap: &Snapshot,
    coll: Collection,
    position: usize,
    today: Date,
) -> Value {
    let site = &snap.sites[position];
    if coll == Collection::Sites {
        let point = Geometry::Point(label_point(snap, position));
        feature(
            json!(site.id.as_str()),
            &point,
            site_properties(site, today, true),
        )
    } else {
        site_feature(site, today)
    }
}

/// The spatial extent of `coll`'s features in WGS84 degrees (west, south, east, north), and
/// for site collections the interval of their [`DATETIME_PROPERTY`]; `None` when empty.
pub fn extent(snap: &Snapshot, coll: Collection) -> CollectionExtent {
    let mut bbox: Option<Rect<f64>> = None;
    let mut grow = |r: Option<Rect<f64>>| {
        if let Some(r) = r {
            bbox = Some(match bbox {
                None => r,
                Some(b) => Rect::new(
                    (b.min().x.min(r.min().x), b.min().y.min(r.min().y)),
                    (b.max().x.max(r.max().x), b.max().y.max(r.max().y)),
                ),
            });
        }
    };
    let mut times = None;
    if let Some(kinds) = coll.site_kinds() {
        for (i, s) in snap.sites.iter().enumerate() {
            if !kinds.contains(&s.kind) {
                continue;
            }
            if coll == Collection::Sites {
                grow(label_point(snap, i).bounding_rect().into());
            } else {
                grow(s.geometry.bounding_rect());
            }
            let t = s.updated_at;
            times = Some(match times {
                None => (t, t),
                Some((a, b)) => (std::cmp::min(a, t), std::cmp::max(b, t)),
            });
        }
    } else {
        for b in snap
            .fixed
            .base
            .iter()
            .filter(|b| Some(b.kind) == coll.base_kind())
        {
            grow(b.geometry.bounding_rect());
        }
    }
    CollectionExtent {
        bbox: bbox.map(|r| {
            [
                round7(r.min().x),
                round7(r.min().y),
                round7(r.max().x),
                round7(r.max().y),
            ]
        }),
        updated: times,
    }
}

/// Where and when a collection's features are.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionExtent {
    /// West, south, east, north in WGS84 degrees; `None` for an empty collection.
    pub bbox: Option<[f64; 4]>,
    /// First and last [`DATETIME_PROPERTY`] of the sites; `None` for base-map collections.
    pub updated: Option<(crate::model::Timestamp, crate::model::Timestamp)>,
}

/// One feature of a collection by its id, as GeoJSON.
pub fn item(snap: &Snapshot, coll: Collection, id: &str, today: Date) -> Option<Value> {
    if let Some(kinds) = coll.site_kinds() {
        let site = snap.site(id)?;
        let position = snap.position(id)?;
        return kinds
            .contains(&site.kind)
            .then(|| collection_site_feature(snap, coll, position, today));
    }
    let kind = coll.base_kind()?;
    let fid: u64 = id.parse().ok()?;
    snap.base_of(kind)
        .find(|(_, b)| b.fid == fid)
        .map(|(_, b)| base_feature(b))
}

/// A site as a GeoJSON Feature with its real geometry and the fields of its kind.
pub fn site_feature(site: &Site, today: Date) -> Value {
    feature(
        json!(site.id.as_str()),
        &site.geometry,
        site_properties(site, today, false),
    )
}

/// A site's properties; with `every_field`, the fields of other kinds are there too, as
/// `null`, so that every feature of a mixed collection has the same fields.
fn site_properties(site: &Site, today: Date, every_field: bool) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("fid".into(), json!(site.fid));
    p.insert("name".into(), json!(site.name));
    p.insert("name_en".into(), json!(site.name_en));
    p.insert("kind".into(), json!(site.kind));
    p.insert("kind_label".into(), json!(site.kind.label_zh()));
    p.insert("subdistrict".into(), json!(site.subdistrict));
    p.insert("subdistrict_code".into(), json!(site.subdistrict_code));
    p.insert("status".into(), json!(site.status));
    p.insert("status_label".into(), json!(site.status.label_zh()));
    p.insert("progress".into(), json!(site.progress));
    p.insert("late".into(), json!(site.is_late(today)));
    p.insert("investment_wan".into(), json!(site.investment_wan));
    p.insert("programme".into(), json!(site.programme.as_str()));
    p.insert("project_id".into(), json!(site.project_id));
    p.insert("planned_start".into(), json!(site.planned_start));
    p.insert("planned_finish".into(), json!(site.planned_finish));
    p.insert(DATETIME_PROPERTY.into(), json!(site.updated_at));
    p.insert("version".into(), json!(site.version));
    p.insert("note".into(), json!(site.note));
    p.insert("geometry_basis".into(), json!(site.basis.as_str()));
    let linear = site.kind.is_linear();
    if linear || every_field {
        p.insert(
            "length_m".into(),
            if linear {
                json!(site.length_m.round())
            } else {
                Value::Null
            },
        );
    }
    if !linear || every_field {
        p.insert(
            "area_m2".into(),
            if linear {
                Value::Null
            } else {
                json!(site.area_m2.round())
            },
        );
    }
    let park = site.kind == RenewalKind::PocketPark;
    if park || every_field {
        p.insert(
            "open".into(),
            if park {
                json!(site.is_open())
            } else {
                Value::Null
            },
        );
    }
    let c = site.compound();
    if c.is_some() || every_field {
        p.insert("households".into(), json!(c.map(|c| c.households)));
        p.insert("built_year".into(), json!(c.map(|c| c.built_year)));
        p.insert("community".into(), json!(c.map(|c| &c.community)));
        p.insert("community_code".into(), json!(c.map(|c| &c.community_code)));
    }
    p
}

/// A base-map feature as GeoJSON.
pub fn base_feature(b: &BaseFeature) -> Value {
    let mut p = Map::new();
    p.insert("name".into(), json!(b.name));
    if let Some(name_en) = &b.name_en {
        p.insert("name_en".into(), json!(name_en));
    }
    if let Some(code) = &b.code {
        p.insert("code".into(), json!(code));
    }
    if let Some(class) = &b.class {
        p.insert(
            if b.kind == BaseKind::Landmark {
                "kind"
            } else {
                "class"
            }
            .into(),
            json!(class),
        );
    }
    p.insert("geometry_basis".into(), json!(b.basis.as_str()));
    if let Some(osm_id) = &b.osm_id {
        p.insert("osm_id".into(), json!(osm_id));
    }
    feature(json!(b.fid), &b.geometry, p)
}

fn feature(id: Value, g: &Geometry<f64>, properties: Map<String, Value>) -> Value {
    let bbox = g.bounding_rect().map(|r| {
        json!([
            round7(r.min().x),
            round7(r.min().y),
            round7(r.max().x),
            round7(r.max().y)
        ])
    });
    let mut f = Map::new();
    f.insert("type".into(), json!("Feature"));
    f.insert("id".into(), id);
    if let Some(b) = bbox {
        f.insert("bbox".into(), b);
    }
    f.insert("geometry".into(), geometry(g));
    f.insert("properties".into(), Value::Object(properties));
    Value::Object(f)
}

/// A FeatureCollection as a data set file holds it: one feature per line, so that generated
/// and imported files diff readably.
pub fn collection_text(features: &[Value]) -> String {
    let mut text = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&f.to_string());
    }
    text.push_str("\n]}\n");
    text
}

/// Rounds degrees to 7 decimals (about 1 cm), as RFC 7946 suggests for precision.
pub fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn coord(c: &geo::Coord<f64>) -> Value {
    json!([round7(c.x), round7(c.y)])
}

fn line(l: &geo::LineString<f64>) -> Value {
    Value::Array(l.coords().map(coord).collect())
}

fn polygon(p: &geo::Polygon<f64>) -> Value {
    Value::Array(
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(line)
            .collect(),
    )
}

/// A geometry as an RFC 7946 geometry object.
pub fn geometry(g: &Geometry<f64>) -> Value {
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": coord(&p.0)}),
        Geometry::MultiPoint(m) => {
            json!({"type": "MultiPoint", "coordinates": m.iter().map(|p| coord(&p.0)).collect::<Vec<_>>()})
        }
        Geometry::LineString(l) => json!({"type": "LineString", "coordinates": line(l)}),
        Geometry::MultiLineString(m) => {
            json!({"type": "MultiLineString", "coordinates": m.iter().map(line).collect::<Vec<_>>()})
        }
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": polygon(p)}),
        Geometry::MultiPolygon(m) => {
            json!({"type": "MultiPolygon", "coordinates": m.iter().map(polygon).collect::<Vec<_>>()})
        }
        _ => Value::Null,
    }
}
