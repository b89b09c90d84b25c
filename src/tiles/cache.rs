//! A bounded in-memory cache of encoded tiles that survives edits: a change drops only the
//! tiles it touches.
//!
//! Each entry holds the tile as MVT and, once asked for, as MLT (see [`EncodedTile`]).
//!
//! Each entry remembers the snapshot generation it was encoded from. On lookup, the current
//! snapshot's change log says whether any change since then lies inside the tile's buffered
//! bounds; if none does, the entry is still exact and is served, otherwise the tile is encoded
//! again. A reader that encoded from an older snapshot can therefore never leave a stale tile
//! behind. Entries are keyed by tile, site filter and the date lateness is measured against.
//!
//! The store is `quick_cache`'s sharded, weight-bounded cache (S3-FIFO eviction): a hit takes
//! one shard's lock briefly and clones two `Arc`s, so the hit path can run on the async
//! threads without a hop to the blocking pool. Each entry's weight is its size estimate
//! ([`EncodedTile::weight`]).
//!
//! Requests for the same tile of the same snapshot that arrive while it is being encoded wait
//! for that one encoding (request coalescing), whether the cache keeps tiles or not: 32 clients
//! asking for one cold tile at once cost one encode. The leader stores the tile before it
//! retires the in-flight mark, and a request that finds no mark looks in the cache again under
//! the in-flight lock, so a request either joins the encoding or finds the stored tile.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::TileCoord;
use super::compress::ContentCoding;
use super::encode::{EncodeError, TileRequest, encode_tile};
use super::mlt::MltError;
use super::sample::{FormatSizes, SampleError};
use crate::model::{Date, SiteFilter};
use crate::snapshot::Snapshot;

/// One body of a tile in one format (MVT, or MLT made from it): its bytes, their content
/// hash, the strong ETag of each coding and each compressed form, made once on first need.
#[derive(Debug)]
pub struct TileBody {
    /// The uncoded bytes.
    pub bytes: Bytes,
    /// 16 hex digits of the SHA-256 of `bytes`, for strong ETags.
    pub hash: String,
    /// The quoted strong ETag of each coding, by [`slot`].
    etags: [String; 4],
    /// The compressed forms, by [`slot`] (identity's slot unused).
    coded: [OnceLock<Bytes>; 4],
}

/// What the ETag of an MLT body carries after its hash (before the coding's suffix), so an
/// MVT ETag never revalidates an MLT body and the other way round.
pub const MLT_ETAG_SUFFIX: &str = "-mlt";

impl TileBody {
    /// Hashes `bytes` and names the ETag of every coding: `"<hash><format><coding>"`, with
    /// `format` `""` for MVT or [`MLT_ETAG_SUFFIX`].
    fn new(bytes: Bytes, format: &str) -> TileBody {
        let digest = Sha256::digest(&bytes);
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let etag = |c: ContentCoding| format!("\"{hash}{format}{}\"", c.etag_suffix());
        TileBody {
            etags: [
                etag(ContentCoding::Identity),
                etag(ContentCoding::Gzip),
                etag(ContentCoding::Brotli),
                etag(ContentCoding::Zstd),
            ],
            bytes,
            hash,
            coded: Default::default(),
        }
    }

    /// The strong ETag (quoted) of the body sent in coding `c`.
    pub fn etag(&self, c: ContentCoding) -> &str {
        &self.etags[slot(c)]
    }

    /// The body in coding `c`, compressed now if this is the first request for that coding.
    pub fn coded(&self, c: ContentCoding) -> Bytes {
        match c {
            ContentCoding::Identity => self.bytes.clone(),
            _ => self.coded[slot(c)]
                .get_or_init(|| Bytes::from(c.compress(&self.bytes)))
                .clone(),
        }
    }

