//! What a submission is checked against: the shopper it is for, and everything it names
//! (location, questionnaire version, the programme's rules), read in one database call.

use chrono::Utc;

use super::model::{Report, ReportSubmission};
use crate::auth::model::Role;
use crate::auth::{AuthUser, Principal};
use crate::db::reports as store;
use crate::db::{Db, DbError, identity, locations, questionnaires};
use crate::ids::{OrgId, UserId};
use crate::locations::model::Location;
use crate::questionnaires::model::Questionnaire;
use crate::validation::Violation;

/// The shopper a submission is for: a shopper submits as themselves; a client names one.
pub(super) fn submitter(
    caller: &AuthUser,
    named: Option<UserId>,
) -> Result<Option<UserId>, Violation> {
    match (caller.principal, named) {
        (Principal::User { id, .. }, None) => Ok(Some(id)),
        (Principal::User { id, .. }, Some(named)) if named == id => Ok(Some(id)),
        (Principal::User { .. }, Some(_)) => Err(Violation::new(
            "/shopper_id",
            "not_yourself",
            "shoppers submit reports as themselves",
        )),
        (Principal::Client { .. }, None) => Err(Violation::new(
            "/shopper_id",
            "required",
            "a client names the shopper the report is for",
        )),
        (Principal::Client { .. }, Some(named)) => Ok(Some(named)),
    }
}

/// What a submission is checked against.
pub(super) struct SubmissionContext {
    pub location: Option<Location>,
    pub questionnaire: Option<Questionnaire>,
    /// The shopper is an active shopper of the organization (true when none is known).
    pub shopper_ok: bool,
    pub programme: Option<crate::programme::service::ReportContext>,
}

/// A stored report with the submission's id (when looked for), or the context to check a
/// new one against.
pub(super) enum Found {
    Stored(Box<Report>),
    New(Box<SubmissionContext>),
}

/// Reads, in one database call, the stored report with the submission's id (with
/// `look_for_stored`) or else everything the submission is checked against (the shopper's
/// row only when the caller's was not already read as that shopper: `shopper_verified`).
pub(super) async fn find_context(
    db: &Db,
    org: OrgId,
    submission: &ReportSubmission,
    shopper: Option<UserId>,
    shopper_verified: bool,
    look_for_stored: bool,
) -> Result<Found, DbError> {
    let (location_id, questionnaire_id) = (submission.location_id, submission.questionnaire_id);
    let report_id = submission.id;
    let named_assignment = submission.assignment_id;
    let visit_day = submission.visit.started_at.with_timezone(&Utc).date_naive();
    db.run(move |conn| {
        if look_for_stored && let Some(stored) = store::find(conn, org, report_id)? {
            return Ok(Found::Stored(Box::new(stored)));
        }
        let shopper_ok = match shopper {
            _ if shopper_verified => true,
            Some(id) => identity::find_user(conn, org, id)?
                .is_some_and(|u| u.active && u.role == Role::Shopper),
            None => true,
        };
        let programme = match shopper {
            Some(id) => Some(crate::programme::service::report_context(
                conn,
                org,
                id,
                location_id,
                named_assignment,
                report_id,
                visit_day,
            )?),
            None => None,
        };
        Ok(Found::New(Box::new(SubmissionContext {
            location: locations::find(conn, org, location_id)?,
            questionnaire: questionnaires::find(conn, org, questionnaire_id)?,
            shopper_ok,
            programme,
        })))
    })
    .await
}
