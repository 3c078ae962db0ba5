//! Endpoints of appeals.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::appeal::{Appeal, AppealDecision, AppealStatus};
use super::appeals::{self, AppealError, Attached, Reader};
use crate::attachments::handlers as files;
use crate::attachments::service::Upload;
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::ids::{AppealId, LocationId, ReportId, UserId};
use crate::pagination::{Page, PageRequest};
use crate::reports::scoring::Answer;
use crate::state::AppState;

impl From<AppealError> for ApiError {
    fn from(e: AppealError) -> Self {
        let detail = e.to_string();
        match e {
            AppealError::NotFound | AppealError::NoReport => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
            }
            AppealError::Invalid(found) => ApiError::validation(found),
            AppealError::Exists => ApiError::conflict(ErrorCode::AppealExists, detail),
            AppealError::WindowClosed(_) => {
                ApiError::conflict(ErrorCode::AppealWindowClosed, detail)
            }
            AppealError::Decided { current } => {
                ApiError::conflict(ErrorCode::InvalidTransition, detail)
                    .with_current_status(current.as_str())
            }
            AppealError::NotReleased { current } => {
                ApiError::conflict(ErrorCode::InvalidTransition, detail)
                    .with_current_status(current.as_str())
            }
            AppealError::NotAppellant => ApiError::forbidden(detail),
            AppealError::EvidenceExists => {
                ApiError::conflict(ErrorCode::IdempotencyMismatch, detail)
            }
            AppealError::NoEvidence => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
            }
            AppealError::File(e) => e.into(),
            AppealError::Db(e) => e.into(),
        }
    }
}

/// A manager's appeal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"questions": ["greeted"], "reason": "The door camera shows the shopper greeted at 14:02, within the minute."}))]
pub struct OpenAppealRequest {
    /// The disputed answers' question keys (1 to 50, each answered in the report).
    #[schema(min_items = 1, max_items = 50, value_type = Vec<String>)]
    pub questions: Vec<String>,
    /// Why (1 to 2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// A reviewer's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "amend", "note": "The camera confirms the greeting.", "answers": [{"question": "greeted", "value": true}]}))]
pub struct DecideAppealRequest {
    pub decision: AppealDecision,
    /// Why (1 to 2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub note: String,
    /// With `amend`: the corrected answers, of disputed questions only (1 to 50).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub answers: Vec<Answer>,
}

/// Which appeals to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppealsQuery {
    /// `open` for the reviewers' queue.
    pub status: Option<AppealStatus>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub location_id: Option<LocationId>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// An appeal. The shopper who made the report is never named here.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppealResponse {
    pub id: AppealId,
    pub report_id: ReportId,
    pub location_id: LocationId,
    pub status: AppealStatus,
    /// The manager who appealed.
    pub appellant_id: UserId,
    /// The disputed question keys.
    pub questions: Vec<String>,
    pub reason: String,
    /// The report's revision when appealed.
    pub revision: i32,
    /// The revision the amendment made (authored by the deciding reviewer).
    #[schema(required = true)]
    pub amended_revision: Option<i32>,
    pub opened_at: DateTime<Utc>,
    #[schema(required = true)]
    pub decided_by: Option<UserId>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub decision_note: Option<String>,
    /// The file the manager attached (`PUT /appeals/{id}/evidence`), if any.
    #[schema(required = true)]
    pub evidence: Option<EvidenceResponse>,
}

/// An appeal's evidence: a receipt, a rota.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EvidenceResponse {
    #[schema(example = "application/pdf")]
    pub media_type: String,
    /// Bytes as stored (JPEG metadata removed).
    pub size: i64,
    /// Hex SHA-256 of the bytes as stored.
    #[schema(min_length = 64, max_length = 64)]
    pub sha256: String,
    pub attached_at: DateTime<Utc>,
}

impl From<Appeal> for AppealResponse {
    fn from(a: Appeal) -> Self {
        AppealResponse {
            id: a.id,
            report_id: a.report_id,
            location_id: a.location_id,
            status: a.status,
            appellant_id: a.appellant_id,
            questions: a.questions,
            reason: a.reason,
            revision: a.revision,
            amended_revision: a.amended_revision,
            opened_at: a.opened_at,
            decided_by: a.decided_by,
            decided_at: a.decided_at,
            decision_note: a.decision_note,
            evidence: a.evidence.map(|e| EvidenceResponse {
                media_type: e.media_type,
                size: e.size,
                sha256: e.sha256,
                attached_at: e.attached_at,
            }),
        }
    }
}

