//! A location's verdict around a release: read before the rollups change, compared after,
//! and a change recorded in the same transaction (its event and its `verdict_changes` row).

use chrono::NaiveDate;

use crate::aggregates::figures::{Figures, VerdictShift};
use crate::aggregates::stats::VerdictRule;
use crate::db::aggregates::{self as rollups, Parts, Scope};
use crate::db::{DbConn, QueryResult, Tx, verdicts};
use crate::events::model::{self as event, VerdictChange};
use crate::events::service as events;
use crate::ids::{LocationId, OrgId};
use crate::reports::model::Report;

/// Days of the trailing window whose verdict `location.verdict_changed` follows.
pub const VERDICT_WINDOW_DAYS: i64 = 90;

/// A location's verdict over the trailing [`VERDICT_WINDOW_DAYS`] ending `to` (UTC), all
/// questionnaires, from the rollups as the aggregates read them.
pub fn read(
    conn: &mut DbConn,
    org: OrgId,
    location: LocationId,
    rule: &VerdictRule,
    to: NaiveDate,
) -> QueryResult<VerdictChange> {
    let from = to - chrono::TimeDelta::days(VERDICT_WINDOW_DAYS - 1);
    let scope = Scope {
        org,
        locations: Some(vec![location]),
        questionnaire_key: None,
    };
    let rollup = rollups::per_location(conn, &scope, from, to, Parts::default())?
        .remove(&location)
        .unwrap_or_default();
    let figures = Figures::of(&rollup.tally, rule);
    Ok(VerdictChange {
        from,
        to,
        previous: figures.verdict,
        verdict: figures.verdict,
        visits: figures.visits,
        mean_score: figures.mean_score,
    })
}

/// Compares the verdict after `report`'s release (or withdrawal) with `before`, and records
/// a change: its event and its row. Returns the change, if any.
pub fn record_change(
    tx: &mut Tx<'_>,
    report: &Report,
    mut before: VerdictChange,
    rule: &VerdictRule,
) -> QueryResult<Option<VerdictShift>> {
    let (org, location) = (report.org_id, report.location_id);
    let after = read(tx, org, location, rule, before.to)?;
    if after.verdict == before.verdict {
        return Ok(None);
    }
    before.previous = before.verdict;
    before.verdict = after.verdict;
    before.visits = after.visits;
    before.mean_score = after.mean_score;
    let recorded = event::verdict_changed(org, location, report.id, &before);
    events::record(tx, &recorded)?;
    let shift = VerdictShift {
        location_id: location,
        report_id: report.id,
        visit_date: report.visit_local_date,
        from: before.previous,
        to: before.verdict,
        changed_at: tx.now(),
    };
    verdicts::insert(tx, org, recorded.id, &shift)?;
    Ok(Some(shift))
}
