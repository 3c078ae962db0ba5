//! What the programme does inside a report's transaction: the context a submission is checked against, and the assignment it completes or reopens.

use chrono::{Days, NaiveDate};

use super::*;
use crate::db::programme as store;
use crate::db::{DbConn, QueryResult, Tx};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{AssignmentId, LocationId, OrgId, UserId};
use crate::programme::model::{Assignment, AssignmentStatus, ProgrammeSettings};
use crate::programme::rules::{self, Breach, DateRange, LockoutRules, YEAR_DAYS};
use crate::validation::Violation;

/// What a report's submission is checked against in the programme.
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    pub settings: ProgrammeSettings,
    /// The assignment the report names, with its wave's questionnaire key.
    pub assignment: Option<(Assignment, String)>,
    /// The shopper is excluded from the location.
    pub excluded: bool,
    /// The shopper's other visits to the location the rules count.
    pub visits: Vec<DateRange>,
}

/// Loads what `check_report` needs for a report of `shopper` at `location` around `day`.
pub fn report_context(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    location: LocationId,
    named: Option<AssignmentId>,
    report: crate::ids::ReportId,
    day: NaiveDate,
) -> QueryResult<ReportContext> {
    let settings = store::settings(conn, org)?;
    let assignment = match named {
        Some(id) => match store::find_assignment(conn, org, id)? {
            Some(a) => {
                let key = wave_key(conn, org, a.wave_id)?;
                Some((a, key))
            }
            None => None,
        },
        None => None,
    };
    let rules_on = settings.rules != LockoutRules::default();
    let excluded = store::is_excluded(conn, org, shopper, location)?;
    let mut visits = Vec::new();
    if rules_on {
        // A day either side: the visit date is local, `day` its UTC date.
        let back = YEAR_DAYS + u64::from(settings.rules.lockout_days.unwrap_or(0)) + 1;
        let since = day.checked_sub_days(Days::new(back)).unwrap_or(day);
        visits.extend(
            store::visit_dates(conn, org, shopper, location, since, Some(report))?
                .into_iter()
                .map(DateRange::day),
        );
        visits.extend(
            store::active_for(conn, org, shopper, location)?
                .into_iter()
                .filter(|a| Some(a.id) != named)
                .map(|a| a.window()),
        );
    }
    Ok(ReportContext {
        settings,
        assignment,
        excluded,
        visits,
    })
}

/// A report against the programme: the violations of the assignment it names (or of the
/// organization's `require_assignment`), and the lockout rule its visit breaks, if any.
pub fn check_report(
    ctx: &ReportContext,
    named: Option<AssignmentId>,
    shopper: UserId,
    location: LocationId,
    questionnaire_key: &str,
    report: crate::ids::ReportId,
    visit_date: NaiveDate,
) -> (Vec<Violation>, Option<Breach>) {
    let mut errors = Vec::new();
    match (named, &ctx.assignment) {
        (None, _) if ctx.settings.require_assignment => errors.push(Violation::new(
            "/assignment_id",
            "assignment_required",
            "your organization requires every report to name its assignment",
        )),
        (None, _) => {}
        (Some(_), None) => errors.push(Violation::new(
            "/assignment_id",
            "unknown_assignment",
            "no assignment with this id in your organization",
        )),
        (Some(_), Some((a, key))) => {
            let completed_by_this =
                a.status == AssignmentStatus::Completed && a.report_id == Some(report);
            if a.shopper_id != Some(shopper) {
                errors.push(Violation::new(
                    "/assignment_id",
                    "not_your_assignment",
                    "the assignment is not the shopper's (claim or accept it first)",
                ));
            } else if !completed_by_this
                // An app that was offline may send the report after the window ended: what
                // counts is that the visit fell inside it (checked below), not when it arrives.
                && !matches!(
                    a.status,
                    AssignmentStatus::Assigned | AssignmentStatus::Accepted
                )
            {
                errors.push(Violation::new(
                    "/assignment_id",
                    "assignment_not_active",
                    format!(
                        "the assignment is {}; only an assigned or accepted one is completed by a report",
                        a.status.as_str()
                    ),
                ));
            }
            if a.location_id != location {
                errors.push(Violation::new(
                    "/location_id",
                    "wrong_location",
                    "the assignment is for another location",
                ));
            }
            if key != questionnaire_key {
                errors.push(Violation::new(
                    "/questionnaire_id",
                    "wrong_questionnaire",
                    format!("the assignment asks for the questionnaire `{key}`"),
                ));
            }
            if visit_date < a.visit_from || visit_date > a.visit_to {
                errors.push(Violation::new(
                    "/visit/started_at",
                    "outside_window",
                    format!(
                        "the visit ({visit_date}) is outside the assignment's window, {} to {}",
                        a.visit_from, a.visit_to
                    ),
                ));
            }
        }
    }
    let breach = rules::check(
        ctx.settings.rules,
        ctx.excluded,
        &ctx.visits,
        DateRange::day(visit_date),
    )
    .err();
    (errors, breach)
}

