//! Where a shopper may go today: every active location of their organization, with the rule
//! that blocks a visit and the day it frees up.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{report, submit, world};

async fn all_pages(app: &crate::helpers::TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = format!("/api/v1/me/eligible-locations?{query}");
    loop {
        let page = app.get_ok(&path, token).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/me/eligible-locations?{query}&cursor={c}"),
            None => return items,
        }
    }
}

#[actix_web::test]
async fn a_shopper_sees_which_stores_the_rules_allow_today_and_when_the_others_free_up() {
    let w = world().await;
    let make = |code: &str, region: &str| json!({"code": code, "name": format!("Store {code}"), "region": region, "timezone": "Europe/Lisbon"});
    let excluded = w
        .app
        .create_location(&w.admin_token, make("E-1", "Porto"))
        .await;
    let free = w
        .app
        .create_location(&w.admin_token, make("F-1", "Porto"))
        .await;
    let closed = w
        .app
        .create_location(&w.admin_token, make("X-1", "Porto"))
        .await;
    let (status, body) = w
        .app
        .patch(
            &format!("/api/v1/locations/{}", closed.id),
            &w.admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Rules off: every active location is eligible (the inactive one is not listed).
    let listed = all_pages(&w.app, &w.shopper_token, "limit=1").await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.iter().all(|l| l["eligible"] == true), "{listed:?}");

    // A visit today, a 30-day lockout and an exclusion.
    let (status, visited) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{visited}");
    let visit_date: chrono::NaiveDate = visited["visit_date"].as_str().unwrap().parse().unwrap();
    let (status, body) = w
        .app
        .put(
            "/api/v1/programme/settings",
            &w.admin_token,
            json!({"lockout_days": 30, "max_visits_per_location_per_year": 4}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w
        .app
        .put(
            &format!("/api/v1/users/{}/excluded-locations", w.shopper_id),
            &w.admin_token,
            json!({"location_ids": [excluded.id]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = all_pages(&w.app, &w.shopper_token, "limit=200").await;
    let of = |id: &str| {
        listed
            .iter()
            .find(|l| l["location_id"] == id)
            .unwrap_or_else(|| panic!("{id} in {listed:?}"))
            .clone()
    };
    let chiado = of(&w.location_id);
    assert_eq!(chiado["eligible"], false);
    assert_eq!(chiado["blocked_by"], "lockout_period");
    assert_eq!(chiado["frees_on"], json!(visit_date + Duration::days(30)));
    assert_eq!(chiado["timezone"], "Europe/Lisbon");
    let e = of(&excluded.id.to_string());
    assert_eq!(
        (e["eligible"].clone(), e["blocked_by"].clone()),
        (json!(false), json!("shopper_excluded"))
    );
    assert!(e.get("frees_on").is_none(), "{e}");
    let f = of(&free.id.to_string());
    assert_eq!(f["eligible"], true);
    assert!(
        f.get("blocked_by").is_none() && f.get("frees_on").is_none(),
        "{f}"
    );
    // What the list says is what a submission gets: 409 with the same rule and day.
    let (status, refused) = submit(&w, &report(&w)).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], chiado["blocked_by"]);
    assert_eq!(refused["frees_on"], chiado["frees_on"]);
    // A region narrows; another shopper has no lockout of their own.
    let porto = all_pages(&w.app, &w.shopper_token, "region=Porto").await;
    assert_eq!(porto.len(), 2);
    let other = w.app.create_user(&w.admin_token, "shopper").await;
    let other_token = w.app.access_token(&other).await;
    let theirs = all_pages(&w.app, &other_token, "limit=50").await;
    assert!(theirs.iter().all(|l| l["eligible"] == true), "{theirs:?}");
}

#[actix_web::test]
async fn eligible_locations_stay_in_the_organization_and_check_their_query() {
    let w = world().await;
    let other_admin = w.app.create_org_with_admin("Other");
    let other_token = w.app.access_token(&other_admin).await;
    w.app
        .create_location(
            &other_token,
            json!({"code": "O-1", "name": "Elsewhere", "timezone": "UTC"}),
        )
        .await;
    let listed = all_pages(&w.app, &w.shopper_token, "limit=50").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["location_id"], json!(w.location_id));
    let long = "r".repeat(101);
    for query in [
        "limit=0",
        "limit=201",
        "cursor=forged",
        &format!("region={long}"),
    ] {
        let (status, problem) = w
            .app
            .get(
                &format!("/api/v1/me/eligible-locations?{query}"),
                &w.shopper_token,
            )
            .await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(problem["code"], "invalid_query", "{problem}");
    }
    let (status, _) = w
        .app
        .get("/api/v1/me/eligible-locations", &w.admin_token)
        .await;
    assert_eq!(status, 403);
}
