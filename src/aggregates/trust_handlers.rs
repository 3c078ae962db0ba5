//! `/api/v1/aggregates/shoppers` (whether a shopper rates harsher or more leniently than the
//! others at the same stores) and `/api/v1/locations/{id}/figure-changes` (what moved a
//! location's figures since an `as_of`).

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::as_of::{answer, dated};
use super::dto::RangeQuery;
use super::explain;
use super::handlers::{range, reader};
use super::raters;
use super::service::AggregateError;
use super::trust_dto::{FigureChange, FigureChangesQuery, FigureChangesResponse, ShoppersResponse};
use crate::auth::AuthUser;
use crate::auth::model::Role;
use crate::db::DbError;
use crate::error::{ApiError, Problem};
use crate::ids::LocationId;
use crate::state::AppState;

/// Rater effects of shoppers.
///
/// For each shopper with a released, scored visit in the range: the mean difference between
/// their scores and the other shoppers' scores at the same locations in the same calendar
/// quarter, its Student-t 95 % interval and the number of visits compared. `flag` is `harsh`
/// or `lenient` when the interval excludes 0 and the effect is at least 5 points over at
/// least 8 compared visits. Figures and verdicts are never adjusted by it: a flag says where
/// to send a second shopper. Admins and reviewers only.
#[utoipa::path(
    operation_id = "get_shopper_aggregates",
    tag = "aggregates",
    security(("bearer" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer: 304 while its figures still hold"), RangeQuery),
    responses(
        (status = 200, description = "One row per shopper", body = ShoppersResponse,
            headers(("ETag" = String, description = "a hash of the figures: send it as `If-None-Match`"), ("As-Of" = String, description = "the `as_of` cursor"))),
        (status = 304, description = "Not modified: nothing that enters the figures changed since the `If-None-Match` ETag", headers(("ETag" = String, description = "the figures' ETag"), ("As-Of" = String, description = "the cursor they are read at"))),
        (status = 400, description = "Invalid range or key (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or reviewer (managers, analysts, shoppers and clients never see it)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/aggregates/shoppers")]
pub async fn shopper_aggregates(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_role(&[Role::Admin, Role::Reviewer])?;
    reader(&auth, &state)?;
    let q = query.into_inner();
    let range = range(&state, q.from, q.to, q.questionnaire_key)?;
    let (org, key, from, to) = (
        auth.org_id,
        range.questionnaire_key.clone(),
        range.from,
        range.to,
    );
    let (visits, as_of) = dated(&state.db, org, async || {
        let key = key.clone();
        Ok(state
            .db
            .run(move |conn| {
                Ok::<_, DbError>(crate::db::aggregates::rated_visits(
                    conn,
                    org,
                    key.as_deref(),
                    from,
                    to,
                )?)
            })
            .await?)
    })
    .await?;
    let body = ShoppersResponse {
        range: range.into(),
        items: raters::effects(&visits)
            .into_iter()
            .map(Into::into)
            .collect(),
        min_visits: raters::MIN_VISITS,
        min_effect: raters::MIN_EFFECT,
        as_of: String::new(),
    };
    Ok(answer(&req, as_of, body))
}

/// What moved a location's figures.
///
/// Every aggregate answer carries `as_of`, the organization's event cursor when its figures
/// were read. Given an earlier answer's `as_of` (and its range), this lists what moved the
/// location's figures since: reports released (a first release or a revision approved),
/// reopened or rejected after release, or amended after an appeal, in the order they
/// happened, each with its effect on the visit count, the mean score and the mile mix; and
/// the figures then and now. The effects add up to now minus then. Kept `as_of` values can
/// be explained while the events behind them are kept (90 days by default); after that,
/// 410. Managers: their own locations only.
#[utoipa::path(
    operation_id = "list_figure_changes",
    tag = "aggregates",
    security(("bearer" = []), ("oauth2" = ["aggregates:read"])),
    params(("id" = String, Path, format = Uuid, description = "location id"), FigureChangesQuery),
    responses(
        (status = 200, description = "The figures then and now and what moved them", body = FigureChangesResponse),
        (status = 400, description = "A missing or malformed `since`, one after the latest event, too many changes, or an invalid range (`invalid_query`, every problem listed)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A shopper, or a client without `aggregates:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`events_pruned`: the events after `since` were deleted after the retention period", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The rollups are being rebuilt after an upgrade (`rollups_rebuilding`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/locations/{id}/figure-changes")]
pub async fn list_figure_changes(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<LocationId>,
    query: web::Query<FigureChangesQuery>,
) -> Result<web::Json<FigureChangesResponse>, ApiError> {
    let manager = reader(&auth, &state)?;
    let id = id.into_inner();
    // Another organization's location, or one the manager does not manage, is not found
    // whatever the query.
    let location = explain::location(&state.db, auth.org_id, manager, id).await?;
    let q = query.into_inner();
    let since = explain::parse_since(q.since.as_deref());
    let range = range(&state, q.from, q.to, q.questionnaire_key);
    let (since, range) = match (since, range) {
        (Ok(since), Ok(range)) => (since, range),
        (since, range) => {
            let mut violations: Vec<_> = since.err().into_iter().collect();
            match range {
                Err(AggregateError::Invalid(more)) => violations.extend(more),
                Err(other) => return Err(other.into()),
                Ok(_) => {}
            }
            return Err(ApiError::invalid_query(violations));
        }
    };
    let found = explain::figure_changes(&state.db, location, range, since).await?;
    Ok(web::Json(FigureChangesResponse {
        location: (&found.location).into(),
        range: found.range.into(),
        since: found.since.to_string(),
        as_of: found.as_of.to_string(),
        then: found.then.into(),
        now: found.now.into(),
        items: found
            .changes
            .into_iter()
            .map(|(seq, m, effect)| FigureChange {
                cursor: seq.to_string(),
                at: m.at,
                kind: m.kind,
                report_id: m.report_id,
                revision: m.revision,
                visit_date: m.visit_date,
                questionnaire_key: m.questionnaire_key,
                effect: effect.into(),
            })
            .collect(),
    }))
}
