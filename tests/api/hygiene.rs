//! HTTP hygiene: limits on headers and query strings, `HEAD` on every `GET` route, a problem
//! document for every error (the docs' file server included), security headers and CORS.

use serde_json::{Value, json};

use crate::helpers::{TestApp, json_body, spawn_app, spawn_app_with};

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A concrete path for a template: ids that name nothing (404 where they are looked up).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{key}" => "store-visit".to_string(),
            "{n}" => "1".to_string(),
            s if s.starts_with('{') => uuid::Uuid::now_v7().to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
) -> (u16, Option<String>, Vec<u8>) {
    let method = actix_http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.body().limit(1 << 24).await.unwrap().to_vec();
    (response.status().as_u16(), content_type, body)
}

#[actix_web::test]
async fn head_answers_like_get_without_the_body_on_every_get_route() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let doc = document();
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let path = concrete(template);
        let (get_status, get_type, get_body) = raw(&app, "GET", &path, &token).await;
        let (head_status, head_type, head_body) = raw(&app, "HEAD", &path, &token).await;
        assert_eq!(head_status, get_status, "HEAD {path}");
        assert_eq!(head_type, get_type, "HEAD {path}");
        assert!(head_body.is_empty(), "HEAD {path} sent a body");
        if get_status == 200 {
            assert!(!get_body.is_empty(), "GET {path}");
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} GET routes");
    // Without a token too, and the 405 of a GET-only path lists HEAD.
    let mut response = app.client.head(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.body().await.unwrap().is_empty());
    let mut response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers().get("allow").unwrap(), "GET, HEAD");
    let body = json_body(&mut response).await;
    assert_eq!(body["code"], "method_not_allowed");
}

#[actix_web::test]
async fn oversized_headers_and_queries_and_unknown_docs_answer_problem_json() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;

    let mut request = app.client.get(app.url("/api/v1/me")).bearer_auth(&token);
    for i in 0..70 {
        request = request.insert_header((format!("x-filler-{i}"), "v"));
    }
    let mut response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 431);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    assert_eq!(json_body(&mut response).await["code"], "headers_too_large");

    let big = "v".repeat(40 * 1024);
    let mut response = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .insert_header(("x-filler", big.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 431);
    assert_eq!(json_body(&mut response).await["code"], "headers_too_large");

    let q = "a".repeat(9 * 1024);
    let (status, body) = app.get(&format!("/api/v1/locations?q={q}"), &token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query")),
        "{body}"
    );
    assert_eq!(body["errors"][0]["pointer"], "/query");
    // A method the path does not take is that, whatever its query.
    let response = app
        .client
        .request(
            actix_web::http::Method::TRACE,
            app.url(&format!("/api/v1/locations?q={q}")),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    // Just under the limit is an ordinary request.
    let q = "a".repeat(8 * 1024 - 2);
    assert_eq!(
        app.get(&format!("/api/v1/locations?q={q}"), &token).await.0,
        200
    );

    for path in ["/docs/no-such-file.js", "/docs/a/b/c"] {
        let mut response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/problem+json",
            "{path}"
        );
        assert_eq!(json_body(&mut response).await["code"], "not_found");
    }
}

#[actix_web::test]
async fn answers_carry_security_headers_and_authenticated_ones_are_not_stored() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    for (path, authenticated) in [
        ("/healthz", false),
        ("/api/v1/me", true),
        ("/api/v1/nope", true),
    ] {
        let mut request = app.client.get(app.url(path));
        if authenticated {
            request = request.bearer_auth(&token);
        }
        let response = request.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert!(
            header("content-security-policy")
                .unwrap()
                .starts_with("default-src 'none'"),
            "{path}"
        );
        if authenticated {
            assert_eq!(
                header("cache-control").as_deref(),
                Some("no-store"),
                "{path}"
            );
        }
    }
    let response = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[actix_web::test]
async fn cors_answers_only_the_listed_origins() {
    let listed = "https://hq.example.com";
    for (vars, allowed) in [
        (vec![], false),
        (vec![("SECONDMILE_CORS_ORIGINS", listed)], true),
    ] {
        let app = spawn_app_with(&vars, |_| {}).await;
        // A preflight from the listed origin, then the request itself.
        let response = app
            .client
            .request(actix_http::Method::OPTIONS, app.url("/api/v1/reports"))
            .insert_header(("origin", listed))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header((
                "access-control-request-headers",
                "authorization, content-type",
            ))
            .send()
            .await
            .unwrap();
        let allow_origin = response
            .headers()
            .get("access-control-allow-origin")
            .cloned();
        if allowed {
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(allow_origin.unwrap(), listed);
            let methods = response
                .headers()
                .get("access-control-allow-methods")
                .unwrap();
            assert!(methods.to_str().unwrap().contains("POST"), "{methods:?}");
        } else {
            // No CORS layer at all: OPTIONS is a method the path does not have.
            assert_eq!(response.status().as_u16(), 405);
            assert!(allow_origin.is_none(), "no origin is listed by default");
        }
        for (origin, expected) in [(listed, allowed), ("https://evil.example.com", false)] {
            let response = app
                .client
                .get(app.url("/healthz"))
                .insert_header(("origin", origin))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200, "{origin}");
            let header = response.headers().get("access-control-allow-origin");
            assert_eq!(header.is_some(), expected, "{origin}: {header:?}");
        }
    }
}

#[actix_web::test]
async fn integer_valued_floats_are_integers_and_other_floats_are_told_so() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let questionnaire = |pass: Value, key: &str| {
        json!({
            "key": key, "title": "Float check", "first_mile_pass": pass,
            "sections": [{"key": "s", "title": "S", "questions": [
                {"key": "q", "text": "Q?", "type": "yes_no", "tier": "first"}
            ]}]
        })
    };
    let (status, body) = app
        .post(
            "/api/v1/questionnaires",
            &token,
            questionnaire(json!(75.0), "floats-a"),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["first_mile_pass"], 75);
    let (status, body) = app
        .post(
            "/api/v1/questionnaires",
            &token,
            questionnaire(json!(75.5), "floats-b"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["pointer"], "/first_mile_pass", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("expected an integer from 0 to 255"),
        "{message}"
    );
}
