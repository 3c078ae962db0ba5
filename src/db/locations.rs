//! Locations and the locations assigned to managers.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{locations, manager_locations};
use super::{DbConn, bad_data, parse_stored};
use crate::ids::{LocationId, OrgId, UserId};
use crate::locations::model::{Location, LocationFields};

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends (ASCII at least), so a name search ignores case.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<f64>,
    Option<f64>,
    String,
    bool,
    NaiveDateTime,
    NaiveDateTime,
);

fn from_row(row: Row) -> QueryResult<Location> {
    let (
        id,
        org_id,
        code,
        name,
        address_lines,
        city,
        postal_code,
        country,
        region,
        timezone,
        latitude,
        longitude,
        tags,
        active,
        created_at,
        updated_at,
    ) = row;
    Ok(Location {
        id: parse_stored(&id)?,
        org_id: parse_stored(&org_id)?,
        fields: LocationFields {
            code,
            name,
            address_lines: serde_json::from_str(&address_lines)
                .map_err(|e| bad_data(format!("stored address lines: {e}")))?,
            city,
            postal_code,
            country,
            region,
            timezone,
            latitude,
            longitude,
            tags: tags
                .split('|')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        },
        active,
        created_at: created_at.and_utc(),
        updated_at: updated_at.and_utc(),
    })
}

