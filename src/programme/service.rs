//! Use cases of the visit programme: settings, exclusions, waves, assignments and coverage.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::dto::*;
use super::model::{Assignment, AssignmentStatus, ProgrammeSettings, Wave, earliest_local_date};
use super::rules::{self, Breach, DateRange, LockoutRules, YEAR_DAYS};
use super::schedule::{self, Candidate, PlanInput};
use crate::auth::model::Role;
use crate::db::identity::{self, UserFilter};
use crate::db::locations::{self as location_store, LocationFilter};
use crate::db::programme as store;
use crate::db::{self, Db, DbConn, DbError};
use crate::events::model::{self as event, EventType};
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

type Outcome<T> = Result<Result<T, ProgrammeError>, DbError>;

fn chars(s: &str) -> usize {
    s.chars().count()
}

// ------------------------------------------------------------------------ settings

pub async fn settings(db: &Db, org: OrgId) -> Result<ProgrammeSettings, ProgrammeError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(store::settings(conn, org)?))
        .await?)
}

pub async fn put_settings(
    db: &Db,
    org: OrgId,
    body: SettingsBody,
) -> Result<ProgrammeSettings, ProgrammeError> {
    let mut errors = Vec::new();
    if body.lockout_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        errors.push(Violation::new(
            "/lockout_days",
            "out_of_range",
            "from 1 to 3650 days, or null",
        ));
    }
    if body
        .max_visits_per_location_per_year
        .is_some_and(|n| !(1..=365).contains(&n))
    {
        errors.push(Violation::new(
            "/max_visits_per_location_per_year",
            "out_of_range",
            "from 1 to 365, or null",
        ));
    }
    if !errors.is_empty() {
        return Err(ProgrammeError::Invalid(errors));
    }
    let settings = ProgrammeSettings::from(body);
    db.run(move |conn| {
        db::write_transaction(conn, |conn| store::put_settings(conn, org, &settings))
            .map_err(DbError::Query)
    })
    .await?;
    Ok(settings)
}

// ---------------------------------------------------------------------- exclusions

fn require_shopper(conn: &mut DbConn, org: OrgId, user: UserId) -> Outcome<()> {
    match identity::find_user(conn, org, user)? {
        None => Ok(Err(ProgrammeError::NotFound("user"))),
        Some(u) if u.role != Role::Shopper => {
            Ok(Err(ProgrammeError::Invalid(vec![Violation::new(
                "",
                "not_a_shopper",
                "only shoppers have excluded locations",
            )])))
        }
        Some(_) => Ok(Ok(())),
    }
}

pub async fn exclusions(
    db: &Db,
    org: OrgId,
    shopper: UserId,
) -> Result<Vec<LocationId>, ProgrammeError> {
    db.run(move |conn| {
        if let Err(e) = require_shopper(conn, org, shopper)? {
            return Ok::<_, DbError>(Err(e));
        }
        Ok(Ok(store::exclusions(conn, org, shopper)?))
    })
    .await?
}

