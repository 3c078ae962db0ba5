//! Visit reports: submission, idempotency, validation, scoring, flags, reading by role.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use secondmile::clock::Clock;

use crate::helpers::{count_rows, report, set_answer, submit, world, world_at, world_with};
use crate::questionnaires::example;

#[actix_web::test]
async fn a_valid_report_is_stored_scored_and_readable() {
    let w = world().await;
    let body = report(&w);
    let mut response = w
        .app
        .client
        .post(w.app.url("/api/v1/reports"))
        .bearer_auth(&w.shopper_token)
        .send_json(&body)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let created: Value = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
    assert_eq!(
        location,
        format!("/api/v1/reports/{}", body["id"].as_str().unwrap())
    );
    assert_eq!(created["status"], "submitted");
    assert_eq!(created["revision"], 1);
    assert_eq!(created["shopper_id"], w.shopper_id);
    assert_eq!(created["questionnaire_key"], "store-visit");
    assert_eq!(created["score"]["overall"], 73.44);
    assert_eq!(created["score"]["first_tier"], 97.92);
    assert_eq!(created["score"]["second_tier"], 0.0);
    assert_eq!(created["score"]["mile_level"], "first");
    assert_eq!(created["flags"], json!([]));

    let (status, fetched) = w.app.get(&location, &w.shopper_token).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);
}

