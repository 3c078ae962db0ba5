//! Lockout rules: when a shopper may (not) visit a location. Pure: no I/O.
//!
//! A visit is a range of local dates: a report is its visit date, a planned assignment its
//! window (the visit may happen on any day of it, so the rules hold for every day). Two visits
//! of one shopper to one location must be at least `lockout_days` apart (the gap between their
//! ranges), and no 365 consecutive days may hold more than `max_visits_per_location_per_year`
//! of them (a range counts for every year-long span it touches). Both rules are off when unset.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Days in the rolling year of `max_visits_per_location_per_year`.
pub const YEAR_DAYS: u64 = 365;

/// The organization's rules (both off by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LockoutRules {
    /// A shopper's visits to one location are at least this many days apart (1 to 3650).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 3650)]
    pub lockout_days: Option<u32>,
    /// At most this many visits by one shopper to one location in any 365 days (1 to 365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 365)]
    pub max_visits_per_location_per_year: Option<u32>,
}

/// An inclusive range of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Self {
        if from <= to {
            DateRange { from, to }
        } else {
            DateRange { from: to, to: from }
        }
    }

    pub fn day(day: NaiveDate) -> Self {
        DateRange { from: day, to: day }
    }

    /// Days between the two ranges (0 when they overlap or touch).
    pub fn gap(self, other: DateRange) -> u64 {
        let (early, late) = if self.from <= other.from {
            (self, other)
        } else {
            (other, self)
        };
        u64::try_from((late.from - early.to).num_days()).unwrap_or(0)
    }

    fn shifted(self, days: u64) -> DateRange {
        DateRange {
            from: self
                .from
                .checked_add_days(Days::new(days))
                .unwrap_or(self.from),
            to: self.to.checked_add_days(Days::new(days)).unwrap_or(self.to),
        }
    }
}

/// Which rule a visit would break, and the first date from which a one-day visit passes it
/// (`None` when no date within two years does, e.g. because of planned visits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// An admin excluded the shopper from the location (they live or work there).
    Excluded,
    /// Another visit is less than `lockout_days` away.
    Lockout {
        lockout_days: u32,
        frees_on: Option<NaiveDate>,
    },
    /// The rolling year already holds the maximum number of visits.
    YearlyLimit {
        limit: u32,
        frees_on: Option<NaiveDate>,
    },
}

impl Breach {
    /// The stable code of the rule (the 409's `code`).
    pub fn code(self) -> &'static str {
        match self {
            Breach::Excluded => "shopper_excluded",
            Breach::Lockout { .. } => "lockout_period",
            Breach::YearlyLimit { .. } => "yearly_visit_limit",
        }
    }

    pub fn frees_on(self) -> Option<NaiveDate> {
        match self {
            Breach::Excluded => None,
            Breach::Lockout { frees_on, .. } | Breach::YearlyLimit { frees_on, .. } => frees_on,
        }
    }

    /// A sentence for the problem's `detail`.
    pub fn message(self) -> String {
        let frees = |d: Option<NaiveDate>| match d {
            Some(d) => format!("; possible again from {d}"),
            None => String::new(),
        };
        match self {
            Breach::Excluded => "the shopper is excluded from this location".into(),
            Breach::Lockout {
                lockout_days,
                frees_on,
            } => format!(
                "the shopper visits this location at most once every {lockout_days} days{}",
                frees(frees_on)
            ),
            Breach::YearlyLimit { limit, frees_on } => format!(
                "the shopper visits this location at most {limit} times in 365 days{}",
                frees(frees_on)
            ),
        }
    }
}

/// Whether a visit in `candidate` would break `rules`, given the shopper's other visits to the
/// same location (`others`) and whether they are excluded from it.
pub fn check(
    rules: LockoutRules,
    excluded: bool,
    others: &[DateRange],
    candidate: DateRange,
) -> Result<(), Breach> {
    if excluded {
        return Err(Breach::Excluded);
    }
    if let Some(days) = rules.lockout_days
        && violates_lockout(days, others, candidate)
    {
        return Err(Breach::Lockout {
            lockout_days: days,
            frees_on: first_free_day(rules, others, candidate),
        });
    }
    if let Some(limit) = rules.max_visits_per_location_per_year
        && violates_yearly(limit, others, candidate)
    {
        return Err(Breach::YearlyLimit {
            limit,
            frees_on: first_free_day(rules, others, candidate),
        });
    }
    Ok(())
}