    /// The body in coding `c` if that form is already made (always for identity).
    pub fn coded_if_made(&self, c: ContentCoding) -> Option<Bytes> {
        match c {
            ContentCoding::Identity => Some(self.bytes.clone()),
            _ => self.coded[slot(c)].get().cloned(),
        }
    }
}

/// One encoded tile: the MVT bytes with their hash, ETags and compressed forms, and the
/// MapLibre Tile made from them on first request for it (with its own ETags and forms).
#[derive(Debug)]
pub struct EncodedTile {
    /// The MVT bytes; `None` when the tile holds nothing.
    pub mvt: Option<Bytes>,
    /// 16 hex digits of the SHA-256 of `mvt`, for strong ETags.
    pub hash: String,
    /// The MVT body (empty bytes for an empty tile).
    body: TileBody,
    /// The MLT body, converted from the MVT once.
    mlt: OnceLock<Result<TileBody, Arc<MltError>>>,
}

/// Where a coding's ETag and form live in a [`TileBody`].
fn slot(c: ContentCoding) -> usize {
    match c {
        ContentCoding::Identity => 0,
        ContentCoding::Gzip => 1,
        ContentCoding::Brotli => 2,
        ContentCoding::Zstd => 3,
    }
}

impl EncodedTile {
    /// Wraps an encoder's output, hashing it and naming the ETag of every coding.
    pub fn new(mvt: Option<Vec<u8>>) -> EncodedTile {
        let mvt = mvt.map(Bytes::from);
        let body = TileBody::new(mvt.clone().unwrap_or_default(), "");
        EncodedTile {
            hash: body.hash.clone(),
            mvt,
            body,
            mlt: OnceLock::new(),
        }
    }

    /// The strong ETag (quoted) of the tile sent in coding `c`.
    pub fn etag(&self, c: ContentCoding) -> &str {
        self.body.etag(c)
    }

    /// The tile in coding `c`, compressed now if this is the first request for that coding.
    /// Empty for an empty tile.
    pub fn coded(&self, c: ContentCoding) -> Bytes {
        match &self.mvt {
            None => Bytes::new(),
            Some(_) => self.body.coded(c),
        }
    }

    /// The tile in coding `c` if that form is already made (always for identity): what a
    /// request may take without compressing anything.
    pub fn coded_if_made(&self, c: ContentCoding) -> Option<Bytes> {
        match &self.mvt {
            None => Some(Bytes::new()),
            Some(_) => self.body.coded_if_made(c),
        }
    }

    /// The MVT body with its ETags and coded forms; `None` for an empty tile.
    pub fn mvt_body(&self) -> Option<&TileBody> {
        self.mvt.as_ref().map(|_| &self.body)
    }

    /// The tile as a MapLibre Tile, converted now if this is the first request for it;
    /// `None` for an empty tile. A failed conversion is kept too (it would fail again).
    pub fn mlt(&self) -> Result<Option<&TileBody>, Arc<MltError>> {
        let Some(mvt) = &self.mvt else {
            return Ok(None);
        };
        self.mlt
            .get_or_init(|| {
                super::mlt::mvt_to_mlt(mvt)
                    .map(|mlt| TileBody::new(Bytes::from(mlt), MLT_ETAG_SUFFIX))
                    .map_err(Arc::new)
            })
            .as_ref()
            .map(Some)
            .map_err(Arc::clone)
    }

    /// The MLT body if it is already made: what a request may take without converting.
    pub fn mlt_if_made(&self) -> Option<&TileBody> {
        self.mlt.get().and_then(|r| r.as_ref().ok())
    }

    /// What the entry counts against the cache's bytes: the MVT, an allowance for its
    /// compressed forms (each typically a third to a half of it, so about the MVT's size for
    /// all three), one for the MLT form and its codings (MLT is about the MVT's size or
    /// less) and a fixed overhead for the key, hash and ETags. The weight is fixed when the
    /// tile is stored, so the allowance is made whether or not the forms are asked for.
    pub fn weight(&self) -> u64 {
        let n = self.mvt.as_ref().map_or(0, Bytes::len) as u64;
        256 + 3 * n
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
    /// `hit`, `miss` or `shared`, for the `X-Tile-Cache` header.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Shared => "shared",
        }
    }
}

