//! The audit trail: one row per accepted change, read per site or as a feed by sequence.

use rusqlite::Row;
use serde_json::{Map, Value, json};

use super::{ChangeKind, Store, StoreError, parse, parse_status};
use crate::model::{Position, RenewalKind, RenewalStatus, Role, Site, SiteId, Timestamp};

/// One accepted change of a site.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Position in the feed of all changes; increases with every change.
    pub seq: i64,
    /// The site.
    pub site: SiteId,
    /// When it was accepted.
    pub at: Timestamp,
    /// Name of the account that made it.
    pub actor: String,
    /// That account's role.
    pub role: Role,
    /// Status and progress before.
    pub from: (RenewalStatus, u8),
    /// Status and progress after.
    pub to: (RenewalStatus, u8),
    /// The note given with the change.
    pub note: Option<String>,
    /// The reason given.
    pub reason: Option<String>,
    /// Changed plan fields as `{"field": {"from": …, "to": …}}`, if any.
    pub plan: Option<Value>,
    /// The site's version after the change.
    pub version: u64,
    /// What the change was: created, updated, retired, restored.
    pub kind: ChangeKind,
    /// WGS84 bounds covering the old and the new geometry (west, south, east, north); absent
    /// for changes written before schema 2.
    pub bbox: Option<[f64; 4]>,
    /// The snapshot generation that first showed the change; absent before schema 2.
    pub generation: Option<u64>,
    /// Whether the geometry changed.
    pub geometry_changed: bool,
    /// The site's kind (`pocket_park`, …); absent for changes written before schema 2.
    pub site_kind: Option<RenewalKind>,
    /// Ids of the photos attached to the change (schema 4), in the order the update gave.
    pub photos: Vec<String>,
    /// Where the writer's device was, if the update said (schema 4).
    pub position: Option<Position>,
}

/// A committed change with the full state of the site it wrote, for an instance that applies
/// changes made elsewhere to its own snapshot.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    /// The change.
    pub change: Change,
    /// The site at the change's version.
    pub site: Site,
    /// Whether the version retired the site.
    pub retired: bool,
}

pub(super) const COLUMNS: &str = "seq, site_id, at, actor, role, from_status, from_progress, to_status, \
                       to_progress, note, reason, plan, version, change_kind, bbox, generation, \
                       geometry_changed, site_kind, photos, position";

/// How many columns [`COLUMNS`] names: a query that selects more after them reads those from
/// this index on.
pub(super) const COLUMN_COUNT: usize = 20;

/// A change row as plain column values, before parsing (both stores read into it).
pub(super) struct RawChange {
    pub(super) seq: i64,
    pub(super) site: String,
    pub(super) at: String,
    pub(super) actor: String,
    pub(super) role: String,
    pub(super) from_status: String,
    pub(super) from_progress: i64,
    pub(super) to_status: String,
    pub(super) to_progress: i64,
    pub(super) note: Option<String>,
    pub(super) reason: Option<String>,
    pub(super) plan: Option<String>,
    pub(super) version: i64,
    pub(super) kind: String,
    pub(super) bbox: Option<String>,
    pub(super) generation: Option<i64>,
    pub(super) geometry_changed: bool,
    pub(super) site_kind: Option<String>,
    pub(super) photos: Option<String>,
    pub(super) position: Option<String>,
}

fn raw(r: &Row<'_>) -> rusqlite::Result<RawChange> {
    Ok(RawChange {
        seq: r.get(0)?,
        site: r.get(1)?,
        at: r.get(2)?,
        actor: r.get(3)?,
        role: r.get(4)?,
        from_status: r.get(5)?,
        from_progress: r.get(6)?,
        to_status: r.get(7)?,
        to_progress: r.get(8)?,
        note: r.get(9)?,
        reason: r.get(10)?,
        plan: r.get(11)?,
        version: r.get(12)?,
        kind: r.get(13)?,
        bbox: r.get(14)?,
        generation: r.get(15)?,
        geometry_changed: r.get(16)?,
        site_kind: r.get(17)?,
        photos: r.get(18)?,
        position: r.get(19)?,
    })
}

fn progress(v: i64, what: &'static str) -> Result<u8, StoreError> {
    u8::try_from(v).map_err(|_| StoreError::BadValue {
        what,
        value: v.to_string(),
    })
}

