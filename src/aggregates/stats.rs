//! Statistics of a set of released visits, from mergeable tallies (counts, sums, sums of
//! squares, extremes, a histogram), so that figures over any range are sums of rollup rows.
//! Pure: no I/O.
//!
//! - Mean and sample standard deviation (n − 1) of the overall scores; the 95 % interval of
//!   the mean is Student's t (both need at least two scored visits).
//! - Rates (zero, first and second mile, critical failures) come with the Wilson score 95 %
//!   interval, which stays inside [0, 1] and behaves at 0 and n.
//! - The median is estimated from a histogram of 20 buckets of 5 points each: the bucket that
//!   holds the middle visit, interpolated linearly inside it, then kept within the observed
//!   minimum and maximum.
//! - The verdict answers "which type of organization do you lead?" only when the sample
//!   supports it (see [`VerdictRule`]).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Number of histogram buckets over 0..=100 (5 points each; 100 falls in the last).
pub const BUCKETS: usize = 20;

/// The two-sided 95 % normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// What a set of visits adds up to; merging two tallies is adding them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tally {
    pub visits: u64,
    pub scored_visits: u64,
    pub score_sum: f64,
    pub score_sum_sq: f64,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    pub zero_mile: u64,
    pub first_mile: u64,
    pub second_mile: u64,
    pub critical_failures: u64,
    pub histogram: [u64; BUCKETS],
}

impl Tally {
    /// Adds `other` to this tally.
    pub fn merge(&mut self, other: &Tally) {
        self.visits += other.visits;
        self.scored_visits += other.scored_visits;
        self.score_sum += other.score_sum;
        self.score_sum_sq += other.score_sum_sq;
        self.score_min = min_of(self.score_min, other.score_min);
        self.score_max = max_of(self.score_max, other.score_max);
        self.zero_mile += other.zero_mile;
        self.first_mile += other.first_mile;
        self.second_mile += other.second_mile;
        self.critical_failures += other.critical_failures;
        for (mine, theirs) in self.histogram.iter_mut().zip(other.histogram) {
            *mine += theirs;
        }
    }
}

fn min_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The histogram bucket of an overall score (percent).
pub fn bucket(score: f64) -> usize {
    let b = (score.clamp(0.0, 100.0) / (100.0 / BUCKETS as f64)).floor() as usize;
    b.min(BUCKETS - 1)
}

/// `x` rounded to `places` decimals; `None` for a value that is not finite.
pub fn round(x: f64, places: i32) -> Option<f64> {
    let factor = 10f64.powi(places);
    let rounded = (x * factor).round() / factor;
    rounded.is_finite().then_some(rounded)
}

pub fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

/// Sample standard deviation (n − 1) from the sum and the sum of squares.
pub fn sample_sd(n: u64, sum: f64, sum_sq: f64) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let n_f = n as f64;
    // Rounding can make a zero variance slightly negative.
    let variance = ((sum_sq - sum * sum / n_f) / (n_f - 1.0)).max(0.0);
    Some(variance.sqrt())
}

/// Degrees of freedom whose quantile is remembered once computed.
const REMEMBERED_DF: usize = 4096;

/// The Student-t distribution's 0.975 quantile with `df` degrees of freedom. Its inverse CDF
/// is computed by iteration (tens of microseconds), and a leaderboard asks for it once per
/// location: each value up to [`REMEMBERED_DF`] is computed once per process, then read.
fn t975(df: u64) -> Option<f64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static REMEMBERED: [AtomicU64; REMEMBERED_DF] = [const { AtomicU64::new(0) }; REMEMBERED_DF];
    let compute = || {
        StudentsT::new(0.0, 1.0, df as f64)
            .ok()
            .map(|t| t.inverse_cdf(0.975))
            .filter(|q| q.is_finite())
    };
    let Some(slot) = usize::try_from(df).ok().and_then(|i| REMEMBERED.get(i)) else {
        return compute();
    };
    match slot.load(Ordering::Relaxed) {
        0 => {
            let q = compute()?;
            slot.store(q.to_bits(), Ordering::Relaxed);
            Some(q)
        }
        bits => Some(f64::from_bits(bits)),
    }
}

/// Student-t 95 % interval of the mean of `n` values.
pub fn t_interval(n: u64, mean: f64, sd: f64) -> Option<(f64, f64)> {
    if n < 2 {
        return None;
    }
    let t = t975(n - 1)?;
    let half = t * sd / (n as f64).sqrt();
    Some((mean - half, mean + half))
}

