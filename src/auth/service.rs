//! The use cases of identity and access: signing in, rotating and revoking refresh tokens,
//! client credentials, managing users and integration clients. Each owns its database work
//! (one transaction where it writes) and answers with domain results or an [`AuthError`].

use super::dto::{ClientResponse, UserResponse};
use crate::audit::model::{self as audit, Actor, Target};
use chrono::TimeDelta;

use super::model::{
    ClientId, Email, IntegrationClient, OrgId, Organization, PASSWORD_MAX_BYTES, Password, Role,
    Scope, User, UserId,
};
use super::tokens::{self, TokenService};
use super::{AuthUser, Principal, passwords};
use crate::db::identity::{self, NewRefreshToken, UserFilter};
use crate::db::{self, Db, DbError, is_unique_violation};
use crate::ids::{FamilyId, TokenId};
use crate::validation::Violation;

/// Why an identity use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The grant's credentials or refresh token are refused (why, safe to show).
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("the client id or secret is incorrect, or the client is revoked")]
    InvalidClient,
    #[error("{0}")]
    InvalidScope(String),
    #[error("invalid request")]
    Invalid(Vec<Violation>),
    #[error("not found")]
    NotFound,
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("this is the organization's last active admin; make another user admin first")]
    LastAdmin,
    /// The email and password open accounts in these organizations: the caller must name one.
    #[error(
        "this email and password open accounts in {} organizations; name one in `organization`",
        .0.len()
    )]
    OrganizationRequired(Vec<Organization>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

db::domain_error!(AuthError);

/// Tokens handed to a caller that signed in.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    /// For users only: rotate it for new tokens.
    pub refresh_token: Option<String>,
    /// The granted scopes, space-separated.
    pub scope: String,
}

fn random_token(prefix: &str) -> Result<String, AuthError> {
    tokens::random_token(prefix)
        .map_err(|e| AuthError::Internal(anyhow::anyhow!("random source failed: {e}")))
}

/// Runs CPU-heavy work (argon2) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    actix_web::rt::task::spawn_blocking(f)
        .await
        .map_err(|e| AuthError::Internal(anyhow::anyhow!("blocking task failed: {e}")))
}

async fn hash_password(password: Password) -> Result<String, AuthError> {
    Ok(blocking(move || passwords::hash(&password)).await??)
}

fn refresh_expiry(tokens: &TokenService) -> Result<TimeDelta, AuthError> {
    TimeDelta::from_std(tokens.refresh_ttl()).map_err(|e| AuthError::Internal(e.into()))
}

fn user_tokens(
    tokens: &TokenService,
    user: &User,
    refresh_token: String,
) -> Result<IssuedTokens, AuthError> {
    let scope = Scope::join(&user.role.scopes());
    let (access_token, expires_in) = tokens.issue(
        user.id.to_string(),
        user.org_id.to_string(),
        "user",
        Some(user.role.as_str().to_string()),
        scope.clone(),
    )?;
    Ok(IssuedTokens {
        access_token,
        expires_in,
        refresh_token: Some(refresh_token),
        scope,
    })
}

const WRONG_PASSWORD: &str = "the email or password is incorrect";

/// Hashes checked by a sign-in that names no organization, at the least (see `sign_in`).
const LOGIN_CHECKS: usize = 2;

