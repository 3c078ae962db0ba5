//! Rollups of released reports. [`add`] and [`remove`] run inside the transaction that
//! releases or un-releases a report (the review use case calls [`add`] and [`remove`]);
//! [`read_all`] and [`replace_all`] serve `secondmile rollups verify|rebuild`; the rest reads
//! ranges, each as the rows of its [`plan`](crate::aggregates::rollup::plan).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::DbConn;
use super::schema::{reports, rollup_questions, rollup_sections, rollups};
use crate::aggregates::rollup::{self, Contribution, Grain, QuestionShare, RollupKey};
use crate::aggregates::stats::Tally;

mod raters;
mod rebuild;
use crate::ids::{LocationId, OrgId};
use crate::reports::model::ReportStatus;
use raters::shoppers_per_location;
pub use raters::{RatedVisit, rated_visits};
pub use rebuild::{analyze, lock_for_rebuild, read, read_all, released_count, replace_location};

/// Applies `$m` to the histogram columns, in bucket order.
macro_rules! histogram_columns {
    ($m:ident) => {
        $m! {
            h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16,
            h17, h18, h19
        }
    };
}

/// The tally of a row that has the rollup's sums as columns (a stored row, or rows added up).
macro_rules! tally_of {
    ($row:expr, $($h:ident),*) => {
        Tally {
            visits: uncount($row.visits),
            scored_visits: uncount($row.scored_visits),
            score_sum: $row.score_sum,
            score_sum_sq: $row.score_sum_sq,
            score_min: $row.score_min,
            score_max: $row.score_max,
            zero_mile: uncount($row.zero_mile),
            first_mile: uncount($row.first_mile),
            second_mile: uncount($row.second_mile),
            critical_failures: uncount($row.critical_failures),
            histogram: [$(uncount($row.$h)),*],
        }
    };
}

macro_rules! rollup_row {
    ($($h:ident),*) => {
        /// A rollup row; `hNN` count the visits whose overall score fell in bucket NN.
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
            $($h: i64,)*
        }

        impl RollupRow {
            fn new(key: &RollupKey, t: &Tally) -> Self {
                let [$($h),*] = t.histogram.map(count);
                RollupRow {
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
                    $($h,)*
                }
            }

            /// The row's tally.
            fn tally(&self) -> Tally {
                tally_of!(self, $($h),*)
            }
        }

        /// Adds a tally to its row (creating it), extremes aside.
        fn upsert_sums(conn: &mut DbConn, row: &RollupRow) -> QueryResult<usize> {
            on_backend!(conn, |c| diesel::insert_into(rollups::table)
                .values(row)
                .on_conflict((
                    rollups::org_id,
                    rollups::period,
                    rollups::location_id,
                    rollups::questionnaire_key,
                ))
                .do_update()
                .set((
                    rollups::visits.eq(rollups::visits + excluded(rollups::visits)),
                    rollups::scored_visits
                        .eq(rollups::scored_visits + excluded(rollups::scored_visits)),
                    rollups::score_sum.eq(rollups::score_sum + excluded(rollups::score_sum)),
                    rollups::score_sum_sq
                        .eq(rollups::score_sum_sq + excluded(rollups::score_sum_sq)),
                    rollups::zero_mile.eq(rollups::zero_mile + excluded(rollups::zero_mile)),
                    rollups::first_mile.eq(rollups::first_mile + excluded(rollups::first_mile)),
                    rollups::second_mile
                        .eq(rollups::second_mile + excluded(rollups::second_mile)),
                    rollups::critical_failures
                        .eq(rollups::critical_failures + excluded(rollups::critical_failures)),
                    $(rollups::$h.eq(rollups::$h + excluded(rollups::$h)),)*
                ))
                .execute(c))
        }

        /// Takes a tally out of its row, extremes aside.
        fn subtract_sums(conn: &mut DbConn, key: &RollupKey, t: &Tally) -> QueryResult<usize> {
            let [$($h),*] = t.histogram.map(count);
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
                    $(rollups::$h.eq(rollups::$h - $h),)*
                ))
                .execute(conn)
        }
    };
}

histogram_columns!(rollup_row);

/// Sums of a column across rows, as a 64-bit integer on both backends (PostgreSQL's `SUM` of
/// a `BIGINT` is a `NUMERIC`).
macro_rules! summed {
    ($column:ident) => {
        diesel::dsl::sql::<diesel::sql_types::BigInt>(concat!(
            "CAST(COALESCE(SUM(",
            stringify!($column),
            "), 0) AS BIGINT)"
        ))
    };
}

