//! The write path, with one owner: [`UpdateService`] owns the store (behind the [`SiteStore`]
//! trait), the published snapshot and the tile cache, and runs the whole protocol of a change.
//!
//! Under the service's writer lock: read the current snapshot, find the site, check the
//! `If-Match` version (412), apply the rules, commit to the store (which checks the token and
//! the assignment again, atomically with the write), swap in a snapshot showing the change,
//! mark the change published, and last announce it to the change feed. Because the publish
//! and the announcement come after the swap, **the change feed never runs ahead of the map**:
//! a client that sees a change in `/api/changes` or `/api/events` finds it in the next tile,
//! item, nearest-parks answer and stats. Holding the lock through the swap means two writers
//! never publish snapshots out of order; readers never take it. The tile cache needs no call:
//! its entries are checked against the snapshot's change log, which holds the old and the new
//! bounds of every change.
//!
//! On a store several instances share (PostgreSQL), the commit is the same, but other
//! instances' changes reach the snapshot through [`UpdateService::follow`], which applies every
//! committed change in seq order; a write first catches up, so its `If-Match` is checked
//! against the newest state. Its own change is then applied directly when its seq is the next
//! one (nothing else was committed since the catch-up), and otherwise through `follow` with
//! the others, in seq order. The feed still never runs ahead of the map.
//!
//! Knows no HTTP: handlers parse, call [`UpdateService::apply`], and map [`UpdateError`] in
//! `http/error.rs`. Blocking (SQLite, PostgreSQL); call it from `spawn_blocking`.

use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;

use crate::model::{
    Account, BreachKind, RuleBreach, Site, SiteId, SitePatch, Timestamp, apply_patch,
};
use crate::snapshot::Snapshot;
use crate::store::{ChangeContext, ChangeKind, Commit, Idempotency, Replay, SiteStore, StoreError};
use crate::tiles::cache::TileCache;

/// How many past instants keep their rebuilt snapshot and tiles in memory (each snapshot costs
/// about as much as the current one's site shapes).
pub const AS_OF_CACHE: usize = 8;

/// Memory for the encoded tiles of one past instant, in bytes (8 MiB).
pub const AS_OF_TILE_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// The map at a past instant: its snapshot and the cache of its tiles (which never go stale).
#[derive(Clone)]
pub struct PastMap {
    /// The sites as they stood then, over today's base map.
    pub snapshot: Arc<Snapshot>,
    /// Tiles encoded from it.
    pub tiles: Arc<TileCache>,
}

/// What a writer asks for.
#[derive(Debug, Clone)]
pub enum Edit {
    /// A field update of status, progress, note or plan fields, under the lifecycle rules.
    Patch(SitePatch),
    /// A new full state (geometry and properties), already validated; id, fid and version are
    /// the service's.
    Replace(Box<Site>),
    /// A new site, already validated; its fid and version are the service's.
    Create(Box<Site>),
    /// Take the site off the map; its history stays.
    Retire,
    /// Bring a retired site back.
    Restore,
}

impl Edit {
    fn kind(&self) -> ChangeKind {
        match self {
            Edit::Patch(_) | Edit::Replace(_) => ChangeKind::Updated,
            Edit::Create(_) => ChangeKind::Created,
            Edit::Retire => ChangeKind::Retired,
            Edit::Restore => ChangeKind::Restored,
        }
    }
}

/// One write: who, which site, based on which version, what.
#[derive(Debug, Clone)]
pub struct Write {
    /// The authenticated account.
    pub actor: Account,
    /// The site; for [`Edit::Create`] an empty id lets the service choose one.
    pub id: SiteId,
    /// The versions `If-Match` names; ignored for [`Edit::Create`].
    pub expected: Vec<u64>,
    /// The change.
    pub edit: Edit,
    /// A note recorded with the change.
    pub note: Option<String>,
    /// A reason recorded with the change.
    pub reason: Option<String>,
    /// The client's idempotency key, if it sent one: a repeat of the key by the same account
    /// is answered with the change the key made, not applied again.
    pub idempotency: Option<RequestKey>,
}

/// A client's idempotency key (`Idempotency-Key`) and a fingerprint of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    /// The key as sent (1–255 visible ASCII characters, checked by the caller).
    pub key: String,
    /// The request in a normal form; a repeat of the key with another request is refused.
    pub request: String,
}

