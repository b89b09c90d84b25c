//! The lifecycle rules of a status update: what a role may change on a site, and how.
//!
//! [`apply_patch`] takes a site's current state, a [`SitePatch`] and the writer's [`Role`], and gives
//! the site's next state or the one rule the patch breaks. Pure: no clock, store or HTTP.
//!
//! The rules:
//! - forward status moves (any number of stages) for field teams and planners, except into
//!   `accepted` (已验收), which is a planner's decision; a backward move (a lower stage, or out
//!   of `completed`/`accepted`) only by a planner, with a `reason`;
//! - `suspended` sits outside the order: a field team may report it (an observation: work
//!   has stopped) on any site not yet completed; leaving it (resuming, at any stage) is a
//!   planner's decision and needs a `reason`, like a backward move, since the stage works
//!   resume at may be lower than the one they stopped at;
//! - `completed`/`accepted` imply progress 100 (set automatically when the patch omits it);
//! - progress is 0–100 and only a planner, with a reason, lowers it;
//! - notes and reasons are at most [`MAX_NOTE_CHARS`] characters; an empty note clears it;
//! - plan fields (dates, investment) are a planner's; the finish may not precede the start;
//! - a patch that leaves the site as it is (`no_change`) is refused, so versions and the
//!   history count real changes only; attaching photos counts as a change, a position alone
//!   does not.

use serde::Deserialize;

use super::evidence::{Position, check_photo_list};
use super::{Date, RenewalStatus, Role, Site, Timestamp};

/// Longest note or reason, in characters (not bytes).
pub const MAX_NOTE_CHARS: usize = 2_000;

/// Largest investment a site may be planned at, in 万元 (100 亿元); catches unit mistakes.
pub const MAX_INVESTMENT_WAN: f64 = 1_000_000.0;

/// A requested change of one site; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    /// New lifecycle status.
    pub status: Option<RenewalStatus>,
    /// New percent complete; checked against 0–100 by the rules, so out-of-range values get a
    /// rule error rather than a type error.
    pub progress: Option<i64>,
    /// New field note; `""` clears it.
    pub note: Option<String>,
    /// Why: required for backward moves, recorded in the history.
    pub reason: Option<String>,
    /// New planned start (planners only).
    pub planned_start: Option<Date>,
    /// New planned finish (planners only).
    pub planned_finish: Option<Date>,
    /// New budgeted investment in 万元 (planners only).
    pub investment_wan: Option<f64>,
    /// Ids of photos already uploaded to the site, attached to this update as evidence; a
    /// patch carrying only photos is an update of its own.
    pub photos: Option<Vec<String>>,
    /// Where the device was when the update was made; recorded, never required, and not a
    /// change by itself.
    pub position: Option<Position>,
}

impl SitePatch {
    /// Whether the patch touches a plan field.
    pub fn touches_plan(&self) -> bool {
        self.planned_start.is_some()
            || self.planned_finish.is_some()
            || self.investment_wan.is_some()
    }

    /// Whether the patch changes anything at all (a reason or a position alone does not;
    /// photos do).
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.progress.is_none()
            && self.note.is_none()
            && !self.touches_plan()
            && !self.attaches_photos()
    }

    /// Whether the patch attaches at least one photo.
    pub fn attaches_photos(&self) -> bool {
        self.photos.as_ref().is_some_and(|p| !p.is_empty())
    }
}

/// Whether a broken rule is about rights (403) or about the values (422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachKind {
    /// The writer's role may not make this change.
    Forbidden,
    /// No role may make this change, or it lacks something (a reason).
    Invalid,
}

/// The rule a patch breaks: a stable machine code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RuleBreach {
    /// Rights or values.
    pub kind: BreachKind,
    /// Stable code, e.g. `backward_requires_planner`.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

