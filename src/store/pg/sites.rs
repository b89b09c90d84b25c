//! Sites in PostgreSQL: seeding from the data set, the one write of a change, and the reads of
//! stored states and versions. Features are kept in their data-file form
//! ([`crate::load::site_record`]) as `jsonb`, with the geometry also as PostGIS geometry.

use postgres::types::ToSql;
use postgres::{Client, ToStatement};
use serde_json::Value;

use super::{Session, pg_error, schema};
use crate::load::site_record;
use crate::model::{Site, Timestamp};
use crate::store::{ChangeKind, Commit, Replay, StoreError, StoredSite, history};

/// The meta key of the instant the store was seeded from the data set.
const SEEDED_AT: &str = "seeded_at";

/// The record's text and its geometry's GeoJSON text.
fn record_parts(site: &Site) -> (String, String) {
    let record = site_record(site);
    let geometry = record
        .get("geometry")
        .map(Value::to_string)
        .unwrap_or_else(|| "null".into());
    (record.to_string(), geometry)
}

/// A site from its stored feature text (the same record as the SQLite store's).
pub(super) use crate::store::sites::from_record;

/// Geometry from GeoJSON text, in WGS84; `NULL` for a missing geometry.
const GEOM: &str =
    "CASE WHEN $GEOM = 'null' THEN NULL ELSE ST_SetSRID(ST_GeomFromGeoJSON($GEOM), 4326) END";

fn geom(param: usize) -> String {
    GEOM.replace("$GEOM", &format!("${param}"))
}

/// The `INSERT` of a site's current state; `$8` the record, `$9` its geometry (GeoJSON text).
fn insert_state_sql() -> String {
    format!(
        "INSERT INTO site_state (site_id, fid, kind, status, progress, version, updated_at,
             feature, geom)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, {})",
        geom(9)
    )
}

/// The `INSERT` of one version of a site; `$6` the record, `$7` its geometry.
fn insert_version_sql() -> String {
    format!(
        "INSERT INTO site_version (site_id, version, at, seq, retired, feature, geom)
         VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, {})",
        geom(7)
    )
}

/// `parts` is [`record_parts`] of `s`; `query` is [`insert_state_sql`], text or prepared.
fn insert_state(
    tx: &mut postgres::Transaction<'_>,
    query: &(impl ToStatement + ?Sized),
    s: &Site,
    parts: &(String, String),
) -> Result<(), StoreError> {
    let params: [&(dyn ToSql + Sync); 9] = [
        &s.id.as_str(),
        &(s.fid as i64),
        &s.kind.as_str(),
        &s.status.as_str(),
        &i32::from(s.progress),
        &(s.version as i64),
        &s.updated_at.to_string(),
        &parts.0,
        &parts.1,
    ];
    tx.execute(query, &params).map_err(pg_error)?;
    Ok(())
}

/// A version row of `s` (`parts` as for [`insert_state`]; `query` is [`insert_version_sql`]).
fn insert_version(
    tx: &mut postgres::Transaction<'_>,
    query: &(impl ToStatement + ?Sized),
    s: &Site,
    parts: &(String, String),
    at: &str,
    seq: Option<i64>,
    retired: bool,
) -> Result<(), StoreError> {
    tx.execute(
        query,
        &[
            &s.id.as_str(),
            &(s.version as i64),
            &at,
            &seq,
            &retired,
            &parts.0,
            &parts.1,
        ],
    )
    .map_err(pg_error)?;
    Ok(())
}

