//! The visit programme: waves, generated and manual assignments, lockout rules, claiming,
//! and coverage, as admins, shoppers and managers see them.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use secondmile::pagination::Page;
use secondmile::programme::dto::{AssignmentResponse, CoverageResponse, GenerateResponse};
use secondmile::programme::model::AssignmentStatus;
use secondmile::programme::schedule::Slot;

use crate::helpers::TestApp;
use crate::helpers::{World, report, submit, world};

/// A world with `n` more locations in the region "Coast" and `shoppers` more shoppers;
/// returns the new location ids and shopper tokens (with ids).
async fn programme(w: &World, n: usize, shoppers: usize) -> (Vec<String>, Vec<(String, String)>) {
    let mut locations = Vec::new();
    for i in 0..n {
        let l = w
            .app
            .create_location(
                &w.admin_token,
                json!({"code": format!("C-{i}"), "name": format!("Coast {i}"), "region": "Coast", "timezone": "Europe/Lisbon"}),
            )
            .await;
        locations.push(l.id.to_string());
    }
    let mut people = Vec::new();
    for _ in 0..shoppers {
        let user = w.app.create_user(&w.admin_token, "shopper").await;
        let token = w.app.access_token(&user).await;
        people.push((user.id, token));
    }
    (locations, people)
}

fn day(offset: i64) -> NaiveDate {
    (Utc::now() + Duration::days(offset)).date_naive()
}

