//! The use cases of visit reports. Each owns its database work (one call, one transaction
//! where it writes) and answers with domain results or a [`ReportError`]; the handlers
//! authenticate, parse, call one of these and respond.

use std::collections::HashMap;

use super::context::{Found, SubmissionContext, find_context, submitter};
use super::model::{
    self, Report, ReportDocument, ReportStatus, ReportSubmission, View, Visibility,
};
use super::validation::{self, Context};
use super::workflow::{Action, Actor, ActorKind, MAX_NOTE_CHARS, Release, Transition};
use super::{flags, scoring, verdict};
use crate::aggregates::moves::{Counted, FigureMove, MoveKind};
use crate::aggregates::rollup;
use crate::aggregates::stats::VerdictRule;
use crate::auth::model::Role;
use crate::auth::{AuthUser, Principal};
use crate::config::ReportsConfig;
use crate::db::aggregates as rollups;
use crate::db::reports::{self as store, Listing, ReportFilter};
use crate::db::{self, Db, DbError, identity, locations};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{OrgId, ReportId, TransitionId};
use crate::validation::Violation;

/// Why a report use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid report")]
    Invalid(Vec<Violation>),
    /// No such report, or one the caller may not see.
    #[error("no such report")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// The id is taken by a different report.
    #[error("a different report has this id")]
    IdempotencyMismatch,
    #[error("`{}` is not possible while the report is {}", .action.as_str(), .current.as_str())]
    InvalidTransition {
        action: Action,
        current: ReportStatus,
    },
    /// The caller decided on a revision that is no longer the current one.
    #[error("the report is at revision {revision} now")]
    StaleRevision {
        revision: i32,
        current: ReportStatus,
    },
    /// A reviewer deciding on a report they submitted themselves (segregation of duties).
    #[error("nobody reviews a report they submitted")]
    OwnReport,
    /// The shopper reached the daily submission quota; a slot frees up in `retry_after` s.
    #[error("the shopper submitted {limit} reports in the last 24 hours, the most allowed")]
    QuotaExceeded { limit: u32, retry_after: u64 },
    /// A lockout rule or an exclusion refuses the visit.
    #[error("{}", .0.message())]
    Rule(crate::programme::rules::Breach),
    /// `If-Match` named a state the report is no longer in.
    #[error("the report changed since it was read")]
    ChangedSinceRead { current: ReportStatus },
    #[error(transparent)]
    Db(#[from] DbError),
}

db::domain_error!(ReportError);

/// Who acts, for the history.
pub fn actor(caller: &AuthUser) -> Actor {
    match caller.principal {
        Principal::User { id, role } => Actor {
            kind: ActorKind::User,
            id: id.0,
            role: Some(role),
        },
        Principal::Client { id } => Actor {
            kind: ActorKind::Client,
            id: id.0,
            role: None,
        },
    }
}

/// A submission checked and scored, or, for a first submission whose id is already
/// stored, the stored report (answered as a replay without checking again: the rules may
/// have moved on since it was accepted).
enum Prepared {
    /// A new report, and whether the organization's lockout rules are on (then they are
    /// checked again in the report's transaction).
    New(Box<Report>, bool),
    Stored(Box<Report>),
}

