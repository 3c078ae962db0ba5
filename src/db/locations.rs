//! Locations and the locations assigned to managers.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{locations, manager_locations};
use super::{DbConn, bad_data};
use crate::ids::{LocationId, OrgId, UserId};
use crate::locations::model::{Location, LocationBrief, LocationFields};

diesel::define_sql_function! {
    /// SQL `lower()`, so a name search ignores case. SQLite's own folds ASCII only: every
    /// SQLite connection replaces it with Rust's Unicode lowercasing (see `ConnectionManager`),
    /// as PostgreSQL's does in a UTF-8 database.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = locations)]
struct LocationRow {
    id: LocationId,
    org_id: OrgId,
    #[diesel(embed)]
    fields: FieldColumns,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The columns an admin sets, as stored.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = locations, treat_none_as_null = true)]
struct FieldColumns {
    code: String,
    name: String,
    /// A JSON array of up to three lines.
    address_lines: String,
    city: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    region: Option<String>,
    /// An IANA time zone name.
    timezone: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// Tags as `|a|b|`, so that `LIKE '%|a|%'` finds one.
    tags: String,
}

impl FieldColumns {
    fn of(f: &LocationFields) -> Self {
        FieldColumns {
            code: f.code.clone(),
            name: f.name.clone(),
            address_lines: serde_json::Value::from(f.address_lines.clone()).to_string(),
            city: f.city.clone(),
            postal_code: f.postal_code.clone(),
            country: f.country.clone(),
            region: f.region.clone(),
            timezone: f.timezone.name().to_string(),
            latitude: f.latitude,
            longitude: f.longitude,
            tags: if f.tags.is_empty() {
                String::new()
            } else {
                format!("|{}|", f.tags.join("|"))
            },
        }
    }
}

