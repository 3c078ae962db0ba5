//! The leaderboard lists its rows by any column either way, pages with a keyset cursor (a
//! row added before the cursor shifts nothing), and the organization's trend comes in one
//! request that adds up to the overview.

use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{World, report, set_answer, world};

async fn store(w: &World, code: &str, name: &str, region: Option<&str>) -> String {
    let mut body = json!({"code": code, "name": name, "timezone": "Europe/Lisbon"});
    if let Some(region) = region {
        body["region"] = json!(region);
    }
    w.app
        .create_location(&w.admin_token, body)
        .await
        .id
        .to_string()
}

async fn visit(w: &World, location: &str, zero: bool) {
    let mut body = report(w);
    body["location_id"] = json!(location);
    if zero {
        set_answer(&mut body, "on_phone", json!({"value": true}));
    } else {
        set_answer(&mut body, "remembered_name", json!({"value": true}));
    }
    approved(w, &body).await;
}

/// Every row of the listing, read `limit` at a time.
async fn listed(w: &World, query: &str, limit: u32) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let mut path = format!("/api/v1/aggregates/locations?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = w.app.get_ok(&path, &w.admin_token).await;
        rows.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return rows,
        }
    }
    panic!("the listing never ended");
}

fn value_of(row: &Value, column: &str) -> Value {
    let f = &row["figures"];
    match column {
        "rank" => row["rank"].clone(),
        "name" => json!(row["location"]["name"].as_str().unwrap().to_lowercase()),
        "code" => row["location"]["code"].clone(),
        "region" => row["location"]["region"].clone(),
        "visits" => f["visits"].clone(),
        "mean_score" => f["mean_score"].clone(),
        "zero_mile_rate" => f["zero_mile"]["rate"].clone(),
        "critical_failure_rate" => f["critical_failures"]["rate"].clone(),
        "verdict" => json!(
            ["zero", "insufficient_data", "first", "second"]
                .iter()
                .position(|v| f["verdict"] == *v)
                .unwrap()
        ),
        other => panic!("{other}"),
    }
}

#[actix_web::test]
async fn every_column_lists_both_ways_missing_values_last_and_pages_agree() {
    let w = world().await;
    let bath = store(&w, "B-1", "bath", Some("West")).await;
    let bristol = store(&w, "B-2", "Bristol", Some("West")).await;
    let leeds = store(&w, "L-1", "Leeds", Some("North")).await;
    store(&w, "Z-9", "Zennor", None).await; // no visits: no mean, no rates
    for _ in 0..2 {
        visit(&w, &bath, false).await;
        visit(&w, &leeds, true).await;
    }
    visit(&w, &bristol, true).await;
    visit(&w, &w.location_id, false).await;

    for column in [
        "rank",
        "name",
        "code",
        "region",
        "visits",
        "mean_score",
        "zero_mile_rate",
        "critical_failure_rate",
        "verdict",
    ] {
        for dir in ["asc", "desc"] {
            let query = format!("order_by={column}&dir={dir}");
            let whole = listed(&w, &query, 200).await;
            assert_eq!(whole.len(), 5, "{query}");
            let paged = listed(&w, &query, 2).await;
            assert_eq!(paged, whole, "{query}: pages of two read the same rows");
            let values: Vec<Value> = whole.iter().map(|r| value_of(r, column)).collect();
            let present: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
            let first_missing = values.iter().position(Value::is_null);
            if let Some(i) = first_missing {
                assert!(
                    values[i..].iter().all(Value::is_null),
                    "{query}: missing last: {values:?}"
                );
            }
            for pair in present.windows(2) {
                let ordered = match (pair[0].as_f64(), pair[1].as_f64()) {
                    (Some(a), Some(b)) if dir == "asc" => a <= b,
                    (Some(a), Some(b)) => a >= b,
                    _ => {
                        let (a, b) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
                        if dir == "asc" { a <= b } else { a >= b }
                    }
                };
                assert!(ordered, "{query}: {values:?}");
            }
        }
    }
    // The ranks follow `sort` whatever the listing order.
    let by_name = listed(&w, "order_by=name", 200).await;
    let by_rank = listed(&w, "", 200).await;
    for row in &by_name {
        let same = by_rank
            .iter()
            .find(|r| r["location"]["id"] == row["location"]["id"])
            .unwrap();
        assert_eq!(row["rank"], same["rank"]);
    }
    assert_eq!(by_rank[0]["rank"], 1);
}