pub async fn set_exclusions(
    db: &Db,
    org: OrgId,
    shopper: UserId,
    body: ExclusionsBody,
) -> Result<Vec<LocationId>, ProgrammeError> {
    let mut ids = body.location_ids;
    if ids.len() > 500 {
        return Err(ProgrammeError::Invalid(vec![Violation::new(
            "/location_ids",
            "too_many",
            "at most 500 locations",
        )]));
    }
    ids.sort();
    ids.dedup();
    db.run(move |conn| {
        if let Err(e) = require_shopper(conn, org, shopper)? {
            return Ok::<_, DbError>(Err(e));
        }
        let known = location_store::existing_ids(conn, org, &ids)?;
        let unknown: Vec<Violation> = ids
            .iter()
            .filter(|id| !known.contains(id))
            .map(|id| {
                Violation::new(
                    "/location_ids",
                    "unknown_location",
                    format!("no location {id} in your organization"),
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Ok(Err(ProgrammeError::Invalid(unknown)));
        }
        db::write_transaction(conn, |conn| store::set_exclusions(conn, org, shopper, &ids))?;
        Ok(Ok(ids.clone()))
    })
    .await?
}

// --------------------------------------------------------------------------- waves

struct WaveFields {
    name: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    questionnaire_key: String,
    visits_per_location: u32,
    region: Option<String>,
    tag: Option<String>,
}

fn check_wave(f: &WaveFields) -> Vec<Violation> {
    let mut errors = Vec::new();
    if f.name.trim().is_empty() || chars(&f.name) > 200 {
        errors.push(Violation::new(
            "/name",
            "invalid_text",
            "1 to 200 characters",
        ));
    }
    let (earliest, latest) = (
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(2199, 12, 31).unwrap_or(NaiveDate::MAX),
    );
    for (pointer, d) in [("/starts_on", f.starts_on), ("/ends_on", f.ends_on)] {
        if d < earliest || d > latest {
            errors.push(Violation::new(
                pointer,
                "out_of_range",
                "a date from 2000-01-01 to 2199-12-31",
            ));
        }
    }
    if f.ends_on < f.starts_on {
        errors.push(Violation::new(
            "/ends_on",
            "before_start",
            "the wave ends before it starts",
        ));
    } else if (f.ends_on - f.starts_on).num_days() >= MAX_WAVE_DAYS {
        errors.push(Violation::new(
            "/ends_on",
            "too_long",
            format!("a wave lasts at most {MAX_WAVE_DAYS} days"),
        ));
    }
    if f.questionnaire_key.is_empty() || chars(&f.questionnaire_key) > 64 {
        errors.push(Violation::new(
            "/questionnaire_key",
            "invalid_text",
            "1 to 64 characters",
        ));
    }
    if !(1..=52).contains(&f.visits_per_location) {
        errors.push(Violation::new(
            "/visits_per_location",
            "out_of_range",
            "from 1 to 52",
        ));
    }
    if f.region
        .as_ref()
        .is_some_and(|r| r.trim().is_empty() || chars(r) > 100)
    {
        errors.push(Violation::new(
            "/region",
            "invalid_text",
            "1 to 100 characters",
        ));
    }
    if f.tag
        .as_ref()
        .is_some_and(|t| t.trim().is_empty() || chars(t) > 50)
    {
        errors.push(Violation::new("/tag", "invalid_text", "1 to 50 characters"));
    }
    errors
}

fn unknown_key(conn: &mut DbConn, org: OrgId, key: &str) -> diesel::QueryResult<Option<Violation>> {
    Ok(crate::db::questionnaires::latest(conn, org, key)?
        .is_none()
        .then(|| {
            Violation::new(
                "/questionnaire_key",
                "unknown_questionnaire",
                format!("no questionnaire `{key}` in your organization"),
            )
        }))
}

pub async fn create_wave(
    db: &Db,
    org: OrgId,
    req: CreateWaveRequest,
) -> Result<Wave, ProgrammeError> {
    let fields = WaveFields {
        name: req.name.trim().to_string(),
        starts_on: req.starts_on,
        ends_on: req.ends_on,
        questionnaire_key: req.questionnaire_key,
        visits_per_location: req.visits_per_location,
        region: req.region.map(|r| r.trim().to_string()),
        tag: req.tag.map(|t| t.trim().to_lowercase()),
    };
    let mut errors = check_wave(&fields);
    db.run(move |conn| {
        if errors.is_empty()
            && let Some(v) = unknown_key(conn, org, &fields.questionnaire_key)?
        {
            errors.push(v);
        }
        if !errors.is_empty() {
            return Ok::<_, DbError>(Err(ProgrammeError::Invalid(errors)));
        }
        let now = db::now();
        let wave = Wave {
            id: WaveId::generate(),
            org_id: org,
            name: fields.name,
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            questionnaire_key: fields.questionnaire_key,
            visits_per_location: fields.visits_per_location,
            region: fields.region,
            tag: fields.tag,
            closed_at: None,
            created_at: now,
            updated_at: now,
        };
        db::write_transaction(conn, |conn| {
            store::insert_wave(conn, &wave)?;
            db::events::record(conn, &event::wave(EventType::WaveCreated, &wave))?;
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(Ok(wave))
    })
    .await?
}

pub async fn find_wave(db: &Db, org: OrgId, id: WaveId) -> Result<Wave, ProgrammeError> {
    db.run(move |conn| Ok::<_, DbError>(store::find_wave(conn, org, id)?))
        .await?
        .ok_or(ProgrammeError::NotFound("wave"))
}

pub async fn list_waves(
    db: &Db,
    org: OrgId,
    after: Option<(NaiveDate, WaveId)>,
    limit: i64,
) -> Result<Vec<Wave>, ProgrammeError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(store::list_waves(conn, org, after, limit)?))
        .await?)
}

pub async fn update_wave(
    db: &Db,
    org: OrgId,
    id: WaveId,
    req: UpdateWaveRequest,
) -> Result<Wave, ProgrammeError> {
    db.run(move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(mut wave) = store::find_wave(conn, org, id)? else {
                return Ok(Err(ProgrammeError::NotFound("wave")));
            };
            if wave.closed_at.is_some() {
                return Ok(Err(ProgrammeError::WaveClosed));
            }
            let now = db::now();
            let structural = req.starts_on.is_some()
                || req.ends_on.is_some()
                || req.questionnaire_key.is_some()
                || req.visits_per_location.is_some()
                || req.region.is_some()
                || req.tag.is_some();
            if structural && wave.started(now) {
                return Ok(Err(ProgrammeError::WaveStarted));
            }
            let fields = WaveFields {
                name: req
                    .name
                    .as_ref()
                    .map_or(wave.name.clone(), |n| n.trim().to_string()),
                starts_on: req.starts_on.unwrap_or(wave.starts_on),
                ends_on: req.ends_on.unwrap_or(wave.ends_on),
                questionnaire_key: req
                    .questionnaire_key
                    .clone()
                    .unwrap_or(wave.questionnaire_key.clone()),
                visits_per_location: req.visits_per_location.unwrap_or(wave.visits_per_location),
                region: req
                    .region
                    .clone()
                    .unwrap_or(wave.region.clone())
                    .map(|r| r.trim().to_string()),
                tag: req
                    .tag
                    .clone()
                    .unwrap_or(wave.tag.clone())
                    .map(|t| t.trim().to_lowercase()),
            };
            let mut errors = check_wave(&fields);
            if errors.is_empty()
                && req.questionnaire_key.is_some()
                && let Some(v) = unknown_key(conn, org, &fields.questionnaire_key)?
            {
                errors.push(v);
            }
            if !errors.is_empty() {
                return Ok(Err(ProgrammeError::Invalid(errors)));
            }
            wave.name = fields.name;
            wave.starts_on = fields.starts_on;
            wave.ends_on = fields.ends_on;
            wave.questionnaire_key = fields.questionnaire_key;
            wave.visits_per_location = fields.visits_per_location;
            wave.region = fields.region;
            wave.tag = fields.tag;
            wave.updated_at = now;
            store::update_wave(conn, &wave)?;
            db::events::record(conn, &event::wave(EventType::WaveUpdated, &wave))?;
            Ok(Ok(wave))
        })
        .map_err(DbError::Query)
    })
    .await?
}

