//! The durable store: a SQLite file (rusqlite, bundled SQLite) holding every site (geometry
//! and attributes, as the current feature and every version of it), the accounts that may
//! write, and the audit trail of every change.
//!
//! The store is the system of record for sites: it is seeded from the data set's
//! `sites.geojson` on first start and from then on only new ids are taken from the file (see
//! docs/living-map.md); base layers and the plan stay in the data set. Opened in WAL mode with
//! `synchronous=FULL` (a change acknowledged is a change on disk) and foreign keys on, each
//! checked after it is set. Writes take one connection behind a mutex and run in
//! `BEGIN IMMEDIATE` transactions; reads (history, tokens) use a second connection, so they
//! never wait for a writer's fsync. The only module that knows rusqlite; depends on `model`.
//!
//! The store also keeps the *published* change seq: the newest change whose state the service
//! has made visible (swapped into its snapshot). History and the changes feed stop there, so
//! a client that sees a change in the feed finds it on the map too. One `serve` per database:
//! [`ServeLock`] (in `lock.rs`) locks the database file itself for the life of the process.

mod accounts;
mod backend;
pub mod fault;
mod history;
pub mod lock;
pub mod mbtiles;
mod open;
pub mod pg;
mod photos;
mod schema;
mod sites;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::model::{Account, RenewalStatus, Site};

pub use accounts::{AccountEntry, NewAccount, TOKEN_PREFIX, token_looks_valid};
pub use backend::SiteStore;
pub use history::{Change, FeedEntry};
pub use lock::ServeLock;
pub use open::{OpenedStore, StoreLocation};
pub use photos::{NewPhoto, PhotoAdded, PhotoRecord, PhotoVariant};
pub use sites::{ChangeKind, Commit, StoredSite};

/// File name of the store inside the data directory, when no path is given.
pub const DEFAULT_FILE: &str = "renewal.sqlite";

/// How long a writer waits for another writer (another process, e.g. `token add` while the
/// service runs) before giving up. Long, so that contention is a wait and never an error.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the store could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file does not exist and may not be created here.
    #[error(
        "database {0} does not exist (start without --db to create it in the data directory, or pass --init-db)"
    )]
    Missing(PathBuf),
    /// A write-ahead log exists without its database: the database was moved or deleted.
    #[error(
        "database {0} is missing but its write-ahead log {0}-wal exists; restore the database file instead of starting empty"
    )]
    OrphanWal(PathBuf),
    /// The file (or its directory) cannot be written.
    #[error("database {0} is read-only; the service needs to write status changes")]
    ReadOnly(PathBuf),
    /// The disk holding the store is full; the store itself may be sound.
    #[error(
        "database {0}: no space left on the disk holding it; free some space and start again (the store is not damaged by this)"
    )]
    NoSpace(PathBuf),
    /// The file is not a SQLite database, or fails its integrity check.
    #[error("database {path} is corrupt or not a renewal-map store: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// The file was written by a newer build.
    #[error("database {path} has schema version {found}; this build knows up to {known}")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A required setting (WAL, synchronous, foreign keys) did not take effect.
    #[error("database {path}: {setting} could not be set (got {got})")]
    Setting {
        /// The file.
        path: PathBuf,
        /// The pragma.
        setting: &'static str,
        /// What SQLite reported.
        got: String,
    },
    /// The site's version is not the one the write was based on.
    #[error("site {site} is at version {current}, not {expected}")]
    VersionConflict {
        /// The site.
        site: String,
        /// The version the writer expected.
        expected: u64,
        /// The version in the store.
        current: u64,
    },
    /// The account that asked for the write was revoked before the write could commit.
    #[error("the token of account {0} was revoked")]
    Revoked(i64),
    /// The site is no longer in the assignment of the account that asked for the write.
    #[error("site {site} is not in the assignment of account {account}")]
    NotAssigned {
        /// The account.
        account: i64,
        /// The site.
        site: String,
    },
    /// Another process serves this database.
    #[error(
        "database {0} is already served by another renewal-map process (it holds {0}.lock or the database file, through this or another path to it); stop it first, or pass another --db"
    )]
    Locked(PathBuf),
    /// A site with this id exists already (live or retired).
    #[error("a site with id {0:?} exists already")]
    IdTaken(String),
    /// A site holds the most photos it may.
    #[error("site {site} holds {max} photos, the most a site may")]
    PhotoLimit {
        /// The site.
        site: String,
        /// The limit.
        max: usize,
    },
    /// The same bytes were uploaded as evidence for another site.
    #[error("photo {id} was uploaded for site {site}")]
    PhotoOnOtherSite {
        /// The photo.
        id: String,
        /// The site it belongs to.
        site: String,
    },
    /// A change names a photo that is not one of its site's.
    #[error("site {site} has no photo {id}")]
    UnknownPhoto {
        /// The photo id named.
        id: String,
        /// The site of the change.
        site: String,
    },
    /// A change names a photo attached to another change already.
    #[error("photo {id} is attached to change {seq} already")]
    PhotoAttached {
        /// The photo.
        id: String,
        /// The change it is attached to.
        seq: i64,
    },
    /// Another commit (on another instance or connection of a shared store) used this
    /// account's idempotency key first; nothing was written by this one. Carries the change
    /// that commit made, so the caller can answer as a replay.
    #[error("idempotency key used by change {} already", .0.seq)]
    KeyUsed(Replay),
    /// No account has this name or id.
    #[error("no account named {0:?}")]
    UnknownAccount(String),
    /// An account with this name exists already.
    #[error("an account named {0:?} exists already")]
    DuplicateAccount(String),
    /// A stored value does not parse.
    #[error("database holds an invalid {what}: {value:?}")]
    BadValue {
        /// Which column.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The operating system's random source failed.
    #[error("cannot read random bytes for a token: {0}")]
    Random(std::io::Error),
    /// File-system failure around creating the store.
    #[error("database {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Any other SQLite failure.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL database cannot be reached now (down, restarting, connection lost);
    /// what was being written was not committed, unless the connection broke during `COMMIT`.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    /// A `postgres://` URL that does not parse.
    #[error("database URL {url} is not valid: {detail}")]
    BadUrl {
        /// The URL, password hidden.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Any other PostgreSQL failure.
    #[error("database error: {0}")]
    Postgres(postgres::Error),
}

/// Whether `open` may create a missing database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create and seed it from the data set when the file does not exist.
    CreateIfMissing,
    /// Fail with [`StoreError::Missing`] when the file does not exist.
    MustExist,
}