macro_rules! period_sums {
    ($($h:ident),*) => {
        /// A period's rows added up by the database.
        #[derive(Queryable)]
        struct PeriodSums {
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
            $($h: i64,)*
        }

        impl PeriodSums {
            fn tally(&self) -> Tally {
                tally_of!(self, $($h),*)
            }
        }

        /// The rows of `scope` whose period is one of `periods`, added up per period by the
        /// database: one row per period comes back, however many locations there are.
        fn sums_per_period(
            conn: &mut DbConn,
            scope: &Scope,
            periods: &[String],
        ) -> QueryResult<Vec<PeriodSums>> {
            use diesel::dsl::sql;
            use diesel::sql_types::{Double, Nullable};
            if periods.is_empty() {
                return Ok(Vec::new());
            }
            let mut q = rollups::table
                .filter(rollups::org_id.eq(scope.org))
                .filter(rollups::period.eq_any(periods.to_vec()))
                .group_by(rollups::period)
                .select((
                    rollups::period,
                    summed!(visits),
                    summed!(scored_visits),
                    sql::<Double>("COALESCE(SUM(score_sum), 0)"),
                    sql::<Double>("COALESCE(SUM(score_sum_sq), 0)"),
                    sql::<Nullable<Double>>("MIN(score_min)"),
                    sql::<Nullable<Double>>("MAX(score_max)"),
                    summed!(zero_mile),
                    summed!(first_mile),
                    summed!(second_mile),
                    summed!(critical_failures),
                    $(summed!($h),)*
                ))
                .into_boxed();
            if let Some(key) = &scope.questionnaire_key {
                q = q.filter(rollups::questionnaire_key.eq(key.clone()));
            }
            if let Some(locations) = &scope.locations {
                q = q.filter(rollups::location_id.eq_any(locations.clone()));
            }
            q.load(conn)
        }
    };
}

histogram_columns!(period_sums);

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = rollup_sections)]
// Every column is given: SQLite then writes many rows in one statement.
#[diesel(treat_none_as_default_value = false)]
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
// Every column is given: SQLite then writes many rows in one statement.
#[diesel(treat_none_as_default_value = false)]
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
    zero_mile: i64,
    second_mile: i64,
    full_points_zero_mile: i64,
    full_points_second_mile: i64,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored count; a negative one (a corrupt row) reads as 0.
fn uncount(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A section's or question's sums in one rollup period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectionSums {
    pub score_sum: f64,
    pub scored: u64,
}

/// A question's sums over the visits where it counted (`applicable`): how many earned its
/// full points, the points, and how many of those visits (and of those that earned its full
/// points) were zero mile and second mile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuestionSums {
    pub applicable: u64,
    pub full_points: u64,
    pub earned_sum: f64,
    pub possible_sum: f64,
    pub zero_mile: u64,
    pub second_mile: u64,
    pub full_points_zero_mile: u64,
    pub full_points_second_mile: u64,
}

impl QuestionSums {
    /// What one visit where the question counted adds.
    fn of(q: &QuestionShare, tally: &Tally) -> QuestionSums {
        let passed = u64::from(q.full_points);
        QuestionSums {
            applicable: 1,
            full_points: passed,
            earned_sum: q.earned,
            possible_sum: q.possible,
            zero_mile: tally.zero_mile,
            second_mile: tally.second_mile,
            full_points_zero_mile: passed * tally.zero_mile,
            full_points_second_mile: passed * tally.second_mile,
        }
    }

    fn add(&mut self, q: &QuestionSums) {
        self.applicable += q.applicable;
        self.full_points += q.full_points;
        self.earned_sum += q.earned_sum;
        self.possible_sum += q.possible_sum;
        self.zero_mile += q.zero_mile;
        self.second_mile += q.second_mile;
        self.full_points_zero_mile += q.full_points_zero_mile;
        self.full_points_second_mile += q.full_points_second_mile;
    }
}

/// Everything the rollups hold for one period of one location and questionnaire key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollup {
    pub tally: Tally,
    pub sections: BTreeMap<String, SectionSums>,
    pub questions: BTreeMap<String, QuestionSums>,
    /// How many distinct shoppers made the visits: read from the reports (with
    /// [`Parts::shoppers`], for one location over a range), never stored or added up.
    pub shoppers: Option<u64>,
}

impl Rollup {
    /// Adds one released report's contribution.
    pub fn add(&mut self, c: &Contribution) {
        self.tally.merge(&c.tally);
        for (key, score) in &c.sections {
            let s = self.sections.entry(key.clone()).or_default();
            s.score_sum += score;
            s.scored += 1;
        }
        for q in c.questions.iter().filter(|q| q.applicable) {
            self.add_question(&q.key, &QuestionSums::of(q, &c.tally));
        }
    }

