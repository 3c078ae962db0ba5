//! The one `Figures` shape every aggregate answer carries, computed from a tally. Scores
//! are rounded to 2 decimals and rates to 4, after all arithmetic; nothing to compute is
//! `null`, never NaN.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::stats::{self, Tally, Verdict, VerdictRule};
use crate::ids::{LocationId, ReportId};

/// A count, its share of the visits and the Wilson 95 % interval of that share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Proportion {
    pub count: u64,
    /// `count / visits`, or `null` with no visit.
    pub rate: Option<f64>,
    /// Wilson score 95 % interval of the rate: `[low, high]`.
    #[schema(value_type = Option<Vec<f64>>, min_items = 2, max_items = 2)]
    pub ci95: Option<[f64; 2]>,
}

/// The verdict: which type of organization the visits describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictName {
    Zero,
    First,
    Second,
    InsufficientData,
}

impl VerdictName {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictName::Zero => "zero",
            VerdictName::First => "first",
            VerdictName::Second => "second",
            VerdictName::InsufficientData => "insufficient_data",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            VerdictName::Zero,
            VerdictName::First,
            VerdictName::Second,
            VerdictName::InsufficientData,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A location's verdict changed: the release (or withdrawal) of a visit moved it.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictShift {
    pub location_id: LocationId,
    pub report_id: ReportId,
    /// The local date of the visit that moved it.
    pub visit_date: NaiveDate,
    pub from: VerdictName,
    pub to: VerdictName,
    pub changed_at: DateTime<Utc>,
}

impl From<Verdict> for VerdictName {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Zero => VerdictName::Zero,
            Verdict::First => VerdictName::First,
            Verdict::Second => VerdictName::Second,
            Verdict::InsufficientData => VerdictName::InsufficientData,
        }
    }
}

/// The figures of a set of released visits.
///
/// Scores are the reports' overall scores (percent); reports without one count in `visits`
/// and the mile counts only. `sd_score` is the sample standard deviation and `mean_ci95`
/// the Student-t 95 % interval of the mean (both need 2 scored visits). `median_score` is
/// estimated from a histogram of 5-point buckets (linear inside the bucket that holds the
/// middle visit, kept within the observed minimum and maximum). The verdict: `zero` when the
/// lower bound of the zero-mile rate's interval reaches the zero threshold (default 0.10),
/// `second` when the lower bound of the second-mile rate's interval reaches the second
/// threshold (default 0.50) and no visit was zero mile, `insufficient_data` with fewer
/// visits than the minimum sample (default 5), `first` otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "visits": 12, "scored_visits": 12,
    "mean_score": 78.41, "sd_score": 9.12, "min_score": 55.0, "max_score": 96.3, "median_score": 79.0,
    "mean_ci95": [72.62, 84.2],
    "zero_mile": {"count": 1, "rate": 0.0833, "ci95": [0.0149, 0.3539]},
    "first_mile": {"count": 8, "rate": 0.6667, "ci95": [0.3906, 0.8619]},
    "second_mile": {"count": 3, "rate": 0.25, "ci95": [0.0889, 0.5323]},
    "critical_failures": {"count": 1, "rate": 0.0833, "ci95": [0.0149, 0.3539]},
    "low_sample": false,
    "verdict": "first",
    "shoppers": 3,
    "single_rater": false
}))]
pub struct Figures {
    pub visits: u64,
    pub scored_visits: u64,
    pub mean_score: Option<f64>,
    pub sd_score: Option<f64>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    pub median_score: Option<f64>,
    /// Student-t 95 % interval of the mean: `[low, high]`.
    #[schema(value_type = Option<Vec<f64>>, min_items = 2, max_items = 2)]
    pub mean_ci95: Option<[f64; 2]>,
    pub zero_mile: Proportion,
    pub first_mile: Proportion,
    pub second_mile: Proportion,
    pub critical_failures: Proportion,
    /// Fewer visits than the minimum sample.
    pub low_sample: bool,
    pub verdict: VerdictName,
    /// A location's figures only: how many distinct shoppers made these visits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shoppers: Option<u64>,
    /// A location's figures only: one shopper made every visit (a second shopper would
    /// tell the location from the shopper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_rater: Option<bool>,
}

