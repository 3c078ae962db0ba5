//! Endpoints of the event feed and the webhooks.

use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, delete, get, patch, post, web};

use super::dto::*;
use super::service::{self, EventsError, WebhookFields};
use super::webhook::DeliveryStatus;
use crate::auth::AuthUser;
use crate::auth::model::{Role, Scope};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::ids::{DeliveryId, WebhookId};
use crate::pagination::{Page, PageQuery, PageRequest, is_memory_key};
use crate::state::AppState;
use crate::validation::Violation;

impl From<EventsError> for ApiError {
    fn from(e: EventsError) -> Self {
        let detail = e.to_string();
        match e {
            EventsError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
            }
            EventsError::Invalid(errors) => ApiError::validation(errors),
            EventsError::CursorAhead => {
                ApiError::bad_request(ErrorCode::InvalidQuery, detail.clone()).with_violations(
                    vec![Violation::new("/query/after", "invalid_cursor", detail)],
                )
            }
            EventsError::Pruned(_) => {
                ApiError::new(StatusCode::GONE, ErrorCode::EventsPruned, detail)
            }
            EventsError::TooMany => ApiError::conflict(ErrorCode::TooManyWebhooks, detail),
            EventsError::TooManyWaiters(_) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                detail,
            )
            .with_header(header::RETRY_AFTER, "5"),
            EventsError::Disabled => ApiError::conflict(ErrorCode::WebhookDisabled, detail),
            EventsError::Random(_) => ApiError::internal(anyhow::anyhow!(detail)),
            EventsError::Db(e) => e.into(),
        }
    }
}

/// Admins and clients with `events:read` read; only admins change.
fn reader(auth: &AuthUser) -> Result<(), ApiError> {
    auth.require_role_or_scope(&[Role::Admin], Scope::EventsRead)
}

fn admin(auth: &AuthUser) -> Result<(), ApiError> {
    auth.require_role(&[Role::Admin])
}

