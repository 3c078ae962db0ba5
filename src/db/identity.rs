//! Organizations, users, integration clients and refresh tokens. Every function that reads
//! tenant data takes the organization and filters on it, except the three sign-in lookups
//! that find the organization (by email, client id or refresh token hash).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::{integration_clients, organizations, refresh_tokens, user_emails, users};
use super::{DbConn, bad_data};
use crate::auth::model::{
    ClientId, Email, IntegrationClient, OrgId, Organization, Role, Scope, User, UserId,
};
use crate::ids::{FamilyId, TokenId};

// ---------------------------------------------------------------- organizations

#[derive(Queryable, Selectable)]
#[diesel(table_name = organizations)]
struct OrganizationRow {
    id: OrgId,
    name: String,
    created_at: NaiveDateTime,
}

pub fn count_organizations(conn: &mut DbConn) -> QueryResult<i64> {
    organizations::table.count().get_result(conn)
}

pub fn insert_organization(conn: &mut DbConn, org: &Organization) -> QueryResult<()> {
    let at = org.created_at.naive_utc();
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(org.id),
            organizations::name.eq(&org.name),
            organizations::created_at.eq(at),
            organizations::updated_at.eq(at),
        ))
        .execute(conn)?;
    super::events::start_sequence(conn, org.id)
}

pub fn find_organization(conn: &mut DbConn, id: OrgId) -> QueryResult<Option<Organization>> {
    Ok(organizations::table
        .filter(organizations::id.eq(id))
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| Organization {
            id: row.id,
            name: row.name,
            created_at: row.created_at.and_utc(),
        }))
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

/// Serialises changes that count one user's rows (such as the daily submission quota):
/// PostgreSQL locks the user's row until the transaction ends; SQLite already runs write
/// transactions one at a time.
pub fn lock_user(conn: &mut DbConn, org: OrgId, user: UserId) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM users WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind::<Text, _>(org.to_string())
            .bind::<Text, _>(user.to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// [`lock_user`] for several users at once, in the order of their ids (so that two
/// transactions locking overlapping sets never wait on each other in a circle).
pub fn lock_users(conn: &mut DbConn, org: OrgId, users: &[UserId]) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn
        && !users.is_empty()
    {
        let ids: Vec<String> = users.iter().map(ToString::to_string).collect();
        diesel::sql_query(
            "SELECT id FROM users WHERE org_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE",
        )
        .bind::<Text, _>(org.to_string())
        .bind::<diesel::sql_types::Array<Text>, _>(ids)
        .execute(pg)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- users

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: UserId,
    org_id: OrgId,
    email: String,
    display_name: String,
    role: Role,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    sessions_valid_after: Option<NaiveDateTime>,
    preferred_language: Option<String>,
}

impl UserRow {
    fn into_user(self) -> User {
        User {
            id: self.id,
            org_id: self.org_id,
            email: Email::stored(self.email),
            display_name: self.display_name,
            role: self.role,
            active: self.active,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            sessions_valid_after: self.sessions_valid_after.map(|t| t.and_utc()),
            preferred_language: self.preferred_language,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    id: UserId,
    org_id: OrgId,
    email: &'a str,
    display_name: &'a str,
    password_hash: &'a str,
    role: Role,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    sessions_valid_after: Option<NaiveDateTime>,
}

/// What an admin changes of a user (the password hash only when it is set anew).
#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserChanges<'a> {
    display_name: &'a str,
    role: Role,
    active: bool,
    updated_at: NaiveDateTime,
    password_hash: Option<&'a str>,
    sessions_valid_after: Option<NaiveDateTime>,
    /// Always written (`Some(None)` clears it).
    preferred_language: Option<Option<&'a str>>,
}

#[derive(Insertable)]
#[diesel(table_name = user_emails)]
struct UserEmailRow<'a> {
    email: &'a str,
    org_id: OrgId,
    user_id: UserId,
}

/// Stores a new user and its sign-in email; an email taken in the same organization is a
/// unique violation.
pub fn insert_user(conn: &mut DbConn, user: &User, password_hash: &str) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::insert_into(user_emails::table)
            .values(UserEmailRow {
                email: user.email.as_str(),
                org_id: user.org_id,
                user_id: user.id,
            })
            .execute(conn)?;
        diesel::insert_into(users::table)
            .values(NewUser {
                id: user.id,
                org_id: user.org_id,
                email: user.email.as_str(),
                display_name: &user.display_name,
                password_hash,
                role: user.role,
                active: user.active,
                created_at: user.created_at.naive_utc(),
                updated_at: user.updated_at.naive_utc(),
                sessions_valid_after: user.sessions_valid_after.map(|t| t.naive_utc()),
            })
            .execute(conn)?;
        Ok(())
    })
}

