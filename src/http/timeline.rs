//! `GET /api/stats/timeline`: completed sites per kind, month by month, against the plan's
//! finish dates and targets (computed in [`crate::timeline`]). Reads the store's history for
//! when sites became done; a read-only service uses the data set's dates alone.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use super::extract::Params;
use crate::model::{SiteId, Timestamp};
use crate::timeline::timeline as compute;

/// Most history changes read for one timeline (pages of [`PAGE`]); older ones beyond it are
/// not used, and the answer's `basis` says how many dates came from the history.
pub const MAX_CHANGES: usize = 200_000;
const PAGE: usize = 1_000;

pub(super) async fn timeline(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.allow(&[])?;
    let snap = state.current();
    let today = state.config.today();
    let store = state.store.clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut done: Vec<(SiteId, Timestamp)> = Vec::new();
        if let Some(store) = store {
            let mut since = 0;
            let mut read = 0;
            while read < MAX_CHANGES {
                let page = store.changes_since(since, PAGE)?;
                let Some(last) = page.last() else { break };
                since = last.seq;
                read += page.len();
                done.extend(
                    page.into_iter()
                        .filter(|c| c.to.0.is_done() && !c.from.0.is_done())
                        .map(|c| (c.site, c.at)),
                );
            }
        }
        Ok::<_, crate::store::StoreError>(compute(&snap, &done, today))
    })
    .await
    .map_err(|e| {
        tracing::error!("timeline task failed: {e}");
        ApiError::Internal
    })?
    .map_err(super::sites::internal("timeline history"))?;
    serde_json::to_value(report).map(Json).map_err(|e| {
        tracing::error!("timeline serialisation failed: {e}");
        ApiError::Internal
    })
}
