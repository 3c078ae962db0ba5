//! Aggregates: figures of released visits only, verdicts, ranking, who may ask, tenants.

use serde_json::{Value, json};

use crate::helpers::{World, report, set_answer, submit, world};

/// Submits the report and approves it; answers the approved report.
pub async fn approved(w: &World, body: &Value) -> Value {
    approved_as(w, &w.shopper_token, body).await
}

/// Submits the report as the shopper of `token` and approves it; answers the approved
/// report.
pub async fn approved_as(w: &World, token: &str, body: &Value) -> Value {
    let (status, created) = w.app.post("/api/v1/reports", token, body.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, decided) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/review"),
            &w.admin_token,
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    decided
}

fn second_mile(w: &World, location: &str) -> Value {
    let mut body = report(w);
    body["location_id"] = json!(location);
    set_answer(&mut body, "remembered_name", json!({"value": true}));
    set_answer(&mut body, "unexpressed_need", json!({"value": true}));
    body
}

fn zero_mile(w: &World, location: &str) -> Value {
    let mut body = report(w);
    body["location_id"] = json!(location);
    set_answer(&mut body, "on_phone", json!({"value": true}));
    body
}

#[actix_web::test]
async fn a_location_summary_counts_released_visits_only() {
    let w = world().await;
    let a = approved(&w, &second_mile(&w, &w.location_id)).await;
    let b = approved(&w, &report(&w)).await;
    // Submitted but never released: not counted.
    let (status, _) = submit(&w, &zero_mile(&w, &w.location_id)).await;
    assert_eq!(status, 201);

    let path = format!("/api/v1/locations/{}/summary", w.location_id);
    let summary = w.app.get_ok(&path, &w.admin_token).await;
    let f = &summary["figures"];
    assert_eq!(f["visits"], 2);
    let scores = [
        a["score"]["overall"].as_f64().unwrap(),
        b["score"]["overall"].as_f64().unwrap(),
    ];
    let mean = (scores[0] + scores[1]) / 2.0;
    assert!(
        (f["mean_score"].as_f64().unwrap() - mean).abs() < 0.006,
        "{f}"
    );
    assert_eq!(f["min_score"].as_f64().unwrap(), scores[0].min(scores[1]));
    assert_eq!(f["second_mile"]["count"], 1);
    assert_eq!(f["zero_mile"]["count"], 0);
    assert_eq!(f["second_mile"]["rate"], 0.5);
    assert_eq!(f["low_sample"], true);
    assert_eq!(f["verdict"], "insufficient_data");
    assert_eq!(summary["last_visit_date"], a["visit_date"]);
    assert!(!summary["sections"].as_array().unwrap().is_empty());
    assert_eq!(summary["sections"][0]["title"], "Arrival and greeting");
}

#[actix_web::test]
async fn verdicts_ranking_and_the_overview_tell_second_from_zero_mile_stores() {
    let w = world().await;
    let problem = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-2", "name": "Baixa", "region": "Lisbon", "timezone": "Europe/Lisbon"}),
        )
        .await;
    let problem_id = problem.id.to_string();
    for _ in 0..5 {
        approved(&w, &second_mile(&w, &w.location_id)).await;
        approved(&w, &zero_mile(&w, &problem_id)).await;
    }
    let board = w
        .app
        .get_ok("/api/v1/aggregates/locations", &w.admin_token)
        .await;
    let items = board["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["location"]["code"], "S-1");
    assert_eq!(items[0]["rank"], 1);
    assert_eq!(items[0]["figures"]["verdict"], "second");
    assert_eq!(items[1]["figures"]["verdict"], "zero");
    assert_eq!(items[1]["rank"], 2);
    // Sorted by visits, both have 5: they share rank 1.
    let by_visits = w
        .app
        .get_ok("/api/v1/aggregates/locations?sort=visits", &w.admin_token)
        .await;
    let ranks: Vec<&Value> = by_visits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["rank"])
        .collect();
    assert_eq!(ranks, [&json!(1), &json!(1)]);
    // Pages of one.
    let first = w
        .app
        .get_ok("/api/v1/aggregates/locations?limit=1", &w.admin_token)
        .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = w
        .app
        .get_ok(
            &format!("/api/v1/aggregates/locations?limit=1&cursor={cursor}"),
            &w.admin_token,
        )
        .await;
    assert_eq!(second["items"][0]["location"]["code"], "S-2");
    assert_eq!(second["next_cursor"], Value::Null);

    let overview = w
        .app
        .get_ok("/api/v1/aggregates/overview", &w.admin_token)
        .await;
    assert_eq!(overview["figures"]["visits"], 10);
    assert_eq!(
        overview["verdicts"],
        json!({"zero": 1, "first": 0, "second": 1, "insufficient_data": 0})
    );
    // `min_visits` leaves out thin samples; an empty range has no visits.
    let thin = w
        .app
        .get_ok("/api/v1/aggregates/locations?min_visits=6", &w.admin_token)
        .await;
    assert_eq!(thin["items"], json!([]));
    let empty = w
        .app
        .get_ok(
            "/api/v1/aggregates/overview?from=2020-01-01&to=2020-12-31",
            &w.admin_token,
        )
        .await;
    assert_eq!(empty["figures"]["visits"], 0);
    assert_eq!(empty["figures"]["mean_score"], Value::Null);
}

