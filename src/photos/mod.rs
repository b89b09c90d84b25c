//! Field photos as evidence: an upload's bytes become a checked, metadata-free image, a
//! thumbnail, and what its EXIF says about when and where it was taken.
//!
//! [`process`] decides the type by content (magic bytes, then a full decode: JPEG, PNG or
//! WebP only), refuses images whose declared size would be a decompression bomb before any
//! pixel is decoded, reads the EXIF time taken, GPS position and orientation (`exif.rs`),
//! and re-encodes the pixels, turned upright, in the upload's format with no metadata at all
//! (`encode.rs`). Re-encoding rather than cutting metadata chunks out is deliberate: what is
//! served holds only what this module wrote, so no EXIF, XMP, IPTC, ICC profile, comment or
//! data hidden after the image's end can survive, whatever the camera put where, and the
//! orientation a phone records in EXIF is applied to the pixels instead of being lost.
//!
//! Pure CPU work on bytes: knows no HTTP and no SQL; callers run it on a blocking thread.

mod encode;
mod exif;
mod validate;

use sha2::{Digest, Sha256};

use crate::model::Timestamp;

pub use validate::sniff;

/// Largest upload, in bytes (10 MiB).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// Most photos one site may hold.
pub const MAX_PHOTOS_PER_SITE: usize = 50;

/// Longest side an image may declare, in pixels.
pub const MAX_SIDE_PX: u32 = 12_000;

/// Most pixels an image may declare (64 Mpx: a 48 Mpx phone camera fits, a decompression
/// bomb does not).
pub const MAX_PIXELS: u64 = 64_000_000;

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE_PX: u32 = 320;

/// Quality of the served JPEG (0–100).
pub const JPEG_QUALITY: u8 = 90;

/// Quality of the JPEG thumbnail (0–100).
pub const THUMBNAIL_QUALITY: u8 = 80;

/// The data set's time zone, in which EXIF times without an offset are read.
pub const TIME_ZONE: &str = "Asia/Shanghai";

/// The offset of local time from UTC assumed for an EXIF time without `OffsetTimeOriginal`,
/// in seconds: the data set's time zone, Asia/Shanghai (UTC+8, no daylight saving since 1991).
pub const DEFAULT_UTC_OFFSET_S: i32 = 8 * 3600;

/// An accepted image format, decided by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// WebP (`RIFF….WEBP`).
    WebP,
}

impl PhotoFormat {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Png => "image/png",
            PhotoFormat::WebP => "image/webp",
        }
    }

    /// The format of a media type this module writes.
    pub fn from_content_type(s: &str) -> Option<PhotoFormat> {
        [PhotoFormat::Jpeg, PhotoFormat::Png, PhotoFormat::WebP]
            .into_iter()
            .find(|f| f.content_type() == s)
    }
}

/// An upload that passed every check, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedPhoto {
    /// SHA-256 of the uploaded bytes, 64 lowercase hex digits: the same bytes get the same id.
    pub id: String,
    /// The format of the upload and of [`ProcessedPhoto::image`].
    pub format: PhotoFormat,
    /// Size of the upload in bytes.
    pub upload_bytes: usize,
    /// Width as displayed (after the EXIF orientation), in pixels.
    pub width: u32,
    /// Height as displayed, in pixels.
    pub height: u32,
    /// EXIF `DateTimeOriginal` as UTC (see [`DEFAULT_UTC_OFFSET_S`]).
    pub taken_at: Option<Timestamp>,
    /// EXIF GPS position, WGS84 longitude and latitude.
    pub location: Option<(f64, f64)>,
    /// The image to serve: upright, same format, no metadata.
    pub image: Vec<u8>,
    /// A JPEG thumbnail, longest side at most [`THUMBNAIL_SIDE_PX`], no metadata.
    pub thumbnail: Vec<u8>,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Not JPEG, PNG or WebP by its first bytes.
    #[error(
        "the body is not a JPEG, PNG or WebP image (its first bytes say so, whatever its name or Content-Type)"
    )]
    Unsupported,
    /// The image declares more pixels than allowed.
    #[error(
        "the image declares {width}×{height} pixels; at most {MAX_SIDE_PX} on a side and {MAX_PIXELS} in all"
    )]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The image does not decode (truncated, corrupt).
    #[error("the image cannot be decoded: {0}")]
    Unreadable(String),
    /// Writing the served copy or the thumbnail failed (a bug, or out of memory).
    #[error("re-encoding the image failed: {0}")]
    Encode(String),
}

/// The id of an upload: SHA-256 of its bytes as lowercase hex.
///
/// # Examples
///
/// ```
/// assert_eq!(
///     renewal_map::photos::photo_id(b""),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn photo_id(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks, decodes and re-encodes one upload (see the module docs). `utc_offset_s` is the
/// local time zone assumed for an EXIF time that does not say its own.
pub fn process(bytes: &[u8], utc_offset_s: i32) -> Result<ProcessedPhoto, PhotoError> {
    let format = sniff(bytes).ok_or(PhotoError::Unsupported)?;
    let decoded = validate::decode(bytes, format)?;
    let meta = decoded
        .exif
        .as_deref()
        .map(|raw| exif::read(raw, utc_offset_s))
        .unwrap_or_default();
    let mut pixels = decoded.image;
    pixels.apply_orientation(decoded.orientation);
    let image = encode::served(&pixels, format)?;
    let thumbnail = encode::thumbnail(&pixels)?;
    Ok(ProcessedPhoto {
        id: photo_id(bytes),
        format,
        upload_bytes: bytes.len(),
        width: pixels.width(),
        height: pixels.height(),
        taken_at: meta.taken_at,
        location: meta.location,
        image,
        thumbnail,
    })
}