/// Adds every data-set site the database has never known, as version 1, under the setup
/// lock; sets the feature id sequence past every stored fid. From the first start on the
/// database, not the file, is the record (as for SQLite, docs/living-map.md).
pub(super) fn seed(c: &mut Client, sites: &[Site]) -> Result<(), StoreError> {
    let mut tx = c.transaction().map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::SETUP_LOCK])
        .map_err(pg_error)?;
    let now = Timestamp::now().to_string();
    let at: String = match tx
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&SEEDED_AT])
        .map_err(pg_error)?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)",
                &[&SEEDED_AT, &now],
            )
            .map_err(pg_error)?;
            now
        }
    };
    let known: std::collections::HashSet<String> = tx
        .query("SELECT site_id FROM site_state", &[])
        .map_err(pg_error)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut added = 0usize;
    let (state_sql, version_sql) = (insert_state_sql(), insert_version_sql());
    let state = tx.prepare(&state_sql).map_err(pg_error)?;
    let version = tx.prepare(&version_sql).map_err(pg_error)?;
    for s in sites.iter().filter(|s| !known.contains(s.id.as_str())) {
        let mut first = s.clone();
        first.version = 1;
        let parts = record_parts(&first);
        insert_state(&mut tx, &state, &first, &parts)?;
        insert_version(&mut tx, &version, &first, &parts, &at, None, false)?;
        added += 1;
    }
    // Only ever forward: another instance may have handed out ids past the stored ones.
    tx.batch_execute(
        "SELECT setval('site_fid', m, true) FROM (SELECT greatest(
             (SELECT coalesce(max(fid), 0) FROM site_state),
             (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM site_fid)) AS m) x
         WHERE m > 0",
    )
    .map_err(pg_error)?;
    tx.commit().map_err(pg_error)?;
    if added > 0 && !known.is_empty() {
        tracing::info!("store: {added} sites added from the data set");
    }
    Ok(())
}

/// The `UPDATE` of a site's state, with the version check in its `WHERE`.
fn update_state_sql() -> String {
    format!(
        "UPDATE site_state SET kind = $2, status = $3, progress = $4, version = $5,
             updated_at = $6, feature = $7::text::jsonb, geom = {},
             retired_at = CASE WHEN $9 THEN $6 ELSE NULL END
         WHERE site_id = $1 AND version = $10",
        geom(8)
    )
}

