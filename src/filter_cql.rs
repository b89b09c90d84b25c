//! CQL2 filters (OGC API – Features Part 3): `filter=` in `cql2-text` or `cql2-json`, parsed
//! and evaluated in memory by the `cql2` crate against each feature as the client sees it.
//!
//! Before evaluation a filter is checked against the collection's queryables (an unknown
//! property is an error naming it), and literals are read with the type of the property they
//! are compared with: a date-like string beside a date property is a date, `1`/`0` beside a
//! boolean is `true`/`false` (what GDAL's `-where` sends). Depends on `queryables`; knows no
//! HTTP.

use cql2::Expr;
use serde_json::{Map, Value};

use crate::features::Collection;
use crate::queryables::{self, FieldType};

/// The encodings of `filter` this service reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterLang {
    /// `cql2-text` (the default).
    Text,
    /// `cql2-json`.
    Json,
}

impl FilterLang {
    /// Every `filter-lang` value accepted, as the API lists them. `cql-text` is the pre-1.0
    /// name of `cql2-text`: GDAL up to 3.6 sends `-where` as a filter only to servers that
    /// list it (otherwise it turns date comparisons into `datetime`).
    pub const NAMES: [&'static str; 3] = ["cql2-text", "cql2-json", "cql-text"];

    /// The language named by `filter-lang`; `None` for other names.
    pub fn from_name(name: &str) -> Option<FilterLang> {
        match name {
            "cql2-text" | "cql-text" => Some(FilterLang::Text),
            "cql2-json" => Some(FilterLang::Json),
            _ => None,
        }
    }
}

/// Longest filter accepted, in bytes (the query string limit bounds it too).
pub const MAX_FILTER_BYTES: usize = 4096;
/// Deepest nesting of a filter's expressions.
pub const MAX_FILTER_DEPTH: usize = 32;

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CqlError {
    /// The text does not parse as the named language.
    #[error("filter is not valid {lang}: {detail}")]
    Syntax {
        /// `cql2-text` or `cql2-json`.
        lang: &'static str,
        /// The parser's message, shortened.
        detail: String,
    },
    /// A property the collection does not have.
    #[error("filter names unknown property {name:?}; the queryables of {collection} are: {known}")]
    UnknownProperty {
        /// The property as written (shortened).
        name: String,
        /// The collection id.
        collection: &'static str,
        /// The property names that may be used, comma separated.
        known: String,
    },
    /// An operator or function this service does not evaluate.
    #[error("filter uses {0:?}, which this service does not support")]
    Unsupported(String),
    /// Longer or deeper than the limits.
    #[error("filter longer than {MAX_FILTER_BYTES} bytes or nested deeper than {MAX_FILTER_DEPTH}")]
    TooLarge,
}

/// A parsed, checked filter, ready to test features of one collection.
#[derive(Debug, Clone, PartialEq)]
pub struct CqlFilter {
    expr: Expr,
    collection: Collection,
    uses_geometry: bool,
}

/// Operators the evaluation supports, by the names the parser gives them.
const OPERATORS: &[&str] = &[
    "and",
    "or",
    "not",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "like",
    "between",
    "in",
    "isNull",
    "casei",
    "accenti",
    "+",
    "-",
    "*",
    "/",
    "s_intersects",
    "s_disjoint",
    "s_contains",
    "s_within",
    "s_equals",
    "s_touches",
    "s_overlaps",
    "s_crosses",
    "t_after",
    "t_before",
    "t_contains",
    "t_disjoint",
    "t_during",
    "t_equals",
    "t_finishedby",
    "t_finishes",
    "t_intersects",
    "t_meets",
    "t_metby",
    "t_overlappedby",
    "t_overlaps",
    "t_startedby",
    "t_starts",
];

impl CqlFilter {
    /// Parses `raw` in `lang` and checks it against the queryables of `collection`.
    ///
    /// # Examples
    /// ```
    /// use renewal_map::features::Collection;
    /// use renewal_map::filter_cql::{CqlFilter, FilterLang};
    /// assert!(CqlFilter::parse("status = 'completed'", FilterLang::Text, Collection::Parks).is_ok());
    /// assert!(CqlFilter::parse("colour = 'red'", FilterLang::Text, Collection::Parks).is_err());
    /// assert!(CqlFilter::parse("status = ", FilterLang::Text, Collection::Parks).is_err());
    /// ```
    pub fn parse(
        raw: &str,
        lang: FilterLang,
        collection: Collection,
    ) -> Result<CqlFilter, CqlError> {
        if raw.len() > MAX_FILTER_BYTES {
            return Err(CqlError::TooLarge);
        }
        let (expr, name) = match lang {
            FilterLang::Text => (
                cql2::parse_text(raw).map_err(|e| e.to_string()),
                "cql2-text",
            ),
            FilterLang::Json => (
                cql2::parse_json(raw).map_err(|e| e.to_string()),
                "cql2-json",
            ),
        };
        let expr = expr.map_err(|detail| CqlError::Syntax {
            lang: name,
            detail: shorten(&detail),
        })?;
        let mut uses_geometry = false;
        check(&expr, collection, 0, &mut uses_geometry)?;
        Ok(CqlFilter {
            expr: coerce(expr, collection),
            collection,
            uses_geometry,
        })
    }

