//! Deployment-wide key/value settings (generated secrets and similar).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConn;
use super::schema::settings;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type Row = (String, String, NaiveDateTime, NaiveDateTime);

fn from_row((key, value, created_at, updated_at): Row) -> Setting {
    Setting {
        key,
        value,
        created_at: created_at.and_utc(),
        updated_at: updated_at.and_utc(),
    }
}

pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<Setting>> {
    settings::table
        .find(key)
        .select(settings::all_columns)
        .first::<Row>(conn)
        .optional()
        .map(|row| row.map(from_row))
}

/// Stores `value` under `key` unless a value is already there, and returns what is stored.
/// Safe when several instances race: exactly one value wins and all of them read it.
pub fn get_or_insert(
    conn: &mut DbConn,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> QueryResult<Setting> {
    let now = now.naive_utc();
    let row = (
        settings::key.eq(key),
        settings::value.eq(value),
        settings::created_at.eq(now),
        settings::updated_at.eq(now),
    );
    on_backend!(conn, |c| diesel::insert_into(settings::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    get(conn, key)?.ok_or(diesel::result::Error::NotFound)
}

/// Sets `key` to `value`, creating or replacing it.
pub fn put(conn: &mut DbConn, key: &str, value: &str, now: DateTime<Utc>) -> QueryResult<()> {
    let now = now.naive_utc();
    let row = (
        settings::key.eq(key),
        settings::value.eq(value),
        settings::created_at.eq(now),
        settings::updated_at.eq(now),
    );
    on_backend!(conn, |c| diesel::insert_into(settings::table)
        .values(row)
        .on_conflict(settings::key)
        .do_update()
        .set((settings::value.eq(value), settings::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}