fn pair(interval: Option<(f64, f64)>, places: i32) -> Option<[f64; 2]> {
    let (low, high) = interval?;
    Some([stats::round(low, places)?, stats::round(high, places)?])
}

/// `count` of `n` with its rate and Wilson interval.
pub fn proportion(count: u64, n: u64) -> Proportion {
    rate(count, n)
}

fn rate(count: u64, visits: u64) -> Proportion {
    Proportion {
        count,
        rate: (visits > 0)
            .then(|| count as f64 / visits as f64)
            .and_then(|r| stats::round(r, 4)),
        ci95: pair(stats::wilson(count, visits), 4),
    }
}

impl Figures {
    pub fn of(tally: &Tally, rule: &VerdictRule) -> Self {
        let n = tally.scored_visits;
        let mean = stats::mean(tally.score_sum, n);
        let sd = stats::sample_sd(n, tally.score_sum, tally.score_sum_sq);
        let ci = match (mean, sd) {
            (Some(m), Some(s)) => stats::t_interval(n, m, s),
            _ => None,
        };
        Figures {
            visits: tally.visits,
            scored_visits: n,
            mean_score: mean.and_then(|m| stats::round(m, 2)),
            sd_score: sd.and_then(|s| stats::round(s, 2)),
            min_score: tally.score_min.and_then(|m| stats::round(m, 2)),
            max_score: tally.score_max.and_then(|m| stats::round(m, 2)),
            median_score: stats::histogram_median(tally).and_then(|m| stats::round(m, 2)),
            mean_ci95: pair(ci, 2),
            zero_mile: rate(tally.zero_mile, tally.visits),
            first_mile: rate(tally.first_mile, tally.visits),
            second_mile: rate(tally.second_mile, tally.visits),
            critical_failures: rate(tally.critical_failures, tally.visits),
            low_sample: rule.low_sample(tally.visits),
            verdict: rule.verdict(tally).into(),
            shoppers: None,
            single_rater: None,
        }
    }

    /// A location's figures, with the distinct shoppers behind them.
    pub fn of_location(rollup: &crate::db::aggregates::Rollup, rule: &VerdictRule) -> Self {
        let shoppers = rollup.shoppers.unwrap_or(0);
        Figures {
            shoppers: Some(shoppers),
            single_rater: Some(shoppers == 1),
            ..Figures::of(&rollup.tally, rule)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_compute_is_null_never_nan() {
        let f = Figures::of(&Tally::default(), &VerdictRule::default());
        assert_eq!(f.visits, 0);
        assert_eq!(
            (f.mean_score, f.sd_score, f.median_score),
            (None, None, None)
        );
        assert_eq!(f.zero_mile.rate, None);
        assert_eq!(f.verdict, VerdictName::InsufficientData);
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains("NaN"), "{json}");
    }

    #[test]
    fn rates_and_the_mean_are_rounded_after_the_arithmetic() {
        let mut t = Tally {
            visits: 12,
            scored_visits: 3,
            score_sum: 240.0,
            score_sum_sq: 70.0f64.powi(2) + 80.0f64.powi(2) + 90.0f64.powi(2),
            score_min: Some(70.0),
            score_max: Some(90.0),
            zero_mile: 1,
            first_mile: 8,
            second_mile: 3,
            ..Tally::default()
        };
        t.histogram[stats::bucket(70.0)] += 1;
        t.histogram[stats::bucket(80.0)] += 1;
        t.histogram[stats::bucket(90.0)] += 1;
        let f = Figures::of(&t, &VerdictRule::default());
        assert_eq!(f.mean_score, Some(80.0));
        assert_eq!(f.sd_score, Some(10.0));
        assert_eq!(f.mean_ci95, Some([55.16, 104.84]));
        assert_eq!(f.zero_mile.rate, Some(0.0833));
        assert_eq!(f.zero_mile.ci95, Some([0.0149, 0.3539]));
        assert_eq!(f.second_mile.ci95, Some([0.0889, 0.5323]));
        assert_eq!(f.verdict, VerdictName::First);
    }
}
