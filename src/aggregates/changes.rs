//! What changed between two periods, and whether it is real: per location, per region and
//! for the organization, both periods' figures and the change of each measure with its
//! interval (see [`super::compare`]), and the verdict changes the later period saw.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::compare::{Change, Changes, Comparison};
use super::figures::{Figures, VerdictShift};
use super::service::{AggregateError, Coverage, Range, covered_over};
use super::stats::{Tally, VerdictRule};
use crate::db::aggregates::{self as store, Parts, Rollup, Scope};
use crate::db::{Db, verdicts};
use crate::ids::{LocationId, OrgId, UserId};
use crate::locations::model::{Location, LocationBrief};
use crate::validation::Violation;

/// One place's figures in both periods and how each measure moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    pub later: Figures,
    pub earlier: Figures,
    pub changes: Changes,
}

impl Movement {
    pub fn between(later: &Tally, earlier: &Tally, rule: &VerdictRule) -> Movement {
        Movement {
            later: Figures::of(later, rule),
            earlier: Figures::of(earlier, rule),
            changes: Changes::between(later, earlier, rule),
        }
    }

    /// A location's movement, each period's figures with their distinct shoppers.
    pub fn of_location(later: &Rollup, earlier: &Rollup, rule: &VerdictRule) -> Movement {
        Movement {
            later: Figures::of_location(later, rule),
            earlier: Figures::of_location(earlier, rule),
            changes: Changes::between(&later.tally, &earlier.tally, rule),
        }
    }
}

/// A measure whose change the locations are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    MeanScore,
    ZeroMileRate,
    SecondMileRate,
    CriticalFailureRate,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::MeanScore => "mean_score",
            Measure::ZeroMileRate => "zero_mile_rate",
            Measure::SecondMileRate => "second_mile_rate",
            Measure::CriticalFailureRate => "critical_failure_rate",
        }
    }

    fn of(self, changes: &Changes) -> Option<Change> {
        match self {
            Measure::MeanScore => changes.mean_score,
            Measure::ZeroMileRate => changes.zero_mile_rate,
            Measure::SecondMileRate => changes.second_mile_rate,
            Measure::CriticalFailureRate => changes.critical_failure_rate,
        }
    }

    /// A rise is a gain (the mean, the second-mile rate) or a decline (the zero-mile and
    /// critical-failure rates).
    fn rise_is_gain(self) -> bool {
        matches!(self, Measure::MeanScore | Measure::SecondMileRate)
    }
}

/// Which way of moving is listed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heading {
    Decline,
    Gain,
}

impl Heading {
    pub fn as_str(self) -> &'static str {
        match self {
            Heading::Decline => "decline",
            Heading::Gain => "gain",
        }
    }
}

/// How the locations are listed: the largest significant move of `measure` toward
/// `heading` first, then the other moves (largest toward `heading` first), then the
/// locations where the measure has no change to show; ties by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub measure: Measure,
    pub heading: Heading,
}

/// Where a movement stands in an order: its tier (0 a significant move toward the heading,
/// 1 any other change, 2 none), and how far it moved toward the heading.
fn standing(movement: &Movement, order: Order) -> (u8, f64) {
    let Some(change) = order.measure.of(&movement.changes) else {
        return (2, 0.0);
    };
    let toward_gain = if order.measure.rise_is_gain() {
        change.difference.value
    } else {
        -change.difference.value
    };
    let toward = match order.heading {
        Heading::Gain => toward_gain,
        Heading::Decline => -toward_gain,
    };
    let tier = if change.significant && toward > 0.0 {
        0
    } else {
        1
    };
    (tier, toward)
}

impl Order {
    /// Whether the location moved significantly toward the heading.
    pub fn significant(&self, movement: &Movement) -> bool {
        standing(movement, *self).0 == 0
    }

    /// A key whose byte order is the listing's order (unique per location: it ends with
    /// the code), for paging in memory.
    pub fn key(&self, movement: &Movement, code: &str) -> String {
        let (tier, toward) = standing(movement, *self);
        // Moves lie in [-100, 100] (points) or [-1, 1] (rates): shifted and scaled to a
        // fixed-width integer that grows as the move shrinks.
        let place = ((1000.0 - toward.clamp(-1000.0, 1000.0)) * 1e6).round() as u64;
        format!("{}:{tier}:{place:013}:{code}", self.prefix())
    }

    /// What every key of this order starts with: a cursor of another order is refused.
    pub fn prefix(&self) -> String {
        format!("{}.{}", self.measure.as_str(), self.heading.as_str())
    }
}

/// One location's movement and the verdict changes its later period saw.
#[derive(Debug, Clone)]
pub struct LocationMovement {
    pub location: LocationBrief,
    pub movement: Movement,
    pub verdict_changes: Vec<VerdictShift>,
}

/// One region's movement (its locations together).
#[derive(Debug, Clone)]
pub struct RegionMovement {
    /// `None`: locations without a region.
    pub region: Option<String>,
    pub locations: u64,
    pub movement: Movement,
}

