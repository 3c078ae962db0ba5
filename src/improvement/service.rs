//! The use cases of action plans: opened by a release (in its transaction) or by hand,
//! planned and worked by the location's manager, verified or reopened by HQ; each change is
//! an event.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::plan::{Action, ActionPlan, Cause, Decision, PlanStatus};
use crate::aggregates::compare::Changes;
use crate::aggregates::figures::{Figures, VerdictName, VerdictShift};
use crate::aggregates::stats::VerdictRule;
use crate::db::aggregates::{self as rollups, Parts, Scope};
use crate::db::plans::{self as store, PlanFilter};
use crate::db::{Db, DbConn, DbError, QueryResult, Tx, locations, settings};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{ActionPlanId, LocationId, OrgId, UserId};
use crate::locations::model::Location;
use crate::reports::model::Report;
use crate::validation::Violation;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("no such action plan")]
    NotFound,
    #[error("no such location")]
    NoLocation,
    #[error("no such action in this plan")]
    NoAction,
    #[error("invalid")]
    Invalid(Vec<Violation>),
    #[error("the location has an open plan of this cause ({0}); add to it or finish it first")]
    Exists(ActionPlanId),
    #[error("the plan is {current}: this is not possible now", current = .current.as_str())]
    Transition { current: PlanStatus },
    #[error("this action is done already")]
    ActionDone,
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::db::domain_error!(PlanError);

/// Who reads plans: HQ and clients see all, a manager the plans of their locations.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    All,
    Managed(UserId),
}

/// Who works on a plan: an admin, or a manager of its location.
#[derive(Debug, Clone, Copy)]
pub enum Editor {
    Admin,
    Manager(UserId),
}

/// A plan with its location and whether an action is overdue there today.
pub struct PlanView {
    pub plan: ActionPlan,
    pub location: Location,
    /// The location's local date now.
    pub today: NaiveDate,
}

impl PlanView {
    pub fn overdue(&self) -> bool {
        self.plan.overdue(self.today)
    }
}

/// A period's figures.
pub struct PeriodFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub figures: Figures,
}

/// A plan with whether it worked: the location's figures over the 90 days before it opened,
/// from the day it was done, and the change between them.
pub struct PlanDetail {
    pub view: PlanView,
    pub baseline: PeriodFigures,
    pub follow_up: Option<PeriodFigures>,
    pub changes: Option<Changes>,
}

/// Days of the baseline before a plan opened.
pub const BASELINE_DAYS: i64 = 90;

fn local_date(at: DateTime<Utc>, location: &Location) -> NaiveDate {
    at.with_timezone(&location.fields.timezone).date_naive()
}