/// Closes a wave: its assignments still to be done are cancelled.
pub async fn close_wave(db: &Db, org: OrgId, id: WaveId) -> Result<Wave, ProgrammeError> {
    db.run(move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(mut wave) = store::find_wave(conn, org, id)? else {
                return Ok(Err(ProgrammeError::NotFound("wave")));
            };
            if wave.closed_at.is_some() {
                return Ok(Ok(wave));
            }
            let now = db::now();
            // The events are written after every row they describe (the sequence lock is
            // taken last, as everywhere, so concurrent writers do not deadlock on it).
            let mut events = Vec::new();
            for mut a in store::wave_assignments(conn, org, id)? {
                if a.status.is_active() || a.status == AssignmentStatus::Declined {
                    let before = (a.status, a.shopper_id);
                    a.status = AssignmentStatus::Cancelled;
                    a.updated_at = now;
                    if store::update_assignment_if(conn, &a, before)? {
                        events.push(event::assignment(EventType::AssignmentCancelled, &a));
                    }
                }
            }
            wave.closed_at = Some(now);
            wave.updated_at = now;
            store::update_wave(conn, &wave)?;
            events.push(event::wave(EventType::WaveClosed, &wave));
            db::events::record_all(conn, &events)?;
            Ok(Ok(wave))
        })
        .map_err(DbError::Query)
    })
    .await?
}

// --------------------------------------------------------------------- assignments

/// The active locations a wave covers.
fn scope(conn: &mut DbConn, wave: &Wave) -> diesel::QueryResult<Vec<Location>> {
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
fn visits_of(
    conn: &mut DbConn,
    org: OrgId,
    rules: LockoutRules,
    shopper: UserId,
    location: LocationId,
    around: DateRange,
    except: Option<AssignmentId>,
) -> diesel::QueryResult<Vec<DateRange>> {
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

/// Whether `shopper` may take a visit to `location` in `window`.
pub fn check_rules(
    conn: &mut DbConn,
    org: OrgId,
    rules: LockoutRules,
    shopper: UserId,
    location: LocationId,
    window: DateRange,
    except: Option<AssignmentId>,
) -> diesel::QueryResult<Result<(), Breach>> {
    let excluded = store::is_excluded(conn, org, shopper, location)?;
    let others = visits_of(conn, org, rules, shopper, location, window, except)?;
    Ok(rules::check(rules, excluded, &others, window))
}

fn active_shopper(conn: &mut DbConn, org: OrgId, id: UserId) -> diesel::QueryResult<bool> {
    Ok(identity::find_user(conn, org, id)?.is_some_and(|u| u.active && u.role == Role::Shopper))
}

/// The questionnaire key a wave's visits answer (what an assignment response shows).
fn wave_key(conn: &mut DbConn, org: OrgId, wave: WaveId) -> diesel::QueryResult<String> {
    Ok(store::find_wave(conn, org, wave)?
        .map(|w| w.questionnaire_key)
        .unwrap_or_default())
}

/// The violations of a visit window against its wave (pointers under `prefix`).
fn check_window(wave: &Wave, window: DateRange, prefix: &str) -> Vec<Violation> {
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

/// Adds planned visits to a wave, all or none.
pub async fn add_assignments(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    items: Vec<NewAssignment>,
) -> Result<(Wave, Vec<Assignment>), ProgrammeError> {
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ProgrammeError::Invalid(vec![Violation::new(
            "",
            "invalid_length",
            format!("1 to {MAX_BATCH} assignments"),
        )]));
    }
    db.run(move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(wave) = store::find_wave(conn, org, wave_id)? else {
                return Ok(Err(ProgrammeError::NotFound("wave")));
            };
            if wave.closed_at.is_some() {
                return Ok(Err(ProgrammeError::WaveClosed));
            }
            let settings = store::settings(conn, org)?;
            let in_scope: Vec<LocationId> = scope(conn, &wave)?.iter().map(|l| l.id).collect();
            let now = db::now();
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
                    if !active_shopper(conn, org, shopper)? {
                        errors.push(Violation::new(
                            p("shopper_id"),
                            "unknown_shopper",
                            "no active shopper with this id in your organization",
                        ));
                    } else if errors.is_empty() {
                        let mut others = visits_of(
                            conn,
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
                                    a.shopper_id == Some(shopper)
                                        && a.location_id == item.location_id
                                })
                                .map(Assignment::window),
                        );
                        let excluded = store::is_excluded(conn, org, shopper, item.location_id)?;
                        if let Err(b) = rules::check(settings.rules, excluded, &others, window) {
                            breaches.push((p("shopper_id"), b));
                        }
                    }
                }
                created.push(Assignment {
                    id: AssignmentId::generate(),
                    org_id: org,
                    wave_id,
                    location_id: item.location_id,
                    shopper_id: item.shopper_id,
                    visit_from: window.from,
                    visit_to: window.to,
                    slot: item.slot,
                    instructions: item.instructions.trim().to_string(),
                    status: if item.shopper_id.is_some() {
                        AssignmentStatus::Assigned
                    } else {
                        AssignmentStatus::Open
                    },
                    report_id: None,
                    decline_reason: None,
                    created_at: now,
                    updated_at: now,
                });
            }
            if !errors.is_empty() {
                return Ok(Err(ProgrammeError::Invalid(errors)));
            }
            if !breaches.is_empty() {
                return Ok(Err(ProgrammeError::Rules(breaches)));
            }
            for a in &created {
                store::insert_assignment(conn, a)?;
                db::events::record(conn, &event::assignment(EventType::AssignmentCreated, a))?;
            }
            Ok(Ok((wave, created)))
        })
        .map_err(DbError::Query)
    })
    .await?
}

