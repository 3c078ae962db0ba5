//! Endpoints of the visit programme: settings, exclusions, waves, assignments, coverage.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};

use super::dto::*;
use super::model::{Assignment, Generated, WaveAssignments};
use super::service::{self, Asker, ProgrammeError, Step};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{ApiJson, ApiJsonList};
use crate::ids::{AssignmentId, UserId, WaveId};
use crate::pagination::{Page, PageQuery, PageRequest, is_memory_key};
use crate::programme::rules::Breach;
use crate::query::Region;
use crate::state::AppState;
use crate::validation::Violation;

impl From<ProgrammeError> for ApiError {
    fn from(e: ProgrammeError) -> Self {
        let detail = e.to_string();
        match e {
            ProgrammeError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
            }
            ProgrammeError::Invalid(errors) => ApiError::validation(errors),
            ProgrammeError::Rules(breaches) => breach_error(&breaches),
            ProgrammeError::WaveStarted => ApiError::conflict(ErrorCode::WaveStarted, detail),
            ProgrammeError::WaveClosed | ProgrammeError::WaveEnded => {
                ApiError::conflict(ErrorCode::WaveClosed, detail)
            }
            ProgrammeError::Transition { current, .. } => {
                ApiError::conflict(ErrorCode::InvalidTransition, detail)
                    .with_current_status(current.as_str())
            }
            ProgrammeError::Taken => ApiError::conflict(ErrorCode::AssignmentTaken, detail),
            ProgrammeError::Db(e) => e.into(),
        }
    }
}

/// 409 naming the first rule broken and when it frees up, with every breach listed.
pub fn breach_error(breaches: &[(String, Breach)]) -> ApiError {
    let Some((_, first)) = breaches.first() else {
        return ApiError::conflict(
            ErrorCode::LockoutPeriod,
            "a lockout rule refuses this visit",
        );
    };
    let code = match first {
        Breach::Excluded => ErrorCode::ShopperExcluded,
        Breach::Lockout { .. } => ErrorCode::LockoutPeriod,
        Breach::YearlyLimit { .. } => ErrorCode::YearlyVisitLimit,
    };
    ApiError::conflict(code, first.message())
        .with_frees_on(first.frees_on())
        .with_violations(
            breaches
                .iter()
                .map(|(pointer, b)| Violation::new(pointer.clone(), b.code(), b.message()))
                .collect(),
        )
}

fn admin(auth: &AuthUser) -> Result<(), ApiError> {
    auth.require_role(&[Role::Admin])
}

pub(super) fn shopper(auth: &AuthUser) -> Result<UserId, ApiError> {
    auth.require_role(&[Role::Shopper])?;
    auth.user_id()
        .ok_or_else(|| ApiError::forbidden("this needs the role shopper"))
}

fn respond(list: Vec<(Assignment, String)>, now: DateTime<Utc>) -> Vec<AssignmentResponse> {
    list.into_iter()
        .map(|(a, key)| AssignmentResponse::new(a, key, now))
        .collect()
}

/// The lockout rules and whether reports need an assignment.
///
/// Both rules are off until an admin sets them. Admins only.
#[utoipa::path(
    operation_id = "get_programme_settings",
    tag = "programme",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = SettingsBody),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/programme/settings")]
pub async fn get_settings(
    auth: AuthUser,
    state: web::Data<AppState>,
) -> Result<web::Json<SettingsBody>, ApiError> {
    admin(&auth)?;
    Ok(web::Json(
        service::settings(&state.db, auth.org_id).await?.into(),
    ))
}

/// Set the lockout rules and whether reports need an assignment.
///
/// `lockout_days`: a shopper's visits to one location are at least this many days apart;
/// `max_visits_per_location_per_year`: at most this many visits by one shopper to one location
/// in any 365 days; `null` turns a rule off. Assigning, claiming and submitting check them.
/// Admins only.
#[utoipa::path(
    operation_id = "put_programme_settings",
    tag = "programme",
    security(("bearer" = [])),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "The new settings", body = SettingsBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Out of range, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/programme/settings")]
