//! The PostgreSQL/PostGIS store: the same system of record as the SQLite [`super::Store`],
//! shared by several `serve` processes (issue 8). The only module besides the SQLite store
//! that knows a database crate (`postgres`, the synchronous client over `tokio-postgres`).
//!
//! Why the synchronous client: [`SiteStore`] is synchronous and the service calls it from
//! `spawn_blocking` (and the `token` commands from plain `main`), so a blocking client fits
//! without a runtime handle threaded through the store. Like the SQLite store it keeps two
//! connections, one for writes and one for reads, each behind a mutex (the write service
//! serializes writes anyway), plus one dedicated `LISTEN` connection on its own thread
//! ([`feed`]). A connection that fails is dropped and made again on next use, so a database
//! that comes back is used again without a restart.
//!
//! A commit takes one transaction-scoped advisory lock ([`schema::COMMIT_LOCK`]), gives the
//! change seq `max + 1` (gapless, in commit order), checks the version in the `UPDATE`
//! (`WHERE version = $before`: no lost update across instances), and sends `NOTIFY` with the
//! seq, which PostgreSQL delivers at commit.

mod accounts;
pub mod copy;
mod feed;
mod photos;
pub mod schema;
mod sites;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, NoTls, Statement};

use super::fault::StorageFault;
use super::{
    AccountEntry, Change, Commit, FeedEntry, NewAccount, NewPhoto, PhotoAdded, PhotoRecord,
    PhotoVariant, Replay, SiteStore, StoreError, StoredSite,
};
use crate::model::{Account, Site, Timestamp};

/// How long opening a connection may take before the database counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `db` names a PostgreSQL database (`postgres://…` or `postgresql://…`) rather than
/// a SQLite file.
///
/// # Examples
/// ```
/// use renewal_map::store::pg::is_url;
/// assert!(is_url("postgres://u@127.0.0.1:5432/renewal"));
/// assert!(is_url("postgresql://u@h/db"));
/// assert!(!is_url("data/huanggu/renewal.sqlite"));
/// ```
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The URL with its password replaced by `***`, for logs and messages.
///
/// # Examples
/// ```
/// use renewal_map::store::pg::redacted;
/// assert_eq!(redacted("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
/// assert_eq!(redacted("postgres://u@h/db"), "postgres://u@h/db");
/// ```
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A handle on the PostgreSQL store; cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    writer: Link,
    reader: Link,
    /// The newest seq this process has applied to its snapshot (see [`SiteStore::publish`]).
    published: AtomicI64,
    /// Whether the last use of the database (any connection, the listener included) worked.
    reachable: Arc<AtomicBool>,
    /// Woken by the listener on every `NOTIFY` and on every (re)connection.
    wake: Arc<tokio::sync::Notify>,
    /// Stops the listener thread when the last handle goes.
    stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &redacted(&self.inner.url))
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection leaves at worst a broken client, which the next use
    // notices (`is_closed`) or the server rolls back.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A failed database call as a store error: connection trouble and a server shutting down
/// are [`StoreError::Unavailable`] (retry later), anything else a plain database error.
pub(crate) fn pg_error(e: postgres::Error) -> StoreError {
    match e.code() {
        // 08: connection exception; 57: operator intervention (admin shutdown, crash
        // shutdown, cannot connect now); 53: insufficient resources (too many connections).
        Some(code) => {
            let c = code.code();
            if c.starts_with("08") || c.starts_with("57") || c.starts_with("53") {
                StoreError::Unavailable(e.to_string())
            } else {
                StoreError::Postgres(e)
            }
        }
        None => StoreError::Unavailable(e.to_string()),
    }
}

/// A kept connection idle longer than this is checked (an empty query) before use: a server
/// restarted meanwhile has closed it, and the client only learns so on its next round trip,
/// which must not be a write's.
pub const IDLE_CHECK: Duration = Duration::from_millis(250);

/// Most statements one connection keeps prepared ([`Session::prepared`]); past it the cache
/// starts afresh. The store's hot statements number about a dozen.
pub const MAX_PREPARED: usize = 64;

