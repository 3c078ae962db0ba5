//! Endpoints of action plans.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, put, web};

use super::dto::{
    ActionDoneRequest, ActionPlanDetail, ActionPlanResponse, LocationPlansQuery, OpenPlanRequest,
    PlanRequest, PlanReviewRequest, PlansQuery,
};
use super::service::{self, Editor, ListFilter, NewAction, PlanError, Viewer};
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::ids::{ActionPlanId, LocationId};
use crate::pagination::{Page, PageRequest};
use crate::query::Region;
use crate::state::AppState;

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        let detail = e.to_string();
        match e {
            PlanError::NotFound | PlanError::NoLocation | PlanError::NoAction => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
            }
            PlanError::Invalid(found) => ApiError::validation(found),
            PlanError::Exists(_) => ApiError::conflict(ErrorCode::PlanExists, detail),
            PlanError::Transition { current } => {
                ApiError::conflict(ErrorCode::InvalidTransition, detail)
                    .with_current_status(current.as_str())
            }
            PlanError::ActionDone => ApiError::conflict(ErrorCode::ActionDone, detail),
            PlanError::Db(e) => e.into(),
        }
    }
}

/// HQ (all plans), managers (their locations' plans) and clients with `actions:read`.
fn viewer(auth: &AuthUser) -> Result<Viewer, ApiError> {
    auth.require_role_or_scope(
        &[Role::Admin, Role::Reviewer, Role::Analyst, Role::Manager],
        Scope::ActionsRead,
    )?;
    Ok(match (auth.role(), auth.user_id()) {
        (Some(Role::Manager), Some(me)) => Viewer::Managed(me),
        _ => Viewer::All,
    })
}

/// Admins, and managers of the plan's location.
fn editor(auth: &AuthUser) -> Result<Editor, ApiError> {
    auth.require_role(&[Role::Admin, Role::Manager])?;
    Ok(match (auth.role(), auth.user_id()) {
        (Some(Role::Manager), Some(me)) => Editor::Manager(me),
        _ => Editor::Admin,
    })
}

/// HQ: admins, reviewers and analysts.
fn hq(auth: &AuthUser) -> Result<(), ApiError> {
    auth.require_role(&[Role::Admin, Role::Reviewer, Role::Analyst])
}

