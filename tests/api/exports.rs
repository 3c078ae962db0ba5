//! CSV exports: quoting and formula neutralisation, filters, the answers layout, who sees
//! what (and personal data only for admins who ask), tenants, and a large export streamed.

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::{World, report, set_answer, submit, world};
use secondmile::db::Backend;

/// A CSV download: status, content type, content disposition and the records (header
/// first); a problem's body is kept in `problem`.
struct Csv {
    status: u16,
    content_type: String,
    disposition: String,
    chunked: bool,
    records: Vec<Vec<String>>,
    problem: Value,
}

async fn csv_get(app: &TestApp, path: &str, token: &str) -> Csv {
    let mut response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let chunked = response.headers().get("content-length").is_none();
    let status = response.status().as_u16();
    let body = response
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .expect("read the body");
    if !content_type.starts_with("text/csv") {
        return Csv {
            status,
            content_type,
            disposition,
            chunked,
            records: Vec::new(),
            problem: serde_json::from_slice(&body).unwrap_or(Value::Null),
        };
    }
    let records = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&body[..])
        .records()
        .map(|r| r.expect("a CSV record").iter().map(String::from).collect())
        .collect();
    Csv {
        status,
        content_type,
        disposition,
        chunked,
        records,
        problem: Value::Null,
    }
}

fn column(csv: &Csv, name: &str) -> usize {
    csv.records[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}: {:?}", csv.records[0]))
}

async fn decide(w: &World, id: &str, action: &str) {
    let note = (action != "approve").then_some("see the export");
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/review"),
            &w.admin_token,
            json!({"action": action, "note": note}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Three reports: approved at the first location, approved at a location whose name is a
/// formula, and one waiting for review. Returns the world, the second location's id and the
/// reports' ids.
async fn three_reports() -> (World, String, [String; 3]) {
    let w = world().await;
    let evil = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-2", "name": "=HYPERLINK(\"http://evil.example\"), \"quoted\"", "region": "Lisbon", "timezone": "Europe/Lisbon"}),
        )
        .await;
    let evil_id = evil.id.to_string();
    let mut ids = Vec::new();
    for (location, approve) in [
        (&w.location_id, true),
        (&evil_id, true),
        (&w.location_id, false),
    ] {
        let mut body = report(&w);
        body["location_id"] = json!(location);
        body.as_object_mut().unwrap().remove("check_in");
        body["staff_observed"] =
            json!([{"description": "Clerk with a red scarf", "role": "cashier"}]);
        set_answer(
            &mut body,
            "courtesy",
            json!({"value": 4, "comment": "+1 for the smile, -1 for the wait"}),
        );
        let (status, stored) = submit(&w, &body).await;
        assert_eq!(status, 201, "{stored}");
        let id = stored["id"].as_str().unwrap().to_string();
        if approve {
            decide(&w, &id, "approve").await;
        }
        ids.push(id);
    }
    let ids: [String; 3] = ids.try_into().unwrap();
    (w, evil_id, ids)
}

