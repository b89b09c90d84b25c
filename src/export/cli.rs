//! The `renewal-map export …` commands: site lists and tile archives from a data set
//! directory (with the store's current state laid over it, as the service would serve it),
//! and the progress meter that imports share.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use super::sites::{self, Lang};
use super::tiles::{self, DEFAULT_ATTRIBUTION, DEFAULT_MAX_ZOOM, DEFAULT_MIN_ZOOM, TileExport};
use crate::model::{Date, RenewalKind, RenewalStatus, SiteFilter};
use crate::snapshot::Snapshot;
use crate::store::StoreLocation;

/// Output format of `export sites`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SitesFormat {
    /// UTF-8 CSV, the ledger's columns.
    Csv,
    /// Excel workbook: 问题台账 ledger and summary sheet.
    Xlsx,
    /// GeoJSON FeatureCollection, every field.
    Geojson,
}

/// Where the data set and its store are.
#[derive(Debug, Clone, clap::Args)]
pub struct Source {
    /// Data set directory.
    #[arg(long, default_value = crate::config::DEFAULT_DATA_DIR)]
    pub data: PathBuf,
    /// Store whose current state is exported: a SQLite file [default:
    /// <data>/renewal.sqlite when it exists] or a PostgreSQL database
    /// `postgres://user:pass@host:port/dbname` (as for `serve`).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Fixed date (YYYY-MM-DD) lateness is measured against, instead of today's.
    #[arg(long)]
    pub today: Option<Date>,
}

/// `renewal-map export …`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// All sites (no page cap) as CSV, XLSX (问题台账) or GeoJSON.
    Sites {
        /// csv, xlsx or geojson.
        #[arg(long)]
        format: SitesFormat,
        /// Output file [default: standard output].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Header language: zh (default) or en.
        #[arg(long, default_value = "zh")]
        lang: Lang,
        /// Only these statuses (comma list).
        #[arg(long, value_delimiter = ',')]
        status: Vec<RenewalStatus>,
        /// Only these kinds (comma list).
        #[arg(long, value_delimiter = ',')]
        kind: Vec<RenewalKind>,
        /// Only this sub-district (code or name).
        #[arg(long)]
        subdistrict: Option<String>,
        /// Only late sites.
        #[arg(long)]
        late: bool,
        #[command(flatten)]
        source: Source,
    },
    /// Every non-empty tile as one PMTiles v3 archive.
    Pmtiles(TileArgs),
    /// Every non-empty tile as one MBTiles 1.3 file.
    Mbtiles(TileArgs),
}

/// Options of the tile exports.
#[derive(Debug, clap::Args)]
pub struct TileArgs {
    /// Output file (replaced when the export completes).
    #[arg(long)]
    pub out: PathBuf,
    /// Lowest zoom.
    #[arg(long, default_value_t = DEFAULT_MIN_ZOOM)]
    pub minzoom: u8,
    /// Highest zoom.
    #[arg(long, default_value_t = DEFAULT_MAX_ZOOM)]
    pub maxzoom: u8,
    #[command(flatten)]
    pub source: Source,
}

/// Loads the data set of `source` with the sites as its store holds them (what `serve`
/// would show): the data file's sites alone when no store is named and the default file does
/// not exist.
pub fn load_snapshot(source: &Source) -> Result<Snapshot, String> {
    let mut dataset = crate::load::load_dataset(&source.data).map_err(|e| e.to_string())?;
    let location = StoreLocation::from_flag(source.db.as_deref(), &source.data, false);
    let location = location.must_exist();
    if source.db.is_some() || location.file().is_some_and(Path::exists) {
        let opened = location
            .open(&dataset.sites, false)
            .map_err(|e| e.to_string())?;
        dataset.sites = opened.store.sites().map_err(|e| e.to_string())?;
    }
    Ok(Snapshot::build(dataset))
}

/// The attribution a data set's `manifest.json` names, or the default.
pub fn attribution(data: &Path) -> String {
    std::fs::read_to_string(data.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| {
            // An import's credit sits with the provenance; older manifests had it on top.
            let a = m
                .pointer("/provenance/attribution")
                .or_else(|| m.get("attribution"));
            a?.as_str().map(str::to_owned)
        })
        .unwrap_or_else(|| DEFAULT_ATTRIBUTION.to_owned())
}

