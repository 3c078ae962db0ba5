//! The use cases of locations and of the locations managers may see. Each owns its
//! database work and answers with domain results or a [`LocationError`].

use std::collections::HashSet;

use super::dto::LocationResponse;
use super::import::ParsedRow;
use super::model::{ImportOutcome, ImportSummary, ImportedRow, Location, RawLocation, check};
use crate::audit::model::{self as audit, Actor, Target};
use crate::auth::model::Role;
use crate::db::locations::{self as store, LocationFilter};
use crate::db::{self, Db, DbError, Tx, identity};
use crate::events::model::{self as event, EventType};
use crate::events::service as events;
use crate::ids::{LocationId, OrgId, UserId};
use crate::validation::Violation;

/// The most locations one manager may be given.
pub const MAX_MANAGER_LOCATIONS: usize = 10_000;

/// Why a location use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error("invalid location")]
    Invalid(Vec<Violation>),
    /// No such location (or user), or one the caller may not see.
    #[error("not found")]
    NotFound,
    #[error("another location has the code `{0}`")]
    CodeTaken(String),
    #[error("locations are assigned to managers; this user is {0}")]
    NotAManager(Role),
    /// The import would have finished after the request's deadline: nothing was kept.
    #[error("the import did not finish within the request timeout; nothing was imported")]
    TooSlow,
    #[error(transparent)]
    Db(#[from] DbError),
}

db::domain_error!(LocationError);

/// A location of `org`; for a manager (`manager` set) only one they manage.
pub async fn find(
    db: &Db,
    org: OrgId,
    manager: Option<UserId>,
    id: LocationId,
) -> Result<Location, LocationError> {
    db.run(move |conn| {
        let location = store::find(conn, org, id)?.ok_or(LocationError::NotFound)?;
        if let Some(manager) = manager
            && !store::manages(conn, org, manager, id)?
        {
            return Err(LocationError::NotFound);
        }
        Ok(location)
    })
    .await
}

/// A page of locations of `org` matching `filter`, after `after`, in id order.
pub async fn list(
    db: &Db,
    org: OrgId,
    filter: LocationFilter,
    after: Option<LocationId>,
    limit: i64,
) -> Result<Vec<Location>, LocationError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(store::list(conn, org, &filter, after, limit)?))
        .await?)
}

/// Creates a location from checked fields; its code must be free in the organization.
pub async fn create(
    db: &Db,
    org: OrgId,
    actor: Actor,
    raw: RawLocation,
) -> Result<Location, LocationError> {
    let fields = check(raw, "").map_err(LocationError::Invalid)?;
    let location = Location::new(org, fields, db.now());
    let stored = location.clone();
    let code = location.fields.code.clone();
    db.write(move |tx| {
        store::insert(tx, &stored)?;
        events::record(tx, &event::location(EventType::LocationCreated, &stored))?;
        audit::record(
            tx,
            org,
            actor,
            "location.created",
            Target::new("location", stored.id),
            None::<&LocationResponse>,
            Some(&LocationResponse::from(stored.clone())),
        )?;
        Ok(())
    })
    .await
    .map_err(|e| code_taken(e, code))?;
    Ok(location)
}

/// Changes a location: `change` turns the current location into the fields to check (and
/// whether to (re)activate it).
pub async fn update(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: LocationId,
    change: impl FnOnce(&Location) -> (RawLocation, Option<bool>),
) -> Result<Location, LocationError> {
    let mut location = find(db, org, None, id).await?;
    let (raw, active) = change(&location);
    location.fields = check(raw, "").map_err(LocationError::Invalid)?;
    let kind = if location.active && active == Some(false) {
        EventType::LocationDeactivated
    } else {
        EventType::LocationUpdated
    };
    if let Some(active) = active {
        location.active = active;
    }
    location.updated_at = db.now();
    let stored = location.clone();
    let code = location.fields.code.clone();
    db.write(move |tx| {
        let before = store::find(tx, org, stored.id)?.ok_or(LocationError::NotFound)?;
        if !store::update(tx, &stored)? {
            return Err(LocationError::NotFound);
        }
        events::record(tx, &event::location(kind, &stored))?;
        audit::record(
            tx,
            org,
            actor,
            kind.as_str(),
            Target::new("location", stored.id),
            Some(&LocationResponse::from(before)),
            Some(&LocationResponse::from(stored.clone())),
        )?;
        Ok(())
    })
    .await
    .map_err(|e| code_taken(e, code))?;
    Ok(location)
}