/// Plans the visits a wave still lacks (required, less those completed or planned) over its
/// locations, window and times of day.
pub async fn generate(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    req: GenerateRequest,
) -> Result<(Wave, Vec<Assignment>, u32, u32), ProgrammeError> {
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
    db.run(move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(wave) = store::find_wave(conn, org, wave_id)? else {
                return Ok(Err(ProgrammeError::NotFound("wave")));
            };
            if wave.closed_at.is_some() {
                return Ok(Err(ProgrammeError::WaveClosed));
            }
            let settings = store::settings(conn, org)?;
            let now = db::now();
            let today = earliest_local_date(now);
            if today > wave.ends_on {
                return Ok(Err(ProgrammeError::WaveEnded));
            }
            // What is left of the window.
            let window = DateRange::new(wave.starts_on.max(today.min(wave.ends_on)), wave.ends_on);
            let existing = store::wave_assignments(conn, org, wave_id)?;
            let locations = scope(conn, &wave)?;
            // Each location needs what neither a completed nor a still-active assignment covers.
            let mut by_need: HashMap<u32, Vec<LocationId>> = HashMap::new();
            for l in &locations {
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
            let assign = req.assign.unwrap_or(true);
            let mut shoppers: Vec<Candidate> = Vec::new();
            if assign {
                let all = identity::list_users(
                    conn,
                    org,
                    &UserFilter {
                        role: Some(Role::Shopper),
                        active: Some(true),
                    },
                    None,
                    100_000,
                )?;
                let mut excluded: HashMap<UserId, Vec<LocationId>> = HashMap::new();
                for (s, l) in store::all_exclusions(conn, org)? {
                    excluded.entry(s).or_default().push(l);
                }
                let wanted = req.shopper_ids.clone();
                let mut unknown = Vec::new();
                if let Some(ids) = &wanted {
                    for (i, id) in ids.iter().enumerate() {
                        if !all.iter().any(|u| u.id == *id) {
                            unknown.push(Violation::new(
                                format!("/shopper_ids/{i}"),
                                "unknown_shopper",
                                "no active shopper with this id in your organization",
                            ));
                        }
                    }
                }
                if !unknown.is_empty() {
                    return Ok(Err(ProgrammeError::Invalid(unknown)));
                }
                shoppers = all
                    .into_iter()
                    .filter(|u| wanted.as_ref().is_none_or(|w| w.contains(&u.id)))
                    .map(|u| Candidate {
                        excluded: excluded.remove(&u.id).unwrap_or_default(),
                        id: u.id,
                    })
                    .collect();
            }
            // The visits the rules count: reports in the last year and a lockout, and every
            // assigned or accepted assignment.
            let back = YEAR_DAYS + u64::from(settings.rules.lockout_days.unwrap_or(0));
            let since = window
                .from
                .checked_sub_days(Days::new(back))
                .unwrap_or(window.from);
            let mut history: HashMap<(UserId, LocationId), Vec<DateRange>> = HashMap::new();
            for (s, l, d) in store::all_visit_dates(conn, org, since)? {
                history.entry((s, l)).or_default().push(DateRange::day(d));
            }
            for a in store::all_active(conn, org)? {
                if let Some(s) = a.shopper_id {
                    history
                        .entry((s, a.location_id))
                        .or_default()
                        .push(a.window());
                }
            }
            let mut created = Vec::new();
            let mut unassigned = 0;
            let mut needs: Vec<(u32, Vec<LocationId>)> = by_need.into_iter().collect();
            needs.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
            let counted = u32::try_from(needs.iter().map(|(_, l)| l.len()).sum::<usize>())
                .unwrap_or(u32::MAX);
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
                    let a = Assignment {
                        id: AssignmentId::generate(),
                        org_id: org,
                        wave_id,
                        location_id: v.location,
                        shopper_id: v.shopper,
                        visit_from: v.window.from,
                        visit_to: v.window.to,
                        slot: Some(v.slot),
                        instructions: req.instructions.trim().to_string(),
                        status: if v.shopper.is_some() {
                            AssignmentStatus::Assigned
                        } else {
                            AssignmentStatus::Open
                        },
                        report_id: None,
                        decline_reason: None,
                        created_at: now,
                        updated_at: now,
                    };
                    store::insert_assignment(conn, &a)?;
                    db::events::record(conn, &event::assignment(EventType::AssignmentCreated, &a))?;
                    created.push(a);
                }
            }
            Ok(Ok((wave, created, unassigned, counted)))
        })
        .map_err(DbError::Query)
    })
    .await?
}

