//! Rollups of released reports. [`add`] and [`remove`] run inside the transaction that
//! releases or un-releases a report (see `reports::record_transition`); [`recompute`],
//! [`read_all`] and [`replace_all`] serve `secondmile rollups verify|rebuild`.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::DbConn;
use super::schema::{reports, rollup_buckets, rollup_questions, rollup_sections, rollups};
use crate::aggregates::rollup::{Contribution, RollupKey, contribution};
use crate::aggregates::stats::{BUCKETS, Tally};
use crate::ids::{LocationId, OrgId, ReportId};
use crate::reports::model::ReportStatus;

#[derive(Insertable, Queryable, Selectable, Clone)]
#[diesel(table_name = rollups)]
struct RollupRow {
    org_id: OrgId,
    location_id: LocationId,
    questionnaire_key: String,
    period: String,
    visits: i64,
    scored_visits: i64,
    score_sum: f64,
    score_sum_sq: f64,
    score_min: Option<f64>,
    score_max: Option<f64>,
    zero_mile: i64,
    first_mile: i64,
    second_mile: i64,
    critical_failures: i64,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = rollup_buckets)]
struct BucketRow {
    org_id: OrgId,
    location_id: LocationId,
    questionnaire_key: String,
    period: String,
    bucket: i32,
    visits: i64,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = rollup_sections)]
struct SectionRow {
    org_id: OrgId,
    location_id: LocationId,
    questionnaire_key: String,
    period: String,
    section_key: String,
    score_sum: f64,
    scored: i64,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = rollup_questions)]
struct QuestionRow {
    org_id: OrgId,
    location_id: LocationId,
    questionnaire_key: String,
    period: String,
    question_key: String,
    applicable: i64,
    full_points: i64,
    earned_sum: f64,
    possible_sum: f64,
}

