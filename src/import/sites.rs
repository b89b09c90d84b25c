//! Reading sites from an import file (GeoJSON, CSV or XLSX) into validated [`Site`]s in WGS84.
//!
//! Each row becomes a feature in the data file's record form and goes through
//! [`crate::load::site_from_record`], so an import checks exactly what loading a data set does.
//! Every bad row is reported (file, line or feature, column or property, problem); one bad
//! row fails the whole file.

use std::collections::HashMap;
use std::path::Path;

use geo::{Geometry, MapCoords};
use serde_json::{Map, Value, json};

use super::columns;
use crate::crs::Datum;
use crate::export::sites::DERIVED_FIELDS;
use crate::load::{LoadError, site_from_record};
use crate::model::{RenewalKind, RenewalStatus, Site, Timestamp};

/// Most rows (or features) one import file may hold.
pub const MAX_ROWS: usize = 100_000;

/// One site read from a file, with where it was.
#[derive(Debug, Clone)]
pub struct ReadSite {
    /// Where it was: `line 7` (CSV), `row 7` (XLSX) or `feature #3` (GeoJSON).
    pub at: String,
    /// The site, in WGS84; fid and version are placeholders the write service sets.
    pub site: Site,
}

/// What reading a file gave: its sites, or every problem found, and notes (e.g. the encoding).
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Sites read, in file order.
    pub sites: Vec<ReadSite>,
    /// One message per bad row, each naming the file.
    pub errors: Vec<String>,
    /// Things worth saying that are not errors (`decoded as GBK`).
    pub notes: Vec<String>,
}

/// Reads `file` (by extension: `.geojson`/`.json`, `.csv`, `.xlsx`), coordinates in `datum`.
pub fn read_file(file: &Path, datum: Datum) -> Result<ReadOutcome, String> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let name = file.display().to_string();
    match ext.as_str() {
        "geojson" | "json" => {
            let text =
                std::fs::read_to_string(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
            read_geojson(&name, &text, datum)
        }
        "csv" => {
            let bytes = std::fs::read(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
            read_csv(&name, &bytes, datum)
        }
        "xlsx" | "xls" | "ods" => read_xlsx(file, datum),
        _ => Err(format!(
            "{name}: unknown file type {ext:?}; expected .geojson, .json, .csv or .xlsx"
        )),
    }
}

/// Reads a GeoJSON FeatureCollection of sites (the data file's or the export's form).
pub fn read_geojson(name: &str, text: &str, datum: Datum) -> Result<ReadOutcome, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("{name}: not valid JSON: {e}"))?;
    let features = value
        .get("features")
        .and_then(Value::as_array)
        .filter(|_| value.get("type").and_then(Value::as_str) == Some("FeatureCollection"))
        .ok_or_else(|| format!("{name}: expected a GeoJSON FeatureCollection"))?;
    if features.len() > MAX_ROWS {
        return Err(format!("{name}: more than {MAX_ROWS} features"));
    }
    let mut out = ReadOutcome::default();
    for (i, f) in features.iter().enumerate() {
        let at = format!("feature #{}", i + 1);
        let mut f = f.clone();
        if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
            // The export writes the basis as `geometry_basis`; the data file as `geometry`.
            if let Some(b) = p.remove("geometry_basis") {
                p.entry("geometry").or_insert(b);
            }
            p.entry("fid").or_insert(json!(0));
            p.entry("updated_at")
                .or_insert_with(|| json!(Timestamp::now().to_string()));
        }
        if let Some(g) = f.get_mut("geometry") {
            convert_raw(g, datum);
        }
        match site_from_record(f) {
            Ok(site) => out.sites.push(ReadSite { at, site }),
            Err(e) => out.errors.push(format!("{name}: {at}: {}", problem(&e))),
        }
    }
    Ok(out)
}

/// Reads a CSV ledger (UTF-8, or GBK, which is detected and decoded).
pub fn read_csv(name: &str, bytes: &[u8], datum: Datum) -> Result<ReadOutcome, String> {
    let mut notes = Vec::new();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_owned(),
        Err(_) => {
            let (t, _, bad) = encoding_rs::GBK.decode(bytes);
            if bad {
                return Err(format!(
                    "{name}: neither UTF-8 nor GBK text; save it as UTF-8 CSV"
                ));
            }
            notes.push(format!("{name}: not UTF-8; decoded as GBK"));
            t.into_owned()
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{name}: line 1: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| format!("{name}: {e}"))?;
        let line = rec.position().map_or(0, |p| p.line());
        rows.push((
            format!("line {line}"),
            rec.iter().map(str::to_owned).collect(),
        ));
    }
    let mut out = read_rows(name, &headers, rows, datum)?;
    out.notes.splice(0..0, notes);
    Ok(out)
}

/// Reads the first sheet of a workbook (the export's 问题台账 ledger).
pub fn read_xlsx(file: &Path, datum: Datum) -> Result<ReadOutcome, String> {
    use calamine::{Data, Reader};
    let name = file.display().to_string();
    let mut book =
        calamine::open_workbook_auto(file).map_err(|e| format!("{name}: not a workbook: {e}"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| format!("{name}: the workbook has no sheet"))?
        .map_err(|e| format!("{name}: cannot read the first sheet: {e}"))?;
    let cell = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::Float(f) => f.to_string(),
        other => other.to_string(),
    };
    let mut it = range.rows();
    let headers: Vec<String> = it
        .next()
        .ok_or_else(|| format!("{name}: the first sheet is empty"))?
        .iter()
        .map(cell)
        .collect();
    let rows = it
        .enumerate()
        .map(|(i, r)| (format!("row {}", i + 2), r.iter().map(cell).collect()))
        .collect();
    read_rows(&name, &headers, rows, datum)
}

