//! Whether a change between two periods is real: the 95 % interval of a difference, and
//! whether it leaves out zero. Pure: no I/O.
//!
//! - A difference of mean scores has Welch's interval (unequal variances, the
//!   Welch–Satterthwaite degrees of freedom): B. L. Welch, "The generalization of 'Student's'
//!   problem when several different population variances are involved", Biometrika 34 (1947).
//! - A difference of rates has Newcombe's hybrid score interval (his method 10), built from
//!   the Wilson interval of each rate: R. G. Newcombe, "Interval estimation for the difference
//!   between independent proportions: comparison of eleven methods", Statistics in Medicine
//!   17 (1998). It stays inside [−1, 1] and behaves at 0 and n.
//!
//! Differences are the later period minus the earlier one: positive is a rise.

use chrono::{Datelike, Days, Months, NaiveDate};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::stats::{self, Tally, VerdictRule, wilson};

/// A difference with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    pub value: f64,
    pub ci95: (f64, f64),
}

impl Difference {
    /// The interval leaves out zero: a change unlikely to be chance (at the 5 % level).
    pub fn significant(&self) -> bool {
        self.ci95.0 > 0.0 || self.ci95.1 < 0.0
    }
}

/// The mean, sample standard deviation and size of one period's scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub n: u64,
    pub mean: f64,
    pub sd: f64,
}

/// Welch's 95 % interval of `later.mean − earlier.mean`; `None` with fewer than two values
/// in either period.
pub fn welch(later: Sample, earlier: Sample) -> Option<Difference> {
    if later.n < 2 || earlier.n < 2 {
        return None;
    }
    let value = later.mean - earlier.mean;
    let v1 = later.sd * later.sd / later.n as f64;
    let v2 = earlier.sd * earlier.sd / earlier.n as f64;
    let se = (v1 + v2).sqrt();
    if se == 0.0 {
        // Every score of each period is the same: the difference is exact.
        return Some(Difference {
            value,
            ci95: (value, value),
        });
    }
    let df =
        (v1 + v2).powi(2) / (v1 * v1 / (later.n - 1) as f64 + v2 * v2 / (earlier.n - 1) as f64);
    let t = StudentsT::new(0.0, 1.0, df)
        .ok()
        .map(|t| t.inverse_cdf(0.975))
        .filter(|q| q.is_finite())?;
    Some(Difference {
        value,
        ci95: (value - t * se, value + t * se),
    })
}

/// Newcombe's hybrid score 95 % interval of `later_count / later_n − earlier_count /
/// earlier_n`; `None` when either period has no visit.
pub fn newcombe(
    later_count: u64,
    later_n: u64,
    earlier_count: u64,
    earlier_n: u64,
) -> Option<Difference> {
    let (l1, u1) = wilson(later_count, later_n)?;
    let (l2, u2) = wilson(earlier_count, earlier_n)?;
    let p1 = later_count as f64 / later_n as f64;
    let p2 = earlier_count as f64 / earlier_n as f64;
    let value = p1 - p2;
    let below = ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let above = ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some(Difference {
        value,
        ci95: ((value - below).max(-1.0), (value + above).min(1.0)),
    })
}

/// The change of one measure between two periods: its difference with the interval, and
/// whether the change is unlikely to be chance. Never significant on a low sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub difference: Difference,
    pub significant: bool,
}

/// How a location (or a region, or the organization) moved between an earlier period and a
/// later one. A measure is `None` when either period lacks what it needs (two scored visits
/// for the mean, one visit for a rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Changes {
    pub mean_score: Option<Change>,
    pub zero_mile_rate: Option<Change>,
    pub second_mile_rate: Option<Change>,
    pub critical_failure_rate: Option<Change>,
    /// Either period has fewer visits than the verdict's minimum sample: nothing is called
    /// significant.
    pub low_sample: bool,
}

