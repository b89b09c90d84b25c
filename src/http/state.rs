//! Shared state of the HTTP layer: the current snapshot, the store and the configuration.

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Semaphore;

use crate::access::cache::AccessCache;
use crate::config::Config;
use crate::snapshot::Snapshot;
use crate::store::{SiteStore, Store};
use crate::tiles::cache::TileCache;
use crate::update::UpdateService;

/// Tile jobs on the blocking pool at once, per core (see [`AppState::tile_turns`]): one more
/// than a core's worth, so a core does not idle while a job's thread hands over its result.
pub const TILE_TURNS_PER_CORE: usize = 2;

/// Cores this process may use (2 when that cannot be read).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// What every handler can reach. Cheap to clone: all `Arc`s.
///
/// The snapshot is read lock-free (`load()` gives one consistent version for the whole
/// request) and replaced whole by writers (`store()`).
#[derive(Clone)]
pub struct AppState {
    /// The current read model.
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    /// Configuration and limits.
    pub config: Arc<Config>,
    /// Where changes are written (SQLite or PostgreSQL); `None` serves read-only (write
    /// routes answer 503).
    pub store: Option<Arc<dyn SiteStore>>,
    /// Encoded tiles, kept across edits that do not touch them.
    pub tiles: Arc<TileCache>,
    /// Turns on the blocking pool for tile work (encoding, converting, compressing): two per
    /// core. Without a bound, 32 clients on cold tiles kept 60–100 pool threads busy on 2
    /// cores, with no more tiles per second but every thread's working memory at once (peak
    /// RSS 500–900 MB with the cache off) and p99 at 70–140 ms. An async semaphore, so
    /// requests wait for a turn without holding a thread; `TileCache::claim` is taken before
    /// the wait, so requests for one tile still share its one encoding.
    pub tile_turns: Arc<Semaphore>,
    /// The write path over `store`; `None` when read-only.
    pub updates: Option<Arc<UpdateService>>,
    /// Park access of the latest snapshot (walking network and the three methods), derived
    /// for each new snapshot on first use.
    pub access: Arc<AccessCache>,
}

impl AppState {
    /// Read-only state serving `snapshot` under `config`.
    pub fn new(snapshot: Snapshot, config: Config) -> AppState {
        AppState {
            snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
            tiles: Arc::new(TileCache::new(config.tile_cache_bytes)),
            access: Arc::new(AccessCache::new()),
            tile_turns: Arc::new(Semaphore::new(TILE_TURNS_PER_CORE * cores())),
            config: Arc::new(config),
            store: None,
            updates: None,
        }
    }

    /// State serving `snapshot` (already overlaid with the store's state) and writing to
    /// `store`.
    /// The snapshot's generation continues after the newest one the store recorded, so
    /// event generations keep increasing across restarts.
    pub fn with_store(snapshot: Snapshot, store: Store, config: Config) -> AppState {
        AppState::with_site_store(snapshot, Arc::new(store), config)
    }

    /// [`AppState::with_store`] over any store, SQLite or PostgreSQL.
    pub fn with_site_store(
        mut snapshot: Snapshot,
        store: Arc<dyn SiteStore>,
        config: Config,
    ) -> AppState {
        match store.last_generation() {
            Ok(g) => snapshot.generation = snapshot.generation.max(g + 1),
            Err(e) => tracing::warn!("cannot read the last generation: {e}"),
        }
        let state = AppState::new(snapshot, config);
        let updates = UpdateService::new(
            Arc::clone(&store),
            Arc::clone(&state.snapshot),
            Arc::clone(&state.tiles),
        );
        AppState {
            store: Some(store),
            updates: Some(Arc::new(updates)),
            ..state
        }
    }

    /// The current snapshot; hold it for the whole request.
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }
}
