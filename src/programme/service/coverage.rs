//! A wave's coverage: planned, done and missing visits per location.

use chrono::{DateTime, Utc};

use super::*;
use crate::db::locations::{self as location_store};
use crate::db::programme as store;
use crate::db::{Db, DbError};
use crate::ids::{OrgId, UserId, WaveId};
use crate::programme::model::AssignmentStatus;
use crate::programme::model::{Coverage, LocationCoverage};

/// A wave's coverage; `manager` limits it to their locations and to completed counts.
pub async fn coverage(
    db: &Db,
    org: OrgId,
    wave_id: WaveId,
    region: Option<String>,
    manager: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Coverage, ProgrammeError> {
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
    let mut rows = Vec::new();
    for l in locations {
        let here = assignments.iter().filter(|a| a.location_id == l.id);
        let (mut assigned, mut open) = (0u32, 0u32);
        for a in here {
            match a.status_at(now) {
                AssignmentStatus::Assigned | AssignmentStatus::Accepted => assigned += 1,
                AssignmentStatus::Open => open += 1,
                _ => {}
            }
        }
        rows.push(LocationCoverage {
            location_id: l.id,
            completed: completed.get(&l.id).copied().unwrap_or(0),
            code: l.fields.code,
            name: l.fields.name,
            region: l.fields.region,
            required: wave.visits_per_location,
            assigned,
            open,
        });
    }
    Ok(Coverage {
        wave_id,
        locations: rows,
        planning_shown: manager.is_none(),
    })
}
