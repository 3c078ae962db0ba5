//! `secondmile demo`: the same seed gives the same figures, every report went through the
//! API's own rules (the rollups verify clean), and a database that has an organization is
//! refused unless `--force-new-org`. Run as the binary, on the test backend.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, client, start_server};

const PASSWORD: &str = "demo passphrase for tests";
/// A small demo (about 8 visits per store, 320 reports) keeps the test quick.
const VISITS: &str = "8";

fn secondmile(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile")
}

fn demo(db: &TestDb, seed: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "demo",
        "--seed",
        seed,
        "--password",
        PASSWORD,
        "--visits-per-store",
        VISITS,
    ];
    args.extend_from_slice(extra);
    secondmile(db, &args)
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let (status, body) = app
        .token_request(json!({"grant_type": "password", "username": email, "password": PASSWORD}))
        .await;
    assert_eq!(status, 200, "{email}: {body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// The leaderboard over the demo's whole six months, without ids (which are new each time).
async fn standings(db: TestDb) -> (Vec<Value>, Value) {
    let app = TestApp {
        address: start_server(&db, &[], |_| {}),
        db,
        client: client(),
    };
    let token = sign_in(&app, "analyst@hearth-home.example").await;
    let today = chrono::Utc::now().date_naive();
    let range = format!("from={}&to={}", today - chrono::Duration::days(190), today);
    let (status, page) = app
        .get(
            &format!("/api/v1/aggregates/locations?limit=100&{range}"),
            &token,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    shoppers_answer_in_their_language(&app, &token, &page).await;
    let rows = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| json!([row["location"]["code"], row["rank"], row["figures"]]))
        .collect();
    let (status, overview) = app
        .get(&format!("/api/v1/aggregates/overview?{range}"), &token)
        .await;
    assert_eq!(status, 200, "{overview}");
    (rows, overview)
}

/// The store questionnaire is in five languages and the phone one in two; shoppers in
/// Germany, France, Spain and Japan answer in their language.
async fn shoppers_answer_in_their_language(app: &TestApp, token: &str, board: &Value) {
    let (status, versions) = app.get("/api/v1/questionnaires", token).await;
    assert_eq!(status, 200, "{versions}");
    for (key, wanted) in [
        ("store-visit", vec!["de", "es", "fr", "ja"]),
        ("phone-support", vec!["de"]),
    ] {
        let id = versions["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["key"] == key)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let list = app
            .get_ok(&format!("/api/v1/questionnaires/{id}/translations"), token)
            .await;
        let languages: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["language"].as_str().unwrap())
            .collect();
        assert_eq!(languages, wanted, "{key}");
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["translated"] == t["total"])
        );
    }
    for (code, language) in [
        ("EU-BER1", "de"),
        ("EU-PAR1", "fr"),
        ("EU-MAD1", "es"),
        ("AP-TYO1", "ja"),
        ("NA-BOS1", "en"),
    ] {
        let id = board["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["location"]["code"] == code)
            .unwrap()["location"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let reports = app
            .get_ok(
                &format!("/api/v1/reports?location_id={id}&questionnaire_key=store-visit&limit=20"),
                token,
            )
            .await;
        let items = reports["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{code}");
        assert!(
            items.iter().all(|r| r["language"] == language),
            "{code}: {reports}"
        );
    }
}

#[actix_web::test]
async fn the_same_seed_gives_the_same_figures() {
    let (a, b) = (TestDb::create(), TestDb::create());
    for db in [&a, &b] {
        let out = demo(db, "7", &[]);
        assert!(out.status.success(), "{out:?}");
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(printed.contains("admin@hearth-home.example"), "{printed}");
        assert!(printed.contains("client_secret: smcs_"), "{printed}");
        // The banner lists the scopes the client really has.
        assert!(
            printed.contains("(scopes: reports:read aggregates:read locations:read questionnaires:read events:read actions:read)"),
            "{printed}"
        );
        // Every report went through the same scoring and rollups as the API's.
        let verify = secondmile(db, &["rollups", "verify"]);
        assert!(verify.status.success(), "{verify:?}");
    }
    let other = TestDb::create();
    assert!(demo(&other, "8", &[]).status.success());

    let (first, overview) = standings(a).await;
    let (second, overview_again) = standings(b).await;
    let (different, _) = standings(other).await;
    assert_eq!(first.len(), 40, "every store is on the leaderboard");
    assert_eq!(first, second, "same seed, same figures");
    assert_eq!(overview, overview_again);
    assert_ne!(first, different, "another seed, other visits");

    // The believable patterns: the stars on top, the problem sites at the bottom.
    let codes: Vec<&str> = first.iter().map(|r| r[0].as_str().unwrap()).collect();
    for star in ["NA-BOS1", "EU-LON1", "AP-TYO1"] {
        let at = codes.iter().position(|c| *c == star).unwrap();
        assert!(at < 5, "{star} ranks {at}: {codes:?}");
    }
    for problem in ["NA-CHI2", "EU-BER1"] {
        let at = codes.iter().position(|c| *c == problem).unwrap();
        assert!(at >= 34, "{problem} ranks {at}: {codes:?}");
    }
    let visits = overview["figures"]["visits"].as_u64().unwrap();
    assert!((200..=400).contains(&visits), "{overview}");
}

#[actix_web::test]
async fn the_demo_refuses_a_database_with_an_organization_unless_forced() {
    let db = TestDb::create();
    assert!(demo(&db, "1", &[]).status.success());
    let again = demo(&db, "1", &[]);
    assert_eq!(again.status.code(), Some(65), "{again:?}");
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("--force-new-org"), "{said}");
    // A weak --password is refused like any password.
    let weak = secondmile(&TestDb::create(), &["demo", "--password", "short"]);
    assert_eq!(weak.status.code(), Some(65), "{weak:?}");

    let forced = demo(&db, "1", &["--force-new-org"]);
    assert!(forced.status.success(), "{forced:?}");
    let printed = String::from_utf8_lossy(&forced.stdout);
    assert!(printed.contains("admin@hearth-home-2.example"), "{printed}");
    let app = TestApp {
        address: start_server(&db, &[], |_| {}),
        db,
        client: client(),
    };
    // Each organization sees only its own stores.
    for email in ["admin@hearth-home.example", "admin@hearth-home-2.example"] {
        let token = sign_in(&app, email).await;
        let (status, page) = app.get("/api/v1/locations?limit=100", &token).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 40);
    }
    // The backfill is dated to its visits' evenings, not to the minute it was loaded: the
    // demo shoppers' daily submission quota is not used up by it.
    let token = sign_in(&app, "admin@hearth-home.example").await;
    let (status, page) = app.get("/api/v1/reports?limit=200", &token).await;
    assert_eq!(status, 200, "{page}");
    let day_ago = (chrono::Utc::now() - chrono::Duration::hours(24)).to_rfc3339();
    let items = page["items"].as_array().unwrap();
    let recent = items
        .iter()
        .filter(|r| r["created_at"].as_str().unwrap() > day_ago.as_str())
        .count();
    assert!(
        recent * 10 < items.len(),
        "{recent} of {} stored in the last day",
        items.len()
    );

    // The programme: the demo's lockout rules, which its history respects, and this
    // month's wave, planned.
    let settings = app.get_ok("/api/v1/programme/settings", &token).await;
    assert_eq!(settings["lockout_days"], 90);
    assert_eq!(settings["max_visits_per_location_per_year"], 4);
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_ok(&format!("/api/v1/reports?limit=200{cursor}"), &token)
            .await;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let mut visits: std::collections::HashMap<(String, String), Vec<chrono::NaiveDate>> =
        std::collections::HashMap::new();
    for r in &all {
        visits
            .entry((
                r["shopper_id"].as_str().unwrap().to_string(),
                r["location_id"].as_str().unwrap().to_string(),
            ))
            .or_default()
            .push(r["visit_date"].as_str().unwrap().parse().unwrap());
    }
    for (pair, mut days) in visits {
        days.sort();
        for w in days.windows(2) {
            assert!((w[1] - w[0]).num_days() >= 90, "{pair:?}: {days:?}");
        }
    }
    let waves = app.get_ok("/api/v1/waves", &token).await;
    let wave = waves["items"][0]["id"].as_str().unwrap();
    let coverage = app
        .get_ok(&format!("/api/v1/waves/{wave}/coverage"), &token)
        .await;
    assert_eq!(coverage["totals"]["required"], 40, "{coverage}");
    assert_eq!(
        coverage["totals"]["assigned"].as_u64().unwrap()
            + coverage["totals"]["open"].as_u64().unwrap(),
        40,
        "{coverage}"
    );
    // shopper1 is new: no reports, no assignments.
    let shopper1 = sign_in(&app, "shopper1@hearth-home.example").await;
    let mine = app.get_ok("/api/v1/me/assignments", &shopper1).await;
    assert_eq!(mine["items"], json!([]));
}