/// Every covered place's movement between the two periods.
pub struct ChangesReport {
    pub range: Range,
    pub earlier: (NaiveDate, NaiveDate),
    pub organization: Movement,
    pub regions: Vec<RegionMovement>,
    /// In the order asked for, each with its key in that order (see [`Order::key`]).
    pub locations: Vec<(String, LocationMovement)>,
}

/// The earlier period of `range` for `comparison`, refused when it cannot be computed or
/// when it overlaps the range (two periods sharing visits are not independent samples).
pub fn earlier_of(
    range: &Range,
    comparison: Comparison,
) -> Result<(NaiveDate, NaiveDate), AggregateError> {
    let refuse = |pointer: &str, message: &str| {
        AggregateError::Invalid(vec![Violation::new(pointer, "out_of_range", message)])
    };
    let (from, to) = super::compare::earlier_range(range.from, range.to, comparison)
        .ok_or_else(|| refuse("/query/compare", "the earlier period falls before 1900"))?;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if from < earliest {
        return Err(refuse(
            "/query/compare",
            "the earlier period falls before 1900",
        ));
    }
    if from > to {
        return Err(refuse(
            "/query/compare_from",
            "`compare_from` is after `compare_to`",
        ));
    }
    if (to - from).num_days() >= super::service::MAX_RANGE_DAYS {
        return Err(refuse(
            "/query/compare_to",
            "a comparison period covers at most 3 years",
        ));
    }
    if from <= range.to && range.from <= to {
        return Err(refuse(
            "/query/compare_from",
            "the comparison period overlaps the range",
        ));
    }
    Ok((from, to))
}

/// The movement of every covered location, region and the organization between the range
/// and its earlier period, the locations in `order`.
pub async fn changes(
    db: &Db,
    org: OrgId,
    coverage: Coverage,
    range: Range,
    earlier: (NaiveDate, NaiveDate),
    order: Order,
    rule: VerdictRule,
) -> Result<ChangesReport, AggregateError> {
    let key = range.questionnaire_key.clone();
    let (from, to) = (range.from, range.to);
    let (locations, mut rollups, shifts) = db
        .run(move |conn| {
            let (locations, rollups) = covered_over(
                conn,
                org,
                coverage,
                key,
                &[(from, to), earlier],
                Parts {
                    shoppers: true,
                    ..Parts::default()
                },
            )?;
            // Verdict changes are few: the organization's, kept for the covered locations.
            let shifts = verdicts::between(conn, org, None, from, to)?;
            Ok::<_, AggregateError>((locations, rollups, shifts))
        })
        .await?;
    let mut earlier_rollups = rollups.pop().unwrap_or_default();
    let mut later_rollups = rollups.pop().unwrap_or_default();
    let mut shifts_of: BTreeMap<LocationId, Vec<VerdictShift>> = BTreeMap::new();
    for shift in shifts {
        shifts_of.entry(shift.location_id).or_default().push(shift);
    }
    let mut total = (Tally::default(), Tally::default());
    let mut by_region: BTreeMap<Option<String>, (u64, Tally, Tally)> = BTreeMap::new();
    let mut rows = Vec::with_capacity(locations.len());
    for location in locations {
        let later: Rollup = later_rollups.remove(&location.id).unwrap_or_default();
        let before: Rollup = earlier_rollups.remove(&location.id).unwrap_or_default();
        total.0.merge(&later.tally);
        total.1.merge(&before.tally);
        let region = by_region.entry(location.region.clone()).or_default();
        region.0 += 1;
        region.1.merge(&later.tally);
        region.2.merge(&before.tally);
        rows.push(LocationMovement {
            movement: Movement::of_location(&later, &before, &rule),
            verdict_changes: shifts_of.remove(&location.id).unwrap_or_default(),
            location,
        });
    }
    let mut keyed: Vec<(String, LocationMovement)> = rows
        .into_iter()
        .map(|r| (order.key(&r.movement, &r.location.code), r))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut regions: Vec<RegionMovement> = by_region
        .into_iter()
        .map(|(region, (locations, later, before))| RegionMovement {
            region,
            locations,
            movement: Movement::between(&later, &before, &rule),
        })
        .collect();
    // By name, the locations without a region last (a stable sort keeps the names' order).
    regions.sort_by_key(|r| r.region.is_none());
    Ok(ChangesReport {
        range,
        earlier,
        organization: Movement::between(&total.0, &total.1, &rule),
        regions,
        locations: keyed,
    })
}