/// Tags stored as `|a|b|`, so that `LIKE '%|a|%'` finds one.
fn tags_column(tags: &[String]) -> String {
    if tags.is_empty() {
        String::new()
    } else {
        format!("|{}|", tags.join("|"))
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub fn insert(conn: &mut DbConn, l: &Location) -> QueryResult<()> {
    let f = &l.fields;
    let address = serde_json::to_string(&f.address_lines)
        .map_err(|e| diesel::result::Error::SerializationError(e.into()))?;
    let values = (
        locations::id.eq(l.id.to_string()),
        locations::org_id.eq(l.org_id.to_string()),
        locations::code.eq(&f.code),
        locations::name.eq(&f.name),
        locations::address_lines.eq(address),
        locations::city.eq(&f.city),
        locations::postal_code.eq(&f.postal_code),
        locations::country.eq(&f.country),
        locations::region.eq(&f.region),
        locations::timezone.eq(&f.timezone),
        locations::latitude.eq(f.latitude),
        locations::longitude.eq(f.longitude),
        locations::tags.eq(tags_column(&f.tags)),
        locations::active.eq(l.active),
        locations::created_at.eq(l.created_at.naive_utc()),
        locations::updated_at.eq(l.updated_at.naive_utc()),
    );
    diesel::insert_into(locations::table)
        .values(values)
        .execute(conn)?;
    Ok(())
}

/// Writes every field of an existing location (matched by id and organization).
pub fn update(conn: &mut DbConn, l: &Location) -> QueryResult<bool> {
    let f = &l.fields;
    let address = serde_json::to_string(&f.address_lines)
        .map_err(|e| diesel::result::Error::SerializationError(e.into()))?;
    let target = locations::table
        .filter(locations::id.eq(l.id.to_string()))
        .filter(locations::org_id.eq(l.org_id.to_string()));
    let updated = diesel::update(target)
        .set((
            locations::code.eq(&f.code),
            locations::name.eq(&f.name),
            locations::address_lines.eq(address),
            locations::city.eq(&f.city),
            locations::postal_code.eq(&f.postal_code),
            locations::country.eq(&f.country),
            locations::region.eq(&f.region),
            locations::timezone.eq(&f.timezone),
            locations::latitude.eq(f.latitude),
            locations::longitude.eq(f.longitude),
            locations::tags.eq(tags_column(&f.tags)),
            locations::active.eq(l.active),
            locations::updated_at.eq(l.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

pub fn find(conn: &mut DbConn, org: OrgId, id: LocationId) -> QueryResult<Option<Location>> {
    locations::table
        .filter(locations::id.eq(id.to_string()))
        .filter(locations::org_id.eq(org.to_string()))
        .select(locations::all_columns)
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

pub fn find_by_code(conn: &mut DbConn, org: OrgId, code: &str) -> QueryResult<Option<Location>> {
    locations::table
        .filter(locations::code.eq(code))
        .filter(locations::org_id.eq(org.to_string()))
        .select(locations::all_columns)
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

#[derive(Debug, Default, Clone)]
pub struct LocationFilter {
    pub region: Option<String>,
    pub tag: Option<String>,
    pub active: Option<bool>,
    pub code: Option<String>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Only the locations assigned to this manager.
    pub manager: Option<UserId>,
}

pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &LocationFilter,
    after: Option<LocationId>,
    limit: i64,
) -> QueryResult<Vec<Location>> {
    let mut query = locations::table
        .filter(locations::org_id.eq(org.to_string()))
        .select(locations::all_columns)
        .order(locations::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(locations::id.gt(after.to_string()));
    }
    if let Some(region) = &filter.region {
        query = query.filter(locations::region.eq(region.clone()));
    }
    if let Some(tag) = &filter.tag {
        let pattern = format!("%|{}|%", like_escape(tag));
        query = query.filter(locations::tags.like(pattern).escape('\\'));
    }
    if let Some(active) = filter.active {
        query = query.filter(locations::active.eq(active));
    }
    if let Some(code) = &filter.code {
        query = query.filter(locations::code.eq(code.clone()));
    }
    if let Some(text) = &filter.name_contains {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        query = query.filter(lower(locations::name).like(pattern).escape('\\'));
    }
    if let Some(manager) = filter.manager {
        let assigned = manager_locations::table
            .filter(manager_locations::user_id.eq(manager.to_string()))
            .select(manager_locations::location_id);
        query = query.filter(locations::id.eq_any(assigned));
    }
    query.load::<Row>(conn)?.into_iter().map(from_row).collect()
}

/// Deactivates a location; returns false when it does not exist in `org`.
pub fn deactivate(
    conn: &mut DbConn,
    org: OrgId,
    id: LocationId,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = locations::table
        .filter(locations::id.eq(id.to_string()))
        .filter(locations::org_id.eq(org.to_string()));
    let updated = diesel::update(target)
        .set((
            locations::active.eq(false),
            locations::updated_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Of `ids`, those that are locations of `org`.
pub fn existing_ids(
    conn: &mut DbConn,
    org: OrgId,
    ids: &[LocationId],
) -> QueryResult<Vec<LocationId>> {
    let wanted: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    locations::table
        .filter(locations::org_id.eq(org.to_string()))
        .filter(locations::id.eq_any(wanted))
        .select(locations::id)
        .load::<String>(conn)?
        .into_iter()
        .map(|id| parse_stored(&id))
        .collect()
}

pub fn manager_location_ids(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
) -> QueryResult<Vec<LocationId>> {
    manager_locations::table
        .filter(manager_locations::user_id.eq(user.to_string()))
        .filter(manager_locations::org_id.eq(org.to_string()))
        .select(manager_locations::location_id)
        .order(manager_locations::location_id.asc())
        .load::<String>(conn)?
        .into_iter()
        .map(|id| parse_stored(&id))
        .collect()
}

/// Replaces the manager's locations with `ids` (call inside a transaction).
pub fn set_manager_locations(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
    ids: &[LocationId],
) -> QueryResult<()> {
    diesel::delete(
        manager_locations::table
            .filter(manager_locations::user_id.eq(user.to_string()))
            .filter(manager_locations::org_id.eq(org.to_string())),
    )
    .execute(conn)?;
    if ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = ids
        .iter()
        .map(|id| {
            (
                manager_locations::user_id.eq(user.to_string()),
                manager_locations::location_id.eq(id.to_string()),
                manager_locations::org_id.eq(org.to_string()),
            )
        })
        .collect();
    on_backend!(conn, |c| diesel::insert_into(manager_locations::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

/// Whether `user` manages `location`.
pub fn manages(conn: &mut DbConn, user: UserId, location: LocationId) -> QueryResult<bool> {
    let found: i64 = manager_locations::table
        .filter(manager_locations::user_id.eq(user.to_string()))
        .filter(manager_locations::location_id.eq(location.to_string()))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}
