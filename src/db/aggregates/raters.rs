//! Who made the released visits: the distinct shoppers behind a location's figures, and each
//! visit's shopper and score for the rater effects (`aggregates::raters`).

use chrono::NaiveDate;
use diesel::prelude::*;

use super::super::DbConn;
use super::super::schema::reports;
use super::Scope;
use crate::aggregates::rollup;
use crate::ids::{LocationId, OrgId, UserId};
use crate::reports::model::ReportStatus;

/// How many distinct shoppers made the released visits of each location of `scope` over
/// `from..=to` (locations without one are absent): one grouped read of
/// `reports_raters_idx`, which holds every column it needs.
pub(super) fn shoppers_per_location(
    conn: &mut DbConn,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(LocationId, i64)>> {
    let mut q = reports::table
        .filter(reports::org_id.eq(scope.org))
        .filter(reports::status.eq(ReportStatus::Approved))
        .filter(reports::visit_local_date.ge(rollup::day(from)))
        .filter(reports::visit_local_date.le(rollup::day(to)))
        .group_by(reports::location_id)
        .select((
            reports::location_id,
            diesel::dsl::count(reports::shopper_id).aggregate_distinct(),
        ))
        .into_boxed();
    if let Some(key) = &scope.questionnaire_key {
        q = q.filter(reports::questionnaire_key.eq(key.clone()));
    }
    if let Some(locations) = &scope.locations {
        q = q.filter(reports::location_id.eq_any(locations.clone()));
    }
    q.load(conn)
}

/// A released, scored visit: who made it, where, when (local date) and its overall score.
#[derive(Debug, Clone, PartialEq)]
pub struct RatedVisit {
    pub shopper: UserId,
    pub location: LocationId,
    pub date: NaiveDate,
    pub score: f64,
}

/// The organization's released visits with a score over `from..=to` (of one questionnaire
/// key when given).
pub fn rated_visits(
    conn: &mut DbConn,
    org: OrgId,
    questionnaire_key: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<RatedVisit>> {
    let mut q = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::status.eq(ReportStatus::Approved))
        .filter(reports::visit_local_date.ge(rollup::day(from)))
        .filter(reports::visit_local_date.le(rollup::day(to)))
        .filter(reports::overall_score.is_not_null())
        .select((
            reports::shopper_id,
            reports::location_id,
            reports::visit_local_date,
            reports::overall_score,
        ))
        .into_boxed();
    if let Some(key) = questionnaire_key {
        q = q.filter(reports::questionnaire_key.eq(key.to_string()));
    }
    let rows: Vec<(UserId, LocationId, String, Option<f64>)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(shopper, location, date, score)| {
            Some(RatedVisit {
                shopper,
                location,
                date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok()?,
                score: score?,
            })
        })
        .collect())
}
