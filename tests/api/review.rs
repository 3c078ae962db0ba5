//! The review workflow: the transition table, revisions, history, roles, concurrency.

use serde_json::{Value, json};

use crate::helpers::{World, report, set_answer, submit, world};

async fn review(w: &World, id: &str, token: &str, body: Value) -> (u16, Value) {
    w.app
        .post(&format!("/api/v1/reports/{id}/review"), token, body)
        .await
}

/// A new report, brought to `status` through the API; returns its id.
async fn report_in(w: &World, status: &str) -> (String, Value) {
    let body = report(w);
    let (code, created) = submit(w, &body).await;
    assert_eq!(code, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let action = match status {
        "submitted" => None,
        "approved" => Some(json!({"action": "approve"})),
        "rejected" => Some(json!({"action": "reject", "note": "Visit not plausible"})),
        "returned" => Some(json!({"action": "return", "note": "Add the waiting time"})),
        other => panic!("{other}"),
    };
    if let Some(action) = action {
        let (code, body) = review(w, &id, &w.admin_token, action).await;
        assert_eq!(code, 200, "{body}");
    }
    (id, body)
}

#[actix_web::test]
async fn every_allowed_transition_works_and_every_other_is_a_409() {
    let w = world().await;
    let allowed: &[(&str, &str, &str)] = &[
        ("submitted", "approve", "approved"),
        ("submitted", "reject", "rejected"),
        ("submitted", "return", "returned"),
        ("approved", "reopen", "submitted"),
        ("rejected", "reopen", "submitted"),
        ("returned", "revise", "submitted"),
    ];
    for from in ["submitted", "approved", "rejected", "returned"] {
        for action in ["approve", "reject", "return", "reopen", "revise"] {
            let (id, body) = report_in(&w, from).await;
            let (status, response) = if action == "revise" {
                w.app
                    .put(&format!("/api/v1/reports/{id}"), &w.shopper_token, body)
                    .await
            } else {
                review(
                    &w,
                    &id,
                    &w.admin_token,
                    json!({"action": action, "note": "Because"}),
                )
                .await
            };
            match allowed.iter().find(|(f, a, _)| *f == from && *a == action) {
                Some((_, _, to)) => {
                    assert_eq!(status, 200, "{action} from {from}: {response}");
                    assert_eq!(response["status"], *to, "{action} from {from}");
                }
                None => {
                    assert_eq!(status, 409, "{action} from {from}: {response}");
                    assert_eq!(response["code"], "invalid_transition");
                    assert_eq!(response["current_status"], from, "{action} from {from}");
                }
            }
        }
    }
}

#[actix_web::test]
async fn a_returned_report_is_revised_and_approved_keeping_every_revision() {
    let w = world().await;
    let (id, mut body) = report_in(&w, "submitted").await;
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    let (status, returned) = review(
        &w,
        &id,
        &reviewer_token,
        json!({"action": "return", "note": "Did anyone remember your name?", "revision": 1}),
    )
    .await;
    assert_eq!(
        (status, returned["status"].as_str()),
        (200, Some("returned"))
    );

    // The shopper's app finds it, with the note.
    let mine = w
        .app
        .get_ok("/api/v1/reports?status=returned", &w.shopper_token)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        mine["items"][0]["last_review"]["note"],
        "Did anyone remember your name?"
    );
    assert_eq!(mine["items"][0]["last_review"]["action"], "return");
    let one = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}"), &w.shopper_token)
        .await;
    assert_eq!(one["last_review"]["note"], "Did anyone remember your name?");

    set_answer(&mut body, "remembered_name", json!({"value": true}));
    set_answer(&mut body, "unexpressed_need", json!({"value": true}));
    let path = format!("/api/v1/reports/{id}");
    let (status, revised) = w.app.put(&path, &w.shopper_token, body.clone()).await;
    assert_eq!(status, 200, "{revised}");
    assert_eq!(
        (revised["status"].as_str(), revised["revision"].as_i64()),
        (Some("submitted"), Some(2))
    );
    assert_eq!(revised["score"]["overall"], 92.19);
    assert_eq!(revised["score"]["mile_level"], "second");
    // A retried PUT is answered with what is stored.
    let (status, again) = w.app.put(&path, &w.shopper_token, body).await;
    assert_eq!((status, again["revision"].as_i64()), (200, Some(2)));

    let (status, approved) = review(&w, &id, &reviewer_token, json!({"action": "approve"})).await;
    assert_eq!(
        (status, approved["status"].as_str()),
        (200, Some("approved"))
    );

    // Each revision keeps its own answers and score.
    let first = w
        .app
        .get_ok(&format!("{path}/revisions/1"), &w.admin_token)
        .await;
    assert_eq!(
        (
            first["revision"].as_i64(),
            first["score"]["overall"].as_f64()
        ),
        (Some(1), Some(73.44))
    );
    assert_eq!(first["score"]["mile_level"], "first");
    let second = w
        .app
        .get_ok(&format!("{path}/revisions/2"), &w.admin_token)
        .await;
    assert_eq!(second["score"]["overall"], 92.19);
    assert_eq!(
        w.app
            .get(&format!("{path}/revisions/3"), &w.admin_token)
            .await
            .0,
        404
    );

    // The whole story is on record.
    let history = w
        .app
        .get_ok(&format!("{path}/history"), &reviewer_token)
        .await;
    let steps: Vec<(String, String, i64)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap().into(),
                h["to_status"].as_str().unwrap().into(),
                h["revision"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("submit".into(), "submitted".into(), 1),
            ("return".into(), "returned".into(), 1),
            ("revise".into(), "submitted".into(), 2),
            ("approve".into(), "approved".into(), 2),
        ]
    );
    assert_eq!(history["items"][1]["actor"]["id"], reviewer.id);
    assert_eq!(history["items"][1]["actor_role"], "reviewer");
    assert_eq!(
        history["items"][1]["note"],
        "Did anyone remember your name?"
    );

    // The shopper sees decisions and notes, not who the reviewer was.
    let (status, theirs) = w
        .app
        .get(&format!("{path}/history"), &w.shopper_token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(theirs["items"].as_array().unwrap().len(), 4);
    assert!(
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h.get("actor").is_none()),
        "{theirs}"
    );
    assert_eq!(theirs["items"][1]["note"], "Did anyone remember your name?");
}