/// Runs an export command; messages go to stderr, data to `--out` or stdout.
pub fn run(command: ExportCommand) -> Result<(), String> {
    match command {
        ExportCommand::Sites {
            format,
            out,
            lang,
            status,
            kind,
            subdistrict,
            late,
            source,
        } => {
            let snap = load_snapshot(&source)?;
            let today = source.today.unwrap_or_else(Date::today);
            if let Some(d) = &subdistrict
                && !snap
                    .fixed
                    .subdistricts
                    .iter()
                    .any(|s| &s.code == d || &s.name == d)
            {
                return Err(format!("unknown sub-district {d:?}"));
            }
            let filter = SiteFilter {
                statuses: (!status.is_empty()).then_some(status),
                kinds: (!kind.is_empty()).then_some(kind),
                subdistrict,
                late_as_of: late.then_some(today),
                fids: None,
            };
            let selected = sites::select(&snap, &filter);
            let bytes = match format {
                SitesFormat::Csv => {
                    let mut buf = Vec::new();
                    sites::write_csv(&selected, today, lang, &mut buf)
                        .map_err(|e| e.to_string())?;
                    buf
                }
                SitesFormat::Geojson => {
                    let mut buf = Vec::new();
                    sites::write_geojson(&selected, today, &mut buf).map_err(|e| e.to_string())?;
                    buf
                }
                SitesFormat::Xlsx => {
                    sites::xlsx(&snap, &selected, today, lang).map_err(|e| e.to_string())?
                }
            };
            match out {
                Some(path) => {
                    write_replacing(&path, &bytes)?;
                    eprintln!("wrote {} sites to {}", selected.len(), path.display());
                }
                None => std::io::stdout()
                    .write_all(&bytes)
                    .map_err(|e| format!("cannot write to standard output: {e}"))?,
            }
            Ok(())
        }
        ExportCommand::Pmtiles(args) => export_tiles(args, true),
        ExportCommand::Mbtiles(args) => export_tiles(args, false),
    }
}

fn export_tiles(args: TileArgs, pmtiles: bool) -> Result<(), String> {
    let started = std::time::Instant::now();
    let snap = load_snapshot(&args.source)?;
    let opts = TileExport {
        min_zoom: args.minzoom,
        max_zoom: args.maxzoom,
        today: args.source.today.unwrap_or_else(Date::today),
        attribution: attribution(&args.source.data),
    };
    let total = tiles::count_candidates(&snap, &opts);
    let mut meter = Meter::new("tiles", total);
    let result = if pmtiles {
        tiles::write_pmtiles(&snap, &opts, &args.out, || meter.tick())
    } else {
        tiles::write_mbtiles(&snap, &opts, &args.out, || meter.tick())
    };
    let summary = result.map_err(|e| e.to_string())?;
    meter.finish();
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wrote {} non-empty tiles of {} looked at (z{}–{}) to {}: {} bytes, {:.1?}",
        summary.tiles,
        summary.candidates,
        opts.min_zoom,
        opts.max_zoom,
        args.out.display(),
        size,
        started.elapsed()
    );
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut part = path.as_os_str().to_owned();
    part.push(".partial");
    let part = PathBuf::from(part);
    std::fs::write(&part, bytes).map_err(|e| format!("{}: cannot write: {e}", part.display()))?;
    std::fs::rename(&part, path).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Progress of a long import or export: a bar on a terminal (indicatif), a plain line every
/// 10 % otherwise (logs, CI), on stderr.
pub struct Meter {
    bar: Option<indicatif::ProgressBar>,
    label: &'static str,
    total: u64,
    done: u64,
    next_report: u64,
}

impl Meter {
    /// A meter for `total` steps.
    pub fn new(label: &'static str, total: u64) -> Meter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} ({elapsed}, eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label);
            bar
        });
        Meter {
            bar,
            label,
            total,
            done: 0,
            next_report: total / 10,
        }
    }

    /// One step done.
    pub fn tick(&mut self) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None if self.total >= 10 && self.done >= self.next_report.max(1) => {
                eprintln!(
                    "{}: {}% ({}/{})",
                    self.label,
                    self.done * 100 / self.total,
                    self.done,
                    self.total
                );
                self.next_report += self.total / 10;
            }
            None => {}
        }
    }

    /// All steps done.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
