//! Which figures rest on one shopper: the distinct shoppers behind a location's figures, and
//! each shopper's rater effect against the other shoppers at the same stores.

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::aggregates::approved_as;
use crate::helpers::{World, report, set_answer, world};

/// A shopper's token in the world's organization.
async fn shopper(w: &World) -> String {
    let user = w.app.create_user(&w.admin_token, "shopper").await;
    w.app.access_token(&user).await
}

/// A visit to `location` yesterday in 20-minute slot `slot`, with a courtesy of `courtesy` and, when
/// `harsh`, the appearance and cleanliness marked down.
fn visit(w: &World, location: &str, slot: i64, courtesy: i64, harsh: bool) -> Value {
    let day = (Utc::now() - TimeDelta::days(1)).date_naive();
    let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc() + TimeDelta::minutes(20 * slot);
    let mut body = report(w);
    body["location_id"] = json!(location);
    body["visit"] = json!({
        "started_at": start.to_rfc3339(),
        "ended_at": (start + TimeDelta::minutes(17)).to_rfc3339(),
    });
    body.as_object_mut().unwrap().remove("check_in");
    set_answer(&mut body, "courtesy", json!({"value": courtesy}));
    if harsh {
        set_answer(&mut body, "appearance", json!({"value": false}));
        set_answer(&mut body, "clean_inside", json!({"value": 2}));
    }
    body
}

#[actix_web::test]
async fn a_locations_figures_say_how_many_shoppers_made_them() {
    let w = world().await;
    let other = shopper(&w).await;
    approved_as(
        &w,
        &w.shopper_token,
        &visit(&w, &w.location_id, 27, 5, false),
    )
    .await;
    approved_as(
        &w,
        &w.shopper_token,
        &visit(&w, &w.location_id, 33, 4, false),
    )
    .await;
    let summary = format!("/api/v1/locations/{}/summary", w.location_id);
    let figures = &w.app.get_ok(&summary, &w.admin_token).await["figures"];
    assert_eq!(figures["visits"], 2);
    assert_eq!(figures["shoppers"], 1);
    assert_eq!(figures["single_rater"], true);
    let board = w
        .app
        .get_ok("/api/v1/aggregates/locations", &w.admin_token)
        .await;
    assert_eq!(board["items"][0]["figures"]["single_rater"], true);

    approved_as(&w, &other, &visit(&w, &w.location_id, 42, 5, false)).await;
    let figures = &w.app.get_ok(&summary, &w.admin_token).await["figures"];
    assert_eq!(
        (figures["visits"].clone(), figures["shoppers"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(figures["single_rater"], false);
    let board = w
        .app
        .get_ok("/api/v1/aggregates/locations", &w.admin_token)
        .await;
    assert_eq!(board["items"][0]["figures"]["shoppers"], 2);
    let today = Utc::now().date_naive();
    let changes = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/changes?from={}&to={today}",
                w.location_id,
                today - TimeDelta::days(29)
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(changes["later"]["shoppers"], 2, "{changes}");
    assert_eq!(changes["earlier"]["single_rater"], false, "{changes}");
    // Organization-wide figures carry neither (distinct shoppers do not add up).
    let overview = w
        .app
        .get_ok("/api/v1/aggregates/overview", &w.admin_token)
        .await;
    assert!(overview["figures"].get("shoppers").is_none(), "{overview}");
}

#[actix_web::test]
async fn a_harsh_shopper_is_flagged_and_a_fair_one_is_not() {
    let w = world().await;
    let mut locations = vec![w.location_id.clone()];
    for code in ["S-2", "S-3"] {
        let l = w
            .app
            .create_location(
                &w.admin_token,
                json!({"code": code, "name": code, "timezone": "Europe/Lisbon", "latitude": 38.7111, "longitude": -9.1421}),
            )
            .await;
        locations.push(l.id.to_string());
    }
    // Four shoppers who score alike and one who marks down. (Each is compared with the
    // others at the same stores, the harsh one among them: with fewer fair shoppers, the
    // harsh one's pull would make a fair one look lenient.)
    let fair = w.shopper_token.clone();
    let mut alike = vec![fair.clone()];
    for _ in 0..3 {
        alike.push(shopper(&w).await);
    }
    let harsh = shopper(&w).await;
    let me = |token: &str| {
        let token = token.to_string();
        let app = &w.app;
        async move {
            app.get_ok("/api/v1/me", &token).await["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (fair_id, harsh_id) = (me(&fair).await, me(&harsh).await);
    // Three visits by each shopper to each store, all on one day (one quarter); courtesy
    // alternates so that the scores vary.
    let mut hour = 0;
    for location in &locations {
        for round in 0..3 {
            let courtesy = 4 + (round % 2);
            let everyone = alike.iter().map(|t| (t, false)).chain([(&harsh, true)]);
            for (token, is_harsh) in everyone {
                approved_as(&w, token, &visit(&w, location, hour, courtesy, is_harsh)).await;
                hour += 1;
            }
        }
    }
    let path = "/api/v1/aggregates/shoppers";
    let answer = w.app.get_ok(path, &w.admin_token).await;
    assert_eq!(
        (answer["min_visits"].clone(), answer["min_effect"].clone()),
        (json!(8), json!(5.0))
    );
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{answer}");
    let row = |id: &str| {
        items
            .iter()
            .find(|r| r["shopper_id"] == id)
            .unwrap()
            .clone()
    };
    let h = row(&harsh_id);
    assert_eq!(h["flag"], "harsh", "{h}");
    assert_eq!(h["visits"], 9);
    assert_eq!(h["compared_visits"], 9);
    assert!(h["effect"].as_f64().unwrap() <= -5.0, "{h}");
    assert!(h["effect_ci95"][1].as_f64().unwrap() < 0.0, "{h}");
    assert_eq!(
        items[0]["shopper_id"],
        harsh_id.as_str(),
        "the flagged come first"
    );
    let f = row(&fair_id);
    assert!(f["flag"].is_null(), "{f}");
    assert!(
        f["effect"].as_f64().unwrap() > 0.0,
        "beside a harsh shopper: {f}"
    );

    // The figures are unchanged by it: the verdict is the plain one.
    let summary = w
        .app
        .get_ok(
            &format!("/api/v1/locations/{}/summary", w.location_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(summary["figures"]["visits"], 15);
    assert_eq!(summary["figures"]["shoppers"], 5);

    // Reviewers see it; managers, analysts and shoppers never.
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer = w.app.access_token(&reviewer).await;
    assert_eq!(
        w.app.get_ok(path, &reviewer).await["items"][0]["flag"],
        "harsh"
    );
    for role in ["manager", "analyst"] {
        let user = w.app.create_user(&w.admin_token, role).await;
        let token = w.app.access_token(&user).await;
        assert_eq!(w.app.get(path, &token).await.0, 403, "{role}");
    }
    assert_eq!(w.app.get(path, &harsh).await.0, 403);
    // Its range is checked like every aggregate's.
    let (status, problem) = w
        .app
        .get(
            &format!("{path}?from=2026-05-01&to=2026-04-01"),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
}