pub async fn put_settings(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<SettingsBody>,
) -> Result<web::Json<SettingsBody>, ApiError> {
    admin(&auth)?;
    Ok(web::Json(
        service::put_settings(
            &state.db,
            auth.org_id,
            auth.actor(),
            body.into_inner().into(),
        )
        .await?
        .into(),
    ))
}

/// The locations a shopper is excluded from.
///
/// A shopper who lives or works at a location is never planned, assigned or accepted there.
/// Admins only.
#[utoipa::path(
    operation_id = "get_excluded_locations",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the shopper's user id")),
    responses(
        (status = 200, description = "The excluded locations", body = ExclusionsBody),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The user is not a shopper (`not_a_shopper`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}/excluded-locations")]
pub async fn get_exclusions(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
) -> Result<web::Json<ExclusionsBody>, ApiError> {
    admin(&auth)?;
    let location_ids = service::exclusions(&state.db, auth.org_id, id.into_inner()).await?;
    Ok(web::Json(ExclusionsBody { location_ids }))
}

/// Replace the locations a shopper is excluded from.
///
/// Admins only.
#[utoipa::path(
    operation_id = "put_excluded_locations",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the shopper's user id")),
    request_body = ExclusionsBody,
    responses(
        (status = 200, description = "The excluded locations", body = ExclusionsBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown locations or not a shopper, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/users/{id}/excluded-locations")]
pub async fn put_exclusions(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
    body: ApiJson<ExclusionsBody>,
) -> Result<web::Json<ExclusionsBody>, ApiError> {
    admin(&auth)?;
    let location_ids = service::set_exclusions(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        body.into_inner().location_ids,
    )
    .await?;
    Ok(web::Json(ExclusionsBody { location_ids }))
}

/// Create a wave.
///
/// A period (local dates, at most 366 days) in which each active location in scope (all, or
/// a region's, or a tag's) is to be visited `visits_per_location` times with the
/// questionnaire `questionnaire_key`. Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    request_body = CreateWaveRequest,
    responses(
        (status = 201, description = "Created", body = WaveResponse,
            headers(("Location" = String, description = "the wave's URL"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/waves")]
pub async fn create_wave(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<CreateWaveRequest>,
) -> Result<HttpResponse, ApiError> {
    admin(&auth)?;
    let wave = service::create_wave(
        &state.db,
        auth.org_id,
        auth.actor(),
        body.into_inner().into(),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/waves/{}", wave.id)))
        .json(WaveResponse::new(wave, state.db.now())))
}

fn wave_cursor(key: &str) -> Option<(NaiveDate, WaveId)> {
    let (day, id) = key.split_once(':')?;
    Some((day.parse().ok()?, id.parse().ok()?))
}

/// List waves, latest start first.
///
/// Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of waves", body = Page<WaveResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/waves")]
pub async fn list_waves(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<WaveResponse>>, ApiError> {
    admin(&auth)?;
    let query = query.into_inner();
    let page = PageRequest::parse_with(query.limit, query.cursor.as_deref(), |k| {
        wave_cursor(k).is_some()
    })?;
    let after = page.after.as_deref().and_then(wave_cursor);
    let rows = service::list_waves(&state.db, auth.org_id, after, page.fetch()).await?;
    let now = state.db.now();
    Ok(web::Json(page.page(
        rows,
        |w| format!("{}:{}", w.starts_on, w.id),
        |w| WaveResponse::new(w, now),
    )))
}

/// Get one wave.
///
/// Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = WaveId, Path, description = "wave id")),
    responses(
        (status = 200, description = "The wave", body = WaveResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/waves/{id}")]
pub async fn get_wave(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WaveId>,
) -> Result<web::Json<WaveResponse>, ApiError> {
    admin(&auth)?;
    let wave = service::find_wave(&state.db, auth.org_id, id.into_inner()).await?;
    Ok(web::Json(WaveResponse::new(wave, state.db.now())))
}

/// Change a wave.
///
/// The name may change at any time; dates, questionnaire, visits and scope only before the
/// wave's first day (409 `wave_started`). A closed wave does not change (409 `wave_closed`).
/// Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = WaveId, Path, description = "wave id")),
    request_body = UpdateWaveRequest,
    responses(
        (status = 200, description = "The changed wave", body = WaveResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Started (`wave_started`) or closed (`wave_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/waves/{id}")]
pub async fn update_wave(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WaveId>,
    body: ApiJson<UpdateWaveRequest>,
) -> Result<web::Json<WaveResponse>, ApiError> {
    admin(&auth)?;
    let wave = service::update_wave(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        body.into_inner().into(),
    )
    .await?;
    Ok(web::Json(WaveResponse::new(wave, state.db.now())))
}

/// Close a wave.
///
/// Its assignments still to be done (open, assigned, accepted, declined) are cancelled;
/// completed ones stay. Closing a closed wave changes nothing. Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = WaveId, Path, description = "wave id")),
    responses(
        (status = 200, description = "The closed wave", body = WaveResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/waves/{id}/close")]
pub async fn close_wave(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WaveId>,
) -> Result<web::Json<WaveResponse>, ApiError> {
    admin(&auth)?;
    let wave = service::close_wave(&state.db, auth.org_id, auth.actor(), id.into_inner()).await?;
    Ok(web::Json(WaveResponse::new(wave, state.db.now())))
}

/// Add planned visits to a wave.
///
/// A JSON array of 1 to 500 assignments, stored all or none. Each names an active location in
/// the wave's scope, optionally a shopper (else it is open for shoppers to claim), a window
/// inside the wave (default: the whole wave), a time of day and instructions. A shopper who
/// breaks a lockout rule or is excluded answers 409 naming the rule and `frees_on`, every
/// breach listed. Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = WaveId, Path, description = "wave id")),
    request_body(content = Vec<NewAssignment>, description = "1 to 500 assignments",
        example = json!([{"location_id": "01936f5e-8c1a-7b3e-9d2f-4a5b6c7d8e9f", "shopper_id": "01936f5e-8c1a-7b3e-9d2f-4a5b6c7d8e90", "visit_from": "2027-03-01", "visit_to": "2027-03-14", "slot": "evening", "instructions": "Buy one item and ask about returns."}, {"location_id": "01936f5e-8c1a-7b3e-9d2f-4a5b6c7d8e91"}])),
    responses(
        (status = 201, description = "Created", body = Vec<AssignmentResponse>),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A lockout rule (`lockout_period`, `yearly_visit_limit`, `shopper_excluded`, with `frees_on`) or a closed wave (`wave_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid items, all listed (pointers `/N/field`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/waves/{id}/assignments")]
pub async fn add_assignments(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WaveId>,
    body: ApiJsonList<NewAssignment, { 512 * 1024 }>,
) -> Result<HttpResponse, ApiError> {
    admin(&auth)?;
    let WaveAssignments { wave, assignments } = service::add_assignments(
        &state.db,
        auth.org_id,
        id.into_inner(),
        body.into_inner().into_iter().map(Into::into).collect(),
    )
    .await?;
    let list = assignments
        .into_iter()
        .map(|a| (a, wave.questionnaire_key.clone()))
        .collect();
    Ok(HttpResponse::Created().json(respond(list, state.db.now())))
}

/// Plan what a wave still needs.
///
/// For every active location in scope, the visits not yet completed or planned are spread
/// over consecutive parts of the rest of the window, rotating the time of day, and each is
/// given to the shopper who has been to that location least and has the fewest visits in the
/// plan, among those who pass the lockout rules and are not excluded. A visit no shopper may
/// take is created open for claiming and counted in `unassigned`. Admins only.
#[utoipa::path(
    operation_id = "generate_assignments",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = WaveId, Path, description = "wave id")),
    request_body = GenerateRequest,
    responses(
        (status = 201, description = "Planned", body = GenerateResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The wave is closed or has ended (`wave_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/waves/{id}/assignments/generate")]
pub async fn generate(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WaveId>,
    body: ApiJson<GenerateRequest>,
) -> Result<HttpResponse, ApiError> {
    admin(&auth)?;
    let Generated {
        wave,
        created,
        unassigned,
        locations,
    } = service::generate(
        &state.db,
        auth.org_id,
        id.into_inner(),
        body.into_inner().into(),
    )
    .await?;
    let list = created
        .into_iter()
        .map(|a| (a, wave.questionnaire_key.clone()))
        .collect();
    Ok(HttpResponse::Created().json(GenerateResponse {
        created: respond(list, state.db.now()),
        unassigned,
        locations,
    }))
}

/// A wave's assignments.
///
/// By location, then window; `status=expired` lists the overdue ones. Admins only (managers
/// never see assignments: visits stay a surprise).
#[utoipa::path(
    operation_id = "list_wave_assignments",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = WaveId, Path, description = "wave id"), AssignmentQuery),
    responses(
        (status = 200, description = "The assignments", body = Page<AssignmentResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/waves/{id}/assignments")]
pub async fn wave_assignments(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WaveId>,
    query: web::Query<AssignmentQuery>,
) -> Result<web::Json<Page<AssignmentResponse>>, ApiError> {
    admin(&auth)?;
    let query = query.into_inner();
    let page = PageRequest::parse_with(query.limit, query.cursor.as_deref(), is_memory_key)?;
    let now = state.db.now();
    let WaveAssignments {
        wave,
        assignments: list,
    } = service::wave_assignments(&state.db, auth.org_id, id.into_inner(), query.into(), now)
        .await?;
    Ok(web::Json(page.page_in_memory(
        list,
        Assignment::wave_order,
        |a| AssignmentResponse::new(a, wave.questionnaire_key.clone(), now),
    )))
}

/// A wave's coverage.
///
/// Per active location in scope: visits required, completed (approved reports of the wave's
/// questionnaire key with a visit date in the wave), given to shoppers, open, and the gap;
/// with totals. Managers see their own locations and only `required` and `completed`
/// (never who is coming). Admins, reviewers, analysts, managers, clients with
/// `aggregates:read`.
#[utoipa::path(
    operation_id = "get_wave_coverage",
    tag = "programme",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("id" = WaveId, Path, description = "wave id"), CoverageQuery),
    responses(
        (status = 200, description = "Coverage", body = CoverageResponse),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/waves/{id}/coverage")]
pub async fn coverage(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WaveId>,
    query: web::Query<CoverageQuery>,
) -> Result<web::Json<CoverageResponse>, ApiError> {
    auth.require_role_or_scope(
        &[Role::Admin, Role::Reviewer, Role::Analyst, Role::Manager],
        Scope::AggregatesRead,
    )?;
    let manager = (auth.role() == Some(Role::Manager))
        .then(|| auth.user_id())
        .flatten();
    let region = Region::parse(query.into_inner().region)
        .map_err(|v| ApiError::invalid_query(vec![v]))?
        .map(Region::into_string);
    Ok(web::Json(
        service::coverage(
            &state.db,
            auth.org_id,
            id.into_inner(),
            region,
            manager,
            state.db.now(),
        )
        .await?
        .into(),
    ))
}

/// Get one assignment.
///
/// Admins see every one; a shopper sees their own and open ones (404 otherwise).
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = AssignmentId, Path, description = "assignment id")),
    responses(
        (status = 200, description = "The assignment", body = AssignmentResponse),
        (status = 403, description = "Neither an admin nor a shopper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assignment for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/assignments/{id}")]
pub async fn get_assignment(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AssignmentId>,
) -> Result<web::Json<AssignmentResponse>, ApiError> {
    let asker = asker(&auth)?;
    let (a, key) = service::find_assignment(&state.db, auth.org_id, asker, id.into_inner()).await?;
    Ok(web::Json(AssignmentResponse::new(a, key, state.db.now())))
}

fn asker(auth: &AuthUser) -> Result<Asker, ApiError> {
    auth.require_role(&[Role::Admin, Role::Shopper])?;
    match (auth.role(), auth.user_id()) {
        (Some(Role::Shopper), Some(me)) => Ok(Asker::Shopper(me)),
        _ => Ok(Asker::Admin),
    }
}

/// Change an assignment.
///
/// Give it to a shopper (`assigned`; a declined one too), open it for claiming
/// (`"shopper_id": null`), move its window inside the wave, change its time of day or
/// instructions. The shopper must pass the lockout rules (409 naming the rule). Completed,
/// cancelled and expired assignments do not change (409 `invalid_transition`). Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = AssignmentId, Path, description = "assignment id")),
    request_body = UpdateAssignmentRequest,
    responses(
        (status = 200, description = "The changed assignment", body = AssignmentResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assignment in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A lockout rule (with `frees_on`), a final status (`invalid_transition`), or a concurrent change (`assignment_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, all listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/assignments/{id}")]
pub async fn update_assignment(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AssignmentId>,
    body: ApiJson<UpdateAssignmentRequest>,
) -> Result<web::Json<AssignmentResponse>, ApiError> {
    admin(&auth)?;
    let (a, key) = service::update_assignment(
        &state.db,
        auth.org_id,
        id.into_inner(),
        body.into_inner().into(),
    )
    .await?;
    Ok(web::Json(AssignmentResponse::new(a, key, state.db.now())))
}

async fn step(
    state: &AppState,
    auth: &AuthUser,
    asker: Asker,
    id: AssignmentId,
    step: Step,
) -> Result<web::Json<AssignmentResponse>, ApiError> {
    let (a, key) = service::step(&state.db, auth.org_id, asker, id, step).await?;
    Ok(web::Json(AssignmentResponse::new(a, key, state.db.now())))
}

/// Cancel an assignment.
///
/// Open, assigned, accepted or declined assignments only (409 `invalid_transition`
/// otherwise). Admins only.
#[utoipa::path(
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = AssignmentId, Path, description = "assignment id")),
    responses(
        (status = 200, description = "Cancelled", body = AssignmentResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such assignment in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Completed, cancelled or expired (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assignments/{id}/cancel")]
pub async fn cancel_assignment(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AssignmentId>,
) -> Result<web::Json<AssignmentResponse>, ApiError> {
    admin(&auth)?;
    step(&state, &auth, Asker::Admin, id.into_inner(), Step::Cancel).await
}

/// Accept an assignment given to you.
///
/// `assigned` → `accepted`. Shoppers only.
#[utoipa::path(
    operation_id = "accept_assignment",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = AssignmentId, Path, description = "assignment id")),
    responses(
        (status = 200, description = "Accepted", body = AssignmentResponse),
        (status = 403, description = "Not a shopper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not `assigned` to you (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assignments/{id}/accept")]
pub async fn accept(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AssignmentId>,
) -> Result<web::Json<AssignmentResponse>, ApiError> {
    let me = shopper(&auth)?;
    step(
        &state,
        &auth,
        Asker::Shopper(me),
        id.into_inner(),
        Step::Accept,
    )
    .await
}

/// Decline an assignment given to you, with a reason.
///
/// `assigned` or `accepted` → `declined`; an admin may then give it to someone else.
/// Shoppers only.
#[utoipa::path(
    operation_id = "decline_assignment",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = AssignmentId, Path, description = "assignment id")),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "Declined", body = AssignmentResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a shopper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not assigned to or accepted by you (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one over 1000 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assignments/{id}/decline")]
pub async fn decline(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AssignmentId>,
    body: ApiJson<DeclineRequest>,
) -> Result<web::Json<AssignmentResponse>, ApiError> {
    let me = shopper(&auth)?;
    let reason = body.into_inner().reason;
    step(
        &state,
        &auth,
        Asker::Shopper(me),
        id.into_inner(),
        Step::Decline(reason),
    )
    .await
}

/// Claim an open assignment.
///
/// `open` → `accepted` by you, if you pass the lockout rules (409 naming the rule and
/// `frees_on`). Of shoppers claiming the same one at once, one wins; the others get 409
/// `assignment_taken`. Shoppers only.
#[utoipa::path(
    operation_id = "claim_assignment",
    tag = "programme",
    security(("bearer" = [])),
    params(("id" = AssignmentId, Path, description = "assignment id")),
    responses(
        (status = 200, description = "Claimed: accepted by you", body = AssignmentResponse),
        (status = 403, description = "Not a shopper", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such open assignment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Taken (`assignment_taken`), expired (`invalid_transition`), or a lockout rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assignments/{id}/claim")]
pub async fn claim(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<AssignmentId>,
) -> Result<web::Json<AssignmentResponse>, ApiError> {
    let me = shopper(&auth)?;
    step(
        &state,
        &auth,
        Asker::Shopper(me),
        id.into_inner(),
        Step::Claim,
    )
    .await
}
