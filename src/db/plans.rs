//! Action plans, their actions and the visits that triggered them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::programme::{date, text};
use super::schema::{action_plan_actions, action_plan_visits, action_plans};
use super::{DbConn, utc};
use crate::ids::{ActionPlanId, LocationId, OrgId, ReportId, UserId};
use crate::improvement::plan::{Action, ActionPlan, Cause, PlanStatus};

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = action_plans)]
struct PlanRow {
    org_id: OrgId,
    id: ActionPlanId,
    location_id: LocationId,
    cause: Cause,
    status: PlanStatus,
    summary: String,
    causes: Option<String>,
    opened_by: Option<UserId>,
    opened_at: NaiveDateTime,
    planned_at: Option<NaiveDateTime>,
    done_at: Option<NaiveDateTime>,
    verified_at: Option<NaiveDateTime>,
    review_note: Option<String>,
    updated_at: NaiveDateTime,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = action_plan_actions)]
struct ActionRow {
    org_id: OrgId,
    plan_id: ActionPlanId,
    number: i32,
    description: String,
    owner: String,
    due_on: String,
    done_at: Option<NaiveDateTime>,
    done_note: Option<String>,
    overdue_recorded: bool,
}

fn naive(at: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    at.map(|t| t.naive_utc())
}

impl PlanRow {
    fn of(p: &ActionPlan) -> Self {
        PlanRow {
            org_id: p.org_id,
            id: p.id,
            location_id: p.location_id,
            cause: p.cause,
            status: p.status,
            summary: p.summary.clone(),
            causes: p.causes.clone(),
            opened_by: p.opened_by,
            opened_at: p.opened_at.naive_utc(),
            planned_at: naive(p.planned_at),
            done_at: naive(p.done_at),
            verified_at: naive(p.verified_at),
            review_note: p.review_note.clone(),
            updated_at: p.updated_at.naive_utc(),
        }
    }

    fn into_plan(self, actions: Vec<Action>, visits: Vec<ReportId>) -> ActionPlan {
        ActionPlan {
            id: self.id,
            org_id: self.org_id,
            location_id: self.location_id,
            cause: self.cause,
            status: self.status,
            summary: self.summary,
            causes: self.causes,
            actions,
            visits,
            opened_by: self.opened_by,
            opened_at: utc(self.opened_at),
            planned_at: self.planned_at.map(utc),
            done_at: self.done_at.map(utc),
            verified_at: self.verified_at.map(utc),
            review_note: self.review_note,
            updated_at: utc(self.updated_at),
        }
    }
}

impl ActionRow {
    fn into_action(self) -> QueryResult<Action> {
        Ok(Action {
            number: u32::try_from(self.number).unwrap_or(0),
            description: self.description,
            owner: self.owner,
            due_on: date(&self.due_on)?,
            done_at: self.done_at.map(utc),
            done_note: self.done_note,
        })
    }
}

