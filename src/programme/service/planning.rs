//! Planning a wave: adding assignments by hand and generating them, under the lockout rules.

use std::collections::HashMap;

use chrono::{DateTime, Days, Utc};

use super::*;
use crate::auth::model::Role;
use crate::db::Db;
use crate::db::identity::{self, UserFilter};
use crate::db::programme as store;
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{LocationId, OrgId, UserId, WaveId};
use crate::programme::commands::*;
use crate::programme::model::{
    Assignment, AssignmentStatus, Generated, ProgrammeSettings, WaveAssignments,
    earliest_local_date,
};
use crate::programme::rules::{self, DateRange, YEAR_DAYS};
use crate::programme::schedule::{self, Candidate, PlanInput};
use crate::validation::Violation;

/// Adds planned visits to a wave, all or none.
pub async fn add_assignments(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    items: Vec<PlannedVisit>,
) -> Result<WaveAssignments, ProgrammeError> {
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ProgrammeError::Invalid(vec![Violation::new(
            "",
            "invalid_length",
            format!("1 to {MAX_BATCH} assignments"),
        )]));
    }
    db.write(move |tx| {
        let (wave, settings) = plannable(tx, org, wave_id)?;
        // The shoppers' rows are locked before their visits are read (see `check_rules`).
        let mut shoppers: Vec<UserId> = items.iter().filter_map(|i| i.shopper_id).collect();
        shoppers.sort_unstable();
        shoppers.dedup();
        identity::lock_users(tx, org, &shoppers)?;
        let in_scope: Vec<LocationId> = scope(tx, &wave)?.iter().map(|l| l.id).collect();
        let now = tx.now();
        let mut errors = Vec::new();
        let mut breaches = Vec::new();
        let mut created: Vec<Assignment> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = |field: &str| format!("/{i}/{field}");
            let window = DateRange {
                from: item.visit_from.unwrap_or(wave.starts_on),
                to: item.visit_to.unwrap_or(wave.ends_on),
            };
            if !in_scope.contains(&item.location_id) {
                errors.push(Violation::new(
                    p("location_id"),
                    "not_in_wave",
                    "no active location with this id in the wave's scope",
                ));
            }
            errors.extend(check_window(&wave, window, &format!("/{i}")));
            if chars(&item.instructions) > 2000 {
                errors.push(Violation::new(
                    p("instructions"),
                    "too_long",
                    "at most 2000 characters",
                ));
            }
            if let Some(shopper) = item.shopper_id {
                if !active_shopper(tx, org, shopper)? {
                    errors.push(Violation::new(
                        p("shopper_id"),
                        "unknown_shopper",
                        "no active shopper with this id in your organization",
                    ));
                } else if errors.is_empty() {
                    let mut others = visits_of(
                        tx,
                        org,
                        settings.rules,
                        shopper,
                        item.location_id,
                        window,
                        None,
                    )?;
                    // Visits earlier in this request count too.
                    others.extend(
                        created
                            .iter()
                            .filter(|a| {
                                a.shopper_id == Some(shopper) && a.location_id == item.location_id
                            })
                            .map(Assignment::window),
                    );
                    let excluded = store::is_excluded(tx, org, shopper, item.location_id)?;
                    if let Err(b) = rules::check(settings.rules, excluded, &others, window) {
                        breaches.push((p("shopper_id"), b));
                    }
                }
            }
            created.push(Assignment::planned(
                &wave,
                item.location_id,
                item.shopper_id,
                window,
                item.slot,
                &item.instructions,
                now,
            ));
        }
        if !errors.is_empty() {
            return Err(ProgrammeError::Invalid(errors));
        }
        if !breaches.is_empty() {
            return Err(ProgrammeError::Rules(breaches));
        }
        for a in &created {
            store::insert_assignment(tx, a)?;
            events::record(tx, &event::assignment(EventType::AssignmentCreated, a))?;
        }
        Ok(WaveAssignments {
            wave,
            assignments: created,
        })
    })
    .await
}

/// Plans the visits a wave still lacks (required, less those completed or planned) over its
/// locations, window and times of day.
pub async fn generate(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    req: GeneratePlan,
) -> Result<Generated, ProgrammeError> {
    if chars(&req.instructions) > 2000 {
        return Err(ProgrammeError::Invalid(vec![Violation::new(
            "/instructions",
            "too_long",
            "at most 2000 characters",
        )]));
    }
    if req.shopper_ids.as_ref().is_some_and(|s| s.len() > 1000) {
        return Err(ProgrammeError::Invalid(vec![Violation::new(
            "/shopper_ids",
            "too_many",
            "at most 1000 shoppers",
        )]));
    }
    db.write(move |tx| {
        let (wave, settings) = plannable(tx, org, wave_id)?;
        let now = tx.now();
        let today = earliest_local_date(now);
        if today > wave.ends_on {
            return Err(ProgrammeError::WaveEnded);
        }
        // What is left of the window.
        let window = DateRange::new(wave.starts_on.max(today.min(wave.ends_on)), wave.ends_on);
        let existing = store::wave_assignments(tx, org, wave_id)?;
        let locations = scope(tx, &wave)?;
        let by_need = needs(&wave, &locations, &existing, now);
        let shoppers = match req.assign.unwrap_or(true) {
            true => candidates(tx, org, req.shopper_ids.as_deref())?,
            false => Vec::new(),
        };
        let mut history = counted_visits(tx, org, settings.rules, window)?;
        let mut created = Vec::new();
        let mut unassigned = 0;
        let mut needs: Vec<(u32, Vec<LocationId>)> = by_need.into_iter().collect();
        needs.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        let counted =
            u32::try_from(needs.iter().map(|(_, l)| l.len()).sum::<usize>()).unwrap_or(u32::MAX);
        for (need, locations) in needs {
            let plan = schedule::plan(&PlanInput {
                locations: &locations,
                window,
                visits_per_location: need,
                shoppers: &shoppers,
                history: &history,
                rules: settings.rules,
            });
            unassigned += plan.unassigned;
            for v in plan.visits {
                if let Some(s) = v.shopper {
                    history.entry((s, v.location)).or_default().push(v.window);
                }
                let a = Assignment::planned(
                    &wave,
                    v.location,
                    v.shopper,
                    v.window,
                    Some(v.slot),
                    &req.instructions,
                    now,
                );
                store::insert_assignment(tx, &a)?;
                events::record(tx, &event::assignment(EventType::AssignmentCreated, &a))?;
                created.push(a);
            }
        }
        Ok(Generated {
            wave,
            created,
            unassigned,
            locations: counted,
        })
    })
    .await
}

