//! Deployment-wide key/value settings (generated secrets and similar), and each
//! organization's own settings.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{organization_settings, settings};
use crate::ids::OrgId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = settings)]
struct SettingRow<'a> {
    key: &'a str,
    value: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = settings)]
struct StoredSetting {
    key: String,
    value: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<Setting>> {
    Ok(settings::table
        .filter(settings::key.eq(key))
        .select(StoredSetting::as_select())
        .first(conn)
        .optional()?
        .map(|row| Setting {
            key: row.key,
            value: row.value,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }))
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
    let row = SettingRow {
        key,
        value,
        created_at: now,
        updated_at: now,
    };
    on_backend!(conn, |c| diesel::insert_into(settings::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    get(conn, key)?.ok_or(diesel::result::Error::NotFound)
}

/// Sets `key` to `value`, creating or replacing it.
pub fn put(conn: &mut DbConn, key: &str, value: &str, now: DateTime<Utc>) -> QueryResult<()> {
    let now = now.naive_utc();
    let row = SettingRow {
        key,
        value,
        created_at: now,
        updated_at: now,
    };
    on_backend!(conn, |c| diesel::insert_into(settings::table)
        .values(row)
        .on_conflict(settings::key)
        .do_update()
        .set((settings::value.eq(value), settings::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}

/// Takes `key` over: sets it to `value` when it holds `free`, or when nobody touched it since
/// `stale_before` (its holder is gone). True when this call took it; one caller wins a race.
pub fn claim(
    conn: &mut DbConn,
    key: &str,
    free: &str,
    value: &str,
    stale_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let taken = diesel::update(
        settings::table.filter(settings::key.eq(key)).filter(
            settings::value
                .eq(free)
                .or(settings::updated_at.lt(stale_before.naive_utc())),
        ),
    )
    .set((
        settings::value.eq(value),
        settings::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Marks `key` as still held (its `updated_at` is now).
pub fn touch(conn: &mut DbConn, key: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(settings::table.filter(settings::key.eq(key)))
        .set(settings::updated_at.eq(now.naive_utc()))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(settings::table.filter(settings::key.eq(key))).execute(conn)?;
    Ok(())
}

pub use crate::organization::model::OrganizationSettings;

/// The organization's settings (the defaults when it never changed them).
pub fn organization(conn: &mut DbConn, org: OrgId) -> QueryResult<OrganizationSettings> {
    Ok(organization_settings::table
        .filter(organization_settings::org_id.eq(org))
        .select((
            organization_settings::recognition_names,
            organization_settings::action_plans,
            organization_settings::appeal_window_days,
            organization_settings::personal_data_retention_days,
        ))
        .first::<(bool, bool, i32, i32)>(conn)
        .optional()?
        .map(
            |(recognition_names, action_plans, window, retention)| OrganizationSettings {
                recognition_names,
                action_plans,
                appeal_window_days: u32::try_from(window).unwrap_or_default(),
                personal_data_retention_days: u32::try_from(retention).unwrap_or_default(),
            },
        )
        .unwrap_or_default())
}

/// Stores the organization's settings (update, else insert; call in a write transaction).
pub fn put_organization(
    conn: &mut DbConn,
    org: OrgId,
    s: OrganizationSettings,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let window = i32::try_from(s.appeal_window_days).unwrap_or(i32::MAX);
    let retention = i32::try_from(s.personal_data_retention_days).unwrap_or(i32::MAX);
    let updated =
        diesel::update(organization_settings::table.filter(organization_settings::org_id.eq(org)))
            .set((
                organization_settings::recognition_names.eq(s.recognition_names),
                organization_settings::action_plans.eq(s.action_plans),
                organization_settings::appeal_window_days.eq(window),
                organization_settings::personal_data_retention_days.eq(retention),
                organization_settings::updated_at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(organization_settings::table)
            .values((
                organization_settings::org_id.eq(org),
                organization_settings::recognition_names.eq(s.recognition_names),
                organization_settings::action_plans.eq(s.action_plans),
                organization_settings::appeal_window_days.eq(window),
                organization_settings::personal_data_retention_days.eq(retention),
                organization_settings::updated_at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The organizations that keep personal text for a limited time, with their retention in
/// days.
pub fn organizations_with_retention(conn: &mut DbConn) -> QueryResult<Vec<(OrgId, u32)>> {
    Ok(organization_settings::table
        .filter(organization_settings::personal_data_retention_days.gt(0))
        .select((
            organization_settings::org_id,
            organization_settings::personal_data_retention_days,
        ))
        .load::<(OrgId, i32)>(conn)?
        .into_iter()
        .map(|(org, days)| (org, u32::try_from(days).unwrap_or_default()))
        .collect())
}
