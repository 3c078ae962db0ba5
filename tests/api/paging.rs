//! One way to page: every list answers `{items, next_cursor, has_more}` to `limit` and
//! `cursor`, and following the cursors with a small page gives the whole list, in its
//! order, each item once.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_wave, world};

fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset))
        .date_naive()
        .to_string()
}

/// Every page of `path` (which has a query already or not) with `limit=2`, checked page by
/// page: at most two items, `has_more` exactly when `next_cursor` is set.
async fn walk(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let join = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let url = match &cursor {
            None => format!("{path}{join}limit=2"),
            Some(c) => format!("{path}{join}limit=2&cursor={c}"),
        };
        let page = app.get_ok(&url, token).await;
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= 2, "{url}: {page}");
        items.extend(got.iter().cloned());
        assert_eq!(
            page["has_more"],
            json!(!page["next_cursor"].is_null()),
            "{page}"
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
    panic!("{path}: more than 50 pages");
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn every_list_pages_the_same_way_and_the_pages_add_up_to_the_whole_list() {
    let w = world().await;
    let wave = create_wave(&w, 3, 60).await;
    // Five for the shopper and four open, with windows in no particular order.
    let mut planned = Vec::new();
    for (i, start) in [20, 5, 40, 12, 30].into_iter().enumerate() {
        planned.push(json!({"location_id": w.location_id, "shopper_id": w.shopper_id, "visit_from": day(start), "visit_to": day(start + 3 + i as i64)}));
    }
    for start in [25, 8, 33, 8] {
        planned.push(json!({"location_id": w.location_id, "visit_from": day(start), "visit_to": day(start + 4)}));
    }
    let path = format!("/api/v1/waves/{wave}/assignments");
    let (status, created) = w.app.post(&path, &w.admin_token, json!(planned)).await;
    assert_eq!(status, 201, "{created}");

    // The shopper's: earliest deadline first.
    let mine = walk(&w.app, &w.shopper_token, "/api/v1/me/assignments").await;
    assert_eq!(mine.len(), 5);
    let deadlines: Vec<&str> = mine
        .iter()
        .map(|a| a["visit_to"].as_str().unwrap())
        .collect();
    let mut sorted = deadlines.clone();
    sorted.sort();
    assert_eq!(deadlines, sorted);
    // A filter pages too.
    let accepted = walk(
        &w.app,
        &w.shopper_token,
        "/api/v1/me/assignments?status=accepted",
    )
    .await;
    assert!(accepted.is_empty());

    // Claimable: the four open ones, earliest deadline first (ties by id).
    let claimable = walk(&w.app, &w.shopper_token, "/api/v1/me/claimable-assignments").await;
    assert_eq!(claimable.len(), 4);
    let keys: Vec<(String, String)> = claimable
        .iter()
        .map(|a| {
            (
                a["visit_to"].as_str().unwrap().to_string(),
                a["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // The wave's: all nine, by location then window; the same as one big page.
    let all = walk(&w.app, &w.admin_token, &path).await;
    assert_eq!(all.len(), 9);
    let whole = w
        .app
        .get_ok(&format!("{path}?limit=200"), &w.admin_token)
        .await;
    assert_eq!(ids(&all), ids(whole["items"].as_array().unwrap()));
    assert_eq!(whole["has_more"], false);
    let mut unique = ids(&all);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 9);

    // Webhooks: oldest first.
    let mut made = Vec::new();
    for i in 0..5 {
        let (status, hook) = w
            .app
            .post(
                "/api/v1/webhooks",
                &w.admin_token,
                json!({"url": format!("https://hooks.example.com/{i}")}),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        made.push(hook["webhook"]["id"].as_str().unwrap().to_string());
    }
    let hooks = walk(&w.app, &w.admin_token, "/api/v1/webhooks").await;
    assert_eq!(ids(&hooks), made);
}

#[actix_web::test]
async fn a_bad_limit_or_a_cursor_this_server_did_not_give_is_refused_on_every_new_list() {
    let w = world().await;
    let wave = create_wave(&w, 3, 60).await;
    let wave_path = format!("/api/v1/waves/{wave}/assignments");
    for (path, token) in [
        ("/api/v1/me/assignments", &w.shopper_token),
        ("/api/v1/me/claimable-assignments", &w.shopper_token),
        (wave_path.as_str(), &w.admin_token),
        ("/api/v1/webhooks", &w.admin_token),
    ] {
        let join = if path.contains('?') { '&' } else { '?' };
        let (status, body) = w
            .app
            .get(&format!("{path}{join}limit=0&cursor=bm90LW91cnM"), token)
            .await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(
            crate::helpers::pointers(&body),
            ["/query/limit", "/query/cursor"],
            "{path}"
        );
        let (status, body) = w.app.get(&format!("{path}{join}limit=201"), token).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
}
