//! Uploading a report's files and listing what a report expects versus has.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use futures_util::StreamExt;

use super::content::{self, MediaType};
use super::dto::{AttachmentResponse, AttachmentStatus};
use super::service::{self, AttachmentError, Upload, Uploaded};
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::ids::{AttachmentId, ReportId};
use crate::reports::handlers::{require_submitter, visibility};
use crate::state::AppState;
use crate::validation::Violation;

impl From<AttachmentError> for ApiError {
    fn from(e: AttachmentError) -> Self {
        let detail = e.to_string();
        match e {
            AttachmentError::Report(e) => e.into(),
            AttachmentError::NotSubmitter => ApiError::forbidden(detail),
            AttachmentError::NotExpected(_) => {
                ApiError::validation(vec![Violation::new("", "not_expected", detail)])
            }
            AttachmentError::TypeMismatch { .. } | AttachmentError::Damaged(_) => {
                ApiError::validation(vec![Violation::new("", "type_mismatch", detail)])
            }
            AttachmentError::DigestMismatch => {
                ApiError::bad_request(ErrorCode::DigestMismatch, detail)
            }
            AttachmentError::Conflict => ApiError::conflict(ErrorCode::IdempotencyMismatch, detail),
            AttachmentError::TooMany => ApiError::conflict(ErrorCode::TooManyAttachments, detail),
            AttachmentError::Storage(cause) => {
                tracing::error!(error = %cause, "file storage failed");
                ApiError::unavailable(
                    ErrorCode::StorageUnavailable,
                    "the file storage is not reachable; retry the upload",
                )
            }
            AttachmentError::Db(e) => e.into(),
        }
    }
}

/// Upload a photo or receipt of a report.
///
/// The raw file is the body (`image/jpeg`, `image/png`, `image/heic`, `image/webp` or
/// `application/pdf`), under an id the app generated and named in the report (a `photo`
/// answer's value). Submit the report first: a file for a report that does not exist (yet)
/// answers 404. The same bytes again answer 200; other bytes under the same id 409. The
/// declared type must be what the file's first bytes show. An optional `Content-Digest`
/// (`sha-256=:BASE64:`, RFC 9530) is checked. JPEG metadata (EXIF: the phone's position and
/// serial number; XMP, IPTC, comments) is removed before the file is stored.
#[utoipa::path(
    tag = "attachments",
    security(("bearer" = []), ("oauth2" = ["reports:write"])),
    params(
        ("report_id" = String, Path, format = Uuid, description = "report id"),
        ("attachment_id" = String, Path, format = Uuid, description = "the file's id, as the report names it"),
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
        )
    ),
    responses(
        (status = 201, description = "Stored", body = AttachmentResponse),
        (status = 200, description = "The same file was already stored", body = AttachmentResponse),
        (status = 400, description = "The body does not match its `Content-Digest` (`digest_mismatch`), or the header is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a shopper (uploading for their own report) or an integration client with `reports:write` (for any report of the organization)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report for this caller (submit the report first)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another file has this id (`idempotency_mismatch`), or the report has its 20 files (`too_many_attachments`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `SECONDMILE_MAX_ATTACHMENT_BYTES` (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not one of the accepted types (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The report names no file with this id (`not_expected`), or the bytes are not the declared type (`type_mismatch`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/reports/{report_id}/attachments/{attachment_id}")]
pub async fn upload_attachment(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(ReportId, AttachmentId)>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_submitter(&auth)?;
    let (report_id, id) = path.into_inner();
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(MediaType::from_content_type)
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "a file is image/jpeg, image/png, image/heic, image/webp or application/pdf",
            )
        })?;
    let digest = match req.headers().get("content-digest") {
        None => None,
        Some(value) => {
            let text = value.to_str().map_err(|_| {
                ApiError::bad_request(ErrorCode::InvalidRequest, "Content-Digest is ASCII")
            })?;
            content::content_digest_sha256(text)
                .map_err(|m| ApiError::bad_request(ErrorCode::InvalidRequest, m))?
        }
    };
    let limit = usize::try_from(state.attachments.max_bytes).unwrap_or(usize::MAX);
    let too_large = || {
        ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("a file has at most {limit} bytes"),
        )
    };
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit)
    {
        return Err(too_large());
    }
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(
                ErrorCode::UnreadableBody,
                format!("the body could not be read: {e}"),
            )
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    let upload = Upload {
        declared,
        digest,
        bytes: bytes.freeze(),
    };
    Ok(
        match service::upload(&state.db, &state.storage, &auth, report_id, id, upload).await? {
            Uploaded::Created(a) => HttpResponse::Created().json(AttachmentResponse::from(a)),
            Uploaded::Replayed(a) => HttpResponse::Ok().json(AttachmentResponse::from(a)),
        },
    )
}

/// A report's files: the ids its answers name, the files received, and those missing.
///
/// Visible to whoever may read the report.
#[utoipa::path(
    tag = "attachments",
    security(("bearer" = []), ("oauth2" = ["reports:read"])),
    params(("id" = String, Path, format = Uuid, description = "report id")),
    responses(
        (status = 200, description = "Expected versus received", body = AttachmentStatus),
        (status = 403, description = "A client without `reports:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/{id}/attachments")]
pub async fn list_attachments(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ReportId>,
) -> Result<HttpResponse, ApiError> {
    let scope = visibility(&auth)?;
    let (expected, received) =
        service::status(&state.db, auth.org_id, scope, id.into_inner()).await?;
    let missing = expected
        .iter()
        .filter(|e| !received.iter().any(|r| r.id == **e))
        .copied()
        .collect();
    Ok(HttpResponse::Ok().json(AttachmentStatus {
        expected,
        received: received.into_iter().map(AttachmentResponse::from).collect(),
        missing,
    }))
}
