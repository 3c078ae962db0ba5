//! Where a shopper may go today: each active location with the rule that blocks a visit
//! there (exclusion, lockout, yearly limit) and the day it frees up.

use std::collections::HashMap;

use chrono::{DateTime, Days, Utc};

use super::*;
use crate::db::Db;
use crate::db::programme as store;
use crate::ids::{LocationId, OrgId, UserId};
use crate::programme::rules::{self, DateRange, YEAR_DAYS};

/// A location and, when the rules refuse a visit there today, why.
pub struct Eligibility {
    pub location: Location,
    pub blocked: Option<Breach>,
}

/// A page of the organization's active locations (after `after`, by id; in `region` when
/// given) with what the shopper's rules say of a visit today, each location's own today.
pub async fn eligible_locations(
    db: &Db,
    org: OrgId,
    shopper: UserId,
    region: Option<String>,
    after: Option<LocationId>,
    fetch: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Eligibility>, ProgrammeError> {
    db.run(move |conn| {
        let filter = LocationFilter {
            region,
            active: Some(true),
            ..LocationFilter::default()
        };
        let locations = location_store::list(conn, org, &filter, after, fetch)?;
        let settings = store::settings(conn, org)?;
        let excluded = store::exclusions(conn, org, shopper)?;
        // Visits the rules count: reports since a year and a lockout (and a day) ago, and
        // the shopper's assigned or accepted assignments.
        let back = YEAR_DAYS + u64::from(settings.rules.lockout_days.unwrap_or(0)) + 1;
        let today = now.date_naive();
        let since = today.checked_sub_days(Days::new(back)).unwrap_or(today);
        let mut visits: HashMap<LocationId, Vec<DateRange>> = HashMap::new();
        if settings.rules != LockoutRules::default() {
            for (location, day) in store::shopper_visit_dates(conn, org, shopper, since)? {
                visits
                    .entry(location)
                    .or_default()
                    .push(DateRange::day(day));
            }
            for a in store::shopper_assignments(conn, org, shopper)? {
                if matches!(
                    a.status,
                    AssignmentStatus::Assigned | AssignmentStatus::Accepted
                ) {
                    visits.entry(a.location_id).or_default().push(a.window());
                }
            }
        }
        Ok::<_, ProgrammeError>(
            locations
                .into_iter()
                .map(|location| {
                    let local_today = now.with_timezone(&location.fields.timezone).date_naive();
                    let blocked = rules::check(
                        settings.rules,
                        excluded.contains(&location.id),
                        visits.get(&location.id).map_or(&[][..], Vec::as_slice),
                        DateRange::day(local_today),
                    )
                    .err();
                    Eligibility { location, blocked }
                })
                .collect(),
        )
    })
    .await
}
