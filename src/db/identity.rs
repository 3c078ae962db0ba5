//! Organizations, users, integration clients and refresh tokens. Every function that reads
//! tenant data takes the organization and filters on it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::{integration_clients, organizations, refresh_tokens, user_emails, users};
use super::{DbConn, bad_data, parse_stored};
use crate::auth::model::{
    ClientId, IntegrationClient, OrgId, Organization, Role, Scope, User, UserId,
};

// ---------------------------------------------------------------- organizations

pub fn count_organizations(conn: &mut DbConn) -> QueryResult<i64> {
    organizations::table.count().get_result(conn)
}

pub fn insert_organization(conn: &mut DbConn, org: &Organization) -> QueryResult<()> {
    let at = org.created_at.naive_utc();
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(org.id.to_string()),
            organizations::name.eq(&org.name),
            organizations::created_at.eq(at),
            organizations::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_organization(conn: &mut DbConn, id: OrgId) -> QueryResult<Option<Organization>> {
    organizations::table
        .find(id.to_string())
        .select((
            organizations::id,
            organizations::name,
            organizations::created_at,
        ))
        .first::<(String, String, NaiveDateTime)>(conn)
        .optional()?
        .map(|(id, name, created_at)| {
            Ok(Organization {
                id: parse_stored(&id)?,
                name,
                created_at: created_at.and_utc(),
            })
        })
        .transpose()
}

/// Serialises changes that must see a consistent set of an organization's rows (such as
/// "never deactivate the last admin"). PostgreSQL locks the organization row until the
/// transaction ends; SQLite already runs write transactions one at a time.
pub fn lock_organization(conn: &mut DbConn, org: OrgId) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
            .bind::<Text, _>(org.to_string())
            .execute(pg)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- users

#[derive(Queryable)]
struct UserRow {
    id: String,
    org_id: String,
    email: String,
    display_name: String,
    role: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

const USER_COLUMNS: (
    users::id,
    users::org_id,
    users::email,
    users::display_name,
    users::role,
    users::active,
    users::created_at,
    users::updated_at,
) = (
    users::id,
    users::org_id,
    users::email,
    users::display_name,
    users::role,
    users::active,
    users::created_at,
    users::updated_at,
);

impl UserRow {
    fn into_user(self) -> QueryResult<User> {
        Ok(User {
            id: parse_stored(&self.id)?,
            org_id: parse_stored(&self.org_id)?,
            email: self.email,
            display_name: self.display_name,
            role: self.role.parse::<Role>().map_err(bad_data)?,
            active: self.active,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// Stores a new user and its sign-in email; a taken email is a unique violation.
pub fn insert_user(conn: &mut DbConn, user: &User, password_hash: &str) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::insert_into(user_emails::table)
            .values((
                user_emails::email.eq(&user.email),
                user_emails::org_id.eq(user.org_id.to_string()),
                user_emails::user_id.eq(user.id.to_string()),
            ))
            .execute(conn)?;
        insert_user_row(conn, user, password_hash)
    })
}

fn insert_user_row(conn: &mut DbConn, user: &User, password_hash: &str) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((
            users::id.eq(user.id.to_string()),
            users::org_id.eq(user.org_id.to_string()),
            users::email.eq(&user.email),
            users::display_name.eq(&user.display_name),
            users::password_hash.eq(password_hash),
            users::role.eq(user.role.as_str()),
            users::active.eq(user.active),
            users::created_at.eq(user.created_at.naive_utc()),
            users::updated_at.eq(user.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_user(conn: &mut DbConn, org: OrgId, id: UserId) -> QueryResult<Option<User>> {
    users::table
        .filter(users::id.eq(id.to_string()))
        .filter(users::org_id.eq(org.to_string()))
        .select(USER_COLUMNS)
        .first::<UserRow>(conn)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

/// The user with this email and their password hash, whatever their organization.
pub fn find_user_for_login(conn: &mut DbConn, email: &str) -> QueryResult<Option<(User, String)>> {
    // The email's organization first, from the global lookup; then the user's row there.
    let Some((org, id)) = user_emails::table
        .filter(user_emails::email.eq(email))
        .select((user_emails::org_id, user_emails::user_id))
        .first::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let row = users::table
        .filter(users::org_id.eq(org))
        .filter(users::id.eq(id))
        .select((USER_COLUMNS, users::password_hash))
        .first::<(UserRow, String)>(conn)
        .optional()?;
    row.map(|(user, hash)| Ok((user.into_user()?, hash)))
        .transpose()
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// A page of users in creation order, after the cursor.
pub fn list_users(
    conn: &mut DbConn,
    org: OrgId,
    filter: &UserFilter,
    after: Option<UserId>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .filter(users::org_id.eq(org.to_string()))
        .select(USER_COLUMNS)
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(users::id.gt(after.to_string()));
    }
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::active.eq(active));
    }
    query
        .load::<UserRow>(conn)?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
}

/// Writes the changeable fields of `user` (and the password hash when given).
pub fn update_user(conn: &mut DbConn, user: &User, password_hash: Option<&str>) -> QueryResult<()> {
    let target = users::table
        .filter(users::id.eq(user.id.to_string()))
        .filter(users::org_id.eq(user.org_id.to_string()));
    diesel::update(target)
        .set((
            users::display_name.eq(&user.display_name),
            users::role.eq(user.role.as_str()),
            users::active.eq(user.active),
            users::updated_at.eq(user.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    if let Some(hash) = password_hash {
        let target = users::table
            .filter(users::id.eq(user.id.to_string()))
            .filter(users::org_id.eq(user.org_id.to_string()));
        diesel::update(target)
            .set(users::password_hash.eq(hash))
            .execute(conn)?;
    }
    Ok(())
}

pub fn count_active_admins(conn: &mut DbConn, org: OrgId) -> QueryResult<i64> {
    users::table
        .filter(users::org_id.eq(org.to_string()))
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}

// ---------------------------------------------------------------- integration clients

#[derive(Queryable)]
struct ClientRow {
    id: String,
    org_id: String,
    name: String,
    scopes: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

const CLIENT_COLUMNS: (
    integration_clients::id,
    integration_clients::org_id,
    integration_clients::name,
    integration_clients::scopes,
    integration_clients::active,
    integration_clients::created_at,
    integration_clients::updated_at,
) = (
    integration_clients::id,
    integration_clients::org_id,
    integration_clients::name,
    integration_clients::scopes,
    integration_clients::active,
    integration_clients::created_at,
    integration_clients::updated_at,
);

impl ClientRow {
    fn into_client(self) -> QueryResult<IntegrationClient> {
        Ok(IntegrationClient {
            id: parse_stored(&self.id)?,
            org_id: parse_stored(&self.org_id)?,
            name: self.name,
            scopes: Scope::parse_list(&self.scopes).map_err(bad_data)?,
            active: self.active,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

pub fn insert_client(
    conn: &mut DbConn,
    client: &IntegrationClient,
    secret_hash: &str,
    created_by: Option<UserId>,
) -> QueryResult<()> {
    diesel::insert_into(integration_clients::table)
        .values((
            integration_clients::id.eq(client.id.to_string()),
            integration_clients::org_id.eq(client.org_id.to_string()),
            integration_clients::name.eq(&client.name),
            integration_clients::scopes.eq(Scope::join(&client.scopes)),
            integration_clients::secret_hash.eq(secret_hash),
            integration_clients::active.eq(client.active),
            integration_clients::created_by.eq(created_by.map(|id| id.to_string())),
            integration_clients::created_at.eq(client.created_at.naive_utc()),
            integration_clients::updated_at.eq(client.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_client(
    conn: &mut DbConn,
    org: OrgId,
    id: ClientId,
) -> QueryResult<Option<IntegrationClient>> {
    integration_clients::table
        .filter(integration_clients::id.eq(id.to_string()))
        .filter(integration_clients::org_id.eq(org.to_string()))
        .select(CLIENT_COLUMNS)
        .first::<ClientRow>(conn)
        .optional()?
        .map(ClientRow::into_client)
        .transpose()
}

/// The client with this id and its secret hash, whatever its organization.
pub fn find_client_for_auth(
    conn: &mut DbConn,
    id: ClientId,
) -> QueryResult<Option<(IntegrationClient, String)>> {
    let row = integration_clients::table
        .filter(integration_clients::id.eq(id.to_string()))
        .select((CLIENT_COLUMNS, integration_clients::secret_hash))
        .first::<(ClientRow, String)>(conn)
        .optional()?;
    row.map(|(client, hash)| Ok((client.into_client()?, hash)))
        .transpose()
}

pub fn list_clients(
    conn: &mut DbConn,
    org: OrgId,
    after: Option<ClientId>,
    limit: i64,
) -> QueryResult<Vec<IntegrationClient>> {
    let mut query = integration_clients::table
        .filter(integration_clients::org_id.eq(org.to_string()))
        .select(CLIENT_COLUMNS)
        .order(integration_clients::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(integration_clients::id.gt(after.to_string()));
    }
    query
        .load::<ClientRow>(conn)?
        .into_iter()
        .map(ClientRow::into_client)
        .collect()
}

/// Deactivates a client; returns false when it does not exist in `org`.
pub fn deactivate_client(
    conn: &mut DbConn,
    org: OrgId,
    id: ClientId,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = integration_clients::table
        .filter(integration_clients::id.eq(id.to_string()))
        .filter(integration_clients::org_id.eq(org.to_string()));
    let found = diesel::update(target)
        .set((
            integration_clients::active.eq(false),
            integration_clients::updated_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(found == 1)
}

// ---------------------------------------------------------------- refresh tokens

/// A stored refresh token, looked up by the hash of the presented value.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub id: String,
    pub family_id: String,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
    pub revoked: bool,
}

pub struct NewRefreshToken<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub family_id: &'a str,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub fn insert_refresh_token(conn: &mut DbConn, token: &NewRefreshToken<'_>) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(token.id),
            refresh_tokens::token_hash.eq(token.token_hash),
            refresh_tokens::family_id.eq(token.family_id),
            refresh_tokens::user_id.eq(token.user_id.to_string()),
            refresh_tokens::org_id.eq(token.org_id.to_string()),
            refresh_tokens::created_at.eq(token.created_at.naive_utc()),
            refresh_tokens::expires_at.eq(token.expires_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_refresh_token(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<RefreshToken>> {
    type Row = (
        String,
        String,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let row = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            refresh_tokens::id,
            refresh_tokens::family_id,
            refresh_tokens::user_id,
            refresh_tokens::org_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            refresh_tokens::revoked_at,
        ))
        .first::<Row>(conn)
        .optional()?;
    row.map(
        |(id, family_id, user_id, org_id, expires_at, used_at, revoked_at)| {
            Ok(RefreshToken {
                id,
                family_id,
                user_id: parse_stored(&user_id)?,
                org_id: parse_stored(&org_id)?,
                expires_at: expires_at.and_utc(),
                used: used_at.is_some(),
                revoked: revoked_at.is_some(),
            })
        },
    )
    .transpose()
}

/// Marks a token as used if nobody used or revoked it first. Exactly one of several
/// concurrent callers gets `true`.
pub fn consume_refresh_token(conn: &mut DbConn, id: &str, at: DateTime<Utc>) -> QueryResult<bool> {
    let target = refresh_tokens::table
        .filter(refresh_tokens::id.eq(id))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::revoked_at.is_null());
    let updated = diesel::update(target)
        .set(refresh_tokens::used_at.eq(at.naive_utc()))
        .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_refresh_family(
    conn: &mut DbConn,
    family_id: &str,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let target = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .filter(refresh_tokens::revoked_at.is_null());
    diesel::update(target)
        .set(refresh_tokens::revoked_at.eq(at.naive_utc()))
        .execute(conn)
}

pub fn revoke_user_refresh_tokens(
    conn: &mut DbConn,
    user: UserId,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let target = refresh_tokens::table
        .filter(refresh_tokens::user_id.eq(user.to_string()))
        .filter(refresh_tokens::revoked_at.is_null());
    diesel::update(target)
        .set(refresh_tokens::revoked_at.eq(at.naive_utc()))
        .execute(conn)
}