/// Validates `submission` against everything it refers to and scores it: a report at
/// revision 1, `submitted`, stamped now. Every violation is reported at once.
async fn prepare(
    db: &Db,
    rules: &ReportsConfig,
    caller: &AuthUser,
    submission: ReportSubmission,
    hash: String,
    look_for_stored: bool,
) -> Result<Prepared, ReportError> {
    let org = caller.org_id;
    let client = match caller.principal {
        Principal::Client { id } => Some(id),
        Principal::User { .. } => None,
    };
    let mut violations = Vec::new();
    let shopper = submitter(caller, submission.shopper_id).unwrap_or_else(|v| {
        violations.push(v);
        None
    });
    let named_assignment = submission.assignment_id;
    let report_id = submission.id;
    // The caller's row was read for this request: a shopper submitting as themselves is
    // known to be an active shopper.
    let verified = matches!(caller.principal, Principal::User { id, role: Role::Shopper } if Some(id) == shopper);
    let SubmissionContext {
        location,
        questionnaire,
        shopper_ok,
        programme,
    } = match find_context(db, org, &submission, shopper, verified, look_for_stored).await? {
        Found::Stored(stored) => return Ok(Prepared::Stored(stored)),
        Found::New(context) => *context,
    };
    if !shopper_ok {
        violations.push(Violation::new(
            "/shopper_id",
            "unknown_shopper",
            "no active shopper with this id in your organization",
        ));
    }
    let ctx = Context {
        now: db.now(),
        max_age_days: rules.max_age_days,
        checkin_radius_m: rules.checkin_radius_m,
        location: location.as_ref(),
        questionnaire: questionnaire.as_ref(),
    };
    violations.extend(validation::validate(&submission, &ctx));
    // The programme: the assignment the report names (or the organization's requirement of
    // one), then the lockout rules.
    let mut breach = None;
    let lockout_on = programme
        .as_ref()
        .is_some_and(|p| p.settings.rules != Default::default());
    if let (Some(shopper), Some(location), Some(questionnaire), Some(programme)) =
        (shopper, &location, &questionnaire, &programme)
    {
        let (found, broken) = crate::programme::service::check_report(
            programme,
            named_assignment,
            shopper,
            location.id,
            &questionnaire.key,
            report_id,
            model::local_date(submission.visit.started_at, location.fields.timezone),
        );
        violations.extend(found);
        breach = broken;
    }
    let (Some(shopper), Some(location), Some(questionnaire), true) =
        (shopper, location, questionnaire, violations.is_empty())
    else {
        return Err(ReportError::Invalid(violations));
    };
    if let Some(breach) = breach {
        return Err(ReportError::Rule(breach));
    }

    let score = scoring::score(&questionnaire.content, &submission.answers);
    let flags = flags::flags(&submission, &location, rules.checkin_radius_m);
    let plausibility = super::assess::plausibility(
        db,
        super::assess::Subject {
            org,
            shopper,
            questionnaire_key: &questionnaire.key,
            submission: &submission,
            content: &questionnaire.content,
            score: &score,
            location: &location,
            checkin_radius_m: rules.checkin_radius_m,
        },
    )
    .await?;
    let attachments = model::expected_files(&questionnaire.content, &submission);
    let now = db.now();
    Ok(Prepared::New(
        Box::new(Report {
            id: submission.id,
            org_id: org,
            location_id: location.id,
            questionnaire_id: questionnaire.id,
            questionnaire_key: questionnaire.key.clone(),
            shopper_id: shopper,
            status: ReportStatus::Submitted,
            revision: 1,
            visit_local_date: model::local_date(
                submission.visit.started_at,
                location.fields.timezone,
            ),
            body_hash: hash,
            document: ReportDocument {
                submission,
                score,
                flags,
                plausibility: Some(plausibility),
                attachments,
                submitted_by_client: client,
                submitted_at: now,
            },
            created_at: now,
            updated_at: now,
        }),
        lockout_on,
    ))
}

/// What a submission did.
pub enum Submitted {
    /// Stored now, with the shopper's daily quota as it stands (when there is one).
    Created(Report, Option<crate::limits::Limit>),
    /// An identical retry of a stored report: nothing changed.
    Replayed(Report),
}