#[actix_web::test]
async fn scores_match_hand_computed_expectations() {
    let w = world().await;
    // (name, changed answers, overall, first tier, second tier, mile level): see the README's
    // worked example for how each figure comes about.
    type Case<'a> = (&'a str, Vec<(&'a str, Value)>, f64, f64, f64, &'a str);
    let cases: Vec<Case> = vec![
        (
            "second mile",
            vec![
                ("remembered_name", json!({"value": true})),
                ("unexpressed_need", json!({"value": true})),
            ],
            92.19,
            97.92,
            75.0,
            "second",
        ),
        (
            "bonus",
            vec![("beyond_task", json!({"value": true}))],
            85.94,
            97.92,
            50.0,
            "second",
        ),
        (
            "critical miss",
            vec![
                ("on_phone", json!({"value": true})),
                ("remembered_name", json!({"value": true})),
            ],
            74.69,
            89.58,
            25.0,
            "zero",
        ),
        (
            "n/a",
            vec![("clean_outside", json!({"na": true}))],
            71.88,
            97.73,
            0.0,
            "first",
        ),
        (
            "shown by a condition",
            vec![
                ("had_issue", json!({"value": "yes"})),
                ("protocol", json!({"value": "partly"})),
            ],
            68.08,
            91.07,
            0.0,
            "first",
        ),
        (
            "low first tier",
            vec![
                ("eye_contact", json!({"value": false})),
                ("smiled", json!({"value": false})),
                ("courtesy", json!({"value": 2})),
            ],
            52.19,
            68.75,
            0.0,
            "zero",
        ),
    ];
    for (name, changes, overall, first, second, level) in cases {
        let mut body = report(&w);
        for (question, answer) in changes {
            set_answer(&mut body, question, answer);
        }
        let (status, created) = submit(&w, &body).await;
        assert_eq!(status, 201, "{name}: {created}");
        let score = &created["score"];
        assert_eq!(
            (
                score["overall"].as_f64(),
                score["first_tier"].as_f64(),
                score["second_tier"].as_f64(),
                score["mile_level"].as_str()
            ),
            (Some(overall), Some(first), Some(second), Some(level)),
            "{name}: {score}"
        );
    }
    let zero = w
        .app
        .get_ok("/api/v1/reports?mile_level=zero", &w.admin_token)
        .await;
    let failures: Vec<&Value> = zero["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["score"]["critical_failures"])
        .collect();
    assert!(failures.contains(&&json!(["on_phone"])), "{failures:?}");
}

#[actix_web::test]
async fn every_invalid_report_is_a_422_naming_the_rule_and_nothing_is_stored() {
    let w = world().await;
    // A draft, a retired version, an inactive location, and another organization's ids.
    let (status, draft) = w
        .app
        .post_empty(
            "/api/v1/questionnaires/store-visit/versions",
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 201, "{draft}");
    let draft_id = draft["id"].as_str().unwrap().to_string();
    let inactive = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "OLD", "name": "Old", "timezone": "UTC"}),
        )
        .await;
    let inactive_id = inactive.id.to_string();
    let (status, _) = w
        .app
        .delete(&format!("/api/v1/locations/{inactive_id}"), &w.admin_token)
        .await;
    assert_eq!(status, 204);
    let other = w.app.create_org_with_admin("Globex");
    let other_token = w.app.access_token(&other).await;
    let foreign_location = w
        .app
        .create_location(
            &other_token,
            json!({"code": "G", "name": "G", "timezone": "UTC"}),
        )
        .await;
    let foreign_location = foreign_location.id.to_string();
    let retired = {
        let id = w
            .app
            .published_questionnaire(&w.admin_token, example("old-visit"))
            .await;
        w.app
            .questionnaire_action(&w.admin_token, &id, "retire")
            .await;
        id
    };
    let now = Utc::now();

    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change, &str, &str)> = vec![
        (
            "unknown location",
            Box::new(|r| r["location_id"] = json!(uuid::Uuid::now_v7())),
            "/location_id",
            "unknown_location",
        ),
        (
            "another org's location",
            Box::new(move |r| r["location_id"] = json!(foreign_location)),
            "/location_id",
            "unknown_location",
        ),
        (
            "inactive location",
            Box::new(move |r| r["location_id"] = json!(inactive_id)),
            "/location_id",
            "inactive_location",
        ),
        (
            "unknown questionnaire",
            Box::new(|r| r["questionnaire_id"] = json!(uuid::Uuid::now_v7())),
            "/questionnaire_id",
            "unknown_questionnaire",
        ),
        (
            "draft questionnaire",
            Box::new(move |r| r["questionnaire_id"] = json!(draft_id)),
            "/questionnaire_id",
            "not_published",
        ),
        (
            "retired questionnaire",
            Box::new(move |r| r["questionnaire_id"] = json!(retired)),
            "/questionnaire_id",
            "not_published",
        ),
        (
            "required answer missing",
            Box::new(|r| {
                r["answers"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|a| a["question"] != "greeted")
            }),
            "/answers",
            "missing_answer",
        ),
        (
            "n/a not allowed",
            Box::new(|r| set_answer(r, "greeted", json!({"na": true}))),
            "/answers/16/na",
            "na_not_allowed",
        ),
        (
            "n/a with a value",
            Box::new(|r| set_answer(r, "clean_outside", json!({"na": true, "value": true}))),
            "/answers/16/value",
            "value_with_na",
        ),
        (
            "hidden question answered",
            Box::new(|r| set_answer(r, "protocol", json!({"value": "fully"}))),
            "/answers/17/question",
            "hidden_question",
        ),
        (
            "unknown question",
            Box::new(|r| set_answer(r, "favourite_colour", json!({"value": "blue"}))),
            "/answers/17/question",
            "unknown_question",
        ),
        (
            "duplicate answer",
            Box::new(|r| {
                r["answers"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"question": "smiled", "value": true}))
            }),
            "/answers/17/question",
            "duplicate_answer",
        ),
        (
            "missing value",
            Box::new(|r| set_answer(r, "smiled", json!({}))),
            "/answers/16/value",
            "required",
        ),
        (
            "yes/no of the wrong type",
            Box::new(|r| set_answer(r, "smiled", json!({"value": "yes"}))),
            "/answers/16/value",
            "invalid_type",
        ),
        (
            "scale out of range",
            Box::new(|r| set_answer(r, "courtesy", json!({"value": 6}))),
            "/answers/16/value",
            "out_of_range",
        ),
        (
            "scale not a whole number",
            Box::new(|r| set_answer(r, "courtesy", json!({"value": 3.5}))),
            "/answers/16/value",
            "invalid_type",
        ),
        (
            "unknown option",
            Box::new(|r| set_answer(r, "companion", json!({"value": "dog"}))),
            "/answers/16/value",
            "unknown_option",
        ),
        (
            "negative duration",
            Box::new(|r| set_answer(r, "wait_time", json!({"value": -5}))),
            "/answers/16/value",
            "out_of_range",
        ),
        (
            "duration not a number",
            Box::new(|r| set_answer(r, "wait_time", json!({"value": "2 min"}))),
            "/answers/16/value",
            "invalid_type",
        ),
        (
            "text too long",
            Box::new(|r| set_answer(r, "highlights", json!({"value": "x".repeat(4001)}))),
            "/answers/16/value",
            "too_long",
        ),
        (
            "photo reference of the wrong type",
            Box::new(|r| set_answer(r, "storefront_photo", json!({"value": 42}))),
            "/answers/17/value",
            "invalid_type",
        ),
        (
            "comment too long",
            Box::new(|r| {
                set_answer(
                    r,
                    "smiled",
                    json!({"value": true, "comment": "x".repeat(2001)}),
                )
            }),
            "/answers/16/comment",
            "too_long",
        ),
        (
            "too many answers",
            Box::new(|r| {
                r["answers"] = json!(
                    (0..501)
                        .map(|i| json!({"question": format!("q{i}"), "value": true}))
                        .collect::<Vec<_>>()
                )
            }),
            "/answers",
            "too_many",
        ),
        (
            "ends before it starts",
            Box::new(
                move |r| r["visit"] = json!({"started_at": (now - Duration::hours(1)).to_rfc3339(), "ended_at": (now - Duration::hours(2)).to_rfc3339()}),
            ),
            "/visit/ended_at",
            "before_start",
        ),
        (
            "longer than 12 hours",
            Box::new(
                move |r| r["visit"] = json!({"started_at": (now - Duration::hours(14)).to_rfc3339(), "ended_at": (now - Duration::minutes(30)).to_rfc3339()}),
            ),
            "/visit/ended_at",
            "too_long",
        ),
        (
            "in the future",
            Box::new(
                move |r| r["visit"] = json!({"started_at": (now + Duration::minutes(20)).to_rfc3339(), "ended_at": (now + Duration::minutes(40)).to_rfc3339()}),
            ),
            "/visit/started_at",
            "in_future",
        ),
        (
            "older than 90 days",
            Box::new(
                move |r| r["visit"] = json!({"started_at": (now - Duration::days(91)).to_rfc3339(), "ended_at": (now - Duration::days(91) + Duration::minutes(10)).to_rfc3339()}),
            ),
            "/visit/started_at",
            "too_old",
        ),
        (
            "narrative too long",
            Box::new(|r| r["narrative"] = json!("x".repeat(20_001))),
            "/narrative",
            "too_long",
        ),
        (
            "check-in latitude out of range",
            Box::new(|r| r["check_in"]["lat"] = json!(123.0)),
            "/check_in/lat",
            "out_of_range",
        ),
        (
            "too many staff",
            Box::new(|r| {
                r["staff_observed"] = json!(
                    (0..21)
                        .map(|_| json!({"description": "x"}))
                        .collect::<Vec<_>>()
                )
            }),
            "/staff_observed",
            "too_many",
        ),
        (
            "empty staff description",
            Box::new(|r| r["staff_observed"] = json!([{"description": " "}])),
            "/staff_observed/0/description",
            "invalid_text",
        ),
        (
            "a shopper naming someone else",
            Box::new(|r| r["shopper_id"] = json!(uuid::Uuid::now_v7())),
            "/shopper_id",
            "not_yourself",
        ),
        (
            "a time without offset",
            Box::new(|r| r["visit"]["started_at"] = json!("2026-11-20T10:00:00")),
            "/visit/started_at",
            "invalid_value",
        ),
        (
            "an unknown field",
            Box::new(|r| r["status"] = json!("approved")),
            "/status",
            "unknown_field",
        ),
    ];
    // Every rule a submission is checked against has a case here, each case once.
    let covered: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.3).collect();
    let names: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    assert_eq!(
        covered.into_iter().collect::<Vec<_>>(),
        [
            "before_start",
            "duplicate_answer",
            "hidden_question",
            "in_future",
            "inactive_location",
            "invalid_text",
            "invalid_type",
            "invalid_value",
            "missing_answer",
            "na_not_allowed",
            "not_published",
            "not_yourself",
            "out_of_range",
            "required",
            "too_long",
            "too_many",
            "too_old",
            "unknown_field",
            "unknown_location",
            "unknown_option",
            "unknown_question",
            "unknown_questionnaire",
            "value_with_na",
        ]
    );
    for (name, change, pointer, code) in cases {
        let mut body = report(&w);
        change(&mut body);
        let (status, problem) = submit(&w, &body).await;
        assert_eq!(status, 422, "{name}: {problem}");
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["pointer"] == pointer && e["code"] == code),
            "{name}: expected {pointer} {code} in {problem}"
        );
    }
    // Several problems at once are all listed.
    let mut body = report(&w);
    set_answer(&mut body, "courtesy", json!({"value": 9}));
    body["narrative"] = json!("x".repeat(20_001));
    body["location_id"] = json!(uuid::Uuid::now_v7());
    let (status, problem) = submit(&w, &body).await;
    assert_eq!(status, 422, "{problem}");
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    for code in ["out_of_range", "too_long", "unknown_location"] {
        assert!(codes.contains(&code), "{code} missing from {problem}");
    }

    assert_eq!(
        count_rows(&mut w.app.db.connect(), "reports"),
        0,
        "nothing was stored"
    );
}