/// Rows of cells under `headers` to sites.
fn read_rows(
    name: &str,
    headers: &[String],
    rows: Vec<(String, Vec<String>)>,
    datum: Datum,
) -> Result<ReadOutcome, String> {
    let fields = columns::map_headers(headers)
        .map_err(|missing| format!("{name}: missing column(s): {}", missing.join(", ")))?;
    if rows.len() > MAX_ROWS {
        return Err(format!("{name}: more than {MAX_ROWS} rows"));
    }
    let mut out = ReadOutcome::default();
    for (at, cells) in rows {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut row: HashMap<&str, &str> = HashMap::new();
        for (f, c) in fields.iter().zip(&cells) {
            if let Some(f) = f {
                row.insert(f, c.trim());
            }
        }
        match row_record(&row, datum).and_then(|r| site_from_record(r).map_err(|e| problem(&e))) {
            Ok(site) => out.sites.push(ReadSite { at, site }),
            Err(m) => out.errors.push(format!("{name}: {at}: {m}")),
        }
    }
    Ok(out)
}

/// One row as a record feature (the data file's form).
fn row_record(row: &HashMap<&str, &str>, datum: Datum) -> Result<Value, String> {
    let get = |f: &str| row.get(f).copied().filter(|v| !v.is_empty());
    let geometry: Geometry<f64> = match (get("wkt"), get("lon"), get("lat")) {
        (Some(w), _, _) => {
            let parsed: wkt::Wkt<f64> =
                w.parse().map_err(|e| format!("column wkt: not WKT: {e}"))?;
            Geometry::try_from(parsed).map_err(|e| format!("column wkt: {e}"))?
        }
        (None, Some(lon), Some(lat)) => {
            let n = |c: &str, v: &str| {
                v.parse::<f64>()
                    .map_err(|_| format!("column {c}: {v:?} is not a number"))
            };
            Geometry::Point(geo::Point::new(n("lon", lon)?, n("lat", lat)?))
        }
        _ => return Err("no geometry: column wkt (or lon and lat) is empty".into()),
    };
    let geometry = convert(&geometry, datum);
    let mut p = Map::new();
    for (&field, &value) in row {
        if value.is_empty() || DERIVED_FIELDS.contains(&field) {
            continue;
        }
        let v = match field {
            "wkt" | "lon" | "lat" | "id" => continue,
            "geometry_basis" => {
                p.insert("geometry".into(), json!(value));
                continue;
            }
            "kind" => json!(
                RenewalKind::ALL
                    .into_iter()
                    .find(|k| k.label_zh() == value)
                    .map_or(value, |k| k.as_str())
            ),
            "status" => json!(
                RenewalStatus::ALL
                    .into_iter()
                    .find(|s| s.label_zh() == value)
                    .map_or(value, |s| s.as_str())
            ),
            "progress" | "investment_wan" | "households" | "built_year" | "fid" => {
                match value.parse::<f64>() {
                    Ok(n) if n.fract() == 0.0 && (0.0..1e15).contains(&n) => json!(n as u64),
                    Ok(n) => json!(n),
                    Err(_) => return Err(format!("column {field}: {value:?} is not a number")),
                }
            }
            _ => json!(value),
        };
        p.insert(field.into(), v);
    }
    p.entry("fid").or_insert(json!(0));
    p.entry("geometry").or_insert(json!("real"));
    p.entry("updated_at")
        .or_insert_with(|| json!(Timestamp::now().to_string()));
    let id = get("id").unwrap_or("");
    let g = geojson::Geometry::new(geojson::GeometryValue::from(&geometry));
    Ok(json!({"type": "Feature", "id": id, "geometry": g, "properties": p}))
}

/// The problem a load error names, without the file and feature it names (the importer says
/// which file and row).
fn problem(e: &LoadError) -> String {
    match e {
        LoadError::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// `g` from `datum` to WGS84.
pub fn convert(g: &Geometry<f64>, datum: Datum) -> Geometry<f64> {
    g.map_coords(|c| {
        let (x, y) = datum.to_wgs84(c.x, c.y);
        geo::coord! { x: x, y: y }
    })
}

/// Converts every position of a raw GeoJSON geometry from `datum` to WGS84 in place.
fn convert_raw(g: &mut Value, datum: Datum) {
    fn walk(v: &mut Value, datum: Datum) {
        let Some(a) = v.as_array_mut() else { return };
        if a.len() >= 2 && a.iter().all(Value::is_number) {
            if let (Some(x), Some(y)) = (a[0].as_f64(), a[1].as_f64()) {
                let (x, y) = datum.to_wgs84(x, y);
                a[0] = json!(x);
                a[1] = json!(y);
            }
            return;
        }
        for c in a {
            walk(c, datum);
        }
    }
    if datum != Datum::Wgs84
        && let Some(c) = g.get_mut("coordinates")
    {
        walk(c, datum);
    }
}
