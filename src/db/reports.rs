//! Visit reports.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{locations, manager_locations, report_revisions, report_transitions, reports};
use super::{DbConn, bad_data, parse_stored};
use crate::auth::model::Role;
use crate::ids::{LocationId, OrgId, UserId};
use crate::reports::model::{Report, ReportDocument, ReportStatus};
use crate::reports::scoring::MileLevel;
use crate::review::model::{Action, Actor, Transition};

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i32,
    NaiveDateTime,
    String,
    Option<f64>,
    String,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
);

fn from_row(row: Row) -> QueryResult<Report> {
    let (
        org_id,
        id,
        location_id,
        questionnaire_id,
        questionnaire_key,
        shopper_id,
        status,
        revision,
        _visit_started_at,
        visit_local_date,
        _overall_score,
        _mile_level,
        body_hash,
        document,
        created_at,
        updated_at,
    ) = row;
    Ok(Report {
        id: parse_stored(&id)?,
        org_id: parse_stored(&org_id)?,
        location_id: parse_stored(&location_id)?,
        questionnaire_id: parse_stored(&questionnaire_id)?,
        questionnaire_key,
        shopper_id: parse_stored(&shopper_id)?,
        status: ReportStatus::parse(&status)
            .ok_or_else(|| bad_data(format!("bad status `{status}`")))?,
        revision,
        visit_local_date: NaiveDate::parse_from_str(&visit_local_date, "%Y-%m-%d")
            .map_err(|e| bad_data(format!("bad stored date: {e}")))?,
        body_hash,
        document: super::stored::report_from_json(&document)
            .map_err(|e| bad_data(format!("report {id}: {e}")))?,
        created_at: created_at.and_utc(),
        updated_at: updated_at.and_utc(),
    })
}

