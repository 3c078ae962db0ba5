//! Examples for schemas written as a composition of parts: a page of reports, an overview, a
//! report with its score. Each is put together from the examples of its parts (a referenced
//! schema's own, a property's own, an enum's first value, a format's typical value), so an
//! answer's example shows the same ids, dates and values as the examples of the types it is
//! made of, and a test checks every example against its schema.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// How deep a composition is followed (a schema that contains itself stops here).
const DEPTH: usize = 32;

/// Gives every component schema without an example one composed from its parts.
pub fn compose(doc: &mut OpenApiDoc) {
    let Some(components) = doc.components.as_ref() else {
        return;
    };
    let schemas: BTreeMap<String, Value> = components
        .schemas
        .iter()
        .filter_map(|(name, s)| Some((name.clone(), serde_json::to_value(s).ok()?)))
        .collect();
    // An answer whose schema is written in place (an array of a type, a string).
    for operation in super::operations_mut(doc) {
        for response in operation.responses.responses.values_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            for content in response.content.values_mut() {
                let Some(schema) = content.schema.as_ref() else {
                    continue;
                };
                let Ok(schema) = serde_json::to_value(schema) else {
                    continue;
                };
                if content.example.is_some() || schema.get("$ref").is_some() || is_binary(&schema) {
                    continue;
                }
                content.example = example_of(&schema, &schemas, DEPTH);
            }
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (name, schema) in &schemas {
        if has_example(schema) || is_binary(schema) {
            continue;
        }
        let Some(example) = example_of(schema, &schemas, DEPTH) else {
            continue;
        };
        let mut with_example = schema.clone();
        if let Value::Object(map) = &mut with_example {
            map.insert("example".into(), example);
        }
        if let Ok(schema) = serde_json::from_value::<RefOr<Schema>>(with_example) {
            components.schemas.insert(name.clone(), schema);
        }
    }
}

fn has_example(schema: &Value) -> bool {
    schema.get("example").is_some()
        || schema
            .get("examples")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty())
}

fn is_binary(schema: &Value) -> bool {
    schema.get("format").and_then(Value::as_str) == Some("binary")
}

/// The schema's own example, or one composed from its parts; `None` when nothing fits.
fn example_of(schema: &Value, schemas: &BTreeMap<String, Value>, depth: usize) -> Option<Value> {
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(first) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Some(first.clone());
    }
    if let Some(default) = schema.get("default") {
        return Some(default.clone());
    }
    let depth = depth.checked_sub(1)?;
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next()?;
        return example_of(schemas.get(name)?, schemas, depth);
    }
    if let Some(value) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Some(value.clone());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            // The first option that is not `null`.
            return options
                .iter()
                .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                .find_map(|o| example_of(o, schemas, depth));
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = serde_json::Map::new();
        for part in parts {
            match example_of(part, schemas, depth)? {
                Value::Object(fields) => merged.extend(fields),
                other => return Some(other),
            }
        }
        return Some(Value::Object(merged));
    }
    match main_type(schema) {
        Some("object") => {
            let mut fields = serde_json::Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    let own = has_example(property) || property.get("$ref").is_some();
                    let sample = (!own).then(|| sample(name, property)).flatten();
                    if let Some(value) = sample.or_else(|| example_of(property, schemas, depth)) {
                        fields.insert(name.clone(), value);
                    }
                }
            }
            Some(Value::Object(fields))
        }
        Some("array") => {
            let item = example_of(schema.get("items")?, schemas, depth)?;
            let count = schema
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            Some(Value::Array(vec![
                item;
                usize::try_from(count).unwrap_or(1)
            ]))
        }
        Some("string") => Some(json!(match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
            Some("date-time") => "2026-12-01T09:30:00Z",
            Some("date") => "2026-12-01",
            Some("uri") => "https://hooks.example.com/secondmile",
            Some("email") => "ana.silva@example.com",
            _ => return string_example(schema),
        })),
        Some("integer") => Some(json!(
            schema.get("minimum").and_then(Value::as_i64).unwrap_or(1)
        )),
        Some("number") => Some(json!(
            schema.get("minimum").and_then(Value::as_f64).unwrap_or(0.0)
        )),
        Some("boolean") => Some(json!(true)),
        Some("null") => Some(Value::Null),
        _ => None,
    }
}

