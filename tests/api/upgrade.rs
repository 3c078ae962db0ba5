//! Stored data outlives code: documents and whole databases written by earlier versions
//! still load, score and serve as they did. The fixtures in `tests/fixtures/stored-v1/`
//! were written by version 0.1's own API and are never regenerated.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel_migrations::MigrationHarness;
use secondmile::db::{DbConn, migrations, stored};
use secondmile::reports::scoring;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, client, count_rows, start_server};

const QUESTIONNAIRE: &str = include_str!("../fixtures/stored-v1/questionnaire.json");
const REPORTS: [&str; 2] = [
    include_str!("../fixtures/stored-v1/report-second-mile.json"),
    include_str!("../fixtures/stored-v1/report-zero-mile.json"),
];
const DATABASE: &str = include_str!("../fixtures/stored-v1/database.sql");
/// Every user of the fixture database signs in with it.
const PASSWORD: &str = "manager passphrase 248c4489fd6d4bc7b03f9f403a289004";
/// The migrations of version 0.1, which wrote the fixture database.
const FIRST_SCHEMA_MIGRATIONS: usize = 5;
const TABLES: [&str; 10] = [
    "organizations",
    "users",
    "integration_clients",
    "refresh_tokens",
    "locations",
    "manager_locations",
    "questionnaires",
    "reports",
    "report_revisions",
    "report_transitions",
];

#[test]
fn stored_documents_of_format_one_load_and_score_exactly_as_they_did() {
    let content = stored::questionnaire_from_json(QUESTIONNAIRE).expect("questionnaire loads");
    assert_eq!(content.sections.len(), 5);
    let mut levels = Vec::new();
    for raw in REPORTS {
        let doc = stored::report_from_json(raw).expect("report loads");
        let rescored = scoring::score(&content, &doc.submission.answers);
        assert_eq!(rescored, doc.score, "the same answers score the same");
        levels.push(doc.score.mile_level);
        // Writing it again in today's format and reading it back changes nothing.
        let again = stored::report_from_json(&stored::report_to_json(&doc)).unwrap();
        assert_eq!(again, doc);
    }
    assert_eq!(
        levels,
        [scoring::MileLevel::Second, scoring::MileLevel::Zero]
    );
    let zero = stored::report_from_json(REPORTS[1]).unwrap();
    assert_eq!(zero.score.critical_failures, ["on_phone"]);
}

#[test]
fn a_document_from_before_plausibility_stays_unassessed_and_unknown_reasons_are_dropped() {
    let old = stored::report_from_json(REPORTS[0]).unwrap();
    assert_eq!(
        old.plausibility, None,
        "nothing is made up for an old report"
    );
    let again = stored::report_from_json(&stored::report_to_json(&old)).unwrap();
    assert_eq!(again.plausibility, None);
    // A later version's reason this one does not know is left out; the score stays.
    let mut raw: Value = serde_json::from_str(REPORTS[0]).unwrap();
    raw["plausibility"] = json!({"score": 45, "reasons": [
        {"code": "check_in_distance", "penalty": 25, "message": "far"},
        {"code": "from_the_future", "penalty": 30, "message": "?"},
    ]});
    let doc = stored::report_from_json(&raw.to_string()).unwrap();
    let p = doc.plausibility.unwrap();
    assert_eq!(p.score, 45);
    assert_eq!(p.reasons.len(), 1);
    assert_eq!(p.reasons[0].code.as_str(), "check_in_distance");
}

