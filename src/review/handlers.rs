//! Reviewing reports, revising returned ones, and reading revisions and history.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};

use super::dto::{AppealHistoryEntry, HistoryEntry, HistoryResponse, ReviewRequest};
use crate::auth::AuthUser;
use crate::auth::model::Role;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::ids::ReportId;
use crate::reports::access::visibility;
use crate::reports::dto::ReportResponse;
use crate::reports::handlers::{REPORT_JSON_LIMIT, received_files};
use crate::reports::model::{Report, ReportSubmission, View};
use crate::reports::service::{self, Decision};
use crate::reports::workflow::{Action, Transition};
use crate::state::AppState;

async fn respond(
    state: &AppState,
    report: Report,
    view: View,
    transition: Option<&Transition>,
) -> Result<HttpResponse, ApiError> {
    let received = received_files(state, report.org_id, report.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, service::etag(&report)))
        .json(ReportResponse::new(report, view, &received).with_last_review(transition, view)))
}

/// Review a report: approve (release), reject, return for revision, or reopen.
///
/// Concurrent reviews of one report: exactly one succeeds; the others answer 409 with the
/// current status. Send the revision you read (`revision`, or `If-Match` with the ETag of
/// `GET /api/v1/reports/{id}`) to be sure you decide on what you saw. Rejecting a report
/// that completed a planned visit opens the visit again for shoppers to claim; an admin
/// reopening that report takes the visit back while nobody else has taken it.
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
        (status = 403, description = "Not a reviewer or admin (reopen: admins only); or the caller submitted the report (`own_report`)", body = Problem, content_type = "application/problem+json"),
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
    id: web::Path<ReportId>,
    body: ApiJson<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let action = Action::from(body.action);
    auth.require_role(action.reviewer_roles().unwrap_or(&[]))?;
    let decision = Decision {
        action,
        note: body.note,
        revision: body.revision,
        if_match: req
            .headers()
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let (report, noted) = service::decide(
        &state.db,
        state.reports.verdict,
        &auth,
        id.into_inner(),
        decision,
    )
    .await?;
    respond(&state, report, View::Full, noted.as_ref()).await
}

/// Revise a returned report.
///
/// The shopper (or the integration client that submitted it) sends the whole corrected report.
/// It is validated and scored like a new one, stored as the next revision, and goes back to
/// review; earlier revisions stay readable. Retrying the same revision answers the stored
/// report.
#[utoipa::path(
    tag = "review",
    security(("bearer" = []), ("oauth2" = ["reports:write"])),
    params(("id" = String, Path, format = Uuid, description = "report id")),
    request_body = ReportSubmission,
    responses(
        (status = 200, description = "The revised report, `submitted` again", body = ReportResponse),
        (status = 403, description = "Not the report's shopper or submitting client, or a client without `reports:write`", body = Problem, content_type = "application/problem+json"),
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
    id: web::Path<ReportId>,
    body: ApiJson<ReportSubmission, REPORT_JSON_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    crate::reports::access::require_submitter(&auth)?;
    let report = service::revise(
        &state.db,
        &state.reports,
        &auth,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    respond(&state, report, View::Own, None).await
}

/// Get one revision of a report.
///
/// The revision as it was submitted, with its own score; `status` is the report's current
/// status.
#[utoipa::path(
    operation_id = "get_report_revision",
    tag = "review",
    security(("bearer" = []), ("oauth2" = ["reports:read"])),
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
    path: web::Path<(ReportId, i32)>,
) -> Result<web::Json<ReportResponse>, ApiError> {
    let scope = visibility(&auth)?;
    let (id, n) = path.into_inner();
    let (report, view) = service::revision(&state.db, auth.org_id, scope, id, n).await?;
    let received = received_files(&state, auth.org_id, id).await?;
    Ok(web::Json(ReportResponse::new(report, view, &received)))
}

/// Get a report's history.
///
/// Every status change, oldest first, with notes, and the managers' appeals against it with
/// their decisions (an amendment names the revision it made). Reviewers and admins see who
/// made each change and who appealed; the shopper sees the decisions, notes and outcomes on
/// their own report only.
#[utoipa::path(
    operation_id = "get_report_history",
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
    id: web::Path<ReportId>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    auth.require_role(&[Role::Admin, Role::Reviewer, Role::Shopper])?;
    let scope = visibility(&auth)?;
    let show_actor = auth.role() != Some(Role::Shopper);
    let id = id.into_inner();
    let items = service::history(&state.db, auth.org_id, scope, id)
        .await?
        .into_iter()
        .map(|t| HistoryEntry::new(t, show_actor))
        .collect();
    let appeals = crate::improvement::appeals::of_report(&state.db, auth.org_id, id)
        .await?
        .into_iter()
        .map(|a| AppealHistoryEntry::new(a, show_actor))
        .collect();
    Ok(web::Json(HistoryResponse { items, appeals }))
}
