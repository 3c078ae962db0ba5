//! The use cases of an organization's own settings.

use super::model::{OrganizationSettings, SettingsChange};
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
    change: SettingsChange,
) -> Result<OrganizationSettings, DbError> {
    db.write(move |tx| {
        let now = tx.now();
        let wanted = settings::organization(tx, org)?.changed(change);
        settings::put_organization(tx, org, wanted, now)?;
        Ok(wanted)
    })
    .await
}