/// Signs a user in with email and password: a new session (refresh token family) and an
/// access token. Unknown emails cost the same work as known ones, and every failure reads
/// the same. An email may have an account in several organizations: `organization` names
/// one; without it, the one account whose password matches signs in, and when the password
/// opens several, the caller must choose (`organization_required`).
pub async fn sign_in(
    db: &Db,
    tokens: &TokenService,
    email: Option<Email>,
    organization: Option<OrgId>,
    password: String,
) -> Result<IssuedTokens, AuthError> {
    // An over-long password is refused before any hashing work.
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(AuthError::InvalidGrant(WRONG_PASSWORD));
    }
    let found = match email {
        Some(email) => {
            db.run(move |conn| {
                Ok::<_, DbError>(identity::find_users_for_login(conn, &email, organization)?)
            })
            .await?
        }
        None => Vec::new(),
    };
    // The work done must not tell how many accounts an email has: without an organization,
    // every sign-in checks at least `LOGIN_CHECKS` hashes (real ones, then dummies), so an
    // unknown email, an email of one organization and one of two take the same time.
    let floor = if organization.is_some() {
        1
    } else {
        LOGIN_CHECKS
    };
    let mut opened = blocking(move || {
        for _ in found.len()..floor {
            passwords::verify_dummy(&password);
        }
        found
            .into_iter()
            .filter(|(user, hash)| passwords::verify(&password, hash) && user.active)
            .map(|(user, _)| user)
            .collect::<Vec<_>>()
    })
    .await?;
    if opened.len() > 1 {
        // Only someone who knows the password of every one of these accounts gets here.
        let orgs: Vec<OrgId> = opened.iter().map(|u| u.org_id).collect();
        let named = db
            .run(move |conn| {
                let mut named = Vec::new();
                for org in &orgs {
                    named.extend(identity::find_organization(conn, *org)?);
                }
                Ok::<_, DbError>(named)
            })
            .await?;
        return Err(AuthError::OrganizationRequired(named));
    }
    let user = opened
        .pop()
        .ok_or(AuthError::InvalidGrant(WRONG_PASSWORD))?;

    let refresh = random_token("smr_")?;
    let token_hash = tokens::hash_secret(&refresh);
    let now = db.now();
    let expires_at = now + refresh_expiry(tokens)?;
    let (user_id, org_id) = (user.id, user.org_id);
    db.run(move |conn| {
        identity::insert_refresh_token(
            conn,
            &NewRefreshToken {
                id: TokenId::generate(),
                token_hash: &token_hash,
                family_id: FamilyId::generate(),
                user_id,
                org_id,
                created_at: now.naive_utc(),
                expires_at: expires_at.naive_utc(),
            },
        )
        .map_err(DbError::Query)
    })
    .await?;
    user_tokens(tokens, &user, refresh)
}

enum Rotation {
    Rotated(User),
    Refused(&'static str),
}

/// Rotates a refresh token: it works once, and a new one of the same session replaces it.
/// A used token presented again means it was copied: the whole session ends.
pub async fn rotate_refresh(
    db: &Db,
    tokens: &TokenService,
    presented: &str,
) -> Result<IssuedTokens, AuthError> {
    let hash = tokens::hash_secret(presented);
    let new_token = random_token("smr_")?;
    let new_hash = tokens::hash_secret(&new_token);
    let ttl = refresh_expiry(tokens)?;
    let outcome = db.write(move |tx| {
            let now = tx.now();
            let Some(stored) = identity::find_refresh_token(tx, &hash)? else {
                return Ok(Rotation::Refused("the refresh token is not valid"));
            };
            if stored.revoked {
                return Ok(Rotation::Refused("the refresh token was revoked"));
            }
            if stored.used || !identity::consume_refresh_token(tx, &stored, now)? {
                let revoked =
                    identity::revoke_refresh_family(tx, stored.org_id, stored.family_id, now)?;
                tracing::warn!(family = %stored.family_id, revoked, "refresh token reused; session revoked");
                return Ok(Rotation::Refused(
                    "the refresh token was already used; the session has been ended",
                ));
            }
            if stored.expires_at <= now {
                return Ok(Rotation::Refused("the refresh token has expired"));
            }
            let Some(user) = identity::find_user(tx, stored.org_id, stored.user_id)?
                .filter(|u| u.active)
            else {
                identity::revoke_refresh_family(tx, stored.org_id, stored.family_id, now)?;
                return Ok(Rotation::Refused("the account is deactivated"));
            };
            identity::insert_refresh_token(
                tx,
                &NewRefreshToken {
                    id: TokenId::generate(),
                    token_hash: &new_hash,
                    family_id: stored.family_id,
                    user_id: user.id,
                    org_id: user.org_id,
                    created_at: now.naive_utc(),
                    expires_at: (now + ttl).naive_utc(),
                },
            )?;
            Ok::<_, AuthError>(Rotation::Rotated(user))
        })
        .await?;
    match outcome {
        Rotation::Rotated(user) => user_tokens(tokens, &user, new_token),
        Rotation::Refused(reason) => Err(AuthError::InvalidGrant(reason)),
    }
}

/// Authenticates an integration client by id and secret and issues an access token with
/// the scopes it asks for (all it was granted when it names none).
pub async fn client_token(
    db: &Db,
    tokens: &TokenService,
    id: ClientId,
    secret: String,
    requested: Option<&str>,
) -> Result<IssuedTokens, AuthError> {
    let found = db
        .run(move |conn| Ok::<_, DbError>(identity::find_client_for_auth(conn, id)?))
        .await?;
    let client = match found {
        Some((client, hash))
            if client.active && tokens::constant_time_eq(&tokens::hash_secret(&secret), &hash) =>
        {
            client
        }
        _ => return Err(AuthError::InvalidClient),
    };
    let scopes = match requested.filter(|s| !s.trim().is_empty()) {
        None => client.scopes.clone(),
        Some(requested) => {
            let requested = Scope::parse_list(requested).map_err(AuthError::InvalidScope)?;
            if let Some(extra) = requested.iter().find(|s| !client.scopes.contains(s)) {
                return Err(AuthError::InvalidScope(format!(
                    "this client was not granted `{}`",
                    extra.as_str()
                )));
            }
            requested
        }
    };
    let scope = Scope::join(&scopes);
    let (access_token, expires_in) = tokens.issue(
        client.id.to_string(),
        client.org_id.to_string(),
        "client",
        None,
        scope.clone(),
    )?;
    Ok(IssuedTokens {
        access_token,
        expires_in,
        refresh_token: None,
        scope,
    })
}

/// Ends the sign-in session a refresh token belongs to; an unknown token is no error.
pub async fn revoke(db: &Db, presented: &str) -> Result<(), AuthError> {
    let hash = tokens::hash_secret(presented);
    let now = db.now();
    db.run(move |conn| {
        if let Some(stored) = identity::find_refresh_token(conn, &hash)? {
            identity::revoke_refresh_family(conn, stored.org_id, stored.family_id, now)?;
        }
        Ok::<_, DbError>(())
    })
    .await?;
    Ok(())
}

/// Who the caller is, as `GET /me` shows it.
pub struct Me {
    pub organization: Organization,
    pub id: uuid::Uuid,
    pub name: String,
    /// For users.
    pub email: Option<Email>,
    /// For users.
    pub preferred_language: Option<String>,
}

pub async fn whoami(db: &Db, caller: &AuthUser) -> Result<Me, AuthError> {
    let (org_id, principal) = (caller.org_id, caller.principal);
    db.run(move |conn| {
        let organization = identity::find_organization(conn, org_id)?.ok_or(AuthError::NotFound)?;
        let (name, email, id, preferred_language) = match principal {
            Principal::User { id, .. } => {
                let user = identity::find_user(conn, org_id, id)?.ok_or(AuthError::NotFound)?;
                (
                    user.display_name,
                    Some(user.email),
                    id.0,
                    user.preferred_language,
                )
            }
            Principal::Client { id } => {
                let client = identity::find_client(conn, org_id, id)?.ok_or(AuthError::NotFound)?;
                (client.name, None, id.0, None)
            }
        };
        Ok(Me {
            organization,
            id,
            name,
            email,
            preferred_language,
        })
    })
    .await
}

// ---------------------------------------------------------------- users

/// The user a token names, if it still exists and is active (checked on every request, so
/// a deactivated user's tokens stop working at once).
pub async fn active_user(db: &Db, org: OrgId, id: UserId) -> Result<Option<User>, AuthError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(identity::find_user(conn, org, id)?))
        .await?
        .filter(|u| u.active))
}