/// Submits a visit report, idempotently on its id: the first submission is validated,
/// scored and stored with its `submit` transition; the same body again (from the same
/// submitter) answers the stored report; a different body with the same id is refused.
pub async fn submit(
    db: &Db,
    rules: &ReportsConfig,
    caller: &AuthUser,
    submission: ReportSubmission,
) -> Result<Submitted, ReportError> {
    let hash = model::submission_hash(&submission);
    let org = caller.org_id;
    // A retry of a stored report is answered from what is stored, before any validation:
    // the rules (e.g. the maximum age) may have moved on since it was accepted.
    let (report, lockout_on) =
        match prepare(db, rules, caller, submission, hash.clone(), true).await? {
            Prepared::Stored(existing) => return replay(*existing, &hash, caller),
            Prepared::New(report, lockout_on) => (*report, lockout_on),
        };
    let submitted = Transition {
        id: TransitionId::generate(),
        org_id: org,
        report_id: report.id,
        from: None,
        to: ReportStatus::Submitted,
        action: Action::Submit,
        actor: actor(caller),
        note: None,
        revision: 1,
        at: report.created_at,
    };
    let id = report.id;
    let quota = rules.daily_quota;
    let written = db
        .write(move |tx| {
            // The lockout rules and the quota count the shopper's reports, under a lock on
            // the shopper so that concurrent submissions cannot both take the last slot.
            if lockout_on {
                let visit = &report.document.submission;
                let breach = crate::programme::service::lockout_in_transaction(
                    tx,
                    org,
                    report.shopper_id,
                    report.location_id,
                    visit.assignment_id,
                    report.id,
                    visit
                        .visit
                        .started_at
                        .with_timezone(&chrono::Utc)
                        .date_naive(),
                    report.visit_local_date,
                )?;
                if let Some(breach) = breach {
                    return Err(ReportError::Rule(breach));
                }
            }
            let mut left = None;
            if let Some(limit) = quota {
                identity::lock_user(tx, org, report.shopper_id)?;
                let since = report.created_at - chrono::Duration::hours(24);
                let (count, earliest) =
                    store::shopper_submissions_since(tx, org, report.shopper_id, since)?;
                let frees = earliest.unwrap_or(report.created_at) + chrono::Duration::hours(24);
                left = Some(daily_quota(
                    limit,
                    count + 1,
                    (frees - report.created_at).num_seconds(),
                ));
                if count >= i64::from(limit) {
                    let frees = earliest.unwrap_or(report.created_at) + chrono::Duration::hours(24);
                    let wait = (frees - report.created_at).num_seconds().max(1);
                    return Err(ReportError::QuotaExceeded {
                        limit,
                        retry_after: u64::try_from(wait).unwrap_or(1),
                    });
                }
            }
            store::insert_new(tx, &report, &submitted)?;
            events::record(tx, &event::report(EventType::ReportSubmitted, &report))?;
            // The assignment it names is completed in the same transaction; if it changed
            // since it was checked, nothing of this submission is kept.
            if let Some(assignment) = report.document.submission.assignment_id
                && !crate::programme::service::complete(tx, org, assignment, report.id)?
            {
                return Err(ReportError::Invalid(vec![Violation::new(
                    "/assignment_id",
                    "assignment_not_active",
                    "the assignment changed meanwhile; read it again",
                )]));
            }
            Ok(Submitted::Created(report.clone(), left))
        })
        .await;
    let outcome = match written {
        // A concurrent submission with this id won the insert: answer as a replay.
        Err(ReportError::Db(e)) if e.is_unique_violation() => {
            let existing = db
                .run(move |conn| Ok::<_, ReportError>(store::find(conn, org, id)?))
                .await?;
            Submitted::Replayed(existing.ok_or(ReportError::Db(e))?)
        }
        other => other?,
    };
    match outcome {
        Submitted::Replayed(existing) => replay(existing, &hash, caller),
        Submitted::Created(report, left) => {
            tracing::info!(
                report = %report.id,
                mile_level = report.document.score.mile_level.as_str(),
                flags = report.document.flags.len(),
                "report submitted"
            );
            Ok(Submitted::Created(report, left))
        }
    }
}

/// The shopper's daily quota after `used` reports in the last 24 hours, the oldest of which
/// leaves the window in `frees_in` seconds.
pub fn daily_quota(limit: u32, used: i64, frees_in: i64) -> crate::limits::Limit {
    crate::limits::Limit {
        name: "daily-reports",
        quota: limit,
        window_secs: 86_400,
        remaining: u32::try_from(i64::from(limit) - used.min(i64::from(limit))).unwrap_or(0),
        reset_secs: u64::try_from(frees_in.max(1)).unwrap_or(1),
    }
}

/// The answer to a submission whose id is already stored.
fn replay(existing: Report, hash: &str, caller: &AuthUser) -> Result<Submitted, ReportError> {
    let same_submitter = match caller.principal {
        Principal::User { id, .. } => existing.shopper_id == id,
        Principal::Client { id } => existing.document.submitted_by_client == Some(id),
    };
    if !same_submitter || existing.body_hash != hash {
        return Err(ReportError::IdempotencyMismatch);
    }
    Ok(Submitted::Replayed(existing))
}

async fn load(db: &Db, org: OrgId, id: ReportId) -> Result<Report, ReportError> {
    db.run(move |conn| Ok::<_, DbError>(store::find(conn, org, id)?))
        .await?
        .ok_or(ReportError::NotFound)
}