impl Changes {
    pub fn between(later: &Tally, earlier: &Tally, rule: &VerdictRule) -> Changes {
        let low_sample = rule.low_sample(later.visits) || rule.low_sample(earlier.visits);
        let judged = |difference: Difference| Change {
            significant: !low_sample && difference.significant(),
            difference,
        };
        let sample = |t: &Tally| {
            Some(Sample {
                n: t.scored_visits,
                mean: stats::mean(t.score_sum, t.scored_visits)?,
                sd: stats::sample_sd(t.scored_visits, t.score_sum, t.score_sum_sq)?,
            })
        };
        let mean_score = sample(later)
            .zip(sample(earlier))
            .and_then(|(l, e)| welch(l, e))
            .map(judged);
        let rate = |count: fn(&Tally) -> u64| {
            newcombe(count(later), later.visits, count(earlier), earlier.visits).map(judged)
        };
        Changes {
            mean_score,
            zero_mile_rate: rate(|t| t.zero_mile),
            second_mile_rate: rate(|t| t.second_mile),
            critical_failure_rate: rate(|t| t.critical_failures),
            low_sample,
        }
    }
}

/// Which earlier period a range is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// The days of the same number just before the range.
    Previous,
    /// The same dates a year earlier (29 February falls back to the 28th).
    YearAgo,
    /// Dates given by the caller.
    Dates { from: NaiveDate, to: NaiveDate },
}

