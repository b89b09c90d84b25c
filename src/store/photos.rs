//! Field photos in the store: one `photo` row per upload, in the same file as the sites and
//! their history, so a backup, a copy and the `kill -9` story cover them too. A row holds the
//! metadata-free image and its thumbnail as blobs, the time and place its EXIF gave, who
//! uploaded it, and the change it is attached to (set by [`attach`] inside that change's
//! transaction, so a photo is attached exactly when the change exists).
//!
//! The id is the SHA-256 of the uploaded bytes: uploading the same bytes to the same site
//! again finds the row instead of adding one, which makes an offline replay idempotent.

use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::{Store, StoreError, parse};
use crate::model::{Account, Role, SiteId, Timestamp};

/// A photo as recorded (without its bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRecord {
    /// SHA-256 of the uploaded bytes, 64 hex digits.
    pub id: String,
    /// The site it is evidence for.
    pub site: SiteId,
    /// Media type of the served image (the upload's type, decided by content).
    pub content_type: String,
    /// Size of the served image, in bytes.
    pub bytes: u64,
    /// Size of the upload, in bytes.
    pub upload_bytes: u64,
    /// Width as displayed, in pixels.
    pub width: u32,
    /// Height as displayed, in pixels.
    pub height: u32,
    /// When it was taken, from EXIF.
    pub taken_at: Option<Timestamp>,
    /// Where it was taken (WGS84 longitude, latitude), from EXIF GPS.
    pub location: Option<(f64, f64)>,
    /// When it was uploaded.
    pub uploaded_at: Timestamp,
    /// Name of the account that uploaded it.
    pub uploaded_by: String,
    /// That account's role.
    pub uploaded_role: Role,
    /// The seq of the (published) change it is attached to.
    pub change_seq: Option<i64>,
}

/// A checked upload to record.
#[derive(Debug, Clone, Copy)]
pub struct NewPhoto<'a> {
    /// SHA-256 of the upload, 64 hex digits.
    pub id: &'a str,
    /// The site.
    pub site: &'a str,
    /// Media type of `image`.
    pub content_type: &'a str,
    /// The `Content-Type` the client sent, kept as sent (it decides nothing).
    pub sent_type: Option<&'a str>,
    /// Size of the upload, in bytes.
    pub upload_bytes: u64,
    /// Width as displayed.
    pub width: u32,
    /// Height as displayed.
    pub height: u32,
    /// From EXIF.
    pub taken_at: Option<Timestamp>,
    /// From EXIF GPS: longitude, latitude.
    pub location: Option<(f64, f64)>,
    /// The image to serve (no metadata).
    pub image: &'a [u8],
    /// The thumbnail to serve (no metadata).
    pub thumbnail: &'a [u8],
}

/// What [`Store::add_photo`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoAdded {
    /// A new row.
    Created(PhotoRecord),
    /// The same bytes were uploaded to this site before: that row, unchanged.
    Existing(PhotoRecord),
}

/// Which bytes of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoVariant {
    /// The full image.
    Image,
    /// The thumbnail (JPEG).
    Thumbnail,
}

const COLUMNS: &str = "id, site_id, content_type, length(image), upload_bytes, width, height, \
                       taken_at, lon, lat, uploaded_at, uploaded_by, uploaded_role, change_seq";

/// A photo row's record columns, as both stores read them.
pub(super) type RawRecord = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    Option<f64>,
    Option<f64>,
    String,
    String,
    String,
    Option<i64>,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

/// A row as a record; `published` hides an attachment whose change is not on the map yet.
pub(super) fn record(r: RawRecord, published: i64) -> Result<PhotoRecord, StoreError> {
    let (id, site, content_type, bytes, upload, w, h, taken, lon, lat, at, by, role, seq) = r;
    Ok(PhotoRecord {
        id,
        site: SiteId(site),
        content_type,
        bytes: bytes.max(0) as u64,
        upload_bytes: upload.max(0) as u64,
        width: w.clamp(0, i64::from(u32::MAX)) as u32,
        height: h.clamp(0, i64::from(u32::MAX)) as u32,
        taken_at: taken.map(|t| parse(&t, "taken_at")).transpose()?,
        location: lon.zip(lat),
        uploaded_at: parse(&at, "uploaded_at")?,
        uploaded_by: by,
        uploaded_role: parse(&role, "uploaded_role")?,
        change_seq: seq.filter(|s| *s <= published),
    })
}

fn by_id(
    conn: &rusqlite::Connection,
    id: &str,
    published: i64,
) -> Result<Option<PhotoRecord>, StoreError> {
    let row = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM photo WHERE id = ?1"))?
        .query_row([id], raw)
        .optional()?;
    row.map(|r| record(r, published)).transpose()
}