impl LocationRow {
    fn into_location(self) -> QueryResult<Location> {
        let (id, f) = (self.id, self.fields);
        Ok(Location {
            id,
            org_id: self.org_id,
            fields: LocationFields {
                code: f.code,
                name: f.name,
                address_lines: serde_json::from_str(&f.address_lines)
                    .map_err(|e| bad_data(format!("location {id}: address lines: {e}")))?,
                city: f.city,
                postal_code: f.postal_code,
                country: f.country,
                region: f.region,
                timezone: f.timezone.parse().map_err(|_| {
                    bad_data(format!("location {id}: unknown time zone `{}`", f.timezone))
                })?,
                latitude: f.latitude,
                longitude: f.longitude,
                tags: f
                    .tags
                    .split('|')
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            active: self.active,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = locations)]
struct LocationChanges {
    #[diesel(embed)]
    fields: FieldColumns,
    active: bool,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = manager_locations)]
struct ManagerLocationRow {
    org_id: OrgId,
    user_id: UserId,
    location_id: LocationId,
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub fn insert(conn: &mut DbConn, l: &Location) -> QueryResult<()> {
    diesel::insert_into(locations::table)
        .values(LocationRow {
            id: l.id,
            org_id: l.org_id,
            fields: FieldColumns::of(&l.fields),
            active: l.active,
            created_at: l.created_at.naive_utc(),
            updated_at: l.updated_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(())
}

/// Writes every field of an existing location (matched by id and organization).
pub fn update(conn: &mut DbConn, l: &Location) -> QueryResult<bool> {
    let target = locations::table
        .filter(locations::id.eq(l.id))
        .filter(locations::org_id.eq(l.org_id));
    let updated = diesel::update(target)
        .set(LocationChanges {
            fields: FieldColumns::of(&l.fields),
            active: l.active,
            updated_at: l.updated_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(updated == 1)
}

pub fn find(conn: &mut DbConn, org: OrgId, id: LocationId) -> QueryResult<Option<Location>> {
    locations::table
        .filter(locations::id.eq(id))
        .filter(locations::org_id.eq(org))
        .select(LocationRow::as_select())
        .first(conn)
        .optional()?
        .map(LocationRow::into_location)
        .transpose()
}

/// The locations of `ids` (those of the organization), by id.
pub fn find_all(
    conn: &mut DbConn,
    org: OrgId,
    ids: &[LocationId],
) -> QueryResult<std::collections::HashMap<LocationId, Location>> {
    locations::table
        .filter(locations::org_id.eq(org))
        .filter(locations::id.eq_any(ids))
        .select(LocationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_location().map(|l| (l.id, l)))
        .collect()
}

pub fn find_by_code(conn: &mut DbConn, org: OrgId, code: &str) -> QueryResult<Option<Location>> {
    locations::table
        .filter(locations::code.eq(code))
        .filter(locations::org_id.eq(org))
        .select(LocationRow::as_select())
        .first(conn)
        .optional()?
        .map(LocationRow::into_location)
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

/// `$query` (boxed, over `locations`) narrowed to `$org`'s locations that `$filter` keeps.
macro_rules! filtered {
    ($query:expr, $org:expr, $filter:expr) => {{
        let (org, filter): (OrgId, &LocationFilter) = ($org, $filter);
        let mut query = $query.filter(locations::org_id.eq(org));
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
                .filter(manager_locations::org_id.eq(org))
                .filter(manager_locations::user_id.eq(manager))
                .select(manager_locations::location_id);
            query = query.filter(locations::id.eq_any(assigned));
        }
        query
    }};
}

pub fn list(
    conn: &mut DbConn,
    org: OrgId,
    filter: &LocationFilter,
    after: Option<LocationId>,
    limit: i64,
) -> QueryResult<Vec<Location>> {
    let mut query = filtered!(
        locations::table
            .select(LocationRow::as_select())
            .order(locations::id.asc())
            .limit(limit)
            .into_boxed(),
        org,
        filter
    );
    if let Some(after) = after {
        query = query.filter(locations::id.gt(after));
    }
    query
        .load::<LocationRow>(conn)?
        .into_iter()
        .map(LocationRow::into_location)
        .collect()
}

/// Deactivates a location; returns false when it does not exist in `org`.
pub fn deactivate(
    conn: &mut DbConn,
    org: OrgId,
    id: LocationId,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = locations::table
        .filter(locations::id.eq(id))
        .filter(locations::org_id.eq(org));
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
    locations::table
        .filter(locations::org_id.eq(org))
        .filter(locations::id.eq_any(ids.to_vec()))
        .select(locations::id)
        .load(conn)
}

pub fn manager_location_ids(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
) -> QueryResult<Vec<LocationId>> {
    manager_locations::table
        .filter(manager_locations::user_id.eq(user))
        .filter(manager_locations::org_id.eq(org))
        .select(manager_locations::location_id)
        .order(manager_locations::location_id.asc())
        .load(conn)
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
            .filter(manager_locations::user_id.eq(user))
            .filter(manager_locations::org_id.eq(org)),
    )
    .execute(conn)?;
    if ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = ids
        .iter()
        .map(|id| {
            (
                manager_locations::user_id.eq(user),
                manager_locations::location_id.eq(id),
                manager_locations::org_id.eq(org),
            )
        })
        .collect();
    on_backend!(conn, |c| diesel::insert_into(manager_locations::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

/// Whether `user` manages `location`.
pub fn manages(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
    location: LocationId,
) -> QueryResult<bool> {
    let found: i64 = manager_locations::table
        .filter(manager_locations::org_id.eq(org))
        .filter(manager_locations::user_id.eq(user))
        .filter(manager_locations::location_id.eq(location))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// A page of every organization's location ids in (organization, id) order, after `after`:
/// what `secondmile rollups verify|rebuild` walks.
pub fn all_ids_page(
    conn: &mut DbConn,
    after: Option<(OrgId, LocationId)>,
    limit: i64,
) -> QueryResult<Vec<(OrgId, LocationId)>> {
    let mut query = locations::table
        .select((locations::org_id, locations::id))
        .order((locations::org_id.asc(), locations::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((org, id)) = after {
        query = query.filter(
            locations::org_id
                .gt(org)
                .or(locations::org_id.eq(org).and(locations::id.gt(id))),
        );
    }
    query.load(conn)
}

/// The id, code, name and region of `org`'s locations that `filter` keeps (up to `limit`):
/// what the aggregates list and sort by, without decoding whole rows.
pub fn briefs(
    conn: &mut DbConn,
    org: OrgId,
    filter: &LocationFilter,
    limit: i64,
) -> QueryResult<Vec<LocationBrief>> {
    let rows: Vec<(LocationId, String, String, Option<String>)> = filtered!(
        locations::table
            .select((
                locations::id,
                locations::code,
                locations::name,
                locations::region,
            ))
            .order(locations::id.asc())
            .limit(limit)
            .into_boxed(),
        org,
        filter
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name, region)| LocationBrief {
            id,
            code,
            name,
            region,
        })
        .collect())
}