#[test]
fn a_document_from_before_attachments_expects_the_files_its_answers_name() {
    // Format 1 had no `attachments` and no `receipt`: a photo answer whose value is an id is
    // the file the report expects; other references expect nothing.
    let mut raw: Value = serde_json::from_str(REPORTS[0]).unwrap();
    assert!(raw.get("attachments").is_none());
    let photo = uuid::Uuid::new_v4();
    raw["submission"]["answers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"question": "storefront_photo", "value": photo.to_string()}));
    let doc = stored::report_from_json(&raw.to_string()).expect("report loads");
    assert_eq!(doc.attachments.len(), 1);
    assert_eq!(doc.attachments[0].id.0, photo);
    assert_eq!(
        doc.attachments[0].question.as_deref(),
        Some("storefront_photo")
    );
    assert!(!doc.attachments[0].shows_staff);
    assert_eq!(doc.submission.receipt, None);
    let untouched = stored::report_from_json(REPORTS[0]).unwrap();
    assert!(untouched.attachments.is_empty());
    // Written again, the list is kept as it was derived.
    let again = stored::report_from_json(&stored::report_to_json(&doc)).unwrap();
    assert_eq!(again, doc);
}

/// Applies version 0.1's migrations only, then its data.
fn first_schema_database(db: &TestDb) -> DbConn {
    let mut conn = db.connect();
    apply_next_migrations(&mut conn, FIRST_SCHEMA_MIGRATIONS);
    if let DbConn::Sqlite(_) = conn {
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
    }
    conn.batch_execute(DATABASE).expect("the 0.1 data loads");
    conn
}

fn apply_next_migrations(conn: &mut DbConn, n: usize) {
    for _ in 0..n {
        match conn {
            DbConn::Pg(pg) => {
                pg.run_next_migration(migrations::POSTGRES).unwrap();
            }
            DbConn::Sqlite(sqlite) => {
                sqlite.run_next_migration(migrations::SQLITE).unwrap();
            }
        }
    }
}

fn row_counts(conn: &mut DbConn) -> BTreeMap<&'static str, i64> {
    TABLES.iter().map(|t| (*t, count_rows(conn, t))).collect()
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let (status, body) = app
        .token_request(json!({"grant_type": "password", "username": email, "password": PASSWORD}))
        .await;
    assert_eq!(status, 200, "{email}: {body}");
    body["access_token"].as_str().unwrap().to_string()
}

fn fixture_email(role: &str) -> String {
    let at = DATABASE
        .find(&format!("'{role}-"))
        .expect("the fixture has this role");
    let rest = &DATABASE[at + 1..];
    rest[..rest.find('\'').unwrap()].to_string()
}

#[actix_web::test]
async fn a_database_written_by_the_first_schema_upgrades_without_losing_a_row() {
    let db = TestDb::create();
    let mut conn = first_schema_database(&db);
    let before = row_counts(&mut conn);
    assert_eq!(before["reports"], 2);

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile migrate");
    assert!(output.status.success(), "{output:?}");
    let mut conn = db.connect();
    assert_eq!(row_counts(&mut conn), before, "no row lost or added");
    assert_eq!(count_rows(&mut conn, "user_emails"), before["users"]);
    assert!(migrations::pending(&mut conn).unwrap().is_empty());
    // The released report of 0.1 is in the rollups built by the upgrade.
    let rollups = secondmile::db::aggregates::read_all(&mut conn).unwrap();
    assert_eq!(rollups.len(), 3, "its day, its week and its month");
    assert!(
        rollups
            .values()
            .all(|r| r.tally.visits == 1 && r.tally.second_mile == 1)
    );

    let address = start_server(&db, &[], |_| {});
    let app = TestApp {
        address,
        db,
        client: client(),
    };
    let admin = sign_in(&app, &fixture_email("admin")).await;
    let (status, page) = app.get("/api/v1/reports", &admin).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let stored_scores: Vec<Value> = REPORTS
        .iter()
        .map(|raw| serde_json::from_str::<Value>(raw).unwrap()["score"].clone())
        .collect();
    assert_eq!(items[0]["status"], "approved");
    assert_eq!(items[0]["score"], stored_scores[0], "served as stored");
    assert_eq!(items[0]["score"]["mile_level"], "second");
    assert_eq!(items[1]["status"], "submitted");
    assert_eq!(items[1]["revision"], 2);

    // The revised report keeps its first revision and its whole history.
    let revised = items[1]["id"].as_str().unwrap();
    let (status, first) = app
        .get(&format!("/api/v1/reports/{revised}/revisions/1"), &admin)
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["score"], stored_scores[1]);
    let (status, history) = app
        .get(&format!("/api/v1/reports/{revised}/history"), &admin)
        .await;
    assert_eq!(status, 200, "{history}");
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submit", "return", "revise"]);

    // The manager still sees the released report of their location, and only that one.
    let manager = sign_in(&app, &fixture_email("manager")).await;
    let (status, page) = app.get("/api/v1/reports", &manager).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["items"][0].get("shopper_id").is_none());

    // The sign-in lookup came over: an existing email is still taken, a new one works.
    let shopper_email = fixture_email("shopper");
    let (status, body) = app.post("/api/v1/users", &admin, json!({"email": shopper_email, "display_name": "Again", "role": "shopper", "password": PASSWORD}))
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "email_taken");
    let (status, body) = app.post("/api/v1/users", &admin, json!({"email": "new-reviewer@example.test", "display_name": "New", "role": "reviewer", "password": PASSWORD}))
    .await;
    assert_eq!(status, 201, "{body}");
    sign_in(&app, "new-reviewer@example.test").await;
    sign_in(&app, &shopper_email).await;
}

