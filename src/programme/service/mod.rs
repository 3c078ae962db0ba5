//! Use cases of the visit programme: settings, exclusions, waves, assignments and coverage.

mod assignments;
mod coverage;
mod eligibility;
mod exclusions;
mod hooks;
mod planning;
mod settings;
mod waves;

pub use assignments::*;
pub use coverage::*;
pub use eligibility::*;
pub use exclusions::*;
pub use hooks::*;
pub use planning::*;
pub use settings::*;
pub use waves::*;

use chrono::Days;

use super::model::{AssignmentStatus, Wave};
use super::rules::{self, Breach, DateRange, LockoutRules, YEAR_DAYS};
use crate::auth::model::Role;
use crate::db::locations::{self as location_store, LocationFilter};
use crate::db::programme as store;
use crate::db::{self, DbConn, DbError, QueryResult, identity};
use crate::ids::{AssignmentId, LocationId, OrgId, UserId, WaveId};
use crate::locations::model::Location;
use crate::validation::Violation;

/// The longest wave, in days.
pub const MAX_WAVE_DAYS: i64 = 366;
/// Most assignments one request adds.
pub const MAX_BATCH: usize = 500;
/// Most locations a wave plans at once.
const MAX_SCOPE: i64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ProgrammeError {
    #[error("no such {0} in your organization")]
    NotFound(&'static str),
    #[error("invalid request")]
    Invalid(Vec<Violation>),
    /// Lockout rules or exclusions, each with the pointer of the item that breaks it.
    #[error("{}", .0.first().map(|(_, b)| b.message()).unwrap_or_default())]
    Rules(Vec<(String, Breach)>),
    #[error("the wave has started: its dates, questionnaire and scope no longer change")]
    WaveStarted,
    #[error("the wave is closed")]
    WaveClosed,
    #[error("the wave has ended: there is nothing left to plan")]
    WaveEnded,
    #[error("{detail}")]
    Transition {
        current: AssignmentStatus,
        detail: String,
    },
    #[error("another shopper claimed this assignment first")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbError),
}

db::domain_error!(ProgrammeError);

fn chars(s: &str) -> usize {
    s.chars().count()
}

// ------------------------------------------------------- reads and checks they share

/// The active locations a wave covers.
pub(super) fn scope(conn: &mut DbConn, wave: &Wave) -> QueryResult<Vec<Location>> {
    let filter = LocationFilter {
        region: wave.region.clone(),
        tag: wave.tag.clone(),
        active: Some(true),
        ..LocationFilter::default()
    };
    location_store::list(conn, wave.org_id, &filter, None, MAX_SCOPE)
}

/// A shopper's visits to a location that the rules count: their reports since a year and a
/// lockout before `around`, and their assigned or accepted assignments (except `except`).
pub(super) fn visits_of(
    conn: &mut DbConn,
    org: OrgId,
    rules: LockoutRules,
    shopper: UserId,
    location: LocationId,
    around: DateRange,
    except: Option<AssignmentId>,
) -> QueryResult<Vec<DateRange>> {
    let back = YEAR_DAYS + u64::from(rules.lockout_days.unwrap_or(0));
    let since = around
        .from
        .checked_sub_days(Days::new(back))
        .unwrap_or(around.from);
    let mut visits: Vec<DateRange> = store::visit_dates(conn, org, shopper, location, since, None)?
        .into_iter()
        .map(DateRange::day)
        .collect();
    visits.extend(
        store::active_for(conn, org, shopper, location)?
            .into_iter()
            .filter(|a| Some(a.id) != except)
            .map(|a| a.window()),
    );
    Ok(visits)
}

/// Whether `shopper` may take a visit to `location` in `window`. A write that acts on the
/// answer locks the shopper's row first ([`identity::lock_user`]), so that concurrent
/// requests giving the shopper visits are checked one at a time, each seeing the others'.
pub fn check_rules(
    conn: &mut DbConn,
    org: OrgId,
    rules: LockoutRules,
    shopper: UserId,
    location: LocationId,
    window: DateRange,
    except: Option<AssignmentId>,
) -> QueryResult<Result<(), Breach>> {
    let excluded = store::is_excluded(conn, org, shopper, location)?;
    let others = visits_of(conn, org, rules, shopper, location, window, except)?;
    Ok(rules::check(rules, excluded, &others, window))
}

pub(super) fn active_shopper(conn: &mut DbConn, org: OrgId, id: UserId) -> QueryResult<bool> {
    Ok(identity::find_user(conn, org, id)?.is_some_and(|u| u.active && u.role == Role::Shopper))
}

/// The questionnaire key a wave's visits answer (what an assignment response shows).
pub(super) fn wave_key(conn: &mut DbConn, org: OrgId, wave: WaveId) -> QueryResult<String> {
    Ok(store::find_wave(conn, org, wave)?
        .map(|w| w.questionnaire_key)
        .unwrap_or_default())
}

/// The violations of a visit window against its wave (pointers under `prefix`).
pub(super) fn check_window(wave: &Wave, window: DateRange, prefix: &str) -> Vec<Violation> {
    if window.to < window.from {
        vec![Violation::new(
            format!("{prefix}/visit_to"),
            "before_start",
            "the window ends before it starts",
        )]
    } else if window.from < wave.starts_on || window.to > wave.ends_on {
        vec![Violation::new(
            format!("{prefix}/visit_from"),
            "outside_wave",
            format!(
                "the window lies within the wave, {} to {}",
                wave.starts_on, wave.ends_on
            ),
        )]
    } else {
        Vec::new()
    }
}
