//! A bounded in-memory cache of encoded tiles that survives edits: a change drops only the
//! tiles it touches.
//!
//! Each entry remembers the snapshot generation it was encoded from. On lookup, the current
//! snapshot's change log says whether any change since then lies inside the tile's buffered
//! bounds; if none does, the entry is still exact and is served, otherwise the tile is encoded
//! again. A reader that encoded from an older snapshot can therefore never leave a stale tile
//! behind. Entries are keyed by tile, site filter and the date lateness is measured against.
//!
//! Requests for the same tile of the same snapshot that arrive while it is being encoded wait
//! for that one encoding (request coalescing), whether the cache keeps tiles or not: 32 clients
//! asking for one cold tile at once cost one encode. The leader stores the tile and retires
//! the in-flight mark under one lock, so a request either joins the encoding or finds the
//! stored tile.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::TileCoord;
use super::encode::{EncodeError, TileRequest, encode_tile};
use crate::model::{Date, SiteFilter};
use crate::snapshot::Snapshot;

/// One encoded tile, with its content hash and (made on first need) its gzip form.
#[derive(Debug)]
pub struct EncodedTile {
    /// The MVT bytes; `None` when the tile holds nothing.
    pub mvt: Option<Vec<u8>>,
    /// 16 hex digits of the SHA-256 of `mvt`, for strong ETags.
    pub hash: String,
    gz: OnceLock<Vec<u8>>,
}

impl EncodedTile {
    fn new(mvt: Option<Vec<u8>>) -> EncodedTile {
        let digest = Sha256::digest(mvt.as_deref().unwrap_or_default());
        let hash = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        EncodedTile {
            mvt,
            hash,
            gz: OnceLock::new(),
        }
    }

    /// The tile gzipped (computed once).
    pub fn gzip(&self) -> &[u8] {
        self.gz.get_or_init(|| {
            let bytes = self.mvt.as_deref().unwrap_or_default();
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(bytes.len() / 2),
                flate2::Compression::fast(),
            );
            // Writing to a Vec cannot fail.
            let _ = enc.write_all(bytes);
            enc.finish().unwrap_or_default()
        })
    }

    fn cost(&self) -> usize {
        // The gzip form, when made, is smaller than the tile: count it as half.
        let n = self.mvt.as_ref().map_or(0, Vec::len);
        64 + n + n / 2
    }
}

/// Whether a lookup was answered from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Served from the cache.
    Hit,
    /// Encoded now (absent, evicted, or touched by a change).
    Miss,
    /// Another request was encoding the same tile of the same snapshot; this one waited for
    /// that encoding instead of making its own.
    Shared,
}

impl CacheOutcome {
    /// `hit` or `miss`, for the `X-Tile-Cache` header.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Shared => "shared",
        }
    }
}

type Key = (TileCoord, SiteFilter, Date);

struct Entry {
    generation: u64,
    tile: Arc<EncodedTile>,
    last_used: u64,
}

/// The outcome of one encoding, shared by every request that waited for it.
type Encoding = Arc<OnceLock<Result<Arc<EncodedTile>, Arc<EncodeError>>>>;

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Entry>,
    bytes: usize,
    clock: u64,
    /// Tiles being encoded now, by key and the snapshot generation they are encoded from.
    in_flight: HashMap<(Key, u64), Encoding>,
}

/// The cache; share it behind an `Arc`. A capacity of 0 turns it off.
pub struct TileCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
}

