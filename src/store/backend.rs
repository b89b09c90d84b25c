//! [`SiteStore`]: what the write service, the handlers and the `token` commands need from a
//! store, with two implementations: SQLite ([`Store`], one process per file) and PostgreSQL
//! ([`super::pg::PgStore`], shared by several instances, issue 8).

use std::sync::Arc;

use super::fault::StorageFault;
use super::{
    AccountEntry, Change, Commit, FeedEntry, NewAccount, NewPhoto, PhotoAdded, PhotoRecord,
    PhotoVariant, Replay, Store, StoreError, StoredSite,
};
use crate::model::{Account, Site, Timestamp};

/// The system of record behind [`crate::update::UpdateService`]: accounts, every site with
/// every version, and the change feed. Implementations make [`SiteStore::commit`] atomic and
/// durable before it returns, and serialize commits; the service holds its own writer lock
/// around check, commit and publish.
pub trait SiteStore: Send + Sync + std::fmt::Debug {
    /// The live account behind a bearer token.
    fn authenticate(&self, token: &str) -> Result<Option<Account>, StoreError>;
    /// Writes one change (see [`crate::store::Writer::commit`]); returns its seq.
    fn commit(&self, change: &Commit<'_>) -> Result<i64, StoreError>;
    /// The site as stored now, retired or not.
    fn stored(&self, id: &str) -> Result<Option<StoredSite>, StoreError>;
    /// Marks every change up to `seq` as visible on the map: history and the feed stop there.
    fn publish(&self, seq: i64);
    /// The newest published seq.
    fn published_seq(&self) -> i64;
    /// Published changes of one site, oldest first.
    fn history(&self, id: &str) -> Result<Vec<Change>, StoreError>;
    /// Up to `limit` published changes after `since`, in order.
    fn changes_since(&self, since: i64, limit: usize) -> Result<Vec<Change>, StoreError>;
    /// One version of a site and whether it retired the site.
    fn version(&self, id: &str, version: u64) -> Result<Option<(Site, bool)>, StoreError>;
    /// Every site as it stood at an instant.
    fn sites_as_of(&self, at: Timestamp) -> Result<Vec<Site>, StoreError>;
    /// When the store was seeded.
    fn seeded_at(&self) -> Result<Option<Timestamp>, StoreError>;
    /// The smallest feature id no stored site uses.
    fn next_fid(&self) -> Result<u64, StoreError>;
    /// The change an account made with an idempotency key, if any (published or not: the
    /// service asks under its writer lock, after the change was published).
    fn replay(&self, account_id: i64, key: &str) -> Result<Option<Replay>, StoreError>;
    /// Every live site as stored, in the order they were added: what a starting service
    /// shows. A shared store also marks the newest change it read as published, since the
    /// snapshot built from these sites shows exactly the changes up to it.
    fn sites(&self) -> Result<Vec<Site>, StoreError>;
    /// The newest snapshot generation recorded with a change (0 if none).
    fn last_generation(&self) -> Result<u64, StoreError>;
    /// Up to `limit` committed changes after `since`, published or not, in seq order, each
    /// with the state it wrote.
    fn committed_after(&self, since: i64, limit: usize) -> Result<Vec<FeedEntry>, StoreError>;
    /// For a store other processes write too: notified when one of them (or this one)
    /// committed, or the connection was made again. The service then follows the changes
    /// ([`crate::update::UpdateService::follow`]). `None` for a store only this process
    /// writes.
    fn wakeups(&self) -> Option<Arc<tokio::sync::Notify>>;
    /// The storage fault behind `error` (a failed operation), or, with `None`, the fault of
    /// the store now, if any: for `/health` and for answering a failed write.
    fn fault(&self, error: Option<&StoreError>) -> Option<StorageFault>;
    /// Creates an account; returns it with its token, shown only once.
    fn add_account(&self, new: &NewAccount) -> Result<(Account, String), StoreError>;
    /// Every account, oldest first.
    fn accounts(&self) -> Result<Vec<AccountEntry>, StoreError>;
    /// Revokes the token of the account with this name or id.
    fn revoke(&self, name_or_id: &str) -> Result<Account, StoreError>;
    /// Where the store is, for logs (a file path, or a URL without its password).
    fn describe(&self) -> String;

    /// Stores a field photo of a site (see [`Store::add_photo`]).
    fn add_photo(
        &self,
        actor: &Account,
        photo: &NewPhoto<'_>,
        max_per_site: usize,
    ) -> Result<PhotoAdded, StoreError>;
    /// One photo's record.
    fn photo(&self, id: &str) -> Result<Option<PhotoRecord>, StoreError>;
    /// Every photo of a site, oldest upload first.
    fn site_photos(&self, site: &str) -> Result<Vec<PhotoRecord>, StoreError>;
    /// A photo's served bytes (the metadata-free image or its thumbnail) and content type.
    fn photo_bytes(
        &self,
        id: &str,
        variant: PhotoVariant,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    /// How many photos a site (or the whole store) holds.
    fn photo_count(&self, site: Option<&str>) -> Result<u64, StoreError>;
}

impl SiteStore for Store {
    fn authenticate(&self, token: &str) -> Result<Option<Account>, StoreError> {
        Store::authenticate(self, token)
    }

    fn commit(&self, change: &Commit<'_>) -> Result<i64, StoreError> {
        self.writer().commit(change)
    }

    fn stored(&self, id: &str) -> Result<Option<StoredSite>, StoreError> {
        Store::stored(self, id)
    }

    fn publish(&self, seq: i64) {
        self.writer_free_publish(seq);
    }

    fn published_seq(&self) -> i64 {
        Store::published_seq(self)
    }

    fn history(&self, id: &str) -> Result<Vec<Change>, StoreError> {
        Store::history(self, id)
    }

    fn changes_since(&self, since: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        Store::changes_since(self, since, limit)
    }

    fn version(&self, id: &str, version: u64) -> Result<Option<(Site, bool)>, StoreError> {
        Store::version(self, id, version)
    }

    fn sites_as_of(&self, at: Timestamp) -> Result<Vec<Site>, StoreError> {
        Store::sites_as_of(self, at)
    }

    fn seeded_at(&self) -> Result<Option<Timestamp>, StoreError> {
        Store::seeded_at(self)
    }

    fn next_fid(&self) -> Result<u64, StoreError> {
        Store::next_fid(self)
    }

    fn replay(&self, account_id: i64, key: &str) -> Result<Option<Replay>, StoreError> {
        Store::replay(self, account_id, key)
    }

    fn sites(&self) -> Result<Vec<Site>, StoreError> {
        Store::sites(self)
    }

    fn last_generation(&self) -> Result<u64, StoreError> {
        Store::last_generation(self)
    }

    fn committed_after(&self, since: i64, limit: usize) -> Result<Vec<FeedEntry>, StoreError> {
        Store::committed_after(self, since, limit)
    }

    fn wakeups(&self) -> Option<Arc<tokio::sync::Notify>> {
        // One process per file (the serve lock): nobody else commits.
        None
    }

    fn fault(&self, error: Option<&StoreError>) -> Option<StorageFault> {
        match error {
            Some(e) => super::fault::classify(e, self.path()),
            None => super::fault::probe(self.path()),
        }
    }

    fn add_account(&self, new: &NewAccount) -> Result<(Account, String), StoreError> {
        Store::add_account(self, new)
    }

    fn accounts(&self) -> Result<Vec<AccountEntry>, StoreError> {
        Store::accounts(self)
    }

    fn revoke(&self, name_or_id: &str) -> Result<Account, StoreError> {
        Store::revoke(self, name_or_id)
    }

    fn describe(&self) -> String {
        self.path().display().to_string()
    }

    fn add_photo(
        &self,
        actor: &Account,
        photo: &NewPhoto<'_>,
        max_per_site: usize,
    ) -> Result<PhotoAdded, StoreError> {
        Store::add_photo(self, actor, photo, max_per_site)
    }

    fn photo(&self, id: &str) -> Result<Option<PhotoRecord>, StoreError> {
        Store::photo(self, id)
    }

    fn site_photos(&self, site: &str) -> Result<Vec<PhotoRecord>, StoreError> {
        Store::site_photos(self, site)
    }

    fn photo_bytes(
        &self,
        id: &str,
        variant: PhotoVariant,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Store::photo_bytes(self, id, variant)
    }

    fn photo_count(&self, site: Option<&str>) -> Result<u64, StoreError> {
        Store::photo_count(self, site)
    }
}
