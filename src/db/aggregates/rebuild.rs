//! What `secondmile rollups verify|rebuild` needs of the rollup tables: a location's rows
//! read whole, replaced in multi-row inserts, and the lock and statistics around it.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::super::DbConn;
use super::super::schema::{reports, rollup_questions, rollup_sections, rollups};
use super::{QuestionRow, RollupRow, SectionRow, count};
use crate::aggregates::rollup::RollupKey;
use crate::db::aggregates::Rollup;
use crate::ids::{LocationId, OrgId};
use crate::reports::model::ReportStatus;

/// How many reports are released, for progress reports.
pub fn released_count(conn: &mut DbConn) -> QueryResult<i64> {
    reports::table
        .filter(reports::status.eq(ReportStatus::Approved))
        .count()
        .get_result(conn)
}

fn key_of(
    org_id: OrgId,
    location_id: LocationId,
    questionnaire_key: String,
    period: String,
) -> RollupKey {
    RollupKey {
        org_id,
        location_id,
        questionnaire_key,
        period,
    }
}

/// Everything the rollup tables hold.
pub fn read_all(conn: &mut DbConn) -> QueryResult<BTreeMap<RollupKey, Rollup>> {
    read(conn, None)
}

/// What the rollup tables hold for one location (of every questionnaire key and period), or
/// for every location when `only` is `None`.
pub fn read(
    conn: &mut DbConn,
    only: Option<(OrgId, LocationId)>,
) -> QueryResult<BTreeMap<RollupKey, Rollup>> {
    macro_rules! rows {
        ($table:ident, $row:ty) => {{
            let mut q = $table::table.select(<$row>::as_select()).into_boxed();
            if let Some((org, location)) = only {
                q = q
                    .filter($table::org_id.eq(org))
                    .filter($table::location_id.eq(location));
            }
            let rows: Vec<$row> = q.load(conn)?;
            rows
        }};
    }
    let mut stored: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
    for row in rows!(rollups, RollupRow) {
        let tally = row.tally();
        stored
            .entry(key_of(
                row.org_id,
                row.location_id,
                row.questionnaire_key,
                row.period,
            ))
            .or_default()
            .tally = tally;
    }
    for row in rows!(rollup_sections, SectionRow) {
        let sums = row.sums();
        stored
            .entry(key_of(
                row.org_id,
                row.location_id,
                row.questionnaire_key,
                row.period,
            ))
            .or_default()
            .sections
            .insert(row.section_key, sums);
    }
    for row in rows!(rollup_questions, QuestionRow) {
        let sums = row.sums();
        stored
            .entry(key_of(
                row.org_id,
                row.location_id,
                row.questionnaire_key,
                row.period,
            ))
            .or_default()
            .questions
            .insert(row.question_key, sums);
    }
    Ok(stored)
}

/// Rows per multi-row `INSERT`: under SQLite's 32,766 bound parameters for the widest row
/// (34 columns), and few enough statements that a location's periods go in a handful.
const INSERT_ROWS: usize = 900;

/// Replaces one location's rollup rows with `all` (every key of it must be that location's),
/// written as multi-row inserts. Call inside a transaction that holds [`lock_for_rebuild`].
pub fn replace_location(
    conn: &mut DbConn,
    org: OrgId,
    location: LocationId,
    all: &BTreeMap<RollupKey, Rollup>,
) -> QueryResult<usize> {
    macro_rules! clear {
        ($table:ident) => {
            diesel::delete(
                $table::table
                    .filter($table::org_id.eq(org))
                    .filter($table::location_id.eq(location)),
            )
            .execute(conn)?
        };
    }
    clear!(rollup_questions);
    clear!(rollup_sections);
    clear!(rollups);
    let periods: Vec<RollupRow> = all
        .iter()
        .map(|(key, r)| RollupRow::new(key, &r.tally))
        .collect();
    let mut sections = Vec::new();
    let mut questions = Vec::new();
    for (key, rollup) in all {
        for (section, sums) in &rollup.sections {
            sections.push(SectionRow {
                org_id: key.org_id,
                location_id: key.location_id,
                questionnaire_key: key.questionnaire_key.clone(),
                period: key.period.clone(),
                section_key: section.clone(),
                score_sum: sums.score_sum,
                scored: count(sums.scored),
            });
        }
        for (question, sums) in &rollup.questions {
            questions.push(QuestionRow::new(key, question, sums));
        }
    }
    for chunk in periods.chunks(INSERT_ROWS) {
        on_backend!(conn, |c| diesel::insert_into(rollups::table)
            .values(chunk)
            .execute(c))?;
    }
    for chunk in sections.chunks(INSERT_ROWS) {
        on_backend!(conn, |c| diesel::insert_into(rollup_sections::table)
            .values(chunk)
            .execute(c))?;
    }
    for chunk in questions.chunks(INSERT_ROWS) {
        on_backend!(conn, |c| diesel::insert_into(rollup_questions::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(periods.len())
}

/// Keeps releases and withdrawals from touching the rollups until the transaction ends, so a
/// location rebuilt from the released reports it reads cannot miss one released meanwhile
/// (each of those writes its `rollups` row first). SQLite's writes are serial already.
pub fn lock_for_rebuild(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("LOCK TABLE rollups IN SHARE ROW EXCLUSIVE MODE").execute(pg)?;
    }
    Ok(())
}

/// Refreshes the planner's statistics of the rollup tables (after a rebuild filled them).
pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    for table in ["rollups", "rollup_sections", "rollup_questions"] {
        on_backend!(conn, |c| diesel::sql_query(format!("ANALYZE {table}"))
            .execute(c))?;
    }
    Ok(())
}
