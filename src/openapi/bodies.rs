//! Every violation of a request body at once. serde stops at the first value of the wrong
//! type; when it refuses a body, the body is checked against its schema in the OpenAPI
//! document (the same document clients are generated from), and each difference is listed
//! with its JSON Pointer.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde_json::{Value, json};

use crate::validation::Violation;

/// The document's components, as JSON, built once.
static COMPONENTS: LazyLock<Value> = LazyLock::new(|| {
    serde_json::to_value(super::document())
        .ok()
        .and_then(|doc| doc.get("components").cloned())
        .unwrap_or(Value::Null)
});

/// One compiled validator per schema name; `None` when the schema does not compile.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Option<Arc<jsonschema::Validator>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn validator(name: &str) -> Option<Arc<jsonschema::Validator>> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(PoisonError::into_inner);
    cache
        .entry(name.to_string())
        .or_insert_with(|| {
            COMPONENTS.get("schemas")?.get(name)?;
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": COMPONENTS.clone(),
            });
            jsonschema::validator_for(&root).ok().map(Arc::new)
        })
        .clone()
}

/// Where `body` departs from the schema `name` of the document, every place listed (empty
/// when the schema is unknown or finds nothing).
pub fn violations(name: &str, body: &Value) -> Vec<Violation> {
    let Some(validator) = validator(name) else {
        return Vec::new();
    };
    validator
        .iter_errors(body)
        .map(|e| {
            use jsonschema::error::ValidationErrorKind as Kind;
            let pointer = e.instance_path().to_string();
            let message = e.to_string();
            match e.kind() {
                Kind::Required { property } => {
                    let field = property.as_str().unwrap_or_default();
                    Violation::new(
                        format!("{pointer}/{}", field.replace('~', "~0").replace('/', "~1")),
                        "required",
                        message,
                    )
                }
                Kind::Type { .. } => Violation::new(pointer, "invalid_type", message),
                Kind::AdditionalProperties { .. } => {
                    Violation::new(pointer, "unknown_field", message)
                }
                _ => Violation::new(pointer, "invalid_value", message),
            }
        })
        .collect()
}