/// A change that was committed and published.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The site after the change (for a retirement: as it was, at its new version).
    pub site: Site,
    /// The change's seq in the feed.
    pub seq: i64,
    /// What the change was.
    pub kind: ChangeKind,
    /// Whether this answers a repeat of an idempotency key (nothing was written now).
    pub replayed: bool,
}

/// Why a write was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// No site has this id.
    #[error("no site with id {0:?}")]
    UnknownSite(String),
    /// The site is retired: restore it first.
    #[error("site {0} is retired; a planner can restore it")]
    Retired(String),
    /// A restore of a site that is not retired.
    #[error("site {0} is not retired")]
    NotRetired(String),
    /// A create with an id that is in use (or was, by a retired site).
    #[error("a site with id {0:?} exists already")]
    IdTaken(String),
    /// `If-Match` does not name the current version; nothing was written.
    #[error("site is at version {}", .current.version)]
    VersionMismatch {
        /// The site as it is now.
        current: Box<Site>,
    },
    /// A lifecycle or rights rule of a field update.
    #[error("{}", .0.message)]
    Rule(RuleBreach),
    /// The token was revoked before the write committed.
    #[error("the token was revoked")]
    Revoked,
    /// The site is not (or no longer) in the account's assignment.
    #[error("site {site} is not in the assignment of {account}")]
    NotAssigned {
        /// The site.
        site: String,
        /// The account's name.
        account: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// An idempotency key used before by the same account for another request.
    #[error("idempotency key {key:?} was used for another request")]
    KeyReused {
        /// The key.
        key: String,
    },
    /// The update names a photo that was not uploaded to this site; nothing was written.
    #[error("site {site} has no photo {id}")]
    UnknownPhoto {
        /// The photo id named.
        id: String,
        /// The site.
        site: String,
    },
    /// The update names a photo attached to another change; nothing was written.
    #[error("photo {id} is attached to change {seq} already")]
    PhotoAttached {
        /// The photo.
        id: String,
        /// The change it is attached to.
        seq: i64,
    },
    /// The snapshot did not hold a site the store and the service agree on (a bug).
    #[error("snapshot out of step with the store for site {0}")]
    Inconsistent(String),
}

/// Why an `as_of` instant cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum AsOfError {
    /// Before the store was seeded: there is no map then.
    #[error("as_of {at} is before the data set was seeded ({seeded})")]
    BeforeSeeding {
        /// The instant asked for.
        at: Timestamp,
        /// When the store was seeded.
        seeded: Timestamp,
    },
    /// Now or later: the answer could still change.
    #[error("as_of {0} is not in the past")]
    NotPast(Timestamp),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// The one owner of the write path (see the module docs).
pub struct UpdateService {
    store: Arc<dyn SiteStore>,
    /// Whether other processes commit to the store too (PostgreSQL): then every change,
    /// this process's own included, reaches the snapshot through [`UpdateService::follow`].
    shared: bool,
    snapshot: Arc<ArcSwap<Snapshot>>,
    tiles: Arc<TileCache>,
    writer: Mutex<()>,
    announce: tokio::sync::watch::Sender<i64>,
    as_of: Mutex<Vec<(Timestamp, PastMap)>>,
}

impl std::fmt::Debug for UpdateService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateService")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded state is valid between statements, so a panic elsewhere leaves it usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn union(a: Option<[f64; 4]>, b: Option<[f64; 4]>) -> Option<[f64; 4]> {
    match (a, b) {
        (Some(a), Some(b)) => Some([
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]),
        (a, None) => a,
        (None, b) => b,
    }
}

fn lnglat_bounds(site: &Site) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    let r = site.geometry.bounding_rect()?;
    Some([r.min().x, r.min().y, r.max().x, r.max().y])
}

impl UpdateService {
    /// The service over `store`, publishing into `snapshot`; `tiles` is the cache it keeps
    /// exact.
    pub fn new(
        store: Arc<dyn SiteStore>,
        snapshot: Arc<ArcSwap<Snapshot>>,
        tiles: Arc<TileCache>,
    ) -> UpdateService {
        let (announce, _) = tokio::sync::watch::channel(store.published_seq());
        UpdateService {
            shared: store.wakeups().is_some(),
            store,
            snapshot,
            tiles,
            writer: Mutex::new(()),
            announce,
            as_of: Mutex::new(Vec::new()),
        }
    }