/// Revises a returned report: the shopper (or the client that submitted it) sends the whole
/// corrected report. It is validated and scored like a new one and stored as the next
/// revision, keeping the superseded one, and goes back to review. A retry of a stored
/// revision answers the report as it is.
pub async fn revise(
    db: &Db,
    rules: &ReportsConfig,
    caller: &AuthUser,
    id: ReportId,
    submission: ReportSubmission,
) -> Result<Report, ReportError> {
    let current = load(db, caller.org_id, id).await?;
    let owner = match caller.principal {
        Principal::User {
            id: me,
            role: Role::Shopper,
        } => current.shopper_id == me,
        Principal::Client { id: me } => current.document.submitted_by_client == Some(me),
        Principal::User { .. } => {
            return Err(ReportError::Forbidden(
                "only the report's shopper revises it",
            ));
        }
    };
    if !owner {
        return Err(ReportError::NotFound);
    }
    let hash = model::submission_hash(&submission);
    if current.status == ReportStatus::Submitted
        && current.revision > 1
        && current.body_hash == hash
    {
        return Ok(current);
    }
    if current.status != ReportStatus::Returned {
        return Err(ReportError::InvalidTransition {
            action: Action::Revise,
            current: current.status,
        });
    }
    if submission.id != id {
        return Err(ReportError::Invalid(vec![Violation::new(
            "/id",
            "id_mismatch",
            "the body's id must be the report's id",
        )]));
    }
    if let (Principal::Client { .. }, Some(named)) = (caller.principal, submission.shopper_id)
        && named != current.shopper_id
    {
        return Err(ReportError::Invalid(vec![Violation::new(
            "/shopper_id",
            "shopper_changed",
            "a revision keeps the report's shopper",
        )]));
    }
    if submission.assignment_id != current.document.submission.assignment_id {
        return Err(ReportError::Invalid(vec![Violation::new(
            "/assignment_id",
            "assignment_changed",
            "a revision keeps the report's assignment",
        )]));
    }
    let mut revised = match prepare(db, rules, caller, submission, hash, false).await? {
        Prepared::New(report, _) | Prepared::Stored(report) => *report,
    };
    revised.revision = current.revision + 1;
    revised.created_at = current.created_at;
    let transition = Transition {
        id: TransitionId::generate(),
        org_id: current.org_id,
        report_id: id,
        from: Some(ReportStatus::Returned),
        to: ReportStatus::Submitted,
        action: Action::Revise,
        actor: actor(caller),
        note: None,
        revision: revised.revision,
        at: revised.updated_at,
    };
    let stored = revised.clone();
    let replaced = db
        .write(move |tx| {
            if !store::replace_content(tx, &current, &stored)? {
                return Ok(false);
            }
            if !store::record_transition(tx, &transition)? {
                // Decided meanwhile: the replaced content is rolled back with this error.
                return Err(ReportError::InvalidTransition {
                    action: Action::Revise,
                    current: ReportStatus::Returned,
                });
            }
            let now = store::find(tx, stored.org_id, stored.id)?.ok_or(ReportError::NotFound)?;
            events::record(tx, &event::report(EventType::ReportRevised, &now))?;
            Ok(true)
        })
        .await;
    match replaced {
        Ok(true) => Ok(revised),
        Ok(false) | Err(ReportError::InvalidTransition { .. }) => {
            let now = load(db, caller.org_id, id).await?;
            Err(ReportError::InvalidTransition {
                action: Action::Revise,
                current: now.status,
            })
        }
        Err(e) => Err(e),
    }
}

/// A reviewer's decision as asked.
pub struct Decision {
    pub action: Action,
    pub note: Option<String>,
    /// The revision the reviewer read, if they say.
    pub revision: Option<i32>,
    /// The entity tag the reviewer read (`If-Match`), if they say.
    pub if_match: Option<String>,
}

/// The entity tag of a report's reviewable state: its revision and status.
pub fn etag(report: &Report) -> String {
    format!("\"{}-{}\"", report.revision, report.status.as_str())
}

