//! Request and response bodies of the event feed and the webhooks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Event, EventType, Message};
use super::webhook::{Attempt, DeliveryView, Webhook};
use crate::ids::{AttemptId, DeliveryId, EventId, OrgId, WebhookId};
use crate::validation::Violation;

/// The name of an event type: one of a closed list (`ping` only reaches webhooks).
pub struct EventTypeName;

impl utoipa::PartialSchema for EventTypeName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(EventType::ALL.iter().map(|t| t.as_str())))
            .description(Some("An event type"))
            .into()
    }
}

impl ToSchema for EventTypeName {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// `next_cursor` of the previous answer (or an event's `cursor`); from the oldest event
    /// kept when absent.
    #[param(max_length = 20, pattern = "^[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// The earlier name of `cursor`, still read; give one of the two.
    #[param(max_length = 20, pattern = "^[0-9]{1,18}$")]
    #[deprecated = "read as `cursor`"]
    pub after: Option<String>,
    /// Comma-separated event types to return (all when absent), e.g.
    /// `report.approved,report.returned`.
    #[param(max_length = 2000)]
    pub types: Option<String>,
    /// Most events to return, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Seconds to wait for an event when there is none yet (long-poll), 0 to 30 (default
    /// 0). The answer comes as soon as one is committed.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u32>,
}

/// Most events in one answer of the feed.
const MAX_FEED_LIMIT: u32 = 500;
const DEFAULT_FEED_LIMIT: u32 = 100;
/// Longest long-poll, in seconds.
const MAX_WAIT_SECS: u32 = 30;

/// A read of the feed, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRequest {
    /// Events after this number (from the oldest kept when `None`).
    pub after: Option<i64>,
    /// Only these types (all when empty).
    pub types: Vec<EventType>,
    pub limit: u32,
    /// How long to wait for an event when there is none yet.
    pub wait: std::time::Duration,
}

impl TryFrom<FeedQuery> for FeedRequest {
    type Error = Vec<Violation>;

    /// Every problem is listed.
    #[allow(deprecated, reason = "the earlier name of `cursor` is still read")]
    fn try_from(q: FeedQuery) -> Result<Self, Vec<Violation>> {
        let mut errors = Vec::new();
        // Exactly the documented pattern: 1 to 18 digits.
        let (given, pointer) = match (q.cursor.as_deref(), q.after.as_deref()) {
            (Some(cursor), Some(after)) if cursor != after => {
                errors.push(Violation::new(
                    "/query/after",
                    "conflicting_parameters",
                    "`after` is the earlier name of `cursor`: give one of the two",
                ));
                (None, "/query/cursor")
            }
            (Some(cursor), _) => (Some(cursor), "/query/cursor"),
            (None, after) => (after, "/query/after"),
        };
        let after = match given {
            None => None,
            Some(raw)
                if (1..=18).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) =>
            {
                raw.parse::<i64>().ok()
            }
            Some(_) => {
                errors.push(Violation::new(
                    pointer,
                    "invalid_cursor",
                    "the cursor is not one this feed returned",
                ));
                None
            }
        };
        let mut types = Vec::new();
        let names = q.types.as_deref().unwrap_or("").split(',').map(str::trim);
        for name in names.filter(|n| !n.is_empty()) {
            match EventType::parse(name) {
                Some(t) if !types.contains(&t) => types.push(t),
                Some(_) => {}
                None => errors.push(Violation::new(
                    "/query/types",
                    "unknown_event_type",
                    format!(
                        "`{}` is not an event type",
                        name.chars().take(64).collect::<String>()
                    ),
                )),
            }
        }
        let limit = q.limit.unwrap_or(DEFAULT_FEED_LIMIT);
        if !(1..=MAX_FEED_LIMIT).contains(&limit) {
            errors.push(Violation::new(
                "/query/limit",
                "out_of_range",
                format!("limit is 1 to {MAX_FEED_LIMIT}"),
            ));
        }
        let wait = q.wait.unwrap_or(0);
        if wait > MAX_WAIT_SECS {
            errors.push(Violation::new(
                "/query/wait",
                "out_of_range",
                format!("wait is 0 to {MAX_WAIT_SECS} seconds"),
            ));
        }
        let wait = std::time::Duration::from_secs(u64::from(wait));
        match errors.is_empty() {
            true => Ok(FeedRequest {
                after,
                types,
                limit,
                wait,
            }),
            false => Err(errors),
        }
    }
}

/// What an event is about.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectResponse {
    /// `report`, `location`, `questionnaire`, `attachment`, `wave`, `assignment`,
    /// `action_plan`, `appeal` or `webhook`.
    #[serde(rename = "type")]
    pub type_: String,
    pub id: String,
}

/// One event, exactly as a webhook receives it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventResponse {
    /// UUIDv7; also the `webhook-id` header of its deliveries (deduplicate on it).
    pub id: EventId,
    /// The event type, e.g. `report.approved`.
    #[serde(rename = "type")]
    #[schema(value_type = EventTypeName)]
    pub type_: String,
    pub occurred_at: DateTime<Utc>,
    pub organization_id: OrgId,
    pub subject: SubjectResponse,
    /// Its place in the organization's commit order (opaque; pass as `cursor` to read on
    /// after it). `null` for a `ping`.
    pub cursor: Option<String>,
    /// Ids, statuses, dates and scores of the subject; never personal data.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<Message> for EventResponse {
    fn from(m: Message) -> Self {
        EventResponse {
            id: m.id,
            type_: m.event_type,
            occurred_at: m.occurred_at,
            organization_id: m.org_id,
            subject: SubjectResponse {
                type_: m.subject_type,
                id: m.subject_id,
            },
            cursor: m.seq.map(|s| s.to_string()),
            data: m.data,
        }
    }
}