/// Whether `org` has a user with this email (the per-organization uniqueness check).
pub fn email_exists(conn: &mut DbConn, org: OrgId, email: &Email) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        user_emails::table
            .filter(user_emails::email.eq(email.as_str()))
            .filter(user_emails::org_id.eq(org)),
    ))
    .get_result(conn)
}

pub fn find_user(conn: &mut DbConn, org: OrgId, id: UserId) -> QueryResult<Option<User>> {
    Ok(users::table
        .filter(users::org_id.eq(org))
        .filter(users::id.eq(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(UserRow::into_user))
}

/// At most this many accounts share one email across organizations for sign-in purposes.
pub const MAX_ACCOUNTS_PER_EMAIL: i64 = 20;

/// The users with this email and their password hashes: in `org` only when it is given,
/// else in every organization (an email is unique within an organization only).
pub fn find_users_for_login(
    conn: &mut DbConn,
    email: &Email,
    org: Option<OrgId>,
) -> QueryResult<Vec<(User, String)>> {
    // The email's organizations first, from the global lookup; then the user's row in each.
    let mut lookup = user_emails::table
        .filter(user_emails::email.eq(email.as_str()))
        .select((user_emails::org_id, user_emails::user_id))
        .order(user_emails::org_id.asc())
        .limit(MAX_ACCOUNTS_PER_EMAIL)
        .into_boxed();
    if let Some(org) = org {
        lookup = lookup.filter(user_emails::org_id.eq(org));
    }
    let mut found = Vec::new();
    for (org, id) in lookup.load::<(OrgId, UserId)>(conn)? {
        let row = users::table
            .filter(users::org_id.eq(org))
            .filter(users::id.eq(id))
            .select((UserRow::as_select(), users::password_hash))
            .first::<(UserRow, String)>(conn)
            .optional()?;
        if let Some((user, hash)) = row {
            found.push((user.into_user(), hash));
        }
    }
    Ok(found)
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// A page of users in id (creation) order, after the cursor.
pub fn list_users(
    conn: &mut DbConn,
    org: OrgId,
    filter: &UserFilter,
    after: Option<UserId>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .filter(users::org_id.eq(org))
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(users::id.gt(after));
    }
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::active.eq(active));
    }
    Ok(query
        .load::<UserRow>(conn)?
        .into_iter()
        .map(UserRow::into_user)
        .collect())
}

/// Writes the changeable fields of `user` (and the password hash when given).
pub fn update_user(conn: &mut DbConn, user: &User, password_hash: Option<&str>) -> QueryResult<()> {
    let target = users::table
        .filter(users::org_id.eq(user.org_id))
        .filter(users::id.eq(user.id));
    diesel::update(target)
        .set(UserChanges {
            display_name: &user.display_name,
            role: user.role,
            active: user.active,
            updated_at: user.updated_at.naive_utc(),
            password_hash,
            sessions_valid_after: user.sessions_valid_after.map(|t| t.naive_utc()),
            preferred_language: Some(user.preferred_language.as_deref()),
        })
        .execute(conn)?;
    Ok(())
}

pub fn count_active_admins(conn: &mut DbConn, org: OrgId) -> QueryResult<i64> {
    users::table
        .filter(users::org_id.eq(org))
        .filter(users::role.eq(Role::Admin))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}

// ---------------------------------------------------------------- integration clients

