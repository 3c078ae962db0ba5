//! `secondmile rollups verify|rebuild`: the rollups checked against, or rebuilt from, a
//! recomputation over every released report.

use std::collections::BTreeMap;

use crate::aggregates::rollup::{self, RollupKey, contribution};
use crate::db::aggregates::{self as store, Rollup};
use crate::db::{self, Db, DbConn, DbError, QueryResult, locations, reports};
use crate::ids::{LocationId, OrgId, ReportId};

/// Sums of floating-point scores may differ in their last bits after many additions and
/// removals; anything beyond this is a real difference.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn same_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (a, b) => a.is_none() && b.is_none(),
    }
}

fn describe(key: &RollupKey) -> String {
    format!(
        "org {} location {} questionnaire {} period {}",
        key.org_id, key.location_id, key.questionnaire_key, key.period
    )
}

/// Every way `stored` differs from `expected`, one line each.
pub fn differences(
    expected: &BTreeMap<RollupKey, Rollup>,
    stored: &BTreeMap<RollupKey, Rollup>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (key, want) in expected {
        let Some(have) = stored.get(key) else {
            found.push(format!(
                "{}: missing (expected {} visits)",
                describe(key),
                want.tally.visits
            ));
            continue;
        };
        let (w, h) = (&want.tally, &have.tally);
        let counts = [
            ("visits", w.visits, h.visits),
            ("scored_visits", w.scored_visits, h.scored_visits),
            ("zero_mile", w.zero_mile, h.zero_mile),
            ("first_mile", w.first_mile, h.first_mile),
            ("second_mile", w.second_mile, h.second_mile),
            (
                "critical_failures",
                w.critical_failures,
                h.critical_failures,
            ),
        ];
        for (name, w, h) in counts {
            if w != h {
                found.push(format!("{}: {name} is {h}, expected {w}", describe(key)));
            }
        }
        if !same(w.score_sum, h.score_sum) || !same(w.score_sum_sq, h.score_sum_sq) {
            found.push(format!(
                "{}: score sums are {} / {}, expected {} / {}",
                describe(key),
                h.score_sum,
                h.score_sum_sq,
                w.score_sum,
                w.score_sum_sq
            ));
        }
        if !same_opt(w.score_min, h.score_min) || !same_opt(w.score_max, h.score_max) {
            found.push(format!(
                "{}: extremes are {:?}..{:?}, expected {:?}..{:?}",
                describe(key),
                h.score_min,
                h.score_max,
                w.score_min,
                w.score_max
            ));
        }
        if w.histogram != h.histogram {
            found.push(format!(
                "{}: histogram is {:?}, expected {:?}",
                describe(key),
                h.histogram,
                w.histogram
            ));
        }
        let sections_match = want.sections.len() == have.sections.len()
            && want.sections.iter().all(|(k, s)| {
                have.sections
                    .get(k)
                    .is_some_and(|h| h.scored == s.scored && same(h.score_sum, s.score_sum))
            });
        if !sections_match {
            found.push(format!("{}: section sums differ", describe(key)));
        }
        let questions_match = want.questions.len() == have.questions.len()
            && want.questions.iter().all(|(k, q)| {
                have.questions.get(k).is_some_and(|h| {
                    h.applicable == q.applicable
                        && h.full_points == q.full_points
                        && (h.zero_mile, h.second_mile) == (q.zero_mile, q.second_mile)
                        && (h.full_points_zero_mile, h.full_points_second_mile)
                            == (q.full_points_zero_mile, q.full_points_second_mile)
                        && same(h.earned_sum, q.earned_sum)
                        && same(h.possible_sum, q.possible_sum)
                })
            });
        if !questions_match {
            found.push(format!("{}: question sums differ", describe(key)));
        }
    }
    for (key, have) in stored {
        if !expected.contains_key(key) {
            found.push(format!(
                "{}: present ({} visits) but no released report counts there",
                describe(key),
                have.tally.visits
            ));
        }
    }
    found
}

/// How a long pass over the reports tells its progress: a bar on a terminal, a plain line
/// every 10,000 reports otherwise, or nothing.
pub enum Progress {
    Bar(indicatif::ProgressBar),
    Lines { every: u64, next: u64 },
    Silent,
}

