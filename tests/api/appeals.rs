//! Appeals: a manager disputes answers of a released report within the window; a reviewer
//! upholds it or amends the answers, re-scoring the report as a new revision with the
//! rollups and the verdict moved in the same transaction; one open appeal per report even
//! under concurrent requests; the manager never learns the shopper, the shopper never
//! learns who appealed.

use chrono::TimeDelta;
use secondmile::clock::Clock;
use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{World, pointers, report, set_answer, world, world_at};

async fn manager(w: &World) -> String {
    let m = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &m.id, &[&w.location_id])
        .await;
    w.app.access_token(&m).await
}

async fn reviewer(w: &World) -> String {
    let r = w.app.create_user(&w.admin_token, "reviewer").await;
    w.app.access_token(&r).await
}

/// A released visit whose shopper was not greeted.
async fn ungreeted(w: &World) -> Value {
    let mut body = report(w);
    set_answer(&mut body, "greeted", json!({"value": false}));
    approved(w, &body).await
}

async fn summary(w: &World) -> Value {
    w.app
        .get_ok(
            &format!("/api/v1/locations/{}/summary", w.location_id),
            &w.admin_token,
        )
        .await["figures"]
        .clone()
}

#[actix_web::test]
async fn an_amended_appeal_rescores_the_report_and_moves_the_figures_with_it() {
    let w = world().await;
    let released = ungreeted(&w).await;
    let id = released["id"].as_str().unwrap().to_string();
    let before = released["score"]["overall"].as_f64().unwrap();
    let figures = summary(&w).await;
    assert_eq!(figures["mean_score"].as_f64().unwrap(), before);
    let manager = manager(&w).await;
    // The manager sees the released report without the shopper.
    let seen = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}"), &manager)
        .await;
    assert!(seen["shopper_id"].is_null(), "{seen}");

    let (status, appeal) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/appeals"),
            &manager,
            json!({"questions": ["greeted"], "reason": "The door camera shows a greeting at 14:02."}),
        )
        .await;
    assert_eq!(status, 201, "{appeal}");
    assert_eq!(appeal["status"], "open");
    assert!(appeal.get("shopper_id").is_none());
    let appeal_id = appeal["id"].as_str().unwrap().to_string();
    // A second appeal of the same report waits for the first.
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/appeals"),
            &manager,
            json!({"questions": ["smiled"], "reason": "x"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("appeal_exists"))
    );
    // The reviewers' queue, oldest first.
    let reviewer = reviewer(&w).await;
    let queue = w.app.get_ok("/api/v1/appeals?status=open", &reviewer).await;
    assert_eq!(queue["items"][0]["id"], appeal["id"]);
    // Still released, still counted as it was.
    assert_eq!(summary(&w).await["mean_score"], figures["mean_score"]);

    // Amend: only the disputed answer may change; it must be valid.
    let decide = format!("/api/v1/appeals/{appeal_id}/decision");
    let (status, body) = w
        .app
        .post(
            &decide,
            &reviewer,
            json!({"decision": "amend", "note": "ok", "answers": [{"question": "smiled", "value": false}, {"question": "greeted", "value": 7}]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        pointers(&body),
        ["/answers/0/question"],
        "the undisputed answer is named first: {body}"
    );
    let (status, body) = w
        .app
        .post(
            &decide,
            &reviewer,
            json!({"decision": "amend", "note": "ok", "answers": [{"question": "greeted", "value": 7}]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        pointers(&body).iter().all(|p| p.starts_with("/answers/0")),
        "{body}"
    );
    let (status, decided) = w
        .app
        .post(
            &decide,
            &reviewer,
            json!({"decision": "amend", "note": "The camera confirms the greeting.", "answers": [{"question": "greeted", "value": true}]}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "amended");
    assert_eq!(decided["amended_revision"], 2);
    // The report is re-scored as revision 2, still released; the figures moved with it.
    let now = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}"), &w.admin_token)
        .await;
    assert_eq!(now["revision"], 2);
    assert_eq!(now["status"], "approved");
    let after = now["score"]["overall"].as_f64().unwrap();
    assert!(after > before, "{before} -> {after}");
    let figures = summary(&w).await;
    assert!(
        (figures["mean_score"].as_f64().unwrap() - after).abs() < 0.006,
        "{figures}"
    );
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["rollups", "verify"])
        .env("DATABASE_URL", w.app.db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    // Decided once.
    let (status, body) = w
        .app
        .post(
            &decide,
            &reviewer,
            json!({"decision": "uphold", "note": "again"}),
        )
        .await;
    assert_eq!(
        (status, body["current_status"].as_str()),
        (409, Some("amended"))
    );
    // The history shows the appeal; the shopper sees the outcome, not who appealed.
    let history = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}/history"), &w.admin_token)
        .await;
    assert_eq!(history["appeals"][0]["status"], "amended");
    assert!(history["appeals"][0]["appellant_id"].is_string());
    let theirs = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}/history"), &w.shopper_token)
        .await;
    let entry = &theirs["appeals"][0];
    assert_eq!(entry["status"], "amended");
    assert_eq!(entry["decision_note"], "The camera confirms the greeting.");
    assert!(entry["appellant_id"].is_null() && entry["reason"].is_null());
    assert!(entry["decided_by"].is_null());
    // The superseded revision is kept.
    let first = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}/revisions/1"), &w.admin_token)
        .await;
    assert_eq!(first["score"]["overall"].as_f64().unwrap(), before);
}