/// A write refused because another location of the organization has the code.
fn code_taken(e: LocationError, code: String) -> LocationError {
    match e {
        LocationError::Db(e) if e.is_unique_violation() => LocationError::CodeTaken(code),
        e => e,
    }
}

/// Deactivates a location. It is never removed: its reports and aggregates stay.
pub async fn deactivate(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: LocationId,
) -> Result<(), LocationError> {
    db.write(move |tx| {
        let mut location = store::find(tx, org, id)?.ok_or(LocationError::NotFound)?;
        let before = LocationResponse::from(location.clone());
        let was_active = location.active;
        let now = tx.now();
        if !store::deactivate(tx, org, id, now)? {
            return Err(LocationError::NotFound);
        }
        if was_active {
            location.active = false;
            location.updated_at = now;
            events::record(
                tx,
                &event::location(EventType::LocationDeactivated, &location),
            )?;
        }
        audit::record(
            tx,
            org,
            actor,
            "location.deactivated",
            Target::new("location", id),
            Some(&before),
            Some(&LocationResponse::from(location)),
        )?;
        Ok(())
    })
    .await
}

/// Imports parsed CSV rows, creating or updating locations by code in one transaction.
/// Without `partial`, nothing is written unless every row is valid.
pub async fn import(
    db: &Db,
    org: OrgId,
    actor: Actor,
    rows: Vec<ParsedRow>,
    partial: bool,
    deadline: std::time::Instant,
) -> Result<ImportSummary, LocationError> {
    let failed: Vec<Violation> = rows.iter().flat_map(|r| r.errors.iter().cloned()).collect();
    if !failed.is_empty() && !partial {
        return Err(LocationError::Invalid(failed));
    }
    // Imports run one at a time per organization (each reads which codes exist, then writes),
    // and one that would commit after the request's deadline rolls back instead. A code
    // created meanwhile by `POST /locations` is found on the transaction's retry.
    let rows = std::sync::Arc::new(rows);
    let mut attempts = 0;
    let summary = loop {
        attempts += 1;
        let rows = rows.clone();
        let written = db
            .write(move |tx| {
                crate::db::identity::lock_organization(tx, org)?;
                let summary = upsert_rows(tx, org, &rows, deadline)?;
                let codes = |outcome: ImportOutcome| {
                    summary
                        .rows
                        .iter()
                        .filter(|r| r.outcome == outcome)
                        .filter_map(|r| r.code.clone())
                        .collect::<Vec<_>>()
                };
                audit::record(
                    tx,
                    org,
                    actor,
                    "locations.imported",
                    Target::new("organization", org),
                    None::<&()>,
                    Some(&serde_json::json!({
                        "created": codes(ImportOutcome::Created),
                        "updated": codes(ImportOutcome::Updated),
                        "skipped": summary.skipped,
                    })),
                )?;
                if std::time::Instant::now() + COMMIT_MARGIN >= deadline {
                    return Err(LocationError::TooSlow);
                }
                Ok(summary)
            })
            .await;
        match written {
            Err(LocationError::Db(e)) if e.is_unique_violation() && attempts < 3 => continue,
            other => break other?,
        }
    };
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        skipped = summary.skipped,
        "locations imported"
    );
    Ok(summary)
}

/// Time left before the deadline that a commit is allowed.
const COMMIT_MARGIN: std::time::Duration = std::time::Duration::from_millis(500);

