//! Erasure: a shopper erased keeps no email, name or free text in the service, cannot sign
//! in, and every figure their reports made stays exactly the same.

use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{report, world};

#[actix_web::test]
async fn an_erased_shopper_leaves_no_personal_data_and_every_figure_as_it_was() {
    let w = world().await;
    let mut ids = Vec::new();
    for hours in [30, 60] {
        let mut body = report(&w);
        let start = chrono::Utc::now() - chrono::TimeDelta::hours(hours);
        body["visit"] = json!({"started_at": start.to_rfc3339(), "ended_at": (start + chrono::TimeDelta::minutes(17)).to_rfc3339()});
        body["check_in"]["at"] = json!((start - chrono::TimeDelta::seconds(30)).to_rfc3339());
        body["narrative"] = json!("Greeted by Maria at the door.");
        body["staff_observed"] =
            json!([{"description": "Maria, red scarf", "role": "cashier", "first_name": "Maria"}]);
        let r = approved(&w, &body).await;
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    let summary = format!("/api/v1/locations/{}/summary", w.location_id);
    let figures = unstamped(w.app.get_ok(&summary, &w.admin_token).await);
    let board = unstamped(
        w.app
            .get_ok("/api/v1/aggregates/locations", &w.admin_token)
            .await,
    );

    let (status, erased) = w
        .app
        .post_empty(
            &format!("/api/v1/users/{}/erase", w.shopper_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["reports"], 2);
    assert_eq!(erased["user"]["active"], false);
    assert_eq!(erased["user"]["display_name"], "Erased user");
    let pseudonym = erased["user"]["email"].as_str().unwrap();
    assert!(pseudonym.ends_with("@erased.invalid"), "{pseudonym}");

    // Every figure is as it was.
    assert_eq!(
        unstamped(w.app.get_ok(&summary, &w.admin_token).await),
        figures
    );
    assert_eq!(
        unstamped(
            w.app
                .get_ok("/api/v1/aggregates/locations", &w.admin_token)
                .await
        ),
        board
    );

    // The reports stay, scored, without what the shopper wrote.
    for id in &ids {
        let r = w
            .app
            .get_ok(&format!("/api/v1/reports/{id}"), &w.admin_token)
            .await;
        assert_eq!(r["status"], "approved");
        let text = r.to_string();
        for personal in [
            "Maria",
            "red scarf",
            "Quick, friendly service",
            "Nothing special",
            "dev-1",
        ] {
            assert!(!text.contains(personal), "{personal} is still in {text}");
        }
        assert!(r["score"]["overall"].is_number(), "{r}");
        let greeted = r["answers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["question"] == "greeted")
            .unwrap();
        assert_eq!(greeted["value"], true, "choices and numbers stay");
    }
    let export = w
        .app
        .client
        .get(w.app.url("/api/v1/exports/reports.csv?layout=answers"))
        .bearer_auth(&w.admin_token)
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let export = String::from_utf8_lossy(&export);
    assert!(
        !export.contains("Maria") && !export.contains("Nothing special"),
        "{export}"
    );

    // They cannot sign in, by their old email or by the pseudonym; their token is over.
    for email in [w.shopper.email.as_str(), pseudonym] {
        let (status, _) = w
            .app
            .token_request(json!({"grant_type": "password", "username": email, "password": w.shopper.password}))
            .await;
        assert_eq!(status, 401, "{email}");
    }
    let (status, _) = w.app.get("/api/v1/me", &w.shopper_token).await;
    assert_eq!(status, 401);

    // An event says it happened, with nothing personal in it.
    let feed = w
        .app
        .get_ok("/api/v1/events?types=user.erased", &w.admin_token)
        .await;
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{feed}");
    assert_eq!(
        items[0]["data"],
        json!({"user_id": w.shopper_id, "role": "shopper", "reports": 2, "files": 0})
    );
    let audit = w
        .app
        .get_ok(
            &format!("/api/v1/audit?target_id={}", w.shopper_id),
            &w.admin_token,
        )
        .await;
    let text = audit.to_string();
    assert!(!text.contains(&w.shopper.email), "{text}");
    assert_eq!(audit["items"][0]["action"], "user.erased");

    // Erasing again changes nothing more; another organization cannot.
    let (status, again) = w
        .app
        .post_empty(
            &format!("/api/v1/users/{}/erase", w.shopper_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        unstamped(w.app.get_ok(&summary, &w.admin_token).await),
        figures
    );
    let other = w.app.create_org_with_admin("Globex");
    let other_token = w.app.access_token(&other).await;
    let (status, _) = w
        .app
        .post_empty(
            &format!("/api/v1/users/{}/erase", w.shopper_id),
            &other_token,
        )
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_last_admin_cannot_be_erased() {
    let w = world().await;
    let me: Value = w.app.get_ok("/api/v1/me", &w.admin_token).await;
    let (status, problem) = w
        .app
        .post_empty(
            &format!("/api/v1/users/{}/erase", me["id"].as_str().unwrap()),
            &w.admin_token,
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("last_admin"))
    );
}

/// An aggregate answer without its `as_of`: the cursor moves with every event, the figures
/// must not.
fn unstamped(mut answer: serde_json::Value) -> serde_json::Value {
    if let Some(o) = answer.as_object_mut() {
        o.remove("as_of");
    }
    answer
}
