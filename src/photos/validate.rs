//! Type by content and a full decode under limits: the declared size is checked against
//! [`MAX_SIDE_PX`] and [`MAX_PIXELS`] from the header, before any pixel is allocated, and the
//! decoder's own allocation limit backs that up.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::{MAX_PIXELS, MAX_SIDE_PX, PhotoError, PhotoFormat};

/// Most bytes the decoder may allocate: the pixels of [`MAX_PIXELS`] at four bytes each and
/// some working room. A 16-bit image that large is refused as too many pixels.
const MAX_DECODE_ALLOC: u64 = MAX_PIXELS * 4 + 32 * 1024 * 1024;

/// The format the first bytes announce, or `None` for anything but JPEG, PNG and WebP.
///
/// # Examples
///
/// ```
/// use renewal_map::photos::{PhotoFormat, sniff};
/// assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(PhotoFormat::Png));
/// assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(PhotoFormat::WebP));
/// assert_eq!(sniff(b"GIF89a"), None);
/// assert_eq!(sniff(b"hello.jpg"), None);
/// ```
pub fn sniff(bytes: &[u8]) -> Option<PhotoFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(PhotoFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PhotoFormat::Png)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(PhotoFormat::WebP)
    } else {
        None
    }
}

/// A decoded upload: the pixels as stored, how to turn them upright, the raw EXIF.
pub(super) struct Decoded {
    pub image: DynamicImage,
    pub orientation: Orientation,
    pub exif: Option<Vec<u8>>,
}

fn unreadable(e: image::ImageError) -> PhotoError {
    PhotoError::Unreadable(e.to_string())
}

/// Decodes `bytes` as `format` within the limits.
pub(super) fn decode(bytes: &[u8], format: PhotoFormat) -> Result<Decoded, PhotoError> {
    let image_format = match format {
        PhotoFormat::Jpeg => ImageFormat::Jpeg,
        PhotoFormat::Png => ImageFormat::Png,
        PhotoFormat::WebP => ImageFormat::WebP,
    };
    if format == PhotoFormat::Jpeg && !has_end_of_image(bytes) {
        // The JPEG decoder fills a cut-off scan with grey rather than failing; a photo that
        // lost its end in transit must be sent again, not stored half grey.
        return Err(PhotoError::Unreadable(
            "the JPEG is truncated (no end-of-image marker)".into(),
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    // Only the header is read here; the limits are checked by hand below, with the declared
    // size in the error, and then given to the decoder for the pixels.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    let too_many = PhotoError::TooManyPixels { width, height };
    if width == 0 || height == 0 {
        return Err(PhotoError::Unreadable("the image has no pixels".into()));
    }
    if width > MAX_SIDE_PX
        || height > MAX_SIDE_PX
        || u64::from(width) * u64::from(height) > MAX_PIXELS
    {
        return Err(too_many);
    }
    if decoder.set_limits(limits).is_err() {
        return Err(too_many);
    }
    // Metadata is read before the pixels (reading the pixels consumes the decoder). A broken
    // EXIF block is no reason to refuse a photo: it only loses its time and place.
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_many,
        e => unreadable(e),
    })?;
    Ok(Decoded {
        image,
        orientation,
        exif,
    })
}

/// Whether a JPEG's scans reach its end-of-image marker `FF D9`. The segments before the first
/// scan are stepped over by their lengths (an EXIF thumbnail inside APP1 has its own `FF D9`);
/// after it, `FF D9` can only be the real end. Data after the end (a phone's motion-photo
/// video, padding) is allowed and never served.
fn has_end_of_image(bytes: &[u8]) -> bool {
    let mut pos = 2;
    loop {
        while bytes.get(pos) == Some(&0xFF) && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if bytes.get(pos) != Some(&0xFF) {
            return false;
        }
        let Some(&marker) = bytes.get(pos + 1) else {
            return false;
        };
        match marker {
            0xDA => return bytes[pos..].windows(2).any(|w| w == [0xFF, 0xD9]),
            0x01 | 0xD0..=0xD7 => pos += 2,
            _ => {
                let Some(len) = bytes.get(pos + 2..pos + 4) else {
                    return false;
                };
                pos += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_marker_counts_only_after_the_first_scan() {
        // SOI, APP1 of 6 bytes holding FF D9 (a thumbnail's end), SOS, scan data, EOI.
        let app1 = [0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0x00, 0x00];
        let scan = [0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34];
        let whole = [&[0xFF, 0xD8][..], &app1, &scan, &[0xFF, 0xD9]].concat();
        assert!(has_end_of_image(&whole));
        let trailing = [&whole[..], b"motion photo video"].concat();
        assert!(has_end_of_image(&trailing));
        let cut = [&[0xFF, 0xD8][..], &app1, &scan].concat();
        assert!(!has_end_of_image(&cut));
        assert!(!has_end_of_image(&[0xFF, 0xD8, 0xFF]));
        assert!(!has_end_of_image(&[0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00]));
    }

    #[test]
    fn sniffing_needs_the_whole_signature() {
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b"\x89PNG"), None);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(PhotoFormat::Jpeg));
    }
}
