//! Uploading a report's photos and receipts, and what a report expects versus has.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::content::{self, MediaType};
use super::gate::UploadGate;
use super::model::Attachment;
use super::staging::Staged;
use super::storage::Storage;
use crate::auth::{AuthUser, Principal};
use crate::db::attachments as store;
use crate::db::{self, Db, DbError};
use crate::events::service as events;
use std::collections::HashMap;

use crate::ids::{AttachmentId, OrgId, ReportId};
use crate::reports::model::{ExpectedFile, View, Visibility};
use crate::reports::service::{self as reports, ReportError};

pub use crate::reports::model::MAX_FILES_PER_REPORT as MAX_PER_REPORT;

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("only the report's submitter uploads its files")]
    NotSubmitter,
    #[error("the report names no photo or receipt with the id {0}; name it in an answer first")]
    NotExpected(AttachmentId),
    #[error(
        "the file's first bytes are none of image/jpeg, image/png, image/heic, image/webp or application/pdf"
    )]
    Unrecognised,
    #[error(
        "the file is {declared} by its Content-Type but its first bytes are of no accepted type"
    )]
    TypeMismatch { declared: &'static str },
    #[error("{0}")]
    Damaged(String),
    #[error("the body does not match its Content-Digest")]
    DigestMismatch,
    #[error("another file was already uploaded with this id")]
    Conflict,
    #[error("a report has at most {MAX_PER_REPORT} files")]
    TooMany,
    #[error("the file storage failed: {0}")]
    Storage(#[from] object_store::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

db::domain_error!(AttachmentError);

/// What an upload did.
pub enum Uploaded {
    Created(Attachment),
    /// The same bytes again: nothing changed.
    Replayed(Attachment),
}

pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an upload is for, checked before its body is read: the report, the file it names
/// under this id (when no file has the id yet) or the file already stored under it.
pub struct Admitted {
    org: OrgId,
    report_id: ReportId,
    revision: i32,
    /// The report's location and visit, which a photo's capture time and place are
    /// compared with.
    location_id: crate::ids::LocationId,
    visit: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    target: Target,
}

enum Target {
    /// The report names the id and has room for another file.
    New(ExpectedFile),
    /// A file was stored under the id: the body decides between a replay and a conflict.
    Stored(Box<Attachment>),
}

/// Checks everything an upload can be refused for without its body: the report is the
/// caller's to upload for, and either a file is already stored under the id (the body
/// tells a replay from a conflict) or the report names the id and has room for it.
pub async fn admit(
    db: &Db,
    caller: &AuthUser,
    report_id: ReportId,
    id: AttachmentId,
) -> Result<Admitted, AttachmentError> {
    let org = caller.org_id;
    let scope = match caller.principal {
        Principal::User { id, .. } => Visibility::Own(id),
        Principal::Client { .. } => Visibility::All(crate::reports::model::View::NoStaff),
    };
    let (report, _, _) = reports::find_visible(db, org, scope, report_id, false).await?;
    // A shopper uploads for their own reports; an integration client with `reports:write`
    // acts for the organization's shoppers, as when it submits reports.
    let submitter = match caller.principal {
        Principal::User { id, .. } => report.shopper_id == id,
        Principal::Client { .. } => true,
    };
    if !submitter {
        return Err(AttachmentError::NotSubmitter);
    }
    let (existing, count) = db
        .run(move |conn| {
            let existing = store::find(conn, org, id)?;
            let count = store::for_report(conn, org, report_id)?.len();
            Ok::<_, DbError>((existing, count))
        })
        .await?;
    let target = match existing {
        Some(stored) => Target::Stored(Box::new(stored)),
        None => {
            let named = report
                .document
                .attachments
                .iter()
                .find(|f| f.id == id)
                .cloned()
                .ok_or(AttachmentError::NotExpected(id))?;
            if count >= MAX_PER_REPORT {
                return Err(AttachmentError::TooMany);
            }
            Target::New(named)
        }
    };
    let visit = &report.document.submission.visit;
    Ok(Admitted {
        org,
        report_id,
        revision: report.revision,
        location_id: report.location_id,
        visit: (
            visit.started_at.with_timezone(&chrono::Utc),
            visit.ended_at.with_timezone(&chrono::Utc),
        ),
        target,
    })
}

/// The body as received: its declared type (`None` for `application/octet-stream`: the first
/// bytes decide), the digest the client gave, the staged bytes.
pub struct Upload {
    pub declared: Option<MediaType>,
    pub digest: Option<[u8; 32]>,
    pub staged: Staged,
}

impl Upload {
    /// The hex SHA-256 of the bytes as uploaded, checked against the client's
    /// `Content-Digest`.
    pub fn received(&mut self) -> Result<String, AttachmentError> {
        let uploaded: [u8; 32] = self.staged.finish().map_err(staging_failed)?;
        if self.digest.is_some_and(|d| d != uploaded) {
            return Err(AttachmentError::DigestMismatch);
        }
        Ok(hex(&uploaded))
    }
}

/// A file in the storage: what its bytes are, and where.
pub struct Kept {
    pub media_type: MediaType,
    /// Bytes as stored.
    pub size: i64,
    /// Hex SHA-256 of the bytes as stored.
    pub sha256: String,
    pub key: String,
    /// What the EXIF said of the capture, read before it was removed.
    pub capture: content::Capture,
}

/// Stores an upload's bytes under `{prefix}/{sha256}`: its first bytes decide its type (a
/// client, or a generated one, that names one accepted type for another still stores a file
/// of the type it is), and JPEG metadata is removed first. At most the gate's `processing`
/// files are held in memory at a time.
pub async fn keep(
    storage: &Storage,
    gate: &UploadGate,
    upload: Upload,
    prefix: &str,
) -> Result<Kept, AttachmentError> {
    let shown = MediaType::sniff(upload.staged.head());
    let media_type = match (shown, upload.declared) {
        (Some(shown), _) => shown,
        (None, None) => return Err(AttachmentError::Unrecognised),
        (None, Some(declared)) => {
            return Err(AttachmentError::TypeMismatch {
                declared: declared.as_str(),
            });
        }
    };
    let _turn = gate.processing().await;
    let bytes = Bytes::from(upload.staged.read().map_err(staging_failed)?);
    drop(upload.staged);
    let (stored, capture) =
        content::strip_metadata(media_type, bytes).map_err(AttachmentError::Damaged)?;
    let sha256 = hex(&Sha256::digest(&stored));
    let key = format!("{prefix}/{sha256}");
    let size = i64::try_from(stored.len()).unwrap_or(i64::MAX);
    storage.put(&key, stored).await?;
    Ok(Kept {
        media_type,
        size,
        sha256,
        key,
        capture,
    })
}

/// Stores an admitted file, idempotently on its id: the file is stored first, then its
/// row, so a row always has its file (a file without a row, after a crash, is found by the
/// sweeper). A file refused at the row (a concurrent upload took the last place) is
/// deleted at once. At most the gate's `processing` files are held in memory at a time.
pub async fn upload(
    db: &Db,
    storage: &Storage,
    gate: &UploadGate,
    admitted: Admitted,
    mut upload: Upload,
) -> Result<Uploaded, AttachmentError> {
    let Admitted {
        org,
        report_id,
        revision,
        location_id,
        visit,
        target,
    } = admitted;
    let uploaded_hex = upload.received()?;
    let named = match target {
        Target::Stored(existing) => {
            return if existing.report_id == report_id && existing.uploaded_sha256 == uploaded_hex {
                Ok(Uploaded::Replayed(*existing))
            } else {
                Err(AttachmentError::Conflict)
            };
        }
        Target::New(named) => named,
    };
    let id = named.id;
    let kept = keep(
        storage,
        gate,
        upload,
        &format!("orgs/{org}/attachments/{id}"),
    )
    .await?;
    let key = kept.key.clone();
    let capture = kept.capture;
    let attachment = Attachment {
        id,
        org_id: org,
        report_id,
        revision,
        media_type: kept.media_type.as_str().to_string(),
        size: kept.size,
        sha256: kept.sha256,
        uploaded_sha256: uploaded_hex.clone(),
        storage_key: kept.key,
        question: named.question,
        shows_staff: named.shows_staff,
        created_at: db.now(),
    };
    let row = attachment.clone();
    let stored = db
        .write(move |tx| {
            // Counted under the report's lock: concurrent uploads see each other's rows.
            crate::db::reports::lock(tx, org, report_id)?;
            if let Some(a) = store::find(tx, org, id)? {
                return if a.report_id == report_id && a.uploaded_sha256 == row.uploaded_sha256 {
                    Ok(Uploaded::Replayed(a))
                } else {
                    Err(AttachmentError::Conflict)
                };
            }
            if store::for_report(tx, org, report_id)?.len() >= MAX_PER_REPORT {
                return Err(AttachmentError::TooMany);
            }
            store::insert(tx, &row)?;
            if capture != content::Capture::default() {
                crate::reports::assess::note_capture(
                    tx,
                    org,
                    report_id,
                    location_id,
                    visit,
                    id,
                    &capture,
                )?;
            }
            events::record(tx, &crate::events::model::attachment(&row))?;
            Ok(Uploaded::Created(row.clone()))
        })
        .await;
    let outcome = match stored {
        // The same upload arriving twice at once: the other one stored it.
        Err(AttachmentError::Db(e)) if e.is_unique_violation() => {
            db.run(move |conn| match store::find(conn, org, id)? {
                Some(a) if a.report_id == report_id && a.uploaded_sha256 == uploaded_hex => {
                    Ok(Uploaded::Replayed(a))
                }
                Some(_) => Err(AttachmentError::Conflict),
                None => Err(AttachmentError::Db(e)),
            })
            .await
        }
        other => other,
    };
    match outcome {
        Ok(Uploaded::Created(a)) => {
            tracing::info!(attachment = %a.id, report = %a.report_id, bytes = a.size, "attachment stored");
            Ok(Uploaded::Created(a))
        }
        Ok(replayed) => Ok(replayed),
        Err(refused) => {
            forget(db, storage, key).await;
            Err(refused)
        }
    }
}

/// Deletes a file whose row was refused, unless a row names its key (the same bytes under
/// the same id, stored by a concurrent upload). A failure is left to the sweeper.
pub async fn forget(db: &Db, storage: &Storage, key: String) {
    let keys = vec![key.clone()];
    let named = db
        .run(move |conn| Ok::<_, DbError>(store::existing_keys(conn, &keys)?))
        .await;
    match named {
        Ok(named) if named.is_empty() => {
            if let Err(e) = storage.delete(&key).await {
                tracing::warn!(key = %key, error = %e, "a refused upload's file could not be deleted; the sweeper will");
            }
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(key = %key, error = %e, "a refused upload's file is left to the sweeper");
        }
    }
}

/// Deletes the stored files among `keys` that no row names any more (their rows were
/// removed in a committed transaction): how many went. A failure is logged and left to
/// the sweeper.
pub async fn delete_unnamed(
    db: &Db,
    storage: &Storage,
    keys: Vec<String>,
) -> Result<usize, DbError> {
    if keys.is_empty() {
        return Ok(0);
    }
    let asked = keys.clone();
    let named = db
        .run(move |conn| Ok::<_, DbError>(store::existing_keys(conn, &asked)?))
        .await?;
    let mut deleted = 0;
    for key in keys.iter().filter(|k| !named.contains(k)) {
        match storage.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => deleted += 1,
            Err(e) => {
                tracing::warn!(key = %key, error = %e, "a file could not be deleted now; the sweeper will")
            }
        }
    }
    Ok(deleted)
}

fn staging_failed(e: std::io::Error) -> AttachmentError {
    AttachmentError::Storage(object_store::Error::Generic {
        store: "staging",
        source: Box::new(e),
    })
}

/// A report's expected files and the ones received, as the caller may see the report.
pub async fn status(
    db: &Db,
    org: OrgId,
    scope: Visibility,
    report_id: ReportId,
) -> Result<(Vec<AttachmentId>, Vec<Attachment>), AttachmentError> {
    let (report, _, _) = reports::find_visible(db, org, scope, report_id, false).await?;
    let received = db
        .run(move |conn| Ok::<_, DbError>(store::for_report(conn, org, report_id)?))
        .await?;
    let expected = report.document.attachments.iter().map(|f| f.id).collect();
    Ok((expected, received))
}

/// The ids received for each of `reports` (for the counts in report responses).
pub async fn received_for(
    db: &Db,
    org: OrgId,
    reports: Vec<ReportId>,
) -> Result<HashMap<ReportId, Vec<AttachmentId>>, DbError> {
    let pairs = db
        .run(move |conn| Ok::<_, DbError>(store::received_for(conn, org, &reports)?))
        .await?;
    let mut map: HashMap<ReportId, Vec<AttachmentId>> = HashMap::new();
    for (report, id) in pairs {
        map.entry(report).or_default().push(id);
    }
    Ok(map)
}

/// Why a file cannot be downloaded.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("no such attachment visible to you")]
    NotFound,
    #[error("this photo may show staff: only admins, reviewers and its shopper download it")]
    StaffPrivacy,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A file the caller may download: its row, as the report it belongs to is visible.
pub async fn downloadable(
    db: &Db,
    org: OrgId,
    scope: Visibility,
    id: AttachmentId,
) -> Result<Attachment, DownloadError> {
    let attachment = db
        .run(move |conn| Ok::<_, DbError>(store::find(conn, org, id)?))
        .await?
        .ok_or(DownloadError::NotFound)?;
    let view = match reports::find_visible(db, org, scope, attachment.report_id, false).await {
        Ok((_, view, _)) => view,
        Err(ReportError::Db(e)) => return Err(DownloadError::Db(e)),
        Err(_) => return Err(DownloadError::NotFound),
    };
    if attachment.shows_staff && !matches!(view, View::Full | View::Own) {
        return Err(DownloadError::StaffPrivacy);
    }
    Ok(attachment)
}