/// A handle on the store; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// The newest change seq the service has published (see the module docs).
    published: AtomicI64,
    /// How many callers wait for the writer right now.
    waiting: std::sync::atomic::AtomicUsize,
    /// The highest numeric feature id handed out by [`Store::next_fid`] (`None` until the first
    /// call reads it from the stored features). In memory is exact: one process serves a store
    /// ([`ServeLock`]), and every create runs under the write service's lock.
    fid_high: Mutex<Option<u64>>,
}

/// The settings SQLite reports on one connection of the store, as read back by
/// [`Store::pragmas`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pragmas {
    /// `PRAGMA journal_mode` (`"wal"`).
    pub journal_mode: String,
    /// `PRAGMA synchronous` (`2`, FULL).
    pub synchronous: i64,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// The store's path for a data directory: `<data_dir>/renewal.sqlite`.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DEFAULT_FILE)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection's lock leaves no open transaction behind (rusqlite
    // rolls back on drop), so the connection is still sound; the fid mark is a plain number.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Store {
    /// Opens (or, per `mode`, creates) the store at `path`, checks it, migrates it, and adds a
    /// row for every site of `sites` it does not know yet.
    pub fn open(path: &Path, sites: &[Site], mode: OpenMode) -> Result<Store, StoreError> {
        if !path.exists() {
            let wal = with_suffix(path, "-wal");
            if wal.exists() {
                return Err(StoreError::OrphanWal(path.to_owned()));
            }
            if mode == OpenMode::MustExist {
                return Err(StoreError::Missing(path.to_owned()));
            }
            create(path, sites)?;
        }
        let meta = std::fs::metadata(path).map_err(|source| StoreError::Io {
            path: path.to_owned(),
            source,
        })?;
        if !meta.is_file() || meta.len() == 0 {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: "not a regular, non-empty file".into(),
            });
        }
        if meta.permissions().readonly() {
            return Err(StoreError::ReadOnly(path.to_owned()));
        }
        let mut writer = connect(path)?;
        migrate(path, &mut writer)?;
        sites::seed(&mut writer, sites, false)?;
        let reader = connect(path)?;
        let published = latest_seq(&writer, None)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                reader: Mutex::new(reader),
                published: AtomicI64::new(published),
                waiting: std::sync::atomic::AtomicUsize::new(0),
                fid_high: Mutex::new(None),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Replaces each site's changeable fields with the store's current state.
    pub fn overlay(&self, sites: &mut [Site]) -> Result<(), StoreError> {
        let conn = lock(&self.inner.reader);
        for site in sites.iter_mut() {
            read_state(&conn, site)?;
        }
        Ok(())
    }

    /// Takes the writer connection; holding it serializes writers (see [`Writer`]).
    pub fn writer(&self) -> Writer<'_> {
        self.inner.waiting.fetch_add(1, Ordering::AcqRel);
        let conn = lock(&self.inner.writer);
        self.inner.waiting.fetch_sub(1, Ordering::AcqRel);
        Writer {
            conn,
            published: &self.inner.published,
        }
    }

    /// Marks every change up to `seq` as published, without taking the writer: for a caller
    /// that serializes its writes itself (the write service).
    pub(crate) fn writer_free_publish(&self, seq: i64) {
        self.inner.published.fetch_max(seq, Ordering::AcqRel);
    }

    /// How many callers are waiting for the writer at this moment; lets a test see that a
    /// request has reached the writer without sleeping.
    pub fn writers_waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::Acquire)
    }

    /// The newest change seq the service has published: history and the feed stop there.
    /// At open, the newest change in the file; then advanced by [`Writer::publish`].
    pub fn published_seq(&self) -> i64 {
        self.inner.published.load(Ordering::Acquire)
    }

    /// The journal mode, synchronous level and foreign-key setting of the writer and the
    /// reader connection, in that order, as SQLite reports them; for checks and tests.
    pub fn pragmas(&self) -> Result<[Pragmas; 2], StoreError> {
        let read = |conn: &Connection| -> Result<Pragmas, StoreError> {
            Ok(Pragmas {
                journal_mode: conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                synchronous: conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                foreign_keys: conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
            })
        };
        let writer = read(&lock(&self.inner.writer))?;
        let reader = read(&lock(&self.inner.reader))?;
        Ok([writer, reader])
    }

    /// `PRAGMA integrity_check`: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let conn = lock(&self.inner.reader);
        Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    fn read(&self) -> MutexGuard<'_, Connection> {
        lock(&self.inner.reader)
    }
}