type Key = (TileCoord, SiteFilter, Date);

#[derive(Clone)]
struct Entry {
    generation: u64,
    tile: Arc<EncodedTile>,
}

#[derive(Clone)]
struct EntryWeight;

impl quick_cache::Weighter<Key, Entry> for EntryWeight {
    fn weight(&self, _key: &Key, entry: &Entry) -> u64 {
        entry.tile.weight()
    }
}

/// The outcome of one encoding, shared by every request that waited for it.
type Encoding = Arc<OnceLock<Result<Arc<EncodedTile>, Arc<EncodeError>>>>;

/// Average entry size assumed when sizing the cache's tables (a z14 tile with allowance).
const ESTIMATED_ENTRY_BYTES: usize = 16 * 1024;

/// The cache; share it behind an `Arc`. A capacity of 0 turns it off (coalescing stays).
pub struct TileCache {
    store: Option<quick_cache::sync::Cache<Key, Entry, EntryWeight>>,
    /// Tiles being encoded now, by key and the snapshot generation they are encoded from.
    in_flight: Mutex<HashMap<(Key, u64), Encoding>>,
    /// MVT and MLT sizes over the tile sample, per coding (by [`slot`]), measured once for
    /// the life of the cache: edits change values, hardly sizes.
    format_sizes: [OnceLock<FormatSizes>; 4],
}

impl TileCache {
    /// A cache holding at most about `max_bytes` of tiles (by [`EncodedTile::weight`]).
    pub fn new(max_bytes: usize) -> TileCache {
        let store = (max_bytes > 0).then(|| {
            let items = (max_bytes / ESTIMATED_ENTRY_BYTES).clamp(16, 1 << 16);
            quick_cache::sync::Cache::with_weighter(items, max_bytes as u64, EntryWeight)
        });
        TileCache {
            store,
            in_flight: Mutex::new(HashMap::new()),
            format_sizes: Default::default(),
        }
    }

