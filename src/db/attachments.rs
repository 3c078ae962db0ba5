//! Attachment rows: one per stored file, written after the file is in the storage.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::attachments;
use crate::ids::{AttachmentId, OrgId, ReportId};

pub use crate::attachments::model::Attachment;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
struct Row {
    id: AttachmentId,
    org_id: OrgId,
    report_id: ReportId,
    revision: i32,
    media_type: String,
    size: i64,
    sha256: String,
    uploaded_sha256: String,
    storage_key: String,
    question: Option<String>,
    shows_staff: bool,
    created_at: NaiveDateTime,
}

impl From<Row> for Attachment {
    fn from(r: Row) -> Self {
        Attachment {
            id: r.id,
            org_id: r.org_id,
            report_id: r.report_id,
            revision: r.revision,
            media_type: r.media_type,
            size: r.size,
            sha256: r.sha256,
            uploaded_sha256: r.uploaded_sha256,
            storage_key: r.storage_key,
            question: r.question,
            shows_staff: r.shows_staff,
            created_at: r.created_at.and_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, a: &Attachment) -> QueryResult<()> {
    diesel::insert_into(attachments::table)
        .values(Row {
            id: a.id,
            org_id: a.org_id,
            report_id: a.report_id,
            revision: a.revision,
            media_type: a.media_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            uploaded_sha256: a.uploaded_sha256.clone(),
            storage_key: a.storage_key.clone(),
            question: a.question.clone(),
            shows_staff: a.shows_staff,
            created_at: a.created_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, org: OrgId, id: AttachmentId) -> QueryResult<Option<Attachment>> {
    Ok(attachments::table
        .filter(attachments::org_id.eq(org))
        .filter(attachments::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Attachment::from))
}

/// A report's attachments, oldest first.
pub fn for_report(conn: &mut DbConn, org: OrgId, report: ReportId) -> QueryResult<Vec<Attachment>> {
    Ok(attachments::table
        .filter(attachments::org_id.eq(org))
        .filter(attachments::report_id.eq(report))
        .select(Row::as_select())
        .order((attachments::created_at.asc(), attachments::id.asc()))
        .load::<Row>(conn)?
        .into_iter()
        .map(Attachment::from)
        .collect())
}

/// The ids of the files received for each of `reports` (one query for a page of reports).
pub fn received_for(
    conn: &mut DbConn,
    org: OrgId,
    reports: &[ReportId],
) -> QueryResult<Vec<(ReportId, AttachmentId)>> {
    if reports.is_empty() {
        return Ok(Vec::new());
    }
    attachments::table
        .filter(attachments::org_id.eq(org))
        .filter(attachments::report_id.eq_any(reports))
        .select((attachments::report_id, attachments::id))
        .load(conn)
}

/// Which of `keys` (a batch of storage keys, of any organization) have a row, a report's
/// attachment or an appeal's evidence: what the sweeper keeps.
pub fn existing_keys(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<String>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<String> = attachments::table
        .filter(attachments::storage_key.eq_any(keys))
        .select(attachments::storage_key)
        .load(conn)?;
    found.extend(super::appeals::evidence_keys(conn, keys)?);
    Ok(found)
}

/// A stored file a row names (a report's attachment or an appeal's evidence): its key, and
/// the size and hex SHA-256 its bytes must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFile {
    pub key: String,
    pub size: i64,
    pub sha256: String,
}

/// The files rows name, of every organization, in key order: the first `limit` after
/// `after` (keyset paging over both tables).
pub fn named_files(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<NamedFile>> {
    use super::schema::appeals;
    let mut files: Vec<(String, i64, String)> = attachments::table
        .filter(attachments::storage_key.gt(after))
        .order(attachments::storage_key)
        .limit(limit)
        .select((
            attachments::storage_key,
            attachments::size,
            attachments::sha256,
        ))
        .load(conn)?;
    files.extend(
        appeals::table
            .filter(appeals::evidence_key.gt(after))
            .order(appeals::evidence_key)
            .limit(limit)
            .select((
                appeals::evidence_key.assume_not_null(),
                appeals::evidence_size.assume_not_null(),
                appeals::evidence_sha256.assume_not_null(),
            ))
            .load::<(String, i64, String)>(conn)?,
    );
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    files.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(files
        .into_iter()
        .map(|(key, size, sha256)| NamedFile { key, size, sha256 })
        .collect())
}