/// The one writer. While a `Writer` lives no other write can start, so a caller can check a
/// version, commit, and publish the result (swap a snapshot) without another writer in between.
pub struct Writer<'a> {
    conn: MutexGuard<'a, Connection>,
    published: &'a AtomicI64,
}

/// What a change records besides the site's before and after states.
#[derive(Debug, Clone, Copy)]
pub struct ChangeContext<'a> {
    /// Who made it.
    pub actor: &'a Account,
    /// The note given with the change, if any.
    pub note: Option<&'a str>,
    /// The reason given, if any.
    pub reason: Option<&'a str>,
    /// The client's `Idempotency-Key` and the request it came with, if one was sent.
    pub idempotency: Option<Idempotency<'a>>,
}

/// A client's idempotency key and a fingerprint of the request it was sent with (the body).
#[derive(Debug, Clone, Copy)]
pub struct Idempotency<'a> {
    /// The key, as the client sent it.
    pub key: &'a str,
    /// What the request asked for; a repeat with another request is refused.
    pub request: &'a str,
}

/// The change an idempotency key made before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The change's seq.
    pub seq: i64,
    /// The site it changed.
    pub site_id: String,
    /// The version it wrote.
    pub version: u64,
    /// The request it was made with.
    pub request: String,
}

impl Writer<'_> {
    /// Writes `after` as the site's state, if the store still holds `before.version`, and
    /// appends the audit row, in one `BEGIN IMMEDIATE` transaction. Returns the change's seq.
    ///
    /// Inside the transaction it checks again that the actor's token is not revoked
    /// ([`StoreError::Revoked`]) and that the site is still in its assignment
    /// ([`StoreError::NotAssigned`]): a `token revoke` committed after the request was
    /// authenticated still stops the write.
    pub fn record(
        &mut self,
        before: &Site,
        after: &Site,
        ctx: ChangeContext<'_>,
    ) -> Result<i64, StoreError> {
        self.commit(&Commit {
            kind: ChangeKind::Updated,
            before: Some(before),
            after,
            ctx,
            bbox: None,
            generation: None,
            photos: &[],
            position: None,
        })
    }

    /// Marks every change up to `seq` as published: call after the state it wrote is visible
    /// to readers (the snapshot swap), while still holding the writer.
    pub fn publish(&self, seq: i64) {
        self.published.fetch_max(seq, Ordering::AcqRel);
    }

    /// `site` with its changeable fields as the store holds them now, and the seq of the
    /// site's newest change (0 if none): for republishing a site whose stored version differs
    /// from the one the caller had.
    pub fn reload(&self, site: &Site) -> Result<(Site, i64), StoreError> {
        match self.stored(site.id.as_str())? {
            Some(s) => Ok((s.site, s.seq)),
            None => {
                let mut fresh = site.clone();
                read_state(&self.conn, &mut fresh)?;
                let seq = latest_seq(&self.conn, Some(site.id.as_str()))?;
                Ok((fresh, seq))
            }
        }
    }
}

