//! Locations a shopper never visits.

use super::*;
use crate::audit::model::{self as audit, Actor, Target};
use crate::auth::model::Role;
use crate::db::identity::{self};
use crate::db::locations::{self as location_store};
use crate::db::programme as store;
use crate::db::{Db, DbConn};
use crate::ids::{LocationId, OrgId, UserId};
use crate::validation::Violation;

fn require_shopper(conn: &mut DbConn, org: OrgId, user: UserId) -> Result<(), ProgrammeError> {
    match identity::find_user(conn, org, user)? {
        None => Err(ProgrammeError::NotFound("user")),
        Some(u) if u.role != Role::Shopper => Err(ProgrammeError::Invalid(vec![Violation::new(
            "",
            "not_a_shopper",
            "only shoppers have excluded locations",
        )])),
        Some(_) => Ok(()),
    }
}

pub async fn exclusions(
    db: &Db,
    org: OrgId,
    shopper: UserId,
) -> Result<Vec<LocationId>, ProgrammeError> {
    db.run(move |conn| {
        require_shopper(conn, org, shopper)?;
        Ok(store::exclusions(conn, org, shopper)?)
    })
    .await
}

pub async fn set_exclusions(
    db: &Db,
    org: OrgId,
    actor: Actor,
    shopper: UserId,
    locations: Vec<LocationId>,
) -> Result<Vec<LocationId>, ProgrammeError> {
    let mut ids = locations;
    if ids.len() > 500 {
        return Err(ProgrammeError::Invalid(vec![Violation::new(
            "/location_ids",
            "too_many",
            "at most 500 locations",
        )]));
    }
    ids.sort();
    ids.dedup();
    db.write(move |tx| {
        require_shopper(tx, org, shopper)?;
        let known = location_store::existing_ids(tx, org, &ids)?;
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
            return Err(ProgrammeError::Invalid(unknown));
        }
        let now = tx.now();
        let before = store::exclusions(tx, org, shopper)?;
        store::set_exclusions(tx, org, shopper, &ids, now)?;
        audit::record(
            tx,
            org,
            actor,
            "user.exclusions_set",
            Target::new("user", shopper),
            Some(&serde_json::json!({ "location_ids": before })),
            Some(&serde_json::json!({ "location_ids": ids })),
        )?;
        Ok(ids.clone())
    })
    .await
}
