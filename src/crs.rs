//! Conversions between the datums used by Chinese web maps and WGS84: GCJ-02 (AMap/高德,
//! Tencent, Google China) and BD-09 (Baidu). Pure functions on `(lng, lat)` degrees.
//!
//! **Method.** WGS84 → GCJ-02 is the published obfuscation formula (Krasovsky-1940 ellipsoid,
//! `a = 6378245 m`, `e² = 0.00669342162296594323`, and the polynomial-plus-sines offset that
//! open-source ports such as eviltransform share). GCJ-02 → BD-09 is Baidu's rotation-and-shift
//! formula. Neither has a closed inverse, so GCJ-02 → WGS84 and BD-09 → GCJ-02 are solved by
//! fixed-point iteration of the forward formula until the step is below 1e-9° (≈ 0.1 mm),
//! at most [`MAX_ITERATIONS`] steps; the offset is smooth and about 500 m, so this converges
//! in a handful of steps.
//!
//! **Error.** Against published reference points (WGS84/GCJ-02/BD-09 triples to 1e-7°) the
//! result is within a few centimetres; the test suite asserts < 1 m, and round trips
//! (WGS84 → GCJ-02 → WGS84, WGS84 → BD-09 → WGS84) agree to < 1 mm. Outside mainland China the
//! GCJ-02 offset is not applied (the rough bounding box [`in_china`]), as the map providers do.
//!
//! Depends on nothing in the crate; used by `import`.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// Semi-major axis of the Krasovsky 1940 ellipsoid the GCJ-02 formula uses, in metres.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of that ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// Baidu's angular constant (π · 3000 / 180).
const BD_X_PI: f64 = PI * 3000.0 / 180.0;
/// Most fixed-point steps an inverse takes.
pub const MAX_ITERATIONS: usize = 30;
/// Step size, in degrees, below which an inverse has converged (≈ 0.1 mm).
const CONVERGED_DEG: f64 = 1e-9;

/// A datum coordinates may be given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datum {
    /// WGS84 (GPS, OpenStreetMap, GeoJSON).
    Wgs84,
    /// GCJ-02 (AMap/高德, Tencent, Google Maps in China).
    Gcj02,
    /// BD-09 (Baidu Maps).
    Bd09,
}

impl Datum {
    /// The name accepted on the command line (`wgs84`, `gcj02`, `bd09`).
    pub fn as_str(self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }

    /// Converts `(lng, lat)` in this datum to WGS84.
    ///
    /// # Examples
    ///
    /// ```
    /// use renewal_map::crs::Datum;
    /// let (lng, lat) = (123.4253306, 41.8032629); // WGS84, Shenyang
    /// let gcj = renewal_map::crs::wgs84_to_gcj02(lng, lat);
    /// let back = Datum::Gcj02.to_wgs84(gcj.0, gcj.1);
    /// assert!((back.0 - lng).abs() < 1e-8 && (back.1 - lat).abs() < 1e-8);
    /// assert_eq!(Datum::Wgs84.to_wgs84(lng, lat), (lng, lat));
    /// ```
    pub fn to_wgs84(self, lng: f64, lat: f64) -> (f64, f64) {
        match self {
            Datum::Wgs84 => (lng, lat),
            Datum::Gcj02 => gcj02_to_wgs84(lng, lat),
            Datum::Bd09 => {
                let (g_lng, g_lat) = bd09_to_gcj02(lng, lat);
                gcj02_to_wgs84(g_lng, g_lat)
            }
        }
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A datum name that is not `wgs84`, `gcj02` or `bd09`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CRS {0:?}; expected wgs84, gcj02 or bd09")]
pub struct UnknownDatum(pub String);

impl FromStr for Datum {
    type Err = UnknownDatum;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "wgs84" | "epsg4326" => Ok(Datum::Wgs84),
            "gcj02" => Ok(Datum::Gcj02),
            "bd09" | "bd09ll" => Ok(Datum::Bd09),
            _ => Err(UnknownDatum(s.chars().take(40).collect())),
        }
    }
}

