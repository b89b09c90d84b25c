//! Reads the source files in `data/sources`: the real outline, the NBS names, the anchor
//! points and the plan. Every error names the file.

use std::path::Path;

use geo::{Coord, MultiPolygon};

use super::GenerateError;
use crate::model::Plan;

pub(crate) const BOUNDARY_FILE: &str = "huanggu-210105-boundary-wgs84.geojson";
pub(crate) const SUBDISTRICTS_FILE: &str = "huanggu-subdistricts-2022.csv";
pub(crate) const COMMUNITIES_FILE: &str = "huanggu-communities-2022.csv";
pub(crate) const ANCHORS_FILE: &str = "huanggu-anchor-points.csv";
pub(crate) const PLAN_FILE: &str = "huanggu-plan.json";

/// A 街道 row of the NBS list.
#[derive(Debug, Clone)]
pub(crate) struct SubdistrictRow {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) name_en: String,
}

/// A 社区/村委会 row of the NBS list.
#[derive(Debug, Clone)]
pub(crate) struct CommunityRow {
    pub(crate) code: String,
    pub(crate) name: String,
    /// Pinyin of the name without its suffix (`Meijiangxi`), from the list's `pinyin_auto`.
    pub(crate) pinyin: String,
    pub(crate) subdistrict_code: String,
}

impl CommunityRow {
    /// The name without its 社区/村委会 suffix, used to name sites (`梅江西`).
    pub(crate) fn stem(&self) -> &str {
        self.name
            .strip_suffix("社区")
            .or_else(|| self.name.strip_suffix("村委会"))
            .unwrap_or(&self.name)
    }
}

/// A named place from the anchor table; `position` is `None` for name-only rows.
#[derive(Debug, Clone)]
pub(crate) struct Anchor {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) name_en: String,
    pub(crate) kind: String,
    pub(crate) position: Option<Coord>,
    pub(crate) precision_m: Option<f64>,
    pub(crate) basis: String,
}

/// Everything the generator reads.
#[derive(Debug, Clone)]
pub(crate) struct Sources {
    pub(crate) district_code: String,
    pub(crate) district_name: String,
    pub(crate) district_name_en: String,
    /// The outline in WGS84 degrees.
    pub(crate) outline: MultiPolygon,
    pub(crate) subdistricts: Vec<SubdistrictRow>,
    pub(crate) communities: Vec<CommunityRow>,
    pub(crate) anchors: Vec<Anchor>,
    pub(crate) plan: Plan,
}

impl Sources {
    pub(crate) fn anchor(&self, id: &str) -> Option<Coord> {
        self.anchors
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| a.position)
    }
}

pub(crate) fn read(dir: &Path) -> Result<Sources, GenerateError> {
    let (outline, props) = read_outline(&dir.join(BOUNDARY_FILE))?;
    let prop = |k: &str| {
        props
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };

    let path = dir.join(SUBDISTRICTS_FILE);
    let subdistricts = read_csv(&path)?
        .iter()
        .map(|r| {
            Ok(SubdistrictRow {
                code: r.get("code")?,
                name: r.get("name")?,
                name_en: r.get("name_en")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|message| parse_error(&path, message))?;

    let path = dir.join(COMMUNITIES_FILE);
    let communities = read_csv(&path)?
        .iter()
        .map(|r| {
            Ok(CommunityRow {
                code: r.get("code")?,
                name: r.get("name")?,
                pinyin: r.get("pinyin_auto")?,
                subdistrict_code: r.get("subdistrict_code")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|message| parse_error(&path, message))?;

    let path = dir.join(ANCHORS_FILE);
    let anchors = read_csv(&path)?
        .iter()
        .map(|r| {
            let num = |k: &str| -> Result<Option<f64>, String> {
                let v = r.get(k)?;
                if v.is_empty() {
                    Ok(None)
                } else {
                    v.parse()
                        .map(Some)
                        .map_err(|_| format!("{k} {v:?} is not a number"))
                }
            };
            let position = match (num("lon")?, num("lat")?) {
                (Some(x), Some(y)) => Some(Coord { x, y }),
                _ => None,
            };
            Ok(Anchor {
                id: r.get("id")?,
                name: r.get("name_zh")?,
                name_en: r.get("name_en")?,
                kind: r.get("kind")?,
                position,
                precision_m: num("precision_m")?,
                basis: r.get("basis")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|message| parse_error(&path, message))?;

    let path = dir.join(PLAN_FILE);
    let plan: Plan =
        serde_json::from_str(&read_text(&path)?).map_err(|e| parse_error(&path, e.to_string()))?;

    Ok(Sources {
        district_code: prop("adcode"),
        district_name: prop("name"),
        district_name_en: prop("name_en"),
        outline,
        subdistricts,
        communities,
        anchors,
        plan,
    })
}

fn parse_error(path: &Path, message: String) -> GenerateError {
    GenerateError::Parse {
        path: path.to_path_buf(),
        message,
    }
}

fn read_text(path: &Path) -> Result<String, GenerateError> {
    std::fs::read_to_string(path).map_err(|source| GenerateError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_outline(
    path: &Path,
) -> Result<(MultiPolygon, serde_json::Map<String, serde_json::Value>), GenerateError> {
    let text = read_text(path)?;
    let fc: geojson::FeatureCollection = text
        .parse()
        .map_err(|e: geojson::Error| parse_error(path, e.to_string()))?;
    let feature = fc
        .features
        .into_iter()
        .next()
        .ok_or_else(|| parse_error(path, "no feature".into()))?;
    let geometry = feature
        .geometry
        .ok_or_else(|| parse_error(path, "feature has no geometry".into()))?;
    let geom: geo::Geometry = geometry
        .try_into()
        .map_err(|e: geojson::Error| parse_error(path, e.to_string()))?;
    let outline = match geom {
        geo::Geometry::MultiPolygon(mp) => mp,
        geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
        _ => return Err(parse_error(path, "outline is not a (Multi)Polygon".into())),
    };
    Ok((outline, feature.properties.unwrap_or_default()))
}

/// One CSV record with access by column name.
struct Record<'a> {
    header: &'a [String],
    fields: Vec<String>,
}

impl Record<'_> {
    fn get(&self, column: &str) -> Result<String, String> {
        self.header
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.fields.get(i))
            .cloned()
            .ok_or_else(|| format!("missing column {column:?}"))
    }
}

/// A parsed CSV file: header and rows.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn iter(&self) -> impl Iterator<Item = Record<'_>> {
        self.rows.iter().map(|fields| Record {
            header: &self.header,
            fields: fields.clone(),
        })
    }
}

/// Reads a small RFC 4180 CSV file (quoted fields, `""` escapes, no newlines inside quotes).
fn read_csv(path: &Path) -> Result<Table, GenerateError> {
    let text = read_text(path)?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .map(split_csv_line)
        .ok_or_else(|| parse_error(path, "empty file".into()))?;
    let rows = lines.map(split_csv_line).collect();
    Ok(Table { header, rows })
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_empty_fields() {
        assert_eq!(
            split_csv_line(r#"a,"b, ""c""",,d"#),
            ["a", "b, \"c\"", "", "d"]
        );
        assert_eq!(split_csv_line(""), [""]);
    }
}