pub fn insert(conn: &mut DbConn, r: &Report) -> QueryResult<()> {
    let document = super::stored::report_to_json(&r.document);
    diesel::insert_into(reports::table)
        .values((
            reports::org_id.eq(r.org_id.to_string()),
            reports::id.eq(r.id.to_string()),
            reports::location_id.eq(r.location_id.to_string()),
            reports::questionnaire_id.eq(r.questionnaire_id.to_string()),
            reports::questionnaire_key.eq(&r.questionnaire_key),
            reports::shopper_id.eq(r.shopper_id.to_string()),
            reports::status.eq(r.status.as_str()),
            reports::revision.eq(r.revision),
            reports::visit_started_at.eq(r
                .document
                .submission
                .visit
                .started_at
                .with_timezone(&Utc)
                .naive_utc()),
            reports::visit_local_date.eq(r.visit_local_date.format("%Y-%m-%d").to_string()),
            reports::overall_score.eq(r.document.score.overall),
            reports::mile_level.eq(r.document.score.mile_level.as_str()),
            reports::body_hash.eq(&r.body_hash),
            reports::document.eq(document),
            reports::created_at.eq(r.created_at.naive_utc()),
            reports::updated_at.eq(r.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, org: OrgId, id: uuid::Uuid) -> QueryResult<Option<Report>> {
    reports::table
        .filter(reports::org_id.eq(org.to_string()))
        .filter(reports::id.eq(id.to_string()))
        .select(reports::all_columns)
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

#[derive(Debug, Default, Clone)]
pub struct ReportFilter {
    pub location: Option<LocationId>,
    pub region: Option<String>,
    pub statuses: Vec<ReportStatus>,
    pub mile_level: Option<MileLevel>,
    pub questionnaire_key: Option<String>,
    /// Local visit dates, inclusive.
    pub visit_from: Option<NaiveDate>,
    pub visit_to: Option<NaiveDate>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Only this shopper's reports.
    pub shopper: Option<UserId>,
    /// Only reports of the locations assigned to this manager.
    pub manager: Option<UserId>,
}

/// A position in the (created_at, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &ReportFilter,
    after: Option<&ReportCursor>,
    newest_first: bool,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    let mut query = reports::table
        .filter(reports::org_id.eq(org.to_string()))
        .select(reports::all_columns)
        .limit(limit)
        .into_boxed();
    query = if newest_first {
        query.order((reports::created_at.desc(), reports::id.desc()))
    } else {
        query.order((reports::created_at.asc(), reports::id.asc()))
    };
    if let Some(cursor) = after {
        let at = cursor.created_at.naive_utc();
        let id = cursor.id.to_string();
        query = if newest_first {
            query.filter(
                reports::created_at
                    .lt(at)
                    .or(reports::created_at.eq(at).and(reports::id.lt(id))),
            )
        } else {
            query.filter(
                reports::created_at
                    .gt(at)
                    .or(reports::created_at.eq(at).and(reports::id.gt(id))),
            )
        };
    }
    if let Some(location) = filter.location {
        query = query.filter(reports::location_id.eq(location.to_string()));
    }
    if let Some(region) = &filter.region {
        let in_region = locations::table
            .filter(locations::org_id.eq(org.to_string()))
            .filter(locations::region.eq(region.clone()))
            .select(locations::id);
        query = query.filter(reports::location_id.eq_any(in_region));
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        query = query.filter(reports::status.eq_any(statuses));
    }
    if let Some(level) = filter.mile_level {
        query = query.filter(reports::mile_level.eq(level.as_str()));
    }
    if let Some(key) = &filter.questionnaire_key {
        query = query.filter(reports::questionnaire_key.eq(key.clone()));
    }
    if let Some(from) = filter.visit_from {
        query = query.filter(reports::visit_local_date.ge(from.format("%Y-%m-%d").to_string()));
    }
    if let Some(to) = filter.visit_to {
        query = query.filter(reports::visit_local_date.le(to.format("%Y-%m-%d").to_string()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(reports::updated_at.ge(since.naive_utc()));
    }
    if let Some(shopper) = filter.shopper {
        query = query.filter(reports::shopper_id.eq(shopper.to_string()));
    }
    if let Some(manager) = filter.manager {
        let assigned = manager_locations::table
            .filter(manager_locations::user_id.eq(manager.to_string()))
            .select(manager_locations::location_id);
        query = query.filter(reports::location_id.eq_any(assigned));
    }
    query.load::<Row>(conn)?.into_iter().map(from_row).collect()
}

// ---------------------------------------------------------------- revisions and history

fn document_json(doc: &ReportDocument) -> QueryResult<String> {
    Ok(super::stored::report_to_json(doc))
}

/// Keeps a revision that is being superseded.
fn insert_revision(conn: &mut DbConn, r: &Report) -> QueryResult<()> {
    diesel::insert_into(report_revisions::table)
        .values((
            report_revisions::org_id.eq(r.org_id.to_string()),
            report_revisions::report_id.eq(r.id.to_string()),
            report_revisions::revision.eq(r.revision),
            report_revisions::body_hash.eq(&r.body_hash),
            report_revisions::document.eq(document_json(&r.document)?),
            report_revisions::created_at.eq(r.document.submitted_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_transition(conn: &mut DbConn, t: &Transition) -> QueryResult<()> {
    diesel::insert_into(report_transitions::table)
        .values((
            report_transitions::id.eq(t.id.to_string()),
            report_transitions::org_id.eq(t.org_id.to_string()),
            report_transitions::report_id.eq(t.report_id.to_string()),
            report_transitions::from_status.eq(t.from.map(|s| s.as_str())),
            report_transitions::to_status.eq(t.to.as_str()),
            report_transitions::action.eq(t.action.as_str()),
            report_transitions::actor_kind.eq(t.actor.kind),
            report_transitions::actor_id.eq(t.actor.id.to_string()),
            report_transitions::actor_role.eq(t.actor.role.map(|r| r.as_str())),
            report_transitions::note.eq(&t.note),
            report_transitions::revision.eq(t.revision),
            report_transitions::created_at.eq(t.at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a new report with its `submit` transition. Call inside a transaction.
pub fn insert_new(conn: &mut DbConn, r: &Report, submitted: &Transition) -> QueryResult<()> {
    insert(conn, r)?;
    insert_transition(conn, submitted)
}

/// Moves a report from `from` to `to` if it is still in `from` at `revision`; returns
/// whether it moved (exactly one of several concurrent callers does).
pub fn set_status(
    conn: &mut DbConn,
    org: OrgId,
    id: uuid::Uuid,
    from: ReportStatus,
    revision: i32,
    to: ReportStatus,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = reports::table
        .filter(reports::org_id.eq(org.to_string()))
        .filter(reports::id.eq(id.to_string()))
        .filter(reports::status.eq(from.as_str()))
        .filter(reports::revision.eq(revision));
    let updated = diesel::update(target)
        .set((
            reports::status.eq(to.as_str()),
            reports::updated_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Replaces a returned report's content with its next revision (`r.revision` is the new
/// number), keeping the superseded revision; returns false, having written nothing, when the
/// report is no longer returned at the previous revision. Call inside a transaction.
pub fn replace_with_revision(conn: &mut DbConn, r: &Report) -> QueryResult<bool> {
    let Some(old) = find(conn, r.org_id, r.id)? else {
        return Ok(false);
    };
    if old.status != ReportStatus::Returned || old.revision != r.revision - 1 {
        return Ok(false);
    }
    // In a savepoint: if the report changed between the read and the write (or a concurrent
    // revision kept the old one first, taking its key), nothing of this attempt stays.
    let attempt = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        insert_revision(conn, &old)?;
        let target = reports::table
            .filter(reports::org_id.eq(r.org_id.to_string()))
            .filter(reports::id.eq(r.id.to_string()))
            .filter(reports::status.eq(ReportStatus::Returned.as_str()))
            .filter(reports::revision.eq(old.revision));
        let updated = diesel::update(target)
            .set((
                reports::location_id.eq(r.location_id.to_string()),
                reports::questionnaire_id.eq(r.questionnaire_id.to_string()),
                reports::questionnaire_key.eq(&r.questionnaire_key),
                reports::status.eq(r.status.as_str()),
                reports::revision.eq(r.revision),
                reports::visit_started_at.eq(r
                    .document
                    .submission
                    .visit
                    .started_at
                    .with_timezone(&Utc)
                    .naive_utc()),
                reports::visit_local_date.eq(r.visit_local_date.format("%Y-%m-%d").to_string()),
                reports::overall_score.eq(r.document.score.overall),
                reports::mile_level.eq(r.document.score.mile_level.as_str()),
                reports::body_hash.eq(&r.body_hash),
                reports::document.eq(document_json(&r.document)?),
                reports::updated_at.eq(r.updated_at.naive_utc()),
            ))
            .execute(conn)?;
        if updated == 1 {
            Ok(())
        } else {
            Err(diesel::result::Error::RollbackTransaction)
        }
    });
    match attempt {
        Ok(()) => Ok(true),
        Err(diesel::result::Error::RollbackTransaction) => Ok(false),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// One superseded revision: its hash, content and time (the current revision is the
/// report itself).
pub fn find_revision(
    conn: &mut DbConn,
    org: OrgId,
    id: uuid::Uuid,
    revision: i32,
) -> QueryResult<Option<(String, ReportDocument, DateTime<Utc>)>> {
    let row = report_revisions::table
        .filter(report_revisions::org_id.eq(org.to_string()))
        .filter(report_revisions::report_id.eq(id.to_string()))
        .filter(report_revisions::revision.eq(revision))
        .select((
            report_revisions::body_hash,
            report_revisions::document,
            report_revisions::created_at,
        ))
        .first::<(String, String, NaiveDateTime)>(conn)
        .optional()?;
    row.map(|(hash, document, at)| {
        let doc = super::stored::report_from_json(&document)
            .map_err(|e| bad_data(format!("report {id} revision {revision}: {e}")))?;
        Ok((hash, doc, at.and_utc()))
    })
    .transpose()
}

type TransitionRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i32,
    NaiveDateTime,
);

fn transition_from_row(row: TransitionRow) -> QueryResult<Transition> {
    let (
        id,
        org_id,
        report_id,
        from,
        to,
        action,
        actor_kind,
        actor_id,
        actor_role,
        note,
        revision,
        at,
    ) = row;
    let status =
        |s: &str| ReportStatus::parse(s).ok_or_else(|| bad_data(format!("bad status `{s}`")));
    Ok(Transition {
        id: parse_stored(&id)?,
        org_id: parse_stored(&org_id)?,
        report_id: parse_stored(&report_id)?,
        from: from.as_deref().map(status).transpose()?,
        to: status(&to)?,
        action: Action::parse(&action).ok_or_else(|| bad_data(format!("bad action `{action}`")))?,
        actor: Actor {
            kind: if actor_kind == "client" {
                "client"
            } else {
                "user"
            },
            id: parse_stored(&actor_id)?,
            role: actor_role
                .as_deref()
                .map(parse_stored::<Role>)
                .transpose()?,
        },
        note,
        revision,
        at: at.and_utc(),
    })
}

/// A report's history, oldest first.
pub fn transitions(conn: &mut DbConn, org: OrgId, id: uuid::Uuid) -> QueryResult<Vec<Transition>> {
    report_transitions::table
        .filter(report_transitions::org_id.eq(org.to_string()))
        .filter(report_transitions::report_id.eq(id.to_string()))
        .order((
            report_transitions::created_at.asc(),
            report_transitions::id.asc(),
        ))
        .select(report_transitions::all_columns)
        .load::<TransitionRow>(conn)?
        .into_iter()
        .map(transition_from_row)
        .collect()
}

/// The latest review decision with a note (return, reject, reopen) of each of `ids`.
pub fn latest_notes(
    conn: &mut DbConn,
    org: OrgId,
    ids: &[uuid::Uuid],
) -> QueryResult<std::collections::HashMap<uuid::Uuid, Transition>> {
    let mut latest = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(latest);
    }
    let wanted: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let rows = report_transitions::table
        .filter(report_transitions::org_id.eq(org.to_string()))
        .filter(report_transitions::report_id.eq_any(wanted))
        .filter(report_transitions::note.is_not_null())
        .order((
            report_transitions::created_at.asc(),
            report_transitions::id.asc(),
        ))
        .select(report_transitions::all_columns)
        .load::<TransitionRow>(conn)?;
    for row in rows {
        let t = transition_from_row(row)?;
        latest.insert(t.report_id, t);
    }
    Ok(latest)
}
