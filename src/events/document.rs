//! How events appear in the OpenAPI document: one schema per event type (its `type` a single
//! value, its `data` the payload type of its subject), `Event` as their union discriminated
//! by `type` (the items of the feed), and every type under the document's `webhooks`, with
//! the headers of the Standard Webhooks signature scheme.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::model::EventType;

/// The name of the union of every event type.
pub const EVENT_SCHEMA: &str = "Event";

/// `report.approved` → `ReportApprovedEvent`.
pub fn schema_name(event_type: EventType) -> String {
    let mut name = String::new();
    for word in event_type.as_str().split(['.', '_']) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name.push_str("Event");
    name
}

fn description(event_type: EventType) -> String {
    match event_type {
        EventType::Ping => {
            "A test delivery, sent to one webhook when asked (`POST /webhooks/{id}/ping`); never in the feed."
                .to_string()
        }
        t => format!(
            "`{}`: the {} it names changed; `data` holds its ids, statuses, dates and scores.",
            t.as_str(),
            t.subject_type()
        ),
    }
}

/// The schema of one event type, as a JSON Schema object.
fn event_schema(event_type: EventType, data_example: Value) -> Value {
    let data = data_schema(event_type);
    let cursor = if event_type == EventType::Ping {
        json!({"type": "null", "description": "A ping has no place in the feed."})
    } else {
        json!({"type": "string", "description": "Its place in the organization's commit order (opaque): pass as `cursor` to read the feed on after it.", "examples": ["412"]})
    };
    json!({
        "type": "object",
        "description": description(event_type),
        "required": ["id", "type", "occurred_at", "organization_id", "subject", "cursor", "data"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "UUIDv7; also the `webhook-id` header of its deliveries (deduplicate on it)."},
            "type": {"type": "string", "enum": [event_type.as_str()]},
            "occurred_at": {"type": "string", "format": "date-time"},
            "organization_id": {"type": "string", "format": "uuid"},
            "subject": {"$ref": "#/components/schemas/SubjectResponse"},
            "cursor": cursor,
            "data": {"$ref": format!("#/components/schemas/{data}")}
        },
        "additionalProperties": false,
        "example": example(event_type, data_example),
    })
}

/// An example of one event type around the example of its `data` (the payload type's own).
fn example(event_type: EventType, data: Value) -> Value {
    let subject = data
        .get(format!("{}_id", event_type.subject_type()))
        .cloned()
        .unwrap_or_default();
    let cursor = match event_type {
        EventType::Ping => Value::Null,
        _ => json!("412"),
    };
    json!({
        "id": "0193a1b3-0a1b-7c2d-8e3f-4a5b6c7d8e9f",
        "type": event_type.as_str(),
        "occurred_at": "2026-12-01T09:30:00.000000Z",
        "organization_id": "0190a0b1-c2d3-7e4f-8a9b-0c1d2e3f4a5b",
        "subject": {"type": event_type.subject_type(), "id": subject},
        "cursor": cursor,
        "data": data,
    })
}

/// Adds each event type's schema and their union to the document's components.
pub fn describe(doc: &mut OpenApiDoc) {
    let components = doc.components.get_or_insert_with(Default::default);
    let mut one_of = Vec::new();
    let mut mapping = serde_json::Map::new();
    for event_type in EventType::ALL.iter().copied() {
        let name = schema_name(event_type);
        let reference = format!("#/components/schemas/{name}");
        let data_example = match components.schemas.get(data_schema(event_type)) {
            Some(RefOr::T(Schema::Object(data))) => data.example.clone().unwrap_or_default(),
            _ => Value::Null,
        };
        let schema = event_schema(event_type, data_example);
        if let Ok(schema) = serde_json::from_value::<RefOr<Schema>>(schema) {
            components.schemas.insert(name.clone(), schema);
        }
        one_of.push(json!({"$ref": reference}));
        mapping.insert(event_type.as_str().to_string(), json!(reference));
    }
    let union = json!({
        "oneOf": one_of,
        "discriminator": {"propertyName": "type", "mapping": mapping},
        "description": "One event, exactly as a webhook receives it: its `type` says which, and `data` is that type's payload (ids, statuses, dates and scores; never personal data)."
    });
    if let Ok(schema) = serde_json::from_value::<RefOr<Schema>>(union) {
        components.schemas.insert(EVENT_SCHEMA.to_string(), schema);
    }
}

/// The document's `webhooks`: what a subscription receives, one entry per event type, with
/// the signature headers. (utoipa's document has no `webhooks` field: it is added to the
/// JSON.)
pub fn webhooks() -> Value {
    let header = |name: &str, description: &str, example: &str| json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}, "example": example});
    let parameters = json!([
        header(
            "webhook-id",
            "The event's id: the same on every retry of this event to this webhook; deduplicate on it.",
            "0193a1b3-0a1b-7c2d-8e3f-4a5b6c7d8e9f"
        ),
        header(
            "webhook-timestamp",
            "Seconds since the Unix epoch when this try was signed; refuse one more than five minutes from your clock.",
            "1764581400"
        ),
        header(
            "webhook-signature",
            "`v1,` and the base64 HMAC-SHA256, under the secret's bytes (base64 after `whsec_`), of `{webhook-id}.{webhook-timestamp}.{body}`; during a rotation's overlap two, space-separated. Any Standard Webhooks library verifies it.",
            "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
        ),
    ]);
    let mut hooks = serde_json::Map::new();
    for event_type in EventType::ALL.iter().copied() {
        let name = schema_name(event_type);
        let operation_id = format!("receive_{}", event_type.as_str().replace('.', "_"));
        hooks.insert(
            event_type.as_str().to_string(),
            json!({"post": {
                "tags": ["webhooks"],
                "summary": format!("Receive `{}`", event_type.as_str()),
                "description": format!("{} Posted to every active webhook subscribed to this type (or to every type), signed after the Standard Webhooks specification; retried with backoff until a 2xx answer or the retry period ends. A 410 Gone answer disables the webhook.", description(event_type)),
                "operationId": operation_id,
                "security": [],
                "parameters": parameters,
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}
                },
                "responses": {
                    "200": {"description": "Received (any 2xx acknowledges the delivery; other answers and timeouts are retried)"}
                }
            }}),
        );
    }
    Value::Object(hooks)
}

/// The schema name of each event type's `data`.
pub fn data_schema(event_type: EventType) -> &'static str {
    if event_type == EventType::QuestionnaireTranslationChanged {
        return "TranslationEventData";
    }
    match event_type.subject_type() {
        "report" => "ReportEventData",
        "attachment" => "AttachmentEventData",
        "questionnaire" => "QuestionnaireEventData",
        "wave" => "WaveEventData",
        "assignment" => "AssignmentEventData",
        "action_plan" => "ActionPlanEventData",
        "appeal" => "AppealEventData",
        "user" => "UserErasedData",
        "webhook" => "PingData",
        _ if event_type == EventType::LocationVerdictChanged => "VerdictChangedData",
        _ => "LocationEventData",
    }
}
