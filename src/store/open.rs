//! Which store a `--db` flag names and opening it, the one choice `serve`, the `token`
//! commands, `import sites` and `export` share: a SQLite file (the default,
//! `<data>/renewal.sqlite`) or a PostgreSQL/PostGIS database (`postgres://…`), behind the
//! [`SiteStore`] trait so the callers do not know which.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::pg::{self, PgStore};
use super::{OpenMode, ServeLock, SiteStore, Store, StoreError, default_path, fault};
use crate::model::Site;

/// Where a store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file, and whether opening it may create it.
    File {
        /// The file.
        path: PathBuf,
        /// Create it when missing, or refuse.
        mode: OpenMode,
    },
    /// A PostgreSQL database shared by several instances (migrated and seeded on first use).
    Postgres {
        /// `postgres://user:pass@host:port/dbname`.
        url: String,
    },
}

/// An open store, with the SQLite serve lock when one was asked for.
pub struct OpenedStore {
    /// The store.
    pub store: Arc<dyn SiteStore>,
    /// Held while the caller runs (SQLite only): no `serve` or import writes behind it.
    pub lock: Option<ServeLock>,
}

impl StoreLocation {
    /// The store `db` names: a `postgres://` / `postgresql://` URL, or a file; without `db`,
    /// the data set's default file, created when missing. A named file is created only with
    /// `create`.
    ///
    /// # Examples
    /// ```
    /// use std::path::Path;
    /// use renewal_map::store::{OpenMode, StoreLocation};
    /// let data = Path::new("data/huanggu");
    /// assert_eq!(
    ///     StoreLocation::from_flag(Some(Path::new("postgres://u@h/db")), data, false),
    ///     StoreLocation::Postgres { url: "postgres://u@h/db".into() }
    /// );
    /// assert_eq!(
    ///     StoreLocation::from_flag(None, data, false),
    ///     StoreLocation::File {
    ///         path: data.join("renewal.sqlite"),
    ///         mode: OpenMode::CreateIfMissing
    ///     }
    /// );
    /// ```
    pub fn from_flag(db: Option<&Path>, data_dir: &Path, create: bool) -> StoreLocation {
        match db {
            Some(p) => match p.to_str().filter(|s| pg::is_url(s)) {
                Some(url) => StoreLocation::Postgres {
                    url: url.to_owned(),
                },
                None => StoreLocation::File {
                    path: p.to_owned(),
                    mode: if create {
                        OpenMode::CreateIfMissing
                    } else {
                        OpenMode::MustExist
                    },
                },
            },
            None => StoreLocation::File {
                path: default_path(data_dir),
                mode: OpenMode::CreateIfMissing,
            },
        }
    }

    /// The same location, refusing to create a SQLite file that does not exist.
    pub fn must_exist(self) -> StoreLocation {
        match self {
            StoreLocation::File { path, .. } => StoreLocation::File {
                path,
                mode: OpenMode::MustExist,
            },
            pg => pg,
        }
    }

    /// The SQLite file, if it is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            StoreLocation::File { path, .. } => Some(path),
            StoreLocation::Postgres { .. } => None,
        }
    }

    /// Opens the store, migrating it and adding every site of `sites` it does not know. With
    /// `lock`, a SQLite file is opened under its serve lock (taken before the file is opened,
    /// so two first starts cannot both create it, and then held on the database by identity
    /// too); a PostgreSQL store is made for several processes and takes none.
    pub fn open(&self, sites: &[Site], lock: bool) -> Result<OpenedStore, StoreError> {
        match self {
            StoreLocation::Postgres { url } => Ok(OpenedStore {
                store: Arc::new(PgStore::open(url, sites)?),
                lock: None,
            }),
            StoreLocation::File { path, mode } => {
                let mut held = lock.then(|| ServeLock::acquire(path, *mode)).transpose()?;
                let store = Store::open(path, sites, *mode).map_err(|e| {
                    match fault::classify(&e, path) {
                        // Seeding or migrating on a full disk: say so, whatever SQLite's code was.
                        Some(fault::StorageFault::Full) => StoreError::NoSpace(path.clone()),
                        _ => e,
                    }
                })?;
                if let Some(held) = held.as_mut() {
                    held.hold_database(path)?;
                }
                Ok(OpenedStore {
                    store: Arc::new(store),
                    lock: held,
                })
            }
        }
    }

    /// Where the store is, for messages (a URL without its password).
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::File { path, .. } => path.display().to_string(),
            StoreLocation::Postgres { url } => pg::redacted(url),
        }
    }
}
