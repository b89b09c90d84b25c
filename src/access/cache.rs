//! The access model of the latest snapshot, kept between requests and derived afresh for each
//! new snapshot: incrementally when only statuses changed, from a new network when any
//! compound, park or street moved, appeared or went.
//!
//! The cache holds no state of its own beyond the last model: whatever produced a snapshot
//! (a status update, a geometry edit, a reload), the next answer is the model of that
//! snapshot.

use std::sync::{Arc, Mutex};

use super::AccessModel;
use crate::snapshot::Snapshot;

/// The last access model, shared by the requests of one service.
#[derive(Debug, Default)]
pub struct AccessCache {
    last: Mutex<Option<Arc<AccessModel>>>,
}

impl AccessCache {
    /// An empty cache; the first request builds the network.
    pub fn new() -> AccessCache {
        AccessCache::default()
    }

    /// The access model of `snap`. Blocking (it may build the network): call it off the
    /// async runtime's threads.
    pub fn get(&self, snap: &Snapshot) -> Arc<AccessModel> {
        // A poisoned lock only means a panic elsewhere mid-update; the value is still a
        // complete model or none, so take it.
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let model = match last.as_ref() {
            Some(m) if m.describes(snap) => return Arc::clone(m),
            Some(m) => Arc::new(m.advance(snap)),
            None => Arc::new(AccessModel::build(snap)),
        };
        // An older snapshot read by a slow request does not replace a newer model.
        if last
            .as_ref()
            .is_none_or(|m| m.generation <= snap.generation)
        {
            *last = Some(Arc::clone(&model));
        }
        model
    }
}
