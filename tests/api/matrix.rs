//! The access matrix: one table names, for every operation of the OpenAPI document, who may
//! call it. The test enumerates the document's operations (an operation missing from the
//! table, or a table row the document lacks, fails it), then calls every operation as every
//! caller against real data: anonymous, each role, an integration client with only each scope
//! and one with every scope but it, and another organization's admin and client. Each cell
//! must answer as the table says: allowed (anything but 401 and 403, never a 5xx), 401 for
//! anonymous, 403 for a role or scope without access, 404 for another organization's
//! resource. The table's scope must also be the scope the document names.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::TestApp;
use crate::helpers::{report, set_answer, world};
use crate::questionnaires::example;

/// A user role, as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Reviewer,
    Analyst,
    Manager,
    Shopper,
}

use Role::{Admin, Analyst, Manager, Reviewer, Shopper};

const ALL_ROLES: &[Role] = &[Admin, Reviewer, Analyst, Manager, Shopper];
/// HQ roles, and managers (who see their own locations' figures only).
const NOT_SHOPPERS: &[Role] = &[Admin, Reviewer, Analyst, Manager];

/// What an integration client needs to call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// Clients may not call it.
    Never,
    /// Any client token.
    Any,
    /// A token with this scope.
    Scope(&'static str),
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// No token needed; every caller gets an answer (never a 5xx).
    Public,
    Restricted(&'static [Role], Client),
}

use Access::{Public, Restricted};
use Client::{Any, Never, Scope};

/// The table. Keep it in the document's order; a new operation fails the test until it is
/// added here with its access rules.
const TABLE: &[(&str, Access)] = &[
    (
        "GET /api/v1/action-plans",
        Restricted(NOT_SHOPPERS, Scope("actions:read")),
    ),
    (
        "GET /api/v1/action-plans/{id}",
        Restricted(NOT_SHOPPERS, Scope("actions:read")),
    ),
    (
        "POST /api/v1/action-plans/{id}/actions/{number}/done",
        Restricted(&[Admin, Manager], Never),
    ),
    (
        "PUT /api/v1/action-plans/{id}/plan",
        Restricted(&[Admin, Manager], Never),
    ),
    (
        "POST /api/v1/action-plans/{id}/review",
        Restricted(&[Admin, Reviewer, Analyst], Never),
    ),
    (
        "GET /api/v1/appeals",
        Restricted(&[Admin, Reviewer, Manager], Scope("actions:read")),
    ),
    (
        "GET /api/v1/appeals/{id}",
        Restricted(&[Admin, Reviewer, Manager], Scope("actions:read")),
    ),
    (
        "POST /api/v1/appeals/{id}/decision",
        Restricted(&[Admin, Reviewer], Never),
    ),
    (
        "GET /api/v1/appeals/{id}/evidence",
        Restricted(&[Admin, Reviewer, Manager], Never),
    ),
    (
        "PUT /api/v1/appeals/{id}/evidence",
        Restricted(&[Manager], Never),
    ),
    (
        "GET /api/v1/attachments/{id}",
        Restricted(ALL_ROLES, Scope("reports:read")),
    ),
    (
        "GET /api/v1/aggregates/changes",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/drivers",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/locations",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/locations.csv",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/overview",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/questions",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/recognition",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/regions",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/aggregates/shoppers",
        Restricted(&[Admin, Reviewer], Never),
    ),
    (
        "GET /api/v1/aggregates/trend",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    ("GET /api/v1/audit", Restricted(&[Admin], Never)),
    ("POST /api/v1/auth/revoke", Public),
    ("POST /api/v1/auth/token", Public),
    (
        "GET /api/v1/exports/reports.csv",
        Restricted(ALL_ROLES, Scope("reports:read")),
    ),
    (
        "GET /api/v1/integration-clients",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/integration-clients",
        Restricted(&[Admin], Never),
    ),
    (
        "DELETE /api/v1/integration-clients/{id}",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/locations",
        Restricted(ALL_ROLES, Scope("locations:read")),
    ),
    ("POST /api/v1/locations", Restricted(&[Admin], Never)),
    ("POST /api/v1/locations/import", Restricted(&[Admin], Never)),
    (
        "GET /api/v1/locations/{id}",
        Restricted(ALL_ROLES, Scope("locations:read")),
    ),
    ("DELETE /api/v1/locations/{id}", Restricted(&[Admin], Never)),
    ("PATCH /api/v1/locations/{id}", Restricted(&[Admin], Never)),
    (
        "GET /api/v1/locations/{id}/action-plans",
        Restricted(NOT_SHOPPERS, Scope("actions:read")),
    ),
    (
        "POST /api/v1/locations/{id}/action-plans",
        Restricted(&[Admin, Reviewer, Analyst], Never),
    ),
    (
        "GET /api/v1/locations/{id}/changes",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/locations/{id}/figure-changes",
        Restricted(NOT_SHOPPERS, Scope("aggregates:read")),
    ),
    (
        "GET /api/v1/locations/{id}/summary",
        Restricted(
            &[Admin, Reviewer, Analyst, Manager],
            Scope("aggregates:read"),
        ),
    ),
    (
        "GET /api/v1/locations/{id}/trend",
        Restricted(
            &[Admin, Reviewer, Analyst, Manager],
            Scope("aggregates:read"),
        ),
    ),
    ("GET /api/v1/me", Restricted(ALL_ROLES, Any)),
    ("PATCH /api/v1/me", Restricted(ALL_ROLES, Never)),
    (
        "GET /api/v1/questionnaires",
        Restricted(ALL_ROLES, Scope("questionnaires:read")),
    ),
    ("POST /api/v1/questionnaires", Restricted(&[Admin], Never)),
    (
        "GET /api/v1/questionnaires/{id}",
        Restricted(ALL_ROLES, Scope("questionnaires:read")),
    ),
    (
        "PATCH /api/v1/questionnaires/{id}",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/questionnaires/{id}/publish",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/questionnaires/{id}/retire",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/questionnaires/{id}/translations",
        Restricted(ALL_ROLES, Scope("questionnaires:read")),
    ),
    (
        "GET /api/v1/questionnaires/{id}/translations/{language}",
        Restricted(ALL_ROLES, Scope("questionnaires:read")),
    ),
    (
        "PUT /api/v1/questionnaires/{id}/translations/{language}",
        Restricted(&[Admin], Never),
    ),
    (
        "DELETE /api/v1/questionnaires/{id}/translations/{language}",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/questionnaires/{id}/translations/{language}/file",
        Restricted(ALL_ROLES, Scope("questionnaires:read")),
    ),
    (
        "PUT /api/v1/questionnaires/{id}/translations/{language}/file",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/questionnaires/{key}/versions",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/reports",
        Restricted(ALL_ROLES, Scope("reports:read")),
    ),
    (
        "POST /api/v1/reports",
        Restricted(&[Shopper], Scope("reports:write")),
    ),
    (
        "GET /api/v1/reports/{id}",
        Restricted(ALL_ROLES, Scope("reports:read")),
    ),
    (
        "PUT /api/v1/reports/{id}",
        Restricted(&[Shopper], Scope("reports:write")),
    ),
    (
        "POST /api/v1/reports/{id}/appeals",
        Restricted(&[Manager], Never),
    ),
    (
        "GET /api/v1/reports/{id}/attachments",
        Restricted(ALL_ROLES, Scope("reports:read")),
    ),
    (
        "GET /api/v1/reports/{id}/history",
        Restricted(&[Admin, Reviewer, Shopper], Never),
    ),
    (
        "POST /api/v1/reports/{id}/review",
        Restricted(&[Admin, Reviewer], Never),
    ),
    (
        "GET /api/v1/reports/{id}/revisions/{n}",
        Restricted(ALL_ROLES, Scope("reports:read")),
    ),
    (
        "PUT /api/v1/reports/{report_id}/attachments/{attachment_id}",
        Restricted(&[Shopper], Scope("reports:write")),
    ),
    ("GET /api/v1/users", Restricted(&[Admin], Never)),
    ("POST /api/v1/users", Restricted(&[Admin], Never)),
    ("GET /api/v1/users/{id}", Restricted(&[Admin], Never)),
    ("DELETE /api/v1/users/{id}", Restricted(&[Admin], Never)),
    ("PATCH /api/v1/users/{id}", Restricted(&[Admin], Never)),
    ("POST /api/v1/users/{id}/erase", Restricted(&[Admin], Never)),
    (
        "GET /api/v1/users/{id}/locations",
        Restricted(&[Admin], Never),
    ),
    (
        "PUT /api/v1/users/{id}/locations",
        Restricted(&[Admin], Never),
    ),
    ("GET /healthz", Public),
    ("GET /metrics", Public),
    ("GET /readyz", Public),
    (
        "GET /api/v1/programme/settings",
        Restricted(&[Admin], Never),
    ),
    (
        "PUT /api/v1/programme/settings",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/users/{id}/excluded-locations",
        Restricted(&[Admin], Never),
    ),
    (
        "PUT /api/v1/users/{id}/excluded-locations",
        Restricted(&[Admin], Never),
    ),
    ("GET /api/v1/waves", Restricted(&[Admin], Never)),
    ("POST /api/v1/waves", Restricted(&[Admin], Never)),
    ("GET /api/v1/waves/{id}", Restricted(&[Admin], Never)),
    ("PATCH /api/v1/waves/{id}", Restricted(&[Admin], Never)),
    ("POST /api/v1/waves/{id}/close", Restricted(&[Admin], Never)),
    (
        "GET /api/v1/waves/{id}/assignments",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/waves/{id}/assignments",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/waves/{id}/assignments/generate",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/waves/{id}/coverage",
        Restricted(
            &[Admin, Reviewer, Analyst, Manager],
            Scope("aggregates:read"),
        ),
    ),
    (
        "GET /api/v1/assignments/{id}",
        Restricted(&[Admin, Shopper], Never),
    ),
    (
        "PATCH /api/v1/assignments/{id}",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/assignments/{id}/cancel",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/assignments/{id}/accept",
        Restricted(&[Shopper], Never),
    ),
    (
        "POST /api/v1/assignments/{id}/decline",
        Restricted(&[Shopper], Never),
    ),
    (
        "POST /api/v1/assignments/{id}/claim",
        Restricted(&[Shopper], Never),
    ),
    ("GET /api/v1/me/assignments", Restricted(&[Shopper], Never)),
    ("GET /api/v1/me/sync", Restricted(&[Shopper], Never)),
    (
        "GET /api/v1/me/claimable-assignments",
        Restricted(&[Shopper], Never),
    ),
    (
        "GET /api/v1/me/eligible-locations",
        Restricted(&[Shopper], Never),
    ),
    (
        "GET /api/v1/organization/settings",
        Restricted(&[Admin], Never),
    ),
    (
        "PUT /api/v1/organization/settings",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/events",
        Restricted(&[Admin], Scope("events:read")),
    ),
    (
        "GET /api/v1/webhooks",
        Restricted(&[Admin], Scope("events:read")),
    ),
    ("POST /api/v1/webhooks", Restricted(&[Admin], Never)),
    (
        "GET /api/v1/webhooks/{id}",
        Restricted(&[Admin], Scope("events:read")),
    ),
    ("PATCH /api/v1/webhooks/{id}", Restricted(&[Admin], Never)),
    ("DELETE /api/v1/webhooks/{id}", Restricted(&[Admin], Never)),
    (
        "POST /api/v1/webhooks/{id}/rotate-secret",
        Restricted(&[Admin], Never),
    ),
    (
        "POST /api/v1/webhooks/{id}/ping",
        Restricted(&[Admin], Never),
    ),
    (
        "GET /api/v1/webhooks/{id}/deliveries",
        Restricted(&[Admin], Scope("events:read")),
    ),
    (
        "GET /api/v1/webhooks/{id}/deliveries/{delivery_id}",
        Restricted(&[Admin], Scope("events:read")),
    ),
    (
        "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        Restricted(&[Admin], Never),
    ),
];

/// One caller of the matrix.
#[derive(Debug, Clone)]
enum Caller {
    Anonymous,
    User(Role),
    /// A client of the organization with exactly these scopes; `label` says which.
    Client {
        label: String,
        scopes: Vec<String>,
    },
    OtherAdmin,
    OtherClient,
}

impl Caller {
    fn name(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::User(role) => format!("{role:?}").to_lowercase(),
            Caller::Client { label, .. } => format!("client {label}"),
            Caller::OtherAdmin => "another organization's admin".into(),
            Caller::OtherClient => "another organization's client (every scope)".into(),
        }
    }
}

/// What a cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Answered,
    Allowed,
    Unauthenticated,
    Forbidden,
    NotFound,
}

