//! Creating an organization with its first admin: `secondmile create-admin`, and `serve`
//! on an empty database when the `SECONDMILE_BOOTSTRAP_*` variables are set.

use super::model::{Email, OrgId, Organization, Password, Role, User, UserId, parse_display_name};
use super::passwords;
use crate::db::{self, Db, DbError, identity, is_unique_violation, write_transaction};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    Invalid(String),
    #[error("a user with the email {0} already exists")]
    EmailTaken(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("{0}")]
    Internal(#[from] anyhow::Error),
}

impl crate::db::TransactionError for BootstrapError {
    fn retryable(&self) -> bool {
        matches!(self, BootstrapError::Database(e) if e.retryable())
    }
}

impl From<db::QueryError> for BootstrapError {
    fn from(e: db::QueryError) -> Self {
        BootstrapError::Database(DbError::Query(e))
    }
}

/// Creates the organization and its admin in one transaction (blocking; hashes the password).
pub fn create_admin(
    db: &Db,
    org_name: &str,
    email: &str,
    display_name: Option<&str>,
    password: String,
) -> Result<(Organization, User), BootstrapError> {
    let org_name = parse_display_name(org_name)
        .map_err(|e| BootstrapError::Invalid(format!("organization name: {e}")))?;
    let email = Email::parse(email).map_err(|e| BootstrapError::Invalid(format!("email: {e}")))?;
    let display_name = match display_name {
        Some(name) => parse_display_name(name)
            .map_err(|e| BootstrapError::Invalid(format!("display name: {e}")))?,
        None => email
            .as_str()
            .split('@')
            .next()
            .unwrap_or("admin")
            .to_string(),
    };
    let password =
        Password::parse(password).map_err(|e| BootstrapError::Invalid(format!("password: {e}")))?;
    let hash = passwords::hash(&password)?;

    let now = db.now();
    let org = Organization {
        id: OrgId::generate(),
        name: org_name,
        created_at: now,
    };
    let admin = User {
        id: UserId::generate(),
        org_id: org.id,
        email,
        display_name,
        role: Role::Admin,
        active: true,
        created_at: now,
        updated_at: now,
        sessions_valid_after: None,
        preferred_language: None,
    };
    let mut conn = db.get()?;
    write_transaction(&mut conn, |conn| {
        identity::insert_organization(conn, &org)?;
        match identity::insert_user(conn, &admin, &hash) {
            Err(e) if is_unique_violation(&e) => {
                Err(BootstrapError::EmailTaken(admin.email.to_string()))
            }
            other => Ok(other?),
        }
    })?;
    Ok((org, admin))
}

/// Creates the configured organization and admin when the database has no organization.
/// Returns whether it did.
pub fn bootstrap_if_empty(
    db: &Db,
    config: &crate::config::BootstrapConfig,
) -> Result<bool, BootstrapError> {
    let mut conn = db.get()?;
    if identity::count_organizations(&mut conn)? > 0 {
        return Ok(false);
    }
    drop(conn);
    create_admin(
        db,
        &config.org_name,
        &config.admin_email,
        None,
        config.admin_password.expose().to_string(),
    )?;
    Ok(true)
}