    /// The store behind the service.
    pub fn store(&self) -> &Arc<dyn SiteStore> {
        &self.store
    }

    /// The tile cache the service keeps exact.
    pub fn tiles(&self) -> &Arc<TileCache> {
        &self.tiles
    }

    /// A receiver of the newest published seq, woken after each change is on the map.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<i64> {
        self.announce.subscribe()
    }

    /// Runs one write through the whole protocol (see the module docs).
    pub fn apply(&self, w: Write) -> Result<Applied, UpdateError> {
        let _writer = lock(&self.writer);
        if self.shared {
            // Check If-Match against what every instance committed, not a stale map.
            self.follow_locked()?;
        }
        if let Some(replay) = self.replay(&w)? {
            return Ok(replay);
        }
        let snap = self.snapshot.load_full();
        let id = w.id.as_str();
        let kind = w.edit.kind();
        let current: Option<Site> = match &w.edit {
            Edit::Create(_) => {
                if snap.site(id).is_some() {
                    return Err(UpdateError::IdTaken(id.to_owned()));
                }
                None
            }
            Edit::Restore => match self.store.stored(id)? {
                None => return Err(UpdateError::UnknownSite(id.to_owned())),
                Some(s) if !s.retired => return Err(UpdateError::NotRetired(id.to_owned())),
                Some(s) => Some(s.site),
            },
            _ => match snap.site(id) {
                Some(s) => Some(s.as_ref().clone()),
                None => {
                    return Err(match self.store.stored(id)? {
                        Some(s) if s.retired => UpdateError::Retired(id.to_owned()),
                        _ => UpdateError::UnknownSite(id.to_owned()),
                    });
                }
            },
        };
        if let Some(cur) = &current
            && !w.expected.contains(&cur.version)
        {
            return Err(UpdateError::VersionMismatch {
                current: Box::new(cur.clone()),
            });
        }
        // Never let the clock run backwards within one site's record.
        let now = current
            .as_ref()
            .map_or_else(Timestamp::now, |c| Timestamp::now().max(c.updated_at));
        let next = match (&w.edit, &current) {
            (Edit::Patch(p), Some(cur)) => {
                apply_patch(cur, p, w.actor.role, now).map_err(UpdateError::Rule)?
            }
            (Edit::Replace(site), Some(cur)) => Site {
                id: cur.id.clone(),
                fid: cur.fid,
                project_id: if site.project_id.is_empty() {
                    cur.id.to_string()
                } else {
                    site.project_id.clone()
                },
                version: cur.version + 1,
                updated_at: now,
                ..site.as_ref().clone()
            },
            (Edit::Create(site), None) => {
                let fid = self.store.next_fid()?;
                // No id given: the kind and the fid make one (`pocket-park-241`).
                let id = if w.id.as_str().is_empty() {
                    SiteId(format!("{}-{fid}", site.kind.as_str().replace('_', "-")))
                } else {
                    w.id.clone()
                };
                if snap.site(id.as_str()).is_some() {
                    return Err(UpdateError::IdTaken(id.to_string()));
                }
                let project_id = if site.project_id.is_empty() {
                    id.to_string()
                } else {
                    site.project_id.clone()
                };
                Site {
                    id,
                    fid,
                    project_id,
                    version: 1,
                    updated_at: now,
                    ..site.as_ref().clone()
                }
            }
            (Edit::Retire | Edit::Restore, Some(cur)) => Site {
                version: cur.version + 1,
                updated_at: now,
                ..cur.clone()
            },
            _ => return Err(UpdateError::Inconsistent(id.to_owned())),
        };
        let bbox = union(
            current.as_ref().and_then(lnglat_bounds),
            lnglat_bounds(&next),
        );
        let generation = snap.generation + 1;
        let (photos, position) = match &w.edit {
            Edit::Patch(p) => (p.photos.as_deref().unwrap_or_default(), p.position),
            _ => (&[][..], None),
        };
        let commit = Commit {
            kind,
            before: current.as_ref(),
            after: &next,
            ctx: ChangeContext {
                actor: &w.actor,
                note: w.note.as_deref(),
                reason: w.reason.as_deref(),
                idempotency: w.idempotency.as_ref().map(|k| Idempotency {
                    key: &k.key,
                    request: &k.request,
                }),
            },
            bbox,
            generation: Some(generation),
            photos,
            position,
        };
        let seq = match self.store.commit(&commit) {
            Ok(seq) => seq,
            Err(StoreError::VersionConflict { .. }) if self.shared => {
                // Another instance wrote the site first: show its change, answer 412.
                self.follow_locked()?;
                return Err(match self.snapshot.load().site(next.id.as_str()) {
                    Some(s) => UpdateError::VersionMismatch {
                        current: Box::new(s.as_ref().clone()),
                    },
                    None => UpdateError::Retired(next.id.to_string()),
                });
            }
            Err(StoreError::VersionConflict { .. }) => {
                return Err(self.republish(&snap, next.id.as_str()));
            }
            Err(StoreError::KeyUsed(winner)) => {
                // Another instance committed this key first (a client retrying on another
                // instance, or two connections): show its change, answer as a replay.
                if self.shared {
                    self.follow_locked()?;
                }
                return self.replayed(&w, winner);
            }
            Err(StoreError::IdTaken(id)) => return Err(UpdateError::IdTaken(id)),
            Err(StoreError::Revoked(_)) => return Err(UpdateError::Revoked),
            Err(StoreError::UnknownPhoto { id, site }) => {
                return Err(UpdateError::UnknownPhoto { id, site });
            }
            Err(StoreError::PhotoAttached { id, seq }) => {
                return Err(UpdateError::PhotoAttached { id, seq });
            }
            Err(StoreError::NotAssigned { .. }) => {
                return Err(UpdateError::NotAssigned {
                    site: id.to_owned(),
                    account: w.actor.name.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        if self.shared {
            if self.store.published_seq() + 1 == seq {
                // Nothing was committed between the map and this change (the writer lock keeps
                // the follower out): it is the next one, applied as the follower would apply
                // it, without reading it back.
                let shown =
                    crate::follow::with_entry(&snap, next.clone(), kind == ChangeKind::Retired);
                self.snapshot.store(Arc::new(shown));
                self.store.publish(seq);
                self.announce.send_replace(seq);
            } else {
                // In seq order with the changes of other instances, ours among them.
                self.follow_locked()?;
            }
            if self.store.published_seq() < seq {
                return Err(UpdateError::Inconsistent(id.to_owned()));
            }
            return Ok(Applied {
                site: next,
                seq,
                kind,
                replayed: false,
            });
        }
        let published = match kind {
            ChangeKind::Updated => snap.with_site(next.clone()),
            ChangeKind::Created | ChangeKind::Restored => snap.with_new_site(next.clone()),
            ChangeKind::Retired => snap.without_site(next.id.as_str()),
        }
        .ok_or_else(|| UpdateError::Inconsistent(id.to_owned()))?;
        self.snapshot.store(Arc::new(published));
        // Only now may history and the feed show the change: the map already does.
        self.store.publish(seq);
        self.announce.send_replace(seq);
        Ok(Applied {
            site: next,
            seq,
            kind,
            replayed: false,
        })
    }

    /// Applies every change committed to a shared store after the published seq, in seq
    /// order, to the snapshot (one swap per batch; only the tiles a change touched go stale,
    /// through the snapshot's change log), marks them published and announces them to the
    /// feed. Stops before a gap in the seqs (a change not visible yet) and takes it up on the
    /// next call, so no change is skipped or applied twice. Returns how many it applied.
    /// Called by [`crate::follow`] on every notification and poll; blocking.
    pub fn follow(&self) -> Result<usize, UpdateError> {
        let _writer = lock(&self.writer);
        self.follow_locked()
    }

    fn follow_locked(&self) -> Result<usize, UpdateError> {
        let mut applied = 0;
        loop {
            let after = self.store.published_seq();
            let batch = self.store.committed_after(after, crate::follow::BATCH)?;
            let full = batch.len() == crate::follow::BATCH;
            let mut snap = self.snapshot.load_full();
            let mut last = after;
            let mut gap = false;
            for entry in batch {
                if entry.change.seq != last + 1 {
                    tracing::debug!(
                        "feed: seq {} follows {last}; waiting for the gap to fill",
                        entry.change.seq
                    );
                    gap = true;
                    break;
                }
                snap = Arc::new(crate::follow::with_entry(&snap, entry.site, entry.retired));
                last = entry.change.seq;
            }
            if last > after {
                self.snapshot.store(snap);
                self.store.publish(last);
                self.announce.send_replace(last);
                applied += (last - after) as usize;
            }
            if gap || !full {
                return Ok(applied);
            }
        }
    }

    /// The answer to a repeat of `w`'s idempotency key: the site at the version the key's
    /// change wrote. Under the writer lock, so a key's first write and its repeat cannot both
    /// apply; `None` when the key is new (or none was sent).
    fn replay(&self, w: &Write) -> Result<Option<Applied>, UpdateError> {
        let Some(k) = &w.idempotency else {
            return Ok(None);
        };
        let Some(r) = self.store.replay(w.actor.id, &k.key)? else {
            return Ok(None);
        };
        self.replayed(w, r).map(Some)
    }

    /// The answer to `w`, whose idempotency key made change `r` before: that change as a
    /// replay, or [`UpdateError::KeyReused`] when `w` is another request.
    fn replayed(&self, w: &Write, r: Replay) -> Result<Applied, UpdateError> {
        let same = w
            .idempotency
            .as_ref()
            .is_some_and(|k| k.request == r.request);
        if !same || r.site_id != w.id.as_str() {
            let key = w.idempotency.as_ref().map(|k| k.key.clone());
            return Err(UpdateError::KeyReused {
                key: key.unwrap_or_default(),
            });
        }
        let (site, retired) = self
            .store
            .version(&r.site_id, r.version)?
            .ok_or_else(|| UpdateError::Inconsistent(r.site_id.clone()))?;
        Ok(Applied {
            site,
            seq: r.seq,
            kind: if retired {
                ChangeKind::Retired
            } else {
                w.edit.kind()
            },
            replayed: true,
        })
    }

    /// The store holds another version of `id` than the map: only if something wrote the
    /// file behind this process's back (the serve lock keeps other services out). Shows the
    /// stored state, so the site is not stuck answering 412 against a version no client can
    /// see, and returns the 412 to send.
    fn republish(&self, snap: &Snapshot, id: &str) -> UpdateError {
        let stored = match self.store.stored(id) {
            Ok(Some(s)) => s,
            Ok(None) => return UpdateError::UnknownSite(id.to_owned()),
            Err(e) => return e.into(),
        };
        tracing::warn!(
            "store holds {id} at version {}, the map does not; republishing it",
            stored.site.version
        );
        let published = match (stored.retired, snap.site(id).is_some()) {
            (true, true) => snap.without_site(id),
            (true, false) => None,
            (false, true) => snap.with_site(stored.site.clone()),
            (false, false) => snap.with_new_site(stored.site.clone()),
        };
        if let Some(p) = published {
            self.snapshot.store(Arc::new(p));
        }
        self.store.publish(stored.seq);
        self.announce.send_replace(self.store.published_seq());
        if stored.retired {
            UpdateError::Retired(id.to_owned())
        } else {
            UpdateError::VersionMismatch {
                current: Box::new(stored.site),
            }
        }
    }

    /// The map as it stood at `at`, rebuilt from the stored versions (kept for the last
    /// [`AS_OF_CACHE`] instants asked for). `at` must lie after seeding and before now: a past
    /// instant's answer never changes, since every later change is stamped later.
    pub fn as_of(&self, at: Timestamp) -> Result<PastMap, AsOfError> {
        if at >= Timestamp::now() {
            return Err(AsOfError::NotPast(at));
        }
        if let Some(seeded) = self.store.seeded_at()?
            && at < seeded
        {
            return Err(AsOfError::BeforeSeeding { at, seeded });
        }
        if let Some((_, m)) = lock(&self.as_of).iter().find(|(t, _)| *t == at) {
            return Ok(m.clone());
        }
        let sites = self.store.sites_as_of(at)?;
        let past = PastMap {
            snapshot: Arc::new(self.snapshot.load().with_sites(sites)),
            tiles: Arc::new(TileCache::new(AS_OF_TILE_CACHE_BYTES)),
        };
        let mut cache = lock(&self.as_of);
        if cache.len() >= AS_OF_CACHE {
            cache.remove(0);
        }
        cache.push((at, past.clone()));
        Ok(past)
    }
}

impl From<RuleBreach> for UpdateError {
    fn from(b: RuleBreach) -> Self {
        UpdateError::Rule(b)
    }
}

/// Whether a rule breach is about rights (403) rather than the request (422).
pub fn is_forbidden(b: &RuleBreach) -> bool {
    b.kind == BreachKind::Forbidden
}