impl From<Event> for EventResponse {
    fn from(e: Event) -> Self {
        EventResponse::from(e.message())
    }
}

/// The feed's items: the union of every event type (see `events::document`).
fn event_items() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::Array::new(utoipa::openapi::Ref::from_schema_name(
        crate::events::document::EVENT_SCHEMA,
    ))
}

/// A page of the feed: the envelope of every list, except that a feed never ends, so
/// `next_cursor` is never `null`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedResponse {
    /// Oldest first; each of the event types of `Event`.
    #[schema(schema_with = event_items)]
    pub items: Vec<EventResponse>,
    /// Pass as `cursor` next time (also when `items` is empty): where to read on.
    pub next_cursor: String,
    /// More events are already waiting: ask again at once (otherwise, wait or long-poll).
    pub has_more: bool,
}

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "url": "https://crm.example.com/hooks/secondmile",
    "event_types": ["report.approved", "report.returned", "location.verdict_changed"],
    "description": "CRM: follow-ups on released visits"
}))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// Where deliveries are posted: `https://` (plain `http://` only when the server allows
    /// it), not a loopback, private or link-local address.
    #[schema(
        max_length = 2048,
        example = "https://crm.example.com/hooks/secondmile"
    )]
    pub url: String,
    /// Event types to deliver; all (but `ping`) when absent or empty.
    #[serde(default)]
    #[schema(value_type = Option<Vec<EventTypeName>>, max_items = 25)]
    pub event_types: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Deliver from now on (default true).
    pub active: Option<bool>,
}

/// Changes to a webhook: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"event_types": [], "active": true}))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookBody {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// Event types to deliver; `[]` for all.
    #[schema(value_type = Option<Vec<EventTypeName>>, max_items = 25)]
    pub event_types: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `false` disables it (pending deliveries are marked failed); `true` enables a
    /// disabled one again.
    pub active: Option<bool>,
}

/// A secret rotation.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"overlap_seconds": 86400}))]
#[serde(deny_unknown_fields)]
pub struct RotateSecretBody {
    /// How long the old secret keeps signing beside the new one, in seconds (0 to 604800,
    /// default 86400): receivers switch to the new secret within it.
    #[schema(minimum = 0, maximum = 604800)]
    pub overlap_seconds: Option<u64>,
}

/// A webhook subscription (without its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookResponse {
    pub id: WebhookId,
    pub url: String,
    pub description: String,
    /// Types delivered; empty: every type.
    #[schema(value_type = Vec<EventTypeName>)]
    pub event_types: Vec<String>,
    /// Whether events are delivered.
    pub active: bool,
    /// Why it was disabled (by an admin, a 410 answer, or failing for days).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Since when every attempt failed; `null` after a success.
    pub failing_since: Option<DateTime<Utc>>,
    /// During a rotation: until when the previous secret signs too.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookResponse {
    /// The subscription as shown at `now` (a previous secret that expired is not shown).
    pub fn new(w: Webhook, now: DateTime<Utc>) -> Self {
        WebhookResponse {
            id: w.id,
            url: w.url,
            description: w.description,
            event_types: w.event_types.iter().map(|t| t.as_str().into()).collect(),
            active: w.active,
            disabled_reason: w.disabled_reason,
            disabled_at: w.disabled_at,
            failing_since: w.failing_since,
            previous_secret_expires_at: w.previous_secret_expires_at.filter(|t| *t > now),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A webhook with its signing secret, answered once (at creation and rotation).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSecretResponse {
    pub webhook: WebhookResponse,
    /// `whsec_` and base64 of 32 random bytes: verify `webhook-signature` with it (any
    /// Standard Webhooks library does). Not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListQuery {
    /// Only deliveries in this state: `pending`, `succeeded` or `failed`.
    #[param(max_length = 20)]
    pub status: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 2000)]
    pub cursor: Option<String>,
}

/// One try at a delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptResponse {
    pub id: AttemptId,
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status code; `null` when it could not be reached.
    pub response_status: Option<u16>,
    /// From sending to the end of the answer (at most 64 KiB of it is read).
    pub latency_ms: u64,
    /// Why it failed: the status and the start of the answer, or the transport error.
    pub error: Option<String>,
    pub succeeded: bool,
}

impl From<Attempt> for AttemptResponse {
    fn from(a: Attempt) -> Self {
        AttemptResponse {
            id: a.id,
            attempted_at: a.attempted_at,
            response_status: a.response_status,
            latency_ms: a.latency_ms,
            error: a.error,
            succeeded: a.succeeded,
        }
    }
}

/// One event for one webhook, with every attempt so far.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryResponse {
    pub id: DeliveryId,
    /// The event's id: the `webhook-id` header.
    pub event_id: EventId,
    #[schema(value_type = EventTypeName)]
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    #[schema(example = "pending")]
    pub status: String,
    /// While pending: when the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// While pending: after this it is marked failed (set at the first attempt).
    pub give_up_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub attempts: Vec<AttemptResponse>,
}

impl From<DeliveryView> for DeliveryResponse {
    fn from(v: DeliveryView) -> Self {
        let d = v.delivery;
        let pending = d.status == super::webhook::DeliveryStatus::Pending;
        DeliveryResponse {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().into(),
            next_attempt_at: pending.then_some(d.next_attempt_at),
            give_up_at: d.give_up_at.filter(|_| pending),
            delivered_at: d.delivered_at,
            last_error: d.last_error,
            created_at: d.created_at,
            attempts: v.attempts.into_iter().map(Into::into).collect(),
        }
    }
}