/// The rollups of the schema before 2026-11-25-000008 (day and month rows, one row per
/// histogram bucket) of the fixture's released report, as that version wrote them.
const TWO_GRAIN_ROLLUPS: &str = "
    INSERT INTO rollups
        SELECT org_id, location_id, questionnaire_key, visit_local_date, 1, 1, overall_score,
            overall_score * overall_score, overall_score, overall_score, 0, 0, 1, 0
        FROM reports WHERE status = 'approved';
    INSERT INTO rollups
        SELECT org_id, location_id, questionnaire_key, substr(visit_local_date, 1, 7), 1, 1,
            overall_score, overall_score * overall_score, overall_score, overall_score, 0, 0, 1, 0
        FROM reports WHERE status = 'approved';
    INSERT INTO rollup_buckets
        SELECT org_id, location_id, questionnaire_key, period, 19, 1 FROM rollups;";

#[actix_web::test]
async fn two_grain_rollups_are_rebuilt_at_three_grains_by_the_upgrade() {
    let db = TestDb::create();
    let mut conn = first_schema_database(&db);
    // Up to the two-grain rollups (2026-11-24-000007), holding the released report.
    apply_next_migrations(&mut conn, 2);
    conn.batch_execute(TWO_GRAIN_ROLLUPS)
        .expect("the two-grain rollups load");
    let score: f64 = serde_json::from_str::<Value>(REPORTS[0]).unwrap()["score"]["overall"]
        .as_f64()
        .unwrap();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile migrate");
    assert!(output.status.success(), "{output:?}");
    let mut conn = db.connect();
    let rollups = secondmile::db::aggregates::read_all(&mut conn).unwrap();
    let periods: Vec<usize> = rollups.keys().map(|k| k.period.len()).collect();
    assert_eq!(periods.len(), 3, "{rollups:?}");
    assert!(periods.contains(&7) && periods.contains(&8) && periods.contains(&10));
    for r in rollups.values() {
        assert_eq!((r.tally.visits, r.tally.second_mile), (1, 1));
        assert_eq!(
            (r.tally.score_min, r.tally.score_max),
            (Some(score), Some(score))
        );
        assert_eq!(r.tally.histogram.iter().sum::<u64>(), 1);
        assert!(!r.questions.is_empty(), "the questions are rolled up too");
    }
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["rollups", "verify"])
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile rollups verify");
    assert!(verify.status.success(), "{verify:?}");
}

