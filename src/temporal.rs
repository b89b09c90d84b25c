//! Instants and intervals as OGC API – Features writes them in `datetime`: RFC 3339 date-times
//! with any offset and fraction (`2026-10-01T16:00:00.5+08:00`), whole days (`2026-10-01`),
//! and intervals `start/end` with `..` or nothing for an open end.
//!
//! Pure: knows the model's [`Timestamp`] (whole seconds, UTC) and nothing else of the crate.

use crate::model::{Date, Timestamp};

/// An instant with nanosecond precision, as nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i128);

impl Instant {
    /// The instant of a whole-second timestamp.
    pub fn of(t: Timestamp) -> Instant {
        Instant(i128::from(t.unix()) * 1_000_000_000)
    }

    /// Midnight UTC at the start of `d`.
    pub fn start_of(d: Date) -> Instant {
        Instant(i128::from(d.days_since_epoch()) * 86_400 * 1_000_000_000)
    }
}

/// A closed interval of instants; `None` ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// First instant inside, if bounded.
    pub start: Option<Instant>,
    /// Last instant inside, if bounded.
    pub end: Option<Instant>,
}

impl Interval {
    /// Whether `t` lies inside (ends included).
    ///
    /// # Examples
    /// ```
    /// use renewal_map::temporal::{Instant, parse_datetime};
    /// use renewal_map::model::Timestamp;
    /// let day = parse_datetime("2026-10-01").unwrap();
    /// let t: Timestamp = "2026-10-01T23:59:59Z".parse().unwrap();
    /// assert!(day.contains(Instant::of(t)));
    /// let east = parse_datetime("2026-10-02T07:59:59+08:00").unwrap();
    /// assert!(east.contains(Instant::of(t)));
    /// ```
    pub fn contains(&self, t: Instant) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }
}

/// Why a `datetime` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatetimeError {
    /// Not an RFC 3339 date-time, a date, or an interval of them.
    #[error(
        "datetime must be an RFC 3339 date-time (2026-10-01T08:00:00Z, offsets and fractions allowed), a date (2026-10-01), or an interval a/b with .. or nothing for an open end; got {0:?}"
    )]
    Syntax(String),
    /// Both ends are open (`../..`), which names no time at all.
    #[error("datetime interval needs at least one bounded end")]
    BothOpen,
    /// The end is before the start.
    #[error("datetime interval ends before it starts")]
    Inverted,
}

/// One day in nanoseconds, less one: the last instant of a day counted from its start.
const DAY_NS_LAST: i128 = 86_400 * 1_000_000_000 - 1;

/// Parses an OGC `datetime` value: an instant, a day (the whole day), or an interval.
///
/// # Examples
/// ```
/// use renewal_map::temporal::parse_datetime;
/// assert!(parse_datetime("2026-10-01T08:00:00.250-03:30").is_ok());
/// assert!(parse_datetime("../2026-10-01").unwrap().start.is_none());
/// assert!(parse_datetime("2026-10-01/").unwrap().end.is_none());
/// assert!(parse_datetime("2026-10-02/2026-10-01").is_err());
/// assert!(parse_datetime("yesterday").is_err());
/// ```
pub fn parse_datetime(raw: &str) -> Result<Interval, DatetimeError> {
    let bad = || DatetimeError::Syntax(raw.chars().take(40).collect());
    let iv = match raw.split_once('/') {
        Some((a, b)) => {
            let start = match a {
                "" | ".." => None,
                a => Some(parse_bound(a).ok_or_else(bad)?.0),
            };
            let end = match b {
                "" | ".." => None,
                b => Some(parse_bound(b).ok_or_else(bad)?.1),
            };
            if start.is_none() && end.is_none() {
                return Err(DatetimeError::BothOpen);
            }
            Interval { start, end }
        }
        None => {
            let (s, e) = parse_bound(raw).ok_or_else(bad)?;
            Interval {
                start: Some(s),
                end: Some(e),
            }
        }
    };
    if let (Some(s), Some(e)) = (iv.start, iv.end)
        && s > e
    {
        return Err(DatetimeError::Inverted);
    }
    Ok(iv)
}

