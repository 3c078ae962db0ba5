//! The recognition feed: released second-mile visits with the behaviours met and the
//! shopper's words; never the shopper, never staff descriptions; managers see their own.

use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{World, report, set_answer, submit, world};

/// Submits a report at `location` (second mile when `second`), and approves it when
/// `approve`; returns its id.
pub async fn visit(w: &World, location: &str, second: bool, approve: bool) -> String {
    let mut body = report(w);
    body["location_id"] = json!(location);
    if second {
        set_answer(
            &mut body,
            "remembered_name",
            json!({"value": true, "comment": "Ana remembered me from last month"}),
        );
        set_answer(&mut body, "unexpressed_need", json!({"value": true}));
        set_answer(&mut body, "follow_up", json!({"value": true}));
        set_answer(
            &mut body,
            "beyond_task",
            json!({"value": true, "comment": "Carried the parcel to my car"}),
        );
        set_answer(
            &mut body,
            "highlights",
            json!({"value": "  The best service I had this year.  "}),
        );
        body["staff_observed"] = json!([
            {"description": "Tall man with a beard at the till", "role": "cashier", "first_name": "Rui"},
            {"description": "Woman in the garden section"}
        ]);
    }
    let stored = if approve {
        approved(w, &body).await
    } else {
        let (status, stored) = submit(w, &body).await;
        assert_eq!(status, 201, "{stored}");
        stored
    };
    assert_eq!(
        stored["score"]["mile_level"],
        if second { "second" } else { "first" },
        "{stored}"
    );
    stored["id"].as_str().unwrap().to_string()
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["report_id"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn released_second_mile_visits_appear_with_what_staff_did_and_nothing_personal() {
    let w = world().await;
    let app = &w.app;
    let other = app
        .create_location(
            &w.admin_token,
            json!({"code": "S-2", "name": "Porto Centro", "region": "North", "timezone": "Europe/Lisbon"}),
        )
        .await
        .id
        .to_string();
    let first = visit(&w, &w.location_id, true, true).await;
    let _pending = visit(&w, &w.location_id, true, false).await;
    let _first_mile = visit(&w, &w.location_id, false, true).await;
    let north = visit(&w, &other, true, true).await;

    let page = app
        .get_ok("/api/v1/aggregates/recognition", &w.admin_token)
        .await;
    assert_eq!(ids(&page), [north.as_str(), first.as_str()], "newest first");
    let m = &page["items"][1];
    assert_eq!(m["location"]["code"], "S-1");
    assert_eq!(m["questionnaire_key"], "store-visit");
    assert!(m["visit_date"].is_string());
    let behaviours: Vec<(&str, &str)> = m["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["question"].as_str().unwrap(), b["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        behaviours.iter().map(|b| b.0).collect::<Vec<_>>(),
        [
            "remembered_name",
            "unexpressed_need",
            "follow_up",
            "beyond_task"
        ]
    );
    assert!(
        behaviours[0].1.contains("remember your name"),
        "{behaviours:?}"
    );
    assert_eq!(
        m["behaviours"][0]["comment"],
        "Ana remembered me from last month"
    );
    assert_eq!(m["behaviours"][1]["comment"], Value::Null);
    assert_eq!(m["highlights"], "The best service I had this year.");
    // Never the shopper, never the staff descriptions, the narrative or the check-in.
    let text = page.to_string();
    for private in [
        w.shopper_id.as_str(),
        "Clerk with glasses",
        "Greeted at once",
        "38.711",
        "shopper",
    ] {
        assert!(!text.contains(private), "{private} leaked: {text}");
    }

    // Filters: location, region, questionnaire key, range.
    let by = |q: String| {
        let token = w.admin_token.clone();
        async move {
            app.get_ok(&format!("/api/v1/aggregates/recognition?{q}"), &token)
                .await
        }
    };
    assert_eq!(
        ids(&by(format!("location_id={other}")).await),
        [north.as_str()]
    );
    assert_eq!(ids(&by("region=Lisbon".into()).await), [first.as_str()]);
    assert_eq!(ids(&by("questionnaire_key=other".into()).await).len(), 0);
    assert_eq!(
        ids(&by("from=2020-01-01&to=2020-12-31".into()).await).len(),
        0
    );
    // Pages of one follow the same order.
    let one = by("limit=1".into()).await;
    assert_eq!(ids(&one), [north.as_str()]);
    let cursor = one["next_cursor"].as_str().unwrap();
    assert_eq!(
        ids(&by(format!("limit=1&cursor={cursor}")).await),
        [first.as_str()]
    );
    // Bad queries are listed.
    let (status, body) = app
        .get(
            "/api/v1/aggregates/recognition?from=2026-02-01&to=2026-01-01&limit=0&cursor=x",
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // Reopening takes a visit out of the feed.
    let (status, _) = app
        .post(
            &format!("/api/v1/reports/{first}/review"),
            &w.admin_token,
            json!({"action": "reopen", "note": "Second look"}),
        )
        .await;
    assert_eq!(status, 200);
    let page = app
        .get_ok("/api/v1/aggregates/recognition", &w.admin_token)
        .await;
    assert_eq!(ids(&page), [north.as_str()]);
}

#[actix_web::test]
async fn managers_see_their_locations_shoppers_nothing_and_other_organizations_nothing() {
    let w = world().await;
    let app = &w.app;
    let other = app
        .create_location(
            &w.admin_token,
            json!({"code": "S-3", "name": "Braga", "timezone": "Europe/Lisbon"}),
        )
        .await
        .id
        .to_string();
    let mine = visit(&w, &w.location_id, true, true).await;
    visit(&w, &other, true, true).await;
    let manager = app.create_user(&w.admin_token, "manager").await;
    app.assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let manager_token = app.access_token(&manager).await;
    let page = app
        .get_ok("/api/v1/aggregates/recognition", &manager_token)
        .await;
    assert_eq!(ids(&page), [mine.as_str()]);
    let page = app
        .get_ok(
            &format!("/api/v1/aggregates/recognition?location_id={other}"),
            &manager_token,
        )
        .await;
    assert_eq!(ids(&page).len(), 0);
    let (status, _) = app
        .get("/api/v1/aggregates/recognition", &w.shopper_token)
        .await;
    assert_eq!(status, 403);
    let (client_id, secret) = app
        .create_client(&w.admin_token, &["aggregates:read"])
        .await;
    let client = app.client_token(&client_id, &secret).await;
    assert_eq!(
        ids(&app.get_ok("/api/v1/aggregates/recognition", &client).await).len(),
        2
    );
    let globex = app.create_org_with_admin("Globex");
    let globex_token = app.access_token(&globex).await;
    let page = app
        .get_ok("/api/v1/aggregates/recognition", &globex_token)
        .await;
    assert_eq!(ids(&page).len(), 0);
}

#[actix_web::test]
async fn staff_are_named_by_first_name_only_when_the_organization_allows_it() {
    let w = world().await;
    let app = &w.app;
    visit(&w, &w.location_id, true, true).await;
    let settings = app
        .get_ok("/api/v1/organization/settings", &w.admin_token)
        .await;
    assert_eq!(
        settings,
        json!({"recognition_names": false, "action_plans": false, "appeal_window_days": 14, "personal_data_retention_days": 0})
    );
    let page = app
        .get_ok("/api/v1/aggregates/recognition", &w.admin_token)
        .await;
    assert_eq!(page["items"][0]["staff"], json!([]));
    assert!(!page.to_string().contains("Rui"), "{page}");

    // Only admins change the setting; fields are typed, a field left out keeps its value.
    let manager = app.create_user(&w.admin_token, "manager").await;
    let manager_token = app.access_token(&manager).await;
    let (status, _) = app
        .put(
            "/api/v1/organization/settings",
            &manager_token,
            json!({"recognition_names": true}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, kept) = app
        .put("/api/v1/organization/settings", &w.admin_token, json!({}))
        .await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept, settings, "nothing named, nothing changed");
    for bad in [
        json!({"recognition_names": "yes"}),
        json!({"recognition_names": true, "x": 1}),
    ] {
        let (status, body) = app
            .put("/api/v1/organization/settings", &w.admin_token, bad.clone())
            .await;
        assert!(matches!(status, 400 | 422), "{bad}: {status} {body}");
    }
    let (status, body) = app
        .put(
            "/api/v1/organization/settings",
            &w.admin_token,
            json!({"recognition_names": true}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"recognition_names": true, "action_plans": false, "appeal_window_days": 14, "personal_data_retention_days": 0})
        )
    );
    let page = app
        .get_ok("/api/v1/aggregates/recognition", &w.admin_token)
        .await;
    assert_eq!(
        page["items"][0]["staff"],
        json!([{"first_name": "Rui", "role": "cashier"}])
    );
    // Descriptions stay out, and another organization's setting is its own.
    assert!(!page.to_string().contains("beard"), "{page}");
    assert!(!page.to_string().contains("garden"), "{page}");
    let globex = app.create_org_with_admin("Globex");
    let globex_token = app.access_token(&globex).await;
    let theirs = app
        .get_ok("/api/v1/organization/settings", &globex_token)
        .await;
    assert_eq!(theirs["recognition_names"], false);

    // A first name is checked like the other staff fields.
    let mut body = report(&w);
    body["staff_observed"] = json!([{"description": "Clerk", "first_name": " "}]);
    let (status, refused) = submit(&w, &body).await;
    assert_eq!(status, 422);
    assert_eq!(
        refused["errors"][0]["pointer"],
        "/staff_observed/0/first_name"
    );
}