/// The newest change seq, of one site or of all; 0 when there is none.
fn latest_seq(conn: &Connection, site: Option<&str>) -> Result<i64, StoreError> {
    Ok(match site {
        Some(id) => conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM change WHERE site_id = ?1",
            [id],
            |r| r.get(0),
        )?,
        None => conn.query_row("SELECT coalesce(max(seq), 0) FROM change", [], |r| r.get(0))?,
    })
}

/// Overwrites `site`'s changeable fields with its row, if the store has one.
fn read_state(conn: &Connection, site: &mut Site) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT status, progress, note, planned_start, planned_finish, investment_wan, version, updated_at
         FROM site_state WHERE site_id = ?1",
    )?;
    let row = stmt
        .query_row([site.id.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, f64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .optional()?;
    let Some((status, progress, note, start, finish, investment, version, updated)) = row else {
        return Ok(());
    };
    site.status = parse_status(&status)?;
    site.progress = u8::try_from(progress).map_err(|_| StoreError::BadValue {
        what: "progress",
        value: progress.to_string(),
    })?;
    site.note = note;
    site.planned_start = parse(&start, "planned_start")?;
    site.planned_finish = parse(&finish, "planned_finish")?;
    site.investment_wan = investment;
    site.version = version as u64;
    site.updated_at = parse(&updated, "updated_at")?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Builds a fresh store beside `path` and renames it into place, so that an interrupted
/// first start never leaves an empty or half-seeded file that a later start would trust.
fn create(path: &Path, sites: &[Site]) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = with_suffix(path, ".creating");
    for stale in [
        tmp.clone(),
        with_suffix(&tmp, "-wal"),
        with_suffix(&tmp, "-shm"),
        with_suffix(&tmp, "-journal"),
    ] {
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(io)?;
        }
    }
    lock::create_private(&tmp).map_err(io)?;
    {
        let mut conn = Connection::open(&tmp)?;
        // The new file is built with a rollback journal and switched to WAL on the real open.
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&tmp, &mut conn)?;
        sites::seed(&mut conn, sites, true)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    tracing::info!(
        "created store {} with {} sites from the data set",
        path.display(),
        sites.len()
    );
    Ok(())
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let corrupt = |e: rusqlite::Error| {
        let detail = e.to_string();
        fault::open_error(
            path,
            &e,
            StoreError::Corrupt {
                path: path.to_owned(),
                detail,
            },
        )
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen) => {
            StoreError::ReadOnly(path.to_owned())
        }
        _ => corrupt(e),
    })?;
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::ReadOnly(path.to_owned()));
    }
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen) => {
                StoreError::ReadOnly(path.to_owned())
            }
            _ => corrupt(e),
        })?;
    check_setting(path, "journal_mode=WAL", &mode, "wal")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    check_setting(path, "synchronous=FULL", &sync.to_string(), "2")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    check_setting(path, "foreign_keys=ON", &fk.to_string(), "1")?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(corrupt)?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            detail: check,
        });
    }
    Ok(conn)
}

fn check_setting(
    path: &Path,
    setting: &'static str,
    got: &str,
    want: &str,
) -> Result<(), StoreError> {
    if got.eq_ignore_ascii_case(want) {
        Ok(())
    } else {
        Err(StoreError::Setting {
            path: path.to_owned(),
            setting,
            got: got.to_owned(),
        })
    }
}

fn migrate(path: &Path, conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::Corrupt {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if found > schema::LATEST {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            known: schema::LATEST,
        });
    }
    if found == 0 {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if tables > 0 {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: "a SQLite database with tables but no renewal-map schema version".into(),
            });
        }
    }
    for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn parse_status(s: &str) -> Result<RenewalStatus, StoreError> {
    s.parse().map_err(|_| StoreError::BadValue {
        what: "status",
        value: s.to_owned(),
    })
}

fn parse<T: std::str::FromStr>(s: &str, what: &'static str) -> Result<T, StoreError> {
    s.parse().map_err(|_| StoreError::BadValue {
        what,
        value: s.to_owned(),
    })
}