/// The earlier period of `from..=to` (inclusive dates); `None` when it would fall before the
/// calendar's start.
pub fn earlier_range(
    from: NaiveDate,
    to: NaiveDate,
    comparison: Comparison,
) -> Option<(NaiveDate, NaiveDate)> {
    match comparison {
        Comparison::Previous => {
            let days = u64::try_from((to - from).num_days()).ok()? + 1;
            Some((
                from.checked_sub_days(Days::new(days))?,
                from.checked_sub_days(Days::new(1))?,
            ))
        }
        Comparison::YearAgo => {
            let back = |d: NaiveDate| {
                d.checked_sub_months(Months::new(12))
                    .filter(|earlier| earlier.day() == d.day() || d.month() == 2)
            };
            Some((back(from)?, back(to)?))
        }
        Comparison::Dates { from, to } => Some((from, to)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    /// Reference: scipy 1.17, `ttest_ind(later, earlier, equal_var=False)` and its
    /// `confidence_interval(0.95)`, for later = [82, 91.5, 77, 88, 95, 70.5, 84, 79] and
    /// earlier = [68, 74.5, 81, 59, 72, 66.5]: df 11.3017385, interval (4.0430504,
    /// 22.3736163). Written here, not computed at test time.
    #[test]
    fn welch_matches_the_reference_computation() {
        let later = Sample {
            n: 8,
            mean: 83.375,
            sd: 8.021_177_327_193_666,
        };
        let earlier = Sample {
            n: 6,
            mean: 70.166_666_666_666_67,
            sd: 7.514_430_561_703_705,
        };
        let d = welch(later, earlier).unwrap();
        assert!(close(d.value, 13.208_333_333_333_33), "{d:?}");
        assert!(close(d.ci95.0, 4.043_050_358_650_982), "{d:?}");
        assert!(close(d.ci95.1, 22.373_616_308_015_677), "{d:?}");
        assert!(d.significant());
        // The other way round: the same interval, negated.
        let back = welch(earlier, later).unwrap();
        assert!(close(back.ci95.0, -d.ci95.1) && close(back.ci95.1, -d.ci95.0));
        // Too few values, or no spread at all.
        let one = Sample {
            n: 1,
            mean: 90.0,
            sd: 0.0,
        };
        assert_eq!(welch(one, earlier), None);
        let flat = Sample {
            n: 3,
            mean: 80.0,
            sd: 0.0,
        };
        assert_eq!(welch(flat, flat).unwrap().ci95, (0.0, 0.0));
        assert!(!welch(flat, flat).unwrap().significant());
    }

    /// Reference: Newcombe (1998), Table II, method 10, 56/70 − 48/80: 0.0524 to 0.3339;
    /// and statsmodels 0.15 `confint_proportions_2indep(method="newcomb")` for the rest.
    #[test]
    fn newcombe_matches_the_paper_and_the_reference_computation() {
        let cases = [
            (
                (56, 70, 48, 80),
                (0.052_431_472_402_364_98, 0.333_872_654_036_906_14),
            ),
            (
                (9, 10, 3, 10),
                (0.170_522_723_934_502_9, 0.809_017_973_535_488),
            ),
            (
                (0, 10, 0, 20),
                (-0.161_125_158_052_819_4, 0.277_532_799_862_889_26),
            ),
            ((10, 10, 0, 20), (0.679_086_037_141_914_5, 1.0)),
            (
                (5, 56, 0, 29),
                (-0.038_137_147_903_536_936, 0.192_560_013_855_111_65),
            ),
        ];
        for ((x1, n1, x2, n2), (low, high)) in cases {
            let d = newcombe(x1, n1, x2, n2).unwrap();
            assert!(close(d.ci95.0, low), "{x1}/{n1} − {x2}/{n2}: {d:?}");
            assert!(close(d.ci95.1, high), "{x1}/{n1} − {x2}/{n2}: {d:?}");
        }
        assert!(newcombe(56, 70, 48, 80).unwrap().significant());
        assert!(!newcombe(5, 56, 0, 29).unwrap().significant());
        assert_eq!(newcombe(1, 0, 1, 5), None);
    }

    fn tally(scores: &[f64], zero: u64, second: u64, critical: u64) -> Tally {
        let mut t = Tally {
            visits: scores.len() as u64,
            scored_visits: scores.len() as u64,
            zero_mile: zero,
            second_mile: second,
            first_mile: scores.len() as u64 - zero - second,
            critical_failures: critical,
            ..Tally::default()
        };
        for s in scores {
            t.score_sum += s;
            t.score_sum_sq += s * s;
        }
        t
    }

    #[test]
    fn changes_between_two_periods_use_both_intervals_and_spare_low_samples() {
        let later = tally(&[82.0, 91.5, 77.0, 88.0, 95.0, 70.5, 84.0, 79.0], 0, 4, 0);
        let earlier = tally(&[68.0, 74.5, 81.0, 59.0, 72.0, 66.5], 3, 0, 2);
        let rule = VerdictRule::default();
        let c = Changes::between(&later, &earlier, &rule);
        assert!(!c.low_sample);
        let mean = c.mean_score.unwrap();
        // The same interval as the Welch reference above, from sums and sums of squares.
        assert!((mean.difference.ci95.0 - 4.043_050_358_650_982).abs() < 1e-6);
        assert!(mean.significant);
        let zero = c.zero_mile_rate.unwrap();
        assert!((zero.difference.value - (-0.5)).abs() < 1e-12);
        assert_eq!(zero.significant, zero.difference.significant());
        // Four visits in the earlier period: below the minimum sample, never significant.
        let few = tally(&[50.0, 40.0, 45.0, 30.0], 4, 0, 4);
        let c = Changes::between(&later, &few, &rule);
        assert!(c.low_sample);
        assert!(c.mean_score.unwrap().difference.significant());
        assert!(!c.mean_score.unwrap().significant);
        assert!(!c.zero_mile_rate.unwrap().significant);
        // No visit in a period: no rate to compare.
        let none = Tally::default();
        assert_eq!(Changes::between(&later, &none, &rule).zero_mile_rate, None);
    }

    #[test]
    fn the_earlier_range_is_the_same_length_before_or_a_year_ago() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            earlier_range(d("2026-03-01"), d("2026-03-31"), Comparison::Previous),
            Some((d("2026-01-29"), d("2026-02-28")))
        );
        assert_eq!(
            earlier_range(d("2026-12-06"), d("2026-12-06"), Comparison::Previous),
            Some((d("2026-12-05"), d("2026-12-05")))
        );
        assert_eq!(
            earlier_range(d("2026-10-01"), d("2026-12-31"), Comparison::YearAgo),
            Some((d("2025-10-01"), d("2025-12-31")))
        );
        assert_eq!(
            earlier_range(d("2028-02-01"), d("2028-02-29"), Comparison::YearAgo),
            Some((d("2027-02-01"), d("2027-02-28")))
        );
        let given = Comparison::Dates {
            from: d("2025-01-01"),
            to: d("2025-06-30"),
        };
        assert_eq!(
            earlier_range(d("2026-01-01"), d("2026-06-30"), given),
            Some((d("2025-01-01"), d("2025-06-30")))
        );
    }
}