/// The lockout rules checked again inside a new report's transaction, with the shopper's row
/// locked first: concurrent submissions of one shopper pass here one at a time, each seeing
/// the reports stored before it. `day` is the visit's UTC date, `visit_date` its local one.
#[allow(clippy::too_many_arguments)]
pub fn lockout_in_transaction(
    tx: &mut Tx<'_>,
    org: OrgId,
    shopper: UserId,
    location: LocationId,
    named: Option<AssignmentId>,
    report: crate::ids::ReportId,
    day: NaiveDate,
    visit_date: NaiveDate,
) -> QueryResult<Option<Breach>> {
    crate::db::identity::lock_user(tx, org, shopper)?;
    let ctx = report_context(tx, org, shopper, location, named, report, day)?;
    Ok(rules::check(
        ctx.settings.rules,
        ctx.excluded,
        &ctx.visits,
        DateRange::day(visit_date),
    )
    .err())
}

/// Completes the assignment a new report names, in the report's transaction; false when it
/// changed meanwhile.
pub fn complete(
    tx: &mut Tx<'_>,
    org: OrgId,
    id: AssignmentId,
    report: crate::ids::ReportId,
) -> QueryResult<bool> {
    let Some(a) = store::find_assignment(tx, org, id)? else {
        return Ok(false);
    };
    if a.status == AssignmentStatus::Completed && a.report_id == Some(report) {
        return Ok(true);
    }
    let shopper = a.shopper_id;
    mark_completed(tx, a, shopper, report)
}

/// Completes `a` with the report, for the shopper, unless it changed since it was read;
/// records the event. False when it changed.
fn mark_completed(
    tx: &mut Tx<'_>,
    mut a: Assignment,
    shopper: Option<UserId>,
    report: crate::ids::ReportId,
) -> QueryResult<bool> {
    let before = (a.status, a.shopper_id);
    a.status = AssignmentStatus::Completed;
    a.shopper_id = shopper;
    a.report_id = Some(report);
    a.updated_at = tx.now();
    if !store::update_assignment_if(tx, &a, before)? {
        return Ok(false);
    }
    events::record(tx, &event::assignment(EventType::AssignmentCompleted, &a))?;
    Ok(true)
}

/// A rejected report that an admin reopens takes its assignment back while the slot is still
/// open: completed again with the report, for the report's shopper. A slot that was claimed
/// or given to someone else meanwhile stays theirs (the report then completes none).
pub fn restore_for_reopened(
    tx: &mut Tx<'_>,
    org: OrgId,
    id: AssignmentId,
    report: crate::ids::ReportId,
    shopper: UserId,
) -> QueryResult<()> {
    match store::find_assignment(tx, org, id)? {
        Some(a) if a.status == AssignmentStatus::Open && a.shopper_id.is_none() => {
            mark_completed(tx, a, Some(shopper), report).map(drop)
        }
        _ => Ok(()),
    }
}

/// A rejected report gives its assignment's slot back: the assignment is open again, for
/// any shopper to claim (or expired, once its window has ended).
pub fn reopen_for_rejected(
    tx: &mut Tx<'_>,
    org: OrgId,
    report: crate::ids::ReportId,
) -> QueryResult<()> {
    if let Some(mut a) = store::assignment_of_report(tx, org, report)? {
        let before = (a.status, a.shopper_id);
        a.status = AssignmentStatus::Open;
        a.shopper_id = None;
        a.report_id = None;
        a.updated_at = tx.now();
        if store::update_assignment_if(tx, &a, before)? {
            events::record(tx, &event::assignment(EventType::AssignmentReopened, &a))?;
        }
    }
    Ok(())
}