    /// Number of tiles held.
    pub fn len(&self) -> usize {
        self.store.as_ref().map_or(0, quick_cache::sync::Cache::len)
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn flights(&self) -> std::sync::MutexGuard<'_, HashMap<(Key, u64), Encoding>> {
        // A panic while holding the lock leaves only a map of waits behind: keep using it.
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The MVT and MLT sizes of the data set's tiles in `coding`, measured on the sample of
    /// [`super::sample`] the first time and remembered. May encode: call it where blocking is
    /// allowed.
    pub fn format_sizes(
        &self,
        snap: &Snapshot,
        today: Date,
        coding: ContentCoding,
    ) -> Result<FormatSizes, SampleError> {
        let memo = &self.format_sizes[slot(coding)];
        if let Some(sizes) = memo.get() {
            return Ok(*sizes);
        }
        let sizes = super::sample::measure(self, snap, today, coding)?;
        Ok(*memo.get_or_init(|| sizes))
    }

    /// The tile `req` asks for if the cache holds it and no change since it was encoded
    /// touches it. Never encodes, so it is cheap enough for the async threads.
    pub fn cached(&self, snap: &Snapshot, req: TileRequest<'_>) -> Option<Arc<EncodedTile>> {
        let store = self.store.as_ref()?;
        let filter = canonical(req.filter);
        // A borrowed key would need `Equivalent` over (coord, &filter, date); building the
        // owned key clones the filter only when one is given.
        let key: Key = (req.tile, filter.into_owned(), req.today);
        self.fresh(store, snap, &key)
    }

    fn fresh(
        &self,
        store: &quick_cache::sync::Cache<Key, Entry, EntryWeight>,
        snap: &Snapshot,
        key: &Key,
    ) -> Option<Arc<EncodedTile>> {
        let e = store.get(key)?;
        (!snap.changed_since(e.generation, key.0.buffered_bounds())).then_some(e.tile)
    }

    /// The tile `req` asks for, as of `snap`: from the cache when no change since it was
    /// encoded touches it, else from the encoding another request is making of it, else
    /// encoded now (and kept). The error is shared by every request that waited for it.
    /// May encode: call it where blocking is allowed. [`TileCache::claim`] then
    /// [`TileCache::finish`], for callers with nothing to do in between.
    pub fn get_or_encode(
        &self,
        snap: &Snapshot,
        req: TileRequest<'_>,
    ) -> Result<(Arc<EncodedTile>, CacheOutcome), Arc<EncodeError>> {
        match self.claim(snap, req) {
            Claim::Ready(tile) => Ok((tile, CacheOutcome::Hit)),
            Claim::Flight(flight) => self.finish(snap, req, flight),
        }
    }

    /// The first half of [`TileCache::get_or_encode`], cheap enough for the async threads:
    /// the fresh cached tile, or a place in the encoding of it, joining the one in flight for
    /// the same tile and snapshot or starting one. A caller may then wait (for a turn to
    /// encode, say) before [`TileCache::finish`], and still share the encoding of every
    /// request that claimed it meanwhile, whether the cache keeps tiles or not.
    ///
    /// Every [`Flight`] that starts an encoding must be finished (its mark is retired there):
    /// hand it to work that runs to completion, not to a future that may be dropped.
    pub fn claim(&self, snap: &Snapshot, req: TileRequest<'_>) -> Claim {
        let key: Key = (req.tile, canonical(req.filter).into_owned(), req.today);
        if let Some(store) = &self.store
            && let Some(tile) = self.fresh(store, snap, &key)
        {
            return Claim::Ready(tile);
        }
        let mark = (key, snap.generation);
        let mut flights = self.flights();
        if let Some(encoding) = flights.get(&mark) {
            return Claim::Flight(Flight {
                encoding: Arc::clone(encoding),
                mark,
                starter: false,
            });
        }
        // The starter of a just-finished encoding stored the tile before retiring its mark
        // (under this lock): look again, or this would encode it twice.
        if let Some(store) = &self.store
            && let Some(tile) = self.fresh(store, snap, &mark.0)
        {
            return Claim::Ready(tile);
        }
        let encoding = Encoding::default();
        flights.insert(mark.clone(), Arc::clone(&encoding));
        Claim::Flight(Flight {
            encoding,
            mark,
            starter: true,
        })
    }

    /// The second half of [`TileCache::get_or_encode`]: the flight's tile, encoded now by
    /// the first of its claimants to get here, the others waiting for that one encoding
    /// ([`CacheOutcome::Shared`]). The request that started the flight stores the tile and
    /// retires the mark. May encode: call it where blocking is allowed.
    pub fn finish(
        &self,
        snap: &Snapshot,
        req: TileRequest<'_>,
        flight: Flight,
    ) -> Result<(Arc<EncodedTile>, CacheOutcome), Arc<EncodeError>> {
        let mut encoded_here = false;
        // OnceLock runs one initialiser; the others block until it is done.
        let result = flight
            .encoding
            .get_or_init(|| {
                encoded_here = true;
                encode_tile(snap, req)
                    .map(|mvt| Arc::new(EncodedTile::new(mvt)))
                    .map_err(Arc::new)
            })
            .clone();
        let outcome = if encoded_here {
            CacheOutcome::Miss
        } else {
            CacheOutcome::Shared
        };
        if !flight.starter {
            return result.map(|tile| (tile, outcome));
        }
        if let (Some(store), Ok(tile)) = (&self.store, &result) {
            let newer_there = store
                .peek(&flight.mark.0)
                .is_some_and(|old| old.generation > snap.generation);
            if !newer_there {
                store.insert(
                    flight.mark.0.clone(),
                    Entry {
                        generation: snap.generation,
                        tile: Arc::clone(tile),
                    },
                );
            }
        }
        self.flights().remove(&flight.mark);
        result.map(|tile| (tile, outcome))
    }
}

/// What [`TileCache::claim`] found.
#[derive(Debug)]
pub enum Claim {
    /// The cached tile, still exact.
    Ready(Arc<EncodedTile>),
    /// A place in the encoding of the tile: give it to [`TileCache::finish`].
    Flight(Flight),
}

/// A claimed place in the one encoding of a tile of one snapshot (see [`TileCache::claim`]).
#[derive(Debug)]
pub struct Flight {
    encoding: Encoding,
    /// The in-flight mark: the cache key and the snapshot generation.
    mark: (Key, u64),
    /// Whether this claim started the flight (it stores the tile and retires the mark).
    starter: bool,
}

/// The filter as a cache key: the same sets of statuses and kinds in any order (or repeated)
/// are one key, so `status=a,b` and `status=b,a` share an entry. Borrowed when already so.
fn canonical(filter: &SiteFilter) -> Cow<'_, SiteFilter> {
    fn sorted<T: Ord>(v: &Option<Vec<T>>) -> bool {
        v.as_ref().is_none_or(|v| v.is_sorted_by(|a, b| a < b))
    }
    if sorted(&filter.statuses) && sorted(&filter.kinds) {
        return Cow::Borrowed(filter);
    }
    let mut f = filter.clone();
    if let Some(s) = f.statuses.as_mut() {
        s.sort_unstable();
        s.dedup();
    }
    if let Some(k) = f.kinds.as_mut() {
        k.sort_unstable();
        k.dedup();
    }
    Cow::Owned(f)
}