/// Read the event feed.
///
/// The organization's events in commit order: every state change (reports submitted,
/// revised and decided; questionnaires published; locations created, changed, deactivated
/// and their 90-day verdict changing; attachments uploaded; waves and assignments) is written
/// in the same transaction as the change, so the feed holds nothing that did not happen and
/// misses nothing that did. Keep `next_cursor` and pass it as `cursor` (`after`, its earlier
/// name, is still read); `has_more` says to ask again at once. With `wait`, an empty answer is held until an event arrives (at most
/// `wait` seconds, and never past the server's request timeout). The same cursor always gives
/// the same events. Events are kept for the retention period (`SECONDMILE_EVENT_RETENTION_DAYS`,
/// 90 days by default): without `after` the feed starts at the oldest event kept, and a cursor
/// older than that answers 410 `events_pruned` naming where to read on. Admins and clients
/// with `events:read`.
#[utoipa::path(
    operation_id = "list_events",
    tag = "events",
    security(("bearer" = []), ("oauth2" = ["events:read"])),
    params(FeedQuery),
    responses(
        (status = 200, description = "Events after the cursor, oldest first", body = FeedResponse),
        (status = 400, description = "Invalid query (every problem listed; `cursor` and `after` that differ are `conflicting_parameters`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a client without `events:read`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`events_pruned`: events after the cursor were deleted after the retention period", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: with `wait`, when the organization already has `SECONDMILE_LONG_POLLS_PER_ORG` long-polls waiting; `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[get("/events")]
pub async fn feed(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<FeedQuery>,
) -> Result<web::Json<FeedResponse>, ApiError> {
    reader(&auth)?;
    let FeedRequest {
        after,
        types,
        limit,
        wait,
    } = FeedRequest::try_from(query.into_inner()).map_err(|violations| {
        ApiError::bad_request(ErrorCode::InvalidQuery, "invalid query parameters")
            .with_violations(violations)
    })?;
    // Answer (empty) a second before the request timeout would.
    let wait = wait.min(state.request_timeout.saturating_sub(Duration::from_secs(1)));
    let cap = state.webhooks.long_polls_per_org;
    let page = service::feed(&state.db, auth.org_id, after, types, limit, wait, cap).await?;
    Ok(web::Json(FeedResponse {
        items: page.events.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor.to_string(),
        has_more: page.has_more,
    }))
}

/// Create a webhook.
///
/// Events of the chosen types are posted to `url` as JSON, signed after the Standard
/// Webhooks specification: headers `webhook-id` (the event id: deduplicate on it),
/// `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` and the base64
/// HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the secret's base64-decoded
/// bytes after `whsec_`). A 2xx answer within the timeout is a success; anything else is
/// retried with growing, jittered pauses for 24 hours, then the delivery is marked failed;
/// a webhook whose every attempt failed for 3 days, or that answered 410, is disabled.
/// Delivery is at least once, in no guaranteed order. The secret is in this answer only.
/// At most 20 webhooks per organization. Admins only.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    request_body = CreateWebhookBody,
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = WebhookSecretResponse,
            headers(("Location" = String, description = "The webhook's URL"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organization has 20 webhooks (`too_many_webhooks`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid URL (not https, a private address), unknown event types, too long (all listed)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    auth: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<CreateWebhookBody>,
) -> Result<HttpResponse, ApiError> {
    admin(&auth)?;
    let b = body.into_inner();
    let hook = service::create(
        &state.db,
        auth.org_id,
        auth.actor(),
        state.webhooks.urls,
        WebhookFields {
            url: Some(b.url),
            event_types: b.event_types,
            description: b.description,
            active: b.active,
        },
    )
    .await?;
    let secret = hook.secret.clone();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", hook.id)))
        .json(WebhookSecretResponse {
            webhook: WebhookResponse::new(hook, state.db.now()),
            secret,
        }))
}

/// List the webhooks.
///
/// Oldest first, in pages. Admins and clients with `events:read` (secrets are never shown).
#[utoipa::path(
    tag = "events",
    security(("bearer" = []), ("oauth2" = ["events:read"])),
    params(PageQuery),
    responses(
        (status = 200, description = "The organization's webhooks, oldest first", body = Page<WebhookResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a client without `events:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    auth: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<WebhookResponse>>, ApiError> {
    reader(&auth)?;
    let page = PageRequest::parse_with(query.limit, query.cursor.as_deref(), is_memory_key)?;
    let list = service::list(&state.db, auth.org_id).await?;
    let now = state.db.now();
    Ok(web::Json(page.page_in_memory(
        list,
        |w| format!("{:019}|{}", w.created_at.timestamp_micros().max(0), w.id),
        |w| WebhookResponse::new(w, now),
    )))
}

/// Get one webhook: whether it is active, and why not.
///
/// Admins and clients with `events:read`.
#[utoipa::path(
    tag = "events",
    security(("bearer" = []), ("oauth2" = ["events:read"])),
    params(("id" = WebhookId, Path, description = "webhook id")),
    responses(
        (status = 200, description = "The webhook", body = WebhookResponse),
        (status = 403, description = "Not an admin, or a client without `events:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WebhookId>,
) -> Result<web::Json<WebhookResponse>, ApiError> {
    reader(&auth)?;
    let hook = service::find(&state.db, auth.org_id, id.into_inner()).await?;
    Ok(web::Json(WebhookResponse::new(hook, state.db.now())))
}

/// Change a webhook: its URL, event types, description, or whether it is active.
///
/// Enabling a disabled webhook clears why it was disabled; disabling one marks its pending
/// deliveries failed. Admins only.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "webhook id")),
    request_body = UpdateWebhookBody,
    responses(
        (status = 200, description = "The changed webhook", body = WebhookResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values (all listed)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WebhookId>,
    body: ApiJson<UpdateWebhookBody>,
) -> Result<web::Json<WebhookResponse>, ApiError> {
    admin(&auth)?;
    let b = body.into_inner();
    let hook = service::update(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        state.webhooks.urls,
        WebhookFields {
            url: b.url,
            event_types: b.event_types,
            description: b.description,
            active: b.active,
        },
    )
    .await?;
    Ok(web::Json(WebhookResponse::new(hook, state.db.now())))
}

/// Delete a webhook with its deliveries.
///
/// Admins only.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    admin(&auth)?;
    service::delete(&state.db, auth.org_id, auth.actor(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook's signing secret.
///
/// The new secret is in this answer only. For `overlap_seconds` (default one day) the old
/// secret signs too: `webhook-signature` carries both signatures, so receivers can switch
/// when they are ready. Admins only.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "webhook id")),
    request_body = RotateSecretBody,
    responses(
        (status = 200, description = "The new secret, shown this once", body = WebhookSecretResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Overlap out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WebhookId>,
    body: ApiJson<RotateSecretBody>,
) -> Result<web::Json<WebhookSecretResponse>, ApiError> {
    admin(&auth)?;
    let overlap = Duration::from_secs(body.into_inner().overlap_seconds.unwrap_or(86_400));
    let hook = service::rotate_secret(
        &state.db,
        auth.org_id,
        auth.actor(),
        id.into_inner(),
        overlap,
    )
    .await?;
    let secret = hook.secret.clone();
    Ok(web::Json(WebhookSecretResponse {
        webhook: WebhookResponse::new(hook, state.db.now()),
        secret,
    }))
}

/// Send a `ping` to a webhook.
///
/// A `ping` message goes through the same queue, signature and retries as events (it is
/// not in the feed); follow it in the deliveries. Admins only; three at once, then one
/// every ten seconds per webhook.
#[utoipa::path(
    operation_id = "ping_webhook",
    tag = "events",
    security(("bearer" = [])),
    params(("id" = WebhookId, Path, description = "webhook id")),
    responses(
        (status = 202, description = "Queued", body = DeliveryResponse,
            headers(
                ("RateLimit-Policy" = String, description = "`\"webhook-ping\";q=3;w=30` (IETF httpapi draft)"),
                ("RateLimit" = String, description = "`\"webhook-ping\";r=LEFT;t=SECONDS`"),
            )),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The webhook is disabled (`webhook_disabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Pinged too often: three at once, then one every ten seconds per webhook (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(
                ("Retry-After" = u64, description = "seconds to wait"),
                ("RateLimit-Policy" = String, description = "`\"webhook-ping\";q=3;w=30`"),
                ("RateLimit" = String, description = "`\"webhook-ping\";r=0;t=SECONDS`"),
            )),
    )
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    admin(&auth)?;
    let id = id.into_inner();
    let limit =
        state
            .pings
            .check(auth.org_id.0, id.0)
            .map_err(|(wait, limit)| {
                limit.add_to_problem(ApiError::too_many_requests(wait).with_detail(
                    "this webhook was pinged too often; retry after Retry-After seconds",
                ))
            })?;
    let view = service::ping(&state.db, auth.org_id, id).await?;
    let mut answer = HttpResponse::Accepted();
    limit.add_to(&mut answer);
    Ok(answer.json(DeliveryResponse::from(view)))
}

/// List a webhook's deliveries, newest first, each with its attempts.
///
/// Admins and clients with `events:read`.
#[utoipa::path(
    tag = "events",
    security(("bearer" = []), ("oauth2" = ["events:read"])),
    params(("id" = WebhookId, Path, description = "webhook id"), DeliveryListQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<DeliveryResponse>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or a client without `events:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<WebhookId>,
    query: web::Query<DeliveryListQuery>,
) -> Result<web::Json<Page<DeliveryResponse>>, ApiError> {
    reader(&auth)?;
    let query = query.into_inner();
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(ErrorCode::InvalidQuery, "invalid query parameters")
                .with_violations(vec![Violation::new(
                    "/query/status",
                    "invalid_value",
                    "status is pending, succeeded or failed",
                )])
        })?),
    };
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let before = page
        .after
        .as_deref()
        .and_then(|k| k.parse::<DeliveryId>().ok());
    let rows = service::deliveries(
        &state.db,
        auth.org_id,
        id.into_inner(),
        status,
        before,
        page.fetch(),
    )
    .await?;
    Ok(web::Json(page.page(
        rows,
        |v| v.delivery.id.to_string(),
        DeliveryResponse::from,
    )))
}

/// Get one delivery with its attempts.
///
/// Admins and clients with `events:read`.
#[utoipa::path(
    tag = "events",
    security(("bearer" = []), ("oauth2" = ["events:read"])),
    params(
        ("id" = WebhookId, Path, description = "webhook id"),
        ("delivery_id" = DeliveryId, Path, description = "delivery id"),
    ),
    responses(
        (status = 200, description = "The delivery", body = DeliveryResponse),
        (status = 403, description = "Not an admin, or a client without `events:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook or delivery in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries/{delivery_id}")]
pub async fn get_delivery(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(WebhookId, DeliveryId)>,
) -> Result<web::Json<DeliveryResponse>, ApiError> {
    reader(&auth)?;
    let (id, delivery) = path.into_inner();
    Ok(web::Json(
        service::delivery(&state.db, auth.org_id, id, delivery)
            .await?
            .into(),
    ))
}

/// Send a delivery again.
///
/// It becomes due now with a fresh 24-hour retry window, whatever its state (e.g. failed
/// while the receiver was down). The receiver gets the same `webhook-id` and body. Admins
/// only.
#[utoipa::path(
    operation_id = "redeliver_delivery",
    tag = "events",
    security(("bearer" = [])),
    params(
        ("id" = WebhookId, Path, description = "webhook id"),
        ("delivery_id" = DeliveryId, Path, description = "delivery id"),
    ),
    responses(
        (status = 202, description = "Queued again", body = DeliveryResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook or delivery in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The webhook is disabled (`webhook_disabled`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    auth: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(WebhookId, DeliveryId)>,
) -> Result<HttpResponse, ApiError> {
    admin(&auth)?;
    let (id, delivery) = path.into_inner();
    let view = service::redeliver(&state.db, auth.org_id, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(DeliveryResponse::from(view)))
}