#[actix_web::test]
async fn aggregates_enforce_roles_scopes_ranges_and_tenants() {
    let w = world().await;
    approved(&w, &report(&w)).await;
    let summary = format!("/api/v1/locations/{}/summary", w.location_id);
    let other = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-9", "name": "Other", "timezone": "UTC"}),
        )
        .await;
    let other_summary = format!("/api/v1/locations/{}/summary", other.id);
    let trend = format!("/api/v1/locations/{}/trend", w.location_id);
    let paths = [
        summary.as_str(),
        trend.as_str(),
        "/api/v1/aggregates/locations",
        "/api/v1/aggregates/overview",
        "/api/v1/aggregates/regions",
        "/api/v1/aggregates/questions",
    ];

    for role in ["reviewer", "analyst"] {
        let user = w.app.create_user(&w.admin_token, role).await;
        let token = w.app.access_token(&user).await;
        for path in paths {
            assert_eq!(w.app.get(path, &token).await.0, 200, "{role} {path}");
        }
    }
    for path in paths {
        assert_eq!(
            w.app.get(path, &w.shopper_token).await.0,
            403,
            "shopper {path}"
        );
    }
    let (id, secret) = w.app.create_client(&w.admin_token, &["reports:read"]).await;
    let unscoped = w.app.client_token(&id, &secret).await;
    let (id, secret) = w
        .app
        .create_client(&w.admin_token, &["aggregates:read"])
        .await;
    let scoped = w.app.client_token(&id, &secret).await;
    for path in paths {
        assert_eq!(w.app.get(path, &unscoped).await.0, 403, "client {path}");
        assert_eq!(w.app.get(path, &scoped).await.0, 200, "client {path}");
    }

    // A manager sees their own location only, and org-wide figures over it alone.
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&other.id.to_string()])
        .await;
    let token = w.app.access_token(&manager).await;
    assert_eq!(w.app.get(&summary, &token).await.0, 404);
    assert_eq!(w.app.get(&other_summary, &token).await.0, 200);
    let board = w.app.get_ok("/api/v1/aggregates/locations", &token).await;
    assert_eq!(board["items"].as_array().unwrap().len(), 1);
    let overview = w.app.get_ok("/api/v1/aggregates/overview", &token).await;
    assert_eq!(
        overview["figures"]["visits"], 0,
        "the released visit is at another location"
    );

    // Another organization: 404 for this one's location, nothing of it in its figures.
    let globex = w.app.create_org_with_admin("Globex");
    let globex_token = w.app.access_token(&globex).await;
    assert_eq!(w.app.get(&summary, &globex_token).await.0, 404);
    assert_eq!(w.app.get(&trend, &globex_token).await.0, 404);
    let (status, _) = w
        .app
        .get(
            &format!("/api/v1/aggregates/questions?location_id={}", w.location_id),
            &globex_token,
        )
        .await;
    assert_eq!(status, 404);
    let regions = w
        .app
        .get_ok("/api/v1/aggregates/regions", &globex_token)
        .await;
    assert_eq!(regions["items"], json!([]));
    let theirs = w
        .app
        .get_ok("/api/v1/aggregates/overview", &globex_token)
        .await;
    assert_eq!(theirs["figures"]["visits"], 0);
    let their_trend = w
        .app
        .get_ok("/api/v1/aggregates/trend?bucket=month", &globex_token)
        .await;
    let seen: u64 = their_trend["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["figures"]["visits"].as_u64().unwrap())
        .sum();
    assert_eq!(seen, 0, "nothing of another organization in the trend");
    let ours = w
        .app
        .get_ok("/api/v1/aggregates/trend?bucket=month", &w.admin_token)
        .await;
    let own: u64 = ours["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["figures"]["visits"].as_u64().unwrap())
        .sum();
    assert!(
        own >= 1,
        "this organization's released visit is in its trend: {ours}"
    );

    // Documented limits are enforced.
    let long_region = "r".repeat(101);
    for (path, pointer) in [
        (
            format!("/api/v1/aggregates/overview?region={long_region}"),
            "/query/region",
        ),
        (
            "/api/v1/aggregates/locations?min_visits=1000001".to_string(),
            "/query/min_visits",
        ),
        (
            "/api/v1/aggregates/regions?tag=a%7Cb".to_string(),
            "/query/tag",
        ),
    ] {
        let (status, problem) = w.app.get(&path, &w.admin_token).await;
        assert_eq!(status, 400, "{path}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    // Ranges: `from` after `to`, more than 3 years, and dates outside 1900 to 9999 are
    // refused.
    for bad in [
        "from=2026-05-01&to=2026-04-01",
        "from=2020-01-01&to=2026-01-01",
        "questionnaire_key=Bad%20Key",
        "from=1899-12-25&to=1900-01-05",
        "from=+10000-01-01&to=+10000-01-02",
    ] {
        let (status, problem) = w.app.get(&format!("{summary}?{bad}"), &w.admin_token).await;
        assert_eq!(status, 400, "{bad}: {problem}");
        assert_eq!(problem["code"], "invalid_query");
    }
}

#[actix_web::test]
async fn a_trend_buckets_visits_on_local_dates_and_shows_empty_buckets() {
    let w = world().await;
    // Auckland is UTC+13 in November: 11:30 UTC on the 16th is 00:30 on the 17th there.
    let auckland = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "AKL", "name": "Auckland", "region": "Pacific", "timezone": "Pacific/Auckland"}),
        )
        .await;
    let id = auckland.id.to_string();
    // A visit recorded in UTC counts on its Auckland date, which is often the next day.
    let mut body = report(&w);
    body["location_id"] = json!(id);
    body.as_object_mut().unwrap().remove("check_in");
    let started =
        chrono::DateTime::parse_from_rfc3339(body["visit"]["started_at"].as_str().unwrap())
            .unwrap();
    let local = started
        .with_timezone(&chrono_tz::Pacific::Auckland)
        .date_naive();
    let decided = approved(&w, &body).await;
    let visit_date =
        chrono::NaiveDate::parse_from_str(decided["visit_date"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    assert_eq!(visit_date, local);

    let from = visit_date - chrono::Duration::days(20);
    let path = format!("/api/v1/locations/{id}/trend?bucket=week&from={from}&to={visit_date}");
    let trend = w.app.get_ok(&path, &w.admin_token).await;
    let buckets = trend["buckets"].as_array().unwrap();
    assert!(buckets.len() >= 3, "{trend}");
    assert_eq!(
        buckets[0]["start"],
        json!(from.to_string()),
        "clipped to the range"
    );
    assert_eq!(
        buckets.last().unwrap()["end"],
        json!(visit_date.to_string())
    );
    let visits: Vec<u64> = buckets
        .iter()
        .map(|b| b["figures"]["visits"].as_u64().unwrap())
        .collect();
    assert_eq!(visits.iter().sum::<u64>(), 1, "{visits:?}");
    assert_eq!(*visits.last().unwrap(), 1, "the visit is in the last week");
    assert!(visits.contains(&0), "empty buckets are present");
    // Monday starts every bucket but the clipped first one.
    for b in &buckets[1..] {
        let start =
            chrono::NaiveDate::parse_from_str(b["start"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(chrono::Datelike::weekday(&start), chrono::Weekday::Mon);
    }
    let monthly = w
        .app
        .get_ok(
            &format!("/api/v1/locations/{id}/trend?bucket=month&from={from}&to={visit_date}"),
            &w.admin_token,
        )
        .await;
    let total: u64 = monthly["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["figures"]["visits"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 1);
}

#[actix_web::test]
async fn regions_and_questions_add_up_the_released_visits() {
    let w = world().await;
    approved(&w, &second_mile(&w, &w.location_id)).await;
    approved(&w, &report(&w)).await;
    let regions = w
        .app
        .get_ok("/api/v1/aggregates/regions", &w.admin_token)
        .await;
    assert_eq!(regions["items"][0]["region"], "Lisbon");
    assert_eq!(regions["items"][0]["locations"], 1);
    assert_eq!(regions["items"][0]["figures"]["visits"], 2);
    assert_eq!(regions["items"][0]["rank"], 1);

    let questions = w
        .app
        .get_ok("/api/v1/aggregates/questions", &w.admin_token)
        .await;
    let items = questions["items"].as_array().unwrap();
    let remembered = items
        .iter()
        .find(|q| q["key"] == "remembered_name")
        .unwrap();
    assert_eq!(remembered["n"], 2);
    assert_eq!(remembered["full_points"]["count"], 1);
    assert_eq!(remembered["full_points"]["rate"], 0.5);
    assert_eq!(remembered["mean_points"], 50.0);
    assert_eq!(
        remembered["text"],
        "Did an employee use or remember your name?"
    );
    let only = w
        .app
        .get_ok(
            &format!("/api/v1/aggregates/questions?location_id={}", w.location_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(only["items"], questions["items"]);
    let (status, _) = w
        .app
        .get(
            &format!(
                "/api/v1/aggregates/questions?location_id={}",
                uuid::Uuid::now_v7()
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        w.app
            .get("/api/v1/aggregates/regions", &w.shopper_token)
            .await
            .0,
        403
    );
    let path = format!("/api/v1/locations/{}/trend", w.location_id);
    assert_eq!(w.app.get(&path, &w.shopper_token).await.0, 403);
}

#[actix_web::test]
async fn trend_buckets_follow_the_local_calendar_across_a_dst_change() {
    // Fixed dates in 2026: reports of visits up to ten years old are accepted here.
    let w = crate::helpers::world_with(&[("SECONDMILE_MAX_REPORT_AGE_DAYS", "3650")]).await;
    let ny = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "NYC", "name": "New York", "timezone": "America/New_York"}),
        )
        .await;
    let id = ny.id.to_string();
    // New York left daylight saving time at 02:00 on Sunday 1 November 2026 (UTC-4 before,
    // UTC-5 after). Local dates: 31 Oct 23:30, 1 Nov 00:30, and 1 Nov 23:30 (which a
    // fixed UTC-4 offset would wrongly put on Monday 2 November, in the next week).
    for (started, local) in [
        ("2026-11-01T03:30:00Z", "2026-10-31"),
        ("2026-11-01T04:30:00Z", "2026-11-01"),
        ("2026-11-02T04:30:00Z", "2026-11-01"),
    ] {
        let mut body = report(&w);
        body["location_id"] = json!(id);
        body.as_object_mut().unwrap().remove("check_in");
        let start = chrono::DateTime::parse_from_rfc3339(started).unwrap();
        body["visit"] = json!({
            "started_at": started,
            "ended_at": (start + chrono::Duration::minutes(15)).to_rfc3339(),
        });
        let decided = approved(&w, &body).await;
        assert_eq!(decided["visit_date"], local, "{started}");
    }
    let weeks = w
        .app
        .get_ok(
            &format!("/api/v1/locations/{id}/trend?bucket=week&from=2026-10-26&to=2026-11-08"),
            &w.admin_token,
        )
        .await;
    let summary: Vec<(String, u64)> = weeks["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["start"].as_str().unwrap().to_string(),
                b["figures"]["visits"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("2026-10-26".to_string(), 3), ("2026-11-02".to_string(), 0)]
    );
    let months = w
        .app
        .get_ok(
            &format!("/api/v1/locations/{id}/trend?bucket=month&from=2026-10-01&to=2026-11-30"),
            &w.admin_token,
        )
        .await;
    let visits: Vec<u64> = months["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["figures"]["visits"].as_u64().unwrap())
        .collect();
    assert_eq!(visits, [1, 2]);
}
