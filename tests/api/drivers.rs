//! What to train: the questions that separate the miles, one questionnaire at a time, read
//! from the per-question rollups; a question expecting "no" passes on "no"; thin questions
//! listed apart; a location beside its peers.

use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{World, pointers, report, set_answer, world};

fn at(w: &World, location: &str) -> Value {
    let mut body = report(w);
    body["location_id"] = json!(location);
    body
}

fn on_the_phone(mut body: Value) -> Value {
    set_answer(&mut body, "on_phone", json!({"value": true}));
    body
}

fn beyond(mut body: Value) -> Value {
    set_answer(&mut body, "remembered_name", json!({"value": true}));
    set_answer(&mut body, "unexpressed_need", json!({"value": true}));
    body
}

fn keys(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn the_question_failed_in_every_zero_mile_visit_ranks_first() {
    let w = world().await;
    let peer = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-2", "name": "Peer", "region": "Lisbon", "timezone": "Europe/Lisbon"}),
        )
        .await
        .id
        .to_string();
    // At S-1: six visits with staff on the phone (zero mile), six ordinary, four beyond.
    for _ in 0..6 {
        let r = approved(&w, &on_the_phone(at(&w, &w.location_id))).await;
        assert_eq!(r["score"]["mile_level"], "zero");
        approved(&w, &at(&w, &w.location_id)).await;
    }
    for _ in 0..4 {
        let r = approved(&w, &beyond(at(&w, &w.location_id))).await;
        assert_eq!(r["score"]["mile_level"], "second");
    }
    // At its peer: two ordinary visits.
    for _ in 0..2 {
        approved(&w, &at(&w, &peer)).await;
    }

    let base = "/api/v1/aggregates/drivers?questionnaire_key=store-visit";
    let all = w
        .app
        .get_ok(&format!("{base}&min_visits=1"), &w.admin_token)
        .await;
    assert_eq!(all["visits"], 18);
    assert_eq!(all["zero_mile_visits"], 6);
    assert_eq!(all["second_mile_visits"], 4);
    let zero = &all["keeps_out_of_zero_mile"][0];
    assert_eq!(zero["key"], "on_phone", "{all}");
    // "Busy on the phone?" expects "no": the twelve visits answering "no" pass it.
    assert_eq!(zero["pass_rate"]["count"], 12);
    assert_eq!(zero["pass_rate"]["rate"], 0.6667);
    assert_eq!(zero["zero_mile_lift"]["difference"], 1.0);
    assert_eq!(zero["zero_mile_lift"]["significant"], true);
    assert_eq!(zero["share_of_zero_mile"]["rate"], 1.0);
    assert_eq!(zero["peer_pass_rate"], Value::Null);
    // A question everyone passed separates nothing.
    let greeted = all["keeps_out_of_zero_mile"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "greeted")
        .unwrap();
    assert_eq!(greeted["zero_mile_lift"], Value::Null);
    assert_eq!(greeted["pass_rate"]["rate"], 1.0);
    // The second mile: the two behaviours beyond the standard, by key when tied.
    let second = keys(&all["makes_second_mile"]);
    assert_eq!(second[..2], ["remembered_name", "unexpressed_need"]);
    assert_eq!(
        all["makes_second_mile"][0]["second_mile_lift"]["difference"],
        1.0
    );
    assert_eq!(all["too_few_visits"], json!([]));
    // Both rankings hold the same questions.
    let mut a = keys(&all["keeps_out_of_zero_mile"]);
    let mut b = second.clone();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);

    // Under the default minimum (20 visits) every question is listed apart.
    let thin = w.app.get_ok(base, &w.admin_token).await;
    assert_eq!(thin["min_visits"], 20);
    assert_eq!(thin["keeps_out_of_zero_mile"], json!([]));
    let listed = thin["too_few_visits"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|q| q == &json!({"key": "on_phone", "text": zero["text"], "visits": 18}))
    );

    // One location beside its peers.
    let own = w
        .app
        .get_ok(
            &format!("{base}&min_visits=1&location_id={}", w.location_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(own["visits"], 16);
    assert_eq!(own["location"]["code"], "S-1");
    assert_eq!(own["peers"], json!({"region": "Lisbon", "locations": 1}));
    let phone = &own["keeps_out_of_zero_mile"][0];
    assert_eq!(phone["pass_rate"]["count"], 10);
    assert_eq!(phone["peer_pass_rate"]["count"], 2);
    assert_eq!(phone["peer_pass_rate"]["rate"], 1.0);

    // Another questionnaire's key has nothing; a missing key is refused.
    let other = w
        .app
        .get_ok(
            "/api/v1/aggregates/drivers?questionnaire_key=phone-call&min_visits=1",
            &w.admin_token,
        )
        .await;
    assert_eq!(other["visits"], 0);
    assert_eq!(other["keeps_out_of_zero_mile"], json!([]));
    let (status, problem) = w
        .app
        .get(
            "/api/v1/aggregates/drivers?min_visits=0&from=2026-02-30",
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    let (status, problem) = w
        .app
        .get(
            "/api/v1/aggregates/drivers?min_visits=0&to=1800-01-01",
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/query/questionnaire_key",
            "/query/min_visits",
            "/query/from",
            "/query/to"
        ]
    );
}

#[actix_web::test]
async fn a_manager_reads_the_drivers_of_their_own_locations_without_peers() {
    let w = world().await;
    let other = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-9", "name": "Theirs", "region": "Lisbon", "timezone": "Europe/Lisbon"}),
        )
        .await
        .id
        .to_string();
    approved(&w, &on_the_phone(at(&w, &w.location_id))).await;
    approved(&w, &on_the_phone(at(&w, &other))).await;
    approved(&w, &at(&w, &other)).await;
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let token = w.app.access_token(&manager).await;
    let base = "/api/v1/aggregates/drivers?questionnaire_key=store-visit&min_visits=1";
    let mine = w.app.get_ok(base, &token).await;
    assert_eq!(mine["visits"], 1, "their location only");
    let own = w
        .app
        .get_ok(&format!("{base}&location_id={}", w.location_id), &token)
        .await;
    assert_eq!(own["peers"], Value::Null);
    assert!(
        own["keeps_out_of_zero_mile"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["peer_pass_rate"].is_null())
    );
    let (status, _) = w
        .app
        .get(&format!("{base}&location_id={other}"), &token)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w.app.get(base, &w.shopper_token).await;
    assert_eq!(status, 403);
    let stranger = w.app.create_org_with_admin("Other");
    let stranger = w.app.access_token(&stranger).await;
    let theirs = w.app.get_ok(base, &stranger).await;
    assert_eq!(theirs["visits"], 0, "nothing of another organization");
    let (status, _) = w
        .app
        .get(&format!("{base}&location_id={}", w.location_id), &stranger)
        .await;
    assert_eq!(status, 404);
}
