//! Importers: `renewal-map import sites` reads sites from GeoJSON, CSV or XLSX (WGS84, GCJ-02
//! or BD-09 coordinates) into a data set's store, through the write service, all or nothing.
//!
//! [`columns`] maps headers, [`sites`] reads and validates rows, [`plan`] compares them with
//! the store and writes them. `renewal-map import osm` ([`osm`]) writes a data set's base
//! layers from an OpenStreetMap PBF extract. Knows no HTTP and no database crate.

pub mod columns;
pub mod osm;
pub mod plan;
pub mod sites;

use std::path::PathBuf;

use clap::Subcommand;

use crate::crs::Datum;

/// `renewal-map import …`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Sites from GeoJSON, CSV or XLSX (the export's columns, Chinese or English headers;
    /// geometry as a WKT column or lon,lat columns) into a data set's store.
    Sites {
        /// The file to import (.geojson/.json, .csv, .xlsx).
        file: PathBuf,
        /// Data set directory whose store receives the sites.
        #[arg(long)]
        into: PathBuf,
        /// Store: a SQLite file [default: <into>/renewal.sqlite, created when missing] or a
        /// PostgreSQL database `postgres://user:pass@host:port/dbname` (as for `serve`).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Datum of the file's coordinates: wgs84, gcj02 or bd09.
        #[arg(long, default_value = "wgs84")]
        crs: String,
        /// Print what would change (created / updated / unchanged per id) and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Account name recorded as the actor of the changes (created as a planner account,
        /// with a token nobody is shown, if it does not exist).
        #[arg(long, default_value = "import")]
        actor: String,
    },
    /// Base layers (streets, green space, water, railways, optionally buildings) from an
    /// OpenStreetMap PBF extract into a data set directory (created when missing).
    Osm {
        /// The `.osm.pbf` file.
        file: PathBuf,
        /// Data set directory that receives the layers.
        #[arg(long)]
        into: PathBuf,
        /// Keep only what lies inside w,s,e,n (WGS84 degrees); features are clipped.
        #[arg(long, conflicts_with = "clip_to", allow_hyphen_values = true)]
        bbox: Option<String>,
        /// Keep only what lies inside the polygons of this GeoJSON file (e.g. DIR/district.geojson).
        #[arg(long)]
        clip_to: Option<PathBuf>,
        /// Also import buildings (`building=*`).
        #[arg(long)]
        buildings: bool,
    },
}

/// Runs an import command; the summary goes to stdout, progress and notes to stderr.
pub fn run(command: ImportCommand) -> Result<(), String> {
    match command {
        ImportCommand::Sites {
            file,
            into,
            db,
            crs,
            dry_run,
            actor,
        } => {
            let datum: Datum = crs.parse().map_err(|e| format!("--crs: {e}"))?;
            let read = sites::read_file(&file, datum)?;
            for n in &read.notes {
                eprintln!("{n}");
            }
            if !read.errors.is_empty() {
                return Err(format!(
                    "{} bad row(s), nothing written:\n{}",
                    read.errors.len(),
                    read.errors.join("\n")
                ));
            }
            let db = crate::store::StoreLocation::from_flag(db.as_deref(), &into, true);
            let report = plan::import(&file, &into, &db, read.sites, dry_run, &actor)?;
            print!("{report}");
            Ok(())
        }
        ImportCommand::Osm {
            file,
            into,
            bbox,
            clip_to,
            buildings,
        } => {
            let summary = osm::run(&osm::OsmImport {
                file,
                into,
                bbox,
                clip_to,
                buildings,
            })?;
            print!("{summary}");
            Ok(())
        }
    }
}