/// One location's movement between the range and its earlier period, and the verdict
/// changes its visits of the range made. Managers: their own locations only.
pub async fn location_changes(
    db: &Db,
    org: OrgId,
    manager: Option<UserId>,
    id: LocationId,
    range: Range,
    earlier: (NaiveDate, NaiveDate),
    rule: VerdictRule,
) -> Result<(Location, Movement, Vec<VerdictShift>), AggregateError> {
    db.run(move |conn| {
        let location = super::service::visible_location(conn, org, manager, id)?;
        let scope = Scope {
            org,
            locations: Some(vec![id]),
            questionnaire_key: range.questionnaire_key.clone(),
        };
        let parts = Parts {
            shoppers: true,
            ..Parts::default()
        };
        let mut rollup = |(from, to): (NaiveDate, NaiveDate)| {
            store::per_location(conn, &scope, from, to, parts)
                .map(|mut r| r.remove(&id).unwrap_or_default())
        };
        let later = rollup((range.from, range.to))?;
        let before = rollup(earlier)?;
        let shifts = verdicts::between(conn, org, Some(&[id]), range.from, range.to)?;
        Ok((
            location,
            Movement::of_location(&later, &before, &rule),
            shifts,
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movement(later: (u64, u64, f64), earlier: (u64, u64, f64)) -> Movement {
        // (visits, zero-mile visits, score of every visit ± 5)
        let tally = |(visits, zero, mean): (u64, u64, f64)| {
            let mut t = Tally::default();
            for i in 0..visits {
                let score = mean + if i % 2 == 0 { 5.0 } else { -5.0 };
                t.merge(&Tally {
                    visits: 1,
                    scored_visits: 1,
                    score_sum: score,
                    score_sum_sq: score * score,
                    score_min: Some(score),
                    score_max: Some(score),
                    zero_mile: u64::from(i < zero),
                    first_mile: u64::from(i >= zero),
                    ..Tally::default()
                });
            }
            t
        };
        Movement::between(&tally(later), &tally(earlier), &VerdictRule::default())
    }

    #[test]
    fn the_largest_significant_move_toward_the_heading_lists_first() {
        let fell_far = movement((20, 0, 60.0), (20, 0, 80.0));
        let fell_little = movement((20, 0, 74.0), (20, 0, 80.0));
        let rose = movement((20, 0, 90.0), (20, 0, 80.0));
        let thin = movement((2, 0, 40.0), (2, 0, 90.0));
        let nothing = movement((0, 0, 0.0), (0, 0, 0.0));
        let decline = Order {
            measure: Measure::MeanScore,
            heading: Heading::Decline,
        };
        let mut rows = [
            ("a-rose", &rose),
            ("b-nothing", &nothing),
            ("c-little", &fell_little),
            ("d-thin", &thin),
            ("e-far", &fell_far),
        ];
        rows.sort_by_key(|(code, m)| decline.key(m, code));
        let codes: Vec<&str> = rows.iter().map(|(c, _)| *c).collect();
        // A fall of 50 points on two visits is never significant: it lists after the
        // significant falls, but before the smaller ones.
        assert_eq!(
            codes,
            ["e-far", "c-little", "d-thin", "a-rose", "b-nothing"]
        );
        assert!(decline.significant(&fell_far) && decline.significant(&fell_little));
        assert!(!decline.significant(&thin) && !decline.significant(&rose));
        assert!(thin.changes.low_sample);
        let gain = Order {
            measure: Measure::MeanScore,
            heading: Heading::Gain,
        };
        rows.sort_by_key(|(code, m)| gain.key(m, code));
        let codes: Vec<&str> = rows.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            codes,
            ["a-rose", "c-little", "e-far", "d-thin", "b-nothing"]
        );
    }

    #[test]
    fn a_rising_zero_mile_rate_is_a_decline() {
        let worse = movement((20, 12, 70.0), (20, 1, 70.0));
        let decline = Order {
            measure: Measure::ZeroMileRate,
            heading: Heading::Decline,
        };
        assert!(decline.significant(&worse));
        let gain = Order {
            measure: Measure::ZeroMileRate,
            heading: Heading::Gain,
        };
        assert!(!gain.significant(&worse));
        assert!(
            decline.key(&worse, "x") < decline.key(&movement((20, 1, 70.0), (20, 1, 70.0)), "x")
        );
    }

    fn range(from: &str, to: &str) -> Range {
        Range {
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            questionnaire_key: None,
        }
    }

    #[test]
    fn a_comparison_period_may_not_overlap_the_range() {
        let r = range("2026-10-01", "2026-12-31");
        let (from, to) = earlier_of(&r, Comparison::Previous).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-07-01".into(), "2026-09-30".into())
        );
        let overlapping = Comparison::Dates {
            from: "2026-09-01".parse().unwrap(),
            to: "2026-10-01".parse().unwrap(),
        };
        assert!(earlier_of(&r, overlapping).is_err());
        let later = Comparison::Dates {
            from: "2027-01-01".parse().unwrap(),
            to: "2027-03-31".parse().unwrap(),
        };
        assert!(earlier_of(&r, later).is_ok(), "any other period compares");
        assert!(earlier_of(&range("1900-01-01", "1900-02-01"), Comparison::Previous).is_err());
        assert!(earlier_of(&range("1900-06-01", "1900-07-01"), Comparison::YearAgo).is_err());
    }
}
