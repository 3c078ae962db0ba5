//! Assignments after planning: reading, changing and the steps of their state machine.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::*;
use crate::db::programme as store;
use crate::db::{Db, DbConn, DbError, QueryResult};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{AssignmentId, OrgId, UserId, WaveId};
use crate::pagination::PageRequest;
use crate::programme::commands::*;
use crate::programme::model::{Assignment, AssignmentStatus, WaveAssignments, earliest_local_date};
use crate::programme::rules::DateRange;
use crate::validation::Violation;

pub async fn wave_assignments(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    query: AssignmentFilter,
    now: DateTime<Utc>,
) -> Result<WaveAssignments, ProgrammeError> {
    db.run(move |conn| {
        let Some(wave) = store::find_wave(conn, org, wave_id)? else {
            return Err(ProgrammeError::NotFound("wave"));
        };
        let list = store::wave_assignments(conn, org, wave_id)?
            .into_iter()
            .filter(|a| query.status.is_none_or(|s| a.status_at(now) == s))
            .filter(|a| query.location_id.is_none_or(|l| a.location_id == l))
            .collect();
        Ok(WaveAssignments {
            wave,
            assignments: list,
        })
    })
    .await
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
    db.run(move |conn| visible(conn, org, asker, id)).await
}

fn visible(
    conn: &mut DbConn,
    org: OrgId,
    asker: Asker,
    id: AssignmentId,
) -> Result<(Assignment, String), ProgrammeError> {
    let Some(a) = store::find_assignment(conn, org, id)? else {
        return Err(ProgrammeError::NotFound("assignment"));
    };
    // A shopper sees their own, and open ones they could claim.
    if let Asker::Shopper(me) = asker
        && a.shopper_id != Some(me)
        && a.status != AssignmentStatus::Open
    {
        return Err(ProgrammeError::NotFound("assignment"));
    }
    let key = wave_key(conn, org, a.wave_id)?;
    Ok((a, key))
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
    req: AssignmentChange,
) -> Result<(Assignment, String), ProgrammeError> {
    db.write(move |tx| {
        let Some(mut a) = store::find_assignment(tx, org, id)? else {
            return Err(ProgrammeError::NotFound("assignment"));
        };
        let Some(wave) = store::find_wave(tx, org, a.wave_id)? else {
            return Err(ProgrammeError::NotFound("assignment"));
        };
        let now = tx.now();
        let current = a.status_at(now);
        let changeable = current.is_active() || current == AssignmentStatus::Declined;
        if !changeable {
            return Err(transition(current, "changed"));
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
            && !active_shopper(tx, org, s)?
        {
            errors.push(Violation::new(
                "/shopper_id",
                "unknown_shopper",
                "no active shopper with this id in your organization",
            ));
        }
        if !errors.is_empty() {
            return Err(ProgrammeError::Invalid(errors));
        }
        if let Some(s) = shopper {
            identity::lock_user(tx, org, s)?;
            let settings = store::settings(tx, org)?;
            if let Err(b) = check_rules(
                tx,
                org,
                settings.rules,
                s,
                a.location_id,
                window,
                Some(a.id),
            )? {
                return Err(ProgrammeError::Rules(vec![("/shopper_id".into(), b)]));
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
        if !store::update_assignment_if(tx, &a, before)? {
            return Err(ProgrammeError::Taken);
        }
        events::record(tx, &event::assignment(EventType::AssignmentUpdated, &a))?;
        Ok((a, wave.questionnaire_key))
    })
    .await
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
    db.write(move |tx| {
        // A claim may find the assignment just taken by someone else: that is a 409, not
        // a 404 (it was open when the shopper saw it).
        let (mut a, key) = if matches!(step, Step::Claim) {
            let a = store::find_assignment(tx, org, id)?
                .ok_or(ProgrammeError::NotFound("assignment"))?;
            let key = wave_key(tx, org, a.wave_id)?;
            (a, key)
        } else {
            visible(tx, org, asker, id)?
        };
        let now = tx.now();
        let current = a.status_at(now);
        let before = (a.status, a.shopper_id);
        match (&step, asker) {
            (Step::Accept, Asker::Shopper(me)) => {
                if current != AssignmentStatus::Assigned || a.shopper_id != Some(me) {
                    return Err(transition(current, "accepted"));
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
                    return Err(transition(current, "declined"));
                }
                a.status = AssignmentStatus::Declined;
                a.decline_reason = Some(reason.trim().to_string());
            }
            (Step::Claim, Asker::Shopper(me)) => {
                if current != AssignmentStatus::Open {
                    let taken = current.is_active() && a.shopper_id.is_some_and(|s| s != me);
                    return Err(if taken {
                        ProgrammeError::Taken
                    } else {
                        transition(current, "claimed")
                    });
                }
                identity::lock_user(tx, org, me)?;
                let settings = store::settings(tx, org)?;
                if let Err(b) = check_rules(
                    tx,
                    org,
                    settings.rules,
                    me,
                    a.location_id,
                    a.window(),
                    Some(a.id),
                )? {
                    return Err(ProgrammeError::Rules(vec![(String::new(), b)]));
                }
                a.shopper_id = Some(me);
                a.status = AssignmentStatus::Accepted;
            }
            (Step::Cancel, Asker::Admin) => {
                if !(current.is_active() || current == AssignmentStatus::Declined) {
                    return Err(transition(current, "cancelled"));
                }
                a.status = AssignmentStatus::Cancelled;
            }
            _ => return Err(ProgrammeError::NotFound("assignment")),
        }
        a.updated_at = now;
        if !store::update_assignment_if(tx, &a, before)? {
            return Err(ProgrammeError::Taken);
        }
        let kind = match step {
            Step::Accept => EventType::AssignmentAccepted,
            Step::Decline(_) => EventType::AssignmentDeclined,
            Step::Claim => EventType::AssignmentClaimed,
            Step::Cancel => EventType::AssignmentCancelled,
        };
        events::record(tx, &event::assignment(kind, &a))?;
        Ok((a, key))
    })
    .await
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
    let list: Vec<Assignment> = list
        .into_iter()
        .filter(|a| status.is_none_or(|s| a.status_at(now) == s))
        .collect();
    Ok(with_keys(list, &keys))
}

/// Open assignments a shopper may claim (window not ended, every rule passed), earliest
/// deadline first, after the page's cursor: at most one more than the page.
pub async fn claimable(
    db: &Db,
    org: OrgId,
    shopper: UserId,
    now: DateTime<Utc>,
    page: PageRequest,
) -> Result<Vec<(Assignment, String)>, ProgrammeError> {
    let (list, keys) = db
        .run(move |conn| {
            let settings = store::settings(conn, org)?;
            let mut open = store::open_assignments(conn, org, earliest_local_date(now))?;
            open.sort_by_cached_key(Assignment::deadline_order);
            let mut list = Vec::new();
            for a in open {
                if list.len() > page.limit as usize {
                    break;
                }
                if page.after_key(&a.deadline_order())
                    && check_rules(
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
) -> QueryResult<HashMap<WaveId, String>> {
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