fn forbidden(code: &'static str, message: impl Into<String>) -> RuleBreach {
    RuleBreach {
        kind: BreachKind::Forbidden,
        code,
        message: message.into(),
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> RuleBreach {
    RuleBreach {
        kind: BreachKind::Invalid,
        code,
        message: message.into(),
    }
}

/// The state of `site` after `patch` by a writer of `role` at `now`, with the version bumped;
/// or the first rule the patch breaks. Assignment (which sites a team covers) is checked by
/// the caller with [`Account::covers`](super::Account::covers).
///
/// # Examples
/// ```
/// # use renewal_map::model::*;
/// # fn site() -> Site { Site { id: SiteId("park-001".into()), fid: 1, name: "P".into(), name_en: None,
/// #   kind: RenewalKind::PocketPark, subdistrict: "S".into(), subdistrict_code: "1".into(),
/// #   status: RenewalStatus::Design, progress: 10, investment_wan: 1.0,
/// #   programme: Programme::Construction, project_id: "p".into(),
/// #   planned_start: "2026-01-01".parse().unwrap(), planned_finish: "2026-12-01".parse().unwrap(),
/// #   updated_at: Timestamp::from_unix(0), basis: GeometryBasis::Illustrative,
/// #   detail: SiteDetail::None, note: None, version: 1,
/// #   geometry: geo::Geometry::Point(geo::Point::new(0.0, 0.0)), area_m2: 0.0, length_m: 0.0 } }
/// let done = SitePatch { status: Some(RenewalStatus::Completed), ..Default::default() };
/// let next = apply_patch(&site(), &done, Role::Field, Timestamp::from_unix(1)).unwrap();
/// assert_eq!((next.progress, next.version), (100, 2));
/// let back = SitePatch { status: Some(RenewalStatus::Planned), ..Default::default() };
/// assert_eq!(apply_patch(&site(), &back, Role::Field, Timestamp::from_unix(1)).unwrap_err().code,
///            "backward_requires_planner");
/// ```
pub fn apply_patch(
    site: &Site,
    patch: &SitePatch,
    role: Role,
    now: Timestamp,
) -> Result<Site, RuleBreach> {
    let planner = match role {
        Role::Planner => true,
        Role::Field => false,
        Role::Admin => {
            return Err(forbidden(
                "role_cannot_edit",
                "admin accounts manage accounts and do not edit sites",
            ));
        }
    };
    if patch.is_empty() {
        return Err(invalid(
            "empty_update",
            "give at least one of status, progress, note, photos (planners: planned_start, planned_finish, investment_wan)",
        ));
    }
    if let Some(p) = &patch.position {
        p.validate()?;
    }
    if let Some(ids) = &patch.photos {
        check_photo_list(ids)?;
    }
    let reason = patch
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if patch
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(invalid(
            "reason_too_long",
            format!("reason is longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let mut next = site.clone();

    if let Some(to) = patch.status {
        let from = site.status;
        if to != from {
            if from == RenewalStatus::Suspended {
                // Leaving `suspended` is a decision, and the stage it resumes at may be lower
                // than the one it was suspended from (`under_construction → suspended →
                // planned`), so it takes what any backward move takes.
                if !planner {
                    return Err(forbidden(
                        "resume_requires_planner",
                        "only a planner resumes a suspended site",
                    ));
                }
                if reason.is_none() {
                    return Err(invalid(
                        "reason_required",
                        format!("resuming a suspended site at {to} needs a reason"),
                    ));
                }
            }
            if to == RenewalStatus::Accepted && !planner {
                return Err(forbidden(
                    "acceptance_requires_planner",
                    "accepting a site (已验收) is a planner's decision; report it completed",
                ));
            }
            if to == RenewalStatus::Suspended && from.is_done() {
                return Err(invalid(
                    "cannot_suspend_finished",
                    format!("a {from} site cannot be suspended"),
                ));
            }
            let backward = match (from.stage(), to.stage()) {
                (Some(f), Some(t)) => t < f,
                _ => false,
            };
            if backward {
                if !planner {
                    return Err(forbidden(
                        "backward_requires_planner",
                        format!("moving {from} back to {to} is a planner's decision"),
                    ));
                }
                if reason.is_none() {
                    return Err(invalid(
                        "reason_required",
                        format!("moving {from} back to {to} needs a reason"),
                    ));
                }
            }
            next.status = to;
        }
    }

    if let Some(p) = patch.progress {
        if !(0..=100).contains(&p) {
            return Err(invalid(
                "progress_out_of_range",
                format!("progress must be a whole number from 0 to 100, got {p}"),
            ));
        }
        let p = p as u8;
        if p < site.progress {
            if !planner {
                return Err(forbidden(
                    "progress_decrease_requires_planner",
                    format!(
                        "lowering progress from {} to {p} is a planner's decision",
                        site.progress
                    ),
                ));
            }
            if reason.is_none() {
                return Err(invalid(
                    "reason_required",
                    format!(
                        "lowering progress from {} to {p} needs a reason",
                        site.progress
                    ),
                ));
            }
        }
        next.progress = p;
    } else if next.status.is_done() && !site.status.is_done() {
        next.progress = 100;
    }
    if next.status.is_done() && next.progress != 100 {
        return Err(invalid(
            "completed_requires_full_progress",
            format!("a {} site has progress 100", next.status),
        ));
    }

    if let Some(note) = &patch.note {
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(invalid(
                "note_too_long",
                format!("note is longer than {MAX_NOTE_CHARS} characters"),
            ));
        }
        next.note = (!note.trim().is_empty()).then(|| note.clone());
    }

    if patch.touches_plan() {
        if !planner {
            return Err(forbidden(
                "plan_fields_require_planner",
                "planned_start, planned_finish and investment_wan are a planner's to change",
            ));
        }
        if let Some(d) = patch.planned_start {
            next.planned_start = d;
        }
        if let Some(d) = patch.planned_finish {
            next.planned_finish = d;
        }
        if next.planned_finish < next.planned_start {
            return Err(invalid(
                "finish_before_start",
                format!(
                    "planned_finish {} is before planned_start {}",
                    next.planned_finish, next.planned_start
                ),
            ));
        }
        if let Some(v) = patch.investment_wan {
            if !(v.is_finite() && (0.0..=MAX_INVESTMENT_WAN).contains(&v)) {
                return Err(invalid(
                    "investment_out_of_range",
                    format!("investment_wan must be from 0 to {MAX_INVESTMENT_WAN}"),
                ));
            }
            next.investment_wan = v;
        }
    }

    if !patch.attaches_photos()
        && next.status == site.status
        && next.progress == site.progress
        && next.note == site.note
        && next.planned_start == site.planned_start
        && next.planned_finish == site.planned_finish
        && next.investment_wan == site.investment_wan
    {
        // A repeat of the current state would bump the version and add an audit row that
        // records nothing, and would make a concurrent writer's 412 pointless.
        return Err(invalid(
            "no_change",
            "the update leaves the site as it is (same status, progress, note and plan)",
        ));
    }

    next.version = site.version + 1;
    next.updated_at = now;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GeometryBasis, Programme, RenewalKind, SiteDetail, SiteId};
    use RenewalStatus::*;

    fn site(status: RenewalStatus, progress: u8) -> Site {
        Site {
            id: SiteId("park-001".into()),
            fid: 1,
            name: "公园".into(),
            name_en: None,
            kind: RenewalKind::PocketPark,
            subdistrict: "三台子街道".into(),
            subdistrict_code: "210105011".into(),
            status,
            progress,
            investment_wan: 50.0,
            programme: Programme::Construction,
            project_id: "P1".into(),
            planned_start: "2026-03-01".parse().unwrap(),
            planned_finish: "2026-10-01".parse().unwrap(),
            updated_at: Timestamp::from_unix(0),
            basis: GeometryBasis::Illustrative,
            detail: SiteDetail::None,
            note: None,
            version: 7,
            geometry: geo::Geometry::Point(geo::Point::new(123.4, 41.8)),
            area_m2: 0.0,
            length_m: 0.0,
        }
    }

    fn status(s: RenewalStatus) -> SitePatch {
        SitePatch {
            status: Some(s),
            ..Default::default()
        }
    }

    fn run(s: &Site, p: &SitePatch, role: Role) -> Result<Site, &'static str> {
        apply_patch(s, p, role, Timestamp::from_unix(99)).map_err(|e| e.code)
    }

    #[test]
    fn empty_and_reason_only_patches_are_rejected() {
        let s = site(Design, 10);
        assert_eq!(
            run(&s, &SitePatch::default(), Role::Planner),
            Err("empty_update")
        );
        let reason_only = SitePatch {
            reason: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(run(&s, &reason_only, Role::Planner), Err("empty_update"));
    }

    #[test]
    fn admin_edits_nothing() {
        assert_eq!(
            run(&site(Design, 10), &status(Tendering), Role::Admin),
            Err("role_cannot_edit")
        );
    }

    #[test]
    fn every_forward_move_but_acceptance_is_open_to_field_teams() {
        for (i, from) in RenewalStatus::ALL[..6].iter().enumerate() {
            for to in &RenewalStatus::ALL[i + 1..6] {
                let p = if from.is_done() { 100 } else { 10 };
                if *to == Accepted {
                    assert_eq!(
                        run(&site(*from, p), &status(*to), Role::Field),
                        Err("acceptance_requires_planner"),
                        "{from}->{to}"
                    );
                    assert!(run(&site(*from, p), &status(*to), Role::Planner).is_ok());
                    continue;
                }
                let next = run(&site(*from, p), &status(*to), Role::Field)
                    .unwrap_or_else(|e| panic!("{from}->{to}: {e}"));
                assert_eq!(next.status, *to);
                assert_eq!(next.version, 8);
                assert_eq!(next.updated_at, Timestamp::from_unix(99));
                if to.is_done() {
                    assert_eq!(next.progress, 100);
                }
            }
        }
    }

    #[test]
    fn backward_moves_need_a_planner_and_a_reason() {
        let s = site(UnderConstruction, 40);
        assert_eq!(
            run(&s, &status(Design), Role::Field),
            Err("backward_requires_planner")
        );
        assert_eq!(
            run(&s, &status(Design), Role::Planner),
            Err("reason_required")
        );
        let blank_reason = SitePatch {
            reason: Some("  ".into()),
            ..status(Design)
        };
        assert_eq!(
            run(&s, &blank_reason, Role::Planner),
            Err("reason_required")
        );
        let with_reason = SitePatch {
            reason: Some("redesign after survey".into()),
            ..status(Design)
        };
        assert_eq!(run(&s, &with_reason, Role::Planner).unwrap().status, Design);
        // Out of completed, progress may stay 100.
        let done = site(Accepted, 100);
        let reopen = SitePatch {
            reason: Some("defects found".into()),
            ..status(UnderConstruction)
        };
        assert_eq!(
            run(&done, &status(UnderConstruction), Role::Field),
            Err("backward_requires_planner")
        );
        assert_eq!(run(&done, &reopen, Role::Planner).unwrap().progress, 100);
    }

    #[test]
    fn suspension_interrupts_unfinished_work_and_only_planners_resume() {
        assert_eq!(
            run(&site(Tendering, 0), &status(Suspended), Role::Field)
                .unwrap()
                .status,
            Suspended
        );
        assert_eq!(
            run(&site(Completed, 100), &status(Suspended), Role::Planner),
            Err("cannot_suspend_finished")
        );
        let s = site(Suspended, 30);
        assert_eq!(
            run(&s, &status(UnderConstruction), Role::Field),
            Err("resume_requires_planner")
        );
        assert_eq!(
            run(&s, &status(UnderConstruction), Role::Planner),
            Err("reason_required")
        );
        let resume = SitePatch {
            reason: Some("funding released".into()),
            ..status(UnderConstruction)
        };
        assert_eq!(
            run(&s, &resume, Role::Planner).unwrap().status,
            UnderConstruction
        );
        // Staying suspended while adding a note is fine.
        let note = SitePatch {
            note: Some("still halted".into()),
            ..status(Suspended)
        };
        assert!(run(&s, &note, Role::Field).is_ok());
    }

    #[test]
    fn a_backward_move_via_suspended_needs_a_planner_and_a_reason() {
        // Field teams may report the halt, on any unfinished site...
        let halted = run(
            &site(UnderConstruction, 60),
            &status(Suspended),
            Role::Field,
        )
        .unwrap();
        assert_eq!((halted.status, halted.progress), (Suspended, 60));
        // ...but not on a finished one (422, whoever asks).
        assert_eq!(
            run(&site(Accepted, 100), &status(Suspended), Role::Field),
            Err("cannot_suspend_finished")
        );
        // Leaving it for a lower stage than the one it stopped at is a backward move.
        let back = status(Planned);
        assert_eq!(
            run(&halted, &back, Role::Field),
            Err("resume_requires_planner")
        );
        assert_eq!(run(&halted, &back, Role::Planner), Err("reason_required"));
        let blank = SitePatch {
            reason: Some(" ".into()),
            ..status(Planned)
        };
        assert_eq!(run(&halted, &blank, Role::Planner), Err("reason_required"));
        let decided = SitePatch {
            reason: Some("scheme withdrawn for redesign".into()),
            ..status(Planned)
        };
        assert_eq!(
            run(&halted, &decided, Role::Planner).unwrap().status,
            Planned
        );
        // Even resuming forward is a planner's decision with a reason.
        assert_eq!(
            run(&halted, &status(Completed), Role::Field),
            Err("resume_requires_planner")
        );
    }

    #[test]
    fn no_op_patches_are_refused() {
        let mut s = site(UnderConstruction, 40);
        s.note = Some("scaffolding up".into());
        let same = SitePatch {
            status: Some(UnderConstruction),
            progress: Some(40),
            note: Some("scaffolding up".into()),
            ..Default::default()
        };
        assert_eq!(run(&s, &same, Role::Field), Err("no_change"));
        assert_eq!(run(&s, &same, Role::Planner), Err("no_change"));
        assert_eq!(
            run(&s, &status(UnderConstruction), Role::Field),
            Err("no_change")
        );
        // Clearing an absent note, re-stating a done site, re-planning the same dates.
        assert_eq!(
            run(
                &site(Design, 0),
                &SitePatch {
                    note: Some(String::new()),
                    ..Default::default()
                },
                Role::Field
            ),
            Err("no_change")
        );
        assert_eq!(
            run(&site(Completed, 100), &status(Completed), Role::Field),
            Err("no_change")
        );
        let same_plan = SitePatch {
            planned_start: Some(s.planned_start),
            investment_wan: Some(s.investment_wan),
            ..Default::default()
        };
        assert_eq!(run(&s, &same_plan, Role::Planner), Err("no_change"));
        // A reason does not make a no-op a change.
        let with_reason = SitePatch {
            reason: Some("x".into()),
            ..same
        };
        assert_eq!(run(&s, &with_reason, Role::Planner), Err("no_change"));
        // One real difference is enough.
        let more = SitePatch {
            progress: Some(41),
            ..status(UnderConstruction)
        };
        assert_eq!(run(&s, &more, Role::Field).unwrap().version, 8);
    }

    #[test]
    fn progress_rules() {
        let s = site(UnderConstruction, 40);
        let p = |v: i64| SitePatch {
            progress: Some(v),
            ..Default::default()
        };
        assert_eq!(
            run(&s, &p(101), Role::Planner),
            Err("progress_out_of_range")
        );
        assert_eq!(run(&s, &p(-1), Role::Planner), Err("progress_out_of_range"));
        assert_eq!(run(&s, &p(40), Role::Field), Err("no_change"));
        assert_eq!(run(&s, &p(100), Role::Field).unwrap().progress, 100);
        assert_eq!(
            run(&s, &p(39), Role::Field),
            Err("progress_decrease_requires_planner")
        );
        assert_eq!(run(&s, &p(0), Role::Planner), Err("reason_required"));
        let with_reason = SitePatch {
            reason: Some("re-measured".into()),
            ..p(20)
        };
        assert_eq!(run(&s, &with_reason, Role::Planner).unwrap().progress, 20);
    }

    #[test]
    fn completed_implies_full_progress() {
        let s = site(UnderConstruction, 40);
        let partial = SitePatch {
            progress: Some(90),
            ..status(Completed)
        };
        assert_eq!(
            run(&s, &partial, Role::Field),
            Err("completed_requires_full_progress")
        );
        let done = site(Completed, 100);
        let lower = SitePatch {
            progress: Some(90),
            reason: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(
            run(&done, &lower, Role::Planner),
            Err("completed_requires_full_progress")
        );
    }

    #[test]
    fn notes() {
        let s = site(Design, 0);
        let note = |n: String| SitePatch {
            note: Some(n),
            ..Default::default()
        };
        assert_eq!(
            run(&s, &note("梅".repeat(2000)), Role::Field)
                .unwrap()
                .note
                .map(|n| n.chars().count()),
            Some(2000)
        );
        assert_eq!(
            run(&s, &note("梅".repeat(2001)), Role::Field),
            Err("note_too_long")
        );
        let mut noted = s.clone();
        noted.note = Some("old".into());
        assert_eq!(
            run(&noted, &note(String::new()), Role::Field).unwrap().note,
            None
        );
    }

    #[test]
    fn plan_fields_are_a_planners() {
        let s = site(Design, 0);
        let later = SitePatch {
            planned_finish: Some("2027-06-30".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            run(&s, &later, Role::Field),
            Err("plan_fields_require_planner")
        );
        assert_eq!(
            run(&s, &later, Role::Planner)
                .unwrap()
                .planned_finish
                .to_string(),
            "2027-06-30"
        );
        let inverted = SitePatch {
            planned_finish: Some("2026-01-01".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            run(&s, &inverted, Role::Planner),
            Err("finish_before_start")
        );
        let money = |v: f64| SitePatch {
            investment_wan: Some(v),
            ..Default::default()
        };
        assert_eq!(
            run(&s, &money(-1.0), Role::Planner),
            Err("investment_out_of_range")
        );
        assert_eq!(
            run(&s, &money(80.5), Role::Planner).unwrap().investment_wan,
            80.5
        );
    }

    #[test]
    fn unknown_fields_are_rejected_by_the_patch_type() {
        assert!(serde_json::from_str::<SitePatch>(r#"{"status":"design","version":3}"#).is_err());
        assert!(serde_json::from_str::<SitePatch>(r#"{"progress":"50"}"#).is_err());
        assert!(serde_json::from_str::<SitePatch>(r#"{"status":"done"}"#).is_err());
        assert_eq!(
            serde_json::from_str::<SitePatch>(r#"{"progress":50}"#)
                .unwrap()
                .progress,
            Some(50)
        );
    }
}