#[actix_web::test]
async fn submissions_are_idempotent_on_their_id() {
    let w = world().await;
    let body = report(&w);
    let (status, first) = submit(&w, &body).await;
    assert_eq!(status, 201);
    let (status, replay) = submit(&w, &body).await;
    assert_eq!(status, 200);
    assert_eq!(replay, first);

    let mut different = body.clone();
    different["narrative"] = json!("Changed my mind");
    let (status, problem) = submit(&w, &different).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("idempotency_mismatch"))
    );
    let stored = w
        .app
        .get_ok(
            &format!("/api/v1/reports/{}", body["id"].as_str().unwrap()),
            &w.admin_token,
        )
        .await;
    assert_eq!(
        stored["narrative"], "Greeted at once; tidy store.",
        "no change stored"
    );

    // Another shopper replaying the same id learns nothing of the report.
    let other = w.app.create_user(&w.admin_token, "shopper").await;
    let other_token = w.app.access_token(&other).await;
    let (status, problem) = w
        .app
        .post("/api/v1/reports", &other_token, body.clone())
        .await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem.get("score").is_none());

    // Another organization's id is a fresh id there.
    let globex = w.app.create_org_with_admin("Globex");
    let globex_token = w.app.access_token(&globex).await;
    let l = w
        .app
        .create_location(
            &globex_token,
            json!({"code": "G", "name": "G", "timezone": "UTC"}),
        )
        .await;
    let q = w
        .app
        .published_questionnaire(&globex_token, example("visit"))
        .await;
    let globex_shopper = w.app.create_user(&globex_token, "shopper").await;
    let globex_shopper_token = w.app.access_token(&globex_shopper).await;
    let mut theirs = body.clone();
    theirs["location_id"] = json!(l.id);
    theirs["questionnaire_id"] = json!(q);
    let (status, created) = w
        .app
        .post("/api/v1/reports", &globex_shopper_token, theirs)
        .await;
    assert_eq!(status, 201, "{created}");
}