/// A typical value of a property of this name (a store, a score, a date…), when the
/// property's schema allows it: the program's vocabulary, so that a composed example reads like
/// an answer of the demo rather than like a type.
fn sample(name: &str, property: &Value) -> Option<Value> {
    let value = match name {
        "name" => json!("Chiado"),
        "display_name" => json!("Ana Silva"),
        "first_name" => json!("Rita"),
        "code" => json!("LIS-001"),
        "region" => json!("Lisbon"),
        "city" => json!("Lisboa"),
        "country" => json!("PT"),
        "postal_code" => json!("1200-109"),
        "timezone" => json!("Europe/Lisbon"),
        "latitude" | "lat" => json!(38.7111),
        "longitude" | "lon" => json!(-9.1421),
        "accuracy_m" => json!(12.0),
        "key" | "questionnaire_key" => json!("store-visit"),
        "title" => json!("Store visit"),
        "description" => json!("The quarterly visit of every store"),
        "instructions" => json!("Ask about the loyalty card at the till"),
        "question" => json!("greeted"),
        "text" => json!("Were you greeted within a minute?"),
        "help" => json!("Count from the moment you enter"),
        "label" => json!("Yes"),
        "note" => json!("Which employee called you by name?"),
        "comment" => json!("She used my name twice"),
        "narrative" => json!("Warm welcome; Rita at the till called me by name."),
        "highlights" => json!("Called the shopper by name"),
        "decline_reason" | "reason" => json!("I am away that week"),
        "role" => json!("cashier"),
        "tag" => json!("flagship"),
        "email" | "username" => json!("ana.silva@example.com"),
        "url" => json!("https://hooks.example.com/secondmile"),
        "content_type" => json!("image/jpeg"),
        "sha256" => json!("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        "app" => json!("secondmile-shopper"),
        "device_id" => json!("a3f1c2"),
        "version" if main_type(property) == Some("string") => json!("2.4.1"),
        "message" | "detail" => json!("the visit lasted 4 minutes"),
        "cursor" | "next_cursor" => json!("412"),
        "score" | "overall" | "mean_score" | "median_score" => json!(86.5),
        "first_tier" => json!(100.0),
        "second_tier" => json!(66.7),
        "min_score" => json!(41.0),
        "max_score" => json!(100.0),
        "sd_score" => json!(12.4),
        "earned" => json!(2.0),
        "possible" | "points" | "weight" => json!(2.0),
        "size" => json!(48213),
        "latency_ms" => json!(184),
        "response_status" => json!(200),
        "visits" | "scored_visits" | "n" | "count" => json!(12),
        "rate" => json!(0.25),
        "lockout_days" => json!(90),
        "max_visits_per_location_per_year" => json!(4),
        "visits_per_location" => json!(2),
        _ => return None,
    };
    fits(&value, property).then_some(value)
}

/// Whether a sample value is of the property's type and within its bounds.
fn fits(value: &Value, property: &Value) -> bool {
    let kind = match value {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        _ => return false,
    };
    let of_type = match property.get("type") {
        Some(Value::String(t)) => t == kind || (t == "number" && kind == "integer"),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .any(|t| t == kind || (t == "number" && kind == "integer")),
        _ => false,
    };
    let number = value.as_f64();
    let within = |bound: &str, ok: fn(f64, f64) -> bool| match (
        number,
        property.get(bound).and_then(Value::as_f64),
    ) {
        (Some(n), Some(b)) => ok(n, b),
        _ => true,
    };
    let length = value.as_str().map_or(0, str::len) as u64;
    of_type
        && property.get("enum").is_none()
        && property.get("pattern").is_none()
        && (kind != "string" || property.get("format").is_none())
        && within("minimum", |n, b| n >= b)
        && within("maximum", |n, b| n <= b)
        && property
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_none_or(|max| length <= max)
        && property
            .get("minLength")
            .and_then(Value::as_u64)
            .is_none_or(|min| length >= min)
}

/// A plain string that fits the schema's length bounds, or nothing when a pattern decides
/// (a property with a pattern carries an example of its own).
fn string_example(schema: &Value) -> Option<Value> {
    if schema.get("pattern").is_some() {
        return None;
    }
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let text = "text";
    Some(json!(if (text.len() as u64) >= min {
        text.to_string()
    } else {
        "x".repeat(usize::try_from(min).unwrap_or(1))
    }))
}

/// The type a schema describes, leaving out `null` from a list of types.
fn main_type(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t.as_str()),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}
