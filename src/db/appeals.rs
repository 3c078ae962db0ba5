//! Managers' appeals against released reports.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::appeals;
use super::{DbConn, bad_data, utc};
use crate::ids::{AppealId, LocationId, OrgId, ReportId, UserId};
use crate::improvement::appeal::{Appeal, AppealStatus, Evidence};

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = appeals)]
struct AppealRow {
    org_id: OrgId,
    id: AppealId,
    report_id: ReportId,
    location_id: LocationId,
    appellant_id: UserId,
    status: AppealStatus,
    questions: String,
    reason: String,
    revision: i32,
    amended_revision: Option<i32>,
    opened_at: NaiveDateTime,
    decided_by: Option<UserId>,
    decided_at: Option<NaiveDateTime>,
    decision_note: Option<String>,
    evidence_key: Option<String>,
    evidence_media_type: Option<String>,
    evidence_size: Option<i64>,
    evidence_sha256: Option<String>,
    evidence_uploaded_sha256: Option<String>,
    evidence_at: Option<NaiveDateTime>,
}

impl AppealRow {
    fn of(a: &Appeal) -> Self {
        AppealRow {
            org_id: a.org_id,
            id: a.id,
            report_id: a.report_id,
            location_id: a.location_id,
            appellant_id: a.appellant_id,
            status: a.status,
            questions: serde_json::to_string(&a.questions).unwrap_or_else(|_| "[]".into()),
            reason: a.reason.clone(),
            revision: a.revision,
            amended_revision: a.amended_revision,
            opened_at: a.opened_at.naive_utc(),
            decided_by: a.decided_by,
            decided_at: a.decided_at.map(|t| t.naive_utc()),
            decision_note: a.decision_note.clone(),
            evidence_key: a.evidence.as_ref().map(|e| e.storage_key.clone()),
            evidence_media_type: a.evidence.as_ref().map(|e| e.media_type.clone()),
            evidence_size: a.evidence.as_ref().map(|e| e.size),
            evidence_sha256: a.evidence.as_ref().map(|e| e.sha256.clone()),
            evidence_uploaded_sha256: a.evidence.as_ref().map(|e| e.uploaded_sha256.clone()),
            evidence_at: a.evidence.as_ref().map(|e| e.attached_at.naive_utc()),
        }
    }

    fn into_appeal(self) -> QueryResult<Appeal> {
        let evidence = match (
            self.evidence_key,
            self.evidence_media_type,
            self.evidence_size,
            self.evidence_sha256,
            self.evidence_uploaded_sha256,
            self.evidence_at,
        ) {
            (None, None, None, None, None, None) => None,
            (
                Some(storage_key),
                Some(media_type),
                Some(size),
                Some(sha256),
                Some(uploaded_sha256),
                Some(at),
            ) => Some(Evidence {
                storage_key,
                media_type,
                size,
                sha256,
                uploaded_sha256,
                attached_at: utc(at),
            }),
            _ => return Err(bad_data("an appeal's evidence is stored in part".into())),
        };
        Ok(Appeal {
            id: self.id,
            org_id: self.org_id,
            report_id: self.report_id,
            location_id: self.location_id,
            appellant_id: self.appellant_id,
            status: self.status,
            questions: serde_json::from_str(&self.questions)
                .map_err(|e| bad_data(format!("bad stored appeal questions: {e}")))?,
            reason: self.reason,
            revision: self.revision,
            amended_revision: self.amended_revision,
            opened_at: utc(self.opened_at),
            decided_by: self.decided_by,
            decided_at: self.decided_at.map(utc),
            decision_note: self.decision_note,
            evidence,
        })
    }
}