impl TileCache {
    /// A cache holding at most about `max_bytes` of tiles.
    pub fn new(max_bytes: usize) -> TileCache {
        TileCache {
            max_bytes,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Number of tiles held.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only a cache behind: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tile `req` asks for, as of `snap`: from the cache when no change since it was
    /// encoded touches it, else from the encoding another request is making of it, else
    /// encoded now (and kept). The error is shared by every request that waited for it.
    pub fn get_or_encode(
        &self,
        snap: &Snapshot,
        req: TileRequest<'_>,
    ) -> Result<(Arc<EncodedTile>, CacheOutcome), Arc<EncodeError>> {
        let key: Key = (req.tile, canonical(req.filter), req.today);
        let area = req.tile.buffered_bounds();
        let flight = (key.clone(), snap.generation);
        let (encoding, leader) = {
            let mut inner = self.lock();
            inner.clock += 1;
            let now = inner.clock;
            if self.max_bytes > 0
                && let Some(e) = inner.map.get_mut(&key)
                && !snap.changed_since(e.generation, area)
            {
                e.last_used = now;
                return Ok((Arc::clone(&e.tile), CacheOutcome::Hit));
            }
            match inner.in_flight.get(&flight) {
                Some(encoding) => (Arc::clone(encoding), false),
                None => {
                    let encoding = Encoding::default();
                    inner
                        .in_flight
                        .insert(flight.clone(), Arc::clone(&encoding));
                    (encoding, true)
                }
            }
        };
        // OnceLock runs one initialiser; the others block until it is done.
        let result = encoding
            .get_or_init(|| {
                encode_tile(snap, req)
                    .map(|mvt| Arc::new(EncodedTile::new(mvt)))
                    .map_err(Arc::new)
            })
            .clone();
        if !leader {
            return result.map(|tile| (tile, CacheOutcome::Shared));
        }
        let mut inner = self.lock();
        inner.in_flight.remove(&flight);
        let tile = result?;
        if self.max_bytes > 0 {
            self.insert(&mut inner, key, snap.generation, Arc::clone(&tile));
        }
        Ok((tile, CacheOutcome::Miss))
    }

    fn insert(&self, inner: &mut Inner, key: Key, generation: u64, tile: Arc<EncodedTile>) {
        inner.clock += 1;
        let now = inner.clock;
        let cost = tile.cost();
        if let Some(old) = inner.map.get(&key) {
            if old.generation > generation {
                return; // a newer encoding is already there
            }
            let old_cost = old.tile.cost();
            inner.bytes -= old_cost;
        }
        inner.map.insert(
            key,
            Entry {
                generation,
                tile,
                last_used: now,
            },
        );
        inner.bytes += cost;
        if inner.bytes > self.max_bytes {
            evict(inner, self.max_bytes * 3 / 4);
        }
    }
}

/// Drops the least recently used entries until at most `target` bytes remain.
/// The filter as a cache key: the same sets of statuses and kinds in any order (or repeated)
/// are one key, so `status=a,b` and `status=b,a` share an entry.
fn canonical(filter: &SiteFilter) -> SiteFilter {
    let mut f = filter.clone();
    if let Some(s) = f.statuses.as_mut() {
        s.sort_unstable();
        s.dedup();
    }
    if let Some(k) = f.kinds.as_mut() {
        k.sort_unstable();
        k.dedup();
    }
    f
}

fn evict(inner: &mut Inner, target: usize) {
    let mut by_age: Vec<(u64, Key)> = inner
        .map
        .iter()
        .map(|(k, e)| (e.last_used, k.clone()))
        .collect();
    by_age.sort_unstable_by_key(|(used, _)| *used);
    for (_, key) in by_age {
        if inner.bytes <= target {
            break;
        }
        if let Some(e) = inner.map.remove(&key) {
            inner.bytes -= e.tile.cost();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;
    use crate::model::{RenewalKind, RenewalStatus, SiteFilter};

    #[test]
    fn filter_order_and_repeats_make_one_key() {
        let f = |statuses: &[RenewalStatus], kinds: &[RenewalKind]| SiteFilter {
            statuses: Some(statuses.to_vec()),
            kinds: Some(kinds.to_vec()),
            ..SiteFilter::default()
        };
        use RenewalStatus::{Completed, Planned};
        let a = f(&[Completed, Planned], &[RenewalKind::PocketPark]);
        let b = f(&[Planned, Completed, Planned], &[RenewalKind::PocketPark]);
        assert_ne!(a, b);
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(canonical(&SiteFilter::default()), SiteFilter::default());
    }
}