async fn page_of(
    state: &AppState,
    auth: &AuthUser,
    filter: ListFilter,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<ActionPlanResponse>, ApiError> {
    let viewer = viewer(auth)?;
    let page = PageRequest::parse(limit, cursor)?;
    let plans = service::list(
        &state.db,
        auth.org_id,
        viewer,
        filter,
        page.after_id(),
        page.fetch(),
    )
    .await?;
    Ok(page.page(plans, |v| v.plan.id.to_string(), Into::into))
}

/// Action plans.
///
/// The organization's plans, oldest first: filters `status`, `cause`, `location_id`,
/// `region` and `overdue` (an action not done whose due date has passed at the location).
/// Managers see their locations' plans; clients need `actions:read`. The list carries no
/// figures: a plan's baseline and follow-up are in `GET /action-plans/{id}`.
#[utoipa::path(
    operation_id = "list_action_plans",
    tag = "action-plans",
    security(("bearer" = []), ("oauth2" = ["actions:read"])),
    params(PlansQuery),
    responses(
        (status = 200, description = "A page of plans", body = Page<ActionPlanResponse>),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `actions:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`location_id` names no location visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/action-plans")]
pub async fn list_action_plans(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PlansQuery>,
) -> Result<web::Json<Page<ActionPlanResponse>>, ApiError> {
    let q = query.into_inner();
    let region = Region::parse(q.region)
        .map_err(|v| ApiError::invalid_query(vec![v]))?
        .map(Region::into_string);
    let filter = ListFilter {
        status: q.status,
        cause: q.cause,
        location: q.location_id,
        region,
        overdue: q.overdue,
    };
    Ok(web::Json(
        page_of(&state, &auth, filter, q.limit, q.cursor.as_deref()).await?,
    ))
}

/// A location's action plans.
///
/// Oldest first, filter `status`. Same readers as `GET /action-plans`.
#[utoipa::path(
    operation_id = "list_location_action_plans",
    tag = "action-plans",
    security(("bearer" = []), ("oauth2" = ["actions:read"])),
    params(("id" = String, Path, format = Uuid, description = "location id"), LocationPlansQuery),
    responses(
        (status = 200, description = "A page of the location's plans", body = Page<ActionPlanResponse>),
        (status = 400, description = "Invalid query (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `actions:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/locations/{id}/action-plans")]
pub async fn list_location_action_plans(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
    query: web::Query<LocationPlansQuery>,
) -> Result<web::Json<Page<ActionPlanResponse>>, ApiError> {
    let q = query.into_inner();
    let filter = ListFilter {
        status: q.status,
        location: Some(id.into_inner()),
        ..ListFilter::default()
    };
    Ok(web::Json(
        page_of(&state, &auth, filter, q.limit, q.cursor.as_deref()).await?,
    ))
}

/// Open an action plan by hand.
///
/// On any location of the organization, with a summary of why. One plan per location and
/// cause is open (not verified) at a time: a second is 409 `plan_exists`. Plans also open by
/// themselves when the organization's `action_plans` setting is on (a verdict that becomes
/// zero mile, a released visit with a critical failure). Admins, reviewers and analysts.
#[utoipa::path(
    operation_id = "open_action_plan",
    tag = "action-plans",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "location id")),
    request_body = OpenPlanRequest,
    responses(
        (status = 201, description = "The plan, open", body = ActionPlanResponse,
            headers(("Location" = String, description = "The plan's URL"))),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, reviewer or analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The location has an open plan opened by hand (`plan_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A blank or too long summary", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/locations/{id}/action-plans")]
pub async fn open_action_plan(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
    body: ApiJson<OpenPlanRequest>,
) -> Result<HttpResponse, ApiError> {
    hq(&auth)?;
    let by = auth
        .user_id()
        .ok_or_else(|| ApiError::forbidden("this needs a user"))?;
    let view = service::open_by_hand(
        &state.db,
        auth.org_id,
        by,
        id.into_inner(),
        body.into_inner().summary,
    )
    .await?;
    let location = format!("/api/v1/action-plans/{}", view.plan.id);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(ActionPlanResponse::from(view)))
}

/// One action plan and whether it worked.
///
/// The plan with the location's figures over the 90 days before it opened (its baseline)
/// and, once done, from the day it was done (its follow-up), with the change of each measure
/// and its significance. Same readers as `GET /action-plans`.
#[utoipa::path(
    operation_id = "get_action_plan",
    tag = "action-plans",
    security(("bearer" = []), ("oauth2" = ["actions:read"])),
    params(("id" = String, Path, format = Uuid, description = "plan id")),
    responses(
        (status = 200, description = "The plan", body = ActionPlanDetail),
        (status = 403, description = "A shopper, or a client without `actions:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/action-plans/{id}")]
pub async fn get_action_plan(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ActionPlanId>,
) -> Result<web::Json<ActionPlanDetail>, ApiError> {
    let viewer = viewer(&auth)?;
    let detail = service::get(
        &state.db,
        auth.org_id,
        viewer,
        id.into_inner(),
        state.reports.verdict,
    )
    .await?;
    Ok(web::Json(detail.into()))
}

/// Write a plan's causes and actions.
///
/// The causes and 1 to 20 actions, each with its owner's name and a due date (from today at
/// the location to a year ahead), replacing any written before; the plan becomes `planned`.
/// While it is `open`, `planned` or `reopened`. A manager of the location, or an admin.
#[utoipa::path(
    operation_id = "set_action_plan_actions",
    tag = "action-plans",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "plan id")),
    request_body = PlanRequest,
    responses(
        (status = 200, description = "The plan, planned", body = ActionPlanResponse),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (at a location the manager manages)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is done or verified (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every invalid field listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/action-plans/{id}/plan")]
pub async fn plan_action_plan(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ActionPlanId>,
    body: ApiJson<PlanRequest>,
) -> Result<web::Json<ActionPlanResponse>, ApiError> {
    let editor = editor(&auth)?;
    let body = body.into_inner();
    let actions = body
        .actions
        .into_iter()
        .map(|a| NewAction {
            description: a.description,
            owner: a.owner,
            due_on: a.due_on,
        })
        .collect();
    let view = service::plan(
        &state.db,
        auth.org_id,
        editor,
        id.into_inner(),
        body.causes,
        actions,
    )
    .await?;
    Ok(web::Json(view.into()))
}

/// Mark an action done.
///
/// With an optional note; when every action is done the plan becomes `done` and waits for
/// HQ. While the plan is `planned`. A manager of the location, or an admin.
#[utoipa::path(
    operation_id = "complete_plan_action",
    tag = "action-plans",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "plan id"),
        ("number" = u32, Path, minimum = 1, maximum = 20, description = "the action's number"),
    ),
    request_body = ActionDoneRequest,
    responses(
        (status = 200, description = "The plan", body = ActionPlanResponse),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan or action (at a location the manager manages)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not `planned` (`invalid_transition`), or the action is done already (`action_done`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A too long note", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/action-plans/{id}/actions/{number}/done")]
pub async fn complete_plan_action(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(ActionPlanId, u32)>,
    body: ApiJson<ActionDoneRequest>,
) -> Result<web::Json<ActionPlanResponse>, ApiError> {
    let editor = editor(&auth)?;
    let (id, number) = path.into_inner();
    let view = service::finish_action(
        &state.db,
        auth.org_id,
        editor,
        id,
        number,
        body.into_inner().note,
    )
    .await?;
    Ok(web::Json(view.into()))
}

/// Verify or reopen a done plan.
///
/// `verify` closes it (it worked); `reopen` sends it back to the manager to plan again.
/// Admins, reviewers and analysts.
#[utoipa::path(
    operation_id = "review_action_plan",
    tag = "action-plans",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "plan id")),
    request_body = PlanReviewRequest,
    responses(
        (status = 200, description = "The plan", body = ActionPlanResponse),
        (status = 400, description = "Malformed JSON or an unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, reviewer or analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not done (`invalid_transition`, with `current_status`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown decision or a too long note", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/action-plans/{id}/review")]
pub async fn review_action_plan(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ActionPlanId>,
    body: ApiJson<PlanReviewRequest>,
) -> Result<web::Json<ActionPlanResponse>, ApiError> {
    hq(&auth)?;
    let body = body.into_inner();
    let view = service::decide(
        &state.db,
        auth.org_id,
        id.into_inner(),
        body.decision,
        body.note,
    )
    .await?;
    Ok(web::Json(view.into()))
}
