//! Site lists for reports: CSV, GeoJSON and an Excel workbook laid out as a 城市体检 problem
//! ledger (问题台账), one row per site, plus a summary sheet against the plan's targets.
//!
//! The ledger's first columns are the ones the office hands in (序号 … 备注); the columns after
//! them carry what an import needs to rebuild the same sites (id, codes, programme, compound
//! facts, geometry as WKT), so export → import is a round trip. Depends on `model`,
//! `snapshot`, `features` and `progress`; knows nothing about HTTP.

use std::io::Write;
use std::sync::Arc;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::Value;
use wkt::ToWkt;

use super::ExportError;
use crate::model::{Date, Site, SiteFilter};
use crate::progress::progress;
use crate::snapshot::Snapshot;

/// The language of headers and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese (the default; what the office hands in).
    #[default]
    Zh,
    /// English.
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zh" | "zh-CN" => Ok(Lang::Zh),
            "en" => Ok(Lang::En),
            other => Err(format!(
                "lang must be zh or en, got {:?}",
                other.chars().take(20).collect::<String>()
            )),
        }
    }
}

/// One ledger column: the field it holds and its Chinese and English headers.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The site field (the machine name an import maps the header to).
    pub field: &'static str,
    /// Chinese header.
    pub zh: &'static str,
    /// English header.
    pub en: &'static str,
}

const fn col(field: &'static str, zh: &'static str, en: &'static str) -> Column {
    Column { field, zh, en }
}

/// The ledger's columns, in order: the 问题台账 columns, then the machine columns.
pub const COLUMNS: &[Column] = &[
    col("seq", "序号", "No."),
    col("name", "项目名称", "Name"),
    col("kind", "类型", "Kind"),
    col("subdistrict", "所属街道", "Sub-district"),
    col("status", "状态", "Status"),
    col("progress", "进度", "Progress (%)"),
    col("planned_start", "计划开工", "Planned start"),
    col("planned_finish", "计划完工", "Planned finish"),
    col("actual_finish", "实际完工", "Actual finish"),
    col("late", "是否逾期", "Late"),
    col("investment_wan", "投资（万元）", "Investment (10k yuan)"),
    col("updated_at", "最近更新", "Last updated"),
    col("note", "备注", "Note"),
    col("id", "编号", "ID"),
    col("name_en", "英文名称", "Name (English)"),
    col("subdistrict_code", "街道代码", "Sub-district code"),
    col("programme", "资金类别", "Programme"),
    col("project_id", "项目编号", "Project ID"),
    col("households", "户数", "Households"),
    col("built_year", "建成年份", "Built year"),
    col("community", "社区", "Community"),
    col("community_code", "社区代码", "Community code"),
    col("fid", "要素编号", "Feature id"),
    col("geometry_basis", "几何来源", "Geometry basis"),
    col("wkt", "WKT", "WKT"),
];

/// Columns derived from other fields; an import reads past them.
pub const DERIVED_FIELDS: &[&str] = &["seq", "actual_finish", "late"];

/// A ledger cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// Nothing.
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// The sites of `snap` that pass `filter`, in data order (all of them: no page cap).
pub fn select(snap: &Snapshot, filter: &SiteFilter) -> Vec<Arc<Site>> {
    snap.sites
        .iter()
        .filter(|s| filter.matches(s))
        .cloned()
        .collect()
}

/// The headers in `lang`.
pub fn headers(lang: Lang) -> Vec<&'static str> {
    COLUMNS
        .iter()
        .map(|c| if lang == Lang::Zh { c.zh } else { c.en })
        .collect()
}

