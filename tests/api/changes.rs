//! What changed between two periods: figures of both, differences with their intervals,
//! significance never called on a thin sample, the largest significant decline first, the
//! verdict changes of the range, and the query's every problem listed.

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{World, pointers, report, set_answer, world};

/// A report of a visit `days` ago at `location`.
fn visit(w: &World, location: &str, days: i64) -> Value {
    let mut body = report(w);
    body["location_id"] = json!(location);
    let start = Utc::now() - TimeDelta::days(days) - TimeDelta::hours(1);
    body["visit"] = json!({
        "started_at": start.to_rfc3339(),
        "ended_at": (start + TimeDelta::minutes(17)).to_rfc3339(),
    });
    body
}

fn zero_mile(mut body: Value) -> Value {
    set_answer(&mut body, "on_phone", json!({"value": true}));
    body
}

fn second_mile(mut body: Value) -> Value {
    set_answer(&mut body, "remembered_name", json!({"value": true}));
    set_answer(&mut body, "unexpressed_need", json!({"value": true}));
    body
}

fn mean(scores: &[f64]) -> f64 {
    scores.iter().sum::<f64>() / scores.len() as f64
}

fn score(r: &Value) -> f64 {
    r["score"]["overall"].as_f64().unwrap()
}

/// The range of the last 30 days, compared (by default) with the 30 before.
fn last_30_days() -> String {
    let today = Utc::now().date_naive();
    format!("from={}&to={today}", today - TimeDelta::days(29))
}

