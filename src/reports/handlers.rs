//! `/api/v1/reports`: idempotent submission, validation, scoring; reading by role.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};

use super::dto::{ListReportsQuery, ReportResponse, Sort, View};
use super::model::{self, Context, Report, ReportDocument, ReportStatus, ReportSubmission};
use super::scoring;
use crate::auth::model::{Role, Scope};
use crate::auth::{AuthUser, Principal};
use crate::db::reports::{self as store, ReportCursor, ReportFilter};
use crate::db::{
    self, identity, is_unique_violation, locations, questionnaires, write_transaction,
};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::ids::UserId;
use crate::pagination::{Page, PageRequest};
use crate::review::model::{Action, Actor, Transition};
use crate::state::AppState;
use crate::validation::Violation;

/// Largest report body; a typical one is 2 to 10 KiB.
pub const REPORT_JSON_LIMIT: usize = 256 * 1024;

/// What a caller may see of reports: every report of the organization (with this view),
/// only their own, or only released reports of their locations.
enum Visibility {
    All(View),
    Own(UserId),
    Managed(UserId),
}

fn visibility(auth: &AuthUser) -> Result<Visibility, ApiError> {
    match auth.principal {
        Principal::Client { .. } => {
            auth.require_role_or_scope(&[], Scope::ReportsRead)?;
            Ok(Visibility::All(View::NoStaff))
        }
        Principal::User { id, role } => Ok(match role {
            Role::Admin | Role::Reviewer => Visibility::All(View::Full),
            Role::Analyst => Visibility::All(View::NoStaff),
            Role::Shopper => Visibility::Own(id),
            Role::Manager => Visibility::Managed(id),
        }),
    }
}

fn location_of(report: &Report) -> String {
    format!("/api/v1/reports/{}", report.id)
}

/// 403 unless the caller is a shopper or a client with `reports:write`.
fn require_submitter(auth: &AuthUser) -> Result<(), ApiError> {
    match auth.principal {
        Principal::User {
            role: Role::Shopper,
            ..
        } => Ok(()),
        Principal::Client { .. } if auth.scopes.contains(&Scope::ReportsWrite) => Ok(()),
        _ => Err(ApiError::forbidden(
            "reports are submitted by shoppers, or by integration clients with reports:write",
        )),
    }
}

/// Who the caller is, for the history.
pub fn actor(auth: &AuthUser) -> Actor {
    match auth.principal {
        Principal::User { id, role } => Actor {
            kind: "user",
            id: id.0,
            role: Some(role),
        },
        Principal::Client { id } => Actor {
            kind: "client",
            id: id.0,
            role: None,
        },
    }
}

/// Validates a submission against everything it refers to and scores it: a report at
/// revision 1, status `submitted`, stamped now. Every violation is reported at once.
pub async fn prepare(
    state: &AppState,
    auth: &AuthUser,
    submission: ReportSubmission,
    hash: String,
) -> Result<Report, ApiError> {
    match load_and_check(state, auth, submission, hash, false).await? {
        Prepared::New(report) | Prepared::Stored(report) => Ok(*report),
    }
}

/// A submission checked and scored, or, for a first submission whose id is already
/// stored, the stored report (answered as a replay, without checking again: the rules may
/// have moved on since it was accepted).
pub enum Prepared {
    New(Box<Report>),
    Stored(Box<Report>),
}