fn violates_lockout(days: u32, others: &[DateRange], candidate: DateRange) -> bool {
    others.iter().any(|o| o.gap(candidate) < u64::from(days))
}

/// Some 365-day span touching `candidate` would hold more than `limit` visits. A span
/// `[s, s + 364]` touches a range `r` when `s` lies in `[r.from - 364, r.to]`, so the count
/// is highest at one of those left ends (clipped to the spans that touch the candidate).
fn violates_yearly(limit: u32, others: &[DateRange], candidate: DateRange) -> bool {
    let near: Vec<DateRange> = others
        .iter()
        .copied()
        .filter(|o| o.gap(candidate) < YEAR_DAYS)
        .collect();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if near.len() < limit {
        return false;
    }
    let span = Days::new(YEAR_DAYS - 1);
    let earliest = candidate
        .from
        .checked_sub_days(span)
        .unwrap_or(candidate.from);
    near.iter()
        .chain(std::iter::once(&candidate))
        .map(|r| {
            r.from
                .checked_sub_days(span)
                .unwrap_or(r.from)
                .max(earliest)
        })
        .filter(|start| *start <= candidate.to)
        .any(|start| {
            let window = DateRange {
                from: start,
                to: start.checked_add_days(span).unwrap_or(start),
            };
            near.iter().filter(|o| overlaps(window, **o)).count() + 1 > limit
        })
}

fn overlaps(a: DateRange, b: DateRange) -> bool {
    a.from <= b.to && b.from <= a.to
}

