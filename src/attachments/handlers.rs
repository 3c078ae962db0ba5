//! Uploading a report's files and listing what a report expects versus has.

use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use futures_util::{StreamExt, TryStreamExt};

use super::content::{self, MediaType};
use super::dto::{AttachmentResponse, AttachmentStatus};
use super::gate::Entry;
use super::service::{self, AttachmentError, DownloadError, Upload, Uploaded};
use super::staging::Staged;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::ids::{AttachmentId, ReportId};
use crate::reports::access::{require_submitter, visibility};
use crate::state::AppState;
use crate::validation::Violation;

impl From<AttachmentError> for ApiError {
    fn from(e: AttachmentError) -> Self {
        let detail = e.to_string();
        match e {
            // Files follow their report: the app uploads them once the report is acknowledged.
            AttachmentError::Report(crate::reports::service::ReportError::NotFound) => {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    ErrorCode::ReportNotReceived,
                    "no such report of yours has been received: submit the report first, then upload its files",
                )
            }
            AttachmentError::Report(e) => e.into(),
            AttachmentError::NotSubmitter => ApiError::forbidden(detail),
            AttachmentError::NotExpected(_) => {
                ApiError::validation(vec![Violation::new("", "not_expected", detail)])
            }
            AttachmentError::TypeMismatch { .. } | AttachmentError::Damaged(_) => {
                ApiError::validation(vec![Violation::new("", "type_mismatch", detail)])
            }
            AttachmentError::Unrecognised => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                detail,
            ),
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

/// The largest file accepted, in bytes.
pub(crate) fn upload_limit(state: &AppState) -> usize {
    usize::try_from(state.attachments.max_bytes).unwrap_or(usize::MAX)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("a file has at most {limit} bytes"),
    )
}

/// What a file upload's head says: the declared type (`None` for
/// `application/octet-stream`: the first bytes decide) and the `Content-Digest`; a declared
/// length over `limit` is refused before the body is read.
pub(crate) fn upload_head(
    req: &HttpRequest,
    limit: usize,
) -> Result<(Option<MediaType>, Option<[u8; 32]>), ApiError> {
    // `application/octet-stream` (what many HTTP clients send for raw bytes) lets the file's
    // first bytes say which type it is.
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            if content::is_octet_stream(v) {
                Some(None)
            } else {
                MediaType::from_content_type(v).map(Some)
            }
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "a file is image/jpeg, image/png, image/heic, image/webp or application/pdf \
                 (or application/octet-stream, its type then read from its first bytes)",
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
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit)
    {
        return Err(too_large(limit));
    }
    Ok((declared, digest))
}

/// A place in the upload gate for `caller`, or 429.
pub(crate) fn enter_gate(state: &AppState, caller: uuid::Uuid) -> Result<Entry, ApiError> {
    state.uploads.enter(caller).ok_or_else(|| {
        ApiError::too_many_requests(std::time::Duration::from_secs(1))
            .with_detail("too many uploads at once; retry in 1 s")
    })
}

/// Streams a body to a staging file, refusing it once it passes `limit` bytes.
pub(crate) async fn stage_body(
    state: &AppState,
    mut body: web::Payload,
    limit: usize,
) -> Result<Staged, ApiError> {
    let unreadable = |e: std::io::Error| -> ApiError {
        AttachmentError::Storage(object_store::Error::Generic {
            store: "staging",
            source: Box::new(e),
        })
        .into()
    };
    let mut staged = Staged::create(&state.storage.staging_dir()).map_err(unreadable)?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(
                ErrorCode::UnreadableBody,
                format!("the body could not be read: {e}"),
            )
        })?;
        if staged.len() + chunk.len() as u64 > limit as u64 {
            return Err(too_large(limit));
        }
        staged.append(&chunk).map_err(unreadable)?;
    }
    Ok(staged)
}