#[actix_web::test]
async fn a_report_export_quotes_neutralises_and_filters() {
    let (w, _, ids) = three_reports().await;
    let all = csv_get(&w.app, "/api/v1/exports/reports.csv", &w.admin_token).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.content_type, "text/csv; charset=utf-8");
    assert_eq!(all.disposition, "attachment; filename=\"reports.csv\"");
    assert_eq!(all.records.len(), 4, "a header and three reports");
    let (id, name, status) = (
        column(&all, "report_id"),
        column(&all, "location_name"),
        column(&all, "status"),
    );
    let evil_row = all.records.iter().find(|r| r[id] == ids[1]).unwrap();
    // Commas and quotes survive the round trip; the formula is text.
    assert_eq!(
        evil_row[name],
        "'=HYPERLINK(\"http://evil.example\"), \"quoted\""
    );
    assert_eq!(evil_row[column(&all, "mile_level")], "first");
    assert_eq!(evil_row[column(&all, "questionnaire_version")], "1");
    assert!(
        !all.records[0].contains(&"shopper_id".to_string()),
        "no personal data unless asked"
    );

    // Filters are those of GET /reports.
    let approved = csv_get(
        &w.app,
        "/api/v1/exports/reports.csv?status=approved",
        &w.admin_token,
    )
    .await;
    assert_eq!(approved.records.len(), 3);
    assert!(
        approved.records[1..]
            .iter()
            .all(|r| r[status] == "approved")
    );
    let here = csv_get(
        &w.app,
        &format!("/api/v1/exports/reports.csv?location_id={}", w.location_id),
        &w.admin_token,
    )
    .await;
    assert_eq!(here.records.len(), 3);
    // A questionnaire key adds its sections' scores.
    let sections = csv_get(
        &w.app,
        "/api/v1/exports/reports.csv?questionnaire_key=store-visit",
        &w.admin_token,
    )
    .await;
    let arrival = column(&sections, "section_arrival");
    assert!(
        sections.records[1..]
            .iter()
            .all(|r| r[arrival].parse::<f64>().is_ok())
    );
    assert!(sections.records[0].contains(&"section_second_mile".to_string()));

    // One row per answer: the comment that starts with `+` is neutralised.
    let answers = csv_get(
        &w.app,
        "/api/v1/exports/reports.csv?layout=answers",
        &w.admin_token,
    )
    .await;
    assert_eq!(
        answers.disposition,
        "attachment; filename=\"report-answers.csv\""
    );
    let per_report = report(&w)["answers"].as_array().unwrap().len();
    assert_eq!(answers.records.len(), 1 + 3 * per_report);
    let (question, comment, earned, section) = (
        column(&answers, "question"),
        column(&answers, "comment"),
        column(&answers, "points_earned"),
        column(&answers, "section"),
    );
    let courtesy = answers
        .records
        .iter()
        .find(|r| r[question] == "courtesy")
        .unwrap();
    assert_eq!(courtesy[comment], "'+1 for the smile, -1 for the wait");
    assert_eq!(courtesy[section], "service");
    assert_eq!(courtesy[earned], "1.5", "4 on a 1 to 5 scale of weight 2");

    // Bad filters are listed, not exported.
    let bad = csv_get(
        &w.app,
        "/api/v1/exports/reports.csv?questionnaire_key=Bad%20Key&visit_from=2026-05-02&visit_to=2026-05-01",
        &w.admin_token,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.problem["errors"].as_array().unwrap().len(),
        2,
        "{}",
        bad.problem
    );
    let unknown = csv_get(
        &w.app,
        "/api/v1/exports/reports.csv?layout=pdf",
        &w.admin_token,
    )
    .await;
    assert_eq!(unknown.status, 400);
}

