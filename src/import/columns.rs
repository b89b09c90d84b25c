//! Header mapping: a column header of an import file (Chinese or English, as the export writes
//! them, or the machine field name) to the site field it holds.

use crate::export::sites::COLUMNS;

/// Fields every CSV or XLSX import must have a column for (besides its geometry).
pub const REQUIRED: &[&str] = &[
    "id",
    "name",
    "kind",
    "subdistrict",
    "subdistrict_code",
    "status",
    "progress",
    "investment_wan",
    "programme",
    "planned_start",
    "planned_finish",
];

/// The field a header names, if any: the ledger's Chinese or English header, the field name,
/// or `lon`/`lng`/`经度` and `lat`/`纬度` for point coordinates. Case and surrounding spaces
/// (and a UTF-8 byte-order mark) are ignored.
///
/// # Examples
/// ```
/// use renewal_map::import::columns::field_of;
/// assert_eq!(field_of("项目名称"), Some("name"));
/// assert_eq!(field_of(" Planned start "), Some("planned_start"));
/// assert_eq!(field_of("经度"), Some("lon"));
/// assert_eq!(field_of("colour"), None);
/// ```
pub fn field_of(header: &str) -> Option<&'static str> {
    let h = header.trim_start_matches('\u{feff}').trim();
    let lower = h.to_lowercase();
    match lower.as_str() {
        "lon" | "lng" | "longitude" | "经度" => return Some("lon"),
        "lat" | "latitude" | "纬度" => return Some("lat"),
        _ => {}
    }
    COLUMNS
        .iter()
        .find(|c| c.zh == h || c.en.to_lowercase() == lower || c.field == lower)
        .map(|c| c.field)
}

/// The fields of `headers` in order (`None` for a column no field maps to), or the required
/// fields that no header names.
pub fn map_headers(headers: &[String]) -> Result<Vec<Option<&'static str>>, Vec<&'static str>> {
    let fields: Vec<Option<&'static str>> = headers.iter().map(|h| field_of(h)).collect();
    let has = |f: &str| fields.contains(&Some(f));
    let mut missing: Vec<&'static str> = REQUIRED.iter().copied().filter(|f| !has(f)).collect();
    if !(has("wkt") || (has("lon") && has("lat"))) {
        missing.push("wkt (or lon and lat)");
    }
    if missing.is_empty() {
        Ok(fields)
    } else {
        Err(missing)
    }
}