/// Checks a decision's note: required for reject, return and reopen; at most
/// [`MAX_NOTE_CHARS`] characters.
fn checked_note(action: Action, note: Option<String>) -> Result<Option<String>, ReportError> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let mut violations = Vec::new();
    if action.needs_note() && note.is_none() {
        violations.push(Violation::new(
            "/note",
            "required",
            format!("`{}` needs a note", action.as_str()),
        ));
    }
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        violations.push(Violation::new(
            "/note",
            "too_long",
            format!("a note has at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if violations.is_empty() {
        Ok(note)
    } else {
        Err(ReportError::Invalid(violations))
    }
}

/// Decides on a report under review: approve (release), reject, return for revision, or
/// reopen. Of concurrent decisions on one report exactly one is made; the others are
/// refused with the status the report is in now. Returns the report after the decision and
/// the decision itself when it carries a note.
pub async fn decide(
    db: &Db,
    rule: VerdictRule,
    caller: &AuthUser,
    id: ReportId,
    decision: Decision,
) -> Result<(Report, Option<Transition>), ReportError> {
    let action = decision.action;
    let note = checked_note(action, decision.note)?;
    let current = load(db, caller.org_id, id).await?;
    if caller.user_id() == Some(current.shopper_id) {
        return Err(ReportError::OwnReport);
    }
    if let Some(expected) = decision.if_match.as_deref()
        && expected.trim() != "*"
        && expected.trim().trim_start_matches("W/") != etag(&current)
    {
        return Err(ReportError::ChangedSinceRead {
            current: current.status,
        });
    }
    if decision.revision.is_some_and(|r| r != current.revision) {
        return Err(ReportError::StaleRevision {
            revision: current.revision,
            current: current.status,
        });
    }
    let Some(next) = action.apply(Some(current.status)) else {
        return Err(ReportError::InvalidTransition {
            action,
            current: current.status,
        });
    };
    let transition = Transition {
        id: TransitionId::generate(),
        org_id: current.org_id,
        report_id: current.id,
        from: Some(current.status),
        to: next,
        action,
        actor: actor(caller),
        note,
        revision: current.revision,
        at: db.now(),
    };
    let recorded = transition.clone();
    let org = current.org_id;
    let location = current.location_id;
    let (assignment, shopper) = (
        current.document.submission.assignment_id,
        current.shopper_id,
    );
    let updated = db
        .write(move |tx| {
            let release = recorded.release();
            let today = tx.now().date_naive();
            // A release or its withdrawal may change the location's verdict.
            let before = match release {
                Some(_) => Some(verdict::read(tx, org, location, &rule, today)?),
                None => None,
            };
            if !store::record_transition(tx, &recorded)? {
                // Someone else decided first.
                return Ok(None);
            }
            if recorded.to == ReportStatus::Rejected {
                crate::programme::service::reopen_for_rejected(tx, org, id)?;
            }
            if let (Some(assignment), Some(ReportStatus::Rejected)) = (assignment, recorded.from)
                && recorded.action == Action::Reopen
            {
                crate::programme::service::restore_for_reopened(tx, org, assignment, id, shopper)?;
            }
            let report = store::find(tx, org, id)?.ok_or(ReportError::NotFound)?;
            // Released reports are what the rollups count, changed in the same transaction.
            match release {
                Some(Release::Released) => rollups::add(tx, &rollup::contribution(&report))?,
                Some(Release::Withdrawn) => rollups::remove(tx, &rollup::contribution(&report))?,
                None => {}
            }
            let kind = match recorded.action {
                Action::Approve => EventType::ReportApproved,
                Action::Reject => EventType::ReportRejected,
                Action::Return => EventType::ReportReturned,
                Action::Reopen => EventType::ReportReopened,
                Action::Submit => EventType::ReportSubmitted,
                Action::Revise => EventType::ReportRevised,
            };
            let recorded_event = event::report(kind, &report);
            events::record(tx, &recorded_event)?;
            if let Some(release) = release {
                let counted = Some(Counted::of(&report));
                let (kind, was, is) = match (release, recorded.action) {
                    (Release::Released, _) => (MoveKind::Released, None, counted),
                    (Release::Withdrawn, Action::Reject) => (MoveKind::Rejected, counted, None),
                    (Release::Withdrawn, _) => (MoveKind::Reopened, counted, None),
                };
                let moved = FigureMove::new(recorded_event.id, kind, &report, was, is, tx.now());
                crate::db::figure_moves::record(tx, &moved)?;
            }
            if let Some(before) = before {
                let shift = verdict::record_change(tx, &report, before, &rule)?;
                let released = release == Some(Release::Released);
                crate::improvement::service::on_release(tx, &report, released, shift.as_ref())?;
            }
            Ok::<_, ReportError>(Some(report))
        })
        .await?;
    match updated {
        Some(report) => {
            tracing::info!(report = %report.id, action = action.as_str(), to = next.as_str(), "report reviewed");
            Ok((report, transition.note.is_some().then_some(transition)))
        }
        None => {
            let now = load(db, org, id).await?;
            Err(ReportError::InvalidTransition {
                action,
                current: now.status,
            })
        }
    }
}

/// The report if `scope` may see it, how much of it, and (with `with_note`, for any view
/// but a manager's) its latest review note, all read in one database call.
pub async fn find_visible(
    db: &Db,
    org: OrgId,
    scope: Visibility,
    id: ReportId,
    with_note: bool,
) -> Result<(Report, View, Option<Transition>), ReportError> {
    let manager = match scope {
        Visibility::Managed(m) => Some(m),
        _ => None,
    };
    let (report, manages, note) = db
        .run(move |conn| {
            let Some(report) = store::find(conn, org, id)? else {
                return Ok::<_, DbError>(None);
            };
            let manages = match manager {
                Some(m) => locations::manages(conn, org, m, report.location_id)?,
                None => false,
            };
            let note = if with_note && manager.is_none() {
                store::latest_notes(conn, org, &[id])?.remove(&id)
            } else {
                None
            };
            Ok(Some((report, manages, note)))
        })
        .await?
        .ok_or(ReportError::NotFound)?;
    let view = match scope {
        Visibility::All(view) => view,
        Visibility::Own(me) if report.shopper_id == me => View::Own,
        Visibility::Managed(_) if manages && report.status == ReportStatus::Approved => {
            View::Manager
        }
        _ => return Err(ReportError::NotFound),
    };
    Ok((report, view, note))
}

/// A page of the reports `scope` may see, with each one's latest review note (not for
/// managers), and the view they are seen with.
pub async fn list_visible(
    db: &Db,
    org: OrgId,
    scope: Visibility,
    mut filter: ReportFilter,
    order: Listing,
    fetch: i64,
) -> Result<(Vec<Report>, HashMap<ReportId, Transition>, View), ReportError> {
    if matches!(order, Listing::LeastPlausible(_)) && scope != Visibility::All(View::Full) {
        return Err(ReportError::Forbidden(
            "sorting by plausibility is for admins and reviewers",
        ));
    }
    let view = match scope {
        Visibility::All(view) => view,
        Visibility::Own(me) => {
            filter.shopper = Some(me);
            View::Own
        }
        Visibility::Managed(me) => {
            filter.manager = Some(me);
            // Managers only ever see released reports.
            if filter.statuses.iter().any(|s| *s != ReportStatus::Approved) {
                return Ok((Vec::new(), HashMap::new(), View::Manager));
            }
            filter.statuses = vec![ReportStatus::Approved];
            View::Manager
        }
    };
    let with_notes = view != View::Manager;
    let (rows, notes) = db
        .run(move |conn| {
            let rows = store::list_in(conn, org, &filter, &order, fetch)?;
            let notes = if with_notes {
                let ids: Vec<ReportId> = rows.iter().map(|r| r.id).collect();
                store::latest_notes(conn, org, &ids)?
            } else {
                HashMap::new()
            };
            Ok::<_, DbError>((rows, notes))
        })
        .await?;
    Ok((rows, notes, view))
}

/// One revision of a report as it was submitted, with its own score, as `scope` may see it.
pub async fn revision(
    db: &Db,
    org: OrgId,
    scope: Visibility,
    id: ReportId,
    n: i32,
) -> Result<(Report, View), ReportError> {
    let (mut report, view, _) = find_visible(db, org, scope, id, false).await?;
    if n != report.revision {
        let old = db
            .run(move |conn| Ok::<_, DbError>(store::find_revision(conn, org, id, n)?))
            .await?
            .ok_or(ReportError::NotFound)?;
        report.revision = n;
        report.body_hash = old.body_hash;
        report.document = old.document;
        report.updated_at = old.submitted_at;
    }
    Ok((report, view))
}

/// A report's history, oldest first, if `scope` may see the report.
pub async fn history(
    db: &Db,
    org: OrgId,
    scope: Visibility,
    id: ReportId,
) -> Result<Vec<Transition>, ReportError> {
    find_visible(db, org, scope, id, false).await?;
    Ok(db
        .run(move |conn| Ok::<_, DbError>(store::transitions(conn, org, id)?))
        .await?)
}