#[derive(Queryable, Selectable)]
#[diesel(table_name = integration_clients)]
struct ClientRow {
    id: ClientId,
    org_id: OrgId,
    name: String,
    /// Space-separated, as in an OAuth2 `scope`.
    scopes: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ClientRow {
    fn into_client(self) -> QueryResult<IntegrationClient> {
        let id = self.id;
        Ok(IntegrationClient {
            id,
            org_id: self.org_id,
            name: self.name,
            scopes: Scope::parse_list(&self.scopes)
                .map_err(|e| bad_data(format!("client {id}: stored scopes: {e}")))?,
            active: self.active,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = integration_clients)]
struct NewClient<'a> {
    id: ClientId,
    org_id: OrgId,
    name: &'a str,
    scopes: String,
    secret_hash: &'a str,
    active: bool,
    created_by: Option<UserId>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub fn insert_client(
    conn: &mut DbConn,
    client: &IntegrationClient,
    secret_hash: &str,
    created_by: Option<UserId>,
) -> QueryResult<()> {
    diesel::insert_into(integration_clients::table)
        .values(NewClient {
            id: client.id,
            org_id: client.org_id,
            name: &client.name,
            scopes: Scope::join(&client.scopes),
            secret_hash,
            active: client.active,
            created_by,
            created_at: client.created_at.naive_utc(),
            updated_at: client.updated_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(())
}

pub fn find_client(
    conn: &mut DbConn,
    org: OrgId,
    id: ClientId,
) -> QueryResult<Option<IntegrationClient>> {
    integration_clients::table
        .filter(integration_clients::org_id.eq(org))
        .filter(integration_clients::id.eq(id))
        .select(ClientRow::as_select())
        .first(conn)
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
        .filter(integration_clients::id.eq(id))
        .select((ClientRow::as_select(), integration_clients::secret_hash))
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
        .filter(integration_clients::org_id.eq(org))
        .select(ClientRow::as_select())
        .order(integration_clients::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(integration_clients::id.gt(after));
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
        .filter(integration_clients::org_id.eq(org))
        .filter(integration_clients::id.eq(id));
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
    pub id: TokenId,
    pub family_id: FamilyId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
    pub revoked: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshTokenRow {
    id: TokenId,
    family_id: FamilyId,
    user_id: UserId,
    org_id: OrgId,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

/// A refresh token to store: only the hash of its value is kept.
#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub id: TokenId,
    pub token_hash: &'a str,
    pub family_id: FamilyId,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_refresh_token(conn: &mut DbConn, token: &NewRefreshToken<'_>) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

pub fn find_refresh_token(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<RefreshToken>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| RefreshToken {
            id: row.id,
            family_id: row.family_id,
            user_id: row.user_id,
            org_id: row.org_id,
            expires_at: row.expires_at.and_utc(),
            used: row.used_at.is_some(),
            revoked: row.revoked_at.is_some(),
        }))
}

/// Marks a token as used if nobody used or revoked it first. Exactly one of several
/// concurrent callers gets `true`.
pub fn consume_refresh_token(
    conn: &mut DbConn,
    token: &RefreshToken,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = refresh_tokens::table
        .filter(refresh_tokens::org_id.eq(token.org_id))
        .filter(refresh_tokens::id.eq(token.id))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::revoked_at.is_null());
    let updated = diesel::update(target)
        .set(refresh_tokens::used_at.eq(at.naive_utc()))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every token of a sign-in session; returns how many were still live.
pub fn revoke_refresh_family(
    conn: &mut DbConn,
    org: OrgId,
    family: FamilyId,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let target = refresh_tokens::table
        .filter(refresh_tokens::org_id.eq(org))
        .filter(refresh_tokens::family_id.eq(family))
        .filter(refresh_tokens::revoked_at.is_null());
    diesel::update(target)
        .set(refresh_tokens::revoked_at.eq(at.naive_utc()))
        .execute(conn)
}

pub fn revoke_user_refresh_tokens(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let target = refresh_tokens::table
        .filter(refresh_tokens::org_id.eq(org))
        .filter(refresh_tokens::user_id.eq(user))
        .filter(refresh_tokens::revoked_at.is_null());
    diesel::update(target)
        .set(refresh_tokens::revoked_at.eq(at.naive_utc()))
        .execute(conn)
}

/// The language a user reads questionnaires in, when they set one.
pub fn preferred_language(
    conn: &mut DbConn,
    org: OrgId,
    id: UserId,
) -> QueryResult<Option<String>> {
    Ok(users::table
        .filter(users::org_id.eq(org))
        .filter(users::id.eq(id))
        .select(users::preferred_language)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}
