//! [`SiteStore`]: what the write service needs from a store, so a second backend (PostgreSQL,
//! issue 8) plugs in without touching the service or the handlers. SQLite ([`Store`]) is the
//! one implementation today.

use super::{Change, Commit, Replay, Store, StoreError, StoredSite};
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
}
