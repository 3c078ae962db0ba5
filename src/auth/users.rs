//! `/api/v1/users`: admins manage the users of their organization.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use validator::Validate;

use super::dto::{CreateUserRequest, ListUsersQuery, UpdateUserRequest, UserResponse};
use super::extractor::AuthUser;
use super::model::{Email, Password, Role, UserId, parse_display_name};
use super::service::{self, NewUser, UserChange};
use crate::db::identity::UserFilter;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violations;

/// List users.
///
/// The organization's users, oldest first, filtered by role and active flag. Admins only.
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
    let rows = service::list_users(&state.db, auth.org_id, filter, after, page.fetch()).await?;
    Ok(web::Json(page.page(
        rows,
        |u| u.id.to_string(),
        UserResponse::from,
    )))
}

/// Create a user.
///
/// A user of the caller's organization with a role and an initial password (12 to 1,024 bytes).
/// Emails are unique within the organization. Admins only.
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

    let new = NewUser {
        email,
        display_name,
        role: body.role,
        password,
    };
    let user = service::create_user(&state.db, auth.org_id, auth.actor(), new).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(UserResponse::from(user)))
}

/// Get one user.
///
/// A user of the caller's organization (another organization's answers 404). Admins only.
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
    let user = service::find_user(&state.db, auth.org_id, id.into_inner()).await?;
    Ok(web::Json(user.into()))
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
    let preferred_language = preferred_language(&mut violations, body.preferred_language);
    violations.finish()?;
    let change = UserChange {
        display_name: name,
        role: body.role,
        active: body.active,
        password,
        preferred_language,
    };
    let user = service::change_user(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        change,
    )
    .await?;
    Ok(web::Json(user.into()))
}

/// Deactivate a user.
///
/// They can no longer sign in and their sessions end at once. Their records (reports,
/// decisions) stay. The organization's last active admin cannot be deactivated. Admins only.
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
    let change = UserChange {
        active: Some(false),
        ..UserChange::default()
    };
    service::change_user(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        change,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A preferred language as sent (`null` clears it), in its canonical form, or a violation.
pub fn preferred_language(
    violations: &mut Violations,
    sent: Option<Option<String>>,
) -> Option<Option<String>> {
    match sent? {
        None => Some(None),
        Some(tag) => violations
            .check(
                "/preferred_language",
                "invalid_language",
                crate::questionnaires::language::canonical_tag(&tag),
            )
            .map(Some),
    }
}
