//! Action plans: opened by a zero-mile verdict or a critical failure where the organization
//! turned them on (or by hand), planned and worked by the location's manager, verified or
//! reopened by HQ, overdue in the location's time zone, one open per location and cause
//! even under concurrent requests, every change an event.

use chrono::{TimeDelta, Utc};
use secondmile::clock::Clock;
use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{World, pointers, report, set_answer, world, world_at};

fn on_the_phone(w: &World) -> Value {
    let mut body = report(w);
    set_answer(&mut body, "on_phone", json!({"value": true}));
    body
}

async fn plans_on(w: &World) {
    let (status, body) = w
        .app
        .put(
            "/api/v1/organization/settings",
            &w.admin_token,
            json!({"action_plans": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["action_plans"], true);
    assert_eq!(
        body["recognition_names"], false,
        "the other setting is kept"
    );
}

async fn plans(w: &World, query: &str) -> Vec<Value> {
    let page = w
        .app
        .get_ok(&format!("/api/v1/action-plans?{query}"), &w.admin_token)
        .await;
    page["items"].as_array().unwrap().clone()
}

/// The action plan events of the feed, once every one of `wanted` is there (the sequencer
/// numbers events just after their commit).
async fn event_types(w: &World, wanted: &[&str]) -> Vec<String> {
    let mut types = Vec::new();
    for _ in 0..100 {
        let page = w
            .app
            .get_ok("/api/v1/events?limit=500", &w.admin_token)
            .await;
        types = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .filter(|t| t.starts_with("action_plan."))
            .collect();
        if wanted.iter().all(|t| types.iter().any(|x| x == t)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    types
}

async fn manager_of(w: &World, location: &str) -> String {
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[location])
        .await;
    w.app.access_token(&manager).await
}

#[actix_web::test]
async fn a_zero_mile_store_gets_a_plan_its_manager_works_and_hq_verifies() {
    let w = world().await;
    plans_on(&w).await;
    // The first visit with staff on the phone is a critical failure: a plan of that cause.
    let first = approved(&w, &on_the_phone(&w)).await;
    let mut visits = vec![first.clone()];
    let open = plans(&w, "").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["cause"], "critical_failure");
    assert_eq!(open[0]["status"], "open");
    assert_eq!(open[0]["visits"], json!([first["id"]]));
    assert_eq!(open[0]["opened_by"], Value::Null);
    // Four more: the verdict becomes zero mile (five visits is the minimum sample); the
    // later critical failures join the open plan.
    for _ in 0..4 {
        visits.push(approved(&w, &on_the_phone(&w)).await);
    }
    let open = plans(&w, "").await;
    assert_eq!(open.len(), 2, "{open:?}");
    let critical = open
        .iter()
        .find(|p| p["cause"] == "critical_failure")
        .unwrap();
    assert_eq!(critical["visits"].as_array().unwrap().len(), 5);
    let zero = open.iter().find(|p| p["cause"] == "zero_mile").unwrap();
    let id = zero["id"].as_str().unwrap().to_string();
    assert_eq!(zero["location"]["code"], "S-1");

    // The manager plans: causes and two actions, due today and in a week at the location.
    let manager = manager_of(&w, &w.location_id).await;
    let today = Utc::now().date_naive();
    let plan = json!({
        "causes": "One person covers the counter and the phone at lunch.",
        "actions": [
            {"description": "Phone orders go to the back office at lunch", "owner": "Marta", "due_on": today + TimeDelta::days(7)},
            {"description": "Greeting refresher", "owner": "João", "due_on": today + TimeDelta::days(1)}
        ]
    });
    let (status, planned) = w
        .app
        .put(
            &format!("/api/v1/action-plans/{id}/plan"),
            &manager,
            plan.clone(),
        )
        .await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["status"], "planned");
    assert_eq!(planned["actions"][1]["number"], 2);
    assert_eq!(planned["actions"][1]["overdue"], false);
    // A reviewer does not plan; a shopper sees nothing; another manager finds nothing.
    let (status, _) = w
        .app
        .put(
            &format!("/api/v1/action-plans/{id}/plan"),
            &w.shopper_token,
            plan.clone(),
        )
        .await;
    assert_eq!(status, 403);
    let other = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-7", "name": "Other", "timezone": "Europe/Lisbon"}),
        )
        .await;
    let stranger = manager_of(&w, &other.id.to_string()).await;
    let (status, _) = w
        .app
        .put(&format!("/api/v1/action-plans/{id}/plan"), &stranger, plan)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .app
        .get(&format!("/api/v1/action-plans/{id}"), &stranger)
        .await;
    assert_eq!(status, 404);
    let theirs = w.app.get_ok("/api/v1/action-plans", &stranger).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, _) = w.app.get("/api/v1/action-plans", &w.shopper_token).await;
    assert_eq!(status, 403);

    // Actions done, one by one; the last makes the plan done.
    let done = |n: u32| format!("/api/v1/action-plans/{id}/actions/{n}/done");
    let (status, body) = w
        .app
        .post(&done(1), &manager, json!({"note": "Rota posted"}))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("planned")),
        "{body}"
    );
    assert_eq!(body["actions"][0]["done_note"], "Rota posted");
    let (status, body) = w.app.post(&done(1), &manager, json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("action_done")));
    let (status, _) = w.app.post(&done(3), &manager, json!({})).await;
    assert_eq!(status, 404);
    let (status, body) = w.app.post(&done(2), &manager, json!({})).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("done")),
        "{body}"
    );
    // HQ decides: a manager may not; a reviewer verifies; a second decision is refused.
    let review = format!("/api/v1/action-plans/{id}/review");
    let (status, _) = w
        .app
        .post(&review, &manager, json!({"decision": "verify"}))
        .await;
    assert_eq!(status, 403);
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer = w.app.access_token(&reviewer).await;
    let (status, body) = w
        .app
        .post(
            &review,
            &reviewer,
            json!({"decision": "reopen", "note": "Not yet"}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("reopened")),
        "{body}"
    );
    // Reopened: planned again, done again, verified.
    let again = json!({"causes": "Still the phone.", "actions": [{"description": "Divert calls at lunch", "owner": "Marta", "due_on": today}]});
    let (status, body) = w
        .app
        .put(&format!("/api/v1/action-plans/{id}/plan"), &manager, again)
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("planned")),
        "{body}"
    );
    assert_eq!(body["actions"].as_array().unwrap().len(), 1);
    let (status, _) = w.app.post(&done(1), &manager, json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = w
        .app
        .post(
            &review,
            &reviewer,
            json!({"decision": "verify", "note": "Good"}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("verified")),
        "{body}"
    );
    assert!(body["verified_at"].is_string());
    let (status, body) = w
        .app
        .post(&review, &reviewer, json!({"decision": "verify"}))
        .await;
    assert_eq!(
        (status, body["current_status"].as_str()),
        (409, Some("verified")),
        "{body}"
    );
    // Whether it worked: the baseline before it opened, the follow-up since it was done.
    let detail = w
        .app
        .get_ok(&format!("/api/v1/action-plans/{id}"), &manager)
        .await;
    // The baseline holds the visits dated (at the store) before the day the plan opened:
    // none, unless the test runs just after midnight and the visits an hour ago count.
    let lisbon = |at: &Value| {
        at.as_str()
            .unwrap()
            .parse::<chrono::DateTime<Utc>>()
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Lisbon)
            .date_naive()
    };
    let opened_on = lisbon(&detail["opened_at"]);
    let before = visits
        .iter()
        .filter(|v| lisbon(&v["visit"]["started_at"]) < opened_on)
        .count();
    assert_eq!(detail["baseline"]["figures"]["visits"], before);
    assert_eq!(detail["follow_up"]["from"], json!(today));
    assert!(detail["changes"].is_object(), "{detail}");
    // Every step was an event.
    let wanted = [
        "action_plan.opened",
        "action_plan.planned",
        "action_plan.done",
        "action_plan.reopened",
        "action_plan.verified",
    ];
    let types = event_types(&w, &wanted).await;
    for t in wanted {
        assert!(types.iter().any(|x| x == t), "{t}: {types:?}");
    }
    // The location's plans; filters.
    let mine = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/action-plans?status=verified",
                w.location_id
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        plans(&w, "cause=critical_failure&status=open").await.len(),
        1
    );
}

