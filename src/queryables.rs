//! The typed fields of each OGC API collection: one list that the JSON Schemas
//! (`/ogc/collections/{c}/schema`, `/queryables`), the CQL2 property checks and the feature
//! rendering agree on, so GDAL and QGIS get every field with its type from the schema or the
//! first page.
//!
//! Depends on `model` and `features::Collection`; knows `serde_json`, not HTTP.

use serde_json::{Map, Value, json};

use crate::features::Collection;
use crate::model::{GeometryBasis, Programme, RenewalKind, RenewalStatus};

/// The type of a field, as JSON Schema and CQL2 see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// Free text.
    String,
    /// `true` or `false`.
    Boolean,
    /// A calendar date `YYYY-MM-DD` (JSON Schema `format: date`).
    Date,
    /// An RFC 3339 instant (JSON Schema `format: date-time`).
    DateTime,
    /// One of the listed names.
    Enum(Vec<&'static str>),
}

/// One property of the features of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The property name in GeoJSON `properties`.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// What it means, for people.
    pub title: &'static str,
    /// Whether some features have `null` (or no value) here.
    pub nullable: bool,
}

const fn field(name: &'static str, ty: FieldType, title: &'static str) -> Field {
    Field {
        name,
        ty,
        title,
        nullable: false,
    }
}

/// The property that the `datetime` parameter of site collections filters, and their
/// temporal extent describes.
pub const DATETIME_PROPERTY: &str = "updated_at";

/// The fields of the features of `c`, in the order features carry them.
pub fn fields(c: Collection) -> Vec<Field> {
    use FieldType::*;
    let Some(kinds) = c.site_kinds() else {
        let name = field("name", String, "Name");
        let basis = field(
            "geometry_basis",
            Enum(vec![
                GeometryBasis::Real.as_str(),
                GeometryBasis::Estimated.as_str(),
                GeometryBasis::Illustrative.as_str(),
            ]),
            "Where the geometry comes from",
        );
        let opt = |name, ty, title| Field {
            nullable: true,
            ..field(name, ty, title)
        };
        return match c {
            Collection::Streets => vec![
                name,
                opt("name_en", String, "English name"),
                opt("class", String, "Street class"),
                basis,
                opt(
                    "osm_id",
                    String,
                    "OpenStreetMap id (way/123) of an imported street",
                ),
            ],
            Collection::Landmarks => vec![
                name,
                opt("name_en", String, "English name"),
                opt("kind", String, "Kind of place"),
                basis,
            ],
            _ => vec![
                name,
                opt("name_en", String, "English name"),
                opt("code", String, "Official (NBS) code"),
                basis,
            ],
        };
    };
    let mut f = vec![
        field("fid", Integer, "Numeric id (vector-tile feature id)"),
        field("name", String, "Name"),
        Field {
            nullable: true,
            ..field("name_en", String, "English name (pinyin)")
        },
        field(
            "kind",
            Enum(kinds.iter().map(|k| k.as_str()).collect()),
            "Kind of work",
        ),
        field("kind_label", String, "Kind of work (Chinese)"),
        field("subdistrict", String, "Sub-district name"),
        field("subdistrict_code", String, "Sub-district NBS code"),
        field(
            "status",
            Enum(RenewalStatus::ALL.iter().map(|s| s.as_str()).collect()),
            "Lifecycle status",
        ),
        field("status_label", String, "Lifecycle status (Chinese)"),
        field("progress", Integer, "Percent complete, 0-100"),
        field("late", Boolean, "Past its planned finish and not done"),
        field(
            "investment_wan",
            Number,
            "Budgeted investment in 10,000 yuan",
        ),
        field(
            "programme",
            Enum(vec![
                Programme::Construction.as_str(),
                Programme::Maintenance.as_str(),
            ]),
            "Budget line",
        ),
        field("project_id", String, "Programme project id"),
        field("planned_start", Date, "Planned start of works"),
        field(
            "planned_finish",
            Date,
            "Planned finish of works (parks: opening)",
        ),
        field(
            DATETIME_PROPERTY,
            DateTime,
            "Last change of status or progress",
        ),
        field("version", Integer, "Number of accepted changes (ETag)"),
        Field {
            nullable: true,
            ..field("note", String, "Latest field note")
        },
        field(
            "geometry_basis",
            Enum(vec![
                GeometryBasis::Real.as_str(),
                GeometryBasis::Estimated.as_str(),
                GeometryBasis::Illustrative.as_str(),
            ]),
            "Where the geometry comes from",
        ),
    ];
    let mixed = kinds.len() == RenewalKind::ALL.len();
    let has = |pred: fn(RenewalKind) -> bool| kinds.iter().any(|&k| pred(k));
    let extra = |name, ty, title| Field {
        nullable: mixed,
        ..field(name, ty, title)
    };
    if has(RenewalKind::is_linear) {
        f.push(extra("length_m", Number, "Geodesic length in metres"));
    }
    if has(|k| !k.is_linear()) {
        f.push(extra("area_m2", Number, "Geodesic area in square metres"));
    }
    if has(|k| k == RenewalKind::PocketPark) {
        f.push(extra("open", Boolean, "Open to residents (parks)"));
    }
    if has(|k| k == RenewalKind::Compound) {
        f.push(extra("households", Integer, "Households (compounds)"));
        f.push(extra("built_year", Integer, "Year built (compounds)"));
        f.push(extra(
            "community",
            String,
            "Residents' community (compounds)",
        ));
        f.push(extra(
            "community_code",
            String,
            "Community NBS code (compounds)",
        ));
    }
    f
}

