//! The change feed in PostgreSQL: history and feed reads, the committed changes an instance
//! applies, and the `LISTEN` thread that wakes it.
//!
//! The listener has a connection of its own (a `LISTEN` must stay on one session). It wakes
//! the follower on every notification, and also each time it (re)connects, since
//! notifications sent while it was away are lost: the follower then reads the changes table
//! from its own mark, so a lost notification delays a change by at most the poll interval and
//! never loses it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Row};

use super::{Session, pg_error, schema, sites};
use crate::store::history::{COLUMN_COUNT, RawChange, change};
use crate::store::{Change, FeedEntry, StoreError};

/// The change columns, typed as [`RawChange`] wants them.
const COLUMNS: &str = "c.seq, c.site_id, c.at, c.actor, c.role, c.from_status, \
                       c.from_progress::bigint, c.to_status, c.to_progress::bigint, c.note, \
                       c.reason, c.plan, c.version, c.change_kind, c.bbox, c.generation, \
                       c.geometry_changed, c.site_kind, c.photos, c.position";

/// How long the listener waits before connecting again after losing the database.
const RECONNECT: Duration = Duration::from_millis(500);

fn raw(r: &Row) -> RawChange {
    RawChange {
        seq: r.get(0),
        site: r.get(1),
        at: r.get(2),
        actor: r.get(3),
        role: r.get(4),
        from_status: r.get(5),
        from_progress: r.get(6),
        to_status: r.get(7),
        to_progress: r.get(8),
        note: r.get(9),
        reason: r.get(10),
        plan: r.get(11),
        version: r.get(12),
        kind: r.get(13),
        bbox: r.get(14),
        generation: r.get(15),
        geometry_changed: r.get(16),
        site_kind: r.get(17),
        photos: r.get(18),
        position: r.get(19),
    }
}

/// The newest committed seq (0 when there is none).
pub(super) fn head(c: &mut Client) -> Result<i64, StoreError> {
    Ok(c.query_one("SELECT coalesce(max(seq), 0) FROM change", &[])
        .map_err(pg_error)?
        .get(0))
}

/// The newest snapshot generation recorded with a change (0 if none).
pub(super) fn last_generation(c: &mut Client) -> Result<u64, StoreError> {
    let g: Option<i64> = c
        .query_one("SELECT max(generation) FROM change", &[])
        .map_err(pg_error)?
        .get(0);
    Ok(g.map_or(0, |g| g.max(0) as u64))
}

/// The changes of `site` up to `upto`, oldest first.
pub(super) fn history(c: &mut Client, site: &str, upto: i64) -> Result<Vec<Change>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM change c WHERE site_id = $1 AND seq <= $2 ORDER BY seq"
            ),
            &[&site, &upto],
        )
        .map_err(pg_error)?;
    rows.iter().map(|r| change(raw(r))).collect()
}

/// Up to `limit` changes with `since < seq <= upto`, in order.
pub(super) fn changes(
    c: &mut Client,
    since: i64,
    upto: i64,
    limit: usize,
) -> Result<Vec<Change>, StoreError> {
    let limit = limit as i64;
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM change c WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
            ),
            &[&since, &upto, &limit],
        )
        .map_err(pg_error)?;
    rows.iter().map(|r| change(raw(r))).collect()
}

/// Up to `limit` committed changes after `since`, each with the state it wrote.
/// Every instance runs it after each change (prepared once per connection).
pub(super) fn committed_after(
    c: &mut Session,
    since: i64,
    limit: usize,
) -> Result<Vec<FeedEntry>, StoreError> {
    let limit = limit as i64;
    let query = c.prepared(&format!(
        "SELECT {COLUMNS}, v.feature::text, v.retired
         FROM (SELECT * FROM change WHERE seq > $1 ORDER BY seq LIMIT $2) c
         JOIN site_version v ON v.site_id = c.site_id AND v.version = c.version
         ORDER BY c.seq"
    ))?;
    let rows = c.query(&query, &[&since, &limit]).map_err(pg_error)?;
    rows.iter()
        .map(|r| {
            let raw = raw(r);
            let version = raw.version;
            Ok(FeedEntry {
                change: change(raw)?,
                site: sites::from_record(r.get(COLUMN_COUNT), version)?,
                retired: r.get(COLUMN_COUNT + 1),
            })
        })
        .collect()
}

/// Starts the listener thread (see the module docs); it ends when `stop` is set.
pub(super) fn listen(
    config: postgres::Config,
    wake: Arc<tokio::sync::Notify>,
    reachable: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let spawned = std::thread::Builder::new()
        .name("pg-listen".into())
        .spawn(move || {
            while !stop.load(Ordering::Acquire) {
                match listen_once(&config, &wake, &stop) {
                    Ok(()) => return,
                    Err(e) => {
                        if reachable.swap(false, Ordering::AcqRel) {
                            tracing::warn!("store: lost the database ({e}); reconnecting");
                        }
                        std::thread::sleep(RECONNECT);
                    }
                }
            }
        });
    if let Err(e) = spawned {
        // Without the listener the follower still polls; changes arrive within its interval.
        tracing::warn!("store: cannot start the LISTEN thread ({e}); polling only");
    }
}

/// One session of the listener: connect, `LISTEN`, wake on each notification; returns `Ok`
/// when asked to stop, an error when the connection failed.
fn listen_once(
    config: &postgres::Config,
    wake: &tokio::sync::Notify,
    stop: &AtomicBool,
) -> Result<(), StoreError> {
    let mut client = config.connect(NoTls).map_err(pg_error)?;
    client
        .batch_execute(&format!("LISTEN {}", schema::CHANNEL))
        .map_err(pg_error)?;
    // Anything committed while no one listened: catch up now.
    wake.notify_one();
    loop {
        if stop.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut woke = false;
        {
            let mut notifications = client.notifications();
            let mut iter = notifications.timeout_iter(Duration::from_millis(500));
            while let Some(_n) = iter.next().map_err(pg_error)? {
                woke = true;
                wake.notify_one();
            }
        }
        if client.is_closed() {
            return Err(StoreError::Unavailable("listener connection closed".into()));
        }
        // A cheap round trip, so a server that went away is noticed within the timeout.
        if !woke {
            client.batch_execute("").map_err(pg_error)?;
        }
    }
}
