//! What moved each location's figures (see `aggregates::moves`), and the looks at the event
//! cursor that date an aggregate read.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{events, figure_moves, pending_events};
use super::{DbConn, bad_data};
use crate::aggregates::moves::{Counted, FIGURE_EVENTS, FigureMove, MoveKind};
use crate::ids::{EventId, LocationId, OrgId, ReportId};
use crate::reports::scoring::MileLevel;

const DATE_FORMAT: &str = "%Y-%m-%d";

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = figure_moves)]
struct Row {
    org_id: OrgId,
    event_id: EventId,
    location_id: LocationId,
    report_id: ReportId,
    revision: i32,
    questionnaire_key: String,
    visit_local_date: String,
    kind: String,
    counted_before: bool,
    score_before: Option<f64>,
    mile_before: Option<MileLevel>,
    counted_after: bool,
    score_after: Option<f64>,
    mile_after: Option<MileLevel>,
    at: NaiveDateTime,
}

/// Keeps a move, in the transaction that made it (and recorded its event).
pub fn record(conn: &mut DbConn, m: &FigureMove) -> QueryResult<()> {
    diesel::insert_into(figure_moves::table)
        .values(Row {
            org_id: m.org_id,
            event_id: m.event_id,
            location_id: m.location_id,
            report_id: m.report_id,
            revision: m.revision,
            questionnaire_key: m.questionnaire_key.clone(),
            visit_local_date: m.visit_date.format(DATE_FORMAT).to_string(),
            kind: m.kind.as_str().to_string(),
            counted_before: m.before.is_some(),
            score_before: m.before.and_then(|c| c.score),
            mile_before: m.before.map(|c| c.mile),
            counted_after: m.after.is_some(),
            score_after: m.after.and_then(|c| c.score),
            mile_after: m.after.map(|c| c.mile),
            at: m.at.naive_utc(),
        })
        .execute(conn)?;
    Ok(())
}

/// What the figure reader filters moves by: the location, the range of local visit dates
/// and the questionnaire key.
pub struct Filter {
    pub org: OrgId,
    pub location: LocationId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub questionnaire_key: Option<String>,
}

/// The moves of `filter` whose events are numbered after `since` and up to `upto`, in
/// event order, each with its number.
pub fn numbered_between(
    conn: &mut DbConn,
    filter: &Filter,
    since: i64,
    upto: i64,
) -> QueryResult<Vec<(i64, FigureMove)>> {
    let mut q = figure_moves::table
        .inner_join(
            events::table.on(events::org_id
                .eq(figure_moves::org_id)
                .and(events::id.eq(figure_moves::event_id))),
        )
        .filter(figure_moves::org_id.eq(filter.org))
        .filter(figure_moves::location_id.eq(filter.location))
        .filter(figure_moves::visit_local_date.ge(filter.from.format(DATE_FORMAT).to_string()))
        .filter(figure_moves::visit_local_date.le(filter.to.format(DATE_FORMAT).to_string()))
        .filter(events::seq.gt(since))
        .filter(events::seq.le(upto))
        .order(events::seq.asc())
        .select((events::seq, Row::as_select()))
        .into_boxed();
    if let Some(key) = &filter.questionnaire_key {
        q = q.filter(figure_moves::questionnaire_key.eq(key.clone()));
    }
    q.load::<(i64, Row)>(conn)?
        .into_iter()
        .map(|(seq, row)| Ok((seq, row.into_move()?)))
        .collect()
}

impl Row {
    fn into_move(self) -> QueryResult<FigureMove> {
        let counted = |counted: bool, score: Option<f64>, mile: Option<MileLevel>| {
            if !counted {
                return Ok(None);
            }
            let mile =
                mile.ok_or_else(|| bad_data("a counted figure move has no mile level".into()))?;
            Ok::<_, diesel::result::Error>(Some(Counted { score, mile }))
        };
        Ok(FigureMove {
            org_id: self.org_id,
            event_id: self.event_id,
            location_id: self.location_id,
            report_id: self.report_id,
            revision: self.revision,
            questionnaire_key: self.questionnaire_key,
            visit_date: NaiveDate::parse_from_str(&self.visit_local_date, DATE_FORMAT)
                .map_err(|e| bad_data(format!("figure move: bad visit date: {e}")))?,
            kind: MoveKind::parse(&self.kind)
                .ok_or_else(|| bad_data(format!("figure move: unknown kind {}", self.kind)))?,
            before: counted(self.counted_before, self.score_before, self.mile_before)?,
            after: counted(self.counted_after, self.score_after, self.mile_after)?,
            at: self.at.and_utc(),
        })
    }
}

fn figure_event_names() -> Vec<&'static str> {
    FIGURE_EVENTS.iter().map(|t| t.as_str()).collect()
}

/// Whether an event that may move the organization's figures waits for its number.
pub fn figure_event_pending(conn: &mut DbConn, org: OrgId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        pending_events::table
            .filter(pending_events::org_id.eq(org))
            .filter(pending_events::event_type.eq_any(figure_event_names())),
    ))
    .get_result(conn)
}

/// Whether an event that may move figures was numbered after `since` and up to `upto`.
pub fn figure_event_between(
    conn: &mut DbConn,
    org: OrgId,
    since: i64,
    upto: i64,
) -> QueryResult<bool> {
    if upto <= since {
        return Ok(false);
    }
    diesel::select(diesel::dsl::exists(
        events::table
            .filter(events::org_id.eq(org))
            .filter(events::seq.gt(since))
            .filter(events::seq.le(upto))
            .filter(events::event_type.eq_any(figure_event_names())),
    ))
    .get_result(conn)
}
