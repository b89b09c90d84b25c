//! Field photos in PostgreSQL: the same records and rules as the SQLite store's
//! ([`crate::store::Store::add_photo`]), the image and thumbnail as `bytea` in the shared
//! database, so a photo uploaded on one instance is served by every other.
//!
//! An upload takes the commit lock ([`super::schema::COMMIT_LOCK`]) for its short
//! transaction: uploads of the same bytes, or to a site at its photo limit, on two instances
//! at once then take turns, and an attachment ([`attach`], inside a commit) never races one.

use postgres::{Client, GenericClient, Row};

use super::{pg_error, schema};
use crate::model::{Account, Timestamp};
use crate::store::photos::{RawRecord, record};
use crate::store::{NewPhoto, PhotoAdded, PhotoRecord, PhotoVariant, StoreError};

/// The record columns, typed as [`RawRecord`] wants them.
const COLUMNS: &str = "id, site_id, content_type, length(image)::bigint, upload_bytes, \
                       width::bigint, height::bigint, taken_at, lon, lat, uploaded_at, \
                       uploaded_by, uploaded_role, change_seq";

fn raw(r: &Row) -> RawRecord {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
        r.get(8),
        r.get(9),
        r.get(10),
        r.get(11),
        r.get(12),
        r.get(13),
    )
}

fn by_id(
    c: &mut impl GenericClient,
    id: &str,
    published: i64,
) -> Result<Option<PhotoRecord>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM photo WHERE id = $1"),
            &[&id],
        )
        .map_err(pg_error)?;
    row.map(|r| record(raw(&r), published)).transpose()
}

fn pixels(n: u32, what: &'static str) -> Result<i32, StoreError> {
    i32::try_from(n).map_err(|_| StoreError::BadValue {
        what,
        value: n.to_string(),
    })
}

/// Records an upload (see [`crate::store::Store::add_photo`] for the rules); `published` is
/// the instance's published seq, which hides attachments it does not show yet.
pub(super) fn add(
    c: &mut Client,
    actor: &Account,
    photo: &NewPhoto<'_>,
    max_per_site: usize,
    published: i64,
) -> Result<PhotoAdded, StoreError> {
    let mut tx = c.transaction().map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::COMMIT_LOCK])
        .map_err(pg_error)?;
    if super::accounts::load_live(&mut tx, super::accounts::LIVE_BY_ID, actor.id)?.is_none() {
        return Err(StoreError::Revoked(actor.id));
    }
    if let Some(found) = by_id(&mut tx, photo.id, published)? {
        if found.site.as_str() == photo.site {
            return Ok(PhotoAdded::Existing(found));
        }
        return Err(StoreError::PhotoOnOtherSite {
            id: photo.id.to_owned(),
            site: found.site.to_string(),
        });
    }
    let held: i64 = tx
        .query_one(
            "SELECT count(*) FROM photo WHERE site_id = $1",
            &[&photo.site],
        )
        .map_err(pg_error)?
        .get(0);
    if held as usize >= max_per_site {
        return Err(StoreError::PhotoLimit {
            site: photo.site.to_owned(),
            max: max_per_site,
        });
    }
    tx.execute(
        "INSERT INTO photo (id, site_id, content_type, sent_type, upload_bytes, width, height,
             taken_at, lon, lat, uploaded_at, account_id, uploaded_by, uploaded_role,
             image, thumbnail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            &photo.id,
            &photo.site,
            &photo.content_type,
            &photo.sent_type,
            &(photo.upload_bytes as i64),
            &pixels(photo.width, "photo width")?,
            &pixels(photo.height, "photo height")?,
            &photo.taken_at.map(|t| t.to_string()),
            &photo.location.map(|l| l.0),
            &photo.location.map(|l| l.1),
            &Timestamp::now().to_string(),
            &actor.id,
            &actor.name,
            &actor.role.as_str(),
            &photo.image,
            &photo.thumbnail,
        ],
    )
    .map_err(pg_error)?;
    let created = by_id(&mut tx, photo.id, published)?.ok_or_else(|| StoreError::BadValue {
        what: "photo",
        value: photo.id.to_owned(),
    })?;
    tx.commit().map_err(pg_error)?;
    Ok(PhotoAdded::Created(created))
}

/// One photo's record.
pub(super) fn one(
    c: &mut Client,
    id: &str,
    published: i64,
) -> Result<Option<PhotoRecord>, StoreError> {
    by_id(c, id, published)
}

/// Every photo of a site, oldest upload first.
pub(super) fn of_site(
    c: &mut Client,
    site: &str,
    published: i64,
) -> Result<Vec<PhotoRecord>, StoreError> {
    c.query(
        &format!("SELECT {COLUMNS} FROM photo WHERE site_id = $1 ORDER BY added"),
        &[&site],
    )
    .map_err(pg_error)?
    .iter()
    .map(|r| record(raw(r), published))
    .collect()
}

/// The media type and bytes of a photo's image or thumbnail.
pub(super) fn bytes(
    c: &mut Client,
    id: &str,
    variant: PhotoVariant,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let sql = match variant {
        PhotoVariant::Image => "SELECT content_type, image FROM photo WHERE id = $1",
        PhotoVariant::Thumbnail => "SELECT 'image/jpeg'::text, thumbnail FROM photo WHERE id = $1",
    };
    Ok(c.query_opt(sql, &[&id])
        .map_err(pg_error)?
        .map(|r| (r.get(0), r.get(1))))
}

/// Number of photos of `site` (all sites when `None`).
pub(super) fn count(c: &mut Client, site: Option<&str>) -> Result<u64, StoreError> {
    let row = match site {
        Some(id) => c.query_one("SELECT count(*) FROM photo WHERE site_id = $1", &[&id]),
        None => c.query_one("SELECT count(*) FROM photo", &[]),
    }
    .map_err(pg_error)?;
    Ok(row.get::<_, i64>(0).max(0) as u64)
}

/// Attaches `ids` to change `seq` of `site`, inside that change's transaction (the same rules
/// as the SQLite store's: [`StoreError::UnknownPhoto`], [`StoreError::PhotoAttached`]); on an
/// error the caller's transaction rolls back.
pub(super) fn attach(
    tx: &mut postgres::Transaction<'_>,
    site: &str,
    ids: &[String],
    seq: i64,
) -> Result<(), StoreError> {
    for id in ids {
        let updated = tx
            .execute(
                "UPDATE photo SET change_seq = $1
                 WHERE id = $2 AND site_id = $3 AND change_seq IS NULL",
                &[&seq, id, &site],
            )
            .map_err(pg_error)?;
        if updated == 1 {
            continue;
        }
        let found = tx
            .query_opt("SELECT site_id, change_seq FROM photo WHERE id = $1", &[id])
            .map_err(pg_error)?
            .map(|r| (r.get::<_, String>(0), r.get::<_, Option<i64>>(1)));
        return Err(crate::store::photos::not_attachable(id, site, found));
    }
    Ok(())
}