#[cfg(test)]
mod tests {
    use super::{EncodedTile, canonical};
    use crate::model::{RenewalKind, RenewalStatus, SiteFilter};
    use crate::tiles::compress::ContentCoding;

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
        assert_eq!(*canonical(&SiteFilter::default()), SiteFilter::default());
        // A filter already in canonical form is used as it is, without a copy.
        let sorted = canonical(&b).into_owned();
        assert!(matches!(canonical(&sorted), std::borrow::Cow::Borrowed(_)));
        assert!(matches!(canonical(&b), std::borrow::Cow::Owned(_)));
    }

    #[test]
    fn each_coding_has_its_etag_and_is_made_once() {
        let t = EncodedTile::new(Some(vec![3u8; 5000]));
        assert_eq!(t.etag(ContentCoding::Identity), format!("\"{}\"", t.hash));
        assert_eq!(t.etag(ContentCoding::Brotli), format!("\"{}-br\"", t.hash));
        assert!(t.coded_if_made(ContentCoding::Zstd).is_none());
        let z = t.coded(ContentCoding::Zstd);
        let again = t.coded_if_made(ContentCoding::Zstd).expect("made");
        assert_eq!(
            z.as_ptr(),
            again.as_ptr(),
            "the same bytes, not a second compression"
        );
        assert_eq!(t.coded(ContentCoding::Identity).len(), 5000);
        let empty = EncodedTile::new(None);
        assert!(empty.coded(ContentCoding::Gzip).is_empty());
    }

    #[test]
    fn mlt_is_absent_for_an_empty_tile_and_a_failure_is_kept() {
        let empty = EncodedTile::new(None);
        assert!(matches!(empty.mlt(), Ok(None)));
        let junk = EncodedTile::new(Some(vec![0x1a, 0xff, 0xff]));
        let first = junk.mlt().expect_err("not an MVT");
        let again = junk.mlt().expect_err("still not");
        assert!(std::sync::Arc::ptr_eq(&first, &again), "converted once");
        assert!(junk.mlt_if_made().is_none());
    }
}