/// One site's ledger row; `seq` is its 1-based position in the ledger.
///
/// 实际完工 (actual finish) is the date of the last update of a completed or accepted site:
/// the model keeps no separate completion date, and a done site changes no further.
pub fn row(site: &Site, seq: usize, today: Date, lang: Lang) -> Vec<Cell> {
    let t = |s: &str| Cell::Text(s.to_owned());
    let zh = lang == Lang::Zh;
    let compound = site.compound();
    COLUMNS
        .iter()
        .map(|c| match c.field {
            "seq" => Cell::Number(seq as f64),
            "name" => t(&site.name),
            "name_en" => t(site.name_en.as_deref().unwrap_or_default()),
            "kind" => t(if zh {
                site.kind.label_zh()
            } else {
                site.kind.as_str()
            }),
            "subdistrict" => t(&site.subdistrict),
            "status" => t(if zh {
                site.status.label_zh()
            } else {
                site.status.as_str()
            }),
            "progress" => Cell::Number(f64::from(site.progress)),
            "planned_start" => t(&site.planned_start.to_string()),
            "planned_finish" => t(&site.planned_finish.to_string()),
            "actual_finish" if site.status.is_done() => t(&site.updated_at.date().to_string()),
            "late" => t(match (site.is_late(today), zh) {
                (true, true) => "是",
                (false, true) => "否",
                (true, false) => "yes",
                (false, false) => "no",
            }),
            "investment_wan" => Cell::Number(site.investment_wan),
            "updated_at" => t(&site.updated_at.to_string()),
            "note" => site.note.as_deref().map_or(Cell::Empty, t),
            "id" => t(site.id.as_str()),
            "subdistrict_code" => t(&site.subdistrict_code),
            "programme" => t(site.programme.as_str()),
            "project_id" => t(&site.project_id),
            "households" => compound.map_or(Cell::Empty, |c| Cell::Number(f64::from(c.households))),
            "built_year" => compound.map_or(Cell::Empty, |c| Cell::Number(f64::from(c.built_year))),
            "community" => compound.map_or(Cell::Empty, |c| t(&c.community)),
            "community_code" => compound.map_or(Cell::Empty, |c| t(&c.community_code)),
            "fid" => Cell::Number(site.fid as f64),
            "geometry_basis" => t(site.basis.as_str()),
            "wkt" => Cell::Text(site.geometry.wkt_string()),
            _ => Cell::Empty,
        })
        .collect()
}

/// Writes the ledger as UTF-8 CSV (RFC 4180, header row first).
pub fn write_csv(
    sites: &[Arc<Site>],
    today: Date,
    lang: Lang,
    out: impl Write,
) -> Result<(), ExportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(headers(lang))?;
    for (i, s) in sites.iter().enumerate() {
        w.write_record(row(s, i + 1, today, lang).iter().map(Cell::text))?;
    }
    w.flush().map_err(|e| ExportError::Write(e.to_string()))?;
    Ok(())
}

/// The opening of a GeoJSON FeatureCollection whose features follow, comma separated.
pub const GEOJSON_HEAD: &str = "{\"type\":\"FeatureCollection\",\"features\":[\n";
/// The closing of that FeatureCollection.
pub const GEOJSON_TAIL: &str = "\n]}\n";

/// One site as the GeoJSON Feature the API serves (every field).
pub fn geojson_feature(site: &Site, today: Date) -> Value {
    crate::features::site_feature(site, today)
}

/// Writes all `sites` as one GeoJSON FeatureCollection, a feature at a time.
pub fn write_geojson(
    sites: &[Arc<Site>],
    today: Date,
    mut out: impl Write,
) -> Result<(), ExportError> {
    let io = |e: std::io::Error| ExportError::Write(e.to_string());
    out.write_all(GEOJSON_HEAD.as_bytes()).map_err(io)?;
    for (i, s) in sites.iter().enumerate() {
        if i > 0 {
            out.write_all(b",\n").map_err(io)?;
        }
        serde_json::to_writer(&mut out, &geojson_feature(s, today))
            .map_err(|e| ExportError::Write(e.to_string()))?;
    }
    out.write_all(GEOJSON_TAIL.as_bytes()).map_err(io)?;
    Ok(())
}

/// Sheet names of the workbook.
pub fn sheet_names(lang: Lang) -> [&'static str; 2] {
    match lang {
        Lang::Zh => ["问题台账", "汇总"],
        Lang::En => ["Ledger", "Summary"],
    }
}

