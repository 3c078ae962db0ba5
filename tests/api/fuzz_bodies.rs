//! Property: random and mutated JSON thrown at every write operation of the OpenAPI document
//! (starting from each operation's documented example, called by a caller who may use it)
//! never gets a 5xx, and a rejected request (4xx) leaves every stored row as it was.

use diesel::RunQueryDsl;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use secondmile::db::DbConn;
use serde_json::{Map, Value, json};

use crate::helpers::TestApp;
use crate::helpers::{report, world};
use crate::questionnaires::example;

/// Random JSON: scalars (with odd numbers and strings: control characters, Unicode, long
/// text), and arrays and objects of them, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(0.5f64),
            Just(-1e308),
            Just(1e19),
            Just(80.0),
            any::<f64>().prop_filter("finite", |f| f.is_finite())
        ]
        .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[\\x00-\\x1f\u{200b}\u{feff}a-z]{0,8}".prop_map(Value::from),
        (1usize..6000).prop_map(|n| Value::from("x".repeat(n))),
        Just(json!("2026-02-30T25:61:00Z")),
        Just(json!("00000000-0000-0000-0000-000000000000")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value at the n-th pointer of the example.
    Replace(usize, Value),
    /// Remove the n-th key.
    Remove(usize),
    /// Add an unknown key beside the n-th value.
    Add(usize, String, Value),
    /// A whole new body.
    Whole(Value),
    /// The example's text cut at a fraction of its length (malformed JSON).
    Truncate(f64),
    /// The example nested this deep in arrays.
    Deep(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), "[a-z_]{1,12}", any_json()).prop_map(|(i, k, v)| Mutation::Add(i, k, v)),
        1 => any_json().prop_map(Mutation::Whole),
        1 => (0.0f64..1.0).prop_map(Mutation::Truncate),
        1 => (100usize..3000).prop_map(Mutation::Deep),
    ]
}