/// The field of `c` named `name`.
pub fn find(c: Collection, name: &str) -> Option<Field> {
    fields(c).into_iter().find(|f| f.name == name)
}

/// The GeoJSON geometry type every feature of `c` has: `sites` serves label points, the other
/// collections their real geometry.
pub fn geometry_type(c: Collection) -> &'static str {
    match c {
        Collection::Sites | Collection::Landmarks => "Point",
        Collection::Roads | Collection::Streets => "LineString",
        Collection::District => "MultiPolygon",
        _ => "Polygon",
    }
}

fn type_schema(f: &Field) -> Value {
    let mut s = match &f.ty {
        FieldType::Integer => json!({"type": "integer"}),
        FieldType::Number => json!({"type": "number"}),
        FieldType::String => json!({"type": "string"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
        FieldType::Enum(names) => json!({"type": "string", "enum": names}),
    };
    if f.name == "progress" {
        s["minimum"] = json!(0);
        s["maximum"] = json!(100);
    }
    // One type, not `[type, "null"]`: GDAL up to 3.6 reads only a string `type`.
    if f.nullable {
        s["nullable"] = json!(true);
    }
    s["title"] = json!(f.title);
    s
}

/// Which document is built: the queryables (what `filter` may name) or the full schema of
/// the features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// `/queryables`: the properties a CQL2 filter may use, plus the geometry.
    Queryables,
    /// `/schema`: every property of the features (OGC API – Features Part 5).
    Schema,
}

/// The JSON Schema (2020-12) of `c`'s features; `id` is the document's absolute URL.
pub fn json_schema(c: Collection, kind: SchemaKind, id: &str) -> Value {
    let mut props = Map::new();
    let geometry_format = format!(
        "geometry-{}",
        match geometry_type(c) {
            "Point" => "point",
            "LineString" => "linestring",
            "MultiPolygon" => "multipolygon",
            _ => "polygon",
        }
    );
    props.insert(
        "geometry".into(),
        json!({
            "title": "Geometry",
            "format": geometry_format,
            "x-ogc-role": "primary-geometry",
        }),
    );
    if kind == SchemaKind::Schema {
        props.insert(
            "id".into(),
            json!({"title": "Feature id", "type": if c.holds_sites() { "string" } else { "integer" }, "x-ogc-role": "id"}),
        );
    }
    for f in fields(c) {
        let mut s = type_schema(&f);
        if f.name == DATETIME_PROPERTY {
            s["x-ogc-role"] = json!("primary-instant");
        }
        props.insert(f.name.into(), s);
    }
    match kind {
        SchemaKind::Queryables => json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": id,
            "type": "object",
            "title": c.title(),
            "properties": props,
            "additionalProperties": false,
        }),
        // The schema of a GeoJSON Feature, fields under `properties`: the shape GDAL's OGC
        // API driver reads from the `describedby` link to type every field.
        SchemaKind::Schema => {
            let geometry = props.remove("geometry").unwrap_or(Value::Null);
            let fid = props.remove("id").unwrap_or(Value::Null);
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": id,
                "type": "object",
                "title": c.title(),
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": fid,
                    "geometry": geometry,
                    "properties": {"type": "object", "properties": props},
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_kind_collections_carry_their_own_fields_only() {
        let names = |c| fields(c).into_iter().map(|f| f.name).collect::<Vec<_>>();
        assert!(names(Collection::Roads).contains(&"length_m"));
        assert!(!names(Collection::Roads).contains(&"area_m2"));
        assert!(names(Collection::Parks).contains(&"open"));
        assert!(!names(Collection::Parks).contains(&"households"));
        let sites = fields(Collection::Sites);
        for extra in ["length_m", "area_m2", "open", "households", "community"] {
            let f = sites.iter().find(|f| f.name == extra).expect(extra);
            assert!(f.nullable, "{extra} is null on other kinds");
        }
        assert_eq!(
            find(Collection::Sites, "planned_finish").map(|f| f.ty),
            Some(FieldType::Date)
        );
        assert!(find(Collection::Streets, "status").is_none());
    }

    #[test]
    fn schema_types_dates_booleans_and_nulls() {
        let s = json_schema(Collection::Sites, SchemaKind::Queryables, "x");
        let p = &s["properties"];
        assert_eq!(p["planned_finish"]["format"], "date");
        assert_eq!(p["updated_at"]["format"], "date-time");
        assert_eq!(p["updated_at"]["x-ogc-role"], "primary-instant");
        assert_eq!(p["late"]["type"], "boolean");
        assert_eq!(p["open"]["type"], "boolean");
        assert_eq!(p["open"]["nullable"], true);
        assert_eq!(p["geometry"]["format"], "geometry-point");
        assert_eq!(s["additionalProperties"], false);
    }
}
