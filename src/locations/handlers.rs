//! `/api/v1/locations`: admins write; every role reads, managers only their own locations.

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};

use super::dto::{
    CreateLocationRequest, ImportQuery, ImportReport, ImportRow, ListLocationsQuery,
    LocationResponse, ManagerLocations, UpdateLocationRequest,
};
use super::import::{ParsedRow, parse_csv};
use super::model::{Location, check, parse_tag};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::db::locations::{self as store, LocationFilter};
use crate::db::{self, identity, is_unique_violation, write_transaction};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{ApiJson, CsvBody};
use crate::ids::{LocationId, UserId};
use crate::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::validation::Violation;

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

fn code_taken(code: &str) -> ApiError {
    ApiError::conflict(
        ErrorCode::CodeTaken,
        format!("another location has the code `{code}`"),
    )
}

/// List locations, oldest first, with filters.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
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
    let (org, fetch) = (auth.org_id, page.fetch());
    let rows = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::list(conn, org, &filter, after, fetch)?))
        .await?;
    Ok(web::Json(page.page(
        rows,
        |l| l.id.to_string(),
        LocationResponse::from,
    )))
}

/// Create a location.
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
    let fields = check(body.into_inner().into(), "").map_err(ApiError::validation)?;
    let now = db::now();
    let location = Location {
        id: LocationId::generate(),
        org_id: auth.org_id,
        fields,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let stored = location.clone();
    state
        .db
        .run(move |conn| match store::insert(conn, &stored) {
            Err(e) if is_unique_violation(&e) => Err(code_taken(&stored.fields.code)),
            other => Ok(other?),
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/locations/{}", location.id),
        ))
        .json(LocationResponse::from(location)))
}

async fn load(state: &AppState, auth: &AuthUser, id: LocationId) -> Result<Location, ApiError> {
    let (org, manager) = (auth.org_id, manager_scope(auth));
    state
        .db
        .run(move |conn| {
            let location = store::find(conn, org, id)?.ok_or_else(ApiError::not_found)?;
            if let Some(manager) = manager
                && !store::manages(conn, org, manager, id)?
            {
                return Err(ApiError::not_found());
            }
            Ok(location)
        })
        .await
}

/// Get one location.
#[utoipa::path(
    tag = "locations",
    security(("bearer" = [])),
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
    Ok(web::Json(
        load(&state, &auth, id.into_inner()).await?.into(),
    ))
}

/// Change a location; `null` clears an optional field.
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
    let mut location = load(&state, &auth, id.into_inner()).await?;
    let (raw, active) = body.into_inner().apply(&location);
    location.fields = check(raw, "").map_err(ApiError::validation)?;
    if let Some(active) = active {
        location.active = active;
    }
    location.updated_at = db::now();
    let stored = location.clone();
    state
        .db
        .run(move |conn| match store::update(conn, &stored) {
            Err(e) if is_unique_violation(&e) => Err(code_taken(&stored.fields.code)),
            Ok(false) => Err(ApiError::not_found()),
            other => other.map(|_| ()).map_err(ApiError::from),
        })
        .await?;
    Ok(web::Json(location.into()))
}

/// Deactivate a location. It is never removed: its reports and aggregates stay.
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
    let (org, id) = (auth.org_id, id.into_inner());
    let found = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::deactivate(conn, org, id, db::now())?))
        .await?;
    if !found {
        return Err(ApiError::not_found());
    }
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
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ImportQuery>,
    body: CsvBody,
) -> Result<web::Json<ImportReport>, ApiError> {
    auth.require_role(&[Role::Admin])?;
    let partial = query.partial.unwrap_or(false);
    let rows = parse_csv(&body.0).map_err(ApiError::validation)?;
    let failed: Vec<Violation> = rows.iter().flat_map(|r| r.errors.iter().cloned()).collect();
    if !failed.is_empty() && !partial {
        return Err(ApiError::validation(failed));
    }
    let org = auth.org_id;
    let report = state
        .db
        .run(move |conn| write_transaction(conn, |conn| upsert_rows(conn, org, rows)))
        .await?;
    tracing::info!(
        created = report.created,
        updated = report.updated,
        skipped = report.skipped,
        "locations imported"
    );
    Ok(web::Json(report))
}

fn upsert_rows(
    conn: &mut db::DbConn,
    org: crate::ids::OrgId,
    rows: Vec<ParsedRow>,
) -> Result<ImportReport, ApiError> {
    let now = db::now();
    let mut report = ImportReport {
        created: 0,
        updated: 0,
        skipped: 0,
        rows: Vec::with_capacity(rows.len()),
    };
    for row in rows {
        let Some(fields) = row.fields else {
            report.skipped += 1;
            report.rows.push(ImportRow {
                row: row.row,
                code: row.code,
                outcome: "skipped".into(),
                errors: row.errors,
            });
            continue;
        };
        let code = fields.code.clone();
        let outcome = match store::find_by_code(conn, org, &fields.code)? {
            Some(mut existing) => {
                existing.fields = fields;
                existing.updated_at = now;
                store::update(conn, &existing)?;
                report.updated += 1;
                "updated"
            }
            None => {
                store::insert(
                    conn,
                    &Location {
                        id: LocationId::generate(),
                        org_id: org,
                        fields,
                        active: true,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                report.created += 1;
                "created"
            }
        };
        report.rows.push(ImportRow {
            row: row.row,
            code: Some(code),
            outcome: outcome.into(),
            errors: Vec::new(),
        });
    }
    Ok(report)
}

/// The locations a manager may see.
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
    let (org, id) = (auth.org_id, id.into_inner());
    let location_ids = state
        .db
        .run(move |conn| {
            identity::find_user(conn, org, id)?.ok_or_else(ApiError::not_found)?;
            Ok::<_, ApiError>(store::manager_location_ids(conn, org, id)?)
        })
        .await?;
    Ok(web::Json(ManagerLocations { location_ids }))
}

/// Set the locations a manager may see (replaces the whole list).
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
    if requested.len() > 10_000 {
        return Err(ApiError::validation(vec![Violation::new(
            "/location_ids",
            "too_many",
            "at most 10000 locations",
        )]));
    }
    let (org, id) = (auth.org_id, id.into_inner());
    let location_ids = state
        .db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let user = identity::find_user(conn, org, id)?.ok_or_else(ApiError::not_found)?;
                if user.role != Role::Manager {
                    return Err(ApiError::conflict(
                        ErrorCode::NotAManager,
                        format!(
                            "locations are assigned to managers; this user is {}",
                            user.role
                        ),
                    ));
                }
                let existing: HashSet<LocationId> = store::existing_ids(conn, org, &requested)?
                    .into_iter()
                    .collect();
                let unknown: Vec<Violation> = requested
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| !existing.contains(l))
                    .map(|(i, l)| {
                        Violation::new(
                            format!("/location_ids/{i}"),
                            "unknown_location",
                            format!("no location {l} in this organization"),
                        )
                    })
                    .collect();
                if !unknown.is_empty() {
                    return Err(ApiError::validation(unknown));
                }
                let mut ids: Vec<LocationId> = existing.into_iter().collect();
                ids.sort();
                store::set_manager_locations(conn, org, id, &ids)?;
                Ok(ids)
            })
        })
        .await?;
    Ok(web::Json(ManagerLocations { location_ids }))
}