impl RollupRow {
    /// The row's tally (its histogram lives in `rollup_buckets`).
    fn tally(&self) -> Tally {
        Tally {
            visits: self.visits.max(0) as u64,
            scored_visits: self.scored_visits.max(0) as u64,
            score_sum: self.score_sum,
            score_sum_sq: self.score_sum_sq,
            score_min: self.score_min,
            score_max: self.score_max,
            zero_mile: self.zero_mile.max(0) as u64,
            first_mile: self.first_mile.max(0) as u64,
            second_mile: self.second_mile.max(0) as u64,
            critical_failures: self.critical_failures.max(0) as u64,
            histogram: [0; BUCKETS],
        }
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A section's or question's sums in one rollup period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectionSums {
    pub score_sum: f64,
    pub scored: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuestionSums {
    pub applicable: u64,
    pub full_points: u64,
    pub earned_sum: f64,
    pub possible_sum: f64,
}

/// Everything the rollups hold for one period of one location and questionnaire key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollup {
    pub tally: Tally,
    pub sections: BTreeMap<String, SectionSums>,
    pub questions: BTreeMap<String, QuestionSums>,
}

impl Rollup {
    fn add(&mut self, c: &Contribution) {
        self.tally.merge(&c.tally);
        for (key, score) in &c.sections {
            let s = self.sections.entry(key.clone()).or_default();
            s.score_sum += score;
            s.scored += 1;
        }
        for q in c.questions.iter().filter(|q| q.applicable) {
            let sums = self.questions.entry(q.key.clone()).or_default();
            sums.applicable += 1;
            sums.full_points += u64::from(q.full_points);
            sums.earned_sum += q.earned;
            sums.possible_sum += q.possible;
        }
    }
}

/// Adds a released report's contribution to its day and month rows.
pub fn add(conn: &mut DbConn, c: &Contribution) -> QueryResult<()> {
    for key in &c.keys {
        let t = &c.tally;
        let row = RollupRow {
            org_id: key.org_id,
            location_id: key.location_id,
            questionnaire_key: key.questionnaire_key.clone(),
            period: key.period.clone(),
            visits: count(t.visits),
            scored_visits: count(t.scored_visits),
            score_sum: t.score_sum,
            score_sum_sq: t.score_sum_sq,
            score_min: t.score_min,
            score_max: t.score_max,
            zero_mile: count(t.zero_mile),
            first_mile: count(t.first_mile),
            second_mile: count(t.second_mile),
            critical_failures: count(t.critical_failures),
        };
        on_backend!(conn, |c| diesel::insert_into(rollups::table)
            .values(&row)
            .on_conflict((
                rollups::org_id,
                rollups::location_id,
                rollups::questionnaire_key,
                rollups::period,
            ))
            .do_update()
            .set((
                rollups::visits.eq(rollups::visits + excluded(rollups::visits)),
                rollups::scored_visits
                    .eq(rollups::scored_visits + excluded(rollups::scored_visits)),
                rollups::score_sum.eq(rollups::score_sum + excluded(rollups::score_sum)),
                rollups::score_sum_sq.eq(rollups::score_sum_sq + excluded(rollups::score_sum_sq)),
                rollups::zero_mile.eq(rollups::zero_mile + excluded(rollups::zero_mile)),
                rollups::first_mile.eq(rollups::first_mile + excluded(rollups::first_mile)),
                rollups::second_mile.eq(rollups::second_mile + excluded(rollups::second_mile)),
                rollups::critical_failures
                    .eq(rollups::critical_failures + excluded(rollups::critical_failures)),
            ))
            .execute(c))?;
        if let (Some(low), Some(high)) = (t.score_min, t.score_max) {
            diesel::update(row_of(key))
                .filter(rollups::score_min.is_null().or(rollups::score_min.gt(low)))
                .set(rollups::score_min.eq(low))
                .execute(conn)?;
            diesel::update(row_of(key))
                .filter(rollups::score_max.is_null().or(rollups::score_max.lt(high)))
                .set(rollups::score_max.eq(high))
                .execute(conn)?;
        }
        for (bucket, &visits) in t.histogram.iter().enumerate().filter(|(_, v)| **v > 0) {
            let row = BucketRow {
                org_id: key.org_id,
                location_id: key.location_id,
                questionnaire_key: key.questionnaire_key.clone(),
                period: key.period.clone(),
                bucket: bucket as i32,
                visits: count(visits),
            };
            on_backend!(conn, |c| diesel::insert_into(rollup_buckets::table)
                .values(&row)
                .on_conflict((
                    rollup_buckets::org_id,
                    rollup_buckets::location_id,
                    rollup_buckets::questionnaire_key,
                    rollup_buckets::period,
                    rollup_buckets::bucket,
                ))
                .do_update()
                .set(
                    rollup_buckets::visits
                        .eq(rollup_buckets::visits + excluded(rollup_buckets::visits))
                )
                .execute(c))?;
        }
        for (section, score) in &c.sections {
            let row = SectionRow {
                org_id: key.org_id,
                location_id: key.location_id,
                questionnaire_key: key.questionnaire_key.clone(),
                period: key.period.clone(),
                section_key: section.clone(),
                score_sum: *score,
                scored: 1,
            };
            on_backend!(conn, |c| diesel::insert_into(rollup_sections::table)
                .values(&row)
                .on_conflict((
                    rollup_sections::org_id,
                    rollup_sections::location_id,
                    rollup_sections::questionnaire_key,
                    rollup_sections::period,
                    rollup_sections::section_key,
                ))
                .do_update()
                .set((
                    rollup_sections::score_sum
                        .eq(rollup_sections::score_sum + excluded(rollup_sections::score_sum)),
                    rollup_sections::scored
                        .eq(rollup_sections::scored + excluded(rollup_sections::scored)),
                ))
                .execute(c))?;
        }
        for q in c.questions.iter().filter(|q| q.applicable) {
            let row = QuestionRow {
                org_id: key.org_id,
                location_id: key.location_id,
                questionnaire_key: key.questionnaire_key.clone(),
                period: key.period.clone(),
                question_key: q.key.clone(),
                applicable: 1,
                full_points: i64::from(q.full_points),
                earned_sum: q.earned,
                possible_sum: q.possible,
            };
            on_backend!(conn, |c| diesel::insert_into(rollup_questions::table)
                .values(&row)
                .on_conflict((
                    rollup_questions::org_id,
                    rollup_questions::location_id,
                    rollup_questions::questionnaire_key,
                    rollup_questions::period,
                    rollup_questions::question_key,
                ))
                .do_update()
                .set(
                    (
                        rollup_questions::applicable
                            .eq(rollup_questions::applicable
                                + excluded(rollup_questions::applicable)),
                        rollup_questions::full_points
                            .eq(rollup_questions::full_points
                                + excluded(rollup_questions::full_points)),
                        rollup_questions::earned_sum
                            .eq(rollup_questions::earned_sum
                                + excluded(rollup_questions::earned_sum)),
                        rollup_questions::possible_sum.eq(rollup_questions::possible_sum
                            + excluded(rollup_questions::possible_sum),),
                    )
                )
                .execute(c))?;
        }
    }
    Ok(())
}

/// The query of one period's rollup row.
type RowOf = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            diesel::dsl::Filter<rollups::table, diesel::dsl::Eq<rollups::org_id, OrgId>>,
            diesel::dsl::Eq<rollups::location_id, LocationId>,
        >,
        diesel::dsl::Eq<rollups::questionnaire_key, String>,
    >,
    diesel::dsl::Eq<rollups::period, String>,
>;

fn row_of(key: &RollupKey) -> RowOf {
    rollups::table
        .filter(rollups::org_id.eq(key.org_id))
        .filter(rollups::location_id.eq(key.location_id))
        .filter(rollups::questionnaire_key.eq(key.questionnaire_key.clone()))
        .filter(rollups::period.eq(key.period.clone()))
}

/// Takes a report's contribution out of its day and month rows (the report is no longer
/// released when this runs), dropping rows that count nothing and recomputing the extremes:
/// the day's from its released reports, the month's from its days.
pub fn remove(conn: &mut DbConn, c: &Contribution) -> QueryResult<()> {
    let t = &c.tally;
    for key in &c.keys {
        diesel::update(row_of(key))
            .set((
                rollups::visits.eq(rollups::visits - count(t.visits)),
                rollups::scored_visits.eq(rollups::scored_visits - count(t.scored_visits)),
                rollups::score_sum.eq(rollups::score_sum - t.score_sum),
                rollups::score_sum_sq.eq(rollups::score_sum_sq - t.score_sum_sq),
                rollups::zero_mile.eq(rollups::zero_mile - count(t.zero_mile)),
                rollups::first_mile.eq(rollups::first_mile - count(t.first_mile)),
                rollups::second_mile.eq(rollups::second_mile - count(t.second_mile)),
                rollups::critical_failures
                    .eq(rollups::critical_failures - count(t.critical_failures)),
            ))
            .execute(conn)?;
        diesel::delete(row_of(key).filter(rollups::visits.le(0))).execute(conn)?;
        if t.scored_visits > 0 {
            let (low, high) = if key.period.len() == 10 {
                reports::table
                    .filter(reports::org_id.eq(key.org_id))
                    .filter(reports::location_id.eq(key.location_id))
                    .filter(reports::questionnaire_key.eq(key.questionnaire_key.clone()))
                    .filter(reports::visit_local_date.eq(key.period.clone()))
                    .filter(reports::status.eq(ReportStatus::Approved))
                    .select((
                        diesel::dsl::min(reports::overall_score),
                        diesel::dsl::max(reports::overall_score),
                    ))
                    .first::<(Option<f64>, Option<f64>)>(conn)?
            } else {
                rollups::table
                    .filter(rollups::org_id.eq(key.org_id))
                    .filter(rollups::location_id.eq(key.location_id))
                    .filter(rollups::questionnaire_key.eq(key.questionnaire_key.clone()))
                    .filter(rollups::period.like(format!("{}-%", key.period)))
                    .select((
                        diesel::dsl::min(rollups::score_min),
                        diesel::dsl::max(rollups::score_max),
                    ))
                    .first::<(Option<f64>, Option<f64>)>(conn)?
            };
            diesel::update(row_of(key))
                .set((rollups::score_min.eq(low), rollups::score_max.eq(high)))
                .execute(conn)?;
        }
        for (bucket, &visits) in t.histogram.iter().enumerate().filter(|(_, v)| **v > 0) {
            let target = rollup_buckets::table
                .filter(rollup_buckets::org_id.eq(key.org_id))
                .filter(rollup_buckets::location_id.eq(key.location_id))
                .filter(rollup_buckets::questionnaire_key.eq(key.questionnaire_key.clone()))
                .filter(rollup_buckets::period.eq(key.period.clone()))
                .filter(rollup_buckets::bucket.eq(bucket as i32));
            diesel::update(target.clone())
                .set(rollup_buckets::visits.eq(rollup_buckets::visits - count(visits)))
                .execute(conn)?;
            diesel::delete(target.filter(rollup_buckets::visits.le(0))).execute(conn)?;
        }
        for (section, score) in &c.sections {
            let target = rollup_sections::table
                .filter(rollup_sections::org_id.eq(key.org_id))
                .filter(rollup_sections::location_id.eq(key.location_id))
                .filter(rollup_sections::questionnaire_key.eq(key.questionnaire_key.clone()))
                .filter(rollup_sections::period.eq(key.period.clone()))
                .filter(rollup_sections::section_key.eq(section.clone()));
            diesel::update(target.clone())
                .set((
                    rollup_sections::score_sum.eq(rollup_sections::score_sum - *score),
                    rollup_sections::scored.eq(rollup_sections::scored - 1),
                ))
                .execute(conn)?;
            diesel::delete(target.filter(rollup_sections::scored.le(0))).execute(conn)?;
        }
        for q in c.questions.iter().filter(|q| q.applicable) {
            let target = rollup_questions::table
                .filter(rollup_questions::org_id.eq(key.org_id))
                .filter(rollup_questions::location_id.eq(key.location_id))
                .filter(rollup_questions::questionnaire_key.eq(key.questionnaire_key.clone()))
                .filter(rollup_questions::period.eq(key.period.clone()))
                .filter(rollup_questions::question_key.eq(q.key.clone()));
            diesel::update(target.clone())
                .set((
                    rollup_questions::applicable.eq(rollup_questions::applicable - 1),
                    rollup_questions::full_points
                        .eq(rollup_questions::full_points - i64::from(q.full_points)),
                    rollup_questions::earned_sum.eq(rollup_questions::earned_sum - q.earned),
                    rollup_questions::possible_sum.eq(rollup_questions::possible_sum - q.possible),
                ))
                .execute(conn)?;
            diesel::delete(target.filter(rollup_questions::applicable.le(0))).execute(conn)?;
        }
    }
    Ok(())
}

/// How many reports are released, for progress reports.
pub fn released_count(conn: &mut DbConn) -> QueryResult<i64> {
    reports::table
        .filter(reports::status.eq(ReportStatus::Approved))
        .count()
        .get_result(conn)
}

/// The rollups recomputed from every released report, read in pages; `progress` is told
/// how many reports have been read so far after each page.
pub fn recompute(
    conn: &mut DbConn,
    progress: &mut dyn FnMut(u64),
) -> QueryResult<BTreeMap<RollupKey, Rollup>> {
    let mut read = 0u64;
    let mut expected: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
    let mut after: Option<(OrgId, ReportId)> = None;
    loop {
        let mut query = reports::table
            .filter(reports::status.eq(ReportStatus::Approved))
            .select((reports::org_id, reports::id))
            .order((reports::org_id.asc(), reports::id.asc()))
            .limit(500)
            .into_boxed();
        if let Some((org, id)) = after {
            query = query.filter(
                reports::org_id
                    .gt(org)
                    .or(reports::org_id.eq(org).and(reports::id.gt(id))),
            );
        }
        let ids: Vec<(OrgId, ReportId)> = query.load(conn)?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let page = ids.len() as u64;
        for (org, id) in ids {
            if let Some(report) = super::reports::find(conn, org, id)? {
                let c = contribution(&report);
                for key in &c.keys {
                    expected.entry(key.clone()).or_default().add(&c);
                }
            }
        }
        after = Some(last);
        read += page;
        progress(read);
    }
    Ok(expected)
}

/// Everything the rollup tables hold.
pub fn read_all(conn: &mut DbConn) -> QueryResult<BTreeMap<RollupKey, Rollup>> {
    let mut stored: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
    let key = |org_id, location_id, questionnaire_key, period| RollupKey {
        org_id,
        location_id,
        questionnaire_key,
        period,
    };
    for row in rollups::table.select(RollupRow::as_select()).load(conn)? {
        let entry = stored
            .entry(key(
                row.org_id,
                row.location_id,
                row.questionnaire_key,
                row.period,
            ))
            .or_default();
        let t = &mut entry.tally;
        t.visits = row.visits.max(0) as u64;
        t.scored_visits = row.scored_visits.max(0) as u64;
        t.score_sum = row.score_sum;
        t.score_sum_sq = row.score_sum_sq;
        t.score_min = row.score_min;
        t.score_max = row.score_max;
        t.zero_mile = row.zero_mile.max(0) as u64;
        t.first_mile = row.first_mile.max(0) as u64;
        t.second_mile = row.second_mile.max(0) as u64;
        t.critical_failures = row.critical_failures.max(0) as u64;
    }
    for row in rollup_buckets::table
        .select(BucketRow::as_select())
        .load(conn)?
    {
        let entry = stored
            .entry(key(
                row.org_id,
                row.location_id,
                row.questionnaire_key,
                row.period,
            ))
            .or_default();
        if let Some(slot) = usize::try_from(row.bucket)
            .ok()
            .and_then(|b| entry.tally.histogram.get_mut(b))
        {
            *slot = row.visits.max(0) as u64;
        }
    }
    for row in rollup_sections::table
        .select(SectionRow::as_select())
        .load(conn)?
    {
        stored
            .entry(key(
                row.org_id,
                row.location_id,
                row.questionnaire_key,
                row.period,
            ))
            .or_default()
            .sections
            .insert(
                row.section_key,
                SectionSums {
                    score_sum: row.score_sum,
                    scored: row.scored.max(0) as u64,
                },
            );
    }
    for row in rollup_questions::table
        .select(QuestionRow::as_select())
        .load(conn)?
    {
        stored
            .entry(key(
                row.org_id,
                row.location_id,
                row.questionnaire_key,
                row.period,
            ))
            .or_default()
            .questions
            .insert(
                row.question_key,
                QuestionSums {
                    applicable: row.applicable.max(0) as u64,
                    full_points: row.full_points.max(0) as u64,
                    earned_sum: row.earned_sum,
                    possible_sum: row.possible_sum,
                },
            );
    }
    Ok(stored)
}

/// Replaces every rollup row with `rollups`. Call inside a transaction.
pub fn replace_all(conn: &mut DbConn, all: &BTreeMap<RollupKey, Rollup>) -> QueryResult<()> {
    diesel::delete(rollup_questions::table).execute(conn)?;
    diesel::delete(rollup_sections::table).execute(conn)?;
    diesel::delete(rollup_buckets::table).execute(conn)?;
    diesel::delete(rollups::table).execute(conn)?;
    for (key, rollup) in all {
        let base = || {
            (
                key.org_id,
                key.location_id,
                key.questionnaire_key.clone(),
                key.period.clone(),
            )
        };
        let t = &rollup.tally;
        let (org_id, location_id, questionnaire_key, period) = base();
        diesel::insert_into(rollups::table)
            .values(RollupRow {
                org_id,
                location_id,
                questionnaire_key,
                period,
                visits: count(t.visits),
                scored_visits: count(t.scored_visits),
                score_sum: t.score_sum,
                score_sum_sq: t.score_sum_sq,
                score_min: t.score_min,
                score_max: t.score_max,
                zero_mile: count(t.zero_mile),
                first_mile: count(t.first_mile),
                second_mile: count(t.second_mile),
                critical_failures: count(t.critical_failures),
            })
            .execute(conn)?;
        for bucket in (0..BUCKETS).filter(|b| t.histogram[*b] > 0) {
            let (org_id, location_id, questionnaire_key, period) = base();
            diesel::insert_into(rollup_buckets::table)
                .values(BucketRow {
                    org_id,
                    location_id,
                    questionnaire_key,
                    period,
                    bucket: bucket as i32,
                    visits: count(t.histogram[bucket]),
                })
                .execute(conn)?;
        }
        for (section, sums) in &rollup.sections {
            let (org_id, location_id, questionnaire_key, period) = base();
            diesel::insert_into(rollup_sections::table)
                .values(SectionRow {
                    org_id,
                    location_id,
                    questionnaire_key,
                    period,
                    section_key: section.clone(),
                    score_sum: sums.score_sum,
                    scored: count(sums.scored),
                })
                .execute(conn)?;
        }
        for (question, sums) in &rollup.questions {
            let (org_id, location_id, questionnaire_key, period) = base();
            diesel::insert_into(rollup_questions::table)
                .values(QuestionRow {
                    org_id,
                    location_id,
                    questionnaire_key,
                    period,
                    question_key: question.clone(),
                    applicable: count(sums.applicable),
                    full_points: count(sums.full_points),
                    earned_sum: sums.earned_sum,
                    possible_sum: sums.possible_sum,
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- reading a range

/// Which rollup rows cover the local dates `from..=to`: the months wholly inside it, and the
/// days of the months it only touches.
pub fn plan(from: NaiveDate, to: NaiveDate) -> (Vec<String>, Vec<(String, String)>) {
    let mut months = Vec::new();
    let mut days = Vec::new();
    let mut start = from;
    while start <= to {
        let first = start.with_day(1).unwrap_or(start);
        let next = first
            .checked_add_months(Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        let last = next.pred_opt().unwrap_or(next);
        let end = last.min(to);
        if start == first && end == last {
            months.push(first.format("%Y-%m").to_string());
        } else {
            days.push((
                start.format("%Y-%m-%d").to_string(),
                end.format("%Y-%m-%d").to_string(),
            ));
        }
        if next == NaiveDate::MAX {
            break;
        }
        start = next;
    }
    (months, days)
}

/// What to add up: one organization's released visits between two local dates, of some
/// locations (all when `None`) and one questionnaire key (all when `None`).
#[derive(Debug, Clone)]
pub struct RangeFilter {
    pub org: OrgId,
    pub locations: Option<Vec<LocationId>>,
    pub questionnaire_key: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

macro_rules! range_rows {
    ($conn:expr, $table:ident, $row:ty, $filter:expr, $months:expr, $days:expr) => {{
        let filter = $filter;
        let mut rows: Vec<$row> = Vec::new();
        let base = || {
            let mut q = $table::table
                .filter($table::org_id.eq(filter.org))
                .select(<$row>::as_select())
                .into_boxed();
            if let Some(key) = &filter.questionnaire_key {
                q = q.filter($table::questionnaire_key.eq(key.clone()));
            }
            if let Some(locations) = &filter.locations {
                q = q.filter($table::location_id.eq_any(locations.clone()));
            }
            q
        };
        if !$months.is_empty() {
            rows.extend(
                base()
                    .filter($table::period.eq_any($months.clone()))
                    .load($conn)?,
            );
        }
        for (first, last) in $days {
            rows.extend(
                base()
                    .filter($table::period.ge(first.clone()))
                    .filter($table::period.le(last.clone()))
                    .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "length(period) = 10",
                    ))
                    .load($conn)?,
            );
        }
        rows
    }};
}

/// The rollups of `filter` added up per location.
pub fn per_location(
    conn: &mut DbConn,
    filter: &RangeFilter,
) -> QueryResult<BTreeMap<LocationId, Rollup>> {
    let (months, days) = plan(filter.from, filter.to);
    let mut out: BTreeMap<LocationId, Rollup> = BTreeMap::new();
    for row in range_rows!(conn, rollups, RollupRow, filter, months, &days) {
        out.entry(row.location_id)
            .or_default()
            .tally
            .merge(&row.tally());
    }
    for row in range_rows!(conn, rollup_buckets, BucketRow, filter, months, &days) {
        let entry = out.entry(row.location_id).or_default();
        if let Some(slot) = usize::try_from(row.bucket)
            .ok()
            .and_then(|b| entry.tally.histogram.get_mut(b))
        {
            *slot += row.visits.max(0) as u64;
        }
    }
    for row in range_rows!(conn, rollup_sections, SectionRow, filter, months, &days) {
        let s = out
            .entry(row.location_id)
            .or_default()
            .sections
            .entry(row.section_key)
            .or_default();
        s.score_sum += row.score_sum;
        s.scored += row.scored.max(0) as u64;
    }
    for row in range_rows!(conn, rollup_questions, QuestionRow, filter, months, &days) {
        let q = out
            .entry(row.location_id)
            .or_default()
            .questions
            .entry(row.question_key)
            .or_default();
        q.applicable += row.applicable.max(0) as u64;
        q.full_points += row.full_points.max(0) as u64;
        q.earned_sum += row.earned_sum;
        q.possible_sum += row.possible_sum;
    }
    Ok(out)
}

/// The day rows of `filter` (whatever the months), added up per local date.
pub fn per_day(conn: &mut DbConn, filter: &RangeFilter) -> QueryResult<BTreeMap<NaiveDate, Tally>> {
    let days = [(
        filter.from.format("%Y-%m-%d").to_string(),
        filter.to.format("%Y-%m-%d").to_string(),
    )];
    let none: Vec<String> = Vec::new();
    let mut out: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    let date = |p: &str| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok();
    for row in range_rows!(conn, rollups, RollupRow, filter, none, &days) {
        let Some(day) = date(&row.period) else {
            continue;
        };
        out.entry(day).or_default().merge(&row.tally());
    }
    for row in range_rows!(conn, rollup_buckets, BucketRow, filter, none, &days) {
        let Some(day) = date(&row.period) else {
            continue;
        };
        let tally = out.entry(day).or_default();
        if let Some(slot) = usize::try_from(row.bucket)
            .ok()
            .and_then(|b| tally.histogram.get_mut(b))
        {
            *slot += row.visits.max(0) as u64;
        }
    }
    Ok(out)
}

/// The latest local date a released visit of `location` falls on within the range.
pub fn last_visit_date(conn: &mut DbConn, filter: &RangeFilter) -> QueryResult<Option<NaiveDate>> {
    let mut q = reports::table
        .filter(reports::org_id.eq(filter.org))
        .filter(reports::status.eq(ReportStatus::Approved))
        .filter(reports::visit_local_date.ge(filter.from.format("%Y-%m-%d").to_string()))
        .filter(reports::visit_local_date.le(filter.to.format("%Y-%m-%d").to_string()))
        .select(diesel::dsl::max(reports::visit_local_date))
        .into_boxed();
    if let Some(key) = &filter.questionnaire_key {
        q = q.filter(reports::questionnaire_key.eq(key.clone()));
    }
    if let Some(locations) = &filter.locations {
        q = q.filter(reports::location_id.eq_any(locations.clone()));
    }
    let latest: Option<String> = q.first(conn)?;
    Ok(latest.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_range_reads_whole_months_and_its_ragged_days() {
        let (months, days) = plan(d("2026-01-15"), d("2026-04-10"));
        assert_eq!(months, ["2026-02", "2026-03"]);
        assert_eq!(
            days,
            [
                ("2026-01-15".to_string(), "2026-01-31".to_string()),
                ("2026-04-01".to_string(), "2026-04-10".to_string())
            ]
        );
        let (months, days) = plan(d("2026-02-01"), d("2026-02-28"));
        assert_eq!((months, days.len()), (vec!["2026-02".to_string()], 0));
        let (months, days) = plan(d("2026-03-05"), d("2026-03-05"));
        assert!(months.is_empty());
        assert_eq!(days, [("2026-03-05".to_string(), "2026-03-05".to_string())]);
    }
}
