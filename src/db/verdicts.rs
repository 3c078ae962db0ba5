//! The changes of locations' verdicts, written by the transaction that moved each one.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::programme::{date, text};
use super::schema::verdict_changes;
use super::{DbConn, utc};
use crate::aggregates::figures::{VerdictName, VerdictShift};
use crate::ids::{EventId, LocationId, OrgId, ReportId};

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = verdict_changes)]
struct Row {
    org_id: OrgId,
    id: EventId,
    location_id: LocationId,
    report_id: ReportId,
    visit_date: String,
    previous_verdict: VerdictName,
    verdict: VerdictName,
    changed_at: chrono::NaiveDateTime,
}

/// Records a change; `id` is its `location.verdict_changed` event's.
pub fn insert(conn: &mut DbConn, org: OrgId, id: EventId, shift: &VerdictShift) -> QueryResult<()> {
    let row = Row {
        org_id: org,
        id,
        location_id: shift.location_id,
        report_id: shift.report_id,
        visit_date: text(shift.visit_date),
        previous_verdict: shift.from,
        verdict: shift.to,
        changed_at: shift.changed_at.naive_utc(),
    };
    diesel::insert_into(verdict_changes::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// The changes moved by visits of `from..=to` (local dates) at `locations` (every location
/// of the organization when `None`), in the order they happened.
pub fn between(
    conn: &mut DbConn,
    org: OrgId,
    locations: Option<&[LocationId]>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<VerdictShift>> {
    let mut query = verdict_changes::table
        .filter(verdict_changes::org_id.eq(org))
        .filter(verdict_changes::visit_date.between(text(from), text(to)))
        .select(Row::as_select())
        .order((verdict_changes::changed_at, verdict_changes::id))
        .into_boxed();
    if let Some(ids) = locations {
        query = query.filter(verdict_changes::location_id.eq_any(ids.to_vec()));
    }
    query
        .load::<Row>(conn)?
        .into_iter()
        .map(|r| {
            Ok(VerdictShift {
                location_id: r.location_id,
                report_id: r.report_id,
                visit_date: date(&r.visit_date)?,
                from: r.previous_verdict,
                to: r.verdict,
                changed_at: utc(r.changed_at),
            })
        })
        .collect()
}
