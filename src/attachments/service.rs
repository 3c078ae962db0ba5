//! Uploading a report's photos and receipts, and what a report expects versus has.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::content::{self, MediaType};
use super::model::Attachment;
use super::storage::Storage;
use crate::auth::{AuthUser, Principal};
use crate::db::attachments as store;
use crate::db::{self, Db, DbError};
use crate::events::service as events;
use std::collections::HashMap;

use crate::ids::{AttachmentId, OrgId, ReportId};
use crate::reports::model::{View, Visibility};
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
    #[error("the file is {declared} by its Content-Type but its first bytes are {shown}")]
    TypeMismatch {
        declared: &'static str,
        shown: String,
    },
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

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file as sent, checked: its declared type, what its bytes show, its digest.
pub struct Upload {
    pub declared: MediaType,
    pub digest: Option<[u8; 32]>,
    pub bytes: Bytes,
}

/// Stores a file for a report, idempotently on its id: the file is stored first, then its
/// row, so a row always has its file (a file without a row, after a crash, is found by the
/// sweeper).
pub async fn upload(
    db: &Db,
    storage: &Storage,
    caller: &AuthUser,
    report_id: ReportId,
    id: AttachmentId,
    upload: Upload,
) -> Result<Uploaded, AttachmentError> {
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
    let uploaded: [u8; 32] = Sha256::digest(&upload.bytes).into();
    if upload.digest.is_some_and(|d| d != uploaded) {
        return Err(AttachmentError::DigestMismatch);
    }
    let uploaded_hex = hex(&uploaded);
    let existing = db
        .run(move |conn| Ok::<_, DbError>(store::find(conn, org, id)?))
        .await?;
    if let Some(existing) = existing {
        return if existing.report_id == report_id && existing.uploaded_sha256 == uploaded_hex {
            Ok(Uploaded::Replayed(existing))
        } else {
            Err(AttachmentError::Conflict)
        };
    }
    let Some(named) = report
        .document
        .attachments
        .iter()
        .find(|f| f.id == id)
        .cloned()
    else {
        return Err(AttachmentError::NotExpected(id));
    };
    let shown = MediaType::sniff(&upload.bytes);
    if shown != Some(upload.declared) {
        return Err(AttachmentError::TypeMismatch {
            declared: upload.declared.as_str(),
            shown: shown.map_or("of no accepted type".into(), |t| t.as_str().to_string()),
        });
    }
    let stored =
        content::strip_metadata(upload.declared, upload.bytes).map_err(AttachmentError::Damaged)?;
    let stored_hex = hex(&Sha256::digest(&stored));
    let key = format!("orgs/{org}/attachments/{id}/{stored_hex}");
    let size = i64::try_from(stored.len()).unwrap_or(i64::MAX);
    storage.put(&key, stored).await?;
    let attachment = Attachment {
        id,
        org_id: org,
        report_id,
        revision: report.revision,
        media_type: upload.declared.as_str().to_string(),
        size,
        sha256: stored_hex,
        uploaded_sha256: uploaded_hex.clone(),
        storage_key: key,
        question: named.question,
        shows_staff: named.shows_staff,
        created_at: db.now(),
    };
    let row = attachment.clone();
    let stored = db
        .write(move |tx| {
            if store::for_report(tx, org, report_id)?.len() >= MAX_PER_REPORT {
                return Err(AttachmentError::TooMany);
            }
            store::insert(tx, &row)?;
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
            .await?
        }
        other => other?,
    };
    if let Uploaded::Created(a) = &outcome {
        tracing::info!(attachment = %a.id, report = %a.report_id, bytes = a.size, "attachment stored");
    }
    Ok(outcome)
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
    if attachment.shows_staff && view != View::Full {
        return Err(DownloadError::StaffPrivacy);
    }
    Ok(attachment)
}