impl Store {
    /// Records an upload for `photo.site` by `actor`, in one `BEGIN IMMEDIATE` transaction
    /// that checks the token is still live, finds an earlier upload of the same bytes
    /// ([`PhotoAdded::Existing`] for this site, [`StoreError::PhotoOnOtherSite`] for another),
    /// and refuses a site that holds `max_per_site` photos already
    /// ([`StoreError::PhotoLimit`]). Nothing is written unless a new row is.
    pub fn add_photo(
        &self,
        actor: &Account,
        photo: &NewPhoto<'_>,
        max_per_site: usize,
    ) -> Result<PhotoAdded, StoreError> {
        let published = self.published_seq();
        let mut writer = self.writer();
        let tx = writer
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: bool = tx
            .query_row(
                "SELECT revoked_at IS NULL FROM account WHERE id = ?1",
                [actor.id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false);
        if !live {
            return Err(StoreError::Revoked(actor.id));
        }
        if let Some(found) = by_id(&tx, photo.id, published)? {
            if found.site.as_str() == photo.site {
                return Ok(PhotoAdded::Existing(found));
            }
            return Err(StoreError::PhotoOnOtherSite {
                id: photo.id.to_owned(),
                site: found.site.to_string(),
            });
        }
        let held: i64 = tx.query_row(
            "SELECT count(*) FROM photo WHERE site_id = ?1",
            [photo.site],
            |r| r.get(0),
        )?;
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
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                photo.id,
                photo.site,
                photo.content_type,
                photo.sent_type,
                photo.upload_bytes as i64,
                photo.width,
                photo.height,
                photo.taken_at.map(|t| t.to_string()),
                photo.location.map(|l| l.0),
                photo.location.map(|l| l.1),
                Timestamp::now().to_string(),
                actor.id,
                actor.name,
                actor.role.as_str(),
                photo.image,
                photo.thumbnail,
            ],
        )?;
        let created = by_id(&tx, photo.id, published)?.ok_or_else(|| StoreError::BadValue {
            what: "photo",
            value: photo.id.to_owned(),
        })?;
        tx.commit()?;
        Ok(PhotoAdded::Created(created))
    }

    /// One photo's record.
    pub fn photo(&self, id: &str) -> Result<Option<PhotoRecord>, StoreError> {
        let published = self.published_seq();
        by_id(&self.read(), id, published)
    }

    /// Every photo of a site, oldest upload first.
    pub fn site_photos(&self, site: &str) -> Result<Vec<PhotoRecord>, StoreError> {
        let published = self.published_seq();
        let conn = self.read();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM photo WHERE site_id = ?1 ORDER BY rowid"
        ))?;
        let rows = stmt
            .query_map([site], raw)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|r| record(r, published)).collect()
    }

    /// The media type and bytes of a photo's image or thumbnail.
    pub fn photo_bytes(
        &self,
        id: &str,
        variant: PhotoVariant,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let sql = match variant {
            PhotoVariant::Image => "SELECT content_type, image FROM photo WHERE id = ?1",
            PhotoVariant::Thumbnail => "SELECT 'image/jpeg', thumbnail FROM photo WHERE id = ?1",
        };
        Ok(self
            .read()
            .prepare_cached(sql)?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Number of photos of `site` (all sites when `None`).
    pub fn photo_count(&self, site: Option<&str>) -> Result<u64, StoreError> {
        let conn = self.read();
        let n: i64 = match site {
            Some(id) => {
                conn.query_row("SELECT count(*) FROM photo WHERE site_id = ?1", [id], |r| {
                    r.get(0)
                })?
            }
            None => conn.query_row("SELECT count(*) FROM photo", [], |r| r.get(0))?,
        };
        Ok(n as u64)
    }
}

/// Attaches `ids` to change `seq` of `site`, inside that change's transaction: each must be a
/// photo of `site` ([`StoreError::UnknownPhoto`]) not attached to a change yet
/// ([`StoreError::PhotoAttached`]); on any error the caller's transaction rolls back.
pub(super) fn attach(
    tx: &Transaction<'_>,
    site: &str,
    ids: &[String],
    seq: i64,
) -> Result<(), StoreError> {
    for id in ids {
        let updated = tx.execute(
            "UPDATE photo SET change_seq = ?1
             WHERE id = ?2 AND site_id = ?3 AND change_seq IS NULL",
            params![seq, id, site],
        )?;
        if updated == 1 {
            continue;
        }
        let found: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT site_id, change_seq FROM photo WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        return Err(not_attachable(id, site, found));
    }
    Ok(())
}

/// Why photo `id` could not be attached to a change of `site`, from what the store holds of
/// it (`found`: its site and change, when it exists): already attached to change `seq` of
/// this site, or not a photo of this site at all. Shared by both backends.
pub(super) fn not_attachable(
    id: &str,
    site: &str,
    found: Option<(String, Option<i64>)>,
) -> StoreError {
    match found {
        Some((s, Some(seq))) if s == site => StoreError::PhotoAttached {
            id: id.to_owned(),
            seq,
        },
        _ => StoreError::UnknownPhoto {
            id: id.to_owned(),
            site: site.to_owned(),
        },
    }
}