/// Upload a photo or receipt of a report.
///
/// The raw file is the body (`image/jpeg`, `image/png`, `image/heic`, `image/webp` or
/// `application/pdf`, or `application/octet-stream`), under an id the app generated and named in the report (a `photo`
/// answer's value). Submit the report first: a file for a report that does not exist (yet)
/// answers 404. The same bytes again answer 200; other bytes under the same id 409. The
/// file's first bytes decide its type, stored and served: a body declared as one accepted type
/// that is another is stored as what it is. An optional `Content-Digest`
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
            (Vec<u8> = "application/octet-stream"),
        )
    ),
    responses(
        (status = 201, description = "Stored", body = AttachmentResponse),
        (status = 200, description = "The same file was already stored", body = AttachmentResponse),
        (status = 400, description = "The body does not match its `Content-Digest` (`digest_mismatch`), or the header is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a shopper (uploading for their own report) or an integration client with `reports:write` (for any report of the organization)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report for this caller (`report_not_received`: submit the report first, then its files)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another file has this id (`idempotency_mismatch`), or the report has its 20 files (`too_many_attachments`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `SECONDMILE_MAX_ATTACHMENT_BYTES` (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not one of the accepted types, declared or (for `application/octet-stream`) shown by the first bytes (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The report names no file with this id (`not_expected`), or the bytes are of no accepted type (`type_mismatch`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many uploads at once, of this caller (`SECONDMILE_UPLOADS_PER_CALLER`) or of everyone (`SECONDMILE_UPLOADS_AT_ONCE`); retry after `Retry-After` seconds (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    )
)]
#[put("/reports/{report_id}/attachments/{attachment_id}")]
pub async fn upload_attachment(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(ReportId, AttachmentId)>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_submitter(&auth)?;
    let (report_id, id) = path.into_inner();
    let limit = upload_limit(&state);
    let (declared, digest) = upload_head(&req, limit)?;
    // Before any byte of the body is read: a place in the gate, then every check that needs
    // no body (the report, the id, the room left).
    let caller = match auth.principal {
        crate::auth::Principal::User { id, .. } => id.0,
        crate::auth::Principal::Client { id } => id.0,
    };
    let _entry = enter_gate(&state, caller)?;
    let admitted = service::admit(&state.db, &auth, report_id, id).await?;
    let staged = stage_body(&state, body, limit).await?;
    let upload = Upload {
        declared,
        digest,
        staged,
    };
    Ok(
        match service::upload(&state.db, &state.storage, &state.uploads, admitted, upload).await? {
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
    let manager = matches!(scope, crate::reports::model::Visibility::Managed(_));
    let (expected, mut received) =
        service::status(&state.db, auth.org_id, scope, id.into_inner()).await?;
    // Managers see when a file arrived to the day, as they see the report's own times.
    if manager {
        for file in &mut received {
            file.created_at = crate::reports::dto::day_of(file.created_at);
        }
    }
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

impl From<DownloadError> for ApiError {
    fn from(e: DownloadError) -> Self {
        let detail = e.to_string();
        match e {
            DownloadError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
            }
            DownloadError::StaffPrivacy => {
                ApiError::new(StatusCode::FORBIDDEN, ErrorCode::StaffPrivacy, detail)
            }
            DownloadError::Db(e) => e.into(),
        }
    }
}

fn storage_failed(cause: &object_store::Error) -> ApiError {
    tracing::error!(error = %cause, "file storage failed");
    ApiError::unavailable(
        ErrorCode::StorageUnavailable,
        "the file storage is not reachable; retry later",
    )
}

/// Whether an `If-None-Match` or `If-Range` value names `etag` (or is `*`).
pub(crate) fn names(value: Option<&HeaderValue>, etag: &str, star: bool) -> bool {
    value.and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|t| (star && t == "*") || t == etag || t.strip_prefix("W/") == Some(etag))
    })
}

/// The part of a file of `size` bytes to send: `None` for all of it (no `Range`, a `Range`
/// that is not valid syntax, several ranges, or an `If-Range` that no longer holds), or the
/// one range asked for; `Err` when it lies outside the file (416).
fn wanted_range(
    req: &HttpRequest,
    etag: &str,
    size: u64,
) -> Result<Option<std::ops::RangeInclusive<u64>>, ()> {
    let Some(range) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    if req.headers().contains_key(header::IF_RANGE)
        && !names(req.headers().get(header::IF_RANGE), etag, false)
    {
        return Ok(None);
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Ok(None);
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => Ok(ranges.into_iter().next()),
        Ok(_) => Ok(None),
        // A suffix longer than the file means all of it (RFC 9110, 14.1.1).
        Err(http_range_header::RangeUnsatisfiableError::FileSuffixOutOfBounds) if size > 0 => {
            Ok(Some(0..=size - 1))
        }
        Err(_) => Err(()),
    }
}

