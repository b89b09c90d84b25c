//! `renewal-map store copy --from PATH --to postgres://…`: moves a SQLite store into an empty
//! PostgreSQL database, every row with its ids (change seqs, account ids, token hashes) and
//! every photo with its bytes, in one transaction, then counts the rows of each table on both sides.

use std::path::Path;

use postgres::types::ToSql;

use super::{PgStore, pg_error};
use crate::store::{OpenMode, Store, StoreError};

/// The tables copied, in an order that satisfies their foreign keys.
pub const TABLES: [&str; 7] = [
    "meta",
    "site_state",
    "account",
    "assignment",
    "change",
    "site_version",
    "photo",
];

/// Rows per table after a copy, as counted in the SQLite file and in PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows in SQLite, rows in PostgreSQL)`, in [`TABLES`] order.
    pub counts: Vec<(&'static str, i64, i64)>,
}

impl CopyReport {
    /// Whether every table has as many rows in PostgreSQL as in SQLite.
    pub fn verified(&self) -> bool {
        self.counts.iter().all(|(_, a, b)| a == b)
    }
}

/// Why a copy was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Either store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The PostgreSQL database already holds a store.
    #[error(
        "the PostgreSQL database is not empty ({0} sites, accounts or changes); copy into a new database"
    )]
    NotEmpty(i64),
    /// A SQLite site row written by schema 1 without its feature.
    #[error("site {0} has no stored feature; run `serve` once on the SQLite store, then copy")]
    NoFeature(String),
    /// The counts differ after the copy.
    #[error("counts differ after the copy: {0:?}")]
    Mismatch(CopyReport),
}

fn sq(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e)
}

