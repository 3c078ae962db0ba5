//! Reviewing reports, revising returned ones, and reading revisions and history.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};

use super::dto::{HistoryEntry, HistoryResponse, ReviewRequest};
use super::model::{Action, MAX_NOTE_CHARS, Transition};
use crate::auth::model::Role;
use crate::auth::{AuthUser, Principal};
use crate::db::reports as store;
use crate::db::{self, write_transaction};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::reports::dto::{ReportResponse, View};
use crate::reports::handlers::{REPORT_JSON_LIMIT, actor, etag, load_visible, prepare};
use crate::reports::model::{self, Report, ReportStatus, ReportSubmission};
use crate::state::AppState;
use crate::validation::Violation;

fn invalid_transition(action: Action, current: &Report) -> ApiError {
    ApiError::conflict(
        ErrorCode::InvalidTransition,
        format!(
            "`{}` is not possible while the report is {}",
            action.as_str(),
            current.status.as_str()
        ),
    )
    .with_current_status(current.status.as_str())
}

async fn load(state: &AppState, auth: &AuthUser, id: uuid::Uuid) -> Result<Report, ApiError> {
    let org = auth.org_id;
    state
        .db
        .run(move |conn| store::find(conn, org, id)?.ok_or_else(ApiError::not_found))
        .await
}

fn respond(report: Report, transition: Option<&Transition>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&report)))
        .json(ReportResponse::new(report, View::Full).with_last_review(transition, View::Full))
}

/// Review a report: approve (release), reject, return for revision, or reopen.
///
/// Concurrent reviews of one report: exactly one succeeds; the others answer 409 with the
/// current status. Send the revision you read (`revision`, or `If-Match` with the ETag of
/// `GET /api/v1/reports/{id}`) to be sure you decide on what you saw.
#[utoipa::path(
    tag = "review",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "report id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the report as read"),
    ),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "The report after the decision", body = ReportResponse,
            headers(("ETag" = String, description = "the report's new ETag"))),
        (status = 403, description = "Not a reviewer or admin (reopen: admins only)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the current status (`invalid_transition`), changed meanwhile, or another revision (`stale_revision`); `current_status` says where it is", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not match the report's ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing or too long note", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/{id}/review")]
pub async fn review_report(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let action = Action::from(body.action);
    auth.require_role(action.reviewer_roles().unwrap_or(&[]))?;
    let note = body
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
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
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }

    let current = load(&state, &auth, id.into_inner()).await?;
    if let Some(expected) = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        && expected.trim() != "*"
        && expected.trim().trim_start_matches("W/") != etag(&current)
    {
        return Err(ApiError::new(
            actix_web::http::StatusCode::PRECONDITION_FAILED,
            ErrorCode::PreconditionFailed,
            "the report changed since it was read; read it again",
        )
        .with_current_status(current.status.as_str()));
    }
    if body.revision.is_some_and(|r| r != current.revision) {
        return Err(ApiError::conflict(
            ErrorCode::StaleRevision,
            format!(
                "the report is at revision {} now; read it again",
                current.revision
            ),
        )
        .with_current_status(current.status.as_str()));
    }
    let Some(next) = action.apply(Some(current.status)) else {
        return Err(invalid_transition(action, &current));
    };

    let transition = Transition {
        id: uuid::Uuid::now_v7(),
        org_id: current.org_id,
        report_id: current.id,
        from: Some(current.status),
        to: next,
        action,
        actor: actor(&auth),
        note,
        revision: current.revision,
        at: db::now(),
    };
    let recorded = transition.clone();
    let (org, report_id, from, revision) =
        (current.org_id, current.id, current.status, current.revision);
    let updated = state
        .db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                if !store::set_status(conn, org, report_id, from, revision, next, recorded.at)? {
                    // Someone else decided first.
                    return Ok(None);
                }
                store::insert_transition(conn, &recorded)?;
                Ok::<_, ApiError>(store::find(conn, org, report_id)?)
            })
        })
        .await?;
    match updated {
        Some(report) => {
            tracing::info!(report = %report.id, action = action.as_str(), to = next.as_str(), "report reviewed");
            Ok(respond(
                report,
                transition.note.is_some().then_some(&transition),
            ))
        }
        None => {
            let now = load(&state, &auth, report_id).await?;
            Err(invalid_transition(action, &now))
        }
    }
}

