//! A rollups rebuild asked for by an upgrade runs beside the server: aggregate reads answer
//! 503 `rollups_rebuilding` with `Retry-After` until it is done, everything else serves, a
//! rebuild left by a vanished instance is taken over, and a rebuild racing releases leaves
//! rollups equal to a recomputation.

use diesel::connection::SimpleConnection;
use secondmile::aggregates::maintenance::{self, Progress};
use secondmile::config::DatabaseConfig;
use secondmile::db::{DatabaseUrl, Db};
use serde_json::{Value, json};

use crate::helpers::{TestDb, World, client, expect_problem, report, start_server, submit, world};

fn handle(test_db: &TestDb) -> Db {
    let config = DatabaseConfig {
        url: DatabaseUrl::parse(&test_db.url()).unwrap(),
        pool_size: 2,
        connection_timeout: std::time::Duration::from_secs(5),
    };
    secondmile::startup::connect_and_migrate(&config).unwrap().0
}

/// Leaves the marker of a rebuild held by another instance, last heard of at `touched`.
fn held_elsewhere(w: &World, touched: &str) {
    w.app
        .db
        .connect()
        .batch_execute(&format!(
            "INSERT INTO settings (key, value, created_at, updated_at) \
             VALUES ('rollups_rebuild', 'running', '{touched}', '{touched}')"
        ))
        .expect("the marker is stored");
}

/// `GET` on a server by its address.
async fn get(
    address: &str,
    path: &str,
    token: &str,
) -> awc::ClientResponse<
    impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>,
> {
    client()
        .get(format!("{address}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn approved_one(w: &World) {
    crate::aggregates::approved(w, &report(w)).await;
}

/// Polls the overview until it answers 200 (each earlier answer must be the documented 503).
async fn overview_when_built(address: &str, token: &str) -> Value {
    for _ in 0..200 {
        let mut response = get(address, "/api/v1/aggregates/overview", token).await;
        if response.status().as_u16() == 200 {
            return crate::helpers::json_body(&mut response).await;
        }
        expect_problem(&mut response, 503, "rollups_rebuilding").await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the rollups were never rebuilt");
}

#[actix_web::test]
async fn while_another_instance_rebuilds_aggregates_answer_503_and_the_rest_serves() {
    let w = world().await;
    approved_one(&w).await;
    let now = chrono::Utc::now().naive_utc().format("%Y-%m-%d %H:%M:%S");
    held_elsewhere(&w, &now.to_string());
    let app = start_server(&w.app.db, &[], |_| {});

    let response = get(&app, "/readyz", "").await;
    assert_eq!(response.status().as_u16(), 200, "readiness never waits");
    for path in [
        "/api/v1/aggregates/overview".to_string(),
        "/api/v1/aggregates/locations".to_string(),
        "/api/v1/aggregates/regions".to_string(),
        "/api/v1/aggregates/questions".to_string(),
        format!("/api/v1/locations/{}/summary", w.location_id),
        format!("/api/v1/locations/{}/trend", w.location_id),
    ] {
        let mut response = get(&app, &path, &w.admin_token).await;
        expect_problem(&mut response, 503, "rollups_rebuilding").await;
        assert_eq!(
            response.headers().get("retry-after").unwrap(),
            "5",
            "{path}"
        );
    }
    // Authorization comes first: a shopper is still refused.
    let response = get(&app, "/api/v1/aggregates/overview", &w.shopper_token).await;
    assert_eq!(response.status().as_u16(), 403);
    let response = get(&app, "/api/v1/reports", &w.admin_token).await;
    assert_eq!(response.status().as_u16(), 200);

    // The other instance finishes: this one notices and answers again.
    w.app
        .db
        .connect()
        .batch_execute("DELETE FROM settings WHERE key = 'rollups_rebuild'")
        .unwrap();
    let overview = overview_when_built(&app, &w.admin_token).await;
    assert_eq!(overview["figures"]["visits"], 1, "{overview}");
}

#[actix_web::test]
async fn a_rebuild_left_by_a_vanished_instance_is_taken_over() {
    let w = world().await;
    approved_one(&w).await;
    approved_one(&w).await;
    // Rollups gone wrong, and a rebuild whose holder went silent ten minutes ago.
    w.app
        .db
        .connect()
        .batch_execute("UPDATE rollups SET visits = visits + 40")
        .unwrap();
    let stale = (chrono::Utc::now() - chrono::Duration::minutes(10))
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S");
    held_elsewhere(&w, &stale.to_string());
    let app = start_server(&w.app.db, &[], |_| {});
    let overview = overview_when_built(&app, &w.admin_token).await;
    assert_eq!(overview["figures"]["visits"], 2, "{overview}");
    let db = handle(&w.app.db);
    assert!(
        maintenance::verify(&db, &mut Progress::Silent)
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn a_rebuild_racing_24_releases_leaves_rollups_equal_to_a_recomputation() {
    let w = world().await;
    let mut ids = Vec::new();
    for _ in 0..24 {
        let (status, created) = submit(&w, &report(&w)).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let db = handle(&w.app.db);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rebuilding = {
        let (db, done) = (db.clone(), done.clone());
        std::thread::spawn(move || {
            let mut rounds = 0;
            while !done.load(std::sync::atomic::Ordering::Acquire) || rounds == 0 {
                maintenance::rebuild(&db, &mut Progress::Silent).expect("a rebuild");
                rounds += 1;
            }
            rounds
        })
    };
    let approvals = ids.iter().map(|id| {
        let app = &w.app;
        let token = &w.admin_token;
        async move {
            app.post(
                &format!("/api/v1/reports/{id}/review"),
                token,
                json!({"action": "approve"}),
            )
            .await
        }
    });
    for (status, body) in futures_util::future::join_all(approvals).await {
        assert_eq!(status, 200, "{body}");
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let rounds = rebuilding.join().unwrap();
    assert!(rounds >= 1);
    let differences = maintenance::verify(&db, &mut Progress::Silent).unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    let overview = w
        .app
        .get_ok("/api/v1/aggregates/overview", &w.admin_token)
        .await;
    assert_eq!(overview["figures"]["visits"], 24, "{overview}");
}
