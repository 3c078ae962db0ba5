//! `secondmile rollups verify|rebuild`: the rollups checked against, or rebuilt from, a
//! recomputation over every released report.

use std::collections::BTreeMap;

use crate::aggregates::rollup::{RollupKey, contribution};
use crate::db::aggregates::{self as store, Rollup};
use crate::db::{self, Db, DbConn, DbError, QueryResult, reports};

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

/// The rollups recomputed from every released report, read in pages; `progress` is told
/// how many reports have been read so far after each page.
fn recompute(
    conn: &mut DbConn,
    progress: &mut dyn FnMut(u64),
) -> QueryResult<BTreeMap<RollupKey, Rollup>> {
    let mut read = 0u64;
    let mut expected: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
    let mut after = None;
    loop {
        let ids = store::released_page(conn, after, 500)?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        read += ids.len() as u64;
        for (org, id) in ids {
            if let Some(report) = reports::find(conn, org, id)? {
                let c = contribution(&report);
                for key in &c.keys {
                    expected.entry(key.clone()).or_default().add(&c);
                }
            }
        }
        after = Some(last);
        progress(read);
    }
    Ok(expected)
}

/// How many released reports there are, for the progress bar's length.
pub fn released(db: &Db) -> Result<u64, DbError> {
    let mut conn = db.get()?;
    Ok(store::released_count(&mut conn)?.max(0) as u64)
}

/// The differences between the rollups and a recomputation from the released reports.
pub fn verify(db: &Db, progress: &mut Progress) -> Result<Vec<String>, DbError> {
    let mut conn = db.get()?;
    let expected = recompute(&mut conn, &mut |read| progress.report(read))?;
    progress.finish();
    let stored = store::read_all(&mut conn)?;
    Ok(differences(&expected, &stored))
}

/// Rebuilds every rollup from the released reports in one transaction; returns how many
/// rollup periods there are now.
pub fn rebuild(db: &Db, progress: &mut Progress) -> Result<usize, DbError> {
    let mut conn = db.get()?;
    let rows = db::write_transaction(&mut conn, |conn| {
        let expected = recompute(conn, &mut |read| progress.report(read))?;
        store::replace_all(conn, &expected)?;
        Ok::<_, db::QueryError>(expected.len())
    })?;
    progress.finish();
    Ok(rows)
}
