//! Rater effects: whether a shopper scores the same stores harsher or more leniently than
//! the other shoppers who visited them. Each of a shopper's visits is compared with the mean
//! of the other shoppers' visits to the same location in the same calendar quarter; the
//! shopper's effect is the mean of those differences, with a Student-t 95 % interval. A
//! shopper is flagged when the interval excludes zero and the effect is at least
//! [`MIN_EFFECT`] points over at least [`MIN_VISITS`] compared visits. The figures and
//! verdicts are never adjusted by it: the flag says where a second shopper is needed.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::stats;
use crate::db::aggregates::RatedVisit;
use crate::ids::{LocationId, UserId};

/// Compared visits a flag needs.
pub const MIN_VISITS: u64 = 8;
/// Points (of 100) an effect needs to be flagged.
pub const MIN_EFFECT: f64 = 5.0;

/// Which way a flagged shopper leans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lean {
    /// Scores lower than the other shoppers at the same stores.
    Harsh,
    /// Scores higher.
    Lenient,
}

/// One shopper's effect.
#[derive(Debug, Clone, PartialEq)]
pub struct RaterEffect {
    pub shopper: UserId,
    /// Their released, scored visits in the range.
    pub visits: u64,
    /// Those with another shopper's visit to the same location in the same quarter.
    pub compared: u64,
    /// Mean difference from the other shoppers (points; `None` without a compared visit).
    pub effect: Option<f64>,
    /// Its Student-t 95 % interval (needs 2 compared visits).
    pub ci95: Option<(f64, f64)>,
    pub lean: Option<Lean>,
}

/// The quarter a local date falls in, as (year, 1 to 4).
fn quarter(date: NaiveDate) -> (i32, u32) {
    (date.year(), date.month0() / 3 + 1)
}

/// Every shopper's effect over `visits`, the flagged first, then by the size of the effect.
pub fn effects(visits: &[RatedVisit]) -> Vec<RaterEffect> {
    // Per location and quarter: each shopper's sum and count.
    type Cell = BTreeMap<UserId, (f64, u64)>;
    let mut cells: HashMap<(LocationId, (i32, u32)), Cell> = HashMap::new();
    for v in visits {
        let slot = cells
            .entry((v.location, quarter(v.date)))
            .or_default()
            .entry(v.shopper)
            .or_default();
        slot.0 += v.score;
        slot.1 += 1;
    }
    let mut differences: BTreeMap<UserId, (u64, Vec<f64>)> = BTreeMap::new();
    for v in visits {
        let entry = differences.entry(v.shopper).or_default();
        entry.0 += 1;
        let Some(cell) = cells.get(&(v.location, quarter(v.date))) else {
            continue;
        };
        let (sum, n) = cell
            .iter()
            .filter(|(who, _)| **who != v.shopper)
            .fold((0.0, 0u64), |(s, c), (_, (sum, n))| (s + sum, c + n));
        if n > 0 {
            entry.1.push(v.score - sum / n as f64);
        }
    }
    let mut out: Vec<RaterEffect> = differences
        .into_iter()
        .map(|(shopper, (visits, diffs))| effect_of(shopper, visits, &diffs))
        .collect();
    out.sort_by(|a, b| {
        b.lean
            .is_some()
            .cmp(&a.lean.is_some())
            .then_with(|| {
                let size = |e: &RaterEffect| e.effect.map_or(-1.0, f64::abs);
                size(b).total_cmp(&size(a))
            })
            .then_with(|| a.shopper.0.cmp(&b.shopper.0))
    });
    out
}

fn effect_of(shopper: UserId, visits: u64, diffs: &[f64]) -> RaterEffect {
    let n = diffs.len() as u64;
    let sum: f64 = diffs.iter().sum();
    let sum_sq: f64 = diffs.iter().map(|d| d * d).sum();
    let mean = stats::mean(sum, n);
    let ci95 = match (mean, stats::sample_sd(n, sum, sum_sq)) {
        (Some(m), Some(sd)) => stats::t_interval(n, m, sd),
        _ => None,
    };
    let lean = match (mean, ci95) {
        (Some(m), Some((low, high)))
            if n >= MIN_VISITS && m.abs() >= MIN_EFFECT && (low > 0.0 || high < 0.0) =>
        {
            Some(if m < 0.0 { Lean::Harsh } else { Lean::Lenient })
        }
        _ => None,
    };
    RaterEffect {
        shopper,
        visits,
        compared: n,
        effect: mean,
        ci95,
        lean,
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// A history of `shoppers` visiting `locations` over a year: each location has its own
    /// level, each visit adds noise of ±`noise` points, and shopper 0 adds `bias`.
    fn history(
        seed: u64,
        shoppers: usize,
        locations: usize,
        noise: f64,
        bias: f64,
    ) -> Vec<RatedVisit> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let people: Vec<UserId> = (0..shoppers)
            .map(|_| UserId(uuid::Uuid::from_u128(rng.random())))
            .collect();
        let places: Vec<(LocationId, f64)> = (0..locations)
            .map(|_| {
                (
                    LocationId(uuid::Uuid::from_u128(rng.random())),
                    rng.random_range(55.0..90.0),
                )
            })
            .collect();
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut out = Vec::new();
        for _ in 0..rng.random_range(80..200) {
            let who = rng.random_range(0..shoppers);
            let (location, level) = places[rng.random_range(0..locations)];
            let noise: f64 = rng.random_range(-noise..noise);
            let score = level + noise + if who == 0 { bias } else { 0.0 };
            out.push(RatedVisit {
                shopper: people[who],
                location,
                date: start + chrono::TimeDelta::days(rng.random_range(0..365)),
                score: score.clamp(0.0, 100.0),
            });
        }
        out
    }

    #[test]
    fn fair_shoppers_are_never_flagged() {
        // Shoppers scoring like the others (uniform noise of ±6 points) over many seeded
        // histories: none is flagged.
        for seed in 0..300 {
            let visits = history(seed, 5, 6, 6.0, 0.0);
            for e in effects(&visits) {
                assert_eq!(e.lean, None, "seed {seed}: {e:?}");
            }
        }
    }

    #[test]
    fn a_harsh_shopper_is_flagged_and_only_them() {
        let mut flagged = 0;
        for seed in 0..50 {
            let visits = history(seed, 5, 6, 6.0, -12.0);
            // Shopper 0 is the first person the history drew.
            let harsh = Some(UserId(uuid::Uuid::from_u128(
                ChaCha8Rng::seed_from_u64(seed).random(),
            )));
            for e in effects(&visits) {
                if Some(e.shopper) == harsh {
                    if e.compared >= MIN_VISITS {
                        assert_eq!(e.lean, Some(Lean::Harsh), "seed {seed}: {e:?}");
                        flagged += 1;
                    }
                } else {
                    assert_ne!(e.lean, Some(Lean::Harsh), "seed {seed}: {e:?}");
                }
            }
        }
        assert!(flagged > 40, "{flagged}");
    }

    #[test]
    fn visits_without_another_shopper_are_not_compared() {
        let who = UserId(uuid::Uuid::from_u128(1));
        let at = LocationId(uuid::Uuid::from_u128(2));
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let visits: Vec<RatedVisit> = (0..10)
            .map(|_| RatedVisit {
                shopper: who,
                location: at,
                date: day,
                score: 40.0,
            })
            .collect();
        let e = effects(&visits);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].visits, e[0].compared, e[0].effect), (10, 0, None));
        assert_eq!(e[0].lean, None);
    }
}