/// The integration client a token names, if it still exists and is not revoked.
pub async fn active_client(
    db: &Db,
    org: OrgId,
    id: ClientId,
) -> Result<Option<IntegrationClient>, AuthError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(identity::find_client(conn, org, id)?))
        .await?
        .filter(|c| c.active))
}

pub async fn list_users(
    db: &Db,
    org: OrgId,
    filter: UserFilter,
    after: Option<UserId>,
    limit: i64,
) -> Result<Vec<User>, AuthError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(identity::list_users(conn, org, &filter, after, limit)?))
        .await?)
}

pub async fn find_user(db: &Db, org: OrgId, id: UserId) -> Result<User, AuthError> {
    db.run(move |conn| Ok::<_, DbError>(identity::find_user(conn, org, id)?))
        .await?
        .ok_or(AuthError::NotFound)
}

/// A new user, checked.
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub password: Password,
}

/// Creates a user; the email must be free in the organization (other organizations may
/// have a user with the same email: accounts are per organization).
pub async fn create_user(
    db: &Db,
    org: OrgId,
    actor: Actor,
    new: NewUser,
) -> Result<User, AuthError> {
    let hash = hash_password(new.password).await?;
    let now = db.now();
    let user = User {
        id: UserId::generate(),
        org_id: org,
        email: new.email,
        display_name: new.display_name,
        role: new.role,
        active: true,
        created_at: now,
        updated_at: now,
        sessions_valid_after: None,
        preferred_language: None,
    };
    let stored = user.clone();
    db.write(move |tx| {
        match identity::insert_user(tx, &stored, &hash) {
            Ok(()) => {}
            Err(e) if is_unique_violation(&e) => return Err(AuthError::EmailTaken),
            Err(e) => return Err(e.into()),
        }
        audit::record(
            tx,
            org,
            actor,
            "user.created",
            Target::new("user", stored.id),
            None::<&UserResponse>,
            Some(&UserResponse::from(stored.clone())),
        )?;
        Ok(())
    })
    .await?;
    tracing::info!(user = %user.id, role = %user.role, "user created");
    Ok(user)
}

