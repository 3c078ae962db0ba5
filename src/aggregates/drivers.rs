//! What to train: for each question of one questionnaire, how often visits pass it (earn its
//! full points, so a question whose expected answer is "no" passes on "no"), and how much
//! passing or failing it goes with the zero and the second mile. Read from the per-question
//! rollups, never from the reports.
//!
//! - Zero mile: the zero-mile rate of the visits that failed the question minus that of the
//!   visits that passed it, with Newcombe's hybrid score interval, and the share of the
//!   zero-mile visits (where it counted) that failed it, with Wilson's interval.
//! - Second mile: the second-mile rate of the visits that passed it minus that of the visits
//!   that failed it, with the same interval.
//!
//! These are associations over released visits, not proof that one behaviour causes the
//! mile: a question failed in most zero-mile visits is where training is likely to pay.

use super::compare::{Difference, newcombe};
use super::figures::{Proportion, proportion};
use super::service::{AggregateError, Coverage, Range, covered_over};
use crate::db::aggregates::{Parts, QuestionSums};
use crate::db::{Db, questionnaires};
use crate::ids::{LocationId, OrgId};
use crate::locations::model::LocationBrief;

/// A difference of rates with its interval and whether it leaves out zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lift {
    pub difference: Difference,
    pub significant: bool,
}

fn lift(difference: Option<Difference>) -> Option<Lift> {
    difference.map(|difference| Lift {
        significant: difference.significant(),
        difference,
    })
}

/// One question's record over the visits where it counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    pub key: String,
    pub text: String,
    pub visits: u64,
    pub pass_rate: Proportion,
    /// How much more often visits that failed it were zero mile; `None` when every visit
    /// passed it or every visit failed it.
    pub zero_mile: Option<Lift>,
    /// Of the zero-mile visits where it counted, the share that failed it.
    pub share_of_zero_mile: Proportion,
    /// How much more often visits that passed it were second mile.
    pub second_mile: Option<Lift>,
    /// The pass rate at the location's peers (in location mode).
    pub peer_pass_rate: Option<Proportion>,
}

impl Driver {
    pub fn of(key: String, text: String, q: &QuestionSums) -> Driver {
        let passed = q.full_points.min(q.applicable);
        let failed = q.applicable - passed;
        let zero_passed = q.full_points_zero_mile.min(passed);
        let zero_failed = q.zero_mile.saturating_sub(zero_passed).min(failed);
        let second_passed = q.full_points_second_mile.min(passed);
        let second_failed = q.second_mile.saturating_sub(second_passed).min(failed);
        Driver {
            key,
            text,
            visits: q.applicable,
            pass_rate: proportion(passed, q.applicable),
            zero_mile: lift(newcombe(zero_failed, failed, zero_passed, passed)),
            share_of_zero_mile: proportion(zero_failed, q.zero_mile),
            second_mile: lift(newcombe(second_passed, passed, second_failed, failed)),
            peer_pass_rate: None,
        }
    }
}

/// Orders drivers by a lift: the significant ones first, largest first, then the others,
/// then those without one; ties by key.
pub fn ranked(mut drivers: Vec<Driver>, lift: impl Fn(&Driver) -> Option<Lift>) -> Vec<Driver> {
    let place = |d: &Driver| match lift(d) {
        Some(l) if l.significant && l.difference.value > 0.0 => (0, -l.difference.value),
        Some(l) => (1, -l.difference.value),
        None => (2, 0.0),
    };
    drivers.sort_by(|a, b| {
        let (ta, va) = place(a);
        let (tb, vb) = place(b);
        ta.cmp(&tb)
            .then(va.total_cmp(&vb))
            .then_with(|| a.key.cmp(&b.key))
    });
    drivers
}

/// Whose visits the drivers are read from.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub coverage: Coverage,
    /// One location (with its peers: the other covered locations of its region, or of the
    /// organization when it has none); `None` for all covered locations.
    pub location: Option<LocationId>,
    /// Compare with the peers (not for managers, who see their own locations only).
    pub with_peers: bool,
}

/// The drivers of one questionnaire key.
pub struct Drivers {
    pub range: Range,
    pub visits: u64,
    pub zero_mile_visits: u64,
    pub second_mile_visits: u64,
    /// Questions that counted in at least the minimum of visits.
    pub questions: Vec<Driver>,
    /// Questions that counted in fewer: key, text and visits.
    pub too_few: Vec<(String, String, u64)>,
    /// In location mode, the location.
    pub location: Option<LocationBrief>,
    /// In location mode, the peers' region (`None`: the organization) and how many.
    pub peers: Option<(Option<String>, u64)>,
}