/// Pointers to every value in `doc` (the root excluded).
fn pointers(doc: &Value, at: String, out: &mut Vec<String>) {
    match doc {
        Value::Object(fields) => {
            for (k, v) in fields {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

fn parent_and_key(pointer: &str) -> (String, String) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    (
        parent.to_string(),
        key.replace("~1", "/").replace("~0", "~"),
    )
}

/// The body bytes a mutation makes of an example.
fn apply(example: &Value, m: &Mutation) -> Vec<u8> {
    let mut doc = example.clone();
    let mut all = Vec::new();
    pointers(&doc, String::new(), &mut all);
    let pick = |i: usize| all.get(i % all.len().max(1)).cloned();
    match m {
        Mutation::Replace(i, v) => {
            if let Some(p) = pick(*i)
                && let Some(slot) = doc.pointer_mut(&p)
            {
                *slot = v.clone();
            }
        }
        Mutation::Remove(i) => {
            if let Some(p) = pick(*i) {
                let (parent, key) = parent_and_key(&p);
                match doc.pointer_mut(&parent) {
                    Some(Value::Object(fields)) => {
                        fields.remove(&key);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = key.parse::<usize>()
                            && i < items.len()
                        {
                            items.remove(i);
                        }
                    }
                    _ => {}
                }
            }
        }
        Mutation::Add(i, key, v) => {
            let parent = pick(*i).map(|p| parent_and_key(&p).0).unwrap_or_default();
            if let Some(Value::Object(fields)) = doc.pointer_mut(&parent) {
                fields.insert(format!("x_{key}"), v.clone());
            }
        }
        Mutation::Whole(v) => doc = v.clone(),
        Mutation::Truncate(f) => {
            let text = serde_json::to_vec(example).unwrap();
            let cut = ((text.len() as f64) * f) as usize;
            return text[..cut.min(text.len().saturating_sub(1))].to_vec();
        }
        Mutation::Deep(n) => {
            let text = serde_json::to_string(example).unwrap();
            return format!("{}{text}{}", "[".repeat(*n), "]".repeat(*n)).into_bytes();
        }
    }
    serde_json::to_vec(&doc).unwrap()
}

/// Each table's row count and a marker that moves when a row changes.
fn fingerprint(conn: &mut DbConn) -> Vec<(String, i64, Option<String>)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        marker: Option<String>,
    }
    let tables = [
        ("organizations", "CAST(MAX(updated_at) AS TEXT)"),
        ("settings", "CAST(MAX(updated_at) AS TEXT)"),
        ("users", "CAST(MAX(updated_at) AS TEXT)"),
        ("user_emails", "NULL"),
        ("integration_clients", "CAST(MAX(updated_at) AS TEXT)"),
        (
            "refresh_tokens",
            "CAST(COUNT(used_at) AS TEXT) || '/' || CAST(COUNT(revoked_at) AS TEXT)",
        ),
        ("locations", "CAST(MAX(updated_at) AS TEXT)"),
        ("manager_locations", "NULL"),
        ("questionnaires", "CAST(MAX(updated_at) AS TEXT)"),
        ("reports", "CAST(MAX(updated_at) AS TEXT)"),
        ("report_revisions", "NULL"),
        ("report_transitions", "NULL"),
        ("rollups", "CAST(SUM(visits) AS TEXT)"),
        ("rollup_sections", "NULL"),
        ("rollup_questions", "NULL"),
    ];
    tables
        .iter()
        .map(|(table, marker)| {
            let row = diesel::sql_query(format!(
                "SELECT COUNT(*) AS n, {marker} AS marker FROM {table}"
            ))
            .get_result::<Row>(conn)
            .unwrap_or_else(|e| panic!("fingerprint {table}: {e}"));
            (table.to_string(), row.n, row.marker)
        })
        .collect()
}

async fn send(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Vec<u8>) -> u16 {
    let method = actix_http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app
        .client
        .request(method, app.url(path))
        .insert_header(("content-type", "application/json"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let mut response = request.send_body(body).await.unwrap();
    response.body().limit(16 << 20).await.unwrap();
    response.status().as_u16()
}

#[actix_web::test]
async fn random_and_mutated_bodies_never_fail_the_server_nor_change_data_when_refused() {
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let w = world().await;
    let app = &w.app;
    let reviewer = app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = app.access_token(&reviewer).await;
    let manager = app.create_user(&w.admin_token, "manager").await;
    let draft = app
        .create_questionnaire(&w.admin_token, example("fuzz-draft"))
        .await;
    let (status, submitted) = app
        .post("/api/v1/reports", &w.shopper_token, report(&w))
        .await;
    assert_eq!(status, 201, "{submitted}");
    let report_id = submitted["id"].as_str().unwrap().to_string();

    // Every operation with a JSON body, its example, its path and a caller allowed to call it.
    let mut targets = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let content = &operation["requestBody"]["content"];
            let Some(declared) = content
                .get("application/json")
                .or_else(|| content.get("application/x-www-form-urlencoded"))
            else {
                continue;
            };
            let name = declared["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.rsplit('/').next());
            let example = declared
                .get("example")
                .cloned()
                .or_else(|| {
                    name.and_then(|n| doc["components"]["schemas"][n].get("example").cloned())
                })
                .unwrap_or_else(|| panic!("{method} {template} documents an example body"));
            // The manager is the user acted on (their locations too).
            let id = if template.starts_with("/api/v1/users/") {
                manager.id.clone()
            } else if template.starts_with("/api/v1/locations/") {
                w.location_id.clone()
            } else if template.starts_with("/api/v1/questionnaires/") {
                draft["id"].as_str().unwrap().to_string()
            } else {
                report_id.clone()
            };
            let path = template.replace("{id}", &id).replace("{key}", "fuzz-draft");
            let token = match (method.as_str(), template.as_str()) {
                (_, "/api/v1/auth/token" | "/api/v1/auth/revoke") => None,
                ("post" | "put", "/api/v1/reports" | "/api/v1/reports/{id}") => {
                    Some(w.shopper_token.clone())
                }
                (_, "/api/v1/reports/{id}/review") => Some(reviewer_token.clone()),
                _ => Some(w.admin_token.clone()),
            };
            targets.push((method.to_uppercase(), path, token, example));
        }
    }
    assert!(targets.len() >= 12, "{} write operations", targets.len());

    // Cases are drawn from a fixed seed (reproducible); SECONDMILE_FUZZ_CASES sets how many.
    let cases: u32 = std::env::var("SECONDMILE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::deterministic();
    let strategy = (0..targets.len(), mutation());
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    let mut conn = app.db.connect();
    for case in 0..cases {
        let (t, m) = strategy.new_tree(&mut runner).unwrap().current();
        let (method, path, token, example) = &targets[t];
        let body = apply(example, &m);
        let before = fingerprint(&mut conn);
        let status = send(app, method, path, token.as_deref(), body.clone()).await;
        *statuses.entry(status).or_default() += 1;
        let shown = String::from_utf8_lossy(&body[..body.len().min(2000)]).to_string();
        assert!(
            status < 500,
            "case {case}: {method} {path} answered {status} to {shown}"
        );
        if status >= 400 {
            let after = fingerprint(&mut conn);
            assert_eq!(
                before, after,
                "case {case}: {method} {path} answered {status} but changed stored data; body: {shown}"
            );
        }
    }
    println!(
        "mutated bodies: {cases} cases over {} operations, statuses {statuses:?}",
        targets.len()
    );
}