/// The change row; its seq is `max + 1`, given under the commit lock (gapless, in commit
/// order) in the same statement.
const INSERT_CHANGE: &str = "INSERT INTO change (seq, site_id, at, account_id, actor, role,
         from_status, from_progress, to_status, to_progress, note, reason, plan, version,
         change_kind, bbox, generation, geometry_changed, site_kind, idempotency_key,
         idempotency_request, photos, position)
     SELECT coalesce(max(seq), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
         $14, $15, $16, $17, $18, $19, $20, $21, $22
     FROM change
     RETURNING seq";

const COMMIT_LOCK_SQL: &str = "SELECT pg_advisory_xact_lock($1)";
const KEY_SQL: &str = "SELECT seq, site_id, version, idempotency_request FROM change
     WHERE account_id = $1 AND idempotency_key = $2";
const NOTIFY_SQL: &str = "SELECT pg_notify($1, $2)";

/// Writes one change in one transaction (see the module docs of [`super`]): returns its seq.
/// Every statement is prepared once per connection ([`Session::prepared`]), so each is one
/// round trip.
pub(super) fn commit(c: &mut Session, ch: &Commit<'_>) -> Result<i64, StoreError> {
    let lock = c.prepared(COMMIT_LOCK_SQL)?;
    let key_lookup = c.prepared(KEY_SQL)?;
    let live = c.prepared(super::accounts::LIVE_BY_ID)?;
    let update = c.prepared(&update_state_sql())?;
    let insert_change = c.prepared(INSERT_CHANGE)?;
    let version_row = c.prepared(&insert_version_sql())?;
    let notify = c.prepared(NOTIFY_SQL)?;
    let state_row = match ch.before {
        None => Some(c.prepared(&insert_state_sql())?),
        Some(_) => None,
    };
    let mut tx = c.transaction().map_err(pg_error)?;
    tx.execute(&lock, &[&schema::COMMIT_LOCK])
        .map_err(pg_error)?;
    let actor = ch.ctx.actor;
    // Another instance may have committed this key since the service looked (its check runs
    // under its own writer lock, not under the database's): under the commit lock every
    // earlier commit is visible, so this check is the one that counts. Checked before the
    // version, so the loser of a race on one key is answered as a replay, not a 412.
    if let Some(key) = ch.ctx.idempotency
        && let Some(winner) = replay_in(&mut tx, &key_lookup, actor.id, key.key)?
    {
        return Err(StoreError::KeyUsed(winner));
    }
    let account = super::accounts::load_live(&mut tx, &live, actor.id)?
        .ok_or(StoreError::Revoked(actor.id))?;
    let scope = ch.before.unwrap_or(ch.after);
    if account.role != actor.role || !account.covers(scope) {
        return Err(StoreError::NotAssigned {
            account: account.id,
            site: scope.id.to_string(),
        });
    }
    let after = ch.after;
    let retired_after = ch.kind == ChangeKind::Retired;
    let parts = record_parts(after);
    match (ch.before, &state_row) {
        (Some(before), _) => {
            let params: [&(dyn ToSql + Sync); 10] = [
                &after.id.as_str(),
                &after.kind.as_str(),
                &after.status.as_str(),
                &i32::from(after.progress),
                &(after.version as i64),
                &after.updated_at.to_string(),
                &parts.0,
                &parts.1,
                &retired_after,
                &(before.version as i64),
            ];
            let updated = tx.execute(&update, &params).map_err(pg_error)?;
            if updated != 1 {
                let current: Option<i64> = tx
                    .query_opt(
                        "SELECT version FROM site_state WHERE site_id = $1",
                        &[&after.id.as_str()],
                    )
                    .map_err(pg_error)?
                    .map(|r| r.get(0));
                return Err(StoreError::VersionConflict {
                    site: after.id.to_string(),
                    expected: before.version,
                    current: current.unwrap_or(0) as u64,
                });
            }
        }
        (None, Some(state_row)) => {
            let taken = tx
                .query_opt(
                    "SELECT 1 FROM site_state WHERE site_id = $1",
                    &[&after.id.as_str()],
                )
                .map_err(pg_error)?;
            if taken.is_some() {
                return Err(StoreError::IdTaken(after.id.to_string()));
            }
            insert_state(&mut tx, state_row, after, &parts)?;
        }
        (None, None) => return Err(StoreError::IdTaken(after.id.to_string())),
    }
    let before = ch.before.unwrap_or(after);
    let plan = history::plan_diff(before, after).map(|p| p.to_string());
    let geometry_changed = ch.before.is_some_and(|b| b.geometry != after.geometry);
    let bbox = ch.bbox.map(|b| serde_json::json!(b).to_string());
    let generation = ch.generation.map(|g| g as i64);
    let key = ch.ctx.idempotency.map(|i| i.key);
    let request = ch.ctx.idempotency.map(|i| i.request);
    let photos = (!ch.photos.is_empty()).then(|| serde_json::json!(ch.photos).to_string());
    let position = ch.position.map(|p| serde_json::json!(p).to_string());
    let params: [&(dyn ToSql + Sync); 22] = [
        &after.id.as_str(),
        &after.updated_at.to_string(),
        &actor.id,
        &actor.name,
        &actor.role.as_str(),
        &before.status.as_str(),
        &i32::from(before.progress),
        &after.status.as_str(),
        &i32::from(after.progress),
        &ch.ctx.note,
        &ch.ctx.reason,
        &plan,
        &(after.version as i64),
        &ch.kind.as_str(),
        &bbox,
        &generation,
        &geometry_changed,
        &after.kind.as_str(),
        &key,
        &request,
        &photos,
        &position,
    ];
    let seq: i64 = tx
        .query_one(&insert_change, &params)
        .map_err(pg_error)?
        .get(0);
    super::photos::attach(&mut tx, after.id.as_str(), ch.photos, seq)?;
    insert_version(
        &mut tx,
        &version_row,
        after,
        &parts,
        &after.updated_at.to_string(),
        Some(seq),
        retired_after,
    )?;
    tx.execute(&notify, &[&schema::CHANNEL, &seq.to_string()])
        .map_err(pg_error)?;
    tx.commit().map_err(pg_error)?;
    Ok(seq)
}

/// The site as stored now, with the seq of its newest change.
pub(super) fn stored(c: &mut Client, id: &str) -> Result<Option<StoredSite>, StoreError> {
    let row = c
        .query_opt(
            "SELECT feature::text, version, retired_at IS NOT NULL,
                 (SELECT coalesce(max(seq), 0) FROM change WHERE site_id = $1)
             FROM site_state WHERE site_id = $1",
            &[&id],
        )
        .map_err(pg_error)?;
    let Some(row) = row else { return Ok(None) };
    let site = from_record(row.get(0), row.get(1))?;
    Ok(Some(StoredSite {
        site,
        retired: row.get(2),
        seq: row.get(3),
    }))
}

/// Every live site in the order they were added, and the newest seq, read in one snapshot of
/// the database (`REPEATABLE READ`), so the sites show exactly the changes up to that seq.
pub(super) fn live_sites_at_head(c: &mut Client) -> Result<(Vec<Site>, i64), StoreError> {
    let mut tx = c
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(pg_error)?;
    let rows = tx
        .query(
            "SELECT feature::text, version FROM site_state WHERE retired_at IS NULL ORDER BY added",
            &[],
        )
        .map_err(pg_error)?;
    let head: i64 = tx
        .query_one("SELECT coalesce(max(seq), 0) FROM change", &[])
        .map_err(pg_error)?
        .get(0);
    tx.commit().map_err(pg_error)?;
    let sites = rows
        .iter()
        .map(|r| from_record(r.get(0), r.get(1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((sites, head))
}

/// Every site as it stood at `at` (see [`crate::store::Store::sites_as_of`]).
pub(super) fn sites_as_of(c: &mut Client, at: Timestamp) -> Result<Vec<Site>, StoreError> {
    let rows = c
        .query(
            "SELECT v.feature::text, v.version, v.retired
             FROM site_state s
             JOIN site_version v ON v.site_id = s.site_id AND v.version = (
                 SELECT max(version) FROM site_version w WHERE w.site_id = s.site_id AND w.at <= $1)
             ORDER BY s.added",
            &[&at.to_string()],
        )
        .map_err(pg_error)?;
    rows.iter()
        .filter(|r| !r.get::<_, bool>(2))
        .map(|r| from_record(r.get(0), r.get(1)))
        .collect()
}

/// One stored version of a site and whether it retired the site.
pub(super) fn version(
    c: &mut Client,
    id: &str,
    version: u64,
) -> Result<Option<(Site, bool)>, StoreError> {
    let v = version as i64;
    let row = c
        .query_opt(
            "SELECT feature::text, retired FROM site_version WHERE site_id = $1 AND version = $2",
            &[&id, &v],
        )
        .map_err(pg_error)?;
    row.map(|r| Ok((from_record(r.get(0), v)?, r.get(1))))
        .transpose()
}

/// When the store was seeded.
pub(super) fn seeded_at(c: &mut Client) -> Result<Option<Timestamp>, StoreError> {
    let row = c
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&SEEDED_AT])
        .map_err(pg_error)?;
    row.map(|r| {
        let s: String = r.get(0);
        s.parse().map_err(|_| StoreError::BadValue {
            what: "seeded_at",
            value: s,
        })
    })
    .transpose()
}

/// A feature id no instance has handed out (the shared sequence).
pub(super) fn next_fid(c: &mut Client) -> Result<u64, StoreError> {
    let n: i64 = c
        .query_one("SELECT nextval('site_fid')", &[])
        .map_err(pg_error)?
        .get(0);
    Ok(n.max(1) as u64)
}

/// The change `account_id` made with idempotency key `key`, if any.
pub(super) fn replay(
    c: &mut Client,
    account_id: i64,
    key: &str,
) -> Result<Option<Replay>, StoreError> {
    replay_in(c, KEY_SQL, account_id, key)
}

/// Whether `e` is the unique index on `(account_id, idempotency_key)` refusing a second
/// change with one key (SQLSTATE 23505 on `change_idempotency`).
pub(super) fn is_key_violation(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| {
        *d.code() == postgres::error::SqlState::UNIQUE_VIOLATION
            && d.constraint() == Some("change_idempotency")
    })
}

/// The change holding `key` (`query` is [`KEY_SQL`], text or prepared).
fn replay_in(
    c: &mut impl postgres::GenericClient,
    query: &(impl ToStatement + ?Sized),
    account_id: i64,
    key: &str,
) -> Result<Option<Replay>, StoreError> {
    let row = c.query_opt(query, &[&account_id, &key]).map_err(pg_error)?;
    Ok(row.map(|r| Replay {
        seq: r.get(0),
        site_id: r.get(1),
        version: r.get::<_, i64>(2) as u64,
        request: r.get::<_, Option<String>>(3).unwrap_or_default(),
    }))
}