#[actix_web::test]
async fn a_server_started_on_an_old_database_serves_first_and_builds_the_rollups_beside() {
    let db = TestDb::create();
    drop(first_schema_database(&db));
    let address = start_server(&db, &[], |_| {});
    let app = TestApp {
        address,
        db,
        client: client(),
    };
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let admin = sign_in(&app, &fixture_email("admin")).await;
    let mut built = None;
    for _ in 0..200 {
        let (status, body) = app.get("/api/v1/aggregates/overview", &admin).await;
        if status == 200 {
            built = Some(body);
            break;
        }
        assert_eq!(
            (status, body["code"].as_str()),
            (503, Some("rollups_rebuilding"))
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut conn = app.db.connect();
    let rollups = secondmile::db::aggregates::read_all(&mut conn).unwrap();
    assert_eq!(
        rollups.len(),
        3,
        "its day, its week and its month: {built:?}"
    );
    assert!(
        secondmile::db::settings::get(&mut conn, "rollups_rebuild")
            .unwrap()
            .is_none(),
        "the marker is gone"
    );
    assert!(built.is_some());
}

/// The verdict changes recorded as events before `verdict_changes` existed are kept: the
/// migration copies them, with the visit date of the report that made each one.
#[actix_web::test]
async fn verdict_changes_recorded_as_events_are_kept_by_the_upgrade() {
    let db = TestDb::create();
    let mut conn = first_schema_database(&db);
    // Up to the event sequencer and the rollups index (2026-12-06-000016).
    let embedded = migrations::embedded_versions(&conn).unwrap();
    let before_verdicts = embedded
        .iter()
        .filter(|v| v.as_str() < "20261207000017")
        .count();
    apply_next_migrations(&mut conn, before_verdicts - FIRST_SCHEMA_MIGRATIONS);
    let (org, report, location) = (
        "01a20985-945c-71f5-b2c7-7aedc8003190",
        "b8f638bd-0126-4dd7-88c1-ea728b0b414a",
        "01a20985-94a3-75c1-9358-f38804fc0593",
    );
    let data = json!({
        "location_id": location, "report_id": report, "from": "2026-09-01", "to": "2026-11-29",
        "previous_verdict": "insufficient_data", "verdict": "first", "visits": 5, "mean_score": 80.5,
    });
    conn.batch_execute(&format!(
        "INSERT INTO events (org_id, seq, id, event_type, subject_type, subject_id, occurred_at, data)
         VALUES ('{org}', 1, '0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b', 'location.verdict_changed',
                 'location', '{location}', '2026-11-29 10:00:00', '{data}');"
    ))
    .expect("the event is stored");
    apply_next_migrations(&mut conn, 1);
    let org_id: secondmile::ids::OrgId = org.parse().unwrap();
    let from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let to = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let shifts = secondmile::db::verdicts::between(&mut conn, org_id, None, from, to).unwrap();
    assert_eq!(shifts.len(), 1, "{shifts:?}");
    let shift = &shifts[0];
    assert_eq!(shift.report_id.to_string(), report);
    assert_eq!(shift.location_id.to_string(), location);
    assert_eq!(
        (shift.from.as_str(), shift.to.as_str()),
        ("insufficient_data", "first")
    );
    assert_eq!(
        shift.visit_date.to_string(),
        "2026-11-23",
        "the report's visit date"
    );
}

/// The per-mile question counts (2026-12-07-000018) are filled by the rebuild their
/// migration asks for: the drivers of reports released before the upgrade are right.
#[actix_web::test]
async fn question_rollups_gain_their_mile_counts_on_upgrade() {
    let db = TestDb::create();
    let mut conn = first_schema_database(&db);
    let embedded = migrations::embedded_versions(&conn).unwrap();
    let before_drivers = embedded
        .iter()
        .filter(|v| v.as_str() < "20261207000018")
        .count();
    apply_next_migrations(&mut conn, before_drivers - FIRST_SCHEMA_MIGRATIONS);
    drop(conn);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile migrate");
    assert!(output.status.success(), "{output:?}");
    let mut conn = db.connect();
    let rollups = secondmile::db::aggregates::read_all(&mut conn).unwrap();
    // The fixture's one released report is a second-mile visit that greeted the shopper.
    let second = 1;
    let month = rollups
        .iter()
        .find(|(k, _)| k.period.len() == 7)
        .map(|(_, r)| r)
        .expect("a month row");
    let greeted = month.questions.get("greeted").expect("greeted counted");
    assert_eq!(greeted.second_mile, second, "{greeted:?}");
    assert_eq!(greeted.full_points_second_mile, second, "{greeted:?}");
}