pub(super) fn change(r: RawChange) -> Result<Change, StoreError> {
    Ok(Change {
        seq: r.seq,
        site: SiteId(r.site),
        at: parse(&r.at, "at")?,
        actor: r.actor,
        role: parse(&r.role, "role")?,
        from: (
            parse_status(&r.from_status)?,
            progress(r.from_progress, "from_progress")?,
        ),
        to: (
            parse_status(&r.to_status)?,
            progress(r.to_progress, "to_progress")?,
        ),
        note: r.note,
        reason: r.reason,
        plan: r.plan.and_then(|p| serde_json::from_str(&p).ok()),
        version: r.version as u64,
        kind: ChangeKind::parse(&r.kind)?,
        bbox: r.bbox.and_then(|b| serde_json::from_str(&b).ok()),
        generation: r.generation.map(|g| g.max(0) as u64),
        geometry_changed: r.geometry_changed,
        site_kind: r.site_kind.map(|k| parse(&k, "site_kind")).transpose()?,
        photos: r
            .photos
            .map(|p| {
                serde_json::from_str(&p).map_err(|_| StoreError::BadValue {
                    what: "photos",
                    value: p,
                })
            })
            .transpose()?
            .unwrap_or_default(),
        position: r
            .position
            .map(|p| {
                serde_json::from_str(&p).map_err(|_| StoreError::BadValue {
                    what: "position",
                    value: p,
                })
            })
            .transpose()?,
    })
}

impl Store {
    /// Every published change of `site` (up to [`Store::published_seq`]), oldest first.
    pub fn history(&self, site: &str) -> Result<Vec<Change>, StoreError> {
        // Read the mark before the rows: a change committed but not yet on the map stays out.
        let upto = self.published_seq();
        let conn = self.read();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM change WHERE site_id = ?1 AND seq <= ?2 ORDER BY seq"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params![site, upto], raw)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(change).collect()
    }

    /// Up to `limit` published changes of any site with `seq > since` (and at most
    /// [`Store::published_seq`]), in order.
    pub fn changes_since(&self, since: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let upto = self.published_seq();
        let conn = self.read();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM change WHERE seq > ?1 AND seq <= ?3 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params![since, limit as i64, upto], raw)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(change).collect()
    }

    /// Up to `limit` committed changes after `since` (published or not), in seq order, each
    /// with the state it wrote: what [`crate::update::UpdateService::follow`] applies.
    pub fn committed_after(&self, since: i64, limit: usize) -> Result<Vec<FeedEntry>, StoreError> {
        let conn = self.read();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {}, v.feature, v.retired FROM change
             JOIN site_version v ON v.site_id = change.site_id AND v.version = change.version
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            COLUMNS
                .split(", ")
                .map(|c| format!("change.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let rows = stmt
            .query_map(rusqlite::params![since, limit as i64], |r| {
                Ok((
                    raw(r)?,
                    r.get::<_, String>(COLUMN_COUNT)?,
                    r.get::<_, bool>(COLUMN_COUNT + 1)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(raw, feature, retired)| {
                let version = raw.version;
                Ok(FeedEntry {
                    change: change(raw)?,
                    site: super::sites::from_record(&feature, version)?,
                    retired,
                })
            })
            .collect()
    }

    /// Number of changes recorded for `site` (all sites when `None`).
    pub fn change_count(&self, site: Option<&str>) -> Result<u64, StoreError> {
        let conn = self.read();
        let n: i64 = match site {
            Some(id) => conn.query_row(
                "SELECT count(*) FROM change WHERE site_id = ?1",
                [id],
                |r| r.get(0),
            )?,
            None => conn.query_row("SELECT count(*) FROM change", [], |r| r.get(0))?,
        };
        Ok(n as u64)
    }
}

/// The plan fields that differ between `before` and `after`, as stored in the `plan` column.
pub(super) fn plan_diff(before: &Site, after: &Site) -> Option<Value> {
    let mut m = Map::new();
    if before.planned_start != after.planned_start {
        m.insert(
            "planned_start".into(),
            json!({"from": before.planned_start, "to": after.planned_start}),
        );
    }
    if before.planned_finish != after.planned_finish {
        m.insert(
            "planned_finish".into(),
            json!({"from": before.planned_finish, "to": after.planned_finish}),
        );
    }
    if before.investment_wan != after.investment_wan {
        m.insert(
            "investment_wan".into(),
            json!({"from": before.investment_wan, "to": after.investment_wan}),
        );
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

#[cfg(test)]
mod column_tests {
    use super::{COLUMN_COUNT, COLUMNS};

    #[test]
    fn column_count_matches_the_column_list() {
        assert_eq!(COLUMNS.split(',').count(), COLUMN_COUNT);
    }
}