pub async fn wave_assignments(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    query: AssignmentQuery,
    now: DateTime<Utc>,
) -> Result<(Wave, Vec<Assignment>), ProgrammeError> {
    db.run(move |conn| {
        let Some(wave) = store::find_wave(conn, org, wave_id)? else {
            return Ok::<_, DbError>(Err(ProgrammeError::NotFound("wave")));
        };
        let list = store::wave_assignments(conn, org, wave_id)?
            .into_iter()
            .filter(|a| query.status.is_none_or(|s| a.status_at(now) == s))
            .filter(|a| query.location_id.is_none_or(|l| a.location_id == l))
            .collect();
        Ok::<_, DbError>(Ok((wave, list)))
    })
    .await?
}

/// Who asks about an assignment.
#[derive(Debug, Clone, Copy)]
pub enum Asker {
    Admin,
    Shopper(UserId),
}

/// An assignment and its wave's questionnaire key, as the asker may see it.
pub async fn find_assignment(
    db: &Db,
    org: OrgId,
    asker: Asker,
    id: AssignmentId,
) -> Result<(Assignment, String), ProgrammeError> {
    db.run(move |conn| Ok::<_, DbError>(visible(conn, org, asker, id)?))
        .await?
}

fn visible(
    conn: &mut DbConn,
    org: OrgId,
    asker: Asker,
    id: AssignmentId,
) -> diesel::QueryResult<Result<(Assignment, String), ProgrammeError>> {
    let Some(a) = store::find_assignment(conn, org, id)? else {
        return Ok(Err(ProgrammeError::NotFound("assignment")));
    };
    // A shopper sees their own, and open ones they could claim.
    if let Asker::Shopper(me) = asker
        && a.shopper_id != Some(me)
        && a.status != AssignmentStatus::Open
    {
        return Ok(Err(ProgrammeError::NotFound("assignment")));
    }
    let key = wave_key(conn, org, a.wave_id)?;
    Ok(Ok((a, key)))
}

fn transition(current: AssignmentStatus, what: &str) -> ProgrammeError {
    ProgrammeError::Transition {
        current,
        detail: format!(
            "an assignment that is {} cannot be {what}",
            current.as_str()
        ),
    }
}

/// Admins: reassign, open for claiming, move the window or the slot, change instructions.
pub async fn update_assignment(
    db: &Db,
    org: OrgId,
    id: AssignmentId,
    req: UpdateAssignmentRequest,
) -> Result<(Assignment, String), ProgrammeError> {
    db.run(move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(mut a) = store::find_assignment(conn, org, id)? else {
                return Ok(Err(ProgrammeError::NotFound("assignment")));
            };
            let Some(wave) = store::find_wave(conn, org, a.wave_id)? else {
                return Ok(Err(ProgrammeError::NotFound("assignment")));
            };
            let now = db::now();
            let current = a.status_at(now);
            let changeable = current.is_active() || current == AssignmentStatus::Declined;
            if !changeable {
                return Ok(Err(transition(current, "changed")));
            }
            let before = (a.status, a.shopper_id);
            let mut errors = Vec::new();
            let window = DateRange {
                from: req.visit_from.unwrap_or(a.visit_from),
                to: req.visit_to.unwrap_or(a.visit_to),
            };
            errors.extend(check_window(&wave, window, ""));
            if req.instructions.as_ref().is_some_and(|i| chars(i) > 2000) {
                errors.push(Violation::new(
                    "/instructions",
                    "too_long",
                    "at most 2000 characters",
                ));
            }
            let shopper = req.shopper_id.unwrap_or(a.shopper_id);
            if let Some(s) = shopper
                && !active_shopper(conn, org, s)?
            {
                errors.push(Violation::new(
                    "/shopper_id",
                    "unknown_shopper",
                    "no active shopper with this id in your organization",
                ));
            }
            if !errors.is_empty() {
                return Ok(Err(ProgrammeError::Invalid(errors)));
            }
            if let Some(s) = shopper {
                let settings = store::settings(conn, org)?;
                if let Err(b) = check_rules(
                    conn,
                    org,
                    settings.rules,
                    s,
                    a.location_id,
                    window,
                    Some(a.id),
                )? {
                    return Ok(Err(ProgrammeError::Rules(vec![("/shopper_id".into(), b)])));
                }
            }
            let reassigned = req.shopper_id.is_some() && shopper != a.shopper_id;
            a.visit_from = window.from;
            a.visit_to = window.to;
            if let Some(slot) = req.slot {
                a.slot = slot;
            }
            if let Some(i) = &req.instructions {
                a.instructions = i.trim().to_string();
            }
            if reassigned || a.status == AssignmentStatus::Declined {
                a.shopper_id = shopper;
                a.decline_reason = None;
                a.status = if shopper.is_some() {
                    AssignmentStatus::Assigned
                } else {
                    AssignmentStatus::Open
                };
            }
            a.updated_at = now;
            if !store::update_assignment_if(conn, &a, before)? {
                return Ok(Err(ProgrammeError::Taken));
            }
            db::events::record(conn, &event::assignment(EventType::AssignmentUpdated, &a))?;
            Ok(Ok((a, wave.questionnaire_key)))
        })
        .map_err(DbError::Query)
    })
    .await?
}

/// A shopper's step on an assignment, or an admin's cancellation.
#[derive(Debug, Clone)]
pub enum Step {
    Accept,
    Decline(String),
    Claim,
    Cancel,
}