/// Download a photo or receipt.
///
/// The file as stored (JPEG metadata removed), with its type, an `ETag` (its SHA-256) for
/// `If-None-Match`, and byte ranges (`Range: bytes=START-END`, one range; `If-Range`
/// honoured) so an interrupted download resumes. Visible as its report is: shoppers their
/// own reports' files, managers those of released reports of their locations, admins,
/// reviewers, analysts and clients with `reports:read` the organization's; a photo whose
/// question says it may show staff only to admins, reviewers and its shopper (403
/// `staff_privacy`). Files of superseded revisions stay downloadable.
#[utoipa::path(
    tag = "attachments",
    security(("bearer" = []), ("oauth2" = ["reports:read"])),
    params(
        ("id" = String, Path, format = Uuid, description = "attachment id"),
        ("Range" = Option<String>, Header, description = "`bytes=START-END`, `bytes=START-` or `bytes=-LENGTH`"),
        ("If-Range" = Option<String>, Header, description = "the ETag: send the range only if the file is still this one"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag you have: 304 if unchanged"),
    ),
    responses(
        FileDownload,
        (status = 403, description = "A client without `reports:read`, or a staff photo for a caller who may not see staff (`staff_privacy`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range lies outside the file (`range_not_satisfiable`; `Content-Range: bytes */SIZE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/attachments/{id}")]
pub async fn download_attachment(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AttachmentId>,
) -> Result<HttpResponse, ApiError> {
    let scope = visibility(&auth)?;
    let file = service::downloadable(&state.db, auth.org_id, scope, id.into_inner()).await?;
    serve_file(
        &req,
        &state,
        &StoredFile {
            key: &file.storage_key,
            media_type: &file.media_type,
            sha256: &file.sha256,
            size: file.size,
            name: file.id.to_string(),
        },
    )
    .await
}

/// A file download's answers in the document, as [`serve_file`] gives them: the whole file
/// (200), the range asked for (206) and unchanged (304).
pub(crate) struct FileDownload;

impl utoipa::IntoResponses for FileDownload {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        use utoipa::openapi::{Content, HeaderBuilder, ResponseBuilder};
        let header = |description: &str| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(description))
                .build()
        };
        let with_file = |mut response: ResponseBuilder| {
            for media in MediaType::ALL {
                let binary = ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .content_media_type(media.as_str());
                response = response.content(media.as_str(), Content::new(Some(binary)));
            }
            response
        };
        let etag = "the SHA-256 of the file, quoted";
        let whole = with_file(ResponseBuilder::new().description("The whole file"))
            .header("Accept-Ranges", header("`bytes`"))
            .header("Cache-Control", header("`private, max-age=3600`"))
            .header("Content-Disposition", header("`inline` with a file name"))
            .header("ETag", header(etag));
        let part = with_file(ResponseBuilder::new().description("The range asked for"))
            .header("Content-Range", header("`bytes START-END/SIZE`"))
            .header("ETag", header(etag));
        let unchanged = ResponseBuilder::new()
            .description("`If-None-Match` names the file's ETag")
            .header("ETag", header(etag));
        [("200", whole), ("206", part), ("304", unchanged)]
            .into_iter()
            .map(|(status, r)| (status.to_string(), r.build().into()))
            .collect()
    }
}

/// A stored file to send.
pub(crate) struct StoredFile<'a> {
    pub key: &'a str,
    pub media_type: &'a str,
    /// Hex SHA-256 of the stored bytes: the ETag.
    pub sha256: &'a str,
    pub size: i64,
    /// The download's file name, without its extension.
    pub name: String,
}

/// Sends a stored file with its type, an `ETag` for `If-None-Match`, and one byte range
/// (`Range`, `If-Range`) so an interrupted download resumes.
pub(crate) async fn serve_file(
    req: &HttpRequest,
    state: &AppState,
    file: &StoredFile<'_>,
) -> Result<HttpResponse, ApiError> {
    let etag = format!("\"{}\"", file.sha256);
    let cache = (header::CACHE_CONTROL, "private, max-age=3600");
    if names(req.headers().get(header::IF_NONE_MATCH), &etag, true) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(cache)
            .finish());
    }
    let size = u64::try_from(file.size).unwrap_or(0);
    let range = wanted_range(req, &etag, size).map_err(|()| {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            ErrorCode::RangeNotSatisfiable,
            format!("the file has {size} bytes; ask for a range inside it"),
        )
        .with_header(header::CONTENT_RANGE, &format!("bytes */{size}"))
    })?;
    let (status, start, end) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, *r.start(), *r.end() + 1),
        None => (StatusCode::OK, 0, size),
    };
    let stream = if end > start {
        state
            .storage
            .stream(file.key, start..end)
            .await
            .map_err(|e| storage_failed(&e))?
            .map_err(|e| {
                tracing::error!(error = %e, "file storage failed during a download");
                actix_web::error::ErrorServiceUnavailable("storage")
            })
            .boxed_local()
    } else {
        futures_util::stream::empty().boxed_local()
    };
    let extension =
        MediaType::from_content_type(file.media_type).map_or("bin", MediaType::extension);
    let mut response = HttpResponse::build(status);
    response
        .content_type(file.media_type)
        .insert_header((header::ETAG, etag))
        .insert_header(cache)
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}.{extension}\"", file.name),
        ))
        // Photos and PDFs are compressed already; a range is of the bytes as stored.
        .insert_header(ContentEncoding::Identity);
    if range.is_some() {
        response.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", end.saturating_sub(1)),
        ));
    }
    Ok(response.body(SizedStream::new(end - start, stream)))
}
