//! Test images made in code (no binary fixtures): JPEG, PNG and WebP from the `image` crate,
//! a JPEG carrying EXIF (time taken, GPS, camera, artist, orientation) written with
//! kamadak-exif's writer, a PNG that only declares a huge size, a GIF, and a CRC-32 for
//! building PNG chunks by hand; the upload request and the check that served bytes carry no
//! metadata.
#![allow(
    dead_code,
    reason = "test binaries use different subsets of the helpers"
)]

use std::io::Cursor;

use axum::Router;
use axum::http::Method;

use exif::{Field, In, Rational, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage};

/// A `w`×`h` gradient whose colours depend on `seed` (different seeds, different bytes).
pub fn pixels(w: u32, h: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, seed])
    })
}

/// A baseline JPEG.
pub fn jpeg(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = pixels(w, h, seed);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85)
        .write_image(img.as_raw(), w, h, ExtendedColorType::Rgb8)
        .expect("jpeg");
    out
}

/// A PNG.
pub fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = pixels(w, h, seed);
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, ExtendedColorType::Rgb8)
        .expect("png");
    out
}

/// A lossless WebP.
pub fn webp(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = pixels(w, h, seed);
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(img.as_raw(), w, h, ExtendedColorType::Rgb8)
        .expect("webp");
    out
}

/// The camera make written into [`jpeg_with_exif`]: must not survive into what is served.
pub const CAMERA: &str = "RenewalTestCam";
/// The artist written into [`jpeg_with_exif`].
pub const ARTIST: &str = "Team-3-Zhang";

fn ascii(tag: Tag, s: &str) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![s.as_bytes().to_vec()]),
    }
}

fn dms(d: u32, m: u32, s_centi: u32) -> Value {
    Value::Rational(vec![
        Rational::from((d, 1)),
        Rational::from((m, 1)),
        Rational::from((s_centi, 100)),
    ])
}

/// A `w`×`h` JPEG whose EXIF says: taken `taken` (`YYYY:MM:DD HH:MM:SS`, local time, with
/// `offset` as OffsetTimeOriginal if given) at 41°49'30.00"N 123°24'36.00"E (41.825, 123.41),
/// by [`CAMERA`] and [`ARTIST`], with orientation 6 (turn 90° clockwise to display).
pub fn jpeg_with_exif(w: u32, h: u32, taken: &str, offset: Option<&str>) -> Vec<u8> {
    let mut fields = vec![
        ascii(Tag::Make, CAMERA),
        ascii(Tag::Artist, ARTIST),
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![6]),
        },
        ascii(Tag::DateTimeOriginal, taken),
        ascii(Tag::GPSLatitudeRef, "N"),
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: dms(41, 49, 3000),
        },
        ascii(Tag::GPSLongitudeRef, "E"),
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: dms(123, 24, 3600),
        },
    ];
    if let Some(o) = offset {
        fields.push(ascii(Tag::OffsetTimeOriginal, o));
    }
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("exif");
    let tiff = tiff.into_inner();
    let plain = jpeg(w, h, 7);
    let len = u16::try_from(2 + 6 + tiff.len()).expect("small exif");
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&plain[2..]);
    out
}

/// CRC-32 (ISO-HDLC, as PNG uses), bit by bit: tests only.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A PNG of a few dozen bytes that declares `w`×`h` pixels (8-bit RGB) and holds almost no
/// data: a decompression bomb's header.
pub fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // A zlib stream of nothing (stored block, final, length 0).
    let idat = [
        0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01,
    ];
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &idat));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A 1×1 GIF.
pub fn gif() -> Vec<u8> {
    let mut g = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00".to_vec();
    g.extend_from_slice(
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    );
    g
}

/// `POST /api/sites/{site}/photos` with the bytes and the Content-Type the client claims.
pub async fn upload(
    app: &Router,
    site: &str,
    token: Option<&str>,
    media: &str,
    body: Vec<u8>,
) -> crate::common::Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", media)];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    crate::common::send(
        app,
        Method::POST,
        &format!("/api/sites/{site}/photos"),
        &headers,
        body,
    )
    .await
}

/// Whether `bytes` hold any EXIF a parser can find, or the strings the test camera wrote.
pub fn has_metadata(bytes: &[u8]) -> bool {
    let parsed = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .is_ok();
    let text = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    parsed || text(CAMERA) || text(ARTIST) || text("Exif\0\0") || text("http://ns.adobe.com")
}