    /// Adds another rollup to this one.
    pub fn merge(&mut self, other: &Rollup) {
        self.tally.merge(&other.tally);
        for (key, s) in &other.sections {
            self.add_section(key, s);
        }
        for (key, q) in &other.questions {
            self.add_question(key, q);
        }
    }

    fn add_section(&mut self, key: &str, s: &SectionSums) {
        let t = self.sections.entry(key.to_string()).or_default();
        t.score_sum += s.score_sum;
        t.scored += s.scored;
    }

    fn add_question(&mut self, key: &str, q: &QuestionSums) {
        self.questions.entry(key.to_string()).or_default().add(q);
    }
}

impl SectionRow {
    fn sums(&self) -> SectionSums {
        SectionSums {
            score_sum: self.score_sum,
            scored: uncount(self.scored),
        }
    }
}

impl QuestionRow {
    fn sums(&self) -> QuestionSums {
        QuestionSums {
            applicable: uncount(self.applicable),
            full_points: uncount(self.full_points),
            earned_sum: self.earned_sum,
            possible_sum: self.possible_sum,
            zero_mile: uncount(self.zero_mile),
            second_mile: uncount(self.second_mile),
            full_points_zero_mile: uncount(self.full_points_zero_mile),
            full_points_second_mile: uncount(self.full_points_second_mile),
        }
    }

    /// The row of `sums` in the period of `key`.
    fn new(key: &RollupKey, question: &str, sums: &QuestionSums) -> Self {
        QuestionRow {
            org_id: key.org_id,
            location_id: key.location_id,
            questionnaire_key: key.questionnaire_key.clone(),
            period: key.period.clone(),
            question_key: question.to_string(),
            applicable: count(sums.applicable),
            full_points: count(sums.full_points),
            earned_sum: sums.earned_sum,
            possible_sum: sums.possible_sum,
            zero_mile: count(sums.zero_mile),
            second_mile: count(sums.second_mile),
            full_points_zero_mile: count(sums.full_points_zero_mile),
            full_points_second_mile: count(sums.full_points_second_mile),
        }
    }
}

/// Adds a released report's contribution to its day, week and month rows.
pub fn add(conn: &mut DbConn, c: &Contribution) -> QueryResult<()> {
    // The section and question rows of every period go in one statement each.
    let mut section_rows = Vec::new();
    let mut question_rows = Vec::new();
    for key in &c.keys {
        let t = &c.tally;
        upsert_sums(conn, &RollupRow::new(key, t))?;
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
        for (section, score) in &c.sections {
            section_rows.push(SectionRow {
                org_id: key.org_id,
                location_id: key.location_id,
                questionnaire_key: key.questionnaire_key.clone(),
                period: key.period.clone(),
                section_key: section.clone(),
                score_sum: *score,
                scored: 1,
            });
        }
        for q in c.questions.iter().filter(|q| q.applicable) {
            question_rows.push(QuestionRow::new(
                key,
                &q.key,
                &QuestionSums::of(q, &c.tally),
            ));
        }
    }
    upsert_sections(conn, &section_rows)?;
    upsert_questions(conn, &question_rows)
}

