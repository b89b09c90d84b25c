//! Exports of a data set for reports, CDNs and GIS: site lists as CSV, GeoJSON and an Excel
//! problem ledger ([`sites`]), and every tile as one PMTiles or MBTiles file ([`tiles`]).
//!
//! An offline tool beside the request path: it reads snapshots and uses the encoders, and the
//! HTTP layer calls only [`sites`] (the `/api/export/…` routes). The MBTiles file is written
//! by `store::mbtiles`, since only `store` knows SQLite.

pub mod cli;
pub mod sites;
pub mod tiles;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the output failed.
    #[error("cannot write the export: {0}")]
    Write(String),
    /// The XLSX writer failed.
    #[error("cannot build the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The CSV writer failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A tile could not be encoded.
    #[error(transparent)]
    Encode(#[from] crate::tiles::encode::EncodeError),
    /// The PMTiles writer failed.
    #[error("{file}: cannot write PMTiles: {message}")]
    Pmtiles {
        /// The output file.
        file: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The MBTiles writer failed.
    #[error(transparent)]
    Mbtiles(#[from] crate::store::mbtiles::MbtilesError),
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
}
