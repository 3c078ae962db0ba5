//! Planning a wave: its required visits spread over its locations, its window and the times
//! of day, each given to a shopper who passes the lockout rules. Pure: no I/O.

use std::collections::HashMap;

use chrono::Days;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::{self, DateRange, LockoutRules};
use crate::ids::{LocationId, UserId};

/// A time of day for a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Morning,
    Midday,
    Evening,
}

impl Slot {
    pub const ALL: [Slot; 3] = [Slot::Morning, Slot::Midday, Slot::Evening];

    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Morning => "morning",
            Slot::Midday => "midday",
            Slot::Evening => "evening",
        }
    }

    pub fn parse(s: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A shopper who may be given visits, and the locations they are excluded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: UserId,
    pub excluded: Vec<LocationId>,
}

/// What a plan is made from.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    pub locations: &'a [LocationId],
    pub window: DateRange,
    pub visits_per_location: u32,
    /// Shoppers to give the visits to; none: every visit is left open for shoppers to claim.
    pub shoppers: &'a [Candidate],
    /// Each shopper's visits per location that the rules count: reports and the windows of
    /// their active assignments.
    pub history: &'a HashMap<(UserId, LocationId), Vec<DateRange>>,
    pub rules: LockoutRules,
}

/// One planned visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVisit {
    pub location: LocationId,
    pub shopper: Option<UserId>,
    pub window: DateRange,
    pub slot: Slot,
}

/// A plan, and how many visits found no shopper (left open to claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub visits: Vec<PlannedVisit>,
    pub unassigned: u32,
}

/// The `i`-th of `k` consecutive parts of `window` (parts of a window shorter than `k` days
/// share days).
pub fn part(window: DateRange, i: u32, k: u32) -> DateRange {
    let days = u64::try_from((window.to - window.from).num_days() + 1).unwrap_or(1);
    let k = u64::from(k.max(1));
    let i = u64::from(i).min(k - 1);
    let start = i * days / k;
    let end = ((i + 1) * days / k).max(start + 1) - 1;
    DateRange {
        from: window.from + Days::new(start),
        to: window.from + Days::new(end.min(days - 1)),
    }
}

