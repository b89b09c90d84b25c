//! Comparing imported sites with a data set's store and writing the difference through the
//! write service ([`crate::update::UpdateService`]), so every change gets its history row and
//! event as an edit over HTTP would.
//!
//! All or nothing: every check (district, duplicate ids, retired ids, the store's lock) runs
//! before the first write. The writes are then one transaction per site; only a failure of
//! the store itself between them (disk full, power cut) can leave part of an import written,
//! and re-running the same import then finishes it (written sites compare unchanged).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use geo::Intersects;

use super::sites::ReadSite;
use crate::export::cli::Meter;
use crate::model::{Account, BaseKind, Role, Site};
use crate::snapshot::Snapshot;
use crate::store::{NewAccount, OpenedStore, SiteStore, StoreLocation};
use crate::tiles::cache::TileCache;
use crate::update::{Edit, UpdateService, Write};

/// What an import does to one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new id.
    Created,
    /// An id the store holds, with some field or the geometry changed.
    Updated,
    /// Same as the store holds: nothing written.
    Unchanged,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        }
    }
}

/// What an import did (or, for a dry run, would do), site by site.
#[derive(Debug, Clone)]
pub struct Report {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Per site id, in file order.
    pub actions: Vec<(String, Action)>,
}

impl Report {
    /// How many sites got `a`.
    pub fn count(&self, a: Action) -> usize {
        self.actions.iter().filter(|(_, x)| *x == a).count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "would be " } else { "" };
        for (id, a) in &self.actions {
            writeln!(f, "{id}: {verb}{}", a.as_str())?;
        }
        writeln!(
            f,
            "{} created, {} updated, {} unchanged{}",
            self.count(Action::Created),
            self.count(Action::Updated),
            self.count(Action::Unchanged),
            if self.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        )
    }
}

/// Imports `read` (from `file`) into the store `db` of the data set in `dir`.
pub fn import(
    file: &Path,
    dir: &Path,
    db: &StoreLocation,
    read: Vec<ReadSite>,
    dry_run: bool,
    actor: &str,
) -> Result<Report, String> {
    let name = file.display();
    let mut dataset = crate::load::load_dataset(dir).map_err(|e| e.to_string())?;
    // A SQLite file is refused while a server owns it (it would not see the writes); the
    // instances on a PostgreSQL store follow the import's changes like any other.
    let OpenedStore { store, lock: _lock } =
        db.open(&dataset.sites, true).map_err(|e| e.to_string())?;
    dataset.sites = store.sites().map_err(|e| e.to_string())?;
    let district: Vec<_> = dataset
        .base
        .iter()
        .filter(|b| b.kind == BaseKind::District)
        .map(|b| b.geometry.clone())
        .collect();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for r in &read {
        let id = r.site.id.to_string();
        if let Some(first) = seen.insert(id.clone(), r.at.clone()) {
            errors.push(format!(
                "{name}: {}: duplicate id {id:?} (first at {first})",
                r.at
            ));
        }
        if !district.is_empty() && !district.iter().any(|d| d.intersects(&r.site.geometry)) {
            errors.push(format!(
                "{name}: {}: site {id:?} lies outside the district (wrong --crs, or swapped lon/lat?)",
                r.at
            ));
        }
        match store.stored(&id) {
            Ok(Some(s)) if s.retired => errors.push(format!(
                "{name}: {}: site {id:?} is retired; restore it before importing over it",
                r.at
            )),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "{} bad row(s), nothing written:\n{}",
            errors.len(),
            errors.join("\n")
        ));
    }
    let snapshot = Snapshot::build(dataset);
    let mut plan = Vec::new();
    for r in read {
        let (action, expected) = match snapshot.site(r.site.id.as_str()) {
            None => (Action::Created, Vec::new()),
            Some(cur) => {
                let same = Site {
                    fid: cur.fid,
                    version: cur.version,
                    updated_at: cur.updated_at,
                    project_id: if r.site.project_id.is_empty() {
                        cur.project_id.clone()
                    } else {
                        r.site.project_id.clone()
                    },
                    ..r.site.clone()
                };
                if same == **cur {
                    (Action::Unchanged, Vec::new())
                } else {
                    (Action::Updated, vec![cur.version])
                }
            }
        };
        plan.push((r.site, action, expected));
    }
    let report = Report {
        dry_run,
        actions: plan
            .iter()
            .map(|(s, a, _)| (s.id.to_string(), *a))
            .collect(),
    };
    if dry_run {
        return Ok(report);
    }
    let account = actor_account(store.as_ref(), actor)?;
    let service = UpdateService::new(
        Arc::clone(&store),
        Arc::new(ArcSwap::from_pointee(snapshot)),
        Arc::new(TileCache::new(0)),
    );
    let writes = plan
        .iter()
        .filter(|(_, a, _)| *a != Action::Unchanged)
        .count();
    let mut meter = Meter::new("import sites", writes as u64);
    for (site, action, expected) in plan {
        let id = site.id.clone();
        let edit = match action {
            Action::Unchanged => continue,
            Action::Created => Edit::Create(Box::new(site)),
            Action::Updated => Edit::Replace(Box::new(site)),
        };
        service
            .apply(Write {
                actor: account.clone(),
                id: id.clone(),
                expected,
                edit,
                note: Some(format!("import from {name}")),
                reason: None,
                idempotency: None,
            })
            .map_err(|e| format!("{name}: site {id}: {e}"))?;
        meter.tick();
    }
    meter.finish();
    Ok(report)
}

/// The planner account named `name`, created (its token discarded) when missing.
fn actor_account(store: &dyn SiteStore, name: &str) -> Result<Account, String> {
    let accounts = store.accounts().map_err(|e| e.to_string())?;
    if let Some(e) = accounts.into_iter().find(|e| e.account.name == name) {
        if e.revoked_at.is_some() {
            return Err(format!("account {name:?} is revoked; pass another --actor"));
        }
        if e.account.role != Role::Planner {
            return Err(format!(
                "account {name:?} is not a planner; pass another --actor"
            ));
        }
        return Ok(e.account);
    }
    store
        .add_account(&NewAccount {
            name: name.to_owned(),
            role: Role::Planner,
            team: None,
            subdistricts: Vec::new(),
            sites: Vec::new(),
        })
        .map(|(a, _)| a)
        .map_err(|e| e.to_string())
}