/// One connection and the statements prepared on it. A statement prepared once is sent as a
/// bind and execute only: one round trip per use instead of two, and PostgreSQL may keep its
/// plan. Dropped with the connection, so a connection made again prepares afresh.
pub(crate) struct Session {
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl Session {
    /// The statement for `sql`, prepared on this connection on first use.
    pub(crate) fn prepared(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        if self.prepared.len() >= MAX_PREPARED {
            self.prepared.clear();
        }
        let statement = self.client.prepare(sql).map_err(pg_error)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl std::ops::Deref for Session {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// One kept connection, made again after it failed.
struct Link {
    config: postgres::Config,
    client: Mutex<Option<(Session, std::time::Instant)>>,
    reachable: Arc<AtomicBool>,
}

impl Link {
    fn new(config: postgres::Config, reachable: Arc<AtomicBool>) -> Link {
        Link {
            config,
            client: Mutex::new(None),
            reachable,
        }
    }

    /// Runs `f` on the connection, connecting first when there is none, it broke, or it was
    /// idle past [`IDLE_CHECK`] and fails its check; a connection that fails in `f` is
    /// dropped, so the next call connects afresh.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = lock(&self.client);
        let stale = match slot.as_mut() {
            None => true,
            Some((c, _)) if c.is_closed() => true,
            Some((c, used)) => used.elapsed() > IDLE_CHECK && c.is_valid(CONNECT_TIMEOUT).is_err(),
        };
        if stale {
            *slot = None;
            match self.config.connect(NoTls) {
                Ok(client) => {
                    let session = Session {
                        client,
                        prepared: HashMap::new(),
                    };
                    *slot = Some((session, std::time::Instant::now()));
                }
                Err(e) => {
                    self.reachable.store(false, Ordering::Release);
                    return Err(pg_error(e));
                }
            }
        }
        let Some((client, used)) = slot.as_mut() else {
            return Err(StoreError::Unavailable("no connection".into()));
        };
        let result = f(client);
        *used = std::time::Instant::now();
        match &result {
            Err(StoreError::Unavailable(_)) => {
                *slot = None;
                self.reachable.store(false, Ordering::Release);
            }
            _ => self.reachable.store(true, Ordering::Release),
        }
        result
    }
}

impl PgStore {
    /// Connects to `url`, migrates the schema (creating the `postgis` extension if it is
    /// missing, which needs a role allowed to), and adds every site of `sites` the database
    /// does not know yet. Starts the `LISTEN` thread.
    pub fn open(url: &str, sites: &[Site]) -> Result<PgStore, StoreError> {
        let mut config = postgres::Config::from_str(url).map_err(|e| StoreError::BadUrl {
            url: redacted(url),
            detail: e.to_string(),
        })?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .application_name("renewal-map");
        let reachable = Arc::new(AtomicBool::new(true));
        let writer = Link::new(config.clone(), Arc::clone(&reachable));
        let reader = Link::new(config.clone(), Arc::clone(&reachable));
        writer.with(|c| {
            migrate(c)?;
            sites::seed(c, sites)
        })?;
        let published = reader.with(|c| feed::head(c))?;
        let store = PgStore {
            inner: Arc::new(Inner {
                url: url.to_owned(),
                writer,
                reader,
                published: AtomicI64::new(published),
                reachable: Arc::clone(&reachable),
                wake: Arc::new(tokio::sync::Notify::new()),
                stop: Arc::new(AtomicBool::new(false)),
            }),
        };
        feed::listen(
            config,
            Arc::clone(&store.inner.wake),
            reachable,
            Arc::clone(&store.inner.stop),
        );
        Ok(store)
    }

    /// The URL it was opened with, password hidden.
    pub fn url(&self) -> String {
        redacted(&self.inner.url)
    }

    /// The schema versions recorded in `schema_migrations`, oldest first.
    pub fn migrations(&self) -> Result<Vec<i64>, StoreError> {
        self.inner.reader.with(|c| {
            let rows = c
                .query(
                    "SELECT version::bigint FROM schema_migrations ORDER BY version",
                    &[],
                )
                .map_err(pg_error)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.writer.with(f)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.reader.with(f)
    }
}

/// Runs every migration the database lacks, each in its own transaction, under
/// [`schema::SETUP_LOCK`] so concurrent first starts take turns.
fn migrate(c: &mut Client) -> Result<(), StoreError> {
    let mut tx = c.transaction().map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::SETUP_LOCK])
        .map_err(pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(pg_error)?;
    let found: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .map_err(pg_error)?
        .get(0);
    if found > schema::LATEST {
        return Err(StoreError::TooNew {
            path: "postgresql".into(),
            found,
            known: schema::LATEST,
        });
    }
    for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).map_err(pg_error)?;
        let version = i as i32 + 1;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(pg_error)?;
    }
    tx.commit().map_err(pg_error)
}

impl SiteStore for PgStore {
    fn authenticate(&self, token: &str) -> Result<Option<Account>, StoreError> {
        self.read(|c| accounts::authenticate(c, token))
    }

    fn commit(&self, change: &Commit<'_>) -> Result<i64, StoreError> {
        self.write(|c| match sites::commit(c, change) {
            // The unique index caught a key committed past the check under the commit lock
            // (a commit that did not take it): the transaction rolled back; answer with the
            // change that holds the key.
            Err(StoreError::Postgres(e)) if sites::is_key_violation(&e) => {
                let key = change.ctx.idempotency.map(|i| i.key).unwrap_or_default();
                match sites::replay(c, change.ctx.actor.id, key)? {
                    Some(winner) => Err(StoreError::KeyUsed(winner)),
                    None => Err(StoreError::Postgres(e)),
                }
            }
            result => result,
        })
    }

    fn stored(&self, id: &str) -> Result<Option<StoredSite>, StoreError> {
        self.read(|c| sites::stored(c, id))
    }

    fn publish(&self, seq: i64) {
        self.inner.published.fetch_max(seq, Ordering::AcqRel);
    }

    fn published_seq(&self) -> i64 {
        self.inner.published.load(Ordering::Acquire)
    }

    fn history(&self, id: &str) -> Result<Vec<Change>, StoreError> {
        let upto = self.published_seq();
        self.read(|c| feed::history(c, id, upto))
    }

    fn changes_since(&self, since: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let upto = self.published_seq();
        self.read(|c| feed::changes(c, since, upto, limit))
    }

    fn version(&self, id: &str, version: u64) -> Result<Option<(Site, bool)>, StoreError> {
        self.read(|c| sites::version(c, id, version))
    }

    fn sites_as_of(&self, at: Timestamp) -> Result<Vec<Site>, StoreError> {
        self.read(|c| sites::sites_as_of(c, at))
    }

    fn seeded_at(&self) -> Result<Option<Timestamp>, StoreError> {
        self.read(|c| sites::seeded_at(c))
    }

    fn next_fid(&self) -> Result<u64, StoreError> {
        self.write(|c| sites::next_fid(c))
    }

    fn replay(&self, account_id: i64, key: &str) -> Result<Option<Replay>, StoreError> {
        self.read(|c| sites::replay(c, account_id, key))
    }

    fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let (sites, head) = self.read(|c| sites::live_sites_at_head(c))?;
        // The snapshot built from these sites shows every change up to `head`.
        self.inner.published.store(head, Ordering::Release);
        Ok(sites)
    }

    fn last_generation(&self) -> Result<u64, StoreError> {
        self.read(|c| feed::last_generation(c))
    }

    fn committed_after(&self, since: i64, limit: usize) -> Result<Vec<FeedEntry>, StoreError> {
        self.read(|c| feed::committed_after(c, since, limit))
    }

    fn wakeups(&self) -> Option<Arc<tokio::sync::Notify>> {
        Some(Arc::clone(&self.inner.wake))
    }

    fn fault(&self, error: Option<&StoreError>) -> Option<StorageFault> {
        match error {
            Some(StoreError::Unavailable(_)) => Some(StorageFault::Unreachable),
            Some(_) => None,
            None => {
                (!self.inner.reachable.load(Ordering::Acquire)).then_some(StorageFault::Unreachable)
            }
        }
    }

    fn add_account(&self, new: &NewAccount) -> Result<(Account, String), StoreError> {
        self.write(|c| accounts::add(c, new))
    }

    fn accounts(&self) -> Result<Vec<AccountEntry>, StoreError> {
        self.read(|c| accounts::list(c))
    }

    fn revoke(&self, name_or_id: &str) -> Result<Account, StoreError> {
        self.write(|c| accounts::revoke(c, name_or_id))
    }

    fn describe(&self) -> String {
        self.url()
    }

    fn add_photo(
        &self,
        actor: &Account,
        photo: &NewPhoto<'_>,
        max_per_site: usize,
    ) -> Result<PhotoAdded, StoreError> {
        let published = self.published_seq();
        self.write(|c| photos::add(c, actor, photo, max_per_site, published))
    }

    fn photo(&self, id: &str) -> Result<Option<PhotoRecord>, StoreError> {
        let published = self.published_seq();
        self.read(|c| photos::one(c, id, published))
    }

    fn site_photos(&self, site: &str) -> Result<Vec<PhotoRecord>, StoreError> {
        let published = self.published_seq();
        self.read(|c| photos::of_site(c, site, published))
    }

    fn photo_bytes(
        &self,
        id: &str,
        variant: PhotoVariant,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.read(|c| photos::bytes(c, id, variant))
    }

    fn photo_count(&self, site: Option<&str>) -> Result<u64, StoreError> {
        self.read(|c| photos::count(c, site))
    }
}
