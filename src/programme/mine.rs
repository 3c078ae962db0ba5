//! The shopper's own views of the programme: their assignments, the open ones they may
//! claim, and the locations the rules let them visit today.

use actix_web::{get, web};

use super::dto::{AssignmentResponse, EligibleLocation, EligibleLocationsQuery, MyAssignmentQuery};
use super::handlers::shopper;
use super::service;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::pagination::{Page, PageQuery, PageRequest, is_memory_key};
use crate::query::Region;
use crate::state::AppState;

/// Your assignments.
///
/// What is still to do first, earliest deadline first (`visit_to`), then the rest, latest
/// change first; in pages. Shoppers only.
#[utoipa::path(
    operation_id = "list_my_assignments",
    tag = "programme",
    security(("bearer" = [])),
    params(MyAssignmentQuery),
    responses(
        (status = 200, description = "Your assignments", body = Page<AssignmentResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a shopper", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/assignments")]
pub async fn my_assignments(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<MyAssignmentQuery>,
) -> Result<web::Json<Page<AssignmentResponse>>, ApiError> {
    let me = shopper(&auth)?;
    let query = query.into_inner();
    let page = PageRequest::parse_with(query.limit, query.cursor.as_deref(), is_memory_key)?;
    let now = state.db.now();
    let list = service::my_assignments(&state.db, auth.org_id, me, query.status, now).await?;
    Ok(web::Json(page.page_in_memory(
        list,
        |(a, _)| a.to_do_order(now),
        |(a, key)| AssignmentResponse::new(a, key, now),
    )))
}

/// Open assignments you may claim.
///
/// Open ones whose window has not ended and that pass your lockout rules, earliest deadline
/// first; in pages. Shoppers only.
#[utoipa::path(
    operation_id = "list_claimable_assignments",
    tag = "programme",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Claimable assignments", body = Page<AssignmentResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a shopper", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/claimable-assignments")]
pub async fn claimable(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<AssignmentResponse>>, ApiError> {
    let me = shopper(&auth)?;
    let page = PageRequest::parse_with(query.limit, query.cursor.as_deref(), is_memory_key)?;
    let now = state.db.now();
    let list = service::claimable(&state.db, auth.org_id, me, now, page.clone()).await?;
    Ok(web::Json(page.page(
        list,
        |(a, _)| a.deadline_order(),
        |(a, key)| AssignmentResponse::new(a, key, now),
    )))
}

/// Locations you may visit today.
///
/// The organization's active locations, by id, each with whether a visit today (the
/// location's own day) passes your rules: an exclusion (`shopper_excluded`), the lockout
/// (`lockout_period`) or the yearly limit (`yearly_visit_limit`), with the day it frees up.
/// Ask before setting out rather than learn it from a 409. Pages of up to 200; `region`
/// narrows. Shoppers only.
#[utoipa::path(
    operation_id = "list_eligible_locations",
    tag = "programme",
    security(("bearer" = [])),
    params(EligibleLocationsQuery),
    responses(
        (status = 200, description = "A page of locations, each eligible or not", body = Page<EligibleLocation>),
        (status = 400, description = "Invalid query (`invalid_query`, every problem listed)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a shopper", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/eligible-locations")]
pub async fn eligible_locations(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<EligibleLocationsQuery>,
) -> Result<web::Json<Page<EligibleLocation>>, ApiError> {
    let me = shopper(&auth)?;
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let region = Region::parse(q.region).map_err(|v| ApiError::invalid_query(vec![v]))?;
    let rows = service::eligible_locations(
        &state.db,
        auth.org_id,
        me,
        region.map(Region::into_string),
        page.after_id(),
        page.fetch(),
        state.db.now(),
    )
    .await?;
    Ok(web::Json(page.page(
        rows,
        |e| e.location.id.to_string(),
        eligible_location,
    )))
}

/// What a shopper's app is told of a location: where it is and whether the rules allow a
/// visit there today.
pub(super) fn eligible_location(e: service::Eligibility) -> EligibleLocation {
    EligibleLocation {
        location_id: e.location.id,
        code: e.location.fields.code,
        name: e.location.fields.name,
        region: e.location.fields.region,
        timezone: e.location.fields.timezone.name().to_string(),
        latitude: e.location.fields.latitude,
        longitude: e.location.fields.longitude,
        eligible: e.blocked.is_none(),
        blocked_by: e.blocked.map(|b| b.code().to_string()),
        frees_on: e.blocked.and_then(|b| b.frees_on()),
    }
}
