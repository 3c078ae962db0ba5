//! The use cases of an organization's own settings.

use super::model::{OrganizationSettings, SettingsChange};
use crate::audit::model::{self as audit, Actor, Target};
use crate::db::{Db, DbError, settings};
use crate::ids::OrgId;

/// The organization's settings (the defaults until an admin changes them).
pub async fn settings(db: &Db, org: OrgId) -> Result<OrganizationSettings, DbError> {
    db.run(move |conn| Ok(settings::organization(conn, org)?))
        .await
}

/// Changes the organization's settings (those not named keep their value).
pub async fn put_settings(
    db: &Db,
    org: OrgId,
    actor: Actor,
    change: SettingsChange,
) -> Result<OrganizationSettings, DbError> {
    db.write(move |tx| {
        let now = tx.now();
        let before = settings::organization(tx, org)?;
        let wanted = before.changed(change);
        settings::put_organization(tx, org, wanted, now)?;
        audit::record(
            tx,
            org,
            actor,
            "organization.settings_changed",
            Target::new("organization", org),
            Some(&before),
            Some(&wanted),
        )?;
        Ok(wanted)
    })
    .await
}