#[actix_web::test]
async fn an_interrupted_demo_is_never_served_and_is_loaded_again_whole() {
    use std::io::BufRead;
    let db = TestDb::create();
    // Stopped hard once its reports are being loaded: half a demo is in the database.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["demo", "--seed", "3", "--password", PASSWORD])
        .args(["--visits-per-store", "20"])
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run secondmile demo");
    let mut progress = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("demo visit reports") {
        line.clear();
        assert!(
            progress.read_line(&mut line).unwrap() > 0,
            "the demo ended first"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut conn = db.connect();
    assert_eq!(crate::helpers::count_rows(&mut conn, "organizations"), 1);
    let partial = crate::helpers::count_rows(&mut conn, "reports");

    // The server refuses to serve it, and says what to do.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_BIND", format!("127.0.0.1:{port}"))
        .env("SECONDMILE_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("did not finish loading") && said.contains("serve --demo"),
        "{said}"
    );

    // Loading again removes what was written and loads the demo whole: the same figures as
    // a demo of the same seed loaded in one go, with the progress and no line per report.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["demo", "--seed", "3", "--password", PASSWORD])
        .args(["--visits-per-store", VISITS])
        .env("DATABASE_URL", db.url())
        .env("SECONDMILE_LOG", "info")
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains("did not finish") && said.contains("loaded again"),
        "{said}"
    );
    assert!(
        !said.contains("report submitted") && !said.contains("report reviewed"),
        "a line per report: {said}"
    );
    assert!(said.lines().count() < 60, "{} lines", said.lines().count());
    assert_eq!(crate::helpers::count_rows(&mut conn, "organizations"), 1);
    let verify = secondmile(&db, &["rollups", "verify"]);
    assert!(verify.status.success(), "{verify:?}");
    let fresh = TestDb::create();
    assert!(demo(&fresh, "3", &[]).status.success());
    for table in [
        "reports",
        "report_transitions",
        "events",
        "users",
        "settings",
    ] {
        assert_eq!(
            crate::helpers::count_rows(&mut conn, table),
            crate::helpers::count_rows(&mut fresh.connect(), table),
            "{table} (the interrupted load had {partial} reports)"
        );
    }
    drop(conn);
    let (reloaded, overview) = standings(db).await;
    let (whole, whole_overview) = standings(fresh).await;
    assert_eq!(reloaded, whole);
    assert_eq!(overview, whole_overview);
}