impl Expect {
    fn accepts(self, status: u16) -> bool {
        match self {
            Expect::Answered => status < 500,
            Expect::Allowed => status < 500 && status != 401 && status != 403,
            Expect::Unauthenticated => status == 401,
            Expect::Forbidden => status == 403,
            Expect::NotFound => status == 404,
        }
    }
}

fn client_allowed(client: Client, scopes: &[String]) -> bool {
    match client {
        Never => false,
        Any => true,
        Scope(scope) => scopes.iter().any(|s| s == scope),
    }
}

fn expected(access: Access, caller: &Caller, all_scopes: &[String], has_id: bool) -> Expect {
    let Restricted(roles, client) = access else {
        return Expect::Answered;
    };
    let verdict = |allowed: bool| {
        if allowed {
            Expect::Allowed
        } else {
            Expect::Forbidden
        }
    };
    match caller {
        Caller::Anonymous => Expect::Unauthenticated,
        Caller::User(role) => verdict(roles.contains(role)),
        Caller::Client { scopes, .. } => verdict(client_allowed(client, scopes)),
        Caller::OtherAdmin => match verdict(roles.contains(&Admin)) {
            Expect::Allowed if has_id => Expect::NotFound,
            other => other,
        },
        Caller::OtherClient => match verdict(client_allowed(client, all_scopes)) {
            Expect::Allowed if has_id => Expect::NotFound,
            other => other,
        },
    }
}

