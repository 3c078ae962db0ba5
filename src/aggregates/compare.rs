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

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::stats::wilson;

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
}
