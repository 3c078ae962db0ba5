//! Waves: a period, a questionnaire and a number of visits per location.

use chrono::NaiveDate;

use super::*;
use crate::audit::model::{self as audit, Actor, Target};
use crate::db::programme as store;
use crate::db::{Db, DbConn, DbError, QueryResult};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{OrgId, WaveId};
use crate::programme::commands::*;
use crate::programme::dto::WaveResponse;
use crate::programme::model::{AssignmentStatus, Wave};
use crate::validation::Violation;

/// Records the change of a wave in the audit log, before and after as the API shows them.
fn audited(
    tx: &mut crate::db::Tx<'_>,
    actor: Actor,
    action: &'static str,
    before: Option<&Wave>,
    after: &Wave,
) -> Result<(), ProgrammeError> {
    let now = tx.now();
    audit::record(
        tx,
        after.org_id,
        actor,
        action,
        Target::new("wave", after.id),
        before.map(|b| WaveResponse::new(b.clone(), now)).as_ref(),
        Some(&WaveResponse::new(after.clone(), now)),
    )?;
    Ok(())
}

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

fn unknown_key(conn: &mut DbConn, org: OrgId, key: &str) -> QueryResult<Option<Violation>> {
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
    actor: Actor,
    req: NewWave,
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
    let errors = check_wave(&fields);
    db.write(move |tx| {
        let mut errors = errors.clone();
        if errors.is_empty()
            && let Some(v) = unknown_key(tx, org, &fields.questionnaire_key)?
        {
            errors.push(v);
        }
        if !errors.is_empty() {
            return Err(ProgrammeError::Invalid(errors));
        }
        let now = tx.now();
        let wave = Wave {
            id: WaveId::generate(),
            org_id: org,
            name: fields.name.clone(),
            starts_on: fields.starts_on,
            ends_on: fields.ends_on,
            questionnaire_key: fields.questionnaire_key.clone(),
            visits_per_location: fields.visits_per_location,
            region: fields.region.clone(),
            tag: fields.tag.clone(),
            closed_at: None,
            created_at: now,
            updated_at: now,
        };
        store::insert_wave(tx, &wave)?;
        events::record(tx, &event::wave(EventType::WaveCreated, &wave))?;
        audited(tx, actor, "wave.created", None, &wave)?;
        Ok(wave)
    })
    .await
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
    actor: Actor,
    id: WaveId,
    req: WaveChange,
) -> Result<Wave, ProgrammeError> {
    db.write(move |tx| {
        let Some(mut wave) = store::find_wave(tx, org, id)? else {
            return Err(ProgrammeError::NotFound("wave"));
        };
        if wave.closed_at.is_some() {
            return Err(ProgrammeError::WaveClosed);
        }
        let before = wave.clone();
        let now = tx.now();
        let structural = req.starts_on.is_some()
            || req.ends_on.is_some()
            || req.questionnaire_key.is_some()
            || req.visits_per_location.is_some()
            || req.region.is_some()
            || req.tag.is_some();
        if structural && wave.started(now) {
            return Err(ProgrammeError::WaveStarted);
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
            && let Some(v) = unknown_key(tx, org, &fields.questionnaire_key)?
        {
            errors.push(v);
        }
        if !errors.is_empty() {
            return Err(ProgrammeError::Invalid(errors));
        }
        wave.name = fields.name;
        wave.starts_on = fields.starts_on;
        wave.ends_on = fields.ends_on;
        wave.questionnaire_key = fields.questionnaire_key;
        wave.visits_per_location = fields.visits_per_location;
        wave.region = fields.region;
        wave.tag = fields.tag;
        wave.updated_at = now;
        store::update_wave(tx, &wave)?;
        events::record(tx, &event::wave(EventType::WaveUpdated, &wave))?;
        audited(tx, actor, "wave.updated", Some(&before), &wave)?;
        Ok(wave)
    })
    .await
}

/// Closes a wave: its assignments still to be done are cancelled.
pub async fn close_wave(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: WaveId,
) -> Result<Wave, ProgrammeError> {
    db.write(move |tx| {
        let Some(mut wave) = store::find_wave(tx, org, id)? else {
            return Err(ProgrammeError::NotFound("wave"));
        };
        if wave.closed_at.is_some() {
            return Ok(wave);
        }
        let before = wave.clone();
        let now = tx.now();
        // The events are written after every row they describe (the sequence lock is
        // taken last, as everywhere, so concurrent writers do not deadlock on it).
        let mut events = Vec::new();
        for mut a in store::wave_assignments(tx, org, id)? {
            if a.status.is_active() || a.status == AssignmentStatus::Declined {
                let before = (a.status, a.shopper_id);
                a.status = AssignmentStatus::Cancelled;
                a.updated_at = now;
                if store::update_assignment_if(tx, &a, before)? {
                    events.push(event::assignment(EventType::AssignmentCancelled, &a));
                }
            }
        }
        wave.closed_at = Some(now);
        wave.updated_at = now;
        store::update_wave(tx, &wave)?;
        events.push(event::wave(EventType::WaveClosed, &wave));
        events::record_all(tx, &events)?;
        audited(tx, actor, "wave.closed", Some(&before), &wave)?;
        Ok(wave)
    })
    .await
}