/// Admins, reviewers and clients with `actions:read` read every appeal; a manager those of
/// their locations.
fn reader(auth: &AuthUser) -> Result<Reader, ApiError> {
    auth.require_role_or_scope(
        &[Role::Admin, Role::Reviewer, Role::Manager],
        Scope::ActionsRead,
    )?;
    Ok(match (auth.role(), auth.user_id()) {
        (Some(Role::Manager), Some(me)) => Reader::Managed(me),
        _ => Reader::All,
    })
}

/// Appeal a released report.
///
/// A manager of the report's location disputes some of its answers, within the
/// organization's appeal window after the release (`appeal_window_days`, 14 by default):
/// which answers and why. One open appeal per report (409 `appeal_exists`); after the window,
/// 409 `appeal_window_closed`. The report stays released until a reviewer amends it; the
/// manager never learns who the shopper was, and the shopper sees the outcome but not who
/// appealed. Managers only.
#[utoipa::path(
    operation_id = "open_appeal",
    tag = "appeals",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "report id")),
    request_body = OpenAppealRequest,
    responses(
        (status = 201, description = "The appeal, open", body = AppealResponse,
            headers(("Location" = String, description = "The appeal's URL"))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such released report at a location the manager manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An open appeal exists (`appeal_exists`), or the window closed (`appeal_window_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every invalid field listed: a question the report did not answer, a blank reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/{id}/appeals")]
pub async fn open_appeal(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ReportId>,
    body: ApiJson<OpenAppealRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Manager])?;
    let me = auth
        .user_id()
        .ok_or_else(|| ApiError::forbidden("this needs a manager"))?;
    let body = body.into_inner();
    let appeal = appeals::open(
        &state.db,
        auth.org_id,
        me,
        id.into_inner(),
        body.questions,
        body.reason,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/appeals/{}", appeal.id),
        ))
        .json(AppealResponse::from(appeal)))
}

/// Appeals: the reviewers' queue.
///
/// Oldest first; `status=open` is the queue. Admins, reviewers and clients with
/// `actions:read` see every appeal; managers those of their locations.
#[utoipa::path(
    operation_id = "list_appeals",
    tag = "appeals",
    security(("bearer" = []), ("oauth2" = ["actions:read"])),
    params(AppealsQuery),
    responses(
        (status = 200, description = "A page of appeals, oldest first", body = Page<AppealResponse>),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper or an analyst, or a client without `actions:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/appeals")]
pub async fn list_appeals(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<AppealsQuery>,
) -> Result<web::Json<Page<AppealResponse>>, ApiError> {
    let reader = reader(&auth)?;
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let found = appeals::list(
        &state.db,
        auth.org_id,
        reader,
        q.status,
        q.location_id,
        page.after_id(),
        page.fetch(),
    )
    .await?;
    Ok(web::Json(page.page(
        found,
        |a| a.id.to_string(),
        Into::into,
    )))
}

/// One appeal.
///
/// The disputed answers, the reason, and the decision once made (for an amendment, the
/// revision it made). Same readers as `GET /appeals`.
#[utoipa::path(
    operation_id = "get_appeal",
    tag = "appeals",
    security(("bearer" = []), ("oauth2" = ["actions:read"])),
    params(("id" = String, Path, format = Uuid, description = "appeal id")),
    responses(
        (status = 200, description = "The appeal", body = AppealResponse),
        (status = 403, description = "A shopper or an analyst, or a client without `actions:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such appeal visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/appeals/{id}")]
pub async fn get_appeal(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AppealId>,
) -> Result<web::Json<AppealResponse>, ApiError> {
    let reader = reader(&auth)?;
    let appeal = appeals::get(&state.db, auth.org_id, reader, id.into_inner()).await?;
    Ok(web::Json(appeal.into()))
}

/// Decide an appeal.
///
/// `uphold`: the report stands, with a note. `amend`: the reviewer corrects the disputed
/// answers (only those); the report is re-scored as a new revision authored by the
/// reviewer, and the rollups, the location's verdict and any action plan move with it in
/// the same transaction. The report's history shows the appeal and the decision. Admins and
/// reviewers.
#[utoipa::path(
    operation_id = "review_appeal",
    tag = "appeals",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "appeal id")),
    request_body = DecideAppealRequest,
    responses(
        (status = 200, description = "The appeal, decided", body = AppealResponse),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or a reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already, or the report is no longer released (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every invalid field listed: a blank note, answers with `uphold` or none with `amend`, an answer to a question not disputed or not valid for the questionnaire", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/appeals/{id}/decision")]
pub async fn review_appeal(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AppealId>,
    body: ApiJson<DecideAppealRequest>,
) -> Result<web::Json<AppealResponse>, ApiError> {
    auth.require_role(&[Role::Admin, Role::Reviewer])?;
    let me = auth
        .user_id()
        .ok_or_else(|| ApiError::forbidden("this needs a reviewer"))?;
    let body = body.into_inner();
    let appeal = appeals::decide(
        &state.db,
        auth.org_id,
        me,
        id.into_inner(),
        appeals::Ruling {
            decision: body.decision,
            note: body.note,
            answers: body.answers,
        },
        state.reports.verdict,
    )
    .await?;
    Ok(web::Json(appeal.into()))
}

/// Attach evidence to an appeal.
///
/// The manager who appealed attaches one file while the appeal is open: a receipt, a rota.
/// The raw file is the body, as for a report's photos (`image/jpeg`, `image/png`,
/// `image/heic`, `image/webp`, `application/pdf`, or `application/octet-stream`); its first
/// bytes decide its type, JPEG metadata is removed before it is stored, and an optional
/// `Content-Digest` (`sha-256=:BASE64:`) is checked. The same bytes again answer 200 (a
/// retry); another file 409 `idempotency_mismatch`. The manager who appealed only.
#[utoipa::path(
    operation_id = "upload_appeal_evidence",
    tag = "appeals",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "appeal id"),
        ("Content-Digest" = Option<String>, Header, description = "`sha-256=:BASE64:` of the body"),
    ),
    request_body(
        description = "The file",
        content(
            (Vec<u8> = "image/jpeg"),
            (Vec<u8> = "image/png"),
            (Vec<u8> = "image/heic"),
            (Vec<u8> = "image/webp"),
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "application/octet-stream"),
        )
    ),
    responses(
        (status = 201, description = "Stored: the appeal with its evidence", body = AppealResponse),
        (status = 200, description = "The same file was already stored", body = AppealResponse),
        (status = 400, description = "The body does not match its `Content-Digest` (`digest_mismatch`), or the header is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager, or not the manager who appealed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such appeal at a location the manager manages", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The appeal has another file (`idempotency_mismatch`), or it was decided (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `SECONDMILE_MAX_ATTACHMENT_BYTES` (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not one of the accepted types (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The bytes are of no accepted type (`type_mismatch`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many uploads at once; retry after `Retry-After` seconds (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
#[put("/appeals/{id}/evidence")]
pub async fn upload_appeal_evidence(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AppealId>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Manager])?;
    let me = auth
        .user_id()
        .ok_or_else(|| ApiError::forbidden("this needs a manager"))?;
    let limit = files::upload_limit(&state);
    let (declared, digest) = files::upload_head(&req, limit)?;
    let _entry = files::enter_gate(&state, me.0)?;
    let appeal = appeals::admit_evidence(&state.db, auth.org_id, me, id.into_inner()).await?;
    let staged = files::stage_body(&state, body, limit).await?;
    let upload = Upload {
        declared,
        digest,
        staged,
    };
    Ok(
        match appeals::attach_evidence(&state.db, &state.storage, &state.uploads, appeal, upload)
            .await?
        {
            Attached::Created(a) => HttpResponse::Created().json(AppealResponse::from(a)),
            Attached::Replayed(a) => HttpResponse::Ok().json(AppealResponse::from(a)),
        },
    )
}

/// Download an appeal's evidence.
///
/// The file as stored, with its type, an `ETag` for `If-None-Match` and one byte range
/// (`Range`, `If-Range`). Admins and reviewers (who decide the appeal) and managers of the
/// appeal's location: a rota names staff, so integration clients do not get it.
#[utoipa::path(
    operation_id = "download_appeal_evidence",
    tag = "appeals",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "appeal id"),
        ("Range" = Option<String>, Header, description = "`bytes=START-END`, `bytes=START-` or `bytes=-LENGTH`"),
        ("If-Range" = Option<String>, Header, description = "the ETag: send the range only if the file is still this one"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag you have: 304 if unchanged"),
    ),
    responses(
        files::FileDownload,
        (status = 403, description = "Not an admin, a reviewer or a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such appeal visible to the caller, or it has no evidence", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range lies outside the file (`range_not_satisfiable`; `Content-Range: bytes */SIZE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/appeals/{id}/evidence")]
pub async fn download_appeal_evidence(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AppealId>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::Reviewer, Role::Manager])?;
    let reader = reader(&auth)?;
    let (appeal, evidence) =
        appeals::evidence(&state.db, auth.org_id, reader, id.into_inner()).await?;
    files::serve_file(
        &req,
        &state,
        &files::StoredFile {
            key: &evidence.storage_key,
            media_type: &evidence.media_type,
            sha256: &evidence.sha256,
            size: evidence.size,
            name: format!("appeal-{}", appeal.id),
        },
    )
    .await
}