/// Copies the SQLite store at `from` into the (empty) PostgreSQL database at `to`, migrating
/// both first; returns the verified counts.
pub fn copy(from: &Path, to: &str) -> Result<CopyReport, CopyError> {
    let sqlite = Store::open(from, &[], OpenMode::MustExist)?;
    let pg = PgStore::open(to, &[])?;
    let conn = sqlite.read();
    let mut counts = Vec::new();
    // A refusal is `Ok(Some(_))`: the transaction is dropped, so nothing was written.
    let refused = pg.write(|c| {
        let mut tx = c.transaction().map_err(pg_error)?;
        let used: i64 = tx
            .query_one(
                "SELECT (SELECT count(*) FROM site_state) + (SELECT count(*) FROM account)
                      + (SELECT count(*) FROM change)",
                &[],
            )
            .map_err(pg_error)?
            .get(0);
        if used > 0 {
            return Ok(Some(CopyError::NotEmpty(used)));
        }
        tx.execute("DELETE FROM meta", &[]).map_err(pg_error)?;
        let mut rows = conn.prepare("SELECT key, value FROM meta").map_err(sq)?;
        let meta = rows
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(sq)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sq)?;
        for (k, v) in &meta {
            tx.execute("INSERT INTO meta (key, value) VALUES ($1, $2)", &[k, v])
                .map_err(pg_error)?;
        }
        let mut rows = conn
            .prepare(
                "SELECT site_id, status, progress, version, updated_at, retired_at, feature
                 FROM site_state ORDER BY rowid",
            )
            .map_err(sq)?;
        let states = rows
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as i32,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(sq)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sq)?;
        for (id, status, progress, version, updated, retired, feature) in &states {
            let Some(feature) = feature else {
                return Ok(Some(CopyError::NoFeature(id.clone())));
            };
            tx.execute(
                "INSERT INTO site_state (site_id, fid, kind, status, progress, version,
                     updated_at, retired_at, feature, geom)
                 SELECT $1, (f->'properties'->>'fid')::bigint, f->'properties'->>'kind', $2, $3,
                     $4, $5, $6, f, ST_SetSRID(ST_GeomFromGeoJSON((f->'geometry')::text), 4326)
                 FROM (SELECT $7::text::jsonb AS f) x",
                &[id, status, progress, version, updated, retired, feature],
            )
            .map_err(pg_error)?;
        }
        let mut rows = conn
            .prepare(
                "SELECT id, name, role, team, token_sha256, created_at, revoked_at FROM account
                 ORDER BY id",
            )
            .map_err(sq)?;
        let accounts = rows
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(sq)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sq)?;
        for (id, name, role, team, hash, created, revoked) in &accounts {
            tx.execute(
                "INSERT INTO account (id, name, role, team, token_sha256, created_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[id, name, role, team, hash, created, revoked],
            )
            .map_err(pg_error)?;
        }
        let mut rows = conn
            .prepare("SELECT account_id, subdistrict, site_id FROM assignment ORDER BY rowid")
            .map_err(sq)?;
        let assignments = rows
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(sq)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sq)?;
        for (account, sub, site) in &assignments {
            tx.execute(
                "INSERT INTO assignment (account_id, subdistrict, site_id) VALUES ($1, $2, $3)",
                &[account, sub, site],
            )
            .map_err(pg_error)?;
        }
        copy_changes(&conn, &mut tx)?;
        let mut rows = conn
            .prepare(
                "SELECT site_id, version, at, seq, retired, feature FROM site_version
                 ORDER BY site_id, version",
            )
            .map_err(sq)?;
        let versions = rows
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(sq)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sq)?;
        for (id, version, at, seq, retired, feature) in &versions {
            tx.execute(
                "INSERT INTO site_version (site_id, version, at, seq, retired, feature, geom)
                 SELECT $1, $2, $3, $4, $5, f,
                     ST_SetSRID(ST_GeomFromGeoJSON((f->'geometry')::text), 4326)
                 FROM (SELECT $6::text::jsonb AS f) x",
                &[id, version, at, seq, retired, feature],
            )
            .map_err(pg_error)?;
        }
        copy_photos(&conn, &mut tx)?;
        tx.batch_execute(
            "SELECT setval(pg_get_serial_sequence('account', 'id'), max(id)) FROM account
                 HAVING count(*) > 0;
             SELECT setval('site_fid', max(fid)) FROM site_state HAVING count(*) > 0;",
        )
        .map_err(pg_error)?;
        for table in TABLES {
            let sql = format!("SELECT count(*) FROM {table}");
            let a: i64 = conn.query_row(&sql, [], |r| r.get(0)).map_err(sq)?;
            let b: i64 = tx.query_one(&sql, &[]).map_err(pg_error)?.get(0);
            counts.push((table, a, b));
        }
        tx.commit().map_err(pg_error)?;
        Ok(None)
    })?;
    if let Some(refusal) = refused {
        return Err(refusal);
    }
    let report = CopyReport { counts };
    if report.verified() {
        Ok(report)
    } else {
        Err(CopyError::Mismatch(report))
    }
}