#[actix_web::test]
async fn exports_follow_roles_scopes_and_tenants_and_keep_personal_data_back() {
    let (w, evil_id, ids) = three_reports().await;
    let app = &w.app;
    let path = "/api/v1/exports/reports.csv";
    let personal = "/api/v1/exports/reports.csv?include_personal=true";

    // Admins may ask for the shopper and the staff descriptions.
    let full = csv_get(app, personal, &w.admin_token).await;
    assert_eq!(full.status, 200);
    let (shopper, staff) = (column(&full, "shopper_id"), column(&full, "staff_observed"));
    assert!(full.records[1..].iter().all(|r| r[shopper] == w.shopper_id));
    assert!(
        full.records[1..]
            .iter()
            .all(|r| r[staff] == "Clerk with a red scarf")
    );
    let answers = csv_get(app, &format!("{personal}&layout=answers"), &w.admin_token).await;
    assert!(answers.records[0].contains(&"shopper_id".to_string()));

    // Analysts see every report, never the personal columns.
    let analyst = app.create_user(&w.admin_token, "analyst").await;
    let analyst = app.access_token(&analyst).await;
    let seen = csv_get(app, path, &analyst).await;
    assert_eq!(seen.records.len(), 4);
    let refused = csv_get(app, personal, &analyst).await;
    assert_eq!(refused.status, 403, "{}", refused.problem);
    assert_eq!(refused.problem["code"], "forbidden");

    // Managers: released reports of their locations only.
    let manager = app.create_user(&w.admin_token, "manager").await;
    app.assign_locations(&w.admin_token, &manager.id, &[&evil_id])
        .await;
    let manager = app.access_token(&manager).await;
    let managed = csv_get(app, path, &manager).await;
    assert_eq!(managed.records.len(), 2, "{:?}", managed.records);
    assert_eq!(managed.records[1][0], ids[1]);
    assert_eq!(csv_get(app, personal, &manager).await.status, 403);

    // Shoppers: their own reports.
    assert_eq!(csv_get(app, path, &w.shopper_token).await.records.len(), 4);
    let other = app.create_user(&w.admin_token, "shopper").await;
    let other = app.access_token(&other).await;
    assert_eq!(
        csv_get(app, path, &other).await.records.len(),
        1,
        "a header only"
    );

    // Integration clients need `reports:read`.
    let (id, secret) = app.create_client(&w.admin_token, &["locations:read"]).await;
    let narrow = app.client_token(&id, &secret).await;
    assert_eq!(csv_get(app, path, &narrow).await.status, 403);
    let (id, secret) = app.create_client(&w.admin_token, &["reports:read"]).await;
    let reader = app.client_token(&id, &secret).await;
    let read = csv_get(app, path, &reader).await;
    assert_eq!(read.records.len(), 4);
    assert!(!read.records[0].contains(&"staff_observed".to_string()));
    // ... and the leaderboard `aggregates:read`.
    let board = "/api/v1/aggregates/locations.csv";
    assert_eq!(csv_get(app, board, &reader).await.status, 403);
    let (id, secret) = app
        .create_client(&w.admin_token, &["aggregates:read"])
        .await;
    let analytics = app.client_token(&id, &secret).await;
    assert_eq!(csv_get(app, board, &analytics).await.records.len(), 3);
    assert_eq!(csv_get(app, path, &analytics).await.status, 403);

    // Another organization's admin sees none of them.
    let stranger = app.create_org_with_admin("Elsewhere");
    let stranger = app.access_token(&stranger).await;
    assert_eq!(csv_get(app, path, &stranger).await.records.len(), 1);
    let board = csv_get(app, "/api/v1/aggregates/locations.csv", &stranger).await;
    assert_eq!(board.records.len(), 1, "{:?}", board.records);

    // The leaderboard: every location with figures, same roles as the aggregates.
    let board = csv_get(app, "/api/v1/aggregates/locations.csv", &analyst).await;
    assert_eq!(board.status, 200);
    assert_eq!(
        board.disposition,
        "attachment; filename=\"leaderboard.csv\""
    );
    assert_eq!(board.records.len(), 3, "a header and two locations");
    let (code, visits, verdict) = (
        column(&board, "location_code"),
        column(&board, "visits"),
        column(&board, "verdict"),
    );
    assert!(board.records[1..].iter().all(|r| r[visits] == "1"));
    assert!(
        board.records[1..]
            .iter()
            .all(|r| r[verdict] == "insufficient_data")
    );
    let mine = csv_get(app, "/api/v1/aggregates/locations.csv", &manager).await;
    assert_eq!(mine.records.len(), 2);
    assert_eq!(mine.records[1][code], "S-2");
    assert_eq!(
        csv_get(app, "/api/v1/aggregates/locations.csv", &w.shopper_token)
            .await
            .status,
        403
    );
    let thin = csv_get(
        app,
        "/api/v1/aggregates/locations.csv?min_visits=2",
        &analyst,
    )
    .await;
    assert_eq!(thin.records.len(), 1);
    let bad = csv_get(
        app,
        "/api/v1/aggregates/locations.csv?min_visits=2000000&region=x",
        &analyst,
    )
    .await;
    assert_eq!(bad.status, 400);
}

/// Copies of one released report, made in SQL (each a report of its own).
fn copies(w: &World, n: u32) {
    let numbers =
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})");
    let id = match w.app.db.backend() {
        Backend::Sqlite => "printf('00000000-0000-4000-8000-%012d', i)",
        Backend::Postgres => "'00000000-0000-4000-8000-' || lpad(i::text, 12, '0')",
    };
    w.app
        .db
        .connect()
        .batch_execute(&format!(
            "{numbers}
             INSERT INTO reports (org_id, id, location_id, questionnaire_id, questionnaire_key,
                 shopper_id, status, revision, visit_started_at, visit_local_date, overall_score,
                 mile_level, body_hash, document, created_at, updated_at)
             SELECT org_id, {id}, location_id, questionnaire_id, questionnaire_key, shopper_id,
                 status, revision, visit_started_at, visit_local_date, overall_score, mile_level,
                 body_hash, document, created_at, updated_at
             FROM reports, n"
        ))
        .expect("the copies are inserted");
}

#[actix_web::test]
async fn a_50k_row_export_streams_every_row() {
    let w = world().await;
    let (status, stored) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{stored}");
    decide(&w, stored["id"].as_str().unwrap(), "approve").await;
    let per_report = report(&w)["answers"].as_array().unwrap().len() as u32;
    let reports = 50_000u32.div_ceil(per_report);
    copies(&w, reports - 1);
    let export = csv_get(
        &w.app,
        "/api/v1/exports/reports.csv?layout=answers",
        &w.admin_token,
    )
    .await;
    assert_eq!(export.status, 200);
    assert!(export.chunked, "streamed, not buffered: no Content-Length");
    assert_eq!(export.records.len() as u32, 1 + reports * per_report);
    assert!(export.records.len() > 50_000);
    // Every report once, in order.
    let mut seen: Vec<&str> = export.records[1..].iter().map(|r| r[0].as_str()).collect();
    seen.dedup();
    assert_eq!(seen.len() as u32, reports);
}