async fn set_rules(app: &TestApp, admin: &str, lockout: u32, yearly: u32) {
    let (status, body) = app
        .put(
            "/api/v1/programme/settings",
            admin,
            json!({"lockout_days": lockout, "max_visits_per_location_per_year": yearly}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lockout_days"], lockout);
}

async fn create_wave(app: &TestApp, admin: &str, body: Value) -> String {
    let (status, wave) = app.post("/api/v1/waves", admin, body).await;
    assert_eq!(status, 201, "{wave}");
    wave["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn a_generated_wave_spreads_visits_over_its_window_slots_and_shoppers_within_the_rules() {
    let w = world().await;
    let (locations, shoppers) = programme(&w, 10, 4).await;
    set_rules(&w.app, &w.admin_token, 90, 4).await;
    let (from, to) = (day(10), day(39));
    let wave = create_wave(
        &w.app,
        &w.admin_token,
        json!({"name": "Spring", "starts_on": from, "ends_on": to, "questionnaire_key": "store-visit", "visits_per_location": 3, "region": "Coast"}),
    )
    .await;
    // One shopper is excluded from the first location; another visited the second last week.
    let (status, body) = w
        .app
        .put(
            &format!("/api/v1/users/{}/excluded-locations", shoppers[0].0),
            &w.admin_token,
            json!({"location_ids": [locations[0]]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let plan: GenerateResponse = w
        .app
        .post_as(
            &format!("/api/v1/waves/{wave}/assignments/generate"),
            &w.admin_token,
            Some(json!({"instructions": "Buy one item and ask about returns."})),
            201,
        )
        .await;
    assert_eq!(plan.locations, 10);
    let created = &plan.created;
    assert_eq!(
        created.len(),
        30,
        "3 visits for each of the 10 Coast locations"
    );
    // The wave's other location (the world's, region Lisbon) is out of scope.
    assert!(
        created
            .iter()
            .all(|a| a.location_id.to_string() != w.location_id)
    );
    // 4 shoppers, but one may not go to the first location: still every visit has a shopper
    // (3 shoppers remain for its 3 visits).
    assert_eq!(plan.unassigned, 0);
    let mut slots: HashMap<Option<Slot>, usize> = HashMap::new();
    let mut pairs: HashSet<(String, String)> = HashSet::new();
    let mut per_location_parts: HashMap<String, HashSet<NaiveDate>> = HashMap::new();
    for a in created {
        assert_eq!(a.status, AssignmentStatus::Assigned);
        assert_eq!(a.questionnaire_key, "store-visit");
        let (f, t) = (a.visit_from, a.visit_to);
        assert!(from <= f && f <= t && t <= to, "{a:?}");
        *slots.entry(a.slot).or_default() += 1;
        let shopper = a.shopper_id.expect("given to a shopper").to_string();
        let location = a.location_id.to_string();
        // Lockout 90 days over a 30-day wave: never the same shopper twice at one location.
        assert!(pairs.insert((shopper.clone(), location.clone())), "{a:?}");
        assert!(
            !(shopper == shoppers[0].0 && location == locations[0]),
            "excluded: {a:?}"
        );
        per_location_parts
            .entry(location)
            .or_default()
            .insert(a.visit_from);
    }
    assert_eq!(slots.len(), 3, "{slots:?}");
    assert!(slots.values().all(|&n| n == 10), "{slots:?}");
    assert!(
        per_location_parts.values().all(|parts| parts.len() == 3),
        "each location's visits fall in three consecutive parts of the window"
    );

    // Nothing more to plan: a second generation creates nothing.
    let (status, again) = w
        .app
        .post(
            &format!("/api/v1/waves/{wave}/assignments/generate"),
            &w.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["created"], json!([]));

    let coverage: CoverageResponse = w
        .app
        .get_as(&format!("/api/v1/waves/{wave}/coverage"), &w.admin_token)
        .await;
    let t = &coverage.totals;
    assert_eq!(
        (
            t.locations,
            t.required,
            t.completed,
            t.assigned,
            t.open,
            t.gap
        ),
        (10, 30, 0, Some(30), Some(0), Some(0))
    );
    // The shopper sees theirs, due first, and may accept or decline with a reason.
    let mine: Page<AssignmentResponse> =
        w.app.get_as("/api/v1/me/assignments", &shoppers[1].1).await;
    let mine = mine.items;
    // Five shoppers (the world's and four more) share the 30 visits evenly.
    let mut load: HashMap<_, usize> = HashMap::new();
    for a in created {
        *load.entry(a.shopper_id).or_default() += 1;
    }
    assert_eq!(load.len(), 5, "{load:?}");
    assert!(load.values().all(|&n| n == 6), "{load:?}");
    assert_eq!(mine.len(), 6);
    let ends: Vec<NaiveDate> = mine.iter().map(|a| a.visit_to).collect();
    assert!(ends.is_sorted(), "earliest deadline first: {ends:?}");
    let first = mine[0].id;
    let (status, accepted) = w
        .app
        .post_empty(
            &format!("/api/v1/assignments/{first}/accept"),
            &shoppers[1].1,
        )
        .await;
    assert_eq!(
        (status, accepted["status"].as_str()),
        (200, Some("accepted")),
        "{accepted}"
    );
    let (status, again) = w
        .app
        .post_empty(
            &format!("/api/v1/assignments/{first}/accept"),
            &shoppers[1].1,
        )
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    assert_eq!(again["current_status"], "accepted");
    let second = mine[1].id;
    let (status, refused) = w
        .app
        .post(
            &format!("/api/v1/assignments/{second}/decline"),
            &shoppers[1].1,
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, declined) = w
        .app
        .post(
            &format!("/api/v1/assignments/{second}/decline"),
            &shoppers[1].1,
            json!({"reason": "I know the staff there."}),
        )
        .await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(declined["decline_reason"], "I know the staff there.");
    // Another shopper's assignment is not found for them.
    let (status, _) = w
        .app
        .post_empty(
            &format!("/api/v1/assignments/{first}/accept"),
            &shoppers[2].1,
        )
        .await;
    assert_eq!(status, 404);
    // The wave started? Not yet: its dates may change; the name always.
    let (status, body) = w
        .app
        .patch(
            &format!("/api/v1/waves/{wave}"),
            &w.admin_token,
            json!({"ends_on": day(45)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Closing cancels what is left.
    let (status, closed) = w
        .app
        .post_empty(&format!("/api/v1/waves/{wave}/close"), &w.admin_token)
        .await;
    assert_eq!((status, closed["status"].as_str()), (200, Some("closed")));
    let after = w
        .app
        .get_ok(&format!("/api/v1/assignments/{first}"), &shoppers[1].1)
        .await;
    assert_eq!(after["status"], "cancelled");
}

#[actix_web::test]
async fn lockout_rules_refuse_with_the_rule_and_the_day_it_frees_up() {
    let w = world().await;
    let (locations, shoppers) = programme(&w, 2, 2).await;
    set_rules(&w.app, &w.admin_token, 60, 4).await;
    let (from, to) = (day(5), day(200));
    let wave = create_wave(
        &w.app,
        &w.admin_token,
        json!({"name": "Year", "starts_on": from, "ends_on": to, "questionnaire_key": "store-visit", "visits_per_location": 2}),
    )
    .await;
    let path = format!("/api/v1/waves/{wave}/assignments");
    let first_end = day(14);
    let (status, created) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!([{"location_id": locations[0], "shopper_id": shoppers[0].0, "visit_from": day(5), "visit_to": first_end, "slot": "morning"}]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    // The same shopper at the same store 30 days later: 409, free 60 days after the first window.
    let (status, refused) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!([
                {"location_id": locations[1], "shopper_id": shoppers[0].0, "visit_from": day(40), "visit_to": day(45)},
                {"location_id": locations[0], "shopper_id": shoppers[0].0, "visit_from": day(40), "visit_to": day(45)}
            ]),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "lockout_period");
    let frees = first_end + Duration::days(60);
    assert_eq!(refused["frees_on"], json!(frees));
    assert_eq!(refused["errors"][0]["pointer"], "/1/shopper_id");
    assert_eq!(refused["errors"].as_array().unwrap().len(), 1);
    // All or none: the valid first item was not stored either.
    let listed = w.app.get_ok(&path, &w.admin_token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    // From the day it frees up, it is accepted.
    let (status, body) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!([{"location_id": locations[0], "shopper_id": shoppers[0].0, "visit_from": frees, "visit_to": frees + Duration::days(3)}]),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // An excluded shopper: 409 shopper_excluded, no date.
    let (status, _) = w
        .app
        .put(
            &format!("/api/v1/users/{}/excluded-locations", shoppers[1].0),
            &w.admin_token,
            json!({"location_ids": [locations[1]]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!([{"location_id": locations[1], "shopper_id": shoppers[1].0}]),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("shopper_excluded")),
        "{refused}"
    );
    assert!(refused.get("frees_on").is_none());
    // Invalid items are listed, each with its pointer.
    let (status, invalid) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!([{"location_id": uuid::Uuid::new_v4(), "visit_from": day(1), "instructions": "x".repeat(2001)}]),
        )
        .await;
    assert_eq!(status, 422, "{invalid}");
    let pointers = crate::helpers::pointers(&invalid);
    assert_eq!(
        pointers,
        ["/0/location_id", "/0/visit_from", "/0/instructions"]
    );
}

#[actix_web::test]
async fn of_two_shoppers_claiming_one_open_assignment_one_wins() {
    let w = world().await;
    let (locations, shoppers) = programme(&w, 1, 2).await;
    let wave = create_wave(
        &w.app,
        &w.admin_token,
        json!({"name": "Open", "starts_on": day(2), "ends_on": day(20), "questionnaire_key": "store-visit", "visits_per_location": 1}),
    )
    .await;
    let (status, created) = w
        .app
        .post(
            &format!("/api/v1/waves/{wave}/assignments"),
            &w.admin_token,
            json!([{"location_id": locations[0], "instructions": "Ask about the loyalty card."}]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created[0]["status"], "open");
    let id = created[0]["id"].as_str().unwrap().to_string();
    for (_, token) in &shoppers {
        let claimable = w
            .app
            .get_ok("/api/v1/me/claimable-assignments", token)
            .await;
        assert_eq!(claimable["items"][0]["id"], json!(id));
    }
    let path = format!("/api/v1/assignments/{id}/claim");
    let (a, b) = futures_util::join!(
        w.app.post_empty(&path, &shoppers[0].1),
        w.app.post_empty(&path, &shoppers[1].1)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let loser = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(loser["code"], "assignment_taken", "{loser}");
    let winner = if a.0 == 200 {
        &shoppers[0]
    } else {
        &shoppers[1]
    };
    let claimed = w
        .app
        .get_ok(&format!("/api/v1/assignments/{id}"), &winner.1)
        .await;
    assert_eq!(claimed["status"], "accepted");
    assert_eq!(claimed["shopper_id"], json!(winner.0));
    // It is nobody else's to see any more.
    let other = if a.0 == 200 {
        &shoppers[1]
    } else {
        &shoppers[0]
    };
    let (status, _) = w
        .app
        .get(&format!("/api/v1/assignments/{id}"), &other.1)
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn managers_never_see_assignments_and_coverage_counts_released_visits() {
    let w = world().await;
    let (locations, shoppers) = programme(&w, 2, 1).await;
    // A wave that started ten days ago, over the world's location and the two new ones.
    let wave = create_wave(
        &w.app,
        &w.admin_token,
        json!({"name": "Now", "starts_on": day(-10), "ends_on": day(20), "questionnaire_key": "store-visit", "visits_per_location": 2}),
    )
    .await;
    let (status, created) = w
        .app
        .post(
            &format!("/api/v1/waves/{wave}/assignments"),
            &w.admin_token,
            json!([
                {"location_id": locations[0], "shopper_id": shoppers[0].0},
                {"location_id": locations[1]}
            ]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    // Its dates no longer change.
    let (status, body) = w
        .app
        .patch(
            &format!("/api/v1/waves/{wave}"),
            &w.admin_token,
            json!({"visits_per_location": 3}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("wave_started")));

    // Three reports at the world's location: two approved, one rejected.
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    for action in ["approve", "approve", "reject"] {
        let (status, r) = submit(&w, &report(&w)).await;
        assert_eq!(status, 201, "{r}");
        let mut body = json!({"action": action});
        if action == "reject" {
            body["note"] = json!("Not a real visit");
        }
        let (status, reviewed) = w
            .app
            .post(
                &format!("/api/v1/reports/{}/review", r["id"].as_str().unwrap()),
                &reviewer_token,
                body,
            )
            .await;
        assert_eq!(status, 200, "{reviewed}");
    }
    let coverage = w
        .app
        .get_ok(&format!("/api/v1/waves/{wave}/coverage"), &w.admin_token)
        .await;
    let row = |c: &Value, id: &str| {
        c["locations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["location_id"] == json!(id))
            .cloned()
            .unwrap()
    };
    // Recomputed by hand: 2 approved at the world's location; one assigned and one open
    // elsewhere.
    assert_eq!(
        row(&coverage, &w.location_id),
        json!({"location_id": w.location_id, "code": "S-1", "name": "Chiado", "region": "Lisbon", "required": 2, "completed": 2, "assigned": 0, "open": 0, "gap": 0})
    );
    assert_eq!(row(&coverage, &locations[0])["assigned"], 1);
    assert_eq!(row(&coverage, &locations[0])["gap"], 1);
    assert_eq!(row(&coverage, &locations[1])["open"], 1);
    assert_eq!(row(&coverage, &locations[1])["gap"], 2);
    assert_eq!(
        coverage["totals"],
        json!({"locations": 3, "required": 6, "completed": 2, "assigned": 1, "open": 1, "gap": 3})
    );
    // A region filter.
    let coast = w
        .app
        .get_ok(
            &format!("/api/v1/waves/{wave}/coverage?region=Coast"),
            &w.admin_token,
        )
        .await;
    assert_eq!(coast["totals"]["locations"], 2);

    // The manager of the world's location: completed counts of their locations only.
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let manager_token = w.app.access_token(&manager).await;
    let theirs = w
        .app
        .get_ok(&format!("/api/v1/waves/{wave}/coverage"), &manager_token)
        .await;
    assert_eq!(
        theirs["locations"],
        json!([{"location_id": w.location_id, "code": "S-1", "name": "Chiado", "region": "Lisbon", "required": 2, "completed": 2}])
    );
    assert_eq!(
        theirs["totals"],
        json!({"locations": 1, "required": 2, "completed": 2})
    );
    let assignment = created[0]["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/waves/{wave}/assignments"),
        format!("/api/v1/assignments/{assignment}"),
        "/api/v1/me/assignments".to_string(),
        format!("/api/v1/waves/{wave}"),
    ] {
        let (status, body) = w.app.get(&path, &manager_token).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    // Shoppers see no coverage.
    let (status, _) = w
        .app
        .get(&format!("/api/v1/waves/{wave}/coverage"), &shoppers[0].1)
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn a_report_naming_its_assignment_completes_it_and_a_rejection_reopens_the_slot() {
    let w = world().await;
    let (locations, _) = programme(&w, 1, 0).await;
    let wave = create_wave(
        &w.app,
        &w.admin_token,
        json!({"name": "Now", "starts_on": day(-5), "ends_on": day(10), "questionnaire_key": "store-visit", "visits_per_location": 1}),
    )
    .await;
    let (status, created) = w
        .app
        .post(
            &format!("/api/v1/waves/{wave}/assignments"),
            &w.admin_token,
            json!([
                {"location_id": w.location_id, "shopper_id": w.shopper_id},
                {"location_id": locations[0], "shopper_id": w.shopper_id},
                {"location_id": w.location_id, "shopper_id": w.shopper_id, "visit_from": day(8), "visit_to": day(10)}
            ]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let ids: Vec<String> = created
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let (status, _) = w
        .app
        .post_empty(
            &format!("/api/v1/assignments/{}/accept", ids[0]),
            &w.shopper_token,
        )
        .await;
    assert_eq!(status, 200);

    // Another location's assignment, a window in the future, an unknown id: each listed.
    for (id, pointer, code) in [
        (ids[1].clone(), "/location_id", "wrong_location"),
        (ids[2].clone(), "/visit/started_at", "outside_window"),
        (
            uuid::Uuid::new_v4().to_string(),
            "/assignment_id",
            "unknown_assignment",
        ),
    ] {
        let mut body = report(&w);
        body["assignment_id"] = json!(id);
        let (status, refused) = submit(&w, &body).await;
        assert_eq!(status, 422, "{refused}");
        let found: Vec<(&str, &str)> = refused["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["pointer"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(found, [(pointer, code)], "{refused}");
    }
    // Someone else's assignment.
    let other = w.app.create_user(&w.admin_token, "shopper").await;
    let other_token = w.app.access_token(&other).await;
    let mut body = report(&w);
    body["assignment_id"] = json!(ids[0]);
    let (status, refused) = w
        .app
        .post("/api/v1/reports", &other_token, body.clone())
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["code"], "not_your_assignment");

    // The right one: stored, and the assignment completed with it.
    let (status, stored) = submit(&w, &body).await;
    assert_eq!(status, 201, "{stored}");
    let report_id = stored["id"].as_str().unwrap().to_string();
    let done = w
        .app
        .get_ok(&format!("/api/v1/assignments/{}", ids[0]), &w.shopper_token)
        .await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["report_id"], json!(report_id));
    // A retry is a replay; a second report for it is refused.
    let (status, _) = submit(&w, &body).await;
    assert_eq!(status, 200);
    let mut again = report(&w);
    again["assignment_id"] = json!(ids[0]);
    let (status, refused) = submit(&w, &again).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["code"], "assignment_not_active");

    // Rejected: the slot is open again, for anyone to claim.
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    let decide = |action: &'static str, token: &str| {
        let (app, token) = (&w.app, token.to_string());
        let path = format!("/api/v1/reports/{report_id}/review");
        async move {
            let decision = json!({"action": action, "note": "The receipt is from another store"});
            let (status, body) = app.post(&path, &token, decision).await;
            assert_eq!(status, 200, "{action}: {body}");
        }
    };
    let slot = || {
        let (app, token) = (&w.app, w.admin_token.as_str());
        let path = format!("/api/v1/assignments/{}", ids[0]);
        async move { app.get_ok(&path, token).await }
    };
    decide("reject", &reviewer_token).await;
    let reopened = slot().await;
    assert_eq!(reopened["status"], "open");
    assert!(reopened.get("shopper_id").is_none() && reopened.get("report_id").is_none());
    let claimable = w
        .app
        .get_ok("/api/v1/me/claimable-assignments", &other_token)
        .await;
    assert!(
        claimable["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == json!(ids[0]))
    );

    // Reopened by an admin while the slot is still open: the report completes it again.
    decide("reopen", &w.admin_token).await;
    let restored = slot().await;
    assert_eq!(restored["status"], "completed", "{restored}");
    assert_eq!(restored["report_id"], json!(report_id));
    assert_eq!(restored["shopper_id"], json!(w.shopper_id));

    // Rejected again and claimed by another shopper: reopening leaves the slot to them.
    decide("reject", &reviewer_token).await;
    let (status, claimed) = w
        .app
        .post_empty(
            &format!("/api/v1/assignments/{}/claim", ids[0]),
            &other_token,
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    decide("reopen", &w.admin_token).await;
    let kept = slot().await;
    assert_eq!(kept["status"], "accepted", "{kept}");
    assert_eq!(kept["shopper_id"], json!(other.id));
    assert!(kept.get("report_id").is_none(), "{kept}");
}

#[actix_web::test]
async fn submitting_checks_the_lockout_and_the_required_assignment() {
    let w = world().await;
    // Off by default: two visits in a row are fine.
    let (status, first) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{first}");
    let visit_date: NaiveDate = first["visit_date"].as_str().unwrap().parse().unwrap();
    set_rules(&w.app, &w.admin_token, 30, 10).await;
    let (status, refused) = submit(&w, &report(&w)).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "lockout_period");
    assert_eq!(refused["frees_on"], json!(visit_date + Duration::days(30)));
    // Nothing stored.
    let mine = w.app.get_ok("/api/v1/reports", &w.shopper_token).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    // Requiring an assignment.
    let (status, body) = w
        .app
        .put(
            "/api/v1/programme/settings",
            &w.admin_token,
            json!({"require_assignment": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("lockout_days").is_none() || body["lockout_days"].is_null());
    let (status, refused) = submit(&w, &report(&w)).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["pointer"], "/assignment_id");
    assert_eq!(refused["errors"][0]["code"], "assignment_required");
    // Out-of-range rules are listed.
    let (status, refused) = w
        .app
        .put(
            "/api/v1/programme/settings",
            &w.admin_token,
            json!({"lockout_days": 0, "max_visits_per_location_per_year": 400}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_report_sent_after_its_window_ended_still_completes_the_assignment() {
    let w = world().await;
    let wave = create_wave(
        &w.app,
        &w.admin_token,
        json!({"name": "Last week", "starts_on": day(-9), "ends_on": day(-2), "questionnaire_key": "store-visit", "visits_per_location": 1}),
    )
    .await;
    let (status, created) = w
        .app
        .post(
            &format!("/api/v1/waves/{wave}/assignments"),
            &w.admin_token,
            json!([{"location_id": w.location_id, "shopper_id": w.shopper_id}]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created[0]["id"].as_str().unwrap().to_string();
    assert_eq!(created[0]["status"], "expired");
    let overdue = w
        .app
        .get_ok(
            &format!("/api/v1/waves/{wave}/assignments?status=expired"),
            &w.admin_token,
        )
        .await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1);
    // Nothing is left to plan in a wave that has ended.
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/waves/{wave}/assignments/generate"),
            &w.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("wave_closed")),
        "{body}"
    );

    // The visit happened five days ago; the app was offline until now.
    let mut body = report(&w);
    let started = Utc::now() - Duration::days(5);
    body["visit"] = json!({"started_at": started.to_rfc3339(), "ended_at": (started + Duration::minutes(17)).to_rfc3339()});
    body["check_in"]["at"] = json!((started - Duration::seconds(30)).to_rfc3339());
    body["assignment_id"] = json!(id);
    let (status, stored) = submit(&w, &body).await;
    assert_eq!(status, 201, "{stored}");
    let done = w
        .app
        .get_ok(&format!("/api/v1/assignments/{id}"), &w.shopper_token)
        .await;
    assert_eq!(done["status"], "completed");
}
