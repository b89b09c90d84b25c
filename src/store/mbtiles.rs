//! An MBTiles 1.3 file writer: the `metadata` and `tiles` tables of the spec, in one SQLite
//! transaction, so a failed export leaves no half-written tileset. Rows are TMS (`tile_row`
//! counts from the south), as the spec says.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

/// Why an MBTiles file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{file}: cannot write MBTiles: {source}")]
pub struct MbtilesError {
    /// The file.
    pub file: PathBuf,
    /// The SQLite error.
    pub source: rusqlite::Error,
}

/// Writes one MBTiles file; tiles are added inside a transaction that [`finish`](Self::finish)
/// commits.
pub struct MbtilesWriter {
    conn: Connection,
    file: PathBuf,
}

impl MbtilesWriter {
    /// Creates the file (which must not exist) with the spec's schema and opens a transaction.
    pub fn create(file: &Path) -> Result<MbtilesWriter, MbtilesError> {
        let err = |source| MbtilesError {
            file: file.to_owned(),
            source,
        };
        let conn = Connection::open(file).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE metadata (name TEXT NOT NULL, value TEXT);
             CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL,
                                 tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL);
             CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
             BEGIN;",
        )
        .map_err(err)?;
        Ok(MbtilesWriter {
            conn,
            file: file.to_owned(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> MbtilesError {
        MbtilesError {
            file: self.file.clone(),
            source,
        }
    }

    /// Adds the tile `z/x/y` (XYZ numbering, converted to TMS rows here).
    pub fn add_tile(&mut self, z: u8, x: u32, y: u32, data: &[u8]) -> Result<(), MbtilesError> {
        let row = (1u64 << z) - 1 - u64::from(y);
        self.conn
            .prepare_cached("INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![z, x, row as i64, data]))
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Writes the metadata pairs and commits.
    pub fn finish(self, metadata: &[(&str, String)]) -> Result<(), MbtilesError> {
        for (name, value) in metadata {
            self.conn
                .execute("INSERT INTO metadata VALUES (?1, ?2)", params![name, value])
                .map_err(|e| self.err(e))?;
        }
        self.conn.execute_batch("COMMIT;").map_err(|e| self.err(e))
    }
}
