//! `GET /api/events`: the change feed as Server-Sent Events, for open maps to refresh.
//!
//! One event per accepted change, in seq order, each once: `id:` is the change's seq and
//! `data:` is `{"seq", "site_id", "collection", "change", "bbox", "generation"}` (`change` one
//! of `created`, `updated`, `retired`, `restored`; `bbox` `[west, south, east, north]` in WGS84
//! degrees covering the old and the new geometry; `generation` the snapshot generation that
//! first showed it). Events carry no `event:` name, so `EventSource.onmessage` gets them.
//!
//! A stream starts after `Last-Event-ID` (what a browser sends when it reconnects) or
//! `?since=<seq>`, the header winning; with neither it starts at the newest change. It reads
//! the store's published feed, so an event is never sent before the map shows its change, and
//! resuming from any seq leaves no gap. A comment line (`: heartbeat`) goes out after
//! [`HEARTBEAT`] without events. At most `limits.max_event_streams` streams are open at once;
//! one more gets `503 too_many_streams`. When the server shuts down (or the store fails) the
//! stream ends with a comment line, `: closed; reconnect to resume`, and the client's
//! reconnection resumes from its `Last-Event-ID`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::Params;
use crate::model::RenewalKind;
use crate::store::{Change, SiteStore};

/// Longest silence on a stream before a comment line keeps it open.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Changes read from the store at a time.
const BATCH: usize = 200;

/// Open streams, across every router over the same process.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// Holds one of the open-stream slots until the stream is dropped.
struct Slot;

impl Slot {
    fn take(max: usize) -> Option<Slot> {
        OPEN.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The collection an event names for a site kind.
fn collection(kind: Option<RenewalKind>) -> &'static str {
    match kind {
        Some(k) if k.is_linear() => "roads",
        Some(RenewalKind::Compound) => "compounds",
        Some(RenewalKind::PocketPark) => "parks",
        Some(RenewalKind::Plaza) => "plazas",
        _ => "sites",
    }
}

fn event(c: &Change) -> Event {
    let data = json!({
        "seq": c.seq,
        "site_id": c.site.as_str(),
        "collection": collection(c.site_kind),
        "change": c.kind.as_str(),
        "bbox": c.bbox,
        "generation": c.generation,
        "photos": c.photos.iter().map(|id| super::photos::photo_ref(id)).collect::<Vec<_>>(),
        "position": c.position,
    });
    Event::default()
        .id(c.seq.to_string())
        .data(data.to_string())
}

fn start_seq(headers: &HeaderMap, params: &Params) -> Result<Option<i64>, ApiError> {
    let bad = |what: &str| {
        ApiError::bad_param(format!(
            "{what} must be the seq of a change, an integer >= 0"
        ))
    };
    if let Some(v) = headers.get("last-event-id") {
        let s = v.to_str().map_err(|_| bad("Last-Event-ID"))?.trim();
        return s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| bad("Last-Event-ID"));
    }
    match params.get("since") {
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| bad("since")),
        None => Ok(None),
    }
}

struct Feed {
    store: Arc<dyn SiteStore>,
    wake: tokio::sync::watch::Receiver<i64>,
    after: i64,
    pending: std::collections::VecDeque<Change>,
    _slot: Slot,
}

/// The next event of `feed`, waiting for a change when there is none; `None` ends the stream
/// (the service is going away, or the store failed: the client reconnects and resumes).
async fn next(mut feed: Feed) -> Option<(Result<Event, Infallible>, Feed)> {
    loop {
        if let Some(c) = feed.pending.pop_front() {
            feed.after = c.seq;
            return Some((Ok(event(&c)), feed));
        }
        // Mark the announcement seen before reading, so one that lands meanwhile wakes us.
        feed.wake.borrow_and_update();
        let (store, after) = (Arc::clone(&feed.store), feed.after);
        let read = tokio::task::spawn_blocking(move || store.changes_since(after, BATCH)).await;
        match read {
            Ok(Ok(changes)) if !changes.is_empty() => feed.pending.extend(changes),
            Ok(Ok(_)) => feed.wake.changed().await.ok()?,
            Ok(Err(e)) => {
                tracing::error!("events: {e}");
                return None;
            }
            Err(e) => {
                tracing::error!("events: {e}");
                return None;
            }
        }
    }
}

pub(super) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<impl IntoResponse, ApiError> {
    params.allow(&["since"])?;
    let updates = state.updates.clone().ok_or(ApiError::ReadOnly)?;
    let start = start_seq(&headers, &params)?;
    let slot = Slot::take(state.config.limits.max_event_streams).ok_or(ApiError::Unavailable {
        code: "too_many_streams",
        message: format!(
            "at most {} event streams may be open at once; retry later",
            state.config.limits.max_event_streams
        ),
    })?;
    let store = Arc::clone(updates.store());
    let feed = Feed {
        after: start.unwrap_or_else(|| store.published_seq()),
        wake: updates.subscribe(),
        store,
        pending: Default::default(),
        _slot: slot,
    };
    let closing = Event::default().comment("closed; reconnect to resume");
    let stream = futures_util::StreamExt::chain(
        futures_util::StreamExt::take_until(
            futures_util::stream::unfold(feed, next),
            super::server::shutting_down(),
        ),
        futures_util::stream::once(async move { Ok::<_, Infallible>(closing) }),
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}