/// The document's operations as "METHOD /path", with each one's security requirements.
fn operations(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                out.push((
                    format!("{} {path}", method.to_uppercase()),
                    operation.clone(),
                ));
            }
        }
    }
    out
}

/// The request body the document gives as the example of an operation's body.
fn example_body(doc: &Value, operation: &Value) -> Option<(String, Vec<u8>)> {
    let content = operation["requestBody"]["content"].as_object()?;
    // A file upload: the smallest JPEG-looking bytes.
    if content.contains_key("image/jpeg") {
        return Some(("image/jpeg".into(), vec![0xFF, 0xD8, 0xFF, 0xD9]));
    }
    let (media, declared) = content.iter().next()?;
    let example = declared.get("example").cloned().or_else(|| {
        let name = declared["schema"]["$ref"].as_str()?.rsplit('/').next()?;
        doc["components"]["schemas"][name].get("example").cloned()
    })?;
    let bytes = match (media.as_str(), &example) {
        ("application/json", value) => serde_json::to_vec(value).unwrap(),
        ("application/x-www-form-urlencoded", Value::Object(fields)) => {
            let pairs: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect();
            serde_urlencoded::to_string(pairs).unwrap().into_bytes()
        }
        (_, Value::String(text)) => text.clone().into_bytes(),
        (media, other) => panic!("no way to send a {media} example: {other}"),
    };
    Some((media.clone(), bytes))
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&(String, Vec<u8>)>,
) -> u16 {
    let method = actix_http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let mut response = match body {
        Some((media, bytes)) => request
            .insert_header(("content-type", media.as_str()))
            .send_body(bytes.clone())
            .await
            .unwrap(),
        None => request.send().await.unwrap(),
    };
    response.body().limit(16 << 20).await.unwrap();
    response.status().as_u16()
}

