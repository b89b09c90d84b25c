//! Following a store that several instances share: a background task that, on every
//! notification from the store ([`SiteStore::wakeups`], PostgreSQL's `NOTIFY`) and at least
//! every [`POLL`], runs [`UpdateService::follow`], which applies the changes committed since
//! this instance's published seq to its snapshot, in seq order. The poll is the fallback for a
//! notification lost while the listener was reconnecting, and keeps `/health` current while
//! the database is away.
//!
//! Knows neither HTTP nor the database crates: the store wakes it, the service applies.
//!
//! [`SiteStore::wakeups`]: crate::store::SiteStore::wakeups

use std::sync::Arc;
use std::time::Duration;

use crate::model::Site;
use crate::snapshot::Snapshot;
use crate::update::UpdateService;

/// Longest time between two catch-ups when no notification arrives.
pub const POLL: Duration = Duration::from_secs(1);

/// Most changes one read of the changes table takes.
pub const BATCH: usize = 500;

/// Starts the follower of `updates` on the current tokio runtime, if its store is shared;
/// `None` (and nothing started) for a store only this process writes.
pub fn spawn(updates: Arc<UpdateService>) -> Option<tokio::task::JoinHandle<()>> {
    let wake = updates.store().wakeups()?;
    Some(tokio::spawn(async move {
        let mut failing = false;
        loop {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            let u = Arc::clone(&updates);
            match tokio::task::spawn_blocking(move || u.follow()).await {
                Ok(Ok(_)) => {
                    if failing {
                        tracing::info!("follow: caught up with the store again");
                    }
                    failing = false;
                }
                Ok(Err(e)) => {
                    // Logged once per outage; the poll keeps trying.
                    if !failing {
                        tracing::warn!(
                            "follow: {e}; serving the last state until the store is back"
                        );
                    }
                    failing = true;
                }
                Err(e) => tracing::error!("follow task failed: {e}"),
            }
        }
    }))
}

/// `snap` showing `site` at the state a change wrote: replaced, added, or (retired) removed.
/// Decided by what the snapshot holds, so a change it shows already is a no-op replacement,
/// not a failure.
pub fn with_entry(snap: &Snapshot, site: Site, retired: bool) -> Snapshot {
    let id = site.id.clone();
    let present = snap.site(id.as_str()).is_some();
    let next = match (retired, present) {
        (true, true) => snap.without_site(id.as_str()),
        (true, false) => None,
        (false, true) => snap.with_site(site),
        (false, false) => snap.with_new_site(site),
    };
    next.unwrap_or_else(|| snap.clone())
}