/// Reads the drivers of `range.questionnaire_key` (required by the caller).
pub async fn drivers(
    db: &Db,
    org: OrgId,
    subject: Subject,
    range: Range,
    min_visits: u64,
    languages: Vec<String>,
) -> Result<Drivers, AggregateError> {
    let key = range.questionnaire_key.clone();
    let (from, to) = (range.from, range.to);
    let location = subject.location;
    let parts = Parts {
        sections: false,
        questions: true,
        shoppers: false,
    };
    let (locations, mut rollups, wording) = db
        .run(move |conn| {
            let (locations, rollups) = covered_over(
                conn,
                org,
                subject.coverage,
                key.clone(),
                &[(from, to)],
                parts,
            )?;
            let wording = questionnaires::wording_of(conn, org, key.as_deref(), &languages)?;
            Ok::<_, AggregateError>((locations, rollups, wording))
        })
        .await?;
    let rollups = rollups.pop().unwrap_or_default();
    let brief = match location {
        Some(id) => Some(
            locations
                .iter()
                .find(|l| l.id == id)
                .cloned()
                .ok_or(AggregateError::NotFound)?,
        ),
        None => None,
    };
    let (own, peers) = match &brief {
        None => (None, None),
        Some(me) => {
            let (id, region) = (me.id, me.region.clone());
            // A set: every rollup row is looked up in it.
            let peers: std::collections::HashSet<LocationId> = locations
                .iter()
                .filter(|l| l.id != id && (region.is_none() || l.region == region))
                .map(|l| l.id)
                .collect();
            (Some(id), subject.with_peers.then_some((region, peers)))
        }
    };
    let mut mine = crate::db::aggregates::Rollup::default();
    let mut theirs = crate::db::aggregates::Rollup::default();
    for (id, rollup) in &rollups {
        if own.is_none_or(|o| o == *id) {
            mine.merge(rollup);
        } else if peers.as_ref().is_some_and(|(_, p)| p.contains(id)) {
            theirs.merge(rollup);
        }
    }
    let text = |k: &str| {
        wording
            .questions
            .get(k)
            .cloned()
            .unwrap_or_else(|| k.to_string())
    };
    let mut questions = Vec::new();
    let mut too_few = Vec::new();
    for (k, sums) in &mine.questions {
        if sums.applicable < min_visits {
            too_few.push((k.clone(), text(k), sums.applicable));
            continue;
        }
        let mut driver = Driver::of(k.clone(), text(k), sums);
        if peers.is_some() {
            let peer = theirs.questions.get(k).cloned().unwrap_or_default();
            driver.peer_pass_rate = Some(proportion(peer.full_points, peer.applicable));
        }
        questions.push(driver);
    }
    let tally = &mine.tally;
    Ok(Drivers {
        range,
        visits: tally.visits,
        zero_mile_visits: tally.zero_mile,
        second_mile_visits: tally.second_mile,
        questions,
        too_few,
        location: brief,
        peers: peers.map(|(region, ids)| (region, ids.len() as u64)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(applicable: u64, passed: u64, zero: (u64, u64), second: (u64, u64)) -> QuestionSums {
        // zero = (zero-mile visits, of which passed), second likewise.
        QuestionSums {
            applicable,
            full_points: passed,
            earned_sum: passed as f64,
            possible_sum: applicable as f64,
            zero_mile: zero.0,
            full_points_zero_mile: zero.1,
            second_mile: second.0,
            full_points_second_mile: second.1,
        }
    }

    /// 100 visits: 70 passed (2 zero mile, 28 second mile), 30 failed (12 zero mile, 3
    /// second mile). Zero mile: 12/30 − 2/70 = 0.3714, Newcombe 95 % interval
    /// (0.2022834, 0.5494328) per statsmodels 0.15 `confint_proportions_2indep(12, 30, 2,
    /// 70, method="newcomb")`. Second mile: 28/70 − 3/30 = 0.3, interval (0.1108503,
    /// 0.4340921). Written here, not computed at test time.
    #[test]
    fn a_question_failed_in_zero_mile_visits_drives_the_zero_mile() {
        let d = Driver::of(
            "greeted".into(),
            "Greeted?".into(),
            &sums(100, 70, (14, 2), (31, 28)),
        );
        assert_eq!(d.pass_rate.rate, Some(0.7));
        let zero = d.zero_mile.unwrap();
        assert!(
            (zero.difference.value - 0.371_428_571).abs() < 1e-6,
            "{zero:?}"
        );
        assert!(
            (zero.difference.ci95.0 - 0.202_283_383).abs() < 1e-6,
            "{zero:?}"
        );
        assert!(
            (zero.difference.ci95.1 - 0.549_432_757).abs() < 1e-6,
            "{zero:?}"
        );
        assert!(zero.significant);
        assert_eq!(d.share_of_zero_mile.count, 12);
        assert_eq!(d.share_of_zero_mile.rate, Some(0.8571));
        let second = d.second_mile.unwrap();
        assert!((second.difference.value - 0.3).abs() < 1e-9);
        assert!(
            (second.difference.ci95.0 - 0.110_850_250).abs() < 1e-6,
            "{second:?}"
        );
        assert!(
            (second.difference.ci95.1 - 0.434_092_113).abs() < 1e-6,
            "{second:?}"
        );
    }

    #[test]
    fn a_question_everyone_passes_separates_nothing() {
        let d = Driver::of("q".into(), "q".into(), &sums(40, 40, (3, 3), (10, 10)));
        assert_eq!(d.zero_mile, None);
        assert_eq!(d.second_mile, None);
        assert_eq!(d.share_of_zero_mile.count, 0);
        assert_eq!(d.pass_rate.rate, Some(1.0));
    }

    #[test]
    fn drivers_rank_the_significant_first_then_by_size() {
        let strong = Driver::of("b".into(), "b".into(), &sums(100, 70, (14, 2), (31, 28)));
        let weak = Driver::of("a".into(), "a".into(), &sums(100, 50, (6, 2), (20, 12)));
        let flat = Driver::of("c".into(), "c".into(), &sums(100, 100, (5, 5), (20, 20)));
        let order: Vec<String> = ranked(vec![flat, weak, strong], |d| d.zero_mile)
            .into_iter()
            .map(|d| d.key)
            .collect();
        assert_eq!(order, ["b", "a", "c"]);
    }
}