    /// Whether the filter needs features' geometry (a spatial predicate).
    pub fn uses_geometry(&self) -> bool {
        self.uses_geometry
    }

    /// Whether `feature` (a GeoJSON Feature of the filter's collection) passes. A filter that
    /// is unknown for the feature (NULL, or a property it lacks) does not pass.
    pub fn matches(&self, feature: &Value) -> bool {
        let record = evaluation_record(feature, self.collection);
        self.expr
            .clone()
            .reduce(Some(&record))
            .is_ok_and(|e| e.is_true())
    }
}

fn shorten(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

/// Checks every property against the queryables and every operator against [`OPERATORS`].
fn check(e: &Expr, c: Collection, depth: usize, geom: &mut bool) -> Result<(), CqlError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(CqlError::TooLarge);
    }
    let all = |items: &[Box<Expr>], geom: &mut bool| {
        items.iter().try_for_each(|a| check(a, c, depth + 1, geom))
    };
    match e {
        Expr::Property { property } => {
            if property == "geometry" {
                *geom = true;
                return Ok(());
            }
            if property == "id" || queryables::find(c, property).is_some() {
                return Ok(());
            }
            let mut known: Vec<&str> = queryables::fields(c).iter().map(|f| f.name).collect();
            known.extend(["id", "geometry"]);
            Err(CqlError::UnknownProperty {
                name: property.chars().take(40).collect(),
                collection: c.id(),
                known: known.join(", "),
            })
        }
        Expr::Operation { op, args } => {
            if !OPERATORS.contains(&op.as_str()) {
                return Err(CqlError::Unsupported(op.chars().take(40).collect()));
            }
            if op.starts_with("s_") {
                *geom = true;
            }
            all(args, geom)
        }
        Expr::Interval { interval } => all(interval, geom),
        Expr::BBox { bbox } => all(bbox, geom),
        Expr::Array(items) => all(items, geom),
        Expr::Timestamp { timestamp } => check(timestamp, c, depth + 1, geom),
        Expr::Date { date } => check(date, c, depth + 1, geom),
        Expr::Float(_) | Expr::Literal(_) | Expr::Bool(_) | Expr::Geometry(_) | Expr::Null => {
            Ok(())
        }
    }
}

/// The type of `e` when it is a property of `c`.
fn property_type(e: &Expr, c: Collection) -> Option<FieldType> {
    match e {
        Expr::Property { property } => queryables::find(c, property).map(|f| f.ty),
        _ => None,
    }
}