/// Stores a new plan unless one of its location and cause is open (not verified): `false`
/// then, and nothing is written. Safe under concurrent opens (the unique index decides).
pub fn insert(conn: &mut DbConn, plan: &ActionPlan) -> QueryResult<bool> {
    let row = PlanRow::of(plan);
    let inserted = on_backend!(conn, |c| diesel::insert_into(action_plans::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 0 {
        return Ok(false);
    }
    for visit in &plan.visits {
        add_visit(conn, plan.org_id, plan.id, *visit, plan.opened_at)?;
    }
    Ok(true)
}

/// Adds a triggering visit to a plan (once).
pub fn add_visit(
    conn: &mut DbConn,
    org: OrgId,
    plan: ActionPlanId,
    report: ReportId,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let row = (
        action_plan_visits::org_id.eq(org),
        action_plan_visits::plan_id.eq(plan),
        action_plan_visits::report_id.eq(report),
        action_plan_visits::added_at.eq(at.naive_utc()),
    );
    on_backend!(conn, |c| diesel::insert_into(action_plan_visits::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// The open (not verified) plan of a location and cause, if any.
pub fn open_of(
    conn: &mut DbConn,
    org: OrgId,
    location: LocationId,
    cause: Cause,
) -> QueryResult<Option<ActionPlanId>> {
    action_plans::table
        .filter(action_plans::org_id.eq(org))
        .filter(action_plans::location_id.eq(location))
        .filter(action_plans::cause.eq(cause))
        .filter(action_plans::status.ne(PlanStatus::Verified))
        .select(action_plans::id)
        .first(conn)
        .optional()
}

/// Plans with their actions and visits, in the order of `rows`.
fn with_parts(conn: &mut DbConn, org: OrgId, rows: Vec<PlanRow>) -> QueryResult<Vec<ActionPlan>> {
    let ids: Vec<ActionPlanId> = rows.iter().map(|r| r.id).collect();
    let mut actions: std::collections::HashMap<ActionPlanId, Vec<Action>> = Default::default();
    for row in action_plan_actions::table
        .filter(action_plan_actions::org_id.eq(org))
        .filter(action_plan_actions::plan_id.eq_any(&ids))
        .order((action_plan_actions::plan_id, action_plan_actions::number))
        .select(ActionRow::as_select())
        .load(conn)?
    {
        let plan = row.plan_id;
        actions.entry(plan).or_default().push(row.into_action()?);
    }
    let mut visits: std::collections::HashMap<ActionPlanId, Vec<ReportId>> = Default::default();
    for (plan, report) in action_plan_visits::table
        .filter(action_plan_visits::org_id.eq(org))
        .filter(action_plan_visits::plan_id.eq_any(&ids))
        .order((action_plan_visits::added_at, action_plan_visits::report_id))
        .select((action_plan_visits::plan_id, action_plan_visits::report_id))
        .load::<(ActionPlanId, ReportId)>(conn)?
    {
        visits.entry(plan).or_default().push(report);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.id;
            r.into_plan(
                actions.remove(&id).unwrap_or_default(),
                visits.remove(&id).unwrap_or_default(),
            )
        })
        .collect())
}

pub fn find(conn: &mut DbConn, org: OrgId, id: ActionPlanId) -> QueryResult<Option<ActionPlan>> {
    let row = action_plans::table
        .filter(action_plans::org_id.eq(org))
        .filter(action_plans::id.eq(id))
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?;
    Ok(with_parts(conn, org, row.into_iter().collect())?.pop())
}

/// What a list of plans keeps.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub status: Option<PlanStatus>,
    pub cause: Option<Cause>,
    /// Only these locations (`None`: every one).
    pub locations: Option<Vec<LocationId>>,
}

/// Plans of the organization after `after` (by id: oldest first), at most `limit`.
pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &PlanFilter,
    after: Option<ActionPlanId>,
    limit: i64,
) -> QueryResult<Vec<ActionPlan>> {
    let mut query = action_plans::table
        .filter(action_plans::org_id.eq(org))
        .select(PlanRow::as_select())
        .order(action_plans::id)
        .limit(limit)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(action_plans::status.eq(status));
    }
    if let Some(cause) = filter.cause {
        query = query.filter(action_plans::cause.eq(cause));
    }
    if let Some(locations) = &filter.locations {
        query = query.filter(action_plans::location_id.eq_any(locations.clone()));
    }
    if let Some(after) = after {
        query = query.filter(action_plans::id.gt(after));
    }
    let rows = query.load(conn)?;
    with_parts(conn, org, rows)
}

