//! Settings of the programme: lockout days and visits per location a year.

use super::*;
use crate::audit::model::{self as audit, Actor, Target};
use crate::db::Db;
use crate::db::programme as store;
use crate::ids::OrgId;
use crate::programme::dto::SettingsBody;
use crate::programme::model::ProgrammeSettings;
use crate::validation::Violation;

pub async fn settings(db: &Db, org: OrgId) -> Result<ProgrammeSettings, ProgrammeError> {
    db.run(move |conn| Ok(store::settings(conn, org)?)).await
}

pub async fn put_settings(
    db: &Db,
    org: OrgId,
    actor: Actor,
    settings: ProgrammeSettings,
) -> Result<ProgrammeSettings, ProgrammeError> {
    let rules = settings.rules;
    let mut errors = Vec::new();
    if rules.lockout_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        errors.push(Violation::new(
            "/lockout_days",
            "out_of_range",
            "from 1 to 3650 days, or null",
        ));
    }
    if rules
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
    db.write(move |tx| {
        let now = tx.now();
        let before = store::settings(tx, org)?;
        store::put_settings(tx, org, &settings, now)?;
        audit::record(
            tx,
            org,
            actor,
            "programme.settings_changed",
            Target::new("organization", org),
            Some(&SettingsBody::from(before)),
            Some(&SettingsBody::from(settings)),
        )?;
        Ok::<_, ProgrammeError>(())
    })
    .await?;
    Ok(settings)
}