#[actix_web::test]
async fn every_operation_answers_every_caller_as_the_access_table_says() {
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();

    // The table and the document name the same operations, with the same scopes.
    let documented = operations(&doc);
    let in_doc: BTreeSet<&str> = documented.iter().map(|(op, _)| op.as_str()).collect();
    let in_table: BTreeSet<&str> = TABLE.iter().map(|(op, _)| *op).collect();
    let missing: Vec<_> = in_doc.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "operations without access rules in the table: {missing:?}"
    );
    let stale: Vec<_> = in_table.difference(&in_doc).collect();
    assert!(
        stale.is_empty(),
        "table rows the document does not have: {stale:?}"
    );
    for (op, operation) in &documented {
        let access = TABLE.iter().find(|(o, _)| o == op).unwrap().1;
        let security = operation["security"]
            .as_array()
            .expect("every operation names its security");
        let documented_scope: Option<Vec<&str>> = security.iter().find_map(|s| {
            s.get("oauth2").map(|scopes| {
                scopes
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect()
            })
        });
        match access {
            Public => assert!(security.is_empty(), "{op} is public in the table only"),
            Restricted(_, Never) => {
                assert!(!security.is_empty(), "{op} needs a token");
                assert_eq!(documented_scope, None, "{op}: clients may not call it");
            }
            Restricted(_, Any) => assert_eq!(documented_scope, Some(vec![]), "{op}"),
            Restricted(_, Scope(scope)) => {
                assert_eq!(
                    documented_scope,
                    Some(vec![scope]),
                    "{op}: documented scope"
                )
            }
        }
    }
    let all_scopes: Vec<String> =
        doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]
            .as_object()
            .expect("the oauth2 scheme lists its scopes")
            .keys()
            .cloned()
            .collect();
    assert!(all_scopes.len() >= 5, "{all_scopes:?}");

    // Real data: a location with its manager, a published and a draft questionnaire, a
    // report by the shopper, and users and a client to act on.
    let w = world().await;
    let app = &w.app;
    let admin = w.admin_token.clone();
    let mut tokens: Vec<(Caller, Option<String>)> = vec![
        (Caller::Anonymous, None),
        (Caller::User(Admin), Some(admin.clone())),
        (Caller::User(Shopper), Some(w.shopper_token.clone())),
    ];
    let mut manager_id = String::new();
    for role in [Reviewer, Analyst, Manager] {
        let user = app
            .create_user(&admin, &format!("{role:?}").to_lowercase())
            .await;
        if role == Manager {
            app.assign_locations(&admin, &user.id, &[&w.location_id])
                .await;
            manager_id = user.id.clone();
        }
        tokens.push((Caller::User(role), Some(app.access_token(&user).await)));
    }
    for scope in &all_scopes {
        let only = vec![scope.clone()];
        let others: Vec<String> = all_scopes.iter().filter(|s| *s != scope).cloned().collect();
        for (label, scopes) in [
            (format!("with only {scope}"), only),
            (format!("without {scope}"), others),
        ] {
            let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let (id, secret) = app.create_client(&admin, &refs).await;
            let token = app.client_token(&id, &secret).await;
            tokens.push((Caller::Client { label, scopes }, Some(token)));
        }
    }
    let other = app.create_org_with_admin("Globex");
    let other_admin = app.access_token(&other).await;
    let all_refs: Vec<&str> = all_scopes.iter().map(String::as_str).collect();
    let (id, secret) = app.create_client(&other_admin, &all_refs).await;
    let other_client = app.client_token(&id, &secret).await;
    tokens.push((Caller::OtherAdmin, Some(other_admin)));
    tokens.push((Caller::OtherClient, Some(other_client)));

    let victim = app.create_user(&admin, "shopper").await;
    let (victim_client, _) = app.create_client(&admin, &["reports:read"]).await;
    let draft = app
        .create_questionnaire(&admin, example("matrix-draft"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = report(&w);
    let photo = uuid::Uuid::new_v4().to_string();
    set_answer(
        &mut body,
        "storefront_photo",
        serde_json::json!({"value": photo}),
    );
    let (status, submitted) = app.post("/api/v1/reports", &w.shopper_token, body).await;
    assert_eq!(status, 201, "{submitted}");
    let report_id = submitted["id"].as_str().unwrap().to_string();
    let mut uploaded = app
        .client
        .put(app.url(&format!("/api/v1/reports/{report_id}/attachments/{photo}")))
        .bearer_auth(&w.shopper_token)
        .insert_header(("content-type", "image/jpeg"))
        .send_body(crate::attachments::jpeg_with_gps())
        .await
        .unwrap();
    assert_eq!(
        uploaded.status().as_u16(),
        201,
        "{:?}",
        uploaded.body().await
    );

    // A wave that starts tomorrow, with one open assignment.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let (status, wave) = app
        .post(
            "/api/v1/waves",
            &admin,
            serde_json::json!({"name": "Matrix", "starts_on": tomorrow, "ends_on": tomorrow + chrono::Duration::days(30), "questionnaire_key": "store-visit", "visits_per_location": 1}),
        )
        .await;
    assert_eq!(status, 201, "{wave}");
    let wave_id = wave["id"].as_str().unwrap().to_string();
    let (status, planned) = app
        .post(
            &format!("/api/v1/waves/{wave_id}/assignments"),
            &admin,
            serde_json::json!([{"location_id": w.location_id}]),
        )
        .await;
    assert_eq!(status, 201, "{planned}");
    let assignment_id = planned[0]["id"].as_str().unwrap().to_string();

    // A webhook with one delivery (a ping).
    let (status, created) = app
        .post(
            "/api/v1/webhooks",
            &admin,
            serde_json::json!({"url": "https://hooks.example.com/matrix"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let webhook_id = created["webhook"]["id"].as_str().unwrap().to_string();
    let (status, pinged) = app
        .post_empty(&format!("/api/v1/webhooks/{webhook_id}/ping"), &admin)
        .await;
    assert_eq!(status, 202, "{pinged}");
    let delivery_id = pinged["id"].as_str().unwrap().to_string();

    // An action plan opened by hand.
    let (status, opened) = app
        .post(
            &format!("/api/v1/locations/{}/action-plans", w.location_id),
            &admin,
            serde_json::json!({"summary": "Matrix"}),
        )
        .await;
    assert_eq!(status, 201, "{opened}");
    let plan_id = opened["id"].as_str().unwrap().to_string();

    let concrete = |template: &str| -> String {
        let id = if template.starts_with("/api/v1/waves/") {
            wave_id.clone()
        } else if template.starts_with("/api/v1/action-plans/") {
            plan_id.clone()
        } else if template.starts_with("/api/v1/waves/") {
            wave_id.clone()
        } else if template.starts_with("/api/v1/webhooks/") {
            webhook_id.clone()
        } else if template.starts_with("/api/v1/assignments/") {
            assignment_id.clone()
        } else if template.starts_with("/api/v1/users/{id}/locations") {
            manager_id.clone()
        } else if template.starts_with("/api/v1/users/") {
            victim.id.clone()
        } else if template.starts_with("/api/v1/integration-clients/") {
            victim_client.clone()
        } else if template.starts_with("/api/v1/locations/") {
            w.location_id.clone()
        } else if template.starts_with("/api/v1/questionnaires/") {
            draft.clone()
        } else if template.starts_with("/api/v1/attachments/") {
            photo.clone()
        } else {
            report_id.clone()
        };
        template
            .replace("{id}", &id)
            .replace("{key}", "matrix-draft")
            .replace("{report_id}", &report_id)
            .replace("{attachment_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{n}", "1")
            .replace("{number}", "1")
            .replace("{delivery_id}", &delivery_id)
            .replace("{language}", "de")
    };

    let mut cells = 0;
    let mut wrong = Vec::new();
    for (op, operation) in &documented {
        let access = TABLE.iter().find(|(o, _)| o == op).unwrap().1;
        let (method, template) = op.split_once(' ').unwrap();
        let path = concrete(template);
        let has_id = template.contains('{');
        let body = example_body(&doc, operation);
        for (caller, token) in &tokens {
            let expect = expected(access, caller, &all_scopes, has_id);
            let status = call(app, method, &path, token.as_deref(), body.as_ref()).await;
            cells += 1;
            if !expect.accepts(status) {
                wrong.push(format!(
                    "{op} as {}: {status}, expected {expect:?}",
                    caller.name()
                ));
            }
        }
    }
    println!(
        "access matrix: {} operations x {} callers = {cells} cells",
        documented.len(),
        tokens.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells differ from the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The data the writes acted on is still there for its owners.
    let (status, _) = app
        .get(&format!("/api/v1/reports/{report_id}"), &w.shopper_token)
        .await;
    assert_eq!(status, 200);
}

#[test]
fn every_admin_change_is_audited_or_said_not_to_be() {
    let named: Vec<&str> = crate::audit::AUDITED
        .iter()
        .chain(crate::audit::NOT_AUDITED)
        .map(|(op, _)| *op)
        .collect();
    let admin_changes: Vec<&str> = TABLE
        .iter()
        .filter(|(op, access)| {
            !op.starts_with("GET ")
                && matches!(access, Restricted(roles, Never) if *roles == [Admin])
        })
        .map(|(op, _)| *op)
        .collect();
    let missing: Vec<&&str> = admin_changes
        .iter()
        .filter(|op| !named.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "admin operations neither in audit::AUDITED nor in audit::NOT_AUDITED: {missing:?}"
    );
    let stray: Vec<&&str> = named
        .iter()
        .filter(|op| !admin_changes.contains(op))
        .collect();
    assert!(
        stray.is_empty(),
        "named in the audit lists but not an admin change of the table: {stray:?}"
    );
}