impl Progress {
    /// A bar when standard error is a terminal, plain lines otherwise.
    pub fn for_stderr(total: u64) -> Self {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} released reports")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                every: 10_000,
                next: 10_000,
            }
        }
    }

    fn report(&mut self, read: u64) {
        match self {
            Progress::Bar(bar) => bar.set_position(read),
            Progress::Lines { every, next } => {
                if read >= *next {
                    eprintln!("read {read} released reports");
                    *next = read + *every;
                }
            }
            Progress::Silent => {}
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Released reports read per query while recomputing a location.
const PAGE: i64 = 1_000;
/// Locations read per query while walking them.
const LOCATIONS_PAGE: i64 = 500;
/// A rebuild commits after the location that brings its transaction past this many reports
/// (and after at most [`LOCATIONS_PAGE`] locations).
const REPORTS_PER_COMMIT: u64 = 5_000;

/// One location's rollups recomputed from its released reports (streamed in pages, so only
/// that location's rollups are held); with how many reports were read.
fn recompute_location(
    conn: &mut DbConn,
    org: OrgId,
    location: LocationId,
) -> QueryResult<(BTreeMap<RollupKey, Rollup>, u64)> {
    let mut expected: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
    let mut read = 0u64;
    let mut after: Option<(String, ReportId)> = None;
    loop {
        let page = reports::released_at_location(
            conn,
            org,
            location,
            after.as_ref().map(|(date, id)| (date.as_str(), *id)),
            PAGE,
        )?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some((rollup::day(last.visit_local_date), last.id));
        read += page.len() as u64;
        for report in &page {
            let c = contribution(report);
            for key in &c.keys {
                expected.entry(key.clone()).or_default().add(&c);
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    Ok((expected, read))
}

/// How many released reports there are, for the progress bar's length.
pub fn released(db: &Db) -> Result<u64, DbError> {
    let mut conn = db.get()?;
    Ok(store::released_count(&mut conn)?.max(0) as u64)
}

/// The differences between the rollups and a recomputation from the released reports,
/// location by location (memory stays that of one location's rollups).
pub fn verify(db: &Db, progress: &mut Progress) -> Result<Vec<String>, DbError> {
    let mut conn = db.get()?;
    let mut found = Vec::new();
    let mut read = 0u64;
    let mut after = None;
    loop {
        let ids = locations::all_ids_page(&mut conn, after, LOCATIONS_PAGE)?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        for (org, location) in ids {
            let (expected, n) = recompute_location(&mut conn, org, location)?;
            let stored = store::read(&mut conn, Some((org, location)))?;
            found.extend(differences(&expected, &stored));
            read += n;
            progress.report(read);
        }
        after = Some(last);
    }
    progress.finish();
    Ok(found)
}

/// A rebuild under way: where it stands. Each [`Rebuild::step`] rebuilds the next locations
/// in one transaction, so a rebuild can be spread over many (and interrupted: every
/// location it reached is right, and running it again from the start is safe).
#[derive(Debug, Default)]
pub struct Rebuild {
    after: Option<(OrgId, LocationId)>,
    /// Rollup periods written so far.
    pub periods: usize,
    /// Released reports read so far.
    pub read: u64,
    /// Transactions done, and the one after which the planner's statistics are refreshed
    /// next (the 1st, 2nd, 4th, 8th...): the rollup tables grow from empty, and a plan made
    /// for an empty table (PostgreSQL keeps one per prepared statement) would scan the whole
    /// table for every location.
    steps: u64,
    analyze_at: u64,
}

impl Rebuild {
    /// Rebuilds the next locations (delete their rows, recompute, insert them in multi-row
    /// statements) in one transaction. False when every location is done, after refreshing
    /// the planner's statistics of the rollup tables.
    pub fn step(&mut self, conn: &mut DbConn) -> QueryResult<bool> {
        let ids = locations::all_ids_page(conn, self.after, LOCATIONS_PAGE)?;
        if ids.is_empty() {
            store::analyze(conn)?;
            return Ok(false);
        }
        let (done, periods, read) = db::write_transaction(conn, |conn| {
            store::lock_for_rebuild(conn)?;
            let (mut done, mut periods, mut read) = (0usize, 0usize, 0u64);
            for (org, location) in &ids {
                let (rollups, n) = recompute_location(conn, *org, *location)?;
                periods += store::replace_location(conn, *org, *location, &rollups)?;
                read += n;
                done += 1;
                if read >= REPORTS_PER_COMMIT {
                    break;
                }
            }
            Ok::<_, db::QueryError>((done, periods, read))
        })?;
        self.after = ids.get(done.saturating_sub(1)).copied();
        self.periods += periods;
        self.read += read;
        self.steps += 1;
        if self.steps >= self.analyze_at {
            store::analyze(conn)?;
            self.analyze_at = self.steps * 2;
        }
        Ok(true)
    }
}

/// Rebuilds every rollup from the released reports, a few thousand reports per transaction;
/// returns how many rollup periods there are now.
pub fn rebuild(db: &Db, progress: &mut Progress) -> Result<usize, DbError> {
    let mut conn = db.get()?;
    let mut rebuild = Rebuild::default();
    while rebuild.step(&mut conn)? {
        progress.report(rebuild.read);
    }
    progress.finish();
    Ok(rebuild.periods)
}