fn tally(
    conn: &mut DbConn,
    org: OrgId,
    location: LocationId,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<crate::aggregates::stats::Tally> {
    let scope = Scope {
        org,
        locations: Some(vec![location]),
        questionnaire_key: None,
    };
    Ok(
        rollups::per_location(conn, &scope, from, to, Parts::default())?
            .remove(&location)
            .unwrap_or_default()
            .tally,
    )
}

// ------------------------------------------------------------------- automatic opening

/// After a report's release (or withdrawal) in its transaction: where the organization
/// turned plans on, opens a plan when the location's verdict became zero mile, or when the
/// released visit had a critical failure; a plan of that cause already open gets the visit.
/// Reads nothing unless one of those happened.
pub fn on_release(
    tx: &mut Tx<'_>,
    report: &Report,
    released: bool,
    shift: Option<&VerdictShift>,
) -> QueryResult<()> {
    let zero = shift.is_some_and(|s| s.to == VerdictName::Zero);
    let critical = released && !report.document.score.critical_failures.is_empty();
    if !(zero || critical) || !settings::organization(tx, report.org_id)?.action_plans {
        return Ok(());
    }
    let date = report.visit_local_date;
    if zero {
        let summary = format!("The verdict became zero mile with the visit of {date}.");
        open_or_add(tx, report, Cause::ZeroMile, summary)?;
    }
    if critical {
        let failed: Vec<&str> = report
            .document
            .score
            .critical_failures
            .iter()
            .map(String::as_str)
            .collect();
        let summary = format!(
            "The visit of {date} had a critical failure: {}.",
            failed.join(", ")
        );
        open_or_add(tx, report, Cause::CriticalFailure, summary)?;
    }
    Ok(())
}

fn open_or_add(tx: &mut Tx<'_>, report: &Report, cause: Cause, summary: String) -> QueryResult<()> {
    let now = tx.now();
    let plan = ActionPlan::open(
        report.org_id,
        report.location_id,
        cause,
        summary,
        None,
        Some(report.id),
        now,
    );
    if store::insert(tx, &plan)? {
        events::record(
            tx,
            &event::action_plan(EventType::ActionPlanOpened, &plan, Some(report.id), None),
        )?;
    } else if let Some(open) = store::open_of(tx, report.org_id, report.location_id, cause)? {
        store::add_visit(tx, report.org_id, open, report.id, now)?;
    }
    Ok(())
}

// --------------------------------------------------------------------------- reading

fn visible(
    conn: &mut DbConn,
    org: OrgId,
    viewer: Viewer,
    location: LocationId,
) -> QueryResult<bool> {
    match viewer {
        Viewer::All => Ok(true),
        Viewer::Managed(m) => locations::manages(conn, org, m, location),
    }
}

fn view_of(conn: &mut DbConn, plan: ActionPlan, now: DateTime<Utc>) -> Result<PlanView, PlanError> {
    let location =
        locations::find(conn, plan.org_id, plan.location_id)?.ok_or(PlanError::NotFound)?;
    Ok(PlanView {
        today: local_date(now, &location),
        plan,
        location,
    })
}

/// One plan as `viewer` may see it, with its baseline and follow-up.
pub async fn get(
    db: &Db,
    org: OrgId,
    viewer: Viewer,
    id: ActionPlanId,
    rule: VerdictRule,
) -> Result<PlanDetail, PlanError> {
    let now = db.now();
    db.run(move |conn| {
        let plan = store::find(conn, org, id)?.ok_or(PlanError::NotFound)?;
        if !visible(conn, org, viewer, plan.location_id)? {
            return Err(PlanError::NotFound);
        }
        let view = view_of(conn, plan, now)?;
        let opened = local_date(view.plan.opened_at, &view.location);
        let (from, to) = (
            opened - TimeDelta::days(BASELINE_DAYS),
            opened - TimeDelta::days(1),
        );
        let before = tally(conn, org, view.location.id, from, to)?;
        let baseline = PeriodFigures {
            from,
            to,
            figures: Figures::of(&before, &rule),
        };
        let (follow_up, changes) = match view.plan.done_at {
            Some(done) => {
                let from = local_date(done, &view.location);
                let to = view.today.max(from);
                let after = tally(conn, org, view.location.id, from, to)?;
                (
                    Some(PeriodFigures {
                        from,
                        to,
                        figures: Figures::of(&after, &rule),
                    }),
                    Some(Changes::between(&after, &before, &rule)),
                )
            }
            None => (None, None),
        };
        Ok(PlanDetail {
            view,
            baseline,
            follow_up,
            changes,
        })
    })
    .await
}

/// What a list of plans shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<PlanStatus>,
    pub cause: Option<Cause>,
    pub location: Option<LocationId>,
    pub region: Option<String>,
    /// Only plans with (or without) an overdue action.
    pub overdue: Option<bool>,
}

/// Plans read per round when a list filters on overdue actions.
const ROUND: i64 = 200;

/// A page of plans (oldest first) after `after`: at most `limit + 1`, to tell whether more
/// follow. An unknown or invisible `location` is 404.
pub async fn list(
    db: &Db,
    org: OrgId,
    viewer: Viewer,
    filter: ListFilter,
    after: Option<ActionPlanId>,
    limit: i64,
) -> Result<Vec<PlanView>, PlanError> {
    let now = db.now();
    db.run(move |conn| {
        if let Some(id) = filter.location
            && (locations::find(conn, org, id)?.is_none() || !visible(conn, org, viewer, id)?)
        {
            return Err(PlanError::NoLocation);
        }
        let manager = match viewer {
            Viewer::Managed(m) => Some(m),
            Viewer::All => None,
        };
        let narrowed = manager.is_some() || filter.region.is_some();
        let locations_in = if narrowed {
            let wanted = locations::LocationFilter {
                region: filter.region.clone(),
                manager,
                ..Default::default()
            };
            Some(
                locations::briefs(conn, org, &wanted, 100_000)?
                    .into_iter()
                    .map(|l| l.id)
                    .filter(|id| filter.location.is_none_or(|only| only == *id))
                    .collect(),
            )
        } else {
            filter.location.map(|id| vec![id])
        };
        let stored = PlanFilter {
            status: filter.status,
            cause: filter.cause,
            locations: locations_in,
        };
        let mut out = Vec::new();
        let mut cursor = after;
        loop {
            let round = if filter.overdue.is_some() {
                ROUND
            } else {
                limit
            };
            let plans = store::list(conn, org, &stored, cursor, round)?;
            let exhausted = (plans.len() as i64) < round;
            cursor = plans.last().map(|p| p.id).or(cursor);
            let ids: Vec<LocationId> = plans.iter().map(|p| p.location_id).collect();
            let places = locations::find_all(conn, org, &ids)?;
            for plan in plans {
                let Some(location) = places.get(&plan.location_id).cloned() else {
                    continue;
                };
                let view = PlanView {
                    today: local_date(now, &location),
                    plan,
                    location,
                };
                if filter.overdue.is_none_or(|o| o == view.overdue()) {
                    out.push(view);
                }
                if out.len() as i64 >= limit {
                    return Ok(out);
                }
            }
            if exhausted {
                return Ok(out);
            }
        }
    })
    .await
}

