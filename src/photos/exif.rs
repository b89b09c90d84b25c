//! What an upload's EXIF says about when and where: `DateTimeOriginal` (with
//! `OffsetTimeOriginal` when the camera wrote it) and the GPS position. Everything else in the
//! EXIF is ignored here and never stored or served. Read with the `kamadak-exif` crate.

use exif::{In, Reader, Tag, Value};

use crate::model::{Date, Timestamp};

/// The time and place of a photo, as far as its EXIF tells.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Meta {
    pub taken_at: Option<Timestamp>,
    pub location: Option<(f64, f64)>,
}

/// Reads the raw EXIF (a TIFF structure, with or without the `Exif\0\0` header of a JPEG APP1
/// segment); a block that does not parse gives no time and no place.
pub(super) fn read(raw: &[u8], utc_offset_s: i32) -> Meta {
    let tiff = raw.strip_prefix(b"Exif\0\0").unwrap_or(raw);
    let Ok(exif) = Reader::new().read_raw(tiff.to_vec()) else {
        return Meta::default();
    };
    let ascii = |tag: Tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) => v.first().cloned(),
        _ => None,
    };
    let taken_at = ascii(Tag::DateTimeOriginal).and_then(|dt| {
        let offset = ascii(Tag::OffsetTimeOriginal).and_then(|o| parse_offset(&o));
        instant(&dt, offset.unwrap_or(utc_offset_s))
    });
    let coordinate = |value: Tag, hemisphere: Tag, negative: u8, max: f64| {
        let degrees = match exif.get_field(value, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Rational(r)) if r.len() == 3 => {
                let part = |i: usize| {
                    let q = r[i];
                    (q.denom != 0).then(|| f64::from(q.num) / f64::from(q.denom))
                };
                part(0)? + part(1)? / 60.0 + part(2)? / 3600.0
            }
            _ => return None,
        };
        let sign = match ascii(hemisphere)?.first() {
            Some(&c) if c.eq_ignore_ascii_case(&negative) => -1.0,
            Some(_) => 1.0,
            None => return None,
        };
        let v = sign * degrees;
        (v.is_finite() && v.abs() <= max).then_some(v)
    };
    let lat = coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S', 90.0);
    let lon = coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W', 180.0);
    Meta {
        taken_at,
        location: lon.zip(lat),
    }
}

/// `+08:00` / `-05:30` as seconds east of UTC.
fn parse_offset(s: &[u8]) -> Option<i32> {
    let s = std::str::from_utf8(s).ok()?.trim_end_matches('\0').trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// An EXIF local time `YYYY:MM:DD HH:MM:SS` at `offset_s` east of UTC, as an instant.
fn instant(s: &[u8], offset_s: i32) -> Option<Timestamp> {
    let s = std::str::from_utf8(s).ok()?;
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b':' || b[7] != b':' || b[10] != b' ' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let date = Date::from_ymd(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || m > 59 || sec > 59 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let local = i64::from(date.days_since_epoch()) * 86_400 + i64::from(h * 3600 + m * 60 + sec);
    Some(Timestamp::from_unix(local - i64::from(offset_s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_become_utc_by_their_offset() {
        let t = instant(b"2026:05:20 14:30:05", 8 * 3600).expect("parses");
        assert_eq!(t.to_string(), "2026-05-20T06:30:05Z");
        let t = instant(b"2026:01:01 03:00:00", 8 * 3600).expect("parses");
        assert_eq!(t.to_string(), "2025-12-31T19:00:00Z");
        assert_eq!(
            instant(b"2026:05:20 14:30:05", -5 * 3600).map(|t| t.to_string()),
            Some("2026-05-20T19:30:05Z".into())
        );
        // Cameras without a clock write blanks or zeros.
        assert_eq!(instant(b"    :  :     :  :  ", 0), None);
        assert_eq!(instant(b"0000:00:00 00:00:00", 0), None);
        assert_eq!(instant(b"2026:13:01 00:00:00", 0), None);
    }

    #[test]
    fn offsets_parse_with_sign_hours_and_minutes() {
        assert_eq!(parse_offset(b"+08:00"), Some(28_800));
        assert_eq!(parse_offset(b"-05:30\0"), Some(-19_800));
        assert_eq!(parse_offset(b"08:00"), None);
        assert_eq!(parse_offset(b"+99:00"), None);
    }

    #[test]
    fn a_block_that_does_not_parse_gives_nothing() {
        assert_eq!(read(b"Exif\0\0garbage", 0), Meta::default());
        assert_eq!(read(b"", 0), Meta::default());
    }
}
