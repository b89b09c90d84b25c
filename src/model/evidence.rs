//! What a field update may carry besides new values: the photos attached to it as evidence
//! and the device's position when it was made. Pure data and the checks of their shape; that
//! a photo exists, belongs to the site and is not attached elsewhere is the store's to check.

use serde::{Deserialize, Serialize};

use super::transition::{BreachKind, RuleBreach};

/// Most photos one update may attach.
pub const MAX_PHOTOS_PER_UPDATE: usize = 20;

/// Largest accuracy radius a position may report, in metres: beyond it the position says
/// nothing about which site the team stood at.
pub const MAX_ACCURACY_M: f64 = 10_000.0;

/// A photo's id: the SHA-256 of the bytes as uploaded, 64 lowercase hex digits.
///
/// # Examples
///
/// ```
/// use renewal_map::model::is_photo_id;
/// assert!(is_photo_id(&"ab".repeat(32)));
/// assert!(!is_photo_id(&"AB".repeat(32)));
/// assert!(!is_photo_id("abc"));
/// ```
pub fn is_photo_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where the device was when an update was made (WGS84 degrees), with the accuracy radius the
/// device reported. Recorded in the history, never required.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Longitude, −180 to 180.
    pub lon: f64,
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Accuracy radius in metres, 0 to [`MAX_ACCURACY_M`], if the device gave one.
    #[serde(default)]
    pub accuracy_m: Option<f64>,
}

fn invalid(code: &'static str, message: String) -> RuleBreach {
    RuleBreach {
        kind: BreachKind::Invalid,
        code,
        message,
    }
}

impl Position {
    /// Checks the ranges: `position_out_of_range` or `accuracy_out_of_range`.
    ///
    /// # Examples
    ///
    /// ```
    /// use renewal_map::model::Position;
    /// let p = Position { lon: 123.41, lat: 41.82, accuracy_m: Some(8.0) };
    /// assert!(p.validate().is_ok());
    /// let far = Position { lat: 91.0, ..p };
    /// assert_eq!(far.validate().unwrap_err().code, "position_out_of_range");
    /// ```
    pub fn validate(&self) -> Result<(), RuleBreach> {
        // A range holds no NaN and no infinity, so these also refuse those.
        let inside = (-180.0..=180.0).contains(&self.lon) && (-90.0..=90.0).contains(&self.lat);
        if !inside {
            return Err(invalid(
                "position_out_of_range",
                format!(
                    "position lon must be −180…180 and lat −90…90 (WGS84 degrees), got {}, {}",
                    self.lon, self.lat
                ),
            ));
        }
        if let Some(a) = self.accuracy_m
            && !(0.0..=MAX_ACCURACY_M).contains(&a)
        {
            return Err(invalid(
                "accuracy_out_of_range",
                format!("position accuracy_m must be 0 to {MAX_ACCURACY_M} metres, got {a}"),
            ));
        }
        Ok(())
    }
}

/// Checks the photo list of an update: well-formed ids (`unknown_photo`), no repeats
/// (`duplicate_photo`), at most [`MAX_PHOTOS_PER_UPDATE`] (`too_many_photos`).
pub fn check_photo_list(ids: &[String]) -> Result<(), RuleBreach> {
    if ids.len() > MAX_PHOTOS_PER_UPDATE {
        return Err(invalid(
            "too_many_photos",
            format!(
                "an update attaches at most {MAX_PHOTOS_PER_UPDATE} photos, got {}",
                ids.len()
            ),
        ));
    }
    for (i, id) in ids.iter().enumerate() {
        if !is_photo_id(id) {
            return Err(invalid(
                "unknown_photo",
                format!(
                    "{:?} is not a photo id (the id an upload answered with: 64 hex digits)",
                    id.chars().take(70).collect::<String>()
                ),
            ));
        }
        if ids[..i].contains(id) {
            return Err(invalid(
                "duplicate_photo",
                format!("photo {id} is listed twice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_at_the_edges_pass_and_beyond_them_fail() {
        let p = |lon, lat, acc| Position {
            lon,
            lat,
            accuracy_m: acc,
        };
        assert!(p(180.0, -90.0, Some(0.0)).validate().is_ok());
        assert!(p(-180.0, 90.0, Some(MAX_ACCURACY_M)).validate().is_ok());
        assert!(p(0.0, 0.0, None).validate().is_ok());
        for bad in [
            p(180.1, 0.0, None),
            p(0.0, -90.5, None),
            p(f64::NAN, 0.0, None),
        ] {
            assert_eq!(bad.validate().unwrap_err().code, "position_out_of_range");
        }
        for acc in [-1.0, 10_000.5, f64::INFINITY] {
            assert_eq!(
                p(1.0, 1.0, Some(acc)).validate().unwrap_err().code,
                "accuracy_out_of_range"
            );
        }
    }

    #[test]
    fn photo_lists_are_checked_for_shape_repeats_and_length() {
        let id = |c: char| c.to_string().repeat(64);
        assert!(check_photo_list(&[]).is_ok());
        assert!(check_photo_list(&[id('a'), id('b')]).is_ok());
        assert_eq!(
            check_photo_list(&[id('a'), id('a')]).unwrap_err().code,
            "duplicate_photo"
        );
        assert_eq!(
            check_photo_list(&[id('g')]).unwrap_err().code,
            "unknown_photo"
        );
        let many: Vec<String> = (0..=MAX_PHOTOS_PER_UPDATE)
            .map(|i| format!("{i:064x}"))
            .collect();
        assert_eq!(check_photo_list(&many).unwrap_err().code, "too_many_photos");
    }
}