/// The locations by how many visits each still needs: what neither a completed nor a
/// still-active assignment covers.
fn needs(
    wave: &Wave,
    locations: &[Location],
    existing: &[Assignment],
    now: DateTime<Utc>,
) -> HashMap<u32, Vec<LocationId>> {
    let mut by_need: HashMap<u32, Vec<LocationId>> = HashMap::new();
    for l in locations {
        let planned = existing
            .iter()
            .filter(|a| a.location_id == l.id)
            .filter(|a| {
                let s = a.status_at(now);
                s.is_active() || s == AssignmentStatus::Completed
            })
            .count();
        let need = wave
            .visits_per_location
            .saturating_sub(u32::try_from(planned).unwrap_or(u32::MAX));
        if need > 0 {
            by_need.entry(need).or_default().push(l.id);
        }
    }
    by_need
}

/// The active shoppers a generation may choose from (all, or the `wanted` ones, each of
/// which must be one), with the locations each is excluded from.
fn candidates(
    tx: &mut DbConn,
    org: OrgId,
    wanted: Option<&[UserId]>,
) -> Result<Vec<Candidate>, ProgrammeError> {
    let shoppers = UserFilter {
        role: Some(Role::Shopper),
        active: Some(true),
    };
    let all = identity::list_users(tx, org, &shoppers, None, 100_000)?;
    let unknown: Vec<Violation> = wanted
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, id)| !all.iter().any(|u| u.id == **id))
        .map(|(i, _)| {
            Violation::new(
                format!("/shopper_ids/{i}"),
                "unknown_shopper",
                "no active shopper with this id in your organization",
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ProgrammeError::Invalid(unknown));
    }
    // The candidates' rows are locked before their visits are read (see `check_rules`).
    let mut ids: Vec<UserId> = all
        .iter()
        .filter(|u| wanted.is_none_or(|w| w.contains(&u.id)))
        .map(|u| u.id)
        .collect();
    ids.sort_unstable();
    identity::lock_users(tx, org, &ids)?;
    let mut excluded: HashMap<UserId, Vec<LocationId>> = HashMap::new();
    for (s, l) in store::all_exclusions(tx, org)? {
        excluded.entry(s).or_default().push(l);
    }
    Ok(all
        .into_iter()
        .filter(|u| wanted.is_none_or(|w| w.contains(&u.id)))
        .map(|u| Candidate {
            excluded: excluded.remove(&u.id).unwrap_or_default(),
            id: u.id,
        })
        .collect())
}

/// The visits the lockout rules count for a plan of `window`, per shopper and location:
/// reports in the last year and a lockout, and every assigned or accepted assignment.
fn counted_visits(
    tx: &mut DbConn,
    org: OrgId,
    rules: LockoutRules,
    window: DateRange,
) -> QueryResult<HashMap<(UserId, LocationId), Vec<DateRange>>> {
    let back = YEAR_DAYS + u64::from(rules.lockout_days.unwrap_or(0));
    let since = window
        .from
        .checked_sub_days(Days::new(back))
        .unwrap_or(window.from);
    let mut history: HashMap<(UserId, LocationId), Vec<DateRange>> = HashMap::new();
    for (s, l, d) in store::all_visit_dates(tx, org, since)? {
        history.entry((s, l)).or_default().push(DateRange::day(d));
    }
    for a in store::all_active(tx, org)? {
        if let Some(s) = a.shopper_id {
            history
                .entry((s, a.location_id))
                .or_default()
                .push(a.window());
        }
    }
    Ok(history)
}

/// A wave that may still be planned (it exists and is not closed), with the organization's
/// programme settings.
fn plannable(
    tx: &mut DbConn,
    org: OrgId,
    wave_id: WaveId,
) -> Result<(Wave, ProgrammeSettings), ProgrammeError> {
    // Two plans of one wave run one after the other: each reads what the wave still needs.
    store::lock_wave(tx, org, wave_id)?;
    let wave = store::find_wave(tx, org, wave_id)?.ok_or(ProgrammeError::NotFound("wave"))?;
    if wave.closed_at.is_some() {
        return Err(ProgrammeError::WaveClosed);
    }
    Ok((wave, store::settings(tx, org)?))
}
