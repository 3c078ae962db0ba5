//! Visit reports, their superseded revisions and their history. A report's status is
//! written when it is stored and afterwards only by [`record_transition`], together with the
//! history row that explains the change.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{
    locations, manager_locations, narrative_bands, report_revisions, report_transitions, reports,
};
use super::{DbConn, bad_data, parse_stored, stored};
use crate::auth::model::Role;
use crate::ids::{LocationId, OrgId, QuestionnaireId, ReportId, TransitionId, UserId};
use crate::reports::model::{Report, ReportDocument, ReportStatus};
use crate::reports::plausibility;
use crate::reports::scoring::MileLevel;
use crate::reports::workflow::{Action, Actor, ActorKind, Transition};

const DATE_FORMAT: &str = "%Y-%m-%d";

#[derive(Queryable, Selectable)]
#[diesel(table_name = reports)]
struct ReportRow {
    org_id: OrgId,
    id: ReportId,
    location_id: LocationId,
    questionnaire_id: QuestionnaireId,
    questionnaire_key: String,
    shopper_id: UserId,
    status: ReportStatus,
    revision: i32,
    visit_local_date: String,
    body_hash: String,
    document: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ReportRow {
    fn into_report(self) -> QueryResult<Report> {
        let id = self.id;
        Ok(Report {
            id,
            org_id: self.org_id,
            location_id: self.location_id,
            questionnaire_id: self.questionnaire_id,
            questionnaire_key: self.questionnaire_key,
            shopper_id: self.shopper_id,
            status: self.status,
            revision: self.revision,
            visit_local_date: NaiveDate::parse_from_str(&self.visit_local_date, DATE_FORMAT)
                .map_err(|e| bad_data(format!("report {id}: bad visit date: {e}")))?,
            body_hash: self.body_hash,
            document: stored::report_from_json(&self.document)
                .map_err(|e| bad_data(format!("report {id}: {e}")))?,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// The columns a report's content sets: written when it is stored and replaced by a revision.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = reports, treat_none_as_null = true)]
struct ContentColumns<'a> {
    location_id: LocationId,
    questionnaire_id: QuestionnaireId,
    questionnaire_key: &'a str,
    revision: i32,
    visit_started_at: NaiveDateTime,
    visit_local_date: String,
    overall_score: Option<f64>,
    mile_level: MileLevel,
    body_hash: &'a str,
    document: String,
    updated_at: NaiveDateTime,
    /// New content is as written: a retention pass has not seen it.
    text_pruned_at: Option<NaiveDateTime>,
    plausibility: Option<i32>,
    visit_ended_at: Option<NaiveDateTime>,
    narrative_signature: Option<String>,
}

impl<'a> ContentColumns<'a> {
    fn of(r: &'a Report) -> Self {
        let doc = &r.document;
        ContentColumns {
            location_id: r.location_id,
            questionnaire_id: r.questionnaire_id,
            questionnaire_key: &r.questionnaire_key,
            revision: r.revision,
            visit_started_at: doc.submission.visit.started_at.naive_utc(),
            visit_local_date: r.visit_local_date.format(DATE_FORMAT).to_string(),
            overall_score: doc.score.overall,
            mile_level: doc.score.mile_level,
            body_hash: &r.body_hash,
            document: stored::report_to_json(doc),
            updated_at: r.updated_at.naive_utc(),
            text_pruned_at: None,
            plausibility: doc.plausibility.as_ref().map(|p| i32::from(p.score)),
            visit_ended_at: Some(doc.submission.visit.ended_at.naive_utc()),
            narrative_signature: plausibility::signature(&doc.submission.narrative)
                .map(|sig| plausibility::encode(&sig)),
        }
    }
}

/// Replaces the report's narrative bands with those of its current narrative.
/// A new report has none to replace (`replace` false): one statement, or none without a
/// narrative to compare.
fn write_bands(
    conn: &mut DbConn,
    r: &Report,
    signature: Option<&str>,
    replace: bool,
) -> QueryResult<()> {
    if replace {
        diesel::delete(
            narrative_bands::table
                .filter(narrative_bands::org_id.eq(r.org_id))
                .filter(narrative_bands::report_id.eq(r.id)),
        )
        .execute(conn)?;
    }
    let Some(sig) = signature.and_then(plausibility::decode) else {
        return Ok(());
    };
    let at = r.document.submission.visit.started_at.naive_utc();
    let rows: Vec<_> = plausibility::bands(&sig)
        .into_iter()
        .map(|band| {
            (
                narrative_bands::org_id.eq(r.org_id),
                narrative_bands::band.eq(band),
                narrative_bands::report_id.eq(r.id),
                narrative_bands::visit_started_at.eq(at),
            )
        })
        .collect();
    on_backend!(conn, |c| diesel::insert_into(narrative_bands::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = reports)]
struct NewReport<'a> {
    org_id: OrgId,
    id: ReportId,
    shopper_id: UserId,
    status: ReportStatus,
    created_at: NaiveDateTime,
    #[diesel(embed)]
    content: ContentColumns<'a>,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = report_revisions)]
struct RevisionRow {
    org_id: OrgId,
    report_id: ReportId,
    revision: i32,
    body_hash: String,
    document: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = report_transitions)]
struct TransitionRow {
    id: TransitionId,
    org_id: OrgId,
    report_id: ReportId,
    from_status: Option<ReportStatus>,
    to_status: ReportStatus,
    action: Action,
    actor_kind: ActorKind,
    actor_id: String,
    actor_role: Option<Role>,
    note: Option<String>,
    revision: i32,
    created_at: NaiveDateTime,
}

impl TransitionRow {
    fn of(t: &Transition) -> Self {
        TransitionRow {
            id: t.id,
            org_id: t.org_id,
            report_id: t.report_id,
            from_status: t.from,
            to_status: t.to,
            action: t.action,
            actor_kind: t.actor.kind,
            actor_id: t.actor.id.to_string(),
            actor_role: t.actor.role,
            note: t.note.clone(),
            revision: t.revision,
            created_at: t.at.naive_utc(),
        }
    }

    fn into_transition(self) -> QueryResult<Transition> {
        Ok(Transition {
            id: self.id,
            org_id: self.org_id,
            report_id: self.report_id,
            from: self.from_status,
            to: self.to_status,
            action: self.action,
            actor: Actor {
                kind: self.actor_kind,
                id: parse_stored(&self.actor_id)?,
                role: self.actor_role,
            },
            note: self.note,
            revision: self.revision,
            at: self.created_at.and_utc(),
        })
    }
}

/// Stores a new report with its `submit` transition. Call inside a transaction; a report
/// whose id is taken is a unique violation.
/// Dates every report of `org` to 20:00 UTC of its visit's local day, or leaves it when that
/// is later than when it was stored (the demo's backfill, stored all at once).
pub fn date_to_visits(conn: &mut DbConn, org: OrgId) -> QueryResult<usize> {
    use diesel::sql_types::Text;
    let sql = match conn {
        DbConn::Pg(_) => {
            "UPDATE reports SET created_at = LEAST(created_at, CAST(visit_local_date AS DATE) + TIME '20:00') \
             WHERE org_id = $1"
        }
        DbConn::Sqlite(_) => {
            "UPDATE reports SET created_at = MIN(created_at, visit_local_date || ' 20:00:00') \
             WHERE org_id = ?"
        }
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(org.to_string())
        .execute(conn)
}

/// How many reports a shopper submitted since `since`, and when the earliest of them was.
pub fn shopper_submissions_since(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    since: DateTime<Utc>,
) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    let (count, earliest) = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::shopper_id.eq(shopper))
        .filter(reports::created_at.gt(since.naive_utc()))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(reports::created_at),
        ))
        .first::<(i64, Option<NaiveDateTime>)>(conn)?;
    Ok((count, earliest.map(|t| t.and_utc())))
}

pub fn insert_new(conn: &mut DbConn, r: &Report, submitted: &Transition) -> QueryResult<()> {
    let content = ContentColumns::of(r);
    let signature = content.narrative_signature.clone();
    diesel::insert_into(reports::table)
        .values(NewReport {
            org_id: r.org_id,
            id: r.id,
            shopper_id: r.shopper_id,
            status: r.status,
            created_at: r.created_at.naive_utc(),
            content,
        })
        .execute(conn)?;
    write_bands(conn, r, signature.as_deref(), false)?;
    let recorded = record_transition(conn, submitted)?;
    debug_assert!(recorded, "a first submission has no status to check");
    Ok(())
}

/// Serialises changes that count one report's rows (such as its files): PostgreSQL locks
/// the report's row until the transaction ends; SQLite already runs write transactions one
/// at a time.
pub fn lock(conn: &mut DbConn, org: OrgId, id: ReportId) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM reports WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(org.to_string())
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(pg)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, org: OrgId, id: ReportId) -> QueryResult<Option<Report>> {
    reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::id.eq(id))
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .map(ReportRow::into_report)
        .transpose()
}