/// Stores a new appeal unless the report has an open one: `false` then, and nothing is
/// written. Safe under concurrent appeals (the unique index decides).
pub fn insert(conn: &mut DbConn, appeal: &Appeal) -> QueryResult<bool> {
    let row = AppealRow::of(appeal);
    let inserted = on_backend!(conn, |c| diesel::insert_into(appeals::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

pub fn find(conn: &mut DbConn, org: OrgId, id: AppealId) -> QueryResult<Option<Appeal>> {
    appeals::table
        .filter(appeals::org_id.eq(org))
        .filter(appeals::id.eq(id))
        .select(AppealRow::as_select())
        .first(conn)
        .optional()?
        .map(AppealRow::into_appeal)
        .transpose()
}

/// The appeals of one report, oldest first.
pub fn of_report(conn: &mut DbConn, org: OrgId, report: ReportId) -> QueryResult<Vec<Appeal>> {
    appeals::table
        .filter(appeals::org_id.eq(org))
        .filter(appeals::report_id.eq(report))
        .order(appeals::id)
        .select(AppealRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AppealRow::into_appeal)
        .collect()
}

/// What a list of appeals keeps.
#[derive(Debug, Clone, Default)]
pub struct AppealFilter {
    pub status: Option<AppealStatus>,
    /// Only these locations (`None`: every one).
    pub locations: Option<Vec<LocationId>>,
}

/// Appeals after `after`, oldest first, at most `limit`.
pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &AppealFilter,
    after: Option<AppealId>,
    limit: i64,
) -> QueryResult<Vec<Appeal>> {
    let mut query = appeals::table
        .filter(appeals::org_id.eq(org))
        .order(appeals::id)
        .limit(limit)
        .select(AppealRow::as_select())
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(appeals::status.eq(status));
    }
    if let Some(locations) = &filter.locations {
        query = query.filter(appeals::location_id.eq_any(locations.clone()));
    }
    if let Some(after) = after {
        query = query.filter(appeals::id.gt(after));
    }
    query
        .load(conn)?
        .into_iter()
        .map(AppealRow::into_appeal)
        .collect()
}

/// Records the decision of an open appeal: `false` when it was decided meanwhile.
pub fn decide(conn: &mut DbConn, appeal: &Appeal) -> QueryResult<bool> {
    let row = AppealRow::of(appeal);
    let updated = diesel::update(
        appeals::table
            .filter(appeals::org_id.eq(appeal.org_id))
            .filter(appeals::id.eq(appeal.id))
            .filter(appeals::status.eq(AppealStatus::Open)),
    )
    .set((
        appeals::status.eq(row.status),
        appeals::amended_revision.eq(row.amended_revision),
        appeals::decided_by.eq(row.decided_by),
        appeals::decided_at.eq(row.decided_at),
        appeals::decision_note.eq(row.decision_note),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Attaches the evidence of an open appeal that has none: `false` when the appeal was
/// decided or given a file meanwhile (one conditional update holds both rules).
pub fn attach_evidence(
    conn: &mut DbConn,
    org: OrgId,
    id: AppealId,
    evidence: &Evidence,
) -> QueryResult<bool> {
    let updated = diesel::update(
        appeals::table
            .filter(appeals::org_id.eq(org))
            .filter(appeals::id.eq(id))
            .filter(appeals::status.eq(AppealStatus::Open))
            .filter(appeals::evidence_key.is_null()),
    )
    .set((
        appeals::evidence_key.eq(&evidence.storage_key),
        appeals::evidence_media_type.eq(&evidence.media_type),
        appeals::evidence_size.eq(evidence.size),
        appeals::evidence_sha256.eq(&evidence.sha256),
        appeals::evidence_uploaded_sha256.eq(&evidence.uploaded_sha256),
        appeals::evidence_at.eq(evidence.attached_at.naive_utc()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Which of `keys` (storage keys, of any organization) an appeal names as its evidence.
pub fn evidence_keys(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<String>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    appeals::table
        .filter(appeals::evidence_key.eq_any(keys))
        .select(appeals::evidence_key.assume_not_null())
        .load(conn)
}
