//! Sites as the system of record: every site's full feature (geometry and properties), every
//! version of it, the seeding from the data set on first start, and the one write of a change.
//!
//! A site is kept in its data-file form ([`crate::load::site_record`]) in `site_state.feature`
//! and, for each version, in `site_version`; the status columns of `site_state` mirror the
//! record for the checks and the assignment key. Retired sites keep their row (with
//! `retired_at`) and every version, so their history stays readable and they can be restored.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value;

use super::{ChangeContext, Replay, Store, StoreError, Writer, accounts, history, lock};
use crate::load::{site_from_record, site_record};
use crate::model::{Position, Site, Timestamp};

/// What kind of change a version records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new site.
    Created,
    /// New attributes or geometry of a live site.
    Updated,
    /// The site left the map; its history stays.
    Retired,
    /// A retired site came back.
    Restored,
}

impl ChangeKind {
    /// The machine name (`created`, …), as stored and sent in events.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Retired => "retired",
            ChangeKind::Restored => "restored",
        }
    }

    pub(super) fn parse(s: &str) -> Result<ChangeKind, StoreError> {
        Ok(match s {
            "created" => ChangeKind::Created,
            "updated" => ChangeKind::Updated,
            "retired" => ChangeKind::Retired,
            "restored" => ChangeKind::Restored,
            _ => {
                return Err(StoreError::BadValue {
                    what: "change_kind",
                    value: s.to_owned(),
                });
            }
        })
    }
}

/// One change to write: the site before (absent for a creation) and after, who and why, and
/// what the change feed announces with it.
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    /// What the change is.
    pub kind: ChangeKind,
    /// The stored state it is based on; `None` only for [`ChangeKind::Created`].
    pub before: Option<&'a Site>,
    /// The new full state (for a retirement: the site as it was, at its new version).
    pub after: &'a Site,
    /// Who, and the note and reason given.
    pub ctx: ChangeContext<'a>,
    /// WGS84 bounds covering the old and the new geometry: west, south, east, north.
    pub bbox: Option<[f64; 4]>,
    /// The snapshot generation that will show the change.
    pub generation: Option<u64>,
    /// Photos of the site to attach to the change (each uploaded before and not attached).
    pub photos: &'a [String],
    /// Where the writer's device was.
    pub position: Option<Position>,
}

/// A site as the store holds it now.
#[derive(Debug, Clone)]
pub struct StoredSite {
    /// The full state, at its stored version.
    pub site: Site,
    /// Whether it is retired.
    pub retired: bool,
    /// The seq of its newest change (0 if none).
    pub seq: i64,
}

/// The meta key of the instant the store was seeded from the data set.
const SEEDED_AT: &str = "seeded_at";

fn record_text(site: &Site) -> String {
    site_record(site).to_string()
}

pub(super) fn from_record(text: &str, version: i64) -> Result<Site, StoreError> {
    let value: Value = serde_json::from_str(text).map_err(|e| StoreError::BadValue {
        what: "feature",
        value: e.to_string(),
    })?;
    let mut site = site_from_record(value).map_err(|e| StoreError::BadValue {
        what: "feature",
        value: e.to_string(),
    })?;
    site.version = version as u64;
    Ok(site)
}

/// Adds every data-set site the store has never known, as version 1, and fills the feature of
/// rows written by schema 1 (status only) from the data set overlaid with their state. Sites
/// the store holds a feature for are left alone: from the first start on the store, not the
/// file, is the record (see docs/living-map.md for merging a new data set).
pub(super) fn seed(conn: &mut Connection, sites: &[Site], fresh: bool) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = Timestamp::now().to_string();
    let seeded_at: Option<String> = tx
        .query_row("SELECT value FROM meta WHERE key = ?1", [SEEDED_AT], |r| {
            r.get(0)
        })
        .optional()?;
    let at = match seeded_at {
        Some(at) => at,
        None => {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![SEEDED_AT, now],
            )?;
            now
        }
    };
    let mut added = 0usize;
    let mut filled = 0usize;
    for s in sites {
        // Statements are prepared once for the whole loop (24,000 sites at `--scale 100`).
        let row: Option<(Option<String>, i64)> = tx
            .prepare_cached("SELECT feature, version FROM site_state WHERE site_id = ?1")?
            .query_row([s.id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None => {
                insert_state(&tx, s, 1)?;
                insert_version(&tx, s, 1, &at, None, false)?;
                added += 1;
            }
            Some((None, version)) => {
                let mut site = s.clone();
                super::read_state(&tx, &mut site)?;
                tx.execute(
                    "UPDATE site_state SET feature = ?2 WHERE site_id = ?1",
                    params![s.id.as_str(), record_text(&site)],
                )?;
                insert_version(&tx, &site, version, &at, None, false)?;
                filled += 1;
            }
            Some((Some(_), _)) => {}
        }
    }
    tx.commit()?;
    if !fresh && (added > 0 || filled > 0) {
        tracing::info!(
            "store: {added} sites added from the data set, {filled} filled in from it (schema 1 rows)"
        );
    }
    Ok(())
}

