//! Storage trouble, told apart from damage: a full disk or a read-only store is a condition of
//! the machine, not of the data, and the service says so instead of "internal error" or
//! "corrupt".
//!
//! [`classify`] reads a failed store operation (rusqlite's error codes: `SQLITE_FULL`,
//! `SQLITE_READONLY`, `SQLITE_IOERR_*`, `SQLITE_CANTOPEN`); [`probe`] looks at the store's file
//! system now (free space and read-only flag by `statvfs`, write access by `access`), for
//! `/health` and for start-up errors, where SQLite's code alone is ambiguous (an I/O error
//! while opening on a full disk is not corruption). A write that fails either way was rolled
//! back by SQLite: nothing of it was stored.

use std::path::Path;

use super::StoreError;

/// Below this much free space on the store's file system, the store counts as full (a
/// change with its audit row and WAL frames takes a few pages; 1 MiB leaves room for a
/// checkpoint too).
pub const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Why the store cannot take writes now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageFault {
    /// The disk holding the store is full.
    #[error("no space left on the disk holding the store")]
    Full,
    /// The store's file or file system is read-only.
    #[error("the store is read-only (its file or file system cannot be written)")]
    ReadOnly,
    /// The operating system reported an I/O error writing the store.
    #[error("the disk holding the store reported an I/O error")]
    Io,
    /// The database server (PostgreSQL) cannot be reached.
    #[error("the database cannot be reached")]
    Unreachable,
}

/// The storage fault behind a failed store operation on `db`, if it was one.
pub fn classify(e: &StoreError, db: &Path) -> Option<StorageFault> {
    match e {
        StoreError::ReadOnly(_) => Some(StorageFault::ReadOnly),
        StoreError::NoSpace(_) => Some(StorageFault::Full),
        StoreError::Io { source, .. } => from_io(source),
        StoreError::Sqlite(e) => from_sqlite(e, db),
        _ => None,
    }
}

/// The storage fault behind a rusqlite error on `db`, if it was one.
pub fn from_sqlite(e: &rusqlite::Error, db: &Path) -> Option<StorageFault> {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code()? {
        ErrorCode::DiskFull => Some(StorageFault::Full),
        ErrorCode::ReadOnly => Some(StorageFault::ReadOnly),
        // SQLite does not say which errno; the file system does.
        ErrorCode::SystemIoFailure | ErrorCode::CannotOpen => {
            Some(probe(db).unwrap_or(StorageFault::Io))
        }
        _ => None,
    }
}

fn from_io(e: &std::io::Error) -> Option<StorageFault> {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            Some(StorageFault::Full)
        }
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
            Some(StorageFault::ReadOnly)
        }
        _ => None,
    }
}

/// What is wrong with the file system of `db` now, if anything: mounted read-only, the file
/// not writable, or less than [`MIN_FREE_BYTES`] free. Errors of the probe itself count as
/// nothing wrong (the store's own errors will tell).
pub fn probe(db: &Path) -> Option<StorageFault> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stat = rustix::fs::statvfs(dir).ok()?;
    if stat.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) {
        return Some(StorageFault::ReadOnly);
    }
    if db.exists() && rustix::fs::access(db, rustix::fs::Access::WRITE_OK).is_err() {
        return Some(StorageFault::ReadOnly);
    }
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    (free < MIN_FREE_BYTES).then_some(StorageFault::Full)
}

/// The error to report when opening `db` failed with `e`: a storage fault if the file system
/// shows one (never "corrupt" for a store that only lacks room), else `otherwise`.
pub fn open_error(db: &Path, e: &rusqlite::Error, otherwise: StoreError) -> StoreError {
    match from_sqlite(e, db).or_else(|| probe(db)) {
        Some(StorageFault::Full) => StoreError::NoSpace(db.to_owned()),
        Some(StorageFault::ReadOnly) => StoreError::ReadOnly(db.to_owned()),
        Some(StorageFault::Io | StorageFault::Unreachable) | None => otherwise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_are_classified() {
        let db = Path::new("/nonexistent/renewal.sqlite");
        let err = |code| {
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("x".into()))
        };
        assert_eq!(
            from_sqlite(&err(rusqlite::ffi::SQLITE_FULL), db),
            Some(StorageFault::Full)
        );
        assert_eq!(
            from_sqlite(&err(rusqlite::ffi::SQLITE_READONLY), db),
            Some(StorageFault::ReadOnly)
        );
        assert_eq!(
            from_sqlite(&err(rusqlite::ffi::SQLITE_CONSTRAINT), db),
            None
        );
        assert_eq!(
            classify(&StoreError::ReadOnly(db.to_owned()), db),
            Some(StorageFault::ReadOnly)
        );
    }

    #[test]
    fn a_writable_temp_dir_has_no_fault() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(probe(&dir.path().join("renewal.sqlite")), None);
    }
}