/// Reads literals beside a typed property with the property's type.
fn coerce(e: Expr, c: Collection) -> Expr {
    match e {
        Expr::Operation { op, args } => {
            let args: Vec<Box<Expr>> = args.into_iter().map(|a| Box::new(coerce(*a, c))).collect();
            let ty = args.first().and_then(|a| property_type(a, c)).or_else(|| {
                (args.len() == 2)
                    .then(|| property_type(&args[1], c))
                    .flatten()
            });
            let comparison = matches!(
                op.as_str(),
                "=" | "<>" | "<" | "<=" | ">" | ">=" | "between" | "in"
            );
            let args = match ty {
                Some(ty) if comparison => args
                    .into_iter()
                    .map(|a| Box::new(literal_as(*a, &ty)))
                    .collect(),
                _ => args,
            };
            Expr::Operation { op, args }
        }
        other => other,
    }
}

/// `e` read as a value of type `ty`, when it is a literal that reads as one.
fn literal_as(e: Expr, ty: &FieldType) -> Expr {
    match (e, ty) {
        (Expr::Array(items), _) => Expr::Array(
            items
                .into_iter()
                .map(|a| Box::new(literal_as(*a, ty)))
                .collect(),
        ),
        (Expr::Literal(s), FieldType::Date) => match lenient_date(&s) {
            Some(d) => Expr::Date {
                date: Box::new(Expr::Literal(d)),
            },
            None => Expr::Literal(s),
        },
        (Expr::Literal(s), FieldType::DateTime) => match lenient_timestamp(&s) {
            Some(t) => Expr::Timestamp {
                timestamp: Box::new(Expr::Literal(t)),
            },
            None => match lenient_date(&s) {
                Some(d) => Expr::Date {
                    date: Box::new(Expr::Literal(d)),
                },
                None => Expr::Literal(s),
            },
        },
        (Expr::Timestamp { timestamp }, FieldType::Date) => match *timestamp {
            Expr::Literal(t) if t.len() >= 10 && lenient_date(&t[..10]).is_some() => Expr::Date {
                date: Box::new(Expr::Literal(t[..10].to_owned())),
            },
            other => Expr::Timestamp {
                timestamp: Box::new(other),
            },
        },
        (Expr::Float(v), FieldType::Boolean) if v == 1.0 || v == 0.0 => Expr::Bool(v == 1.0),
        (Expr::Literal(s), FieldType::Boolean) => match s.as_str() {
            "true" | "1" => Expr::Bool(true),
            "false" | "0" => Expr::Bool(false),
            _ => Expr::Literal(s),
        },
        (e, _) => e,
    }
}

/// `YYYY-MM-DD`, also as GDAL writes a date (`2026-06-30T`) or with a midnight time.
fn lenient_date(s: &str) -> Option<String> {
    let d = s
        .strip_suffix('T')
        .or_else(|| s.strip_suffix("T00:00:00Z"))
        .unwrap_or(s);
    d.parse::<crate::model::Date>().ok().map(|d| d.to_string())
}

/// An RFC 3339 instant, also with minutes or seconds left out (`2026-10-01T08Z`, as GDAL
/// writes partial times), normalised to what the `cql2` crate reads.
fn lenient_timestamp(s: &str) -> Option<String> {
    if crate::temporal::parse_rfc3339(s).is_some() {
        return Some(s.to_owned());
    }
    let body = s.strip_suffix('Z')?;
    let (date, time) = body.split_once('T')?;
    let full = match time.len() {
        2 => format!("{date}T{time}:00:00Z"),
        5 => format!("{date}T{time}:00Z"),
        _ => return None,
    };
    crate::temporal::parse_rfc3339(&full).map(|_| full)
}

