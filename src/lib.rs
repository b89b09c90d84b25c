//! renewal-map: the spatial service behind a city district's urban renewal programme.
//!
//! Data flows load → model → index → encode → HTTP, with storage beside the model:
//!
//! | module | job |
//! |---|---|
//! | [`config`] | `Config` and request limits, validated at start |
//! | [`model`] | `Site`, `RenewalKind`, `RenewalStatus`, `Plan`: pure domain data |
//! | [`draft`] | a planner's GeoJSON Feature → `Site`, with every check of OGC API – Features Part 4 writes |
//! | [`load`] | data-set directory (GeoJSON, plan) → model, with errors naming file and feature |
//! | [`generate`] | deterministic generator of the illustrative parts of a data set |
//! | [`mercator`] | Web Mercator projection, done once at load |
//! | [`index`] | rstar R-tree over feature envelopes |
//! | [`snapshot`] | immutable, indexed version of the data that requests read |
//! | [`photos`] | field photos: type by content, decode within pixel limits, EXIF time and place, metadata-free copy and thumbnail (no HTTP, no SQL) |
//! | [`store`] | SQLite or PostgreSQL/PostGIS (`store::pg`): every site with every version, accounts and tokens, audit trail, migrations; the `SiteStore` trait |
//! | [`update`] | the write path's one owner: check, commit, publish, announce; the map as of a past instant |
//! | [`follow`] | on a shared store (PostgreSQL), applies other instances' changes as they are notified |
//! | [`tiles`] | tile grid math, clipping, MVT encoding |
//! | [`features`] | GeoJSON features and OGC API collections |
//! | [`queryables`] | typed fields of each collection: JSON Schema, queryables |
//! | [`temporal`] | RFC 3339 instants and intervals of OGC `datetime` |
//! | [`filter_cql`] | CQL2 filters (text and JSON), checked and evaluated in memory |
//! | [`nearest`] | pocket parks nearest a point, by geodesic distance |
//! | [`progress`] | progress figures against the plan |
//! | [`access`] | park access of the compounds by three methods; which planned park helps most |
//! | [`walk`] | pedestrian network (streets noded, gates of compounds and parks) and shortest walks |
//! | [`crs`] | GCJ-02 / BD-09 ↔ WGS84 conversions (pure) |
//! | [`export`] | offline: site lists (CSV, XLSX ledger, GeoJSON), PMTiles and MBTiles |
//! | [`import`] | offline: sites (GeoJSON, CSV, XLSX; WGS84, GCJ-02, BD-09) into a store; base layers from an OSM PBF |
//! | [`timeline`] | completed sites over time against the plan's finish dates |
//! | [`http`] | axum router, handlers, the one error → response mapping |
//! | [`telemetry`] | log set-up: `RUST_LOG`, text or JSON lines, colour only on a terminal |
//!
//! Dependencies point one way: `model` ← `load`, `store`, `index` ← `snapshot` ← `tiles`,
//! `features`, `nearest`, `progress`, `timeline`, `walk` ← `access` ← `http`.

pub mod access;
pub mod config;
pub mod crs;
pub mod draft;
pub mod export;
pub mod features;
pub mod filter_cql;
pub mod follow;
pub mod generate;
pub mod http;
pub mod index;
pub mod load;
pub mod mercator;
pub mod model;
pub mod nearest;
pub mod photos;
pub mod progress;
pub mod queryables;
pub mod snapshot;
pub mod store;
pub mod telemetry;
pub mod temporal;
pub mod tiles;
pub mod timeline;
pub mod update;
pub mod walk;

pub use http::{AppState, app};
pub mod import;
