//! The copies that are served: the photo re-encoded in its own format and a JPEG thumbnail,
//! both written from pixels alone, so they carry no metadata (the encoders are given none).
//!
//! JPEG is written at [`JPEG_QUALITY`], PNG losslessly, WebP losslessly (the `image` crate's
//! only WebP encoder; a lossy WebP upload may grow, which is accepted: WebP uploads are rare,
//! phones send JPEG).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder, RgbImage};

use super::{JPEG_QUALITY, PhotoError, PhotoFormat, THUMBNAIL_QUALITY, THUMBNAIL_SIDE_PX};

fn failed(e: image::ImageError) -> PhotoError {
    PhotoError::Encode(e.to_string())
}

/// The pixels as 8-bit RGB, transparent parts laid over white (JPEG has no alpha).
fn flattened(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(failed)?;
    Ok(out)
}

/// The photo to serve, in `format`.
pub(super) fn served(img: &DynamicImage, format: PhotoFormat) -> Result<Vec<u8>, PhotoError> {
    match format {
        PhotoFormat::Jpeg => jpeg(&flattened(img), JPEG_QUALITY),
        PhotoFormat::Png => {
            let mut out = Vec::new();
            img.write_with_encoder(PngEncoder::new(Cursor::new(&mut out)))
                .map_err(failed)?;
            Ok(out)
        }
        PhotoFormat::WebP => {
            // The lossless encoder takes 8-bit RGB(A) only.
            let img = if img.color().has_alpha() {
                DynamicImage::ImageRgba8(img.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(img.to_rgb8())
            };
            let mut out = Vec::new();
            img.write_with_encoder(WebPEncoder::new_lossless(Cursor::new(&mut out)))
                .map_err(failed)?;
            Ok(out)
        }
    }
}

/// A JPEG thumbnail whose longest side is at most [`THUMBNAIL_SIDE_PX`] (smaller images keep
/// their size).
pub(super) fn thumbnail(img: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let small = if img.width().max(img.height()) > THUMBNAIL_SIDE_PX {
        img.thumbnail(THUMBNAIL_SIDE_PX, THUMBNAIL_SIDE_PX)
    } else {
        img.clone()
    };
    jpeg(&flattened(&small), THUMBNAIL_QUALITY)
}