#[actix_web::test]
async fn a_store_that_fell_lists_first_with_its_change_called_real() {
    let w = world().await;
    let steady = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-2", "name": "Steady", "timezone": "Europe/Lisbon"}),
        )
        .await
        .id
        .to_string();
    // S-1: six second-mile visits 35 to 40 days ago, then six zero-mile visits in the last
    // week. S-2: the same ordinary visit in both periods.
    let mut fell = (Vec::new(), Vec::new());
    for day in 35..41 {
        fell.1.push(score(
            &approved(&w, &second_mile(visit(&w, &w.location_id, day))).await,
        ));
        approved(&w, &visit(&w, &steady, day)).await;
    }
    let mut shift_reports = Vec::new();
    for day in 2..8 {
        let r = approved(&w, &zero_mile(visit(&w, &w.location_id, day))).await;
        fell.0.push(score(&r));
        shift_reports.push(r["id"].clone());
        approved(&w, &visit(&w, &steady, day)).await;
    }

    let changes = w
        .app
        .get_ok(
            &format!("/api/v1/aggregates/changes?{}", last_30_days()),
            &w.admin_token,
        )
        .await;
    let today = Utc::now().date_naive();
    assert_eq!(
        changes["compared_with"],
        json!({"from": (today - TimeDelta::days(59)).to_string(), "to": (today - TimeDelta::days(30)).to_string()})
    );
    let items = changes["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let first = &items[0];
    assert_eq!(first["location"]["code"], "S-1", "the decline lists first");
    assert_eq!(first["significant"], true);
    assert_eq!(first["later"]["visits"], 6);
    assert_eq!(first["earlier"]["visits"], 6);
    let change = &first["changes"]["mean_score"];
    let expected = mean(&fell.0) - mean(&fell.1);
    assert!(
        (change["difference"].as_f64().unwrap() - expected).abs() < 0.006,
        "{change}"
    );
    assert_eq!(change["significant"], true);
    let ci = change["ci95"].as_array().unwrap();
    assert!(
        ci[0].as_f64().unwrap() <= expected + 0.006 && expected - 0.006 <= ci[1].as_f64().unwrap()
    );
    assert_eq!(first["changes"]["zero_mile_rate"]["difference"], 1.0);
    assert_eq!(first["changes"]["zero_mile_rate"]["significant"], true);
    assert_eq!(first["changes"]["second_mile_rate"]["difference"], -1.0);
    assert_eq!(first["changes"]["low_sample"], false);
    // The verdict moved during the range, each change with the visit that made it.
    let shifts = first["verdict_changes"].as_array().unwrap();
    assert!(!shifts.is_empty(), "{first}");
    assert_eq!(shifts.last().unwrap()["to"], "zero", "{shifts:?}");
    for s in shifts {
        assert!(shift_reports.contains(&s["report_id"]), "{s}");
    }
    // The steady store did not move.
    let second = &items[1];
    assert_eq!(second["location"]["code"], "S-2");
    assert_eq!(second["changes"]["mean_score"]["difference"], 0.0);
    assert_eq!(second["significant"], false);
    assert_eq!(second["verdict_changes"], json!([]));
    // The organization and each region.
    assert_eq!(changes["organization"]["later"]["visits"], 12);
    assert_eq!(changes["organization"]["earlier"]["visits"], 12);
    let regions: Vec<&Value> = changes["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["region"])
        .collect();
    assert_eq!(regions.last(), Some(&&Value::Null), "no region lists last");
    assert_eq!(regions.len(), 2, "{regions:?}");

    // Gains first: the store that fell lists last.
    let gains = w
        .app
        .get_ok(
            &format!(
                "/api/v1/aggregates/changes?{}&direction=gain",
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(gains["items"][1]["location"]["code"], "S-1");
    // Only the significant declines; the zero-mile rate rising is one.
    let only = w
        .app
        .get_ok(
            &format!(
                "/api/v1/aggregates/changes?{}&measure=zero_mile_rate&only_significant=true",
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    let codes: Vec<&Value> = only["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["location"]["code"])
        .collect();
    assert_eq!(codes, [&json!("S-1")]);
    // Named locations only (a page of the leaderboard at once); the organization stays whole.
    let named = w
        .app
        .get_ok(
            &format!(
                "/api/v1/aggregates/changes?{}&location_ids={steady}",
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    let codes: Vec<&Value> = named["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["location"]["code"])
        .collect();
    assert_eq!(codes, [&json!("S-2")]);
    assert_eq!(named["organization"], changes["organization"]);
    let both = w
        .app
        .get_ok(
            &format!(
                "/api/v1/aggregates/changes?{}&location_ids={steady},{}",
                last_30_days(),
                w.location_id
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(both["items"], changes["items"]);

    // The location's own answer says the same.
    let own = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/changes?{}",
                w.location_id,
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(own["changes"], first["changes"]);
    assert_eq!(own["later"], first["later"]);
    assert_eq!(own["verdict_changes"], first["verdict_changes"]);
    assert_eq!(own["compared_with"], changes["compared_with"]);

    // Pages of one, in the same order.
    let page = w
        .app
        .get_ok(
            &format!("/api/v1/aggregates/changes?{}&limit=1", last_30_days()),
            &w.admin_token,
        )
        .await;
    assert_eq!(page["items"][0]["location"]["code"], "S-1");
    assert_eq!(page["has_more"], true);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = w
        .app
        .get_ok(
            &format!(
                "/api/v1/aggregates/changes?{}&limit=1&cursor={cursor}",
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(next["items"][0]["location"]["code"], "S-2");
    assert_eq!(next["has_more"], false);
    // A cursor of another order is refused.
    let (status, problem) = w
        .app
        .get(
            &format!(
                "/api/v1/aggregates/changes?{}&limit=1&cursor={cursor}&direction=gain",
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(pointers(&problem), ["/query/cursor"]);
}

#[actix_web::test]
async fn a_thin_sample_is_never_called_significant() {
    let w = world().await;
    approved(&w, &second_mile(visit(&w, &w.location_id, 40))).await;
    approved(&w, &second_mile(visit(&w, &w.location_id, 41))).await;
    approved(&w, &zero_mile(visit(&w, &w.location_id, 3))).await;
    approved(&w, &zero_mile(visit(&w, &w.location_id, 4))).await;
    let own = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/changes?{}",
                w.location_id,
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    let c = &own["changes"];
    assert_eq!(c["low_sample"], true);
    assert_eq!(c["zero_mile_rate"]["difference"], 1.0);
    for measure in [
        "mean_score",
        "zero_mile_rate",
        "second_mile_rate",
        "critical_failure_rate",
    ] {
        assert_eq!(c[measure]["significant"], false, "{measure}: {c}");
    }
    assert_eq!(own["later"]["low_sample"], true);
    // Nothing to compare: no visit in the comparison period.
    let year_ago = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/changes?{}&compare=year_ago",
                w.location_id,
                last_30_days()
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(year_ago["earlier"]["visits"], 0);
    assert_eq!(year_ago["changes"]["mean_score"], Value::Null);
    assert_eq!(year_ago["changes"]["zero_mile_rate"], Value::Null);
}

#[actix_web::test]
async fn a_comparison_is_checked_with_every_problem_listed() {
    let w = world().await;
    let base = "/api/v1/aggregates/changes";
    let cases: [(&str, &[&str]); 8] = [
        (
            "compare=previous&compare_from=2026-01-01",
            &["/query/compare_from"],
        ),
        (
            "compare=dates",
            &["/query/compare_from", "/query/compare_to"],
        ),
        ("compare_to=2026-01-01", &["/query/compare_from"]),
        (
            "from=2026-03-01&to=2026-03-31&compare_from=2026-03-15&compare_to=2026-04-15",
            &["/query/compare_from"],
        ),
        (
            "from=2026-03-01&to=2026-03-31&compare_from=2026-02-15&compare_to=2026-01-01",
            &["/query/compare_from"],
        ),
        (
            "from=2026-04-01&to=2026-03-01&compare=dates",
            &["/query/from", "/query/compare_from", "/query/compare_to"],
        ),
        ("from=1900-01-01&to=1900-01-31", &["/query/compare"]),
        (
            "location_ids=nonsense,also-not",
            &["/query/location_ids", "/query/location_ids"],
        ),
    ];
    for (query, expected) in cases {
        let (status, problem) = w.app.get(&format!("{base}?{query}"), &w.admin_token).await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(problem["code"], "invalid_query");
        assert_eq!(pointers(&problem), expected, "{query}: {problem}");
    }
    let too_many = format!(
        "location_ids={}",
        vec![w.location_id.as_str(); 101].join(",")
    );
    for query in [
        "measure=best",
        "direction=up",
        "limit=0",
        "limit=201",
        "only_significant=maybe",
        "cursor=nonsense",
        too_many.as_str(),
    ] {
        let (status, problem) = w.app.get(&format!("{base}?{query}"), &w.admin_token).await;
        assert_eq!(status, 400, "{query}: {problem}");
    }
    // Explicit dates before, or after, both compare.
    let after = w
        .app
        .get_ok(
            &format!(
                "{base}?from=2026-03-01&to=2026-03-31&compare_from=2026-04-01&compare_to=2026-04-30"
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(
        after["compared_with"],
        json!({"from": "2026-04-01", "to": "2026-04-30"})
    );
    // A shopper may not ask; another organization's location is not found.
    let (status, _) = w.app.get(base, &w.shopper_token).await;
    assert_eq!(status, 403);
    let other_admin = w.app.create_org_with_admin("Other");
    let other = w.app.access_token(&other_admin).await;
    let (status, problem) = w
        .app
        .get(
            &format!("/api/v1/locations/{}/changes", w.location_id),
            &other,
        )
        .await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    let theirs = w.app.get_ok(base, &other).await;
    assert_eq!(
        theirs["items"],
        json!([]),
        "nothing of another organization"
    );
}

#[actix_web::test]
async fn a_manager_sees_the_changes_of_their_own_locations_only() {
    let w = world().await;
    let other = w
        .app
        .create_location(
            &w.admin_token,
            json!({"code": "S-9", "name": "Theirs", "timezone": "Europe/Lisbon"}),
        )
        .await;
    approved(&w, &visit(&w, &w.location_id, 3)).await;
    approved(&w, &visit(&w, &other.id.to_string(), 3)).await;
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let token = w.app.access_token(&manager).await;
    let changes = w.app.get_ok("/api/v1/aggregates/changes", &token).await;
    let items = changes["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["location"]["code"], "S-1");
    assert_eq!(changes["organization"]["later"]["visits"], 1);
    let (status, _) = w
        .app
        .get(&format!("/api/v1/locations/{}/changes", other.id), &token)
        .await;
    assert_eq!(status, 404);
}