/// Spreads `visits_per_location` visits to each location over consecutive parts of the
/// window, rotating the time of day from one visit and one location to the next, and gives
/// each to the eligible shopper who has been to that location least, then has the fewest
/// visits in this plan (so the load is shared and shoppers stay unknown at each store).
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let mut visits = Vec::new();
    let mut unassigned = 0;
    let mut load: HashMap<UserId, u32> = HashMap::new();
    let mut planned: HashMap<(UserId, LocationId), Vec<DateRange>> = HashMap::new();
    for (n, &location) in input.locations.iter().enumerate() {
        for i in 0..input.visits_per_location {
            let window = part(input.window, i, input.visits_per_location);
            let slot = match (n + usize::try_from(i).unwrap_or(0)) % 3 {
                0 => Slot::Morning,
                1 => Slot::Midday,
                _ => Slot::Evening,
            };
            let chosen = input
                .shoppers
                .iter()
                .enumerate()
                .filter_map(|(order, s)| {
                    let key = (s.id, location);
                    let mut others = input.history.get(&key).cloned().unwrap_or_default();
                    others.extend(planned.get(&key).into_iter().flatten().copied());
                    let excluded = s.excluded.contains(&location);
                    rules::check(input.rules, excluded, &others, window).ok()?;
                    let rank = (
                        others.len(),
                        load.get(&s.id).copied().unwrap_or(0),
                        // Rotate ties so the first shoppers are not always first.
                        (order + input.shoppers.len() - n % input.shoppers.len().max(1))
                            % input.shoppers.len().max(1),
                    );
                    Some((rank, s.id))
                })
                .min()
                .map(|(_, id)| id);
            match chosen {
                Some(id) => {
                    *load.entry(id).or_default() += 1;
                    planned.entry((id, location)).or_default().push(window);
                }
                None if !input.shoppers.is_empty() => unassigned += 1,
                None => {}
            }
            visits.push(PlannedVisit {
                location,
                shopper: chosen,
                window,
                slot,
            });
        }
    }
    Plan { visits, unassigned }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_window_splits_into_consecutive_parts() {
        let march = DateRange::new(d("2026-03-01"), d("2026-03-31"));
        let parts: Vec<DateRange> = (0..3).map(|i| part(march, i, 3)).collect();
        assert_eq!(parts[0], DateRange::new(d("2026-03-01"), d("2026-03-10")));
        assert_eq!(parts[1], DateRange::new(d("2026-03-11"), d("2026-03-20")));
        assert_eq!(parts[2], DateRange::new(d("2026-03-21"), d("2026-03-31")));
        // Fewer days than visits: parts share days, none is empty.
        let two = DateRange::new(d("2026-03-01"), d("2026-03-02"));
        let parts: Vec<DateRange> = (0..4).map(|i| part(two, i, 4)).collect();
        assert!(
            parts
                .iter()
                .all(|p| p.from <= p.to && p.from >= two.from && p.to <= two.to)
        );
    }

    #[test]
    fn visits_rotate_slots_and_spread_shoppers() {
        let locations: Vec<LocationId> = (0..10).map(|_| LocationId::generate()).collect();
        let shoppers: Vec<Candidate> = (0..4)
            .map(|_| Candidate {
                id: UserId::generate(),
                excluded: vec![],
            })
            .collect();
        let history = HashMap::new();
        let plan = plan(&PlanInput {
            locations: &locations,
            window: DateRange::new(d("2026-03-01"), d("2026-03-31")),
            visits_per_location: 3,
            shoppers: &shoppers,
            history: &history,
            rules: LockoutRules {
                lockout_days: Some(90),
                max_visits_per_location_per_year: Some(4),
            },
        });
        assert_eq!(plan.visits.len(), 30);
        assert_eq!(plan.unassigned, 0);
        for slot in Slot::ALL {
            assert_eq!(plan.visits.iter().filter(|v| v.slot == slot).count(), 10);
        }
        let mut per_shopper: HashMap<UserId, usize> = HashMap::new();
        for v in &plan.visits {
            *per_shopper.entry(v.shopper.unwrap()).or_default() += 1;
        }
        assert!(
            per_shopper.values().all(|&n| (7..=8).contains(&n)),
            "{per_shopper:?}"
        );
    }

    fn any_rules() -> impl Strategy<Value = LockoutRules> {
        (
            proptest::option::of(1u32..200),
            proptest::option::of(1u32..6),
        )
            .prop_map(|(lockout_days, max)| LockoutRules {
                lockout_days,
                max_visits_per_location_per_year: max,
            })
    }

    proptest! {
        /// No plan breaks a rule or an exclusion, whatever the history; every planned window
        /// lies in the wave's.
        #[test]
        fn no_plan_breaks_a_lockout(
            rules in any_rules(),
            locations in 1usize..6,
            shoppers in 0usize..6,
            visits in 1u32..6,
            days in 1u64..120,
            history_days in proptest::collection::vec((0usize..6, 0usize..6, 0u64..400), 0..20),
            exclusions in proptest::collection::vec((0usize..6, 0usize..6), 0..6),
        ) {
            let locations: Vec<LocationId> = (0..locations).map(|_| LocationId::generate()).collect();
            let mut candidates: Vec<Candidate> = (0..shoppers)
                .map(|_| Candidate { id: UserId::generate(), excluded: vec![] })
                .collect();
            for (s, l) in exclusions {
                if s < candidates.len() && l < locations.len() {
                    candidates[s].excluded.push(locations[l]);
                }
            }
            let start = d("2026-06-01");
            let window = DateRange::new(start, start + Days::new(days - 1));
            let mut history: HashMap<(UserId, LocationId), Vec<DateRange>> = HashMap::new();
            for (s, l, ago) in history_days {
                if s < candidates.len() && l < locations.len() {
                    history
                        .entry((candidates[s].id, locations[l]))
                        .or_default()
                        .push(DateRange::day(start - Days::new(ago)));
                }
            }
            let plan = plan(&PlanInput {
                locations: &locations,
                window,
                visits_per_location: visits,
                shoppers: &candidates,
                history: &history,
                rules,
            });
            prop_assert_eq!(plan.visits.len(), locations.len() * visits as usize);
            let open = plan.visits.iter().filter(|v| v.shopper.is_none()).count();
            prop_assert_eq!(plan.unassigned as usize, if candidates.is_empty() { 0 } else { open });
            for (i, v) in plan.visits.iter().enumerate() {
                prop_assert!(v.window.from >= window.from && v.window.to <= window.to);
                let Some(shopper) = v.shopper else { continue };
                let candidate = candidates.iter().find(|c| c.id == shopper).unwrap();
                prop_assert!(!candidate.excluded.contains(&v.location));
                let mut others = history.get(&(shopper, v.location)).cloned().unwrap_or_default();
                others.extend(
                    plan.visits
                        .iter()
                        .enumerate()
                        .filter(|(j, o)| *j != i && o.shopper == Some(shopper) && o.location == v.location)
                        .map(|(_, o)| o.window),
                );
                prop_assert_eq!(rules::check(rules, false, &others, v.window), Ok(()));
            }
        }

        /// With as many shoppers as visits per location, no exclusions and no history, every
        /// visit gets a shopper, whatever the rules.
        #[test]
        fn every_visit_is_planned_when_enough_shoppers_exist(
            rules in any_rules(),
            locations in 1usize..8,
            visits in 1u32..5,
            extra in 0usize..3,
            days in 1u64..90,
        ) {
            let locations: Vec<LocationId> = (0..locations).map(|_| LocationId::generate()).collect();
            let candidates: Vec<Candidate> = (0..visits as usize + extra)
                .map(|_| Candidate { id: UserId::generate(), excluded: vec![] })
                .collect();
            let start = d("2026-06-01");
            let history = HashMap::new();
            let plan = plan(&PlanInput {
                locations: &locations,
                window: DateRange::new(start, start + Days::new(days - 1)),
                visits_per_location: visits,
                shoppers: &candidates,
                history: &history,
                rules,
            });
            prop_assert_eq!(plan.unassigned, 0);
            prop_assert!(plan.visits.iter().all(|v| v.shopper.is_some()));
        }
    }
}