// --------------------------------------------------------------------------- changes

/// A required text, trimmed; a blank or too long one is listed in `found`.
pub(super) fn checked_text(
    found: &mut Vec<Violation>,
    pointer: &str,
    value: &str,
    max: usize,
) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        found.push(Violation::new(pointer, "required", "must not be blank"));
    } else if trimmed.chars().count() > max {
        found.push(Violation::new(
            pointer,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    trimmed.to_string()
}

/// An optional note: blank is none; at most [`MAX_NOTE`] characters.
fn optional_note(note: Option<String>) -> Result<Option<String>, PlanError> {
    let Some(note) = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let mut found = Vec::new();
    let note = checked_text(&mut found, "/note", &note, MAX_NOTE);
    if found.is_empty() {
        Ok(Some(note))
    } else {
        Err(PlanError::Invalid(found))
    }
}

/// Longest summary of a plan opened by hand.
pub const MAX_SUMMARY: usize = 500;
/// Longest analysis of causes.
pub const MAX_CAUSES: usize = 4000;
/// Longest action description.
pub const MAX_DESCRIPTION: usize = 500;
/// Longest owner name.
pub const MAX_OWNER: usize = 100;
/// Longest note.
pub const MAX_NOTE: usize = 2000;
/// Most actions in a plan.
pub const MAX_ACTIONS: usize = 20;
/// Furthest due date, in days from today at the location.
pub const MAX_DUE_DAYS: i64 = 366;

/// Opens a plan by hand (HQ). 409 when one of this location and cause is open.
pub async fn open_by_hand(
    db: &Db,
    org: OrgId,
    by: UserId,
    location: LocationId,
    summary: String,
) -> Result<PlanView, PlanError> {
    let mut found = Vec::new();
    let summary = checked_text(&mut found, "/summary", &summary, MAX_SUMMARY);
    if !found.is_empty() {
        return Err(PlanError::Invalid(found));
    }
    db.write(move |tx| {
        let place = locations::find(tx, org, location)?.ok_or(PlanError::NoLocation)?;
        let now = tx.now();
        let summary = summary.clone();
        let plan = ActionPlan::open(org, location, Cause::Manual, summary, Some(by), None, now);
        if !store::insert(tx, &plan)? {
            let open = store::open_of(tx, org, location, Cause::Manual)?;
            return Err(PlanError::Exists(open.unwrap_or(plan.id)));
        }
        events::record(
            tx,
            &event::action_plan(EventType::ActionPlanOpened, &plan, None, None),
        )?;
        Ok(PlanView {
            today: local_date(now, &place),
            plan,
            location: place,
        })
    })
    .await
}

/// A plan the editor may work on, read in its transaction.
fn editable(
    tx: &mut Tx<'_>,
    org: OrgId,
    editor: Editor,
    id: ActionPlanId,
) -> Result<PlanView, PlanError> {
    let plan = store::find(tx, org, id)?.ok_or(PlanError::NotFound)?;
    if let Editor::Manager(m) = editor
        && !locations::manages(tx, org, m, plan.location_id)?
    {
        return Err(PlanError::NotFound);
    }
    let now = tx.now();
    view_of(tx, plan, now)
}

/// An action as written by the manager.
pub struct NewAction {
    pub description: String,
    pub owner: String,
    pub due_on: NaiveDate,
}

/// Writes a plan's causes and actions (replacing any earlier ones): it becomes `planned`.
pub async fn plan(
    db: &Db,
    org: OrgId,
    editor: Editor,
    id: ActionPlanId,
    causes: String,
    actions: Vec<NewAction>,
) -> Result<PlanView, PlanError> {
    db.write(move |tx| {
        let mut view = editable(tx, org, editor, id)?;
        let current = view.plan.status;
        if !current.plannable() {
            return Err(PlanError::Transition { current });
        }
        let mut found = Vec::new();
        let causes = checked_text(&mut found, "/causes", &causes, MAX_CAUSES);
        if actions.is_empty() || actions.len() > MAX_ACTIONS {
            found.push(Violation::new(
                "/actions",
                "out_of_range",
                format!("a plan has 1 to {MAX_ACTIONS} actions"),
            ));
        }
        let latest = view.today + TimeDelta::days(MAX_DUE_DAYS);
        let mut written = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            let at = |field: &str| format!("/actions/{i}/{field}");
            let description = checked_text(
                &mut found,
                &at("description"),
                &a.description,
                MAX_DESCRIPTION,
            );
            let owner = checked_text(&mut found, &at("owner"), &a.owner, MAX_OWNER);
            if a.due_on < view.today || a.due_on > latest {
                found.push(Violation::new(
                    at("due_on"),
                    "out_of_range",
                    format!(
                        "due from today at the location ({}) to {latest}",
                        view.today
                    ),
                ));
            }
            written.push(Action {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                description,
                owner,
                due_on: a.due_on,
                done_at: None,
                done_note: None,
            });
        }
        if !found.is_empty() {
            return Err(PlanError::Invalid(found));
        }
        let now = tx.now();
        let plan = &mut view.plan;
        plan.status = PlanStatus::Planned;
        plan.causes = Some(causes);
        plan.actions = written;
        plan.planned_at = Some(now);
        plan.done_at = None;
        plan.updated_at = now;
        if !store::update(tx, plan, current)? {
            return Err(PlanError::Transition { current });
        }
        store::replace_actions(tx, plan)?;
        events::record(
            tx,
            &event::action_plan(EventType::ActionPlanPlanned, plan, None, None),
        )?;
        Ok(view)
    })
    .await
}

/// Marks one action done with an optional note; the last one makes the plan `done`.
pub async fn finish_action(
    db: &Db,
    org: OrgId,
    editor: Editor,
    id: ActionPlanId,
    number: u32,
    note: Option<String>,
) -> Result<PlanView, PlanError> {
    let note = optional_note(note)?;
    db.write(move |tx| {
        let mut view = editable(tx, org, editor, id)?;
        let current = view.plan.status;
        if current != PlanStatus::Planned {
            return Err(PlanError::Transition { current });
        }
        let now = tx.now();
        let Some(action) = view.plan.actions.iter_mut().find(|a| a.number == number) else {
            return Err(PlanError::NoAction);
        };
        if !store::finish_action(tx, org, id, number, note.as_deref(), now)? {
            return Err(PlanError::ActionDone);
        }
        action.done_at = Some(now);
        action.done_note = note.clone();
        let plan = &mut view.plan;
        if plan.actions.iter().all(|a| a.done_at.is_some()) {
            plan.status = PlanStatus::Done;
            plan.done_at = Some(now);
            plan.updated_at = now;
            if !store::update(tx, plan, current)? {
                return Err(PlanError::Transition { current });
            }
            events::record(
                tx,
                &event::action_plan(EventType::ActionPlanDone, plan, None, None),
            )?;
        }
        Ok(view)
    })
    .await
}

/// HQ's decision on a done plan: verified (closed) or reopened (planned again).
pub async fn decide(
    db: &Db,
    org: OrgId,
    id: ActionPlanId,
    decision: Decision,
    note: Option<String>,
) -> Result<PlanView, PlanError> {
    let note = optional_note(note)?;
    db.write(move |tx| {
        let mut view = editable(tx, org, Editor::Admin, id)?;
        let current = view.plan.status;
        let next = view
            .plan
            .decided(decision)
            .ok_or(PlanError::Transition { current })?;
        let now = tx.now();
        let plan = &mut view.plan;
        plan.status = next;
        plan.review_note = note.clone();
        plan.updated_at = now;
        if next == PlanStatus::Verified {
            plan.verified_at = Some(now);
        }
        if !store::update(tx, plan, current)? {
            return Err(PlanError::Transition { current });
        }
        let kind = match decision {
            Decision::Verify => EventType::ActionPlanVerified,
            Decision::Reopen => EventType::ActionPlanReopened,
        };
        events::record(tx, &event::action_plan(kind, plan, None, None))?;
        Ok(view)
    })
    .await
}
