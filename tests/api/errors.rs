//! Every failure has the same problem+json shape. Probe routes mounted beside the real API
//! exercise the shared extractors and error handling over real HTTP.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use secondmile::error::ApiError;
use secondmile::extract::ApiJson;
use serde::Deserialize;

use crate::helpers::{TestApp, expect_problem, json_body, spawn_app, spawn_app_with};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Visit {
    started_at: String,
    answers: Vec<Answer>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Answer {
    key: String,
    value: u32,
}

#[derive(Debug, Deserialize)]
struct Paging {
    limit: u32,
}

async fn echo(body: ApiJson<Visit>) -> HttpResponse {
    let visit = body.into_inner();
    HttpResponse::Ok().json(serde_json::json!({
        "started_at": visit.started_at,
        "answers": visit.answers.iter().map(|a| (a.key.clone(), a.value)).collect::<Vec<_>>(),
    }))
}

async fn item(id: web::Path<uuid::Uuid>, paging: web::Query<Paging>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": id.into_inner(), "limit": paging.limit }))
}

async fn broken() -> Result<HttpResponse, ApiError> {
    let cause = std::io::Error::other("disk full at /var/lib/secret/path");
    Err(ApiError::internal(
        anyhow::Error::new(cause).context("writing the report"),
    ))
}

async fn slow() -> HttpResponse {
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    HttpResponse::Ok().finish()
}

fn probes(cfg: &mut web::ServiceConfig) {
    cfg.route("/probe/echo", web::post().to(echo))
        .route("/probe/items/{id}", web::get().to(item))
        .route("/probe/broken", web::get().to(broken))
        .route("/probe/slow", web::get().to(slow));
}

async fn probe_app() -> TestApp {
    spawn_app_with(&[], probes).await
}

#[actix_web::test]
async fn a_valid_body_reaches_the_handler() {
    let app = probe_app().await;
    let mut response = app
        .client
        .post(app.url("/probe/echo"))
        .send_json(&serde_json::json!({"started_at": "2026-11-20T10:00:00+01:00", "answers": [{"key": "greeting", "value": 1}]}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = json_body(&mut response).await;
    assert_eq!(body["answers"][0][0], "greeting");
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = probe_app().await;
    let mut response = app
        .client
        .post(app.url("/probe/echo"))
        .insert_header(("content-type", "application/json"))
        .send_body(r#"{"started_at": "2026-11-20", "answers": [ "#)
        .await
        .unwrap();
    let body = expect_problem(&mut response, 400, "malformed_json").await;
    assert!(
        body["detail"].as_str().unwrap().contains("line 1"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let app = probe_app().await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app.client.post(app.url("/probe/echo"));
        if let Some(ct) = content_type {
            request = request.insert_header(("content-type", ct));
        }
        let mut response = request
            .send_body(r#"{"started_at":"x","answers":[]}"#)
            .await
            .unwrap();
        expect_problem(&mut response, 415, "unsupported_media_type").await;
    }
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = probe_app().await;
    let big = format!(
        r#"{{"started_at":"{}","answers":[]}}"#,
        "x".repeat(70 * 1024)
    );
    let mut response = app
        .client
        .post(app.url("/probe/echo"))
        .insert_header(("content-type", "application/json"))
        .send_body(big)
        .await
        .unwrap();
    expect_problem(&mut response, 413, "payload_too_large").await;
}

#[actix_web::test]
async fn a_body_of_the_wrong_shape_is_a_422_pointing_at_the_value() {
    let app = probe_app().await;
    let cases = [
        (
            serde_json::json!({"started_at": "x", "answers": [{"key": "a", "value": 1}, {"key": "b", "value": "high"}]}),
            "/answers/1/value",
            "invalid_type",
        ),
        (
            serde_json::json!({"answers": []}),
            "/started_at",
            "required",
        ),
        (
            serde_json::json!({"started_at": "x", "answers": [], "role": "admin"}),
            "/role",
            "unknown_field",
        ),
    ];
    for (body, pointer, code) in cases {
        let mut response = app
            .client
            .post(app.url("/probe/echo"))
            .send_json(&body)
            .await
            .unwrap();
        let problem = expect_problem(&mut response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{problem}");
        assert!(problem["errors"][0]["message"].is_string());
    }
}

#[actix_web::test]
async fn a_malformed_id_is_a_404_and_a_bad_query_a_400() {
    let app = probe_app().await;
    let id = uuid::Uuid::new_v4();
    let response = app
        .client
        .get(app.url(&format!("/probe/items/{id}?limit=5")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let mut response = app
        .client
        .get(app.url("/probe/items/not-a-uuid?limit=5"))
        .send()
        .await
        .unwrap();
    expect_problem(&mut response, 404, "not_found").await;

    let mut response = app
        .client
        .get(app.url(&format!("/probe/items/{id}?limit=lots")))
        .send()
        .await
        .unwrap();
    expect_problem(&mut response, 400, "invalid_query").await;
}

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    for path in ["/nope", "/api/v1/nothing-here", "/api/v2/reports"] {
        let mut response = app.client.get(app.url(path)).send().await.unwrap();
        expect_problem(&mut response, 404, "not_found").await;
    }
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        let mut response = app.client.delete(app.url(path)).send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            Some("GET, HEAD"),
            "{path}"
        );
        expect_problem(&mut response, 405, "method_not_allowed").await;
    }
}

#[actix_web::test]
async fn a_fixed_route_beside_an_id_route_answers_405_for_other_methods() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let mut response = app
        .client
        .patch(app.url("/api/v1/locations/import"))
        .bearer_auth(&token)
        .send_json(&serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(response.headers().get("allow").unwrap(), "POST");
    expect_problem(&mut response, 405, "method_not_allowed").await;
}

#[actix_web::test]
async fn internal_errors_answer_an_opaque_500() {
    let app = probe_app().await;
    let mut response = app
        .client
        .get(app.url("/probe/broken"))
        .send()
        .await
        .unwrap();
    let body = expect_problem(&mut response, 500, "internal_error").await;
    let text = body.to_string();
    assert!(
        !text.contains("disk full") && !text.contains("/var/lib"),
        "{text}"
    );
}

#[actix_web::test]
async fn a_request_over_the_timeout_is_a_503_problem_with_its_request_id() {
    let app = spawn_app_with(&[("SECONDMILE_REQUEST_TIMEOUT_SECS", "1")], probes).await;
    let mut response = app
        .client
        .get(app.url("/probe/slow"))
        .insert_header(("x-request-id", "slow-request-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "slow-request-1"
    );
    expect_problem(&mut response, 503, "request_timeout").await;
}

#[actix_web::test]
async fn the_request_id_is_echoed_or_generated() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("x-request-id", "app-7f3a-retry-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "app-7f3a-retry-2"
    );

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    // A value that could forge log lines is replaced, not echoed.
    let response = app
        .client
        .get(app.url("/nope"))
        .insert_header(("x-request-id", "evil\" injected=1"))
        .send()
        .await
        .unwrap();
    let replaced = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");
}