async fn load_and_check(
    state: &AppState,
    auth: &AuthUser,
    submission: ReportSubmission,
    hash: String,
    look_for_stored: bool,
) -> Result<Prepared, ApiError> {
    let org = auth.org_id;
    let (shopper_claim, client) = match auth.principal {
        Principal::User { id, .. } => (Some(id), None),
        Principal::Client { id } => (None, Some(id)),
    };
    let mut violations = Vec::new();
    let shopper = match (shopper_claim, submission.shopper_id) {
        (Some(me), None) => Some(me),
        (Some(me), Some(named)) if named == me => Some(me),
        (Some(_), Some(_)) => {
            violations.push(Violation::new(
                "/shopper_id",
                "not_yourself",
                "shoppers submit reports as themselves",
            ));
            None
        }
        (None, None) => {
            violations.push(Violation::new(
                "/shopper_id",
                "required",
                "a client names the shopper the report is for",
            ));
            None
        }
        (None, Some(named)) => Some(named),
    };
    let (location_id, questionnaire_id) = (submission.location_id, submission.questionnaire_id);
    let report_id = submission.id;
    let loaded = state
        .db
        .run(move |conn| {
            if look_for_stored && let Some(stored) = store::find(conn, org, report_id)? {
                return Ok::<_, ApiError>(Err(stored));
            }
            let location = locations::find(conn, org, location_id)?;
            let questionnaire = questionnaires::find(conn, org, questionnaire_id)?;
            let shopper_ok = match shopper {
                Some(id) => identity::find_user(conn, org, id)?
                    .is_some_and(|u| u.active && u.role == Role::Shopper),
                None => true,
            };
            Ok(Ok((location, questionnaire, shopper_ok)))
        })
        .await?;
    let (location, questionnaire, shopper_ok) = match loaded {
        Ok(context) => context,
        Err(stored) => return Ok(Prepared::Stored(Box::new(stored))),
    };
    if !shopper_ok {
        violations.push(Violation::new(
            "/shopper_id",
            "unknown_shopper",
            "no active shopper with this id in your organization",
        ));
    }
    let ctx = Context {
        now: Utc::now(),
        max_age_days: state.reports.max_age_days,
        checkin_radius_m: state.reports.checkin_radius_m,
        location: location.as_ref(),
        questionnaire: questionnaire.as_ref(),
    };
    violations.extend(model::validate(&submission, &ctx));
    let radius_m = ctx.checkin_radius_m;
    let (Some(shopper), Some(location), Some(questionnaire), true) =
        (shopper, location, questionnaire, violations.is_empty())
    else {
        return Err(ApiError::validation(violations));
    };

    let score = scoring::score(&questionnaire.content, &submission.answers);
    let flags = model::flags(&submission, &location, radius_m);
    let now = db::now();
    Ok(Prepared::New(Box::new(Report {
        id: submission.id,
        org_id: org,
        location_id: location.id,
        questionnaire_id: questionnaire.id,
        questionnaire_key: questionnaire.key.clone(),
        shopper_id: shopper,
        status: ReportStatus::Submitted,
        revision: 1,
        visit_local_date: model::local_date(submission.visit.started_at, &location.fields.timezone),
        body_hash: hash,
        document: ReportDocument {
            submission,
            score,
            flags,
            submitted_by_client: client,
            submitted_at: now,
        },
        created_at: now,
        updated_at: now,
    })))
}

/// Submit a visit report.
///
/// The `id` is generated by the app when the shopper starts the report and makes retries
/// safe: the first submission stores the report (201); the same body again returns the
/// stored report (200); the same id with a different body is refused (409) and nothing
/// changes. Every invalid value is listed at once (422) with a JSON Pointer and a code.
/// Shoppers submit as themselves; integration clients with `reports:write` name the shopper
/// in `shopper_id`.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    request_body = ReportSubmission,
    responses(
        (status = 201, description = "Stored, validated and scored", body = ReportResponse,
            headers(("Location" = String, description = "the report's URL"))),
        (status = 200, description = "An identical retry: the stored report", body = ReportResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither a shopper nor a client with `reports:write`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id is taken by a different report (`idempotency_mismatch`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid report: every violation with its pointer and code", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports")]
pub async fn submit_report(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<ReportSubmission, REPORT_JSON_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    require_submitter(&auth)?;
    let submission = body.into_inner();
    let hash = model::submission_hash(&submission);
    let org = auth.org_id;

    // A retry of a stored report is answered from what is stored, before any validation:
    // the rules (e.g. the maximum age) may have moved on since it was accepted.
    let report = match load_and_check(&state, &auth, submission, hash.clone(), true).await? {
        Prepared::Stored(existing) => return replay(*existing, &hash, &auth),
        Prepared::New(report) => *report,
    };
    let submitted = Transition {
        id: uuid::Uuid::now_v7(),
        org_id: org,
        report_id: report.id,
        from: None,
        to: ReportStatus::Submitted,
        action: Action::Submit,
        actor: actor(&auth),
        note: None,
        revision: 1,
        at: report.created_at,
    };

    enum Outcome {
        Created(Box<Report>),
        Existing(Box<Report>),
    }
    let id = report.id;
    let outcome = state
        .db
        .run(move |conn| {
            let result = write_transaction(conn, |conn| {
                store::insert_new(conn, &report, &submitted)?;
                Ok::<_, db::QueryError>(Outcome::Created(Box::new(report)))
            });
            match result {
                // A concurrent submission with this id won the insert: answer as a replay.
                Err(e) if is_unique_violation(&e) => match store::find(conn, org, id)? {
                    Some(existing) => Ok(Outcome::Existing(Box::new(existing))),
                    None => Err(ApiError::from(e)),
                },
                other => other.map_err(ApiError::from),
            }
        })
        .await?;
    match outcome {
        Outcome::Existing(existing) => replay(*existing, &hash, &auth),
        Outcome::Created(report) => {
            tracing::info!(
                report = %report.id,
                mile_level = report.document.score.mile_level.as_str(),
                flags = report.document.flags.len(),
                "report submitted"
            );
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, location_of(&report)))
                .json(ReportResponse::new(*report, View::Full)))
        }
    }
}

/// The answer to a submission whose id is already stored.
fn replay(existing: Report, hash: &str, auth: &AuthUser) -> Result<HttpResponse, ApiError> {
    let same_submitter = match auth.principal {
        Principal::User { id, .. } => existing.shopper_id == id,
        Principal::Client { id } => existing.document.submitted_by_client == Some(id),
    };
    if !same_submitter || existing.body_hash != hash {
        return Err(ApiError::conflict(
            ErrorCode::IdempotencyMismatch,
            "a different report was already submitted with this id; generate a new id for a new report",
        ));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::LOCATION, location_of(&existing)))
        .json(ReportResponse::new(existing, View::Full)))
}