/// What an admin changes of a user; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password: Option<Password>,
    /// `Some(None)` clears it.
    pub preferred_language: Option<Option<String>>,
}

/// Changes a user in one transaction that also guards the last active admin (never demoted
/// nor deactivated) and ends the user's sessions when they lose access or get a new password.
pub async fn change_user(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: UserId,
    change: UserChange,
) -> Result<User, AuthError> {
    let password_hash = match change.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let (name, role, active) = (change.display_name, change.role, change.active);
    let language = change.preferred_language;
    db.write(move |tx| {
        identity::lock_organization(tx, org)?;
        let before = identity::find_user(tx, org, id)?.ok_or(AuthError::NotFound)?;
        let mut after = before.clone();
        if let Some(name) = name.clone() {
            after.display_name = name;
        }
        if let Some(role) = role {
            after.role = role;
        }
        if let Some(active) = active {
            after.active = active;
        }
        if let Some(language) = language.clone() {
            after.preferred_language = language;
        }
        let was_admin = before.active && before.role == Role::Admin;
        let is_admin = after.active && after.role == Role::Admin;
        if was_admin && !is_admin && identity::count_active_admins(tx, org)? <= 1 {
            return Err(AuthError::LastAdmin);
        }
        let now = tx.now();
        after.updated_at = now;
        // Access tokens issued before a change of what the user may do stop working at
        // once (JWT times are whole seconds: a token of this same second stays valid).
        if password_hash.is_some() || after.role != before.role || !after.active {
            after.sessions_valid_after = Some(now);
        }
        identity::update_user(tx, &after, password_hash.as_deref())?;
        if (before.active && !after.active) || password_hash.is_some() {
            identity::revoke_user_refresh_tokens(tx, org, id, now)?;
        }
        let action = if before.active && !after.active {
            "user.deactivated"
        } else if password_hash.is_some() {
            "user.password_set"
        } else {
            "user.updated"
        };
        audit::record(
            tx,
            org,
            actor,
            action,
            Target::new("user", id),
            Some(&UserResponse::from(before)),
            Some(&UserResponse::from(after.clone())),
        )?;
        Ok(after)
    })
    .await
}

// ---------------------------------------------------------------- integration clients

pub async fn list_clients(
    db: &Db,
    org: OrgId,
    after: Option<ClientId>,
    limit: i64,
) -> Result<Vec<IntegrationClient>, AuthError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(identity::list_clients(conn, org, after, limit)?))
        .await?)
}

/// Creates an integration client; returns it with its secret, which is stored only hashed.
pub async fn create_client(
    db: &Db,
    org: OrgId,
    actor: Actor,
    created_by: Option<UserId>,
    name: String,
    mut scopes: Vec<Scope>,
) -> Result<(IntegrationClient, String), AuthError> {
    scopes.sort();
    scopes.dedup();
    let secret = random_token("smcs_")?;
    let secret_hash = tokens::hash_secret(&secret);
    let now = db.now();
    let client = IntegrationClient {
        id: ClientId::generate(),
        org_id: org,
        name,
        scopes,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let stored = client.clone();
    db.write(move |tx| {
        identity::insert_client(tx, &stored, &secret_hash, created_by)?;
        audit::record(
            tx,
            org,
            actor,
            "client.created",
            Target::new("client", stored.id),
            None::<&ClientResponse>,
            Some(&ClientResponse::from(stored.clone())),
        )?;
        Ok::<_, AuthError>(())
    })
    .await?;
    tracing::info!(client = %client.id, scopes = %Scope::join(&client.scopes), "integration client created");
    Ok((client, secret))
}

/// Revokes an integration client: it can no longer get tokens, and its tokens stop working.
pub async fn revoke_client(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: ClientId,
) -> Result<(), AuthError> {
    db.write(move |tx| {
        let before = identity::find_client(tx, org, id)?.ok_or(AuthError::NotFound)?;
        let now = tx.now();
        if !identity::deactivate_client(tx, org, id, now)? {
            return Err(AuthError::NotFound);
        }
        let after = IntegrationClient {
            active: false,
            updated_at: now,
            ..before.clone()
        };
        audit::record(
            tx,
            org,
            actor,
            "client.deactivated",
            Target::new("client", id),
            Some(&ClientResponse::from(before)),
            Some(&ClientResponse::from(after)),
        )?;
        Ok(())
    })
    .await
}