/// Wilson score 95 % interval of the proportion `count / n`.
pub fn wilson(count: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (n_f, p) = (n as f64, count as f64 / n as f64);
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The median estimated from the histogram: the bucket holding the middle of the scored
/// visits, interpolated linearly inside it, kept within the observed extremes.
pub fn histogram_median(tally: &Tally) -> Option<f64> {
    let n: u64 = tally.histogram.iter().sum();
    if n == 0 {
        return None;
    }
    let width = 100.0 / BUCKETS as f64;
    let middle = n as f64 / 2.0;
    let mut below = 0u64;
    for (i, &count) in tally.histogram.iter().enumerate() {
        if count > 0 && (below + count) as f64 >= middle {
            let inside = (middle - below as f64) / count as f64;
            let estimate = i as f64 * width + inside * width;
            let low = tally.score_min.unwrap_or(0.0);
            let high = tally.score_max.unwrap_or(100.0);
            return Some(estimate.clamp(low, high));
        }
        below += count;
    }
    None
}

/// Which type of organization the visits describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Zero,
    First,
    Second,
    InsufficientData,
}

/// When a verdict is given: with at least `min_sample` visits, `zero` when the lower bound of
/// the zero-mile rate's interval reaches `zero_lower` (zero-mile visits are not an accident),
/// `second` when the lower bound of the second-mile rate's interval reaches `second_lower`
/// and no visit was zero mile, `first` otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerdictRule {
    pub min_sample: u64,
    pub zero_lower: f64,
    pub second_lower: f64,
}

impl Default for VerdictRule {
    fn default() -> Self {
        VerdictRule {
            min_sample: 5,
            zero_lower: 0.10,
            second_lower: 0.50,
        }
    }
}

impl VerdictRule {
    pub fn low_sample(&self, visits: u64) -> bool {
        visits < self.min_sample
    }