#[actix_web::test]
async fn decisions_are_checked_before_they_are_made() {
    let w = world().await;
    let (id, _) = report_in(&w, "submitted").await;
    for (body, pointer, code) in [
        (json!({"action": "return"}), "/note", "required"),
        (
            json!({"action": "reject", "note": "  "}),
            "/note",
            "required",
        ),
        (
            json!({"action": "approve", "note": "x".repeat(4001)}),
            "/note",
            "too_long",
        ),
    ] {
        let (status, problem) = review(&w, &id, &w.admin_token, body).await;
        assert_eq!(
            (
                status,
                problem["errors"][0]["pointer"].as_str(),
                problem["errors"][0]["code"].as_str()
            ),
            (422, Some(pointer), Some(code))
        );
    }
    let (status, problem) = review(&w, &id, &w.admin_token, json!({"action": "publish"})).await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/action"))
    );
    let (status, problem) = review(
        &w,
        &id,
        &w.admin_token,
        json!({"action": "approve", "revision": 2}),
    )
    .await;
    assert_eq!(
        (
            status,
            problem["code"].as_str(),
            problem["current_status"].as_str()
        ),
        (409, Some("stale_revision"), Some("submitted"))
    );

    // If-Match with the ETag read.
    let mut response = w
        .app
        .client
        .get(w.app.url(&format!("/api/v1/reports/{id}")))
        .bearer_auth(&w.admin_token)
        .send()
        .await
        .unwrap();
    let etag = response
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let _ = response.body().await;
    let response = w
        .app
        .client
        .post(w.app.url(&format!("/api/v1/reports/{id}/review")))
        .bearer_auth(&w.admin_token)
        .insert_header(("if-match", "\"9-approved\""))
        .send_json(&json!({"action": "approve"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 412);
    let response = w
        .app
        .client
        .post(w.app.url(&format!("/api/v1/reports/{id}/review")))
        .bearer_auth(&w.admin_token)
        .insert_header(("if-match", etag))
        .send_json(&json!({"action": "approve"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers().get("etag").unwrap(), "\"1-approved\"");

    // A revision must keep the report's id, and only a returned report is revised.
    let (id, mut body) = report_in(&w, "returned").await;
    body["id"] = json!(uuid::Uuid::new_v4());
    let (status, problem) = w
        .app
        .put(&format!("/api/v1/reports/{id}"), &w.shopper_token, body)
        .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("id_mismatch"))
    );
}

#[actix_web::test]
async fn two_concurrent_reviews_of_one_report_make_one_decision() {
    let w = world().await;
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    for _ in 0..3 {
        let (id, _) = report_in(&w, "submitted").await;
        let (a, b) = futures_util::future::join(
            review(&w, &id, &w.admin_token, json!({"action": "approve"})),
            review(
                &w,
                &id,
                &reviewer_token,
                json!({"action": "return", "note": "Missing answers"}),
            ),
        )
        .await;
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
        let history = w
            .app
            .get_ok(&format!("/api/v1/reports/{id}/history"), &w.admin_token)
            .await;
        assert_eq!(
            history["items"].as_array().unwrap().len(),
            2,
            "submit and one decision: {history}"
        );
    }
}

#[actix_web::test]
async fn review_revision_and_history_enforce_roles_and_tenants() {
    let w = world().await;
    let (id, body) = report_in(&w, "submitted").await;
    let path = format!("/api/v1/reports/{id}");
    let mut callers = Vec::new();
    for role in ["analyst", "manager", "shopper"] {
        let user = w.app.create_user(&w.admin_token, role).await;
        callers.push((role.to_string(), w.app.access_token(&user).await));
    }
    let (cid, secret) = w
        .app
        .create_client(
            &w.admin_token,
            &["reports:read", "reports:write", "aggregates:read"],
        )
        .await;
    callers.push(("client".into(), w.app.client_token(&cid, &secret).await));
    callers.push(("the report's shopper".into(), w.shopper_token.clone()));
    for (who, token) in &callers {
        let (status, _) = review(&w, &id, token, json!({"action": "approve"})).await;
        assert_eq!(status, 403, "{who} review");
    }
    for (who, token) in &callers[..2] {
        assert_eq!(
            w.app.get(&format!("{path}/history"), token).await.0,
            403,
            "{who} history"
        );
    }
    assert_eq!(
        w.app.get(&format!("{path}/history"), &callers[3].1).await.0,
        403,
        "client history"
    );
    // Another shopper does not see the report at all.
    assert_eq!(
        w.app.get(&format!("{path}/history"), &callers[2].1).await.0,
        404
    );

    // Reviewers decide but do not reopen.
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    let (status, _) = review(&w, &id, &reviewer_token, json!({"action": "approve"})).await;
    assert_eq!(status, 200);
    let (status, _) = review(
        &w,
        &id,
        &reviewer_token,
        json!({"action": "reopen", "note": "Second look"}),
    )
    .await;
    assert_eq!(status, 403);

    // Managers see the released report; once reopened, it is unreleased and gone for them.
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    let manager_token = w.app.access_token(&manager).await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    assert_eq!(w.app.get(&path, &manager_token).await.0, 200);
    let (status, _) = review(
        &w,
        &id,
        &w.admin_token,
        json!({"action": "reopen", "note": "Second look"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(w.app.get(&path, &manager_token).await.0, 404);
    let list = w.app.get_ok("/api/v1/reports", &manager_token).await;
    assert!(list["items"].as_array().unwrap().is_empty());

    // Only the owner revises: a reviewer may not, another shopper cannot see it.
    let (returned_id, returned_body) = report_in(&w, "returned").await;
    let returned_path = format!("/api/v1/reports/{returned_id}");
    assert_eq!(
        w.app
            .put(&returned_path, &reviewer_token, returned_body.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        w.app
            .put(&returned_path, &callers[2].1, returned_body)
            .await
            .0,
        404
    );
    let _ = body;

    // Another organization: 404 everywhere.
    let globex = w.app.create_org_with_admin("Globex");
    let globex_token = w.app.access_token(&globex).await;
    assert_eq!(
        review(&w, &id, &globex_token, json!({"action": "approve"}))
            .await
            .0,
        404
    );
    for suffix in ["", "/history", "/revisions/1"] {
        assert_eq!(
            w.app.get(&format!("{path}{suffix}"), &globex_token).await.0,
            404,
            "{suffix}"
        );
    }
    let globex_shopper = w.app.create_user(&globex_token, "shopper").await;
    let globex_shopper_token = w.app.access_token(&globex_shopper).await;
    let (status, _) = w
        .app
        .put(&returned_path, &globex_shopper_token, report(&w))
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn two_concurrent_revisions_store_one() {
    let w = world().await;
    let (id, body) = report_in(&w, "returned").await;
    let path = format!("/api/v1/reports/{id}");
    let mut other = body.clone();
    other["narrative"] = json!("A different correction");
    let (a, b) = futures_util::future::join(
        w.app.put(&path, &w.shopper_token, body),
        w.app.put(&path, &w.shopper_token, other),
    )
    .await;
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let current = w.app.get_ok(&path, &w.admin_token).await;
    assert_eq!(current["revision"], 2);
    assert_eq!(
        crate::helpers::count_rows(&mut w.app.db.connect(), "report_revisions"),
        1
    );
    let history = w
        .app
        .get_ok(&format!("{path}/history"), &w.admin_token)
        .await;
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        3,
        "submit, return, one revise"
    );
}

/// A client's token narrowed to `locations:read` cannot revise the report that client
/// submitted: `PUT /reports/{id}` checks the `reports:write` scope it documents.
#[actix_web::test]
async fn revising_needs_the_reports_write_scope() {
    let w = world().await;
    let (id, secret) = w
        .app
        .create_client(&w.admin_token, &["reports:write", "locations:read"])
        .await;
    let full = w.app.client_token(&id, &secret).await;
    let (status, narrowed) = w
        .app
        .token_request(json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": "locations:read"}))
        .await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "locations:read");
    let narrowed = narrowed["access_token"].as_str().unwrap().to_string();

    let mut body = report(&w);
    body["shopper_id"] = json!(w.shopper_id);
    let (status, stored) = w.app.post("/api/v1/reports", &full, body.clone()).await;
    assert_eq!(status, 201, "{stored}");
    let path = format!("/api/v1/reports/{}", stored["id"].as_str().unwrap());
    let (status, returned) = w
        .app
        .post(
            &format!("{path}/review"),
            &w.admin_token,
            json!({"action": "return", "note": "please check the wait"}),
        )
        .await;
    assert_eq!(status, 200, "{returned}");

    let (status, problem) = w.app.put(&path, &narrowed, body.clone()).await;
    assert_eq!(status, 403, "{problem}");
    let (status, unchanged) = w.app.get(&path, &w.admin_token).await;
    assert_eq!(status, 200);
    assert_eq!(
        (unchanged["status"].as_str(), unchanged["revision"].as_i64()),
        (Some("returned"), Some(1))
    );
    let (status, revised) = w.app.put(&path, &full, body).await;
    assert_eq!(status, 200, "{revised}");
    assert_eq!(revised["revision"], 2);
}

/// Segregation of duties: a shopper who became a reviewer cannot decide on a report they
/// submitted (403 `own_report`); another reviewer can.
#[actix_web::test]
async fn nobody_reviews_a_report_they_submitted() {
    let w = world().await;
    let (status, stored) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{stored}");
    let (status, changed) = w
        .app
        .patch(
            &format!("/api/v1/users/{}", w.shopper_id),
            &w.admin_token,
            json!({"role": "reviewer"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    // A role change ends the user's sessions: they sign in again, now as a reviewer.
    let as_reviewer = w.app.access_token(&w.shopper).await;
    let path = format!("/api/v1/reports/{}/review", stored["id"].as_str().unwrap());
    let (status, problem) = w
        .app
        .post(&path, &as_reviewer, json!({"action": "approve"}))
        .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["code"], "own_report");
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer = w.app.access_token(&reviewer).await;
    let (status, approved) = w
        .app
        .post(&path, &reviewer, json!({"action": "approve"}))
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
}

/// A body is a JSON object: `["approve"]` is not read as `{"action": "approve"}`.
#[actix_web::test]
async fn a_body_given_as_an_array_is_refused() {
    let w = world().await;
    let (status, stored) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{stored}");
    let path = format!("/api/v1/reports/{}", stored["id"].as_str().unwrap());
    let (status, problem) = w
        .app
        .post(
            &format!("{path}/review"),
            &w.admin_token,
            json!(["approve"]),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "");
    assert_eq!(problem["errors"][0]["code"], "invalid_type");
    let (_, now) = w.app.get(&path, &w.admin_token).await;
    assert_eq!(now["status"], "submitted", "nothing decided");
}