/// Revise a returned report: the shopper (or the client that submitted it) sends the whole
/// corrected report. It is validated and scored like a new one, stored as the next
/// revision, and goes back to review. Earlier revisions stay readable.
#[utoipa::path(
    tag = "review",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "report id")),
    request_body = ReportSubmission,
    responses(
        (status = 200, description = "The revised report, `submitted` again", body = ReportResponse),
        (status = 403, description = "Not the report's shopper or submitting client", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The report is not returned (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid report: every violation listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/reports/{id}")]
pub async fn revise_report(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<ReportSubmission, REPORT_JSON_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let current = load(&state, &auth, id).await?;
    let owner = match auth.principal {
        Principal::User {
            id: me,
            role: Role::Shopper,
        } => current.shopper_id == me,
        Principal::Client { id: me } => current.document.submitted_by_client == Some(me),
        Principal::User { .. } => {
            return Err(ApiError::forbidden("only the report's shopper revises it"));
        }
    };
    if !owner {
        return Err(ApiError::not_found());
    }
    let submission = body.into_inner();
    let hash = model::submission_hash(&submission);
    if current.status == ReportStatus::Submitted
        && current.revision > 1
        && current.body_hash == hash
    {
        // A retry of a revision that was stored: answer with what is stored.
        return Ok(respond(current, None));
    }
    if current.status != ReportStatus::Returned {
        return Err(invalid_transition(Action::Revise, &current));
    }
    if submission.id != id {
        return Err(ApiError::validation(vec![Violation::new(
            "/id",
            "id_mismatch",
            "the body's id must be the report's id",
        )]));
    }
    if let (Principal::Client { .. }, Some(named)) = (auth.principal, submission.shopper_id)
        && named != current.shopper_id
    {
        return Err(ApiError::validation(vec![Violation::new(
            "/shopper_id",
            "shopper_changed",
            "a revision keeps the report's shopper",
        )]));
    }
    let mut revised = prepare(&state, &auth, submission, hash).await?;
    revised.revision = current.revision + 1;
    revised.created_at = current.created_at;
    let transition = Transition {
        id: uuid::Uuid::now_v7(),
        org_id: current.org_id,
        report_id: id,
        from: Some(ReportStatus::Returned),
        to: ReportStatus::Submitted,
        action: Action::Revise,
        actor: actor(&auth),
        note: None,
        revision: revised.revision,
        at: revised.updated_at,
    };
    let stored = revised.clone();
    let replaced = state
        .db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                if !store::replace_with_revision(conn, &stored)? {
                    return Ok(false);
                }
                store::insert_transition(conn, &transition)?;
                Ok::<_, ApiError>(true)
            })
        })
        .await?;
    if !replaced {
        let now = load(&state, &auth, id).await?;
        return Err(invalid_transition(Action::Revise, &now));
    }
    Ok(respond(revised, None))
}

/// Read one revision of a report as it was submitted, with its own score.
#[utoipa::path(
    tag = "review",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "report id"),
        ("n" = i32, Path, description = "revision number, from 1"),
    ),
    responses(
        (status = 200, description = "The revision (`status` is the report's current status)", body = ReportResponse),
        (status = 403, description = "A client without `reports:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report or revision visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/{id}/revisions/{n}")]
pub async fn get_revision(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(uuid::Uuid, i32)>,
) -> Result<web::Json<ReportResponse>, ApiError> {
    let (id, n) = path.into_inner();
    let (mut report, view, _) = load_visible(&state, &auth, id, false).await?;
    if n != report.revision {
        let org = auth.org_id;
        let (hash, document, at) = state
            .db
            .run(move |conn| {
                store::find_revision(conn, org, id, n)?.ok_or_else(ApiError::not_found)
            })
            .await?;
        report.revision = n;
        report.body_hash = hash;
        report.document = document;
        report.updated_at = at;
    }
    Ok(web::Json(ReportResponse::new(report, view)))
}

/// The report's history: every status change, with notes. Reviewers and admins see who
/// made each change; the shopper sees their own report's decisions and notes only.
#[utoipa::path(
    tag = "review",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "report id")),
    responses(
        (status = 200, description = "Oldest first", body = HistoryResponse),
        (status = 403, description = "Managers, analysts and clients have no access", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/{id}/history")]
pub async fn get_history(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    auth.require_role(&[Role::Admin, Role::Reviewer, Role::Shopper])?;
    let id = id.into_inner();
    let (report, _, _) = load_visible(&state, &auth, id, false).await?;
    let show_actor = auth.role() != Some(Role::Shopper);
    let org = report.org_id;
    let items = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::transitions(conn, org, id)?))
        .await?
        .into_iter()
        .map(|t| HistoryEntry::new(t, show_actor))
        .collect();
    Ok(web::Json(HistoryResponse { items }))
}