/// The first day after `candidate` starts on which a one-day visit passes both rules.
fn first_free_day(
    rules: LockoutRules,
    others: &[DateRange],
    candidate: DateRange,
) -> Option<NaiveDate> {
    let horizon = 2 * YEAR_DAYS + u64::from(rules.lockout_days.unwrap_or(0));
    (1..=horizon).find_map(|n| {
        let day = DateRange::day(candidate.from).shifted(n);
        let lockout_ok = rules
            .lockout_days
            .is_none_or(|d| !violates_lockout(d, others, day));
        let yearly_ok = rules
            .max_visits_per_location_per_year
            .is_none_or(|l| !violates_yearly(l, others, day));
        (lockout_ok && yearly_ok).then_some(day.from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn day(s: &str) -> DateRange {
        DateRange::day(d(s))
    }

    #[test]
    fn gaps_between_ranges_count_whole_days() {
        assert_eq!(day("2026-01-01").gap(day("2026-01-01")), 0);
        assert_eq!(day("2026-01-01").gap(day("2026-01-31")), 30);
        let window = DateRange::new(d("2026-01-10"), d("2026-01-20"));
        assert_eq!(window.gap(day("2026-01-15")), 0);
        assert_eq!(window.gap(day("2026-02-19")), 30);
        assert_eq!(day("2026-02-19").gap(window), 30);
    }

    #[test]
    fn rules_that_are_off_allow_anything_but_an_exclusion() {
        let others = [day("2026-01-01"), day("2026-01-02")];
        assert_eq!(
            check(LockoutRules::default(), false, &others, day("2026-01-02")),
            Ok(())
        );
        assert_eq!(
            check(LockoutRules::default(), true, &[], day("2026-01-02")),
            Err(Breach::Excluded)
        );
    }

    #[test]
    fn a_lockout_names_the_day_it_frees_up() {
        let rules = LockoutRules {
            lockout_days: Some(90),
            max_visits_per_location_per_year: None,
        };
        let others = [day("2026-01-10")];
        let breach = check(rules, false, &others, day("2026-03-01")).unwrap_err();
        assert_eq!(breach.code(), "lockout_period");
        assert_eq!(breach.frees_on(), Some(d("2026-04-10")));
        assert_eq!(check(rules, false, &others, day("2026-04-10")), Ok(()));
        // A planned window counts on every day: a visit just before it is too close.
        let planned = [DateRange::new(d("2026-06-01"), d("2026-06-30"))];
        assert!(check(rules, false, &planned, day("2026-03-15")).is_err());
        assert_eq!(check(rules, false, &planned, day("2026-03-03")), Ok(()));
    }

    #[test]
    fn the_yearly_limit_counts_any_365_days() {
        let rules = LockoutRules {
            lockout_days: None,
            max_visits_per_location_per_year: Some(2),
        };
        let others = [day("2026-01-10"), day("2026-05-10")];
        let breach = check(rules, false, &others, day("2026-09-01")).unwrap_err();
        assert_eq!(breach.code(), "yearly_visit_limit");
        // 365 days after the first visit, that one leaves the year.
        assert_eq!(breach.frees_on(), Some(d("2027-01-10")));
        assert_eq!(check(rules, false, &others, day("2027-01-10")), Ok(()));
        // Before both, the later span (the candidate and the two visits) is what counts.
        assert!(check(rules, false, &others, day("2025-12-01")).is_err());
        assert_eq!(check(rules, false, &others, day("2025-01-09")), Ok(()));
    }

    fn any_day() -> impl Strategy<Value = NaiveDate> {
        (0i64..900).prop_map(|n| d("2025-06-01") + chrono::Duration::days(n))
    }

    fn any_range() -> impl Strategy<Value = DateRange> {
        (any_day(), 0u64..20).prop_map(|(from, len)| DateRange::new(from, from + Days::new(len)))
    }

    proptest! {
        /// Whatever the check accepts keeps every pair of visits apart and every year under
        /// the limit, checked by brute force over days.
        #[test]
        fn accepted_visits_never_break_a_rule(
            lockout in proptest::option::of(1u32..120),
            limit in proptest::option::of(1u32..5),
            candidates in proptest::collection::vec(any_range(), 1..12),
        ) {
            let rules = LockoutRules { lockout_days: lockout, max_visits_per_location_per_year: limit };
            let mut kept: Vec<DateRange> = Vec::new();
            for c in candidates {
                if check(rules, false, &kept, c).is_ok() {
                    kept.push(c);
                }
            }
            if let Some(days) = lockout {
                for (i, a) in kept.iter().enumerate() {
                    for b in &kept[i + 1..] {
                        prop_assert!(a.gap(*b) >= u64::from(days), "{a:?} {b:?}");
                    }
                }
            }
            if let Some(limit) = limit {
                let first = kept.iter().map(|r| r.from).min().unwrap();
                for offset in 0..1300u64 {
                    let start = first - Days::new(400) + Days::new(offset);
                    let window = DateRange { from: start, to: start + Days::new(YEAR_DAYS - 1) };
                    let inside = kept.iter().filter(|r| overlaps(window, **r)).count();
                    prop_assert!(inside <= limit as usize, "{inside} in {window:?}");
                }
            }
        }

        /// After past visits, a breach names a later day, and the same visit passes then and
        /// on no day before it.
        #[test]
        fn the_day_a_breach_frees_up_is_the_first_that_passes(
            lockout in proptest::option::of(1u32..120),
            limit in proptest::option::of(1u32..4),
            ago in proptest::collection::vec(1u64..400, 0..6),
            candidate in any_day(),
        ) {
            let rules = LockoutRules { lockout_days: lockout, max_visits_per_location_per_year: limit };
            let others: Vec<DateRange> =
                ago.into_iter().map(|n| DateRange::day(candidate - Days::new(n))).collect();
            if let Err(breach) = check(rules, false, &others, DateRange::day(candidate)) {
                let frees = breach.frees_on().expect("past visits always free up");
                prop_assert!(frees > candidate);
                prop_assert_eq!(check(rules, false, &others, DateRange::day(frees)), Ok(()));
                let mut day = candidate + Days::new(1);
                while day < frees {
                    prop_assert!(check(rules, false, &others, DateRange::day(day)).is_err(), "{day}");
                    day = day + Days::new(1);
                }
            }
        }
    }
}