/// Writes a plan's own fields back (not its actions), if it still has `expected` status:
/// `false` when another request changed it first.
pub fn update(conn: &mut DbConn, plan: &ActionPlan, expected: PlanStatus) -> QueryResult<bool> {
    let row = PlanRow::of(plan);
    let updated = diesel::update(
        action_plans::table
            .filter(action_plans::org_id.eq(plan.org_id))
            .filter(action_plans::id.eq(plan.id))
            .filter(action_plans::status.eq(expected)),
    )
    .set((
        action_plans::status.eq(row.status),
        action_plans::causes.eq(row.causes),
        action_plans::planned_at.eq(row.planned_at),
        action_plans::done_at.eq(row.done_at),
        action_plans::verified_at.eq(row.verified_at),
        action_plans::review_note.eq(row.review_note),
        action_plans::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Replaces a plan's actions.
pub fn replace_actions(conn: &mut DbConn, plan: &ActionPlan) -> QueryResult<()> {
    diesel::delete(
        action_plan_actions::table
            .filter(action_plan_actions::org_id.eq(plan.org_id))
            .filter(action_plan_actions::plan_id.eq(plan.id)),
    )
    .execute(conn)?;
    let rows: Vec<ActionRow> = plan
        .actions
        .iter()
        .map(|a| ActionRow {
            org_id: plan.org_id,
            plan_id: plan.id,
            number: i32::try_from(a.number).unwrap_or(i32::MAX),
            description: a.description.clone(),
            owner: a.owner.clone(),
            due_on: text(a.due_on),
            done_at: naive(a.done_at),
            done_note: a.done_note.clone(),
            overdue_recorded: false,
        })
        .collect();
    on_backend!(conn, |c| diesel::insert_into(action_plan_actions::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

/// Marks one action done, if it was not: `false` when it already was (or is not there).
pub fn finish_action(
    conn: &mut DbConn,
    org: OrgId,
    plan: ActionPlanId,
    number: u32,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        action_plan_actions::table
            .filter(action_plan_actions::org_id.eq(org))
            .filter(action_plan_actions::plan_id.eq(plan))
            .filter(action_plan_actions::number.eq(i32::try_from(number).unwrap_or(i32::MAX)))
            .filter(action_plan_actions::done_at.is_null()),
    )
    .set((
        action_plan_actions::done_at.eq(at.naive_utc()),
        action_plan_actions::done_note.eq(note),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// An action not done whose due date may have passed somewhere, and whose overdue event
/// is not recorded yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAction {
    pub org_id: OrgId,
    pub plan_id: ActionPlanId,
    pub number: u32,
    pub due_on: NaiveDate,
}

/// Actions not done, due before `before`, whose overdue event is not recorded, at most
/// `limit` (every organization's: the sweep's candidates).
pub fn due_before(conn: &mut DbConn, before: NaiveDate, limit: i64) -> QueryResult<Vec<DueAction>> {
    action_plan_actions::table
        .filter(action_plan_actions::done_at.is_null())
        .filter(action_plan_actions::overdue_recorded.eq(false))
        .filter(action_plan_actions::due_on.lt(text(before)))
        .select((
            action_plan_actions::org_id,
            action_plan_actions::plan_id,
            action_plan_actions::number,
            action_plan_actions::due_on,
        ))
        .order(action_plan_actions::due_on)
        .limit(limit)
        .load::<(OrgId, ActionPlanId, i32, String)>(conn)?
        .into_iter()
        .map(|(org_id, plan_id, number, due_on)| {
            Ok(DueAction {
                org_id,
                plan_id,
                number: u32::try_from(number).unwrap_or(0),
                due_on: date(&due_on)?,
            })
        })
        .collect()
}

/// Records that an action's overdue event was written: `false` when another instance did.
pub fn mark_overdue_recorded(conn: &mut DbConn, due: &DueAction) -> QueryResult<bool> {
    let updated = diesel::update(
        action_plan_actions::table
            .filter(action_plan_actions::org_id.eq(due.org_id))
            .filter(action_plan_actions::plan_id.eq(due.plan_id))
            .filter(action_plan_actions::number.eq(i32::try_from(due.number).unwrap_or(i32::MAX)))
            .filter(action_plan_actions::overdue_recorded.eq(false))
            .filter(action_plan_actions::done_at.is_null()),
    )
    .set(action_plan_actions::overdue_recorded.eq(true))
    .execute(conn)?;
    Ok(updated == 1)
}