pub async fn step(
    db: &Db,
    org: OrgId,
    asker: Asker,
    id: AssignmentId,
    step: Step,
) -> Result<(Assignment, String), ProgrammeError> {
    if let Step::Decline(reason) = &step
        && (reason.trim().is_empty() || chars(reason) > 1000)
    {
        return Err(ProgrammeError::Invalid(vec![Violation::new(
            "/reason",
            "invalid_text",
            "a reason has 1 to 1000 characters",
        )]));
    }
    db.run(move |conn| {
        db::write_transaction(conn, |conn| {
            // A claim may find the assignment just taken by someone else: that is a 409, not
            // a 404 (it was open when the shopper saw it).
            let found = if matches!(step, Step::Claim) {
                match store::find_assignment(conn, org, id)? {
                    Some(a) => {
                        let key = wave_key(conn, org, a.wave_id)?;
                        Ok((a, key))
                    }
                    None => Err(ProgrammeError::NotFound("assignment")),
                }
            } else {
                visible(conn, org, asker, id)?
            };
            let (mut a, key) = match found {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let now = db::now();
            let current = a.status_at(now);
            let before = (a.status, a.shopper_id);
            match (&step, asker) {
                (Step::Accept, Asker::Shopper(me)) => {
                    if current != AssignmentStatus::Assigned || a.shopper_id != Some(me) {
                        return Ok(Err(transition(current, "accepted")));
                    }
                    a.status = AssignmentStatus::Accepted;
                }
                (Step::Decline(reason), Asker::Shopper(me)) => {
                    let mine = a.shopper_id == Some(me);
                    if !mine
                        || !matches!(
                            current,
                            AssignmentStatus::Assigned | AssignmentStatus::Accepted
                        )
                    {
                        return Ok(Err(transition(current, "declined")));
                    }
                    a.status = AssignmentStatus::Declined;
                    a.decline_reason = Some(reason.trim().to_string());
                }
                (Step::Claim, Asker::Shopper(me)) => {
                    if current != AssignmentStatus::Open {
                        let taken = current.is_active() && a.shopper_id.is_some_and(|s| s != me);
                        return Ok(Err(if taken {
                            ProgrammeError::Taken
                        } else {
                            transition(current, "claimed")
                        }));
                    }
                    let settings = store::settings(conn, org)?;
                    if let Err(b) = check_rules(
                        conn,
                        org,
                        settings.rules,
                        me,
                        a.location_id,
                        a.window(),
                        Some(a.id),
                    )? {
                        return Ok(Err(ProgrammeError::Rules(vec![(String::new(), b)])));
                    }
                    a.shopper_id = Some(me);
                    a.status = AssignmentStatus::Accepted;
                }
                (Step::Cancel, Asker::Admin) => {
                    if !(current.is_active() || current == AssignmentStatus::Declined) {
                        return Ok(Err(transition(current, "cancelled")));
                    }
                    a.status = AssignmentStatus::Cancelled;
                }
                _ => return Ok(Err(ProgrammeError::NotFound("assignment"))),
            }
            a.updated_at = now;
            if !store::update_assignment_if(conn, &a, before)? {
                return Ok(Err(ProgrammeError::Taken));
            }
            let kind = match step {
                Step::Accept => EventType::AssignmentAccepted,
                Step::Decline(_) => EventType::AssignmentDeclined,
                Step::Claim => EventType::AssignmentClaimed,
                Step::Cancel => EventType::AssignmentCancelled,
            };
            db::events::record(conn, &event::assignment(kind, &a))?;
            Ok(Ok((a, key)))
        })
        .map_err(DbError::Query)
    })
    .await?
}

/// A shopper's assignments: those still to do first (earliest deadline first), then the
/// rest, newest first; each with its wave's questionnaire key.
pub async fn my_assignments(
    db: &Db,
    org: OrgId,
    shopper: UserId,
    status: Option<AssignmentStatus>,
    now: DateTime<Utc>,
) -> Result<Vec<(Assignment, String)>, ProgrammeError> {
    let (list, keys) = db
        .run(move |conn| {
            let list = store::shopper_assignments(conn, org, shopper)?;
            let keys = wave_keys(conn, org, &list)?;
            Ok::<_, DbError>((list, keys))
        })
        .await?;
    let mut list: Vec<Assignment> = list
        .into_iter()
        .filter(|a| status.is_none_or(|s| a.status_at(now) == s))
        .collect();
    list.sort_by_key(|a| {
        let due = a.status_at(now).is_active();
        (
            !due,
            if due { a.visit_to } else { NaiveDate::MAX },
            std::cmp::Reverse(a.updated_at),
        )
    });
    list.truncate(500);
    Ok(with_keys(list, &keys))
}

/// Open assignments a shopper may claim (window not ended, every rule passed).
pub async fn claimable(
    db: &Db,
    org: OrgId,
    shopper: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<(Assignment, String)>, ProgrammeError> {
    let (list, keys) = db
        .run(move |conn| {
            let settings = store::settings(conn, org)?;
            let mut list = Vec::new();
            for a in store::open_assignments(conn, org, earliest_local_date(now))? {
                if list.len() >= 200 {
                    break;
                }
                if check_rules(
                    conn,
                    org,
                    settings.rules,
                    shopper,
                    a.location_id,
                    a.window(),
                    Some(a.id),
                )?
                .is_ok()
                {
                    list.push(a);
                }
            }
            let keys = wave_keys(conn, org, &list)?;
            Ok::<_, DbError>((list, keys))
        })
        .await?;
    Ok(with_keys(list, &keys))
}

fn wave_keys(
    conn: &mut DbConn,
    org: OrgId,
    list: &[Assignment],
) -> diesel::QueryResult<HashMap<WaveId, String>> {
    let mut keys = HashMap::new();
    for a in list {
        if !keys.contains_key(&a.wave_id)
            && let Some(w) = store::find_wave(conn, org, a.wave_id)?
        {
            keys.insert(a.wave_id, w.questionnaire_key);
        }
    }
    Ok(keys)
}

fn with_keys(list: Vec<Assignment>, keys: &HashMap<WaveId, String>) -> Vec<(Assignment, String)> {
    list.into_iter()
        .map(|a| {
            let key = keys.get(&a.wave_id).cloned().unwrap_or_default();
            (a, key)
        })
        .collect()
}

// ------------------------------------------------------------------------ coverage

/// A wave's coverage; `manager` limits it to their locations and to completed counts.
pub async fn coverage(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    region: Option<String>,
    manager: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<CoverageResponse, ProgrammeError> {
    let (wave, locations, assignments, completed) = db
        .run(move |conn| {
            let Some(wave) = store::find_wave(conn, org, wave_id)? else {
                return Ok::<_, DbError>(None);
            };
            let mut locations = scope(conn, &wave)?;
            if let Some(r) = &region {
                locations.retain(|l| l.fields.region.as_deref() == Some(r.as_str()));
            }
            if let Some(m) = manager {
                let mine = location_store::manager_location_ids(conn, org, m)?;
                locations.retain(|l| mine.contains(&l.id));
            }
            let assignments = store::wave_assignments(conn, org, wave_id)?;
            let completed = crate::db::reports::approved_counts(
                conn,
                org,
                &wave.questionnaire_key,
                &wave.starts_on.format("%Y-%m-%d").to_string(),
                &wave.ends_on.format("%Y-%m-%d").to_string(),
            )?;
            Ok(Some((wave, locations, assignments, completed)))
        })
        .await?
        .ok_or(ProgrammeError::NotFound("wave"))?;
    let full = manager.is_none();
    let mut totals = CoverageTotals::default();
    let mut rows = Vec::new();
    for l in locations {
        let required = wave.visits_per_location;
        let done = completed.get(&l.id).copied().unwrap_or(0);
        let here = assignments.iter().filter(|a| a.location_id == l.id);
        let (mut assigned, mut open) = (0u32, 0u32);
        for a in here {
            match a.status_at(now) {
                AssignmentStatus::Assigned | AssignmentStatus::Accepted => assigned += 1,
                AssignmentStatus::Open => open += 1,
                _ => {}
            }
        }
        let gap = required.saturating_sub(done).saturating_sub(assigned);
        totals.locations += 1;
        totals.required += required;
        totals.completed += done;
        if full {
            *totals.assigned.get_or_insert(0) += assigned;
            *totals.open.get_or_insert(0) += open;
            *totals.gap.get_or_insert(0) += gap;
        }
        rows.push(CoverageRow {
            location_id: l.id,
            code: l.fields.code,
            name: l.fields.name,
            region: l.fields.region,
            required,
            completed: done,
            assigned: full.then_some(assigned),
            open: full.then_some(open),
            gap: full.then_some(gap),
        });
    }
    if full {
        totals.assigned.get_or_insert(0);
        totals.open.get_or_insert(0);
        totals.gap.get_or_insert(0);
    }
    Ok(CoverageResponse {
        wave_id,
        locations: rows,
        totals,
    })
}

// ------------------------------------------------------------------------- reports

/// What a report's submission is checked against in the programme.
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    pub settings: ProgrammeSettings,
    /// The assignment the report names, with its wave's questionnaire key.
    pub assignment: Option<(Assignment, String)>,
    /// The shopper is excluded from the location.
    pub excluded: bool,
    /// The shopper's other visits to the location the rules count.
    pub visits: Vec<DateRange>,
}

/// Loads what `check_report` needs for a report of `shopper` at `location` around `day`.
pub fn report_context(
    conn: &mut DbConn,
    org: OrgId,
    shopper: UserId,
    location: LocationId,
    named: Option<AssignmentId>,
    report: crate::ids::ReportId,
    day: NaiveDate,
) -> diesel::QueryResult<ReportContext> {
    let settings = store::settings(conn, org)?;
    let assignment = match named {
        Some(id) => match store::find_assignment(conn, org, id)? {
            Some(a) => {
                let key = wave_key(conn, org, a.wave_id)?;
                Some((a, key))
            }
            None => None,
        },
        None => None,
    };
    let rules_on = settings.rules != LockoutRules::default();
    let excluded = store::is_excluded(conn, org, shopper, location)?;
    let mut visits = Vec::new();
    if rules_on {
        // A day either side: the visit date is local, `day` its UTC date.
        let back = YEAR_DAYS + u64::from(settings.rules.lockout_days.unwrap_or(0)) + 1;
        let since = day.checked_sub_days(Days::new(back)).unwrap_or(day);
        visits.extend(
            store::visit_dates(conn, org, shopper, location, since, Some(report))?
                .into_iter()
                .map(DateRange::day),
        );
        visits.extend(
            store::active_for(conn, org, shopper, location)?
                .into_iter()
                .filter(|a| Some(a.id) != named)
                .map(|a| a.window()),
        );
    }
    Ok(ReportContext {
        settings,
        assignment,
        excluded,
        visits,
    })
}

/// A report against the programme: the violations of the assignment it names (or of the
/// organization's `require_assignment`), and the lockout rule its visit breaks, if any.
pub fn check_report(
    ctx: &ReportContext,
    named: Option<AssignmentId>,
    shopper: UserId,
    location: LocationId,
    questionnaire_key: &str,
    report: crate::ids::ReportId,
    visit_date: NaiveDate,
) -> (Vec<Violation>, Option<Breach>) {
    let mut errors = Vec::new();
    match (named, &ctx.assignment) {
        (None, _) if ctx.settings.require_assignment => errors.push(Violation::new(
            "/assignment_id",
            "assignment_required",
            "your organization requires every report to name its assignment",
        )),
        (None, _) => {}
        (Some(_), None) => errors.push(Violation::new(
            "/assignment_id",
            "unknown_assignment",
            "no assignment with this id in your organization",
        )),
        (Some(_), Some((a, key))) => {
            let completed_by_this =
                a.status == AssignmentStatus::Completed && a.report_id == Some(report);
            if a.shopper_id != Some(shopper) {
                errors.push(Violation::new(
                    "/assignment_id",
                    "not_your_assignment",
                    "the assignment is not the shopper's (claim or accept it first)",
                ));
            } else if !completed_by_this
                // An app that was offline may send the report after the window ended: what
                // counts is that the visit fell inside it (checked below), not when it arrives.
                && !matches!(
                    a.status,
                    AssignmentStatus::Assigned | AssignmentStatus::Accepted
                )
            {
                errors.push(Violation::new(
                    "/assignment_id",
                    "assignment_not_active",
                    format!(
                        "the assignment is {}; only an assigned or accepted one is completed by a report",
                        a.status.as_str()
                    ),
                ));
            }
            if a.location_id != location {
                errors.push(Violation::new(
                    "/location_id",
                    "wrong_location",
                    "the assignment is for another location",
                ));
            }
            if key != questionnaire_key {
                errors.push(Violation::new(
                    "/questionnaire_id",
                    "wrong_questionnaire",
                    format!("the assignment asks for the questionnaire `{key}`"),
                ));
            }
            if visit_date < a.visit_from || visit_date > a.visit_to {
                errors.push(Violation::new(
                    "/visit/started_at",
                    "outside_window",
                    format!(
                        "the visit ({visit_date}) is outside the assignment's window, {} to {}",
                        a.visit_from, a.visit_to
                    ),
                ));
            }
        }
    }
    let breach = rules::check(
        ctx.settings.rules,
        ctx.excluded,
        &ctx.visits,
        DateRange::day(visit_date),
    )
    .err();
    (errors, breach)
}

/// Completes the assignment a new report names, in the report's transaction; false when it
/// changed meanwhile.
pub fn complete(
    conn: &mut DbConn,
    org: OrgId,
    id: AssignmentId,
    report: crate::ids::ReportId,
) -> diesel::QueryResult<bool> {
    let Some(a) = store::find_assignment(conn, org, id)? else {
        return Ok(false);
    };
    if a.status == AssignmentStatus::Completed && a.report_id == Some(report) {
        return Ok(true);
    }
    let shopper = a.shopper_id;
    mark_completed(conn, a, shopper, report)
}

/// Completes `a` with the report, for the shopper, unless it changed since it was read;
/// records the event. False when it changed.
fn mark_completed(
    conn: &mut DbConn,
    mut a: Assignment,
    shopper: Option<UserId>,
    report: crate::ids::ReportId,
) -> diesel::QueryResult<bool> {
    let before = (a.status, a.shopper_id);
    a.status = AssignmentStatus::Completed;
    a.shopper_id = shopper;
    a.report_id = Some(report);
    a.updated_at = db::now();
    if !store::update_assignment_if(conn, &a, before)? {
        return Ok(false);
    }
    db::events::record(conn, &event::assignment(EventType::AssignmentCompleted, &a))?;
    Ok(true)
}

/// A rejected report that an admin reopens takes its assignment back while the slot is still
/// open: completed again with the report, for the report's shopper. A slot that was claimed
/// or given to someone else meanwhile stays theirs (the report then completes none).
pub fn restore_for_reopened(
    conn: &mut DbConn,
    org: OrgId,
    id: AssignmentId,
    report: crate::ids::ReportId,
    shopper: UserId,
) -> diesel::QueryResult<()> {
    match store::find_assignment(conn, org, id)? {
        Some(a) if a.status == AssignmentStatus::Open && a.shopper_id.is_none() => {
            mark_completed(conn, a, Some(shopper), report).map(drop)
        }
        _ => Ok(()),
    }
}

/// A rejected report gives its assignment's slot back: the assignment is open again, for
/// any shopper to claim (or expired, once its window has ended).
pub fn reopen_for_rejected(
    conn: &mut DbConn,
    org: OrgId,
    report: crate::ids::ReportId,
) -> diesel::QueryResult<()> {
    if let Some(mut a) = store::assignment_of_report(conn, org, report)? {
        let before = (a.status, a.shopper_id);
        a.status = AssignmentStatus::Open;
        a.shopper_id = None;
        a.report_id = None;
        a.updated_at = db::now();
        if store::update_assignment_if(conn, &a, before)? {
            db::events::record(conn, &event::assignment(EventType::AssignmentReopened, &a))?;
        }
    }
    Ok(())
}