/// The first and last instant a value names: a day spans the whole day, a date-time is one
/// instant.
fn parse_bound(s: &str) -> Option<(Instant, Instant)> {
    if s.len() == 10 {
        let d: Date = s.parse().ok()?;
        let start = Instant::start_of(d);
        return Some((start, Instant(start.0 + DAY_NS_LAST)));
    }
    let t = parse_rfc3339(s)?;
    Some((t, t))
}

/// Parses an RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `T`/`Z` in
/// either case. Leap seconds (`:60`) are refused: the model has none.
///
/// # Examples
/// ```
/// use renewal_map::temporal::{Instant, parse_rfc3339};
/// let utc = parse_rfc3339("2026-10-01T08:00:00Z").unwrap();
/// assert_eq!(parse_rfc3339("2026-10-01t16:00:00+08:00"), Some(utc));
/// assert_eq!(parse_rfc3339("2026-10-01T08:00:00.5z"), Some(Instant(utc.0 + 500_000_000)));
/// assert_eq!(parse_rfc3339("2026-10-01T08:00:00"), None);
/// ```
pub fn parse_rfc3339(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date: Date = s.get(..10)?.parse().ok()?;
    let num = |r: std::ops::Range<usize>| -> Option<i128> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos: i128 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = frac[..digits].parse::<i128>().ok()? * 10_i128.pow(9 - digits as u32);
        rest = &frac[digits..];
    }
    let offset_s: i128 = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && matches!(&o[..1], "+" | "-") && &o[3..4] == ":" => {
            let oh = num_in(o, 1..3)?;
            let om = num_in(o, 4..6)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    let secs = i128::from(date.days_since_epoch()) * 86_400 + h * 3600 + m * 60 + sec - offset_s;
    Some(Instant(secs * 1_000_000_000 + nanos))
}

fn num_in(s: &str, r: std::ops::Range<usize>) -> Option<i128> {
    let part = s.get(r)?;
    if part.bytes().all(|c| c.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Instant {
        Instant::of(s.parse::<Timestamp>().unwrap())
    }

    #[test]
    fn offsets_and_fractions_land_on_the_same_instant() {
        let t = ts("2026-10-01T08:00:00Z");
        assert_eq!(parse_rfc3339("2026-10-01T16:00:00+08:00"), Some(t));
        assert_eq!(parse_rfc3339("2026-10-01T03:30:00-04:30"), Some(t));
        assert_eq!(parse_rfc3339("2026-10-01T08:00:00.000000000Z"), Some(t));
        assert_eq!(
            parse_rfc3339("2026-10-01T08:00:00.123456789Z"),
            Some(Instant(t.0 + 123_456_789))
        );
    }

    #[test]
    fn refuses_what_rfc3339_refuses() {
        for bad in [
            "2026-10-01T08:00:00",
            "2026-10-01 08:00:00Z",
            "2026-10-01T24:00:00Z",
            "2026-10-01T08:00:60Z",
            "2026-10-01T08:00:00.Z",
            "2026-10-01T08:00:00.1234567890Z",
            "2026-10-01T08:00:00+0800",
            "2026-10-01T08:00:00+24:00",
            "2026-02-30T08:00:00Z",
            "2026-10-01T8:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn intervals() {
        let t = ts("2026-10-01T08:00:00Z");
        let frac_after = parse_datetime("2026-10-01T08:00:00.5Z/..").unwrap();
        assert!(
            !frac_after.contains(t),
            "a fraction after the second excludes it"
        );
        assert!(
            parse_datetime("../2026-10-01T08:00:00Z")
                .unwrap()
                .contains(t)
        );
        assert!(parse_datetime("/2026-10-01").unwrap().contains(t));
        assert!(!parse_datetime("2026-10-02/").unwrap().contains(t));
        assert!(parse_datetime("2026-09-30/2026-10-01").unwrap().contains(t));
        assert_eq!(parse_datetime("../.."), Err(DatetimeError::BothOpen));
        assert_eq!(parse_datetime("/"), Err(DatetimeError::BothOpen));
        assert_eq!(
            parse_datetime("2026-10-01T09:00:00+08:00/2026-10-01T00:59:59Z"),
            Err(DatetimeError::Inverted)
        );
        assert!(matches!(
            parse_datetime(".."),
            Err(DatetimeError::Syntax(_))
        ));
        assert!(matches!(parse_datetime(""), Err(DatetimeError::Syntax(_))));
    }
}
