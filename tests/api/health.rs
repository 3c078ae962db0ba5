use crate::helpers::{count_rows, expect_problem, json_body, spawn_app};

#[actix_web::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let mut response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = json_body(&mut response).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[actix_web::test]
async fn readyz_reports_the_backend_once_migrations_are_applied() {
    let app = spawn_app().await;
    let mut response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = json_body(&mut response).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], app.db.backend().name());
}

#[actix_web::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);

    app.db.destroy();

    let mut response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body = expect_problem(&mut response, 503, "database_unavailable").await;
    assert!(response.headers().contains_key("retry-after"));
    // Nothing about the database's location or driver leaks to the client.
    let text = body.to_string();
    assert!(
        !text.contains("secondmile_test_") && !text.contains(".db"),
        "{text}"
    );

    // Liveness is unaffected: the process is still alive.
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[actix_web::test]
async fn readyz_answers_503_when_a_migration_is_not_applied() {
    let app = spawn_app().await;
    let mut conn = app.db.connect();
    assert!(count_rows(&mut conn, "__diesel_schema_migrations") > 0);
    diesel::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM __diesel_schema_migrations"),
        &mut conn,
    )
    .unwrap();

    let mut response = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body = expect_problem(&mut response, 503, "migrations_pending").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("secondmile migrate")
    );
}

/// Made-up HTTP methods (no token needed) must not each become a series: the method label
/// comes from a closed set, so `/metrics` stays small whatever clients send.
#[actix_web::test]
async fn made_up_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    let plain = awc::Client::default();
    for i in 0..200 {
        let method = actix_web::http::Method::from_bytes(format!("X{i}FOO").as_bytes()).unwrap();
        let path = if i % 2 == 0 {
            "/healthz"
        } else {
            "/api/v1/reports"
        };
        let response = plain.request(method, app.url(path)).send().await.unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let mut response = plain.get(app.url("/metrics")).send().await.unwrap();
    let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(!text.contains("FOO"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
    let series = text
        .lines()
        .filter(|l| l.starts_with("secondmile_http_requests_total{"))
        .count();
    assert!(series <= 4, "{series} series: {text}");
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    for _ in 0..2 {
        app.client.get(app.url("/healthz")).send().await.unwrap();
    }
    app.client
        .get(app.url("/no/such/page/1234"))
        .send()
        .await
        .unwrap();

    let mut response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains(
            r#"secondmile_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ),
        "{text}"
    );
    // Unknown paths share one label instead of one series each.
    assert!(
        text.contains(
            r#"secondmile_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("/no/such/page"), "{text}");
    assert!(text.contains(r#"secondmile_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.005"}"#), "{text}");
    assert!(
        text.contains("secondmile_db_pool_max_connections 4"),
        "{text}"
    );
    assert!(
        text.contains(r#"secondmile_db_pool_connections{state="idle"}"#),
        "{text}"
    );
}

#[actix_web::test]
async fn connections_the_database_ended_are_replaced_without_a_restart() {
    let w = crate::helpers::world().await;
    let app = &w.app;
    if !matches!(app.db, crate::helpers::TestDb::Postgres { .. }) {
        return; // a SQLite connection cannot be ended from outside
    }
    for _ in 0..8 {
        let (status, body) = app.get("/api/v1/locations", &w.admin_token).await;
        assert_eq!(status, 200, "{body}");
    }
    // The server ends every session of the application (a restart or an administrator would).
    diesel::connection::SimpleConnection::batch_execute(
        &mut app.db.connect(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .expect("end the sessions");
    // Connections are not tested before each use: each ended one fails at most one request,
    // is dropped, and a new one takes its place.
    let mut failed = 0;
    for _ in 0..12 {
        let (status, _) = app.get("/api/v1/locations", &w.admin_token).await;
        if status != 200 {
            assert!(status >= 500, "{status}");
            failed += 1;
        }
    }
    assert!(
        failed <= 4,
        "{failed} requests failed; the pool holds at most 4"
    );
    for _ in 0..10 {
        let (status, body) = app.get("/api/v1/locations", &w.admin_token).await;
        assert_eq!(status, 200, "{body}");
    }
}