/// A page of one location's released reports in (visit date, id) order, after `after`
/// (the last page's last visit date and id): one index range of `reports_location_day_idx`.
pub fn released_at_location(
    conn: &mut DbConn,
    org: OrgId,
    location: LocationId,
    after: Option<(&str, ReportId)>,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    let mut query = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::location_id.eq(location))
        .filter(reports::status.eq(ReportStatus::Approved))
        .select(ReportRow::as_select())
        .order((reports::visit_local_date.asc(), reports::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((date, id)) = after {
        query = query.filter(
            reports::visit_local_date
                .gt(date.to_string())
                .or(reports::visit_local_date
                    .eq(date.to_string())
                    .and(reports::id.gt(id))),
        );
    }
    query
        .load(conn)?
        .into_iter()
        .map(ReportRow::into_report)
        .collect()
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
    pub id: ReportId,
}

/// A position in the least-plausible-first order: (plausibility, unassessed last; then
/// created_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlausibleCursor {
    pub plausibility: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub id: ReportId,
}

/// The order of a list of reports, with the position to continue after.
#[derive(Debug, Clone)]
pub enum Listing {
    /// By submission, oldest (the review queue) or newest first.
    Created {
        after: Option<ReportCursor>,
        newest_first: bool,
    },
    /// Least plausible first, unassessed reports last.
    LeastPlausible(Option<PlausibleCursor>),
}

pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &ReportFilter,
    after: Option<&ReportCursor>,
    newest_first: bool,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    let order = Listing::Created {
        after: after.cloned(),
        newest_first,
    };
    list_in(conn, org, filter, &order, limit)
}

/// The reports of `filter` in `order`.
pub fn list_in(
    conn: &mut DbConn,
    org: OrgId,
    filter: &ReportFilter,
    order: &Listing,
    limit: i64,
) -> QueryResult<Vec<Report>> {
    let mut query = reports::table
        .filter(reports::org_id.eq(org))
        .select(ReportRow::as_select())
        .limit(limit)
        .into_boxed();
    match order {
        Listing::Created {
            after,
            newest_first,
        } => {
            let newest_first = *newest_first;
            query = if newest_first {
                query.order((reports::created_at.desc(), reports::id.desc()))
            } else {
                query.order((reports::created_at.asc(), reports::id.asc()))
            };
            if let Some(cursor) = after {
                let at = cursor.created_at.naive_utc();
                let id = cursor.id;
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
        }
        Listing::LeastPlausible(after) => {
            query = query.order((
                reports::plausibility.is_null().asc(),
                reports::plausibility.asc(),
                reports::created_at.asc(),
                reports::id.asc(),
            ));
            if let Some(cursor) = after {
                let at = cursor.created_at.naive_utc();
                let id = cursor.id;
                let later = reports::created_at
                    .gt(at)
                    .or(reports::created_at.eq(at).and(reports::id.gt(id)));
                query = match cursor.plausibility {
                    Some(p) => query.filter(
                        reports::plausibility
                            .gt(p)
                            .or(reports::plausibility.eq(p).and(later))
                            .or(reports::plausibility.is_null()),
                    ),
                    None => query.filter(reports::plausibility.is_null().and(later)),
                };
            }
        }
    }
    if let Some(location) = filter.location {
        query = query.filter(reports::location_id.eq(location));
    }
    if let Some(region) = &filter.region {
        let in_region = locations::table
            .filter(locations::org_id.eq(org))
            .filter(locations::region.eq(region.clone()))
            .select(locations::id);
        query = query.filter(reports::location_id.eq_any(in_region));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(reports::status.eq_any(filter.statuses.clone()));
    }
    if let Some(level) = filter.mile_level {
        query = query.filter(reports::mile_level.eq(level));
    }
    if let Some(key) = &filter.questionnaire_key {
        query = query.filter(reports::questionnaire_key.eq(key.clone()));
    }
    if let Some(from) = filter.visit_from {
        query = query.filter(reports::visit_local_date.ge(from.format(DATE_FORMAT).to_string()));
    }
    if let Some(to) = filter.visit_to {
        query = query.filter(reports::visit_local_date.le(to.format(DATE_FORMAT).to_string()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(reports::updated_at.ge(since.naive_utc()));
    }
    if let Some(shopper) = filter.shopper {
        query = query.filter(reports::shopper_id.eq(shopper));
    }
    if let Some(manager) = filter.manager {
        let assigned = manager_locations::table
            .filter(manager_locations::org_id.eq(org))
            .filter(manager_locations::user_id.eq(manager))
            .select(manager_locations::location_id);
        query = query.filter(reports::location_id.eq_any(assigned));
    }
    query
        .load::<ReportRow>(conn)?
        .into_iter()
        .map(ReportRow::into_report)
        .collect()
}

// ---------------------------------------------------------------- status and history

/// Records a change of a report's status: moves the report from `t.from` to `t.to` if it
/// is still in `t.from` at `t.revision`, and appends `t` to its history. Returns whether it
/// moved (of several concurrent callers exactly one does); a first submission (`t.from` is
/// `None`) only appends. The only writer of `reports.status` after insertion. Call inside a
/// transaction.
pub fn record_transition(conn: &mut DbConn, t: &Transition) -> QueryResult<bool> {
    if let Some(from) = t.from {
        let target = reports::table
            .filter(reports::org_id.eq(t.org_id))
            .filter(reports::id.eq(t.report_id))
            .filter(reports::status.eq(from))
            .filter(reports::revision.eq(t.revision));
        let updated = diesel::update(target)
            .set((
                reports::status.eq(t.to),
                reports::updated_at.eq(t.at.naive_utc()),
            ))
            .execute(conn)?;
        if updated != 1 {
            return Ok(false);
        }
    }
    diesel::insert_into(report_transitions::table)
        .values(TransitionRow::of(t))
        .execute(conn)?;
    Ok(true)
}

/// Replaces the content of `old` (a returned report revised by its shopper, or a released
/// one amended after an appeal) with its next revision `new` (whose `revision` is
/// `old.revision + 1`), keeping `old` as a superseded revision. The status is left to
/// [`record_transition`]. Returns false, having written nothing, when the report is no
/// longer in `old`'s status at `old.revision` (a concurrent decision or revision won). Call
/// inside a transaction.
pub fn replace_content(conn: &mut DbConn, old: &Report, new: &Report) -> QueryResult<bool> {
    // In a savepoint: if the report changed between the read and the write (or a concurrent
    // revision kept the old one first, taking its key), nothing of this attempt stays.
    let attempt = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::insert_into(report_revisions::table)
            .values(RevisionRow {
                org_id: old.org_id,
                report_id: old.id,
                revision: old.revision,
                body_hash: old.body_hash.clone(),
                document: stored::report_to_json(&old.document),
                created_at: old.document.submitted_at.naive_utc(),
            })
            .execute(conn)?;
        let target = reports::table
            .filter(reports::org_id.eq(old.org_id))
            .filter(reports::id.eq(old.id))
            .filter(reports::status.eq(old.status))
            .filter(reports::revision.eq(old.revision));
        let content = ContentColumns::of(new);
        let signature = content.narrative_signature.clone();
        let updated = diesel::update(target).set(content).execute(conn)?;
        if updated == 1 {
            write_bands(conn, new, signature.as_deref(), true)
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

/// One superseded revision as it was submitted (the current revision is the report itself).
pub struct Revision {
    pub body_hash: String,
    pub document: ReportDocument,
    pub submitted_at: DateTime<Utc>,
}

pub fn find_revision(
    conn: &mut DbConn,
    org: OrgId,
    id: ReportId,
    revision: i32,
) -> QueryResult<Option<Revision>> {
    let row = report_revisions::table
        .filter(report_revisions::org_id.eq(org))
        .filter(report_revisions::report_id.eq(id))
        .filter(report_revisions::revision.eq(revision))
        .select(RevisionRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|row| {
        let document = stored::report_from_json(&row.document)
            .map_err(|e| bad_data(format!("report {id} revision {revision}: {e}")))?;
        Ok(Revision {
            body_hash: row.body_hash,
            document,
            submitted_at: row.created_at.and_utc(),
        })
    })
    .transpose()
}

/// A report's history, oldest first.
pub fn transitions(conn: &mut DbConn, org: OrgId, id: ReportId) -> QueryResult<Vec<Transition>> {
    report_transitions::table
        .filter(report_transitions::org_id.eq(org))
        .filter(report_transitions::report_id.eq(id))
        .order((
            report_transitions::created_at.asc(),
            report_transitions::id.asc(),
        ))
        .select(TransitionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TransitionRow::into_transition)
        .collect()
}

/// The latest review decision with a note (return, reject, reopen) of each of `ids`.
pub fn latest_notes(
    conn: &mut DbConn,
    org: OrgId,
    ids: &[ReportId],
) -> QueryResult<HashMap<ReportId, Transition>> {
    let mut latest = HashMap::new();
    if ids.is_empty() {
        return Ok(latest);
    }
    let rows = report_transitions::table
        .filter(report_transitions::org_id.eq(org))
        .filter(report_transitions::report_id.eq_any(ids.to_vec()))
        .filter(report_transitions::note.is_not_null())
        .order((
            report_transitions::created_at.asc(),
            report_transitions::id.asc(),
        ))
        .select(TransitionRow::as_select())
        .load(conn)?;
    for row in rows {
        let t = row.into_transition()?;
        latest.insert(t.report_id, t);
    }
    Ok(latest)
}

/// Approved reports per location of a questionnaire key with a local visit date from `from`
/// to `to` (inclusive, `YYYY-MM-DD`): the visits a wave has completed.
pub fn approved_counts(
    conn: &mut DbConn,
    org: OrgId,
    questionnaire_key: &str,
    from: &str,
    to: &str,
) -> QueryResult<HashMap<LocationId, u32>> {
    let rows: Vec<(LocationId, i64)> = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::questionnaire_key.eq(questionnaire_key))
        .filter(reports::status.eq(ReportStatus::Approved))
        .filter(reports::visit_local_date.ge(from))
        .filter(reports::visit_local_date.le(to))
        .group_by(reports::location_id)
        .select((reports::location_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(l, n)| (l, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
}