#[actix_web::test]
async fn a_keyset_cursor_continues_after_its_row_and_refuses_another_order() {
    let w = world().await;
    for (code, name) in [("C-1", "Cardiff"), ("D-1", "Derby"), ("E-1", "Exeter")] {
        store(&w, code, name, Some("West")).await;
    }
    let first = w
        .app
        .get_ok(
            "/api/v1/aggregates/locations?order_by=name&limit=2",
            &w.admin_token,
        )
        .await;
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["location"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    // A store that lists first arrives between two pages: the next page neither repeats a
    // row nor skips one.
    store(&w, "A-0", "Aberdeen", None).await;
    let next = w
        .app
        .get_ok(
            &format!("/api/v1/aggregates/locations?order_by=name&limit=2&cursor={cursor}"),
            &w.admin_token,
        )
        .await;
    let after: Vec<&str> = next["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["location"]["name"].as_str().unwrap())
        .collect();
    assert!(
        !after.contains(&"Aberdeen") && !after.iter().any(|n| names.contains(n)),
        "{after:?}"
    );
    assert_eq!(after[0], "Derby", "{names:?} then {after:?}");

    for query in [
        format!("order_by=region&cursor={cursor}"),
        format!("order_by=name&dir=desc&cursor={cursor}"),
        "cursor=bm90LWEtY3Vyc29y".to_string(),
        "order_by=postcode".to_string(),
        "dir=sideways".to_string(),
    ] {
        let (status, body) = w
            .app
            .get(
                &format!("/api/v1/aggregates/locations?{query}"),
                &w.admin_token,
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "invalid_query", "{query}");
    }
}

#[actix_web::test]
async fn the_organization_trend_adds_up_to_the_overview_in_one_request() {
    let w = world().await;
    let north = store(&w, "N-1", "Newcastle", Some("North")).await;
    visit(&w, &north, true).await;
    visit(&w, &north, false).await;
    visit(&w, &w.location_id, false).await;

    let overview = w
        .app
        .get_ok("/api/v1/aggregates/overview", &w.admin_token)
        .await;
    for bucket in ["week", "month"] {
        let trend = w
            .app
            .get_ok(
                &format!("/api/v1/aggregates/trend?bucket={bucket}"),
                &w.admin_token,
            )
            .await;
        assert_eq!(trend["bucket"], bucket);
        assert_eq!(trend["range"], overview["range"]);
        let buckets = trend["buckets"].as_array().unwrap();
        assert_eq!(buckets[0]["start"], overview["range"]["from"]);
        assert_eq!(buckets.last().unwrap()["end"], overview["range"]["to"]);
        let visits: u64 = buckets
            .iter()
            .map(|b| b["figures"]["visits"].as_u64().unwrap())
            .sum();
        assert_eq!(visits, 3, "{trend}");
        let zero: u64 = buckets
            .iter()
            .map(|b| b["figures"]["zero_mile"]["count"].as_u64().unwrap())
            .sum();
        assert_eq!(zero, 1);
    }
    let region = w
        .app
        .get_ok("/api/v1/aggregates/trend?region=North", &w.admin_token)
        .await;
    let visits: u64 = region["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["figures"]["visits"].as_u64().unwrap())
        .sum();
    assert_eq!(visits, 2);
    let (status, body) = w
        .app
        .get(
            "/api/v1/aggregates/trend?bucket=day&from=2026-13-01",
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = w
        .app
        .get("/api/v1/aggregates/trend", &w.shopper_token)
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn the_board_filters_by_verdict_and_the_figures_say_how_verdicts_are_given() {
    let w = world().await;
    let zero = store(&w, "Z-1", "Always on the phone", None).await;
    let thin = store(&w, "T-1", "Seldom visited", None).await;
    for _ in 0..5 {
        visit(&w, &zero, true).await;
    }
    visit(&w, &thin, false).await;
    let all = listed(&w, "order_by=rank", 50).await;
    // The world's own store has no visit yet: too few visits, as the seldom visited one.
    let thin_ones = [thin.as_str(), w.location_id.as_str()];
    for (verdict, expected) in [
        ("zero", vec![zero.as_str()]),
        ("insufficient_data", thin_ones.to_vec()),
    ] {
        let rows = listed(&w, &format!("order_by=rank&verdict={verdict}"), 1).await;
        let mut ids: Vec<&str> = rows
            .iter()
            .map(|r| r["location"]["id"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        let mut wanted = expected.clone();
        wanted.sort_unstable();
        assert_eq!(ids, wanted, "{verdict}: {rows:?}");
        // A filtered row keeps its rank on the whole board.
        for row in &rows {
            let whole = all
                .iter()
                .find(|r| r["location"]["id"] == row["location"]["id"])
                .unwrap();
            assert_eq!(row["rank"], whole["rank"]);
        }
    }
    assert!(listed(&w, "verdict=second", 50).await.is_empty());
    let (status, body) = w
        .app
        .get("/api/v1/aggregates/locations?verdict=best", &w.admin_token)
        .await;
    assert_eq!(status, 400, "{body}");
    let csv = w
        .app
        .client
        .get(w.app.url("/api/v1/aggregates/locations.csv?verdict=zero"))
        .bearer_auth(&w.admin_token)
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let csv = String::from_utf8_lossy(&csv).to_string();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("Always on the phone"), "{csv}");
    // The rule behind the verdicts, as the server applies it.
    let rule =
        json!({"min_visits": 5, "zero_mile_lower_bound": 0.1, "second_mile_lower_bound": 0.5});
    let overview = w
        .app
        .get_ok("/api/v1/aggregates/overview", &w.admin_token)
        .await;
    assert_eq!(overview["verdict_rule"], rule);
    let summary = w
        .app
        .get_ok(&format!("/api/v1/locations/{zero}/summary"), &w.admin_token)
        .await;
    assert_eq!(summary["verdict_rule"], rule);
    assert_eq!(summary["figures"]["verdict"], "zero");
}