/// Builds the XLSX workbook: the ledger of `sites`, and a summary of the whole data set per
/// kind (against the plan's targets) and per sub-district, figures from [`progress`].
pub fn xlsx(
    snap: &Snapshot,
    sites: &[Arc<Site>],
    today: Date,
    lang: Lang,
) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let [ledger_name, summary_name] = sheet_names(lang);
    let sheet = book.add_worksheet();
    sheet.set_name(ledger_name)?;
    for (c, h) in headers(lang).iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, s) in sites.iter().enumerate() {
        for (c, cell) in row(s, i + 1, today, lang).into_iter().enumerate() {
            let (r, c) = (i as u32 + 1, c as u16);
            match cell {
                Cell::Text(t) => sheet.write_string(r, c, t)?,
                Cell::Number(n) => sheet.write_number(r, c, n)?,
                Cell::Empty => sheet,
            };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_column_width(1, 24)?;
    sheet.set_column_width(3, 14)?;
    sheet.autofilter(0, 0, sites.len() as u32, COLUMNS.len() as u16 - 1)?;
    let summary = book.add_worksheet();
    summary.set_name(summary_name)?;
    write_summary(summary, snap, today, lang, &bold)?;
    Ok(book.save_to_buffer()?)
}

fn write_summary(
    sheet: &mut Worksheet,
    snap: &Snapshot,
    today: Date,
    lang: Lang,
    bold: &Format,
) -> Result<(), XlsxError> {
    let p = progress(snap, today);
    let zh = lang == Lang::Zh;
    let pick = |a: &'static str, b: &'static str| if zh { a } else { b };
    let mut r = 0u32;
    let as_of = format!("{}{}", pick("统计日期 ", "As of "), p.as_of);
    sheet.write_string_with_format(r, 0, as_of, bold)?;
    r += 2;
    let kind_headers = [
        pick("类型", "Kind"),
        pick("计划目标", "Target"),
        pick("项目数", "Sites"),
        pick("已完成", "Completed"),
        pick("完成率（%）", "Of target (%)"),
        pick("逾期", "Late"),
        pick("投资（万元）", "Investment (10k yuan)"),
    ];
    for (c, h) in kind_headers.iter().enumerate() {
        sheet.write_string_with_format(r, c as u16, *h, bold)?;
    }
    for k in &p.kinds {
        r += 1;
        sheet.write_string(r, 0, if zh { k.label } else { k.kind.as_str() })?;
        sheet.write_number(r, 1, f64::from(k.target))?;
        sheet.write_number(r, 2, f64::from(k.tally.sites))?;
        sheet.write_number(r, 3, f64::from(k.tally.completed))?;
        sheet.write_number(r, 4, k.percent_of_target)?;
        sheet.write_number(r, 5, f64::from(k.tally.late))?;
        sheet.write_number(r, 6, k.tally.investment_wan)?;
    }
    r += 2;
    let sub_headers = [
        pick("所属街道", "Sub-district"),
        pick("街道代码", "Code"),
        pick("项目数", "Sites"),
        pick("已完成", "Completed"),
        pick("完成率（%）", "Completed (%)"),
        pick("逾期", "Late"),
        pick("投资（万元）", "Investment (10k yuan)"),
    ];
    for (c, h) in sub_headers.iter().enumerate() {
        sheet.write_string_with_format(r, c as u16, *h, bold)?;
    }
    for d in &p.subdistricts {
        r += 1;
        sheet.write_string(r, 0, &d.name)?;
        sheet.write_string(r, 1, &d.code)?;
        sheet.write_number(r, 2, f64::from(d.tally.sites))?;
        sheet.write_number(r, 3, f64::from(d.tally.completed))?;
        sheet.write_number(r, 4, d.percent_completed)?;
        sheet.write_number(r, 5, f64::from(d.tally.late))?;
        sheet.write_number(r, 6, d.tally.investment_wan)?;
    }
    sheet.set_column_width(0, 16)?;
    Ok(())
}