/// Whether a WGS84 point lies in the rough box where GCJ-02 shifts coordinates.
///
/// # Examples
///
/// ```
/// assert!(renewal_map::crs::in_china(123.42, 41.85));
/// assert!(!renewal_map::crs::in_china(24.94, 60.17)); // Helsinki
/// ```
pub fn in_china(lng: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lng) && (0.8293..=55.8271).contains(&lat)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn offset_lng(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02 (the forward formula); points outside China are returned unchanged.
///
/// # Examples
///
/// ```
/// // Shenyang: the offset is about 500 m east and 270 m north.
/// let (lng, lat) = renewal_map::crs::wgs84_to_gcj02(123.4253306, 41.8032629);
/// assert!((lng - 123.4314787).abs() < 1e-5 && (lat - 41.8057023).abs() < 1e-5);
/// ```
pub fn wgs84_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    let d_lat = offset_lat(lng - 105.0, lat - 35.0);
    let d_lng = offset_lng(lng - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat =
        (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lng = (d_lng * 180.0) / (KRASOVSKY_A / sqrt_magic * rad.cos() * PI);
    (lng + d_lng, lat + d_lat)
}

/// GCJ-02 → WGS84, by fixed-point iteration of [`wgs84_to_gcj02`] (error ≪ 1 m).
///
/// # Examples
///
/// ```
/// let (lng, lat) = renewal_map::crs::gcj02_to_wgs84(123.4314787, 41.8057023);
/// assert!((lng - 123.4253306).abs() < 1e-5 && (lat - 41.8032629).abs() < 1e-5);
/// ```
pub fn gcj02_to_wgs84(lng: f64, lat: f64) -> (f64, f64) {
    invert(lng, lat, wgs84_to_gcj02)
}

/// GCJ-02 → BD-09 (Baidu's forward formula).
///
/// # Examples
///
/// ```
/// let (lng, lat) = renewal_map::crs::gcj02_to_bd09(123.4314787, 41.8057023);
/// assert!((lng - 123.438095).abs() < 1e-6 && (lat - 41.8114013).abs() < 1e-6);
/// ```
pub fn gcj02_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    let z = (lng * lng + lat * lat).sqrt() + 0.00002 * (lat * BD_X_PI).sin();
    let theta = lat.atan2(lng) + 0.000003 * (lng * BD_X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02, by fixed-point iteration of [`gcj02_to_bd09`].
///
/// # Examples
///
/// ```
/// let (lng, lat) = renewal_map::crs::bd09_to_gcj02(123.438095, 41.8114013);
/// assert!((lng - 123.4314787).abs() < 1e-6 && (lat - 41.8057023).abs() < 1e-6);
/// ```
pub fn bd09_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    invert(lng, lat, gcj02_to_bd09)
}

/// WGS84 → BD-09, through GCJ-02.
pub fn wgs84_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    let (g_lng, g_lat) = wgs84_to_gcj02(lng, lat);
    gcj02_to_bd09(g_lng, g_lat)
}

/// Solves `forward(p) = (lng, lat)` for `p`: start at the target, move by the residual.
fn invert(lng: f64, lat: f64, forward: fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut x, mut y) = (lng, lat);
    for _ in 0..MAX_ITERATIONS {
        let (fx, fy) = forward(x, y);
        let (dx, dy) = (lng - fx, lat - fy);
        x += dx;
        y += dy;
        if dx.abs() < CONVERGED_DEG && dy.abs() < CONVERGED_DEG {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Metres between two nearby WGS84 points (equirectangular; fine below a kilometre).
    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let r = 6_371_008.8;
        let mid = ((a.1 + b.1) / 2.0).to_radians();
        let dx = (a.0 - b.0).to_radians() * mid.cos() * r;
        let dy = (a.1 - b.1).to_radians() * r;
        dx.hypot(dy)
    }

    /// Reference WGS84, GCJ-02 and BD-09 triples (lng, lat) for city centres, as published
    /// to 1e-7° in the test fixtures of the gcoord project (hujiulong/gcoord,
    /// test/fixtures/china-cities.json, MIT): Shenyang, Liaoyang, Zhengzhou, Shantou,
    /// Xilinhot, Jiuquan — north, south, east and west of the datum's range.
    const REFERENCE: [[(f64, f64); 3]; 6] = [
        [
            (123.4253306, 41.8032629),
            (123.4314787, 41.8057023),
            (123.438095, 41.8114013),
        ],
        [
            (123.2312099, 41.2651725),
            (123.2369518, 41.2672464),
            (123.2433178, 41.2736074),
        ],
        [
            (113.6192856, 34.7478004),
            (113.6253334, 34.7466173),
            (113.6317519, 34.7528605),
        ],
        [
            (116.6775114, 23.3567569),
            (116.6819735, 23.3540964),
            (116.6885014, 23.3598884),
        ],
        [
            (116.0414035, 43.9312805),
            (116.0482308, 43.9334573),
            (116.0546232, 43.9397782),
        ],
        [
            (98.4937175, 39.7319946),
            (98.4943595, 39.7328234),
            (98.5008441, 39.7388949),
        ],
    ];

    #[test]
    fn reference_points_within_one_metre() {
        for [wgs, gcj, bd] in REFERENCE {
            assert!(
                metres(wgs84_to_gcj02(wgs.0, wgs.1), gcj) < 1.0,
                "{wgs:?} → gcj"
            );
            assert!(
                metres(wgs84_to_bd09(wgs.0, wgs.1), bd) < 1.0,
                "{wgs:?} → bd"
            );
            assert!(
                metres(Datum::Gcj02.to_wgs84(gcj.0, gcj.1), wgs) < 1.0,
                "{gcj:?}"
            );
            assert!(
                metres(Datum::Bd09.to_wgs84(bd.0, bd.1), wgs) < 1.0,
                "{bd:?}"
            );
            // The shift itself is hundreds of metres, so the test would see a missed step.
            assert!(metres(wgs, gcj) > 50.0);
        }
    }

    #[test]
    fn round_trips_below_a_millimetre() {
        let mut worst: f64 = 0.0;
        for i in 0..=20 {
            for j in 0..=20 {
                let p = (
                    73.0 + f64::from(i) * 3.2,
                    18.0 + f64::from(j) * 1.8, // 18°N to 54°N
                );
                let g = wgs84_to_gcj02(p.0, p.1);
                worst = worst.max(metres(gcj02_to_wgs84(g.0, g.1), p));
                let b = wgs84_to_bd09(p.0, p.1);
                worst = worst.max(metres(Datum::Bd09.to_wgs84(b.0, b.1), p));
            }
        }
        assert!(worst < 0.001, "worst round trip {worst} m");
    }

    #[test]
    fn outside_china_unchanged_and_names() {
        assert_eq!(wgs84_to_gcj02(24.94, 60.17), (24.94, 60.17));
        assert_eq!(Datum::Gcj02.to_wgs84(-0.12, 51.5), (-0.12, 51.5));
        assert_eq!("GCJ-02".parse(), Ok(Datum::Gcj02));
        assert_eq!("bd09".parse(), Ok(Datum::Bd09));
        assert_eq!("WGS84".parse(), Ok(Datum::Wgs84));
        let err = "utm51n".parse::<Datum>().unwrap_err();
        assert!(err.to_string().contains("utm51n"));
    }
}