/// Adds each row's sums to its stored row (or stores it): one statement for them all.
fn upsert_sections(conn: &mut DbConn, rows: &[SectionRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    on_backend!(conn, |c| diesel::insert_into(rollup_sections::table)
        .values(rows)
        .on_conflict((
            rollup_sections::org_id,
            rollup_sections::period,
            rollup_sections::location_id,
            rollup_sections::questionnaire_key,
            rollup_sections::section_key,
        ))
        .do_update()
        .set((
            rollup_sections::score_sum
                .eq(rollup_sections::score_sum + excluded(rollup_sections::score_sum)),
            rollup_sections::scored.eq(rollup_sections::scored + excluded(rollup_sections::scored)),
        ))
        .execute(c))?;
    Ok(())
}

/// Adds each row's sums to its stored row (or stores it): one statement for them all.
fn upsert_questions(conn: &mut DbConn, rows: &[QuestionRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    on_backend!(conn, |c| {
        diesel::insert_into(rollup_questions::table)
            .values(rows)
            .on_conflict((
                rollup_questions::org_id,
                rollup_questions::period,
                rollup_questions::location_id,
                rollup_questions::questionnaire_key,
                rollup_questions::question_key,
            ))
            .do_update()
            .set((
                rollup_questions::applicable
                    .eq(rollup_questions::applicable + excluded(rollup_questions::applicable)),
                rollup_questions::full_points
                    .eq(rollup_questions::full_points + excluded(rollup_questions::full_points)),
                rollup_questions::earned_sum
                    .eq(rollup_questions::earned_sum + excluded(rollup_questions::earned_sum)),
                rollup_questions::possible_sum
                    .eq(rollup_questions::possible_sum + excluded(rollup_questions::possible_sum)),
                rollup_questions::zero_mile
                    .eq(rollup_questions::zero_mile + excluded(rollup_questions::zero_mile)),
                rollup_questions::second_mile
                    .eq(rollup_questions::second_mile + excluded(rollup_questions::second_mile)),
                rollup_questions::full_points_zero_mile.eq(rollup_questions::full_points_zero_mile
                    + excluded(rollup_questions::full_points_zero_mile)),
                rollup_questions::full_points_second_mile
                    .eq(rollup_questions::full_points_second_mile
                        + excluded(rollup_questions::full_points_second_mile)),
            ))
            .execute(c)
    })?;
    Ok(())
}

/// The query of one period's rollup row.
type RowOf = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            diesel::dsl::Filter<rollups::table, diesel::dsl::Eq<rollups::org_id, OrgId>>,
            diesel::dsl::Eq<rollups::period, String>,
        >,
        diesel::dsl::Eq<rollups::location_id, LocationId>,
    >,
    diesel::dsl::Eq<rollups::questionnaire_key, String>,
>;

fn row_of(key: &RollupKey) -> RowOf {
    rollups::table
        .filter(rollups::org_id.eq(key.org_id))
        .filter(rollups::period.eq(key.period.clone()))
        .filter(rollups::location_id.eq(key.location_id))
        .filter(rollups::questionnaire_key.eq(key.questionnaire_key.clone()))
}

/// Takes a report's contribution out of its day, week and month rows (the report is no
/// longer released when this runs), dropping rows that count nothing and recomputing the
/// extremes: the day's from its released reports, the week's and month's from their days
/// (the day row is always handled first).
pub fn remove(conn: &mut DbConn, c: &Contribution) -> QueryResult<()> {
    let t = &c.tally;
    for key in &c.keys {
        subtract_sums(conn, key, t)?;
        diesel::delete(row_of(key).filter(rollups::visits.le(0))).execute(conn)?;
        if t.scored_visits > 0 {
            let (low, high) = if rollup::grain(&key.period) == Grain::Day {
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
                let days: Vec<String> = rollup::dates(&key.period)
                    .map(|(a, b)| {
                        a.iter_days()
                            .take_while(|d| *d <= b)
                            .map(rollup::day)
                            .collect()
                    })
                    .unwrap_or_default();
                rollups::table
                    .filter(rollups::org_id.eq(key.org_id))
                    .filter(rollups::period.eq_any(days))
                    .filter(rollups::location_id.eq(key.location_id))
                    .filter(rollups::questionnaire_key.eq(key.questionnaire_key.clone()))
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
        for (section, score) in &c.sections {
            let target = rollup_sections::table
                .filter(rollup_sections::org_id.eq(key.org_id))
                .filter(rollup_sections::period.eq(key.period.clone()))
                .filter(rollup_sections::location_id.eq(key.location_id))
                .filter(rollup_sections::questionnaire_key.eq(key.questionnaire_key.clone()))
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
                .filter(rollup_questions::period.eq(key.period.clone()))
                .filter(rollup_questions::location_id.eq(key.location_id))
                .filter(rollup_questions::questionnaire_key.eq(key.questionnaire_key.clone()))
                .filter(rollup_questions::question_key.eq(q.key.clone()));
            let sums = QuestionSums::of(q, &c.tally);
            let less = |n: u64| count(n);
            diesel::update(target.clone())
                .set((
                    rollup_questions::applicable.eq(rollup_questions::applicable - 1),
                    rollup_questions::full_points
                        .eq(rollup_questions::full_points - less(sums.full_points)),
                    rollup_questions::earned_sum.eq(rollup_questions::earned_sum - q.earned),
                    rollup_questions::possible_sum.eq(rollup_questions::possible_sum - q.possible),
                    rollup_questions::zero_mile
                        .eq(rollup_questions::zero_mile - less(sums.zero_mile)),
                    rollup_questions::second_mile
                        .eq(rollup_questions::second_mile - less(sums.second_mile)),
                    rollup_questions::full_points_zero_mile
                        .eq(rollup_questions::full_points_zero_mile
                            - less(sums.full_points_zero_mile)),
                    rollup_questions::full_points_second_mile
                        .eq(rollup_questions::full_points_second_mile
                            - less(sums.full_points_second_mile)),
                ))
                .execute(conn)?;
            diesel::delete(target.filter(rollup_questions::applicable.le(0))).execute(conn)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- reading a range

/// Whose rollups to add up: one organization's, of some locations (all when `None`) and one
/// questionnaire key (all when `None`).
#[derive(Debug, Clone)]
pub struct Scope {
    pub org: OrgId,
    pub locations: Option<Vec<LocationId>>,
    pub questionnaire_key: Option<String>,
}

/// Which parts of the rollups a reader needs besides the tallies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts {
    pub sections: bool,
    pub questions: bool,
    /// Each location's distinct shoppers (from the released reports, not the rollups).
    pub shoppers: bool,
}

/// The rows of `$table` in `scope` whose period is one of `periods`: one query, an index
/// range per period.
macro_rules! rows_of {
    ($conn:expr, $table:ident, $row:ty, $scope:expr, $periods:expr) => {{
        let scope: &Scope = $scope;
        let periods: &[String] = $periods;
        let mut q = $table::table
            .filter($table::org_id.eq(scope.org))
            .filter($table::period.eq_any(periods.to_vec()))
            .select(<$row>::as_select())
            .into_boxed();
        if let Some(key) = &scope.questionnaire_key {
            q = q.filter($table::questionnaire_key.eq(key.clone()));
        }
        if let Some(locations) = &scope.locations {
            q = q.filter($table::location_id.eq_any(locations.clone()));
        }
        let rows: Vec<$row> = if periods.is_empty() {
            Vec::new()
        } else {
            q.load($conn)?
        };
        rows
    }};
}

/// The rollups of `scope` over the local dates `from..=to`, added up per location (with
/// the `parts` asked for).
pub fn per_location(
    conn: &mut DbConn,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    parts: Parts,
) -> QueryResult<BTreeMap<LocationId, Rollup>> {
    let periods = rollup::plan(from, to);
    let mut out: BTreeMap<LocationId, Rollup> = BTreeMap::new();
    for row in rows_of!(conn, rollups, RollupRow, scope, &periods) {
        out.entry(row.location_id)
            .or_default()
            .tally
            .merge(&row.tally());
    }
    if parts.sections {
        for row in rows_of!(conn, rollup_sections, SectionRow, scope, &periods) {
            out.entry(row.location_id)
                .or_default()
                .add_section(&row.section_key, &row.sums());
        }
    }
    if parts.questions {
        for row in rows_of!(conn, rollup_questions, QuestionRow, scope, &periods) {
            out.entry(row.location_id)
                .or_default()
                .add_question(&row.question_key, &row.sums());
        }
    }
    if parts.shoppers {
        for (location, n) in shoppers_per_location(conn, scope, from, to)? {
            out.entry(location).or_default().shoppers = Some(uncount(n));
        }
    }
    Ok(out)
}

/// The tallies of `scope` over consecutive date ranges (a trend's buckets), one per range,
/// read in one query.
pub fn per_range(
    conn: &mut DbConn,
    scope: &Scope,
    ranges: &[(NaiveDate, NaiveDate)],
) -> QueryResult<Vec<Tally>> {
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, (from, to)) in ranges.iter().enumerate() {
        for period in rollup::plan(*from, *to) {
            owner.insert(period, i);
        }
    }
    let periods: Vec<String> = owner.keys().cloned().collect();
    let mut out = vec![Tally::default(); ranges.len()];
    for row in sums_per_period(conn, scope, &periods)? {
        if let Some(slot) = owner.get(&row.period).and_then(|i| out.get_mut(*i)) {
            slot.merge(&row.tally());
        }
    }
    Ok(out)
}

/// The latest local date within `from..=to` that a released visit of `location` (of one
/// questionnaire key when given) falls on: one step down `reports_location_day_idx`.
pub fn last_visit_date(
    conn: &mut DbConn,
    org: OrgId,
    location: LocationId,
    questionnaire_key: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Option<NaiveDate>> {
    let mut q = reports::table
        .filter(reports::org_id.eq(org))
        .filter(reports::location_id.eq(location))
        .filter(reports::visit_local_date.ge(rollup::day(from)))
        .filter(reports::visit_local_date.le(rollup::day(to)))
        .filter(reports::status.eq(ReportStatus::Approved))
        .select(reports::visit_local_date)
        .order(reports::visit_local_date.desc())
        .limit(1)
        .into_boxed();
    if let Some(key) = questionnaire_key {
        q = q.filter(reports::questionnaire_key.eq(key.to_string()));
    }
    let latest: Option<String> = q.first(conn).optional()?;
    Ok(latest.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()))
}
