//! `/api/v1/locations`: admins write; every role reads, managers only their own locations.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};

use super::dto::{
    CreateLocationRequest, ImportQuery, ImportReport, ListLocationsQuery, LocationResponse,
    ManagerLocations, UpdateLocationRequest,
};
use super::import::parse_csv;
use super::model::parse_tag;
use super::service::{self, LocationError};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::db::locations::LocationFilter;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{ApiJson, CsvBody};
use crate::ids::{LocationId, UserId};
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violation;

impl From<LocationError> for ApiError {
    fn from(e: LocationError) -> Self {
        match e {
            LocationError::Invalid(violations) => ApiError::validation(violations),
            LocationError::NotFound => ApiError::not_found(),
            e @ LocationError::CodeTaken(_) => {
                ApiError::conflict(ErrorCode::CodeTaken, e.to_string())
            }
            e @ LocationError::NotAManager(_) => {
                ApiError::conflict(ErrorCode::NotAManager, e.to_string())
            }
            e @ LocationError::TooSlow => {
                ApiError::unavailable(ErrorCode::RequestTimeout, e.to_string())
            }
            LocationError::Db(e) => e.into(),
        }
    }
}

fn can_read(auth: &AuthUser) -> Result<(), ApiError> {
    auth.require_role_or_scope(&Role::ALL, Scope::LocationsRead)
}

/// Managers see only the locations assigned to them.
fn manager_scope(auth: &AuthUser) -> Option<UserId> {
    match auth.role() {
        Some(Role::Manager) => auth.user_id(),
        _ => None,
    }
}

/// List locations.
///
/// Oldest first, filtered by region, tag, active flag, exact code or a case-insensitive name
/// search. Managers see only the locations assigned to them; integration clients need
/// `locations:read`.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = []), ("oauth2" = ["locations:read"])),
    params(ListLocationsQuery),
    responses(
        (status = 200, description = "A page of locations (managers: only theirs)", body = Page<LocationResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client without `locations:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/locations")]
pub async fn list_locations(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListLocationsQuery>,
) -> Result<web::Json<Page<LocationResponse>>, ApiError> {
    can_read(&auth)?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let after = page.after_id::<LocationId>();
    let tag = match query.tag.as_deref().map(parse_tag).transpose() {
        Ok(tag) => tag,
        Err(message) => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                "a query parameter is invalid",
            )
            .with_violations(vec![Violation::new(
                "/query/tag",
                "invalid_value",
                message,
            )]));
        }
    };
    let filter = LocationFilter {
        region: query.region,
        tag,
        active: query.active,
        code: query.code,
        name_contains: query
            .q
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.trim().to_string()),
        manager: manager_scope(&auth),
    };
    let rows = service::list(&state.db, auth.org_id, filter, after, page.fetch()).await?;
    Ok(web::Json(page.page(
        rows,
        |l| l.id.to_string(),
        LocationResponse::from,
    )))
}

/// Create a location.
///
/// A place that is visited, with its organization-unique `code` (store number), address,
/// region, IANA time zone, optional coordinates and tags. Every invalid field is listed at
/// once. Admins only.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
    request_body = CreateLocationRequest,
    responses(
        (status = 201, description = "Created", body = LocationResponse,
            headers(("Location" = String, description = "the new location's URL"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken (`code_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/locations")]
pub async fn create_location(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<CreateLocationRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let location = service::create(
        &state.db,
        auth.org_id,
        auth.actor(),
        body.into_inner().into(),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/locations/{}", location.id),
        ))
        .json(LocationResponse::from(location)))
}

/// Get one location.
///
/// Managers see only the locations assigned to them (another answers 404, as does another
/// organization's).
#[utoipa::path(
    tag = "locations",
    security(("bearer" = []), ("oauth2" = ["locations:read"])),
    params(("id" = LocationId, Path, description = "location id")),
    responses(
        (status = 200, description = "The location", body = LocationResponse),
        (status = 403, description = "A client without `locations:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location (or not one of the manager's)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/locations/{id}")]