fn insert_state(tx: &Transaction<'_>, s: &Site, version: u64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO site_state (site_id, status, progress, note, planned_start, planned_finish,
             investment_wan, version, updated_at, feature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        s.id.as_str(),
        s.status.as_str(),
        s.progress,
        s.note,
        s.planned_start.to_string(),
        s.planned_finish.to_string(),
        s.investment_wan,
        version as i64,
        s.updated_at.to_string(),
        record_text(s),
    ])?;
    Ok(())
}

fn insert_version(
    tx: &Transaction<'_>,
    s: &Site,
    version: i64,
    at: &str,
    seq: Option<i64>,
    retired: bool,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO site_version (site_id, version, at, seq, retired, feature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        s.id.as_str(),
        version,
        at,
        seq,
        retired,
        record_text(s)
    ])?;
    Ok(())
}

impl Writer<'_> {
    /// Writes one change in one `BEGIN IMMEDIATE` transaction: the new state (if the store
    /// still holds `before`'s version; for a creation, if the id is free), a full new version,
    /// and the audit row. Returns the change's seq.
    ///
    /// It checks again inside the transaction that the actor's token is not revoked
    /// ([`StoreError::Revoked`]) and that the site is still in its assignment
    /// ([`StoreError::NotAssigned`]).
    pub fn commit(&mut self, c: &Commit<'_>) -> Result<i64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: bool = tx
            .query_row(
                "SELECT revoked_at IS NULL FROM account WHERE id = ?1",
                [c.ctx.actor.id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false);
        if !live {
            return Err(StoreError::Revoked(c.ctx.actor.id));
        }
        let account = accounts::load_account(&tx, c.ctx.actor.id)?;
        let scope = c.before.unwrap_or(c.after);
        if account.role != c.ctx.actor.role || !account.covers(scope) {
            return Err(StoreError::NotAssigned {
                account: account.id,
                site: scope.id.to_string(),
            });
        }
        let after = c.after;
        let retired_after = c.kind == ChangeKind::Retired;
        match c.before {
            None => {
                let taken: Option<i64> = tx
                    .query_row(
                        "SELECT version FROM site_state WHERE site_id = ?1",
                        [after.id.as_str()],
                        |r| r.get(0),
                    )
                    .optional()?;
                if taken.is_some() {
                    return Err(StoreError::IdTaken(after.id.to_string()));
                }
                insert_state(&tx, after, after.version)?;
            }
            Some(before) => {
                let updated = tx.execute(
                    "UPDATE site_state SET status = ?2, progress = ?3, note = ?4,
                         planned_start = ?5, planned_finish = ?6, investment_wan = ?7,
                         version = ?8, updated_at = ?9, feature = ?10,
                         retired_at = CASE WHEN ?11 THEN ?9 ELSE NULL END
                     WHERE site_id = ?1 AND version = ?12",
                    params![
                        after.id.as_str(),
                        after.status.as_str(),
                        after.progress,
                        after.note,
                        after.planned_start.to_string(),
                        after.planned_finish.to_string(),
                        after.investment_wan,
                        after.version as i64,
                        after.updated_at.to_string(),
                        record_text(after),
                        retired_after,
                        before.version as i64,
                    ],
                )?;
                if updated != 1 {
                    let current: Option<i64> = tx
                        .query_row(
                            "SELECT version FROM site_state WHERE site_id = ?1",
                            [after.id.as_str()],
                            |r| r.get(0),
                        )
                        .optional()?;
                    return Err(StoreError::VersionConflict {
                        site: after.id.to_string(),
                        expected: before.version,
                        current: current.unwrap_or(0) as u64,
                    });
                }
            }
        }
        let before = c.before.unwrap_or(after);
        let plan = history::plan_diff(before, after);
        let geometry_changed = c.before.is_some_and(|b| b.geometry != after.geometry);
        tx.execute(
            "INSERT INTO change (site_id, at, account_id, actor, role, from_status, from_progress,
                 to_status, to_progress, note, reason, plan, version, change_kind, bbox,
                 generation, geometry_changed, site_kind, idempotency_key, idempotency_request,
                 photos, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22)",
            params![
                after.id.as_str(),
                after.updated_at.to_string(),
                c.ctx.actor.id,
                c.ctx.actor.name,
                c.ctx.actor.role.as_str(),
                before.status.as_str(),
                before.progress,
                after.status.as_str(),
                after.progress,
                c.ctx.note,
                c.ctx.reason,
                plan.map(|p| p.to_string()),
                after.version as i64,
                c.kind.as_str(),
                c.bbox.map(|b| serde_json::json!(b).to_string()),
                c.generation.map(|g| g as i64),
                geometry_changed,
                after.kind.as_str(),
                c.ctx.idempotency.map(|i| i.key),
                c.ctx.idempotency.map(|i| i.request),
                (!c.photos.is_empty()).then(|| serde_json::json!(c.photos).to_string()),
                c.position.map(|p| serde_json::json!(p).to_string()),
            ],
        )?;
        let seq = tx.last_insert_rowid();
        super::photos::attach(&tx, after.id.as_str(), c.photos, seq)?;
        insert_version(
            &tx,
            after,
            after.version as i64,
            &after.updated_at.to_string(),
            Some(seq),
            retired_after,
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// The site as stored now (any state, retired too), with the seq of its newest change.
    pub fn stored(&self, id: &str) -> Result<Option<StoredSite>, StoreError> {
        stored(&self.conn, id)
    }
}

fn stored(conn: &Connection, id: &str) -> Result<Option<StoredSite>, StoreError> {
    let row: Option<(Option<String>, i64, bool)> = conn
        .query_row(
            "SELECT feature, version, retired_at IS NOT NULL FROM site_state WHERE site_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((Some(feature), version, retired)) = row else {
        return Ok(None);
    };
    let site = from_record(&feature, version)?;
    let seq = super::latest_seq(conn, Some(id))?;
    Ok(Some(StoredSite { site, retired, seq }))
}

impl Store {
    /// Every live (not retired) site as the store holds it, in the order they were added.
    pub fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT feature, version FROM site_state
             WHERE retired_at IS NULL AND feature IS NOT NULL ORDER BY rowid",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|(f, v)| from_record(f, *v)).collect()
    }

    /// The site as stored now, retired or not.
    pub fn stored(&self, id: &str) -> Result<Option<StoredSite>, StoreError> {
        stored(&self.read(), id)
    }

    /// Every site as it stood at `at`: for each site its newest version written at or before
    /// `at`, leaving out sites retired then or created later; in the order sites were added.
    pub fn sites_as_of(&self, at: Timestamp) -> Result<Vec<Site>, StoreError> {
        let conn = self.read();
        let mut stmt = conn.prepare_cached(
            "SELECT v.feature, v.version, v.retired
             FROM site_state s
             JOIN site_version v ON v.site_id = s.site_id AND v.version = (
                 SELECT max(version) FROM site_version w WHERE w.site_id = s.site_id AND w.at <= ?1)
             ORDER BY s.rowid",
        )?;
        let rows = stmt
            .query_map([at.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .filter(|(_, _, retired)| !retired)
            .map(|(f, v, _)| from_record(f, *v))
            .collect()
    }

    /// The change `account_id` made with idempotency key `key`, if any.
    pub fn replay(&self, account_id: i64, key: &str) -> Result<Option<Replay>, StoreError> {
        let conn = self.read();
        let row = conn
            .query_row(
                "SELECT seq, site_id, version, idempotency_request FROM change
                 WHERE account_id = ?1 AND idempotency_key = ?2",
                params![account_id, key],
                |r| {
                    Ok(Replay {
                        seq: r.get(0)?,
                        site_id: r.get(1)?,
                        version: r.get::<_, i64>(2)? as u64,
                        request: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    /// One stored version of a site: the full feature in data-file form and whether the
    /// version retired it.
    pub fn version(&self, id: &str, version: u64) -> Result<Option<(Site, bool)>, StoreError> {
        let conn = self.read();
        let row: Option<(String, bool)> = conn
            .query_row(
                "SELECT feature, retired FROM site_version WHERE site_id = ?1 AND version = ?2",
                params![id, version as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(f, retired)| Ok((from_record(&f, version as i64)?, retired)))
            .transpose()
    }

    /// When the store was seeded from the data set: no map exists before it.
    pub fn seeded_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let conn = self.read();
        let v: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [SEEDED_AT], |r| {
                r.get(0)
            })
            .optional()?;
        v.map(|s| super::parse(&s, "seeded_at")).transpose()
    }

    /// A numeric feature id no stored site (live or retired) uses, and none handed out before.
    /// The stored maximum is read once (a scan of every feature); later calls count on from
    /// it, so a create costs the same whatever the number of sites. An id handed out for a
    /// create that then fails is not reused: ids only need to be unique.
    pub fn next_fid(&self) -> Result<u64, StoreError> {
        let mut high = lock(&self.inner.fid_high);
        let current = match *high {
            Some(h) => h,
            None => {
                let conn = lock(&self.inner.reader);
                let max: Option<i64> = conn.query_row(
                    "SELECT max(CAST(json_extract(feature, '$.properties.fid') AS INTEGER)) FROM site_state",
                    [],
                    |r| r.get(0),
                )?;
                max.map_or(0, |m| m.max(0) as u64)
            }
        };
        let next = current + 1;
        *high = Some(next);
        Ok(next)
    }

    /// The newest snapshot generation recorded with a change (0 if none): a restarted service
    /// continues after it, so event generations keep increasing.
    pub fn last_generation(&self) -> Result<u64, StoreError> {
        let conn = self.read();
        let g: Option<i64> =
            conn.query_row("SELECT max(generation) FROM change", [], |r| r.get(0))?;
        Ok(g.map_or(0, |g| g.max(0) as u64))
    }
}
