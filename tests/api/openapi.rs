use secondmile::openapi::{REGENERATE_COMMAND, document_json};

use crate::helpers::{json_body, spawn_app};

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("cannot read {path} ({e}); create it with: {REGENERATE_COMMAND}")
    })
}

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = document_json();
    assert!(
        committed() == generated,
        "openapi/openapi.json is out of date with the code; regenerate it with:\n    {REGENERATE_COMMAND}\n"
    );
}

#[actix_web::test]
async fn the_served_document_is_the_committed_one_on_its_own_origin() {
    let app = spawn_app().await;
    let mut response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let served = json_body(&mut response).await;
    let mut committed: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    // Its server is the origin it was read from, so "Try it out" works on any address.
    assert_eq!(served["servers"].as_array().unwrap().len(), 1);
    assert_eq!(served["servers"][0]["url"], "/");
    assert_eq!(committed["servers"][0]["url"], "http://127.0.0.1:8080");
    committed["servers"] = served["servers"].clone();
    assert_eq!(served, committed);

    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served["info"]["license"]["identifier"], "MIT OR Apache-2.0");
    assert_eq!(served["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        served["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(served["components"]["schemas"]["Problem"].is_object());
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(
            served["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
}

#[actix_web::test]
async fn the_interactive_docs_work_without_internet() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(response.headers().get("location").unwrap(), "/docs/");

    let mut response = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let page = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(
        !page.contains("https://"),
        "the page loads nothing from the internet"
    );

    // The UI's assets are served by the binary itself, and point at our document.
    let mut response = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let script = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(script.contains("/api/v1/openapi.json"), "{script}");
    let response = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

/// Validates `example` against `schema`, with the document's components in reach.
fn check_example(
    doc: &serde_json::Value,
    at: &str,
    schema: &serde_json::Value,
    example: &serde_json::Value,
) -> Option<String> {
    let mut root = schema.clone();
    let object = root.as_object_mut()?;
    object.remove("example");
    object.insert("components".into(), doc["components"].clone());
    let validator = jsonschema::validator_for(&root).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(example)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| format!("{at}: {}", errors.join("; ")))
}

/// Every example in the document (of a schema, a property, a parameter or a body).
fn examples(
    node: &serde_json::Value,
    at: &str,
    found: &mut Vec<(String, serde_json::Value, serde_json::Value)>,
) {
    match node {
        serde_json::Value::Object(map) => {
            if let Some(example) = map.get("example") {
                let is_schema = ["type", "$ref", "oneOf", "allOf", "anyOf"]
                    .iter()
                    .any(|k| map.contains_key(*k));
                if let Some(schema) = map.get("schema") {
                    found.push((at.to_string(), schema.clone(), example.clone()));
                } else if is_schema {
                    found.push((at.to_string(), node.clone(), example.clone()));
                }
            }
            for (key, value) in map {
                if key != "example" {
                    examples(value, &format!("{at}/{key}"), found);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                examples(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_example_in_the_document_is_valid_and_every_body_has_one() {
    let doc: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    let mut found = Vec::new();
    examples(&doc, "", &mut found);
    assert!(found.len() >= 20, "examples were found: {}", found.len());
    let invalid: Vec<String> = found
        .iter()
        .filter_map(|(at, schema, example)| check_example(&doc, at, schema, example))
        .collect();
    assert!(
        invalid.is_empty(),
        "invalid examples:\n{}",
        invalid.join("\n")
    );

    // A body an integrator writes comes with an example to start from.
    let schemas = &doc["components"]["schemas"];
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(content) = operation["requestBody"]["content"].as_object() else {
                continue;
            };
            for (media_type, media) in content {
                // A file (a photo, a PDF) is sent as it is, not written from an example.
                if media_type.starts_with("image/")
                    || media_type == "application/pdf"
                    || media_type == "application/octet-stream"
                {
                    continue;
                }
                let named = media["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.rsplit('/').next())
                    .map(|name| &schemas[name]);
                let has = media.get("example").is_some()
                    || media["schema"].get("example").is_some()
                    || named.is_some_and(|s| s.get("example").is_some());
                if !has {
                    missing.push(format!("{method} {path} {media_type}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "bodies without an example: {missing:?}");

    // So does every answer, and every schema of the document (a generated client's model, a
    // mock server's reply).
    let has_example = |media: &serde_json::Value| {
        let named = media["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .map(|name| &schemas[name]);
        media.get("example").is_some()
            || media.get("examples").is_some()
            || media["schema"].get("example").is_some()
            || named.is_some_and(|s| s.get("example").is_some())
    };
    let mut answers = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let Some(content) = response["content"].as_object() else {
                    continue;
                };
                for (media_type, media) in content {
                    let binary = media["schema"]["format"] == "binary";
                    if !binary && !has_example(media) {
                        answers.push(format!("{method} {path} {status} {media_type}"));
                    }
                }
            }
        }
    }
    assert!(
        answers.is_empty(),
        "answers without an example: {answers:#?}"
    );
    let bare: Vec<&String> = schemas
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| s.get("example").is_none() && s.get("examples").is_none())
        .map(|(name, _)| name)
        .collect();
    assert!(bare.is_empty(), "schemas without an example: {bare:?}");
}

#[actix_web::test]
async fn the_docs_page_works_offline_and_calls_no_online_validator() {
    let app = spawn_app().await;
    let mut response = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let script = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
    assert!(script.contains("/api/v1/openapi.json"), "{script}");
    assert!(!script.contains("swagger.io"), "{script}");
}

/// Every `$ref` of the document, with where it stands.
fn refs<'a>(value: &'a serde_json::Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref"
                    && let Some(target) = child.as_str()
                {
                    out.push((at.clone(), target));
                } else {
                    refs(child, format!("{at}/{key}"), out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(found.len() > 100, "the document uses references");
    let dangling: Vec<String> = found
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .map(|(at, target)| format!("{at} -> {target}"))
        .collect();
    assert!(dangling.is_empty(), "unresolved references: {dangling:#?}");
}

/// Answers that hold a set with a small fixed bound come whole: a report's history (its
/// revisions and decisions), the questions of one questionnaire, the regions, a version's
/// languages.
const WHOLE_ANSWERS: [&str; 6] = [
    // What moved a location's figures since a cursor: whole, so that it adds up.
    "/api/v1/locations/{id}/figure-changes",
    "/api/v1/reports/{id}/history",
    "/api/v1/aggregates/questions",
    "/api/v1/aggregates/regions",
    // One row per shopper with a visit in the range, ranked as a whole.
    "/api/v1/aggregates/shoppers",
    // At most 50 languages a version.
    "/api/v1/questionnaires/{id}/translations",
];

#[test]
fn every_list_pages_one_way() {
    let doc: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    let resolve = |schema: &serde_json::Value| {
        let mut schema = schema.clone();
        while let Some(r) = schema["$ref"].as_str().map(str::to_string) {
            schema = doc.pointer(r.trim_start_matches('#')).unwrap().clone();
        }
        schema
    };
    let mut outside = Vec::new();
    let mut lists = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let Some(schema) = get["responses"]["200"]["content"]["application/json"].get("schema")
        else {
            continue;
        };
        let schema = resolve(schema);
        if schema["type"] == "array" {
            outside.push(format!("{path}: a bare array"));
            continue;
        }
        if schema["properties"]["items"]["type"] != "array" {
            continue;
        }
        if WHOLE_ANSWERS.contains(&path.as_str()) {
            continue;
        }
        lists += 1;
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        for field in ["items", "next_cursor", "has_more"] {
            if !required.contains(&field) {
                outside.push(format!("{path}: no `{field}` in the answer"));
            }
        }
        let params: Vec<(&str, &str)> = get["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or(""),
                            p["in"].as_str().unwrap_or(""),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        for name in ["limit", "cursor"] {
            if !params.contains(&(name, "query")) {
                outside.push(format!("{path}: no `{name}` parameter"));
            }
        }
        let limit = get["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"));
        if limit.is_some_and(|l| l["schema"]["maximum"].as_u64().is_none()) {
            outside.push(format!("{path}: `limit` has no maximum"));
        }
    }
    assert!(lists >= 14, "lists found: {lists}");
    assert!(
        outside.is_empty(),
        "lists outside the paging style: {outside:#?}"
    );
}

#[test]
fn every_operation_id_is_unique() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    let mut clashes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_default();
            if let Some(first) = seen.insert(id.to_string(), format!("{method} {path}")) {
                clashes.push(format!("{id}: {first} and {method} {path}"));
            }
        }
    }
    assert!(clashes.is_empty(), "operationIds used twice: {clashes:?}");
}

/// The verbs an operation id may start with: ids read as what the call does (`list_events`,
/// `accept_assignment`), and stay clear when a generator makes them top-level functions.
const VERBS: [&str; 34] = [
    "get",
    "list",
    "create",
    "update",
    "delete",
    "put",
    "set",
    "submit",
    "revise",
    "review",
    "upload",
    "download",
    "import",
    "export",
    "issue",
    "revoke",
    "publish",
    "retire",
    "accept",
    "decline",
    "claim",
    "cancel",
    "close",
    "generate",
    "add",
    "redeliver",
    "ping",
    "erase",
    "rotate",
    "check",
    "receive",
    "sync",
    "open",
    "complete",
];

#[test]
fn every_operation_id_is_a_verb_and_a_noun_and_unique_with_the_webhooks() {
    let doc: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    let mut ids = Vec::new();
    for section in ["paths", "webhooks"] {
        for (path, item) in doc[section].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_default();
                ids.push((id.to_string(), format!("{section}: {method} {path}")));
            }
        }
    }
    assert!(ids.len() > 100, "{}", ids.len());
    let badly_named: Vec<&(String, String)> = ids
        .iter()
        .filter(|(id, _)| {
            let mut words = id.split('_');
            let verb = words.next().unwrap_or_default();
            !VERBS.contains(&verb) || words.next().is_none()
        })
        .collect();
    assert!(badly_named.is_empty(), "not verb_noun: {badly_named:?}");
    let mut seen = std::collections::BTreeSet::new();
    let twice: Vec<&String> = ids
        .iter()
        .filter(|(id, _)| !seen.insert(id.clone()))
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "used twice: {twice:?}");
    // Webhooks have a tag of their own.
    for (name, item) in doc["webhooks"].as_object().unwrap() {
        assert_eq!(
            item["post"]["tags"],
            serde_json::json!(["webhooks"]),
            "{name}"
        );
    }
}

#[test]
fn every_link_names_an_operation_and_its_parameters() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut operations = std::collections::HashMap::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(id) = operation["operationId"].as_str() {
                operations.insert(id.to_string(), operation.clone());
            }
        }
    }
    let mut links = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (name, link) in response["links"].as_object().into_iter().flatten() {
                    let at = format!("{method} {path} {status} link {name}");
                    let target = link["operationId"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{at}"));
                    let target = operations
                        .get(target)
                        .unwrap_or_else(|| panic!("{at}: no operation {target}"));
                    let declared: Vec<&str> = target["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect();
                    for (parameter, expression) in link["parameters"].as_object().unwrap() {
                        assert!(declared.contains(&parameter.as_str()), "{at}: {parameter}");
                        let field = expression
                            .as_str()
                            .unwrap()
                            .strip_prefix("$response.body#/")
                            .unwrap();
                        let schema = &response["content"]["application/json"]["schema"]["$ref"];
                        let schema = schema.as_str().unwrap().rsplit('/').next().unwrap();
                        assert!(
                            has_property(&doc, schema, field),
                            "{at}: {schema} has no {field}"
                        );
                    }
                    links += 1;
                }
            }
        }
    }
    assert!(links >= 20, "{links} links");
}

/// Whether a component schema has what a JSON pointer (`webhook/id`, `created/0/id`) names:
/// properties of objects (also in an `allOf` part), items of arrays, through `$ref`s.
fn has_property(doc: &serde_json::Value, schema: &str, pointer: &str) -> bool {
    let segments: Vec<&str> = pointer.split('/').collect();
    resolves(doc, &doc["components"]["schemas"][schema], &segments)
}

fn resolves(doc: &serde_json::Value, schema: &serde_json::Value, segments: &[&str]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return true;
    };
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return resolves(doc, &doc["components"]["schemas"][name], segments);
    }
    if first.parse::<usize>().is_ok() && schema["items"].is_object() {
        return resolves(doc, &schema["items"], rest);
    }
    schema["properties"]
        .get(*first)
        .is_some_and(|property| resolves(doc, property, rest))
        || schema["allOf"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|part| resolves(doc, part, segments))
}