/// What the `cql2` crate evaluates: the feature's properties and geometry, with `id` at the
/// top (the crate looks a name up at the top level first, then under `properties`).
fn evaluation_record(feature: &Value, c: Collection) -> Value {
    let mut props: Map<String, Value> = feature
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // Every queryable is there, `null` when the feature lacks it, so IS NULL answers and
    // comparisons are NULL rather than undecidable.
    for f in queryables::fields(c) {
        props.entry(f.name).or_insert(Value::Null);
    }
    let mut top = Map::new();
    if let Some(id) = feature.get("id") {
        top.insert("id".into(), id.clone());
    }
    if let Some(g) = feature.get("geometry") {
        top.insert("geometry".into(), g.clone());
    }
    top.insert("properties".into(), Value::Object(props));
    Value::Object(top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn park(status: &str, finish: &str, late: bool) -> Value {
        json!({"type": "Feature", "id": "park-001",
            "geometry": {"type": "Point", "coordinates": [123.41, 41.81]},
            "properties": {"status": status, "planned_finish": finish, "late": late,
                "updated_at": "2026-10-01T08:00:00Z", "progress": 40, "name": "测试公园", "note": null}})
    }

    fn text(s: &str) -> CqlFilter {
        CqlFilter::parse(s, FilterLang::Text, Collection::Parks)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn comparisons_logic_and_lists() {
        let f = park("completed", "2026-06-30", false);
        for (q, want) in [
            ("status = 'completed'", true),
            ("status <> 'completed'", false),
            ("progress > 30 AND progress <= 40", true),
            ("NOT (progress < 50)", false),
            ("status IN ('design', 'completed')", true),
            ("progress BETWEEN 41 AND 100", false),
            ("name LIKE '测试%'", true),
            ("note IS NULL", true),
            ("note IS NOT NULL OR late", false),
        ] {
            assert_eq!(text(q).matches(&f), want, "{q}");
        }
    }

    #[test]
    fn dates_and_booleans_as_gdal_sends_them() {
        let f = park("design", "2026-06-30", true);
        for (q, want) in [
            ("planned_finish = '2026-06-30T'", true),
            ("planned_finish >= '2026-06-30T'", true),
            ("planned_finish > DATE('2026-06-30')", false),
            ("planned_finish < '2026-07-01'", true),
            ("late = 1", true),
            ("late = 0", false),
            ("late = true", true),
            ("updated_at > TIMESTAMP('2026-10-01T07:59:59Z')", true),
            ("updated_at < '2026-10-01T08Z'", false),
            (
                "T_AFTER(updated_at, TIMESTAMP('2026-09-01T00:00:00Z'))",
                true,
            ),
        ] {
            assert_eq!(text(q).matches(&f), want, "{q}");
        }
    }

    #[test]
    fn spatial_and_json() {
        let f = park("design", "2026-06-30", true);
        let inside = text("S_INTERSECTS(geometry, BBOX(123.40, 41.80, 123.42, 41.82))");
        assert!(inside.uses_geometry() && inside.matches(&f));
        assert!(!text("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1, 0 0)))").matches(&f));
        let j = CqlFilter::parse(
            r#"{"op": "=", "args": [{"property": "status"}, "design"]}"#,
            FilterLang::Json,
            Collection::Parks,
        )
        .unwrap();
        assert!(j.matches(&f));
    }

    #[test]
    fn errors_name_the_problem() {
        let e =
            CqlFilter::parse("colour = 'red'", FilterLang::Text, Collection::Parks).unwrap_err();
        assert!(e.to_string().contains("\"colour\""), "{e}");
        assert!(e.to_string().contains("planned_finish"), "{e}");
        let e = CqlFilter::parse("status = ", FilterLang::Text, Collection::Parks).unwrap_err();
        assert!(
            matches!(
                e,
                CqlError::Syntax {
                    lang: "cql2-text",
                    ..
                }
            ),
            "{e}"
        );
        let e = CqlFilter::parse("{\"op\": 1}", FilterLang::Json, Collection::Parks).unwrap_err();
        assert!(
            matches!(
                e,
                CqlError::Syntax {
                    lang: "cql2-json",
                    ..
                }
            ),
            "{e}"
        );
        let e =
            CqlFilter::parse("households > 3", FilterLang::Text, Collection::Parks).unwrap_err();
        assert!(matches!(e, CqlError::UnknownProperty { .. }), "{e}");
        let deep = format!("{}true{}", "NOT (".repeat(40), ")".repeat(40));
        assert_eq!(
            CqlFilter::parse(&deep, FilterLang::Text, Collection::Parks),
            Err(CqlError::TooLarge)
        );
    }
}