/// The change rows, seqs kept.
fn copy_changes(
    conn: &rusqlite::Connection,
    tx: &mut postgres::Transaction<'_>,
) -> Result<(), StoreError> {
    let mut rows = conn
        .prepare(
            "SELECT seq, site_id, at, account_id, actor, role, from_status, from_progress,
                 to_status, to_progress, note, reason, plan, version, change_kind, bbox,
                 generation, geometry_changed, site_kind, idempotency_key, idempotency_request,
                 photos, position
             FROM change ORDER BY seq",
        )
        .map_err(sq)?;
    let mut q = rows.query([]).map_err(sq)?;
    while let Some(r) = q.next().map_err(sq)? {
        let seq: i64 = r.get(0).map_err(sq)?;
        let site: String = r.get(1).map_err(sq)?;
        let at: String = r.get(2).map_err(sq)?;
        let account: i64 = r.get(3).map_err(sq)?;
        let actor: String = r.get(4).map_err(sq)?;
        let role: String = r.get(5).map_err(sq)?;
        let from_status: String = r.get(6).map_err(sq)?;
        let from_progress = r.get::<_, i64>(7).map_err(sq)? as i32;
        let to_status: String = r.get(8).map_err(sq)?;
        let to_progress = r.get::<_, i64>(9).map_err(sq)? as i32;
        let note: Option<String> = r.get(10).map_err(sq)?;
        let reason: Option<String> = r.get(11).map_err(sq)?;
        let plan: Option<String> = r.get(12).map_err(sq)?;
        let version: i64 = r.get(13).map_err(sq)?;
        let kind: String = r.get(14).map_err(sq)?;
        let bbox: Option<String> = r.get(15).map_err(sq)?;
        let generation: Option<i64> = r.get(16).map_err(sq)?;
        let geometry_changed: bool = r.get(17).map_err(sq)?;
        let site_kind: Option<String> = r.get(18).map_err(sq)?;
        let key: Option<String> = r.get(19).map_err(sq)?;
        let request: Option<String> = r.get(20).map_err(sq)?;
        let photos: Option<String> = r.get(21).map_err(sq)?;
        let position: Option<String> = r.get(22).map_err(sq)?;
        let params: [&(dyn ToSql + Sync); 23] = [
            &seq,
            &site,
            &at,
            &account,
            &actor,
            &role,
            &from_status,
            &from_progress,
            &to_status,
            &to_progress,
            &note,
            &reason,
            &plan,
            &version,
            &kind,
            &bbox,
            &generation,
            &geometry_changed,
            &site_kind,
            &key,
            &request,
            &photos,
            &position,
        ];
        tx.execute(
            "INSERT INTO change (seq, site_id, at, account_id, actor, role, from_status,
                 from_progress, to_status, to_progress, note, reason, plan, version, change_kind,
                 bbox, generation, geometry_changed, site_kind, idempotency_key, idempotency_request,
                 photos, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22, $23)",
            &params,
        )
        .map_err(pg_error)?;
    }
    Ok(())
}

/// The photo rows with their bytes, in upload order (one row in memory at a time).
fn copy_photos(
    conn: &rusqlite::Connection,
    tx: &mut postgres::Transaction<'_>,
) -> Result<(), StoreError> {
    let mut rows = conn
        .prepare(
            "SELECT id, site_id, content_type, sent_type, upload_bytes, width, height, taken_at,
                 lon, lat, uploaded_at, account_id, uploaded_by, uploaded_role, change_seq,
                 image, thumbnail
             FROM photo ORDER BY rowid",
        )
        .map_err(sq)?;
    let mut q = rows.query([]).map_err(sq)?;
    while let Some(r) = q.next().map_err(sq)? {
        let id: String = r.get(0).map_err(sq)?;
        let site: String = r.get(1).map_err(sq)?;
        let content_type: String = r.get(2).map_err(sq)?;
        let sent_type: Option<String> = r.get(3).map_err(sq)?;
        let upload_bytes: i64 = r.get(4).map_err(sq)?;
        let width = r.get::<_, i64>(5).map_err(sq)? as i32;
        let height = r.get::<_, i64>(6).map_err(sq)? as i32;
        let taken_at: Option<String> = r.get(7).map_err(sq)?;
        let lon: Option<f64> = r.get(8).map_err(sq)?;
        let lat: Option<f64> = r.get(9).map_err(sq)?;
        let uploaded_at: String = r.get(10).map_err(sq)?;
        let account: i64 = r.get(11).map_err(sq)?;
        let by: String = r.get(12).map_err(sq)?;
        let role: String = r.get(13).map_err(sq)?;
        let seq: Option<i64> = r.get(14).map_err(sq)?;
        let image: Vec<u8> = r.get(15).map_err(sq)?;
        let thumbnail: Vec<u8> = r.get(16).map_err(sq)?;
        let params: [&(dyn ToSql + Sync); 17] = [
            &id,
            &site,
            &content_type,
            &sent_type,
            &upload_bytes,
            &width,
            &height,
            &taken_at,
            &lon,
            &lat,
            &uploaded_at,
            &account,
            &by,
            &role,
            &seq,
            &image,
            &thumbnail,
        ];
        tx.execute(
            "INSERT INTO photo (id, site_id, content_type, sent_type, upload_bytes, width,
                 height, taken_at, lon, lat, uploaded_at, account_id, uploaded_by, uploaded_role,
                 change_seq, image, thumbnail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            &params,
        )
        .map_err(pg_error)?;
    }
    Ok(())
}
