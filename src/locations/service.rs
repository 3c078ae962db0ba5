//! The use cases of locations and of the locations managers may see. Each owns its
//! database work and answers with domain results or a [`LocationError`].

use std::collections::HashSet;

use super::import::ParsedRow;
use super::model::{ImportOutcome, ImportSummary, ImportedRow, Location, RawLocation, check};
use crate::auth::model::Role;
use crate::db::locations::{self as store, LocationFilter};
use crate::db::{self, Db, DbConn, DbError, QueryError, identity, is_unique_violation};
use crate::events::model::{self as event, EventType};
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
    #[error(transparent)]
    Db(#[from] DbError),
}

impl crate::db::TransactionError for LocationError {
    fn retryable(&self) -> bool {
        matches!(self, LocationError::Db(e) if e.retryable())
    }
}

impl From<QueryError> for LocationError {
    fn from(e: QueryError) -> Self {
        LocationError::Db(e.into())
    }
}

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
pub async fn create(db: &Db, org: OrgId, raw: RawLocation) -> Result<Location, LocationError> {
    let fields = check(raw, "").map_err(LocationError::Invalid)?;
    let location = Location::new(org, fields, db::now());
    let stored = location.clone();
    db.run(move |conn| {
        let written = db::write_transaction(conn, |conn| {
            store::insert(conn, &stored)?;
            db::events::record(conn, &event::location(EventType::LocationCreated, &stored))?;
            Ok::<_, diesel::result::Error>(())
        });
        match written {
            Err(e) if is_unique_violation(&e) => Err(LocationError::CodeTaken(stored.fields.code)),
            other => Ok(other?),
        }
    })
    .await?;
    Ok(location)
}

/// Changes a location: `change` turns the current location into the fields to check (and
/// whether to (re)activate it).
pub async fn update(
    db: &Db,
    org: OrgId,
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
    location.updated_at = db::now();
    let stored = location.clone();
    db.run(move |conn| {
        let written = db::write_transaction(conn, |conn| {
            if !store::update(conn, &stored)? {
                return Ok(false);
            }
            db::events::record(conn, &event::location(kind, &stored))?;
            Ok::<_, diesel::result::Error>(true)
        });
        match written {
            Err(e) if is_unique_violation(&e) => Err(LocationError::CodeTaken(stored.fields.code)),
            Ok(false) => Err(LocationError::NotFound),
            other => Ok(other.map(|_| ())?),
        }
    })
    .await?;
    Ok(location)
}

/// Deactivates a location. It is never removed: its reports and aggregates stay.
pub async fn deactivate(db: &Db, org: OrgId, id: LocationId) -> Result<(), LocationError> {
    let found = db
        .run(move |conn| {
            let done = db::write_transaction(conn, |conn| {
                let Some(mut location) = store::find(conn, org, id)? else {
                    return Ok(false);
                };
                let was_active = location.active;
                let now = db::now();
                if !store::deactivate(conn, org, id, now)? {
                    return Ok(false);
                }
                if was_active {
                    location.active = false;
                    location.updated_at = now;
                    db::events::record(
                        conn,
                        &event::location(EventType::LocationDeactivated, &location),
                    )?;
                }
                Ok::<_, diesel::result::Error>(true)
            })?;
            Ok::<_, DbError>(done)
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(LocationError::NotFound)
    }
}

/// Imports parsed CSV rows, creating or updating locations by code in one transaction.
/// Without `partial`, nothing is written unless every row is valid.
pub async fn import(
    db: &Db,
    org: OrgId,
    rows: Vec<ParsedRow>,
    partial: bool,
) -> Result<ImportSummary, LocationError> {
    let failed: Vec<Violation> = rows.iter().flat_map(|r| r.errors.iter().cloned()).collect();
    if !failed.is_empty() && !partial {
        return Err(LocationError::Invalid(failed));
    }
    let summary = db
        .run(move |conn| db::write_transaction(conn, |conn| upsert_rows(conn, org, &rows)))
        .await?;
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        skipped = summary.skipped,
        "locations imported"
    );
    Ok(summary)
}

fn upsert_rows(
    conn: &mut DbConn,
    org: OrgId,
    rows: &[ParsedRow],
) -> Result<ImportSummary, LocationError> {
    let now = db::now();
    let mut summary = ImportSummary {
        created: 0,
        updated: 0,
        skipped: 0,
        rows: Vec::with_capacity(rows.len()),
    };
    // Written after every row they describe: the sequence lock is taken last.
    let mut events = Vec::new();
    for row in rows {
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
        let outcome = match store::find_by_code(conn, org, &fields.code)? {
            Some(mut existing) => {
                existing.fields = fields;
                existing.updated_at = now;
                store::update(conn, &existing)?;
                events.push(event::location(EventType::LocationUpdated, &existing));
                summary.updated += 1;
                ImportOutcome::Updated
            }
            None => {
                let created = Location::new(org, fields, now);
                store::insert(conn, &created)?;
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
    db::events::record_all(conn, &events)?;
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
    db.run(move |conn| {
        db::write_transaction(conn, |conn| {
            let user_row = identity::find_user(conn, org, user)?.ok_or(LocationError::NotFound)?;
            if user_row.role != Role::Manager {
                return Err(LocationError::NotAManager(user_row.role));
            }
            let existing: HashSet<LocationId> = store::existing_ids(conn, org, &requested)?
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
            store::set_manager_locations(conn, org, user, &ids)?;
            Ok(ids)
        })
    })
    .await
}