fn upsert_rows(
    tx: &mut Tx<'_>,
    org: OrgId,
    rows: &[ParsedRow],
    deadline: std::time::Instant,
) -> Result<ImportSummary, LocationError> {
    let now = tx.now();
    let mut summary = ImportSummary {
        created: 0,
        updated: 0,
        skipped: 0,
        rows: Vec::with_capacity(rows.len()),
    };
    // Written after every row they describe: the sequence lock is taken last.
    let mut events = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if i % 200 == 199 && std::time::Instant::now() + COMMIT_MARGIN >= deadline {
            return Err(LocationError::TooSlow);
        }
        let Some(fields) = row.fields.clone() else {
            summary.skipped += 1;
            summary.rows.push(ImportedRow {
                row: row.row,
                code: row.code.clone(),
                outcome: ImportOutcome::Skipped,
                errors: row.errors.clone(),
            });
            continue;
        };
        let code = fields.code.clone();
        let outcome = match store::find_by_code(tx, org, &fields.code)? {
            Some(mut existing) => {
                existing.fields = fields;
                existing.updated_at = now;
                store::update(tx, &existing)?;
                events.push(event::location(EventType::LocationUpdated, &existing));
                summary.updated += 1;
                ImportOutcome::Updated
            }
            None => {
                let created = Location::new(org, fields, now);
                store::insert(tx, &created)?;
                events.push(event::location(EventType::LocationCreated, &created));
                summary.created += 1;
                ImportOutcome::Created
            }
        };
        summary.rows.push(ImportedRow {
            row: row.row,
            code: Some(code),
            outcome,
            errors: Vec::new(),
        });
    }
    events::record_all(tx, &events)?;
    Ok(summary)
}

/// The locations a user of `org` may see as a manager.
pub async fn manager_locations(
    db: &Db,
    org: OrgId,
    user: UserId,
) -> Result<Vec<LocationId>, LocationError> {
    db.run(move |conn| {
        identity::find_user(conn, org, user)?.ok_or(LocationError::NotFound)?;
        Ok(store::manager_location_ids(conn, org, user)?)
    })
    .await
}

/// Replaces the locations a manager may see; every id must be a location of `org`.
pub async fn set_manager_locations(
    db: &Db,
    org: OrgId,
    actor: Actor,
    user: UserId,
    requested: Vec<LocationId>,
) -> Result<Vec<LocationId>, LocationError> {
    if requested.len() > MAX_MANAGER_LOCATIONS {
        return Err(LocationError::Invalid(vec![Violation::new(
            "/location_ids",
            "too_many",
            format!("at most {MAX_MANAGER_LOCATIONS} locations"),
        )]));
    }
    db.write(move |tx| {
        let user_row = identity::find_user(tx, org, user)?.ok_or(LocationError::NotFound)?;
        if user_row.role != Role::Manager {
            return Err(LocationError::NotAManager(user_row.role));
        }
        let existing: HashSet<LocationId> = store::existing_ids(tx, org, &requested)?
            .into_iter()
            .collect();
        let unknown: Vec<Violation> = requested
            .iter()
            .enumerate()
            .filter(|(_, l)| !existing.contains(l))
            .map(|(i, l)| {
                Violation::new(
                    format!("/location_ids/{i}"),
                    "unknown_location",
                    format!("no location {l} in this organization"),
                )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(LocationError::Invalid(unknown));
        }
        let mut ids: Vec<LocationId> = existing.into_iter().collect();
        ids.sort();
        let before = store::manager_location_ids(tx, org, user)?;
        store::set_manager_locations(tx, org, user, &ids)?;
        audit::record(
            tx,
            org,
            actor,
            "user.locations_set",
            Target::new("user", user),
            Some(&serde_json::json!({ "location_ids": before })),
            Some(&serde_json::json!({ "location_ids": ids })),
        )?;
        Ok(ids)
    })
    .await
}