    pub fn verdict(&self, tally: &Tally) -> Verdict {
        if self.low_sample(tally.visits) {
            return Verdict::InsufficientData;
        }
        let lower = |count| wilson(count, tally.visits).map_or(0.0, |(low, _)| low);
        if lower(tally.zero_mile) >= self.zero_lower {
            Verdict::Zero
        } else if tally.zero_mile == 0 && lower(tally.second_mile) >= self.second_lower {
            Verdict::Second
        } else {
            Verdict::First
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    #[test]
    fn the_wilson_interval_matches_a_hand_computed_one() {
        // 1 of 12: p = 0.0833, interval [0.0149, 0.3539].
        let (low, high) = wilson(1, 12).unwrap();
        assert!(
            close(low, 0.014_86) && close(high, 0.353_87),
            "{low} {high}"
        );
        // 3 of 12.
        let (low, high) = wilson(3, 12).unwrap();
        assert!(
            close(low, 0.088_91) && close(high, 0.532_33),
            "{low} {high}"
        );
        // At the edges it stays inside [0, 1].
        assert_eq!(wilson(0, 10).unwrap().0, 0.0);
        assert!(close(wilson(10, 10).unwrap().1, 1.0));
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn t_quantiles_are_remembered_exactly_and_computed_beyond() {
        // Published two-sided 95 % critical values.
        for (df, want) in [
            (1, 12.706),
            (2, 4.303),
            (10, 2.228),
            (30, 2.042),
            (4095, 1.961),
        ] {
            let first = t975(df).unwrap();
            let again = t975(df).unwrap();
            assert_eq!(first.to_bits(), again.to_bits(), "df {df}");
            assert!((first - want).abs() < 5e-4, "df {df}: {first}");
        }
        assert!((t975(1_000_000).unwrap() - 1.960).abs() < 5e-4);
        assert_eq!(t975(0), None);
    }

    #[test]
    fn the_mean_and_its_t_interval_match_a_hand_computed_one() {
        // Scores 70, 80, 90: mean 80, sd 10, t(0.975, 2) = 4.302653, half = 24.8414.
        let (sum, sum_sq) = (240.0, 70.0f64.powi(2) + 80.0f64.powi(2) + 90.0f64.powi(2));
        assert_eq!(mean(sum, 3), Some(80.0));
        let sd = sample_sd(3, sum, sum_sq).unwrap();
        assert!(close(sd, 10.0), "{sd}");
        let (low, high) = t_interval(3, 80.0, sd).unwrap();
        assert!(
            close(low, 55.158_6) && close(high, 104.841_4),
            "{low} {high}"
        );
        assert_eq!(sample_sd(1, 70.0, 4900.0), None);
        assert_eq!(t_interval(1, 70.0, 0.0), None);
    }

    #[test]
    fn the_median_is_interpolated_within_its_bucket() {
        let mut tally = Tally::default();
        for score in [62.0, 71.0, 74.0, 88.0] {
            tally.histogram[bucket(score)] += 1;
        }
        tally.score_min = Some(62.0);
        tally.score_max = Some(88.0);
        // The middle (2 of 4) falls halfway into bucket 70..75, which holds the 2nd and 3rd
        // visits: 70 + 0.5 × 5 = 72.5 (here also the true median, (71 + 74) / 2).
        assert_eq!(histogram_median(&tally), Some(72.5));
        assert_eq!(bucket(100.0), BUCKETS - 1);
        assert_eq!(bucket(0.0), 0);
        assert_eq!(histogram_median(&Tally::default()), None);
    }

    fn tally(visits: u64, zero: u64, second: u64) -> Tally {
        Tally {
            visits,
            zero_mile: zero,
            second_mile: second,
            first_mile: visits - zero - second,
            ..Tally::default()
        }
    }

    #[test]
    fn each_verdict_is_given_only_when_the_sample_supports_it() {
        let rule = VerdictRule::default();
        assert_eq!(rule.verdict(&tally(4, 4, 0)), Verdict::InsufficientData);
        // 4 of 10 zero mile: Wilson lower bound 0.168 >= 0.10.
        assert_eq!(rule.verdict(&tally(10, 4, 0)), Verdict::Zero);
        // 1 of 10: lower bound 0.018, an accident.
        assert_eq!(rule.verdict(&tally(10, 1, 6)), Verdict::First);
        // 9 of 10 second mile, none zero: lower bound 0.596 >= 0.50.
        assert_eq!(rule.verdict(&tally(10, 0, 9)), Verdict::Second);
        // 6 of 10 second mile: lower bound 0.313, not enough.
        assert_eq!(rule.verdict(&tally(10, 0, 6)), Verdict::First);
    }

    proptest! {
        #[test]
        fn merging_tallies_is_the_tally_of_all_visits(
            scores in proptest::collection::vec(0.0f64..=100.0, 0..40),
            split in 0usize..40,
        ) {
            let of = |scores: &[f64]| {
                let mut t = Tally::default();
                for &s in scores {
                    t.visits += 1;
                    t.scored_visits += 1;
                    t.score_sum += s;
                    t.score_sum_sq += s * s;
                    t.score_min = min_of(t.score_min, Some(s));
                    t.score_max = max_of(t.score_max, Some(s));
                    t.histogram[bucket(s)] += 1;
                }
                t
            };
            let split = split.min(scores.len());
            let mut merged = of(&scores[..split]);
            merged.merge(&of(&scores[split..]));
            let whole = of(&scores);
            prop_assert_eq!(merged.visits, whole.visits);
            prop_assert_eq!(merged.histogram, whole.histogram);
            prop_assert_eq!(merged.score_min, whole.score_min);
            prop_assert_eq!(merged.score_max, whole.score_max);
            prop_assert!((merged.score_sum - whole.score_sum).abs() < 1e-6);
        }

        #[test]
        fn intervals_hold_their_estimate(count in 0u64..200, extra in 0u64..200, sd in 0.0f64..50.0) {
            let n = count + extra;
            if let Some((low, high)) = wilson(count, n) {
                let p = count as f64 / n as f64;
                prop_assert!(low <= p + 1e-12 && p <= high + 1e-12);
                prop_assert!((0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high));
            }
            if let Some((low, high)) = t_interval(n, 50.0, sd) {
                prop_assert!(low <= 50.0 && 50.0 <= high);
            }
        }

        #[test]
        fn the_median_lies_within_the_extremes(scores in proptest::collection::vec(0.0f64..=100.0, 1..60)) {
            let mut t = Tally::default();
            for &s in &scores {
                t.histogram[bucket(s)] += 1;
                t.score_min = min_of(t.score_min, Some(s));
                t.score_max = max_of(t.score_max, Some(s));
            }
            let median = histogram_median(&t).unwrap();
            prop_assert!(t.score_min.unwrap() <= median && median <= t.score_max.unwrap());
        }
    }
}
