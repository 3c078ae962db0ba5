//! `/api/v1/users`: admins manage the users of their organization.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use validator::Validate;

use super::dto::{CreateUserRequest, ListUsersQuery, UpdateUserRequest, UserResponse};
use super::extractor::AuthUser;
use super::model::{Email, Password, Role, User, UserId, parse_display_name};
use super::passwords;
use crate::db::identity::{self, UserFilter};
use crate::db::{self, is_unique_violation, write_transaction};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violations;

fn email_taken() -> ApiError {
    ApiError::conflict(
        ErrorCode::EmailTaken,
        "a user with this email already exists",
    )
}

fn last_admin() -> ApiError {
    ApiError::conflict(
        ErrorCode::LastAdmin,
        "this is the organization's last active admin; make another user admin first",
    )
}

async fn hash_password(password: Password) -> Result<String, ApiError> {
    web::block(move || passwords::hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// List the organization's users, oldest first.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<UserResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListUsersQuery>,
) -> Result<web::Json<Page<UserResponse>>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let after = page.after_id::<UserId>();
    let filter = UserFilter {
        role: query.role,
        active: query.active,
    };
    let org = auth.org_id;
    let fetch = page.fetch();
    let rows = state
        .db
        .run(move |conn| Ok::<_, ApiError>(identity::list_users(conn, org, &filter, after, fetch)?))
        .await?;
    Ok(web::Json(page.page(
        rows,
        |u| u.id.to_string(),
        UserResponse::from,
    )))
}

/// Create a user in the caller's organization.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserResponse,
            headers(("Location" = String, description = "the new user's URL"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken (`email_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let body = body.into_inner();
    let mut violations = Violations::default();
    if let Err(e) = body.validate() {
        violations.extend_validator(&e);
    }
    let email = violations.check("/email", "invalid_email", Email::parse(&body.email));
    let name = violations.check(
        "/display_name",
        "invalid_name",
        parse_display_name(&body.display_name),
    );
    let password = violations.check(
        "/password",
        "invalid_password",
        Password::parse(body.password),
    );
    violations.finish()?;
    let (Some(email), Some(display_name), Some(password)) = (email, name, password) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "validated fields missing"
        )));
    };

    let hash = hash_password(password).await?;
    let now = db::now();
    let user = User {
        id: UserId::generate(),
        org_id: auth.org_id,
        email: email.as_str().to_string(),
        display_name,
        role: body.role,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let stored = user.clone();
    state
        .db
        .run(
            move |conn| match identity::insert_user(conn, &stored, &hash) {
                Ok(()) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(email_taken()),
                Err(e) => Err(e.into()),
            },
        )
        .await?;
    tracing::info!(user = %user.id, role = %user.role, "user created");
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(UserResponse::from(user)))
}

/// Get one user of the caller's organization.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "user id")),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
) -> Result<web::Json<UserResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let (org, id) = (auth.org_id, id.into_inner());
    let user = state
        .db
        .run(move |conn| Ok::<_, ApiError>(identity::find_user(conn, org, id)?))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(web::Json(user.into()))
}

/// Applies `change` to a user inside one transaction that also guards the last admin and
/// ends the user's sessions when they lose access.
async fn change_user(
    state: &AppState,
    org: crate::auth::model::OrgId,
    id: UserId,
    change: impl FnOnce(&mut User) + Send + 'static,
    password_hash: Option<String>,
) -> Result<User, ApiError> {
    state
        .db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                identity::lock_organization(conn, org)?;
                let before = identity::find_user(conn, org, id)?.ok_or_else(ApiError::not_found)?;
                let mut after = before.clone();
                change(&mut after);
                let was_admin = before.active && before.role == Role::Admin;
                let is_admin = after.active && after.role == Role::Admin;
                if was_admin && !is_admin && identity::count_active_admins(conn, org)? <= 1 {
                    return Err(last_admin());
                }
                let now = db::now();
                after.updated_at = now;
                identity::update_user(conn, &after, password_hash.as_deref())?;
                if (before.active && !after.active) || password_hash.is_some() {
                    identity::revoke_user_refresh_tokens(conn, id, now)?;
                }
                Ok(after)
            })
        })
        .await
}

/// Change a user: name, role, active flag or password.
///
/// Deactivating a user or setting their password ends their sessions; the last active
/// admin of an organization can be neither demoted nor deactivated.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "user id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The changed user", body = UserResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active admin (`last_admin`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
    body: ApiJson<UpdateUserRequest>,
) -> Result<web::Json<UserResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let body = body.into_inner();
    let mut violations = Violations::default();
    if let Err(e) = body.validate() {
        violations.extend_validator(&e);
    }
    let name = match &body.display_name {
        Some(n) => violations.check("/display_name", "invalid_name", parse_display_name(n)),
        None => None,
    };
    let password = match body.password {
        Some(p) => violations.check("/password", "invalid_password", Password::parse(p)),
        None => None,
    };
    violations.finish()?;
    let password_hash = match password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let (role, active) = (body.role, body.active);
    let user = change_user(
        &state,
        auth.org_id,
        id.into_inner(),
        move |user| {
            if let Some(name) = name {
                user.display_name = name;
            }
            if let Some(role) = role {
                user.role = role;
            }
            if let Some(active) = active {
                user.active = active;
            }
        },
        password_hash,
    )
    .await?;
    Ok(web::Json(user.into()))
}

/// Deactivate a user: they can no longer sign in and their sessions end. Their records
/// (reports, decisions) stay.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "user id")),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active admin (`last_admin`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}")]
pub async fn delete_user(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    change_user(
        &state,
        auth.org_id,
        id.into_inner(),
        |user| user.active = false,
        None,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
