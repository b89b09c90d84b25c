//! One `serve` per store, by the file's identity rather than the path it was named by, and
//! store files only their owner can open.
//!
//! [`ServeLock`] holds two exclusive advisory locks (`flock`, which SQLite's own `fcntl`
//! locks do not see, so the two never interfere):
//!
//! - on `<db>.lock` beside the path given, taken first, so that two first starts cannot both
//!   create the store (there is no database file to lock yet);
//! - on the database file itself, taken at once when it exists and by
//!   [`ServeLock::hold_database`] right after a first start created it. A lock on a file
//!   belongs to its inode, so a second `serve` through a hard link or a symlink finds the
//!   database locked and is refused with [`StoreError::Locked`], as a second start by the
//!   same path is.
//!
//! Both are released when the lock is dropped or the process dies (also by `kill -9`); the
//! lock file is left in place, since removing it would let two processes lock two different
//! files. Token commands take neither: they run beside a serving process.
//!
//! The lock file, the database and its `-wal`/`-shm` files are made `0600` whatever the umask
//! (by `fchmod`/`chmod` after creating), so no other local user can read the store or open
//! the lock file to hold it.

use std::fs::{File, OpenOptions, Permissions, TryLockError};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::{OpenMode, StoreError, with_suffix};

/// Mode of every file of the store: read and write for the owner only.
pub const PRIVATE_MODE: u32 = 0o600;

/// Exclusive locks held by `serve` for its lifetime (see the module docs).
#[derive(Debug)]
pub struct ServeLock {
    _lock_file: File,
    database: Option<File>,
}

impl ServeLock {
    /// Locks `<db>.lock` beside `db` and, when it exists, `db` itself; fails with
    /// [`StoreError::Locked`] when another process holds either. With [`OpenMode::MustExist`]
    /// and no database, fails with [`StoreError::Missing`] before creating anything.
    pub fn acquire(db: &Path, mode: OpenMode) -> Result<ServeLock, StoreError> {
        if mode == OpenMode::MustExist && !db.exists() {
            return Err(StoreError::Missing(db.to_owned()));
        }
        let path = with_suffix(db, ".lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(PRIVATE_MODE)
            .open(&path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    StoreError::ReadOnly(db.to_owned())
                }
                _ => StoreError::Io {
                    path: path.clone(),
                    source,
                },
            })?;
        exclusive(&file, db, &path)?;
        // An older lock file may be world-readable; tighten it now that it is ours.
        file.set_permissions(Permissions::from_mode(PRIVATE_MODE))
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        let mut lock = ServeLock {
            _lock_file: file,
            database: None,
        };
        if db.exists() {
            lock.hold_database(db)?;
        }
        Ok(lock)
    }

    /// Locks the database file itself (once it exists: call it after a first start created
    /// the store) and makes it and its `-wal`/`-shm` files `0600`. Does nothing when it is
    /// held already.
    pub fn hold_database(&mut self, db: &Path) -> Result<(), StoreError> {
        if self.database.is_some() {
            return Ok(());
        }
        let io = |source| StoreError::Io {
            path: db.to_owned(),
            source,
        };
        // Read-only is enough for `flock`; the store opens its own connections.
        let file = File::open(db).map_err(io)?;
        exclusive(&file, db, db)?;
        for path in [
            db.to_owned(),
            with_suffix(db, "-wal"),
            with_suffix(db, "-shm"),
        ] {
            make_private(&path).map_err(io)?;
        }
        self.database = Some(file);
        Ok(())
    }
}

/// Takes an exclusive `flock` on `file` (named `path`) for the store `db`.
fn exclusive(file: &File, db: &Path, path: &Path) -> Result<(), StoreError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(StoreError::Locked(db.to_owned())),
        Err(TryLockError::Error(source)) => Err(StoreError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Sets `path` to `0600` if it exists and is more open than that.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, Permissions::from_mode(PRIVATE_MODE))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates an empty `0600` file at `path` (it must not exist), whatever the umask; SQLite
/// then builds the store in it and gives its journal files the same mode.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(PRIVATE_MODE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_file(dir: &Path) -> std::path::PathBuf {
        let db = dir.join("renewal.sqlite");
        std::fs::write(&db, b"stand-in; only locked here").expect("write");
        db
    }

    #[test]
    fn a_hard_link_or_a_symlink_to_a_served_store_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = store_file(dir.path());
        let _held = ServeLock::acquire(&db, OpenMode::MustExist).expect("first lock");
        let hard = dir.path().join("hard.sqlite");
        std::fs::hard_link(&db, &hard).expect("hard link");
        let soft = dir.path().join("soft.sqlite");
        std::os::unix::fs::symlink(&db, &soft).expect("symlink");
        for other in [&db, &hard, &soft] {
            let err = ServeLock::acquire(other, OpenMode::MustExist).unwrap_err();
            assert!(matches!(err, StoreError::Locked(_)), "{other:?}: {err}");
            assert!(err.to_string().contains("already served"), "{err}");
        }
    }

    #[test]
    fn a_store_created_after_the_lock_is_held_by_identity_too() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("renewal.sqlite");
        let mut held = ServeLock::acquire(&db, OpenMode::CreateIfMissing).expect("lock");
        std::fs::write(&db, b"created by the first start").expect("write");
        held.hold_database(&db).expect("hold");
        let hard = dir.path().join("hard.sqlite");
        std::fs::hard_link(&db, &hard).expect("hard link");
        assert!(matches!(
            ServeLock::acquire(&hard, OpenMode::MustExist),
            Err(StoreError::Locked(_))
        ));
        drop(held);
        ServeLock::acquire(&hard, OpenMode::MustExist).expect("free again after drop");
    }

    #[test]
    fn lock_and_store_files_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = store_file(dir.path());
        std::fs::set_permissions(&db, Permissions::from_mode(0o644)).expect("chmod");
        let wal = with_suffix(&db, "-wal");
        std::fs::write(&wal, b"").expect("wal");
        std::fs::set_permissions(&wal, Permissions::from_mode(0o666)).expect("chmod");
        let _held = ServeLock::acquire(&db, OpenMode::MustExist).expect("lock");
        for path in [db.clone(), wal, with_suffix(&db, ".lock")] {
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{path:?}");
        }
        let fresh = dir.path().join("fresh.sqlite");
        create_private(&fresh).expect("create");
        let mode = std::fs::metadata(&fresh)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}