#[actix_web::test]
async fn no_plan_opens_by_itself_unless_the_organization_turned_plans_on() {
    let w = world().await;
    for _ in 0..5 {
        approved(&w, &on_the_phone(&w)).await;
    }
    assert!(plans(&w, "").await.is_empty());
    let settings = w
        .app
        .get_ok("/api/v1/organization/settings", &w.admin_token)
        .await;
    assert_eq!(settings["action_plans"], false);
}

#[actix_web::test]
async fn twenty_concurrent_opens_of_one_location_make_one_plan() {
    let w = world().await;
    let path = format!("/api/v1/locations/{}/action-plans", w.location_id);
    let tries = (0..20).map(|i| {
        let path = path.clone();
        let w = &w;
        async move {
            w.app
                .post(
                    &path,
                    &w.admin_token,
                    json!({"summary": format!("try {i}")}),
                )
                .await
        }
    });
    let answers = futures_util::future::join_all(tries).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "plan_exists")
        .count();
    assert_eq!((created, refused), (1, 19), "{answers:?}");
    let listed = plans(&w, "cause=manual").await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0]["opened_by"].is_string());
}

#[actix_web::test]
async fn a_plan_is_checked_with_every_problem_listed() {
    let w = world().await;
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/locations/{}/action-plans", w.location_id),
            &w.admin_token,
            json!({"summary": "   "}),
        )
        .await;
    assert_eq!((status, pointers(&body)), (422, vec!["/summary"]), "{body}");
    let (status, created) = w
        .app
        .post(
            &format!("/api/v1/locations/{}/action-plans", w.location_id),
            &w.admin_token,
            json!({"summary": "Dirty entrance, three visits running"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let yesterday = Utc::now().date_naive() - TimeDelta::days(2);
    let far = Utc::now().date_naive() + TimeDelta::days(400);
    let (status, body) = w
        .app
        .put(
            &format!("/api/v1/action-plans/{id}/plan"),
            &w.admin_token,
            json!({"causes": "", "actions": [
                {"description": "", "owner": "x".repeat(101), "due_on": yesterday},
                {"description": "ok", "owner": "ok", "due_on": far}
            ]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        pointers(&body),
        [
            "/causes",
            "/actions/0/description",
            "/actions/0/owner",
            "/actions/0/due_on",
            "/actions/1/due_on"
        ]
    );
    let (status, body) = w
        .app
        .put(
            &format!("/api/v1/action-plans/{id}/plan"),
            &w.admin_token,
            json!({"causes": "c", "actions": []}),
        )
        .await;
    assert_eq!((status, pointers(&body)), (422, vec!["/actions"]), "{body}");
    // Nothing was stored by the refused requests.
    let plan = w
        .app
        .get_ok(&format!("/api/v1/action-plans/{id}"), &w.admin_token)
        .await;
    assert_eq!(plan["status"], "open");
    assert_eq!(plan["actions"], json!([]));
    // Not done yet: HQ cannot decide; an unknown decision is refused.
    let review = format!("/api/v1/action-plans/{id}/review");
    let (status, body) = w
        .app
        .post(&review, &w.admin_token, json!({"decision": "verify"}))
        .await;
    assert_eq!(
        (status, body["current_status"].as_str()),
        (409, Some("open"))
    );
    let (status, _) = w
        .app
        .post(&review, &w.admin_token, json!({"decision": "approve"}))
        .await;
    assert!(status == 400 || status == 422, "{status}");
    // Another organization sees none of it.
    let other = w.app.create_org_with_admin("Other");
    let other = w.app.access_token(&other).await;
    let (status, _) = w
        .app
        .get(&format!("/api/v1/action-plans/{id}"), &other)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .app
        .post(
            &format!("/api/v1/locations/{}/action-plans", w.location_id),
            &other,
            json!({"summary": "x"}),
        )
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn an_action_is_overdue_the_day_after_its_due_date_at_the_location() {
    // Lisbon: the server's clock moves by hand.
    let clock = Clock::manual(Utc::now());
    let w = world_at(&[], clock.clone()).await;
    let (status, created) = w
        .app
        .post(
            &format!("/api/v1/locations/{}/action-plans", w.location_id),
            &w.admin_token,
            json!({"summary": "Slow service at lunch"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let today = clock
        .now()
        .with_timezone(&chrono_tz::Europe::Lisbon)
        .date_naive();
    let (status, body) = w
        .app
        .put(
            &format!("/api/v1/action-plans/{id}/plan"),
            &w.admin_token,
            json!({"causes": "c", "actions": [{"description": "d", "owner": "o", "due_on": today}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(plans(&w, "overdue=true").await.is_empty());
    // Still due today at the location; overdue once the next day starts there.
    let db = secondmile::db::Db::connect(&crate::helpers::database_config(&w.app.db))
        .unwrap()
        .with_clock(clock.clone());
    assert_eq!(
        secondmile::improvement::overdue::sweep(&db).await.unwrap(),
        0
    );
    clock.advance(TimeDelta::days(1));
    let plan = w
        .app
        .get_ok(&format!("/api/v1/action-plans/{id}"), &w.admin_token)
        .await;
    assert_eq!(plan["overdue"], true, "{plan}");
    assert_eq!(plan["actions"][0]["overdue"], true);
    assert_eq!(plans(&w, "overdue=true").await.len(), 1);
    assert!(plans(&w, "overdue=false").await.is_empty());
    // The sweep records the event once.
    assert_eq!(
        secondmile::improvement::overdue::sweep(&db).await.unwrap(),
        1
    );
    assert_eq!(
        secondmile::improvement::overdue::sweep(&db).await.unwrap(),
        0
    );
    let types = event_types(&w, &["action_plan.overdue"]).await;
    assert_eq!(
        types.iter().filter(|t| *t == "action_plan.overdue").count(),
        1,
        "{types:?}"
    );
}