pub async fn get_location(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
) -> Result<web::Json<LocationResponse>, ApiError> {
    can_read(&auth)?;
    let location = service::find(
        &state.db,
        auth.org_id,
        manager_scope(&auth),
        id.into_inner(),
    )
    .await?;
    Ok(web::Json(location.into()))
}

/// Change a location.
///
/// Send only the fields to change; `null` clears an optional field. The result is checked as a
/// whole, like a new location. Admins only.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
    params(("id" = LocationId, Path, description = "location id")),
    request_body = UpdateLocationRequest,
    responses(
        (status = 200, description = "The changed location", body = LocationResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken (`code_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/locations/{id}")]
pub async fn update_location(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
    body: ApiJson<UpdateLocationRequest>,
) -> Result<web::Json<LocationResponse>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let change = body.into_inner();
    let location = service::update(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        |current| change.apply(current),
    )
    .await?;
    Ok(web::Json(location.into()))
}

/// Deactivate a location.
///
/// It is never removed: its reports and aggregates stay, and PATCH with `active: true` brings
/// it back. New reports for it are refused while it is inactive. Admins only.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
    params(("id" = LocationId, Path, description = "location id")),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/locations/{id}")]
pub async fn delete_location(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin])?;
    service::deactivate(&state.db, auth.org_id, auth.actor(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Import locations from CSV, creating or updating them by `code` in one transaction.
///
/// Columns (header row required, any order): `code`, `name`, `timezone` (required);
/// `address_line1`..`address_line3`, `city`, `postal_code`, `country`, `region`,
/// `latitude`, `longitude`, `tags` (separated by `;`). Without `partial=true` nothing is
/// written unless every row is valid (422 lists every error with `/rows/N/field`).
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "code,name,city,country,region,timezone,latitude,longitude,tags\nS-0042,Chiado,Lisboa,PT,Lisbon,Europe/Lisbon,38.711,-9.142,flagship;mall\n"),
    responses(
        (status = 200, description = "What happened to each row", body = ImportReport),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File over 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `text/csv`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid rows or header (nothing written unless `partial=true`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/locations/import")]
pub async fn import_locations(
    req: actix_web::HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ImportQuery>,
    body: CsvBody,
) -> Result<web::Json<ImportReport>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let rows = parse_csv(&body.0).map_err(ApiError::validation)?;
    let partial = query.partial.unwrap_or(false);
    let deadline = actix_web::HttpMessage::extensions(&req)
        .get::<crate::middleware::Deadline>()
        .map_or_else(
            || std::time::Instant::now() + state.request_timeout,
            |d| d.0,
        );
    let summary = service::import(
        &state.db,
        auth.org_id,
        auth.actor(),
        rows,
        partial,
        deadline,
    )
    .await?;
    Ok(web::Json(summary.into()))
}

/// Get a manager's locations.
///
/// The ids of the locations a manager may see. Admins only.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "user id")),
    responses(
        (status = 200, description = "The manager's locations", body = ManagerLocations),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}/locations")]
pub async fn get_manager_locations(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
) -> Result<web::Json<ManagerLocations>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let location_ids = service::manager_locations(&state.db, auth.org_id, id.into_inner()).await?;
    Ok(web::Json(ManagerLocations { location_ids }))
}

/// Set a manager's locations.
///
/// Replaces the whole list; every id must be a location of the organization (unknown ones are
/// all listed). Only managers have locations. Admins only.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "user id of a manager")),
    request_body = ManagerLocations,
    responses(
        (status = 200, description = "The manager's locations now", body = ManagerLocations),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user is not a manager (`not_a_manager`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown location ids, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/users/{id}/locations")]
pub async fn set_manager_locations(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
    body: ApiJson<ManagerLocations, { 1024 * 1024 }>,
) -> Result<web::Json<ManagerLocations>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let requested = body.into_inner().location_ids;
    let location_ids = service::set_manager_locations(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        requested,
    )
    .await?;
    Ok(web::Json(ManagerLocations { location_ids }))
}