/// Get one report, as the caller may see it.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "report id")),
    responses(
        (status = 200, description = "The report (redacted for managers, analysts and clients)", body = ReportResponse,
            headers(("ETag" = String, description = "revision and status; send as If-Match when reviewing"))),
        (status = 403, description = "A client without `reports:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/{id}")]
pub async fn get_report(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (report, view, note) = load_visible(&state, &auth, id.into_inner(), true).await?;
    let etag = etag(&report);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .json(ReportResponse::new(report, view).with_last_review(note.as_ref(), view)))
}

/// The entity tag of a report's reviewable state: its revision and status.
pub fn etag(report: &Report) -> String {
    format!("\"{}-{}\"", report.revision, report.status.as_str())
}

/// The report if the caller may see it, how much of it, and (with `with_note`, for any
/// view but a manager's) its latest review note, all read in one database call.
pub async fn load_visible(
    state: &AppState,
    auth: &AuthUser,
    id: uuid::Uuid,
    with_note: bool,
) -> Result<(Report, View, Option<Transition>), ApiError> {
    let scope = visibility(auth)?;
    let org = auth.org_id;
    let manager = match scope {
        Visibility::Managed(m) => Some(m),
        _ => None,
    };
    let (report, manages, note) = state
        .db
        .run(move |conn| {
            let report = store::find(conn, org, id)?.ok_or_else(ApiError::not_found)?;
            let manages = match manager {
                Some(m) => locations::manages(conn, m, report.location_id)?,
                None => false,
            };
            let note = if with_note && manager.is_none() {
                store::latest_notes(conn, org, &[id])?.remove(&id)
            } else {
                None
            };
            Ok::<_, ApiError>((report, manages, note))
        })
        .await?;
    let view = match scope {
        Visibility::All(view) => view,
        Visibility::Own(me) if report.shopper_id == me => View::Full,
        Visibility::Managed(_) if manages && report.status == ReportStatus::Approved => {
            View::Manager
        }
        _ => return Err(ApiError::not_found()),
    };
    Ok((report, view, note))
}

fn cursor_key(r: &Report) -> String {
    format!("{}:{}", r.created_at.timestamp_micros(), r.id)
}

fn parse_cursor(key: &str) -> Option<ReportCursor> {
    let (micros, id) = key.split_once(':')?;
    Some(ReportCursor {
        created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id: uuid::Uuid::parse_str(id).ok()?,
    })
}

/// List reports the caller may see, with filters; shoppers see their own, managers the
/// released reports of their locations.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ListReportsQuery),
    responses(
        (status = 200, description = "A page of reports", body = Page<ReportResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client without `reports:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports")]
pub async fn list_reports(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListReportsQuery>,
) -> Result<web::Json<Page<ReportResponse>>, ApiError> {
    let scope = visibility(&auth)?;
    let query = query.into_inner();
    let page = PageRequest::parse_with(query.limit, query.cursor.as_deref(), |k| {
        parse_cursor(k).is_some()
    })?;
    let after = page.after.as_deref().and_then(parse_cursor);
    let mut filter = ReportFilter {
        location: query.location_id,
        region: query.region,
        statuses: query.status.into_iter().collect(),
        mile_level: query.mile_level,
        questionnaire_key: query.questionnaire_key,
        visit_from: query.visit_from,
        visit_to: query.visit_to,
        updated_since: query.updated_since,
        shopper: None,
        manager: None,
    };
    let view = match scope {
        Visibility::All(view) => view,
        Visibility::Own(me) => {
            filter.shopper = Some(me);
            View::Full
        }
        Visibility::Managed(me) => {
            filter.manager = Some(me);
            // Managers only ever see released reports.
            if filter.statuses.iter().any(|s| *s != ReportStatus::Approved) {
                return Ok(web::Json(Page {
                    items: vec![],
                    next_cursor: None,
                }));
            }
            filter.statuses = vec![ReportStatus::Approved];
            View::Manager
        }
    };
    let newest_first = query.sort == Some(Sort::Newest);
    let (org, fetch) = (auth.org_id, page.fetch());
    let with_notes = view != View::Manager;
    let (rows, notes) = state
        .db
        .run(move |conn| {
            let rows = store::list(conn, org, &filter, after.as_ref(), newest_first, fetch)?;
            let notes = if with_notes {
                let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
                store::latest_notes(conn, org, &ids)?
            } else {
                Default::default()
            };
            Ok::<_, ApiError>((rows, notes))
        })
        .await?;
    Ok(web::Json(page.page(rows, cursor_key, |r| {
        let id = r.id;
        ReportResponse::new(r, view).with_last_review(notes.get(&id), view)
    })))
}
