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

/// `PUT /appeals/{id}/evidence` with raw bytes.
async fn attach(
    w: &World,
    token: &str,
    appeal: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let mut response = w
        .app
        .client
        .put(w.app.url(&format!("/api/v1/appeals/{appeal}/evidence")))
        .bearer_auth(token)
        .insert_header(("content-type", content_type))
        .send_body(bytes)
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, crate::helpers::json_body(&mut response).await)
}

/// `GET /appeals/{id}/evidence`: the status, the ETag and the bytes.
async fn fetch_evidence(w: &World, token: &str, appeal: &str) -> (u16, String, Vec<u8>) {
    let mut response = w
        .app
        .client
        .get(w.app.url(&format!("/api/v1/appeals/{appeal}/evidence")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.body().limit(20 << 20).await.unwrap().to_vec();
    (response.status().as_u16(), etag, body)
}

/// A receipt: a minimal PDF numbered `n` (another file for each `n`).
fn receipt(n: usize) -> Vec<u8> {
    format!("%PDF-1.4\n% receipt {n}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

async fn opened(w: &World, manager: &str) -> String {
    let released = ungreeted(w).await;
    let (status, appeal) = w
        .app
        .post(
            &format!(
                "/api/v1/reports/{}/appeals",
                released["id"].as_str().unwrap()
            ),
            manager,
            json!({"questions": ["greeted"], "reason": "The receipt shows the greeting's time."}),
        )
        .await;
    assert_eq!(status, 201, "{appeal}");
    assert!(appeal["evidence"].is_null(), "{appeal}");
    appeal["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn the_appellant_attaches_one_file_that_reviewers_and_managers_read() {
    let w = world().await;
    let appellant = manager(&w).await;
    let appeal = opened(&w, &appellant).await;
    // Only the manager who appealed attaches; another manager of the store is told so.
    let colleague = manager(&w).await;
    let photo = crate::attachments::jpeg_with_gps();
    for (token, expected) in [
        (&colleague, 403),
        (&w.shopper_token, 403),
        (&w.admin_token, 403),
    ] {
        let (status, body) = attach(&w, token, &appeal, "image/jpeg", photo.clone()).await;
        assert_eq!(status, expected, "{body}");
    }
    // Bytes of no accepted type are refused before anything is stored.
    for (content_type, expected, code) in [
        ("application/octet-stream", 415, "unsupported_media_type"),
        ("image/jpeg", 422, "validation_failed"),
        ("text/plain", 415, "unsupported_media_type"),
    ] {
        let (status, body) = attach(
            &w,
            &appellant,
            &appeal,
            content_type,
            b"plain text".to_vec(),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (expected, Some(code)),
            "{content_type}: {body}"
        );
    }

    let (status, attached) = attach(&w, &appellant, &appeal, "image/jpeg", photo.clone()).await;
    assert_eq!(status, 201, "{attached}");
    let evidence = &attached["evidence"];
    assert_eq!(evidence["media_type"], "image/jpeg");
    // The phone's position went before the file was stored.
    assert!(evidence["size"].as_i64().unwrap() < i64::try_from(photo.len()).unwrap());
    // A retry is answered as before; another file is refused.
    let (status, again) = attach(&w, &appellant, &appeal, "image/jpeg", photo.clone()).await;
    assert_eq!((status, &again["evidence"]), (200, evidence), "{again}");
    let (status, body) = attach(&w, &appellant, &appeal, "application/pdf", receipt(1)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("idempotency_mismatch")),
        "{body}"
    );

    // The reviewer and the store's managers read it, as stored; the appeal names it.
    let reviewer = reviewer(&w).await;
    for token in [&reviewer, &w.admin_token, &appellant, &colleague] {
        let (status, etag, bytes) = fetch_evidence(&w, token, &appeal).await;
        assert_eq!(status, 200);
        assert_eq!(
            etag,
            format!("\"{}\"", evidence["sha256"].as_str().unwrap())
        );
        assert_eq!(
            i64::try_from(bytes.len()).unwrap(),
            evidence["size"].as_i64().unwrap()
        );
        assert!(!String::from_utf8_lossy(&bytes).contains("GPSLatitude"));
    }
    let read = w
        .app
        .get_ok(&format!("/api/v1/appeals/{appeal}"), &reviewer)
        .await;
    assert_eq!(&read["evidence"], evidence);
    // Not the shopper, an analyst, or a manager of another store.
    let analyst = w.app.create_user(&w.admin_token, "analyst").await;
    let analyst = w.app.access_token(&analyst).await;
    let stranger = w.app.create_user(&w.admin_token, "manager").await;
    let stranger = w.app.access_token(&stranger).await;
    for (token, expected) in [(&w.shopper_token, 403), (&analyst, 403), (&stranger, 404)] {
        assert_eq!(fetch_evidence(&w, token, &appeal).await.0, expected);
    }

    // Once decided, an appeal without a file takes none; the retry of a stored one still
    // answers as before.
    let other = opened(&w, &appellant).await;
    assert_eq!(fetch_evidence(&w, &reviewer, &other).await.0, 404);
    for id in [&appeal, &other] {
        let (status, body) = w
            .app
            .post(
                &format!("/api/v1/appeals/{id}/decision"),
                &reviewer,
                json!({"decision": "uphold", "note": "The receipt's time is after the visit."}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = attach(&w, &appellant, &other, "application/pdf", receipt(2)).await;
    assert_eq!(
        (status, body["current_status"].as_str()),
        (409, Some("upheld")),
        "{body}"
    );
    let (status, _) = attach(&w, &appellant, &appeal, "image/jpeg", photo).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn twenty_concurrent_files_for_one_appeal_keep_one() {
    // Room for all twenty in the upload gate: the appeal decides, not the gate.
    let w = crate::helpers::world_with(&[("SECONDMILE_UPLOADS_PER_CALLER", "32")]).await;
    let appellant = manager(&w).await;
    let appeal = opened(&w, &appellant).await;
    let tries = (0..20).map(|i| {
        let (w, appellant, appeal) = (&w, appellant.clone(), appeal.clone());
        async move { attach(w, &appellant, &appeal, "application/pdf", receipt(i)).await }
    });
    let answers = futures_util::future::join_all(tries).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "idempotency_mismatch")
        .count();
    assert_eq!((created, refused), (1, 19), "{answers:?}");
    // The storage keeps the one file the appeal names, nothing of the refused ones.
    let root = w.app.db.storage_url();
    let dir = std::path::Path::new(root.trim_start_matches("file://"))
        .join("orgs")
        .join(&w.shopper.org_id)
        .join("appeals")
        .join(&appeal);
    let kept: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let read = w
        .app
        .get_ok(&format!("/api/v1/appeals/{appeal}"), &appellant)
        .await;
    assert_eq!(
        kept,
        [read["evidence"]["sha256"].as_str().unwrap()],
        "{dir:?}"
    );
    // The sweeper keeps a file an appeal names, however old.
    let swept = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["attachments", "sweep", "--older-than", "0"])
        .env("DATABASE_URL", w.app.db.url())
        .env("SECONDMILE_STORAGE_URL", w.app.db.storage_url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&swept.stdout).to_string();
    assert!(swept.status.success(), "{swept:?}");
    assert!(printed.contains("0 without a row deleted"), "{printed}");
    assert_eq!(fetch_evidence(&w, &appellant, &appeal).await.0, 200);
}

#[actix_web::test]
async fn twenty_concurrent_decisions_of_one_appeal_make_one() {
    let w = world().await;
    let appellant = manager(&w).await;
    let appeal = opened(&w, &appellant).await;
    let reviewer = reviewer(&w).await;
    let path = format!("/api/v1/appeals/{appeal}/decision");
    let tries = (0..20).map(|i| {
        let (w, reviewer, path) = (&w, reviewer.clone(), path.clone());
        async move {
            let body = if i % 2 == 0 {
                json!({"decision": "uphold", "note": format!("try {i}")})
            } else {
                json!({"decision": "amend", "note": format!("try {i}"), "answers": [{"question": "greeted", "value": true}]})
            };
            w.app.post(&path, &reviewer, body).await
        }
    });
    let answers = futures_util::future::join_all(tries).await;
    let decided = answers.iter().filter(|(s, _)| *s == 200).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "invalid_transition")
        .count();
    assert_eq!((decided, refused), (1, 19), "{answers:?}");
    // One decision stands, and at most one new revision was made.
    let read = w
        .app
        .get_ok(&format!("/api/v1/appeals/{appeal}"), &reviewer)
        .await;
    let winner = answers.iter().find(|(s, _)| *s == 200).unwrap();
    assert_eq!(read["status"], winner.1["status"]);
    let report = w
        .app
        .get_ok(
            &format!("/api/v1/reports/{}", read["report_id"].as_str().unwrap()),
            &w.admin_token,
        )
        .await;
    let expected = if read["status"] == "amended" { 2 } else { 1 };
    assert_eq!(report["revision"], expected, "{report}");
}