#[actix_web::test]
async fn twenty_concurrent_identical_submissions_store_one_report() {
    let w = world().await;
    let body = report(&w);
    let results = futures_util::future::join_all((0..20).map(|_| submit(&w, &body))).await;
    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?} {results:?}"
    );
    assert_eq!(count_rows(&mut w.app.db.connect(), "reports"), 1);
}

#[actix_web::test]
async fn implausible_visits_are_flagged_not_refused() {
    let w = world().await;
    let mut body = report(&w);
    let start = Utc::now() - Duration::hours(2);
    body["visit"] = json!({"started_at": start.to_rfc3339(), "ended_at": (start + Duration::seconds(90)).to_rfc3339()});
    body["check_in"] =
        json!({"lat": 41.1579, "lon": -8.6291, "at": (start + Duration::hours(1)).to_rfc3339()});
    let (status, created) = submit(&w, &body).await;
    assert_eq!(status, 201, "{created}");
    let codes: Vec<&str> = created["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec!["short_visit", "far_check_in", "check_in_outside_visit"]
    );
}

#[actix_web::test]
async fn integration_clients_submit_for_a_named_shopper() {
    let w = world().await;
    let (id, secret) = w
        .app
        .create_client(&w.admin_token, &["reports:write"])
        .await;
    let client_token = w.app.client_token(&id, &secret).await;
    let mut body = report(&w);
    let (status, problem) = w
        .app
        .post("/api/v1/reports", &client_token, body.clone())
        .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/shopper_id"))
    );
    body["shopper_id"] = json!(uuid::Uuid::now_v7());
    let (status, problem) = w
        .app
        .post("/api/v1/reports", &client_token, body.clone())
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "unknown_shopper");
    body["shopper_id"] = json!(w.shopper_id);
    let (status, created) = w
        .app
        .post("/api/v1/reports", &client_token, body.clone())
        .await;
    assert_eq!(
        (status, created["shopper_id"].as_str()),
        (201, Some(w.shopper_id.as_str()))
    );
    let (status, _) = w.app.post("/api/v1/reports", &client_token, body).await;
    assert_eq!(status, 200, "the client's retry is a replay");

    // Other roles do not submit.
    for role in ["admin", "reviewer", "analyst", "manager"] {
        let token = if role == "admin" {
            w.admin_token.clone()
        } else {
            let user = w.app.create_user(&w.admin_token, role).await;
            w.app.access_token(&user).await
        };
        let (status, _) = w.app.post("/api/v1/reports", &token, report(&w)).await;
        assert_eq!(status, 403, "{role}");
    }
    let (id, secret) = w.app.create_client(&w.admin_token, &["reports:read"]).await;
    let reader = w.app.client_token(&id, &secret).await;
    let (status, _) = w.app.post("/api/v1/reports", &reader, report(&w)).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn each_role_sees_what_it_may_and_managers_see_released_reports_redacted() {
    let w = world().await;
    let body = report(&w);
    let (status, created) = submit(&w, &body).await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/api/v1/reports/{}", created["id"].as_str().unwrap());

    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let analyst = w.app.create_user(&w.admin_token, "analyst").await;
    let other_shopper = w.app.create_user(&w.admin_token, "shopper").await;
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    let outsider_manager = w.app.create_user(&w.admin_token, "manager").await;
    let (id, secret) = w.app.create_client(&w.admin_token, &["reports:read"]).await;
    let client_token = w.app.client_token(&id, &secret).await;
    let (id, secret) = w
        .app
        .create_client(&w.admin_token, &["aggregates:read"])
        .await;
    let unscoped_token = w.app.client_token(&id, &secret).await;
    let manager_token = w.app.access_token(&manager).await;
    let outsider_token = w.app.access_token(&outsider_manager).await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;

    for (who, token, staff_visible) in [
        ("admin", w.admin_token.clone(), true),
        ("reviewer", w.app.access_token(&reviewer).await, true),
        ("shopper", w.shopper_token.clone(), true),
        ("analyst", w.app.access_token(&analyst).await, false),
        ("client", client_token.clone(), false),
    ] {
        let (status, seen) = w.app.get(&path, &token).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(seen["shopper_id"], w.shopper_id, "{who}");
        assert_eq!(
            seen["staff_observed"].is_array(),
            staff_visible,
            "{who}: {seen}"
        );
        assert_eq!(seen["staff_observed_redacted"], !staff_visible, "{who}");
        let list = w.app.get_ok("/api/v1/reports", &token).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{who}");
    }
    let other_token = w.app.access_token(&other_shopper).await;
    assert_eq!(w.app.get(&path, &other_token).await.0, 404);
    let list = w.app.get_ok("/api/v1/reports", &other_token).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(w.app.get(&path, &unscoped_token).await.0, 403);

    // Before release, managers see nothing.
    assert_eq!(w.app.get(&path, &manager_token).await.0, 404);
    let list = w.app.get_ok("/api/v1/reports", &manager_token).await;
    assert!(list["items"].as_array().unwrap().is_empty());

    // Released by a reviewer.
    let (status, _) = w
        .app
        .post(
            &format!("{path}/review"),
            &w.admin_token,
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, seen) = w.app.get(&path, &manager_token).await;
    assert_eq!(status, 200);
    for hidden in [
        "shopper_id",
        "visit",
        "check_in",
        "staff_observed",
        "client",
        "flags",
    ] {
        assert!(
            seen.get(hidden).is_none(),
            "{hidden} must be hidden from managers: {seen}"
        );
    }
    assert_eq!(seen["staff_observed_redacted"], true);
    assert!(seen["visit_date"].is_string());
    assert_eq!(seen["score"]["mile_level"], "first");
    // No exact timestamps either: only the day they fall on, as the visit.
    let exact = w.app.get_ok(&path, &w.admin_token).await;
    for stamp in ["created_at", "updated_at"] {
        let day = &exact[stamp].as_str().unwrap()[..10];
        assert_eq!(seen[stamp], format!("{day}T00:00:00Z"), "{stamp}: {seen}");
        assert_ne!(seen[stamp], exact[stamp], "{stamp}");
    }
    let list = w.app.get_ok("/api/v1/reports", &manager_token).await;
    assert_eq!(list["items"][0]["created_at"], seen["created_at"]);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("shopper_id").is_none());
    let list = w
        .app
        .get_ok("/api/v1/reports?status=submitted", &manager_token)
        .await;
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(w.app.get(&path, &outsider_token).await.0, 404);

    // Another organization sees nothing.
    let globex = w.app.create_org_with_admin("Globex");
    let globex_token = w.app.access_token(&globex).await;
    assert_eq!(w.app.get(&path, &globex_token).await.0, 404);
    let list = w.app.get_ok("/api/v1/reports", &globex_token).await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn report_lists_filter_sort_and_page() {
    let w = world().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let mut body = report(&w);
        if i == 3 {
            set_answer(&mut body, "on_phone", json!({"value": true}));
        }
        let (status, created) = submit(&w, &body).await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let token = &w.admin_token;
    let ids_of = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = w.app.get_ok("/api/v1/reports", token).await;
    assert_eq!(ids_of(&all), ids, "oldest first by default");
    let newest = w.app.get_ok("/api/v1/reports?sort=newest", token).await;
    assert_eq!(
        ids_of(&newest),
        ids.iter().rev().cloned().collect::<Vec<_>>()
    );
    let page1 = w.app.get_ok("/api/v1/reports?limit=3", token).await;
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = w
        .app
        .get_ok(&format!("/api/v1/reports?limit=3&cursor={cursor}"), token)
        .await;
    assert_eq!([ids_of(&page1), ids_of(&page2)].concat(), ids);

    let zero = w.app.get_ok("/api/v1/reports?mile_level=zero", token).await;
    assert_eq!(ids_of(&zero), vec![ids[3].clone()]);
    let today = Utc::now().date_naive();
    for (query, expected) in [
        (format!("location_id={}", w.location_id), 4),
        ("region=Lisbon".to_string(), 4),
        ("region=Porto".to_string(), 0),
        ("status=submitted".to_string(), 4),
        ("status=approved".to_string(), 0),
        ("questionnaire_key=store-visit".to_string(), 4),
        (
            format!(
                "visit_from={}&visit_to={}",
                today - chrono::Days::new(1),
                today + chrono::Days::new(1)
            ),
            4,
        ),
        (format!("visit_to={}", today - chrono::Days::new(2)), 0),
        (
            format!(
                "updated_since={}",
                (Utc::now() - Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%SZ")
            ),
            4,
        ),
        (
            format!(
                "updated_since={}",
                (Utc::now() + Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%SZ")
            ),
            0,
        ),
    ] {
        let (status, page) = w.app.get(&format!("/api/v1/reports?{query}"), token).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(page["items"].as_array().unwrap().len(), expected, "{query}");
    }
    for bad in [
        "status=lost",
        "mile_level=third",
        "visit_from=yesterday",
        "cursor=abc",
        "limit=500",
    ] {
        let (status, _) = w.app.get(&format!("/api/v1/reports?{bad}"), token).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[actix_web::test]
async fn an_oversized_report_is_a_413() {
    let w = world().await;
    let mut body = report(&w);
    body["narrative"] = json!("x".repeat(300 * 1024));
    let (status, problem) = submit(&w, &body).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[actix_web::test]
async fn the_daily_quota_frees_a_slot_when_the_oldest_report_is_24_hours_old() {
    // The server's clock is moved by hand: no test waits a day.
    let clock = Clock::manual(Utc::now());
    let w = world_at(&[("SECONDMILE_SHOPPER_DAILY_REPORTS", "2")], clock.clone()).await;
    // The first report now, the second an hour later: the quota is full.
    let (status, created) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{created}");
    clock.advance(Duration::hours(1));
    let (status, created) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{created}");
    let (status, refused) = submit(&w, &report(&w)).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (429, Some("quota_exceeded"))
    );

    // 24 hours after the first report less a minute: still full.
    clock.advance(Duration::hours(22) + Duration::minutes(59));
    let (status, refused) = submit(&w, &report(&w)).await;
    assert_eq!(status, 429, "{refused}");

    // Two minutes on, the first report is over 24 hours old and its slot is free again.
    clock.advance(Duration::minutes(2));
    let (status, created) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{created}");
    let (status, refused) = submit(&w, &report(&w)).await;
    assert_eq!(
        status, 429,
        "the second report still holds its slot: {refused}"
    );
}

#[actix_web::test]
async fn a_shopper_over_the_daily_quota_gets_429_with_retry_after_and_nothing_is_stored() {
    let w = world_with(&[("SECONDMILE_SHOPPER_DAILY_REPORTS", "3")]).await;
    let mut stored = Vec::new();
    for _ in 0..3 {
        let body = report(&w);
        let (status, created) = submit(&w, &body).await;
        assert_eq!(status, 201, "{created}");
        stored.push(body);
    }
    let over = report(&w);
    let mut response = w
        .app
        .client
        .post(w.app.url("/api/v1/reports"))
        .bearer_auth(&w.shopper_token)
        .send_json(&over)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((86_000..=86_400).contains(&wait), "{wait}");
    let body = crate::helpers::json_body(&mut response).await;
    assert_eq!(body["code"], "quota_exceeded", "{body}");
    let id = over["id"].as_str().unwrap();
    let (status, _) = w
        .app
        .get(&format!("/api/v1/reports/{id}"), &w.admin_token)
        .await;
    assert_eq!(status, 404, "the refused report was not stored");

    // A retry of a stored report is still answered; a client submitting for the shopper is
    // held to the same quota; another shopper is not.
    let (status, _) = submit(&w, &stored[0]).await;
    assert_eq!(status, 200);
    let (client_id, secret) = w
        .app
        .create_client(&w.admin_token, &["reports:write"])
        .await;
    let client = w.app.client_token(&client_id, &secret).await;
    let mut on_behalf = report(&w);
    on_behalf["shopper_id"] = json!(w.shopper_id);
    let (status, body) = w.app.post("/api/v1/reports", &client, on_behalf).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("quota_exceeded")),
        "{body}"
    );
    let other = w.app.create_user(&w.admin_token, "shopper").await;
    let other_token = w.app.access_token(&other).await;
    let (status, body) = w
        .app
        .post("/api/v1/reports", &other_token, report(&w))
        .await;
    assert_eq!(status, 201, "{body}");
}

#[actix_web::test]
async fn region_key_and_date_filters_are_checked_alike_wherever_they_are_taken() {
    let w = world().await;
    let (status, wave) = w
        .app
        .post(
            "/api/v1/waves",
            &w.admin_token,
            json!({"name": "Q1", "starts_on": "2026-01-05", "ends_on": "2026-03-29",
                   "questionnaire_key": "store-visit", "visits_per_location": 1}),
        )
        .await;
    assert_eq!(status, 201, "{wave}");
    let long = "r".repeat(101);
    let wave_id = wave["id"].as_str().unwrap();
    for path in [
        "/api/v1/reports",
        "/api/v1/exports/reports.csv",
        "/api/v1/aggregates/overview",
        &format!("/api/v1/waves/{wave_id}/coverage"),
    ] {
        let (status, problem) = w
            .app
            .get(&format!("{path}?region={long}"), &w.admin_token)
            .await;
        assert_eq!(status, 400, "{path}: {problem}");
        assert_eq!(problem["code"], "invalid_query", "{path}: {problem}");
        assert_eq!(
            problem["errors"][0]["code"], "too_long",
            "{path}: {problem}"
        );
        assert_eq!(
            crate::helpers::pointers(&problem),
            ["/query/region"],
            "{path}"
        );
    }
    // The report list and the export take the same filters and refuse the same way, every
    // problem listed at once.
    for path in ["/api/v1/reports", "/api/v1/exports/reports.csv"] {
        let (status, problem) = w
            .app
            .get(
                &format!(
                    "{path}?region={long}&questionnaire_key=Not%20a%20key&visit_from=2026-02-01&visit_to=2026-01-01"
                ),
                &w.admin_token,
            )
            .await;
        assert_eq!(status, 400, "{path}: {problem}");
        assert_eq!(
            crate::helpers::pointers(&problem),
            [
                "/query/region",
                "/query/questionnaire_key",
                "/query/visit_from"
            ],
            "{path}"
        );
    }
    // A blank region filters nothing.
    let (status, created) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{created}");
    let (status, page) = w
        .app
        .get("/api/v1/reports?region=%20", &w.admin_token)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
}

#[actix_web::test]
async fn twenty_concurrent_submissions_of_one_shopper_never_pass_the_daily_quota() {
    let w = world_with(&[("SECONDMILE_SHOPPER_DAILY_REPORTS", "3")]).await;
    let bodies: Vec<Value> = (0..20).map(|_| report(&w)).collect();
    let results = futures_util::future::join_all(bodies.iter().map(|b| submit(&w, b))).await;
    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "exactly the quota is stored: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 429),
        "{statuses:?} {results:?}"
    );
    assert_eq!(count_rows(&mut w.app.db.connect(), "reports"), 3);
}

#[actix_web::test]
async fn a_submission_shows_what_is_left_of_the_daily_quota() {
    let w = world_with(&[("SECONDMILE_SHOPPER_DAILY_REPORTS", "2")]).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let response = w
            .app
            .client
            .post(w.app.url("/api/v1/reports"))
            .bearer_auth(&w.shopper_token)
            .send_json(&report(&w))
            .await
            .unwrap();
        let get = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        seen.push((
            response.status().as_u16(),
            get("ratelimit-policy"),
            get("ratelimit"),
            get("retry-after"),
        ));
    }
    let policy = Some("\"daily-reports\";q=2;w=86400".to_string());
    assert_eq!((seen[0].0, &seen[0].1), (201, &policy), "{seen:?}");
    assert!(
        seen[0]
            .2
            .as_deref()
            .unwrap()
            .starts_with("\"daily-reports\";r=1;t="),
        "{seen:?}"
    );
    assert!(
        seen[1]
            .2
            .as_deref()
            .unwrap()
            .starts_with("\"daily-reports\";r=0;t="),
        "{seen:?}"
    );
    assert_eq!((seen[2].0, &seen[2].1), (429, &policy), "{seen:?}");
    assert!(
        seen[2]
            .2
            .as_deref()
            .unwrap()
            .starts_with("\"daily-reports\";r=0;t="),
        "{seen:?}"
    );
    assert!(seen[2].3.is_some(), "{seen:?}");
}

#[actix_web::test]
async fn a_body_with_a_key_twice_is_refused_and_nothing_stored() {
    let w = world().await;
    let body = report(&w);
    let text = serde_json::to_string(&body).unwrap();
    // `"id": A, …, "id": B`: a proxy may read A where serde would read B.
    let other = uuid::Uuid::new_v4();
    let twice = format!(
        "{}, \"id\": \"{other}\", \"visit\": {{\"started_at\": \"x\", \"started_at\": \"y\"}}}}",
        &text[..text.len() - 1]
    );
    let mut response = w
        .app
        .client
        .post(w.app.url("/api/v1/reports"))
        .bearer_auth(&w.shopper_token)
        .insert_header(("content-type", "application/json"))
        .send_body(twice)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let problem = crate::helpers::json_body(&mut response).await;
    assert_eq!(
        crate::helpers::pointers(&problem),
        ["/id", "/visit/started_at", "/visit"],
        "{problem}"
    );
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "duplicate_key"),
        "{problem}"
    );
    assert_eq!(count_rows(&mut w.app.db.connect(), "reports"), 0);
}