#[actix_web::test]
async fn an_upheld_appeal_changes_nothing_and_others_may_not_appeal() {
    let w = world().await;
    let released = ungreeted(&w).await;
    let id = released["id"].as_str().unwrap().to_string();
    let manager = manager(&w).await;
    let path = format!("/api/v1/reports/{id}/appeals");
    // Every problem of the body at once; unknown questions named.
    let (status, body) = w
        .app
        .post(
            &path,
            &manager,
            json!({"questions": ["greeted", "greeted"], "reason": " "}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(pointers(&body), ["/reason", "/questions/1"]);
    let (status, body) = w
        .app
        .post(
            &path,
            &manager,
            json!({"questions": ["no_such_question"], "reason": "r"}),
        )
        .await;
    assert_eq!((status, pointers(&body)), (422, vec!["/questions/0"]));
    // Only a manager of the location appeals, only a released report.
    let (status, _) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!({"questions": ["greeted"], "reason": "r"}),
        )
        .await;
    assert_eq!(status, 403);
    let stranger = w.app.create_user(&w.admin_token, "manager").await;
    let stranger = w.app.access_token(&stranger).await;
    let (status, _) = w
        .app
        .post(
            &path,
            &stranger,
            json!({"questions": ["greeted"], "reason": "r"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, pending) = crate::helpers::submit(&w, &report(&w)).await;
    assert_eq!(status, 201);
    let (status, _) = w
        .app
        .post(
            &format!(
                "/api/v1/reports/{}/appeals",
                pending["id"].as_str().unwrap()
            ),
            &manager,
            json!({"questions": ["greeted"], "reason": "r"}),
        )
        .await;
    assert_eq!(status, 404, "a report under review is not released");

    let (status, appeal) = w
        .app
        .post(
            &path,
            &manager,
            json!({"questions": ["greeted"], "reason": "r"}),
        )
        .await;
    assert_eq!(status, 201, "{appeal}");
    let decide = format!(
        "/api/v1/appeals/{}/decision",
        appeal["id"].as_str().unwrap()
    );
    let (status, _) = w
        .app
        .post(
            &decide,
            &manager,
            json!({"decision": "uphold", "note": "n"}),
        )
        .await;
    assert_eq!(status, 403, "a manager does not decide");
    let (status, body) = w
        .app
        .post(
            &decide,
            &w.admin_token,
            json!({"decision": "uphold", "note": "", "answers": [{"question": "greeted", "value": true}]}),
        )
        .await;
    assert_eq!((status, pointers(&body)), (422, vec!["/note", "/answers"]));
    let (status, body) = w
        .app
        .post(
            &decide,
            &w.admin_token,
            json!({"decision": "uphold", "note": "The shopper waited two minutes on camera."}),
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("upheld")));
    let now = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}"), &w.admin_token)
        .await;
    assert_eq!(now["revision"], 1);
    assert_eq!(now["score"], released["score"]);
    // Decided: a new appeal may be opened.
    let (status, _) = w
        .app
        .post(
            &path,
            &manager,
            json!({"questions": ["smiled"], "reason": "r"}),
        )
        .await;
    assert_eq!(status, 201);
    // Another organization sees none of it.
    let other = w.app.create_org_with_admin("Other");
    let other = w.app.access_token(&other).await;
    let theirs = w.app.get_ok("/api/v1/appeals", &other).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, _) = w
        .app
        .get(
            &format!("/api/v1/appeals/{}", appeal["id"].as_str().unwrap()),
            &other,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w.app.get("/api/v1/appeals", &w.shopper_token).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn twenty_concurrent_appeals_of_one_report_make_one() {
    let w = world().await;
    let released = ungreeted(&w).await;
    let path = format!(
        "/api/v1/reports/{}/appeals",
        released["id"].as_str().unwrap()
    );
    let manager = manager(&w).await;
    let tries = (0..20).map(|i| {
        let (path, manager, w) = (path.clone(), manager.clone(), &w);
        async move {
            w.app
                .post(
                    &path,
                    &manager,
                    json!({"questions": ["greeted"], "reason": format!("try {i}")}),
                )
                .await
        }
    });
    let answers = futures_util::future::join_all(tries).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "appeal_exists")
        .count();
    assert_eq!((created, refused), (1, 19), "{answers:?}");
}

#[actix_web::test]
async fn the_appeal_window_closes_after_the_organizations_days() {
    let clock = Clock::manual(chrono::Utc::now());
    let w = world_at(&[], clock.clone()).await;
    let (status, body) = w
        .app
        .put(
            "/api/v1/organization/settings",
            &w.admin_token,
            json!({"appeal_window_days": 0}),
        )
        .await;
    assert_eq!(
        (status, pointers(&body)),
        (422, vec!["/appeal_window_days"])
    );
    let (status, body) = w
        .app
        .put(
            "/api/v1/organization/settings",
            &w.admin_token,
            json!({"appeal_window_days": 3}),
        )
        .await;
    assert_eq!(
        (status, body["appeal_window_days"].as_u64()),
        (200, Some(3))
    );
    let released = ungreeted(&w).await;
    let path = format!(
        "/api/v1/reports/{}/appeals",
        released["id"].as_str().unwrap()
    );
    let m = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &m.id, &[&w.location_id])
        .await;
    // Three days and a minute after the release (signed in then: tokens expire).
    clock.advance(TimeDelta::days(3) + TimeDelta::minutes(1));
    let manager = w.app.access_token(&m).await;
    let (status, body) = w
        .app
        .post(
            &path,
            &manager,
            json!({"questions": ["greeted"], "reason": "r"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("appeal_window_closed")),
        "{body}"
    );
}
