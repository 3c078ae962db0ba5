//! Property: after any sequence of submissions and review decisions over several locations
//! (in different time zones), two questionnaires and many days, every aggregate endpoint's
//! figures equal a plain recomputation from the released reports read back through
//! `GET /api/v1/reports`, and `secondmile rollups verify` finds nothing.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::questionnaires::example;

#[derive(Debug, Clone)]
enum Op {
    /// location, questionnaire, answers variant, days ago
    Submit(usize, usize, u8, i64),
    Approve(usize),
    Reject(usize),
    Return(usize),
    Revise(usize, u8),
    Reopen(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => (0usize..3, 0usize..2, 0u8..8, 0i64..60).prop_map(|(l, q, v, d)| Op::Submit(l, q, v, d)),
        3 => (0usize..40).prop_map(Op::Approve),
        1 => (0usize..40).prop_map(Op::Reject),
        1 => (0usize..40).prop_map(Op::Return),
        1 => (0usize..40, 0u8..8).prop_map(|(i, v)| Op::Revise(i, v)),
        1 => (0usize..40).prop_map(Op::Reopen),
    ];
    proptest::collection::vec(op, 10..40)
}

struct Setup {
    app: TestApp,
    admin: String,
    shopper: String,
    locations: Vec<String>,
    questionnaires: Vec<String>,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let admin_user = app.create_org_with_admin("Prop");
    let admin = app.access_token(&admin_user).await;
    let mut locations = Vec::new();
    for (code, tz, region) in [
        ("L-1", "Europe/Lisbon", "West"),
        ("L-2", "Pacific/Auckland", "East"),
        ("L-3", "America/Los_Angeles", "West"),
    ] {
        let l = app
            .create_location(
                &admin,
                json!({"code": code, "name": code, "timezone": tz, "region": region}),
            )
            .await;
        locations.push(l.id.to_string());
    }
    let mut questionnaires = Vec::new();
    for key in ["store-visit", "drive-visit"] {
        questionnaires.push(app.published_questionnaire(&admin, example(key)).await);
    }
    let shopper_user = app.create_user(&admin, "shopper").await;
    let shopper = app.access_token(&shopper_user).await;
    Setup {
        app,
        admin,
        shopper,
        locations,
        questionnaires,
    }
}

/// A valid report whose answers vary with `variant` (first, second and zero mile visits).
fn body(
    s: &Setup,
    id: &str,
    location: usize,
    questionnaire: usize,
    variant: u8,
    days_ago: i64,
) -> Value {
    let start = Utc::now() - Duration::days(days_ago) - Duration::hours(1 + i64::from(variant));
    let bit = |n: u8| variant & (1 << n) != 0;
    json!({
        "id": id,
        "location_id": s.locations[location],
        "questionnaire_id": s.questionnaires[questionnaire],
        "visit": {"started_at": start.to_rfc3339(), "ended_at": (start + Duration::minutes(17)).to_rfc3339()},
        "answers": [
            {"question": "greeted", "value": true},
            {"question": "eye_contact", "value": !bit(2)},
            {"question": "smiled", "value": true},
            {"question": "on_phone", "value": bit(0) && bit(1)},
            {"question": "courtesy", "value": 2 + i64::from(variant % 4)},
            {"question": "appearance", "value": true},
            {"question": "wait_time", "value": 60 + 30 * i64::from(variant)},
            {"question": "had_issue", "value": "no"},
            {"question": "purchase_smooth", "value": true},
            {"question": "clean_inside", "value": 3 + i64::from(variant % 3)},
            {"question": "clean_outside", "value": true},
            {"question": "remembered_name", "value": bit(1)},
            {"question": "unexpressed_need", "value": bit(1)},
            {"question": "companion", "value": "alone"},
            {"question": "follow_up", "value": bit(2)},
            {"question": "beyond_task", "value": bit(0)},
            {"question": "highlights", "value": "ok"}
        ]
    })
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum State {
    Submitted,
    Approved,
    Rejected,
    Returned,
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let s = setup().await;
    let mut reports: Vec<(String, usize, usize, State)> = Vec::new();
    for op in ops {
        let pick = |i: usize| (!reports.is_empty()).then(|| i % reports.len());
        let decide = |i: usize, action: &str| {
            let id = reports[i].0.clone();
            let note = json!({"action": action, "note": "because"});
            async move { (id, note) }
        };
        match op {
            Op::Submit(l, q, v, d) => {
                let id = uuid::Uuid::new_v4().to_string();
                let (status, created) = s
                    .app
                    .post("/api/v1/reports", &s.shopper, body(&s, &id, l, q, v, d))
                    .await;
                prop_assert_eq!(status, 201, "{}", created);
                reports.push((id, l, q, State::Submitted));
            }
            Op::Approve(i) | Op::Reject(i) | Op::Return(i) | Op::Reopen(i) => {
                let Some(i) = pick(i) else { continue };
                let (action, from, to) = match op {
                    Op::Approve(_) => ("approve", vec![State::Submitted], State::Approved),
                    Op::Reject(_) => ("reject", vec![State::Submitted], State::Rejected),
                    Op::Return(_) => ("return", vec![State::Submitted], State::Returned),
                    _ => (
                        "reopen",
                        vec![State::Approved, State::Rejected],
                        State::Submitted,
                    ),
                };
                if !from.contains(&reports[i].3) {
                    continue;
                }
                let (id, decision) = decide(i, action).await;
                let (status, answer) = s
                    .app
                    .post(&format!("/api/v1/reports/{id}/review"), &s.admin, decision)
                    .await;
                prop_assert_eq!(status, 200, "{}", answer);
                reports[i].3 = to;
            }
            Op::Revise(i, v) => {
                let Some(i) = pick(i) else { continue };
                if reports[i].3 != State::Returned {
                    continue;
                }
                let (id, l, q, _) = reports[i].clone();
                let (status, answer) = s
                    .app
                    .put(
                        &format!("/api/v1/reports/{id}"),
                        &s.shopper,
                        body(&s, &id, l, q, v, 3),
                    )
                    .await;
                prop_assert_eq!(status, 200, "{}", answer);
                reports[i].3 = State::Submitted;
            }
        }
    }

    // The released reports, read back as any client would.
    let mut released: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/reports?status=approved&limit=200".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = s.app.get_ok(&path, &s.admin).await;
        released.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let expected = |reports: &[&Value]| {
        let scores: Vec<f64> = reports
            .iter()
            .filter_map(|r| r["score"]["overall"].as_f64())
            .collect();
        let level = |l: &str| {
            reports
                .iter()
                .filter(|r| r["score"]["mile_level"] == l)
                .count() as u64
        };
        let mean = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
        (reports.len() as u64, level("zero"), level("second"), mean)
    };
    let check = |figures: &Value, reports: &[&Value], what: &str| -> Result<(), TestCaseError> {
        let (visits, zero, second, mean) = expected(reports);
        prop_assert_eq!(
            figures["visits"].as_u64(),
            Some(visits),
            "{} visits: {}",
            what,
            figures
        );
        prop_assert_eq!(
            figures["zero_mile"]["count"].as_u64(),
            Some(zero),
            "{} zero: {}",
            what,
            figures
        );
        prop_assert_eq!(
            figures["second_mile"]["count"].as_u64(),
            Some(second),
            "{} second: {}",
            what,
            figures
        );
        match mean {
            Some(m) => prop_assert!(
                (figures["mean_score"].as_f64().unwrap() - m).abs() < 0.006,
                "{} mean {} vs {}",
                what,
                figures,
                m
            ),
            None => prop_assert!(
                figures["mean_score"].is_null(),
                "{} mean: {}",
                what,
                figures
            ),
        }
        Ok(())
    };
    // Every visit of the sequence: up to 60 days ago, and a day ahead in Auckland.
    let today = Utc::now().date_naive();
    let range = format!(
        "from={}&to={}",
        today - Duration::days(90),
        today + Duration::days(2)
    );
    let all: Vec<&Value> = released.iter().collect();
    let overview = s
        .app
        .get_ok(&format!("/api/v1/aggregates/overview?{range}"), &s.admin)
        .await;
    check(&overview["figures"], &all, "overview")?;
    let board = s
        .app
        .get_ok(
            &format!("/api/v1/aggregates/locations?{range}&limit=200"),
            &s.admin,
        )
        .await;
    let mut by_region: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for (i, location) in s.locations.iter().enumerate() {
        let mine: Vec<&Value> = released
            .iter()
            .filter(|r| r["location_id"] == location.as_str())
            .collect();
        let summary = s
            .app
            .get_ok(
                &format!("/api/v1/locations/{location}/summary?{range}"),
                &s.admin,
            )
            .await;
        check(&summary["figures"], &mine, &format!("summary {i}"))?;
        let row = board["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["location"]["id"] == location.as_str())
            .unwrap();
        check(&row["figures"], &mine, &format!("leaderboard {i}"))?;
        let trend = s
            .app
            .get_ok(
                &format!("/api/v1/locations/{location}/trend?bucket=month&{range}"),
                &s.admin,
            )
            .await;
        let in_buckets: u64 = trend["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["figures"]["visits"].as_u64().unwrap())
            .sum();
        prop_assert_eq!(in_buckets, mine.len() as u64, "trend {}", i);
        for r in &mine {
            let region = if i == 1 { "East" } else { "West" };
            by_region.entry(region.to_string()).or_default().push(r);
        }
    }
    let regions = s
        .app
        .get_ok(&format!("/api/v1/aggregates/regions?{range}"), &s.admin)
        .await;
    for row in regions["items"].as_array().unwrap() {
        let region = row["region"].as_str().unwrap();
        let mine = by_region.get(region).cloned().unwrap_or_default();
        check(&row["figures"], &mine, region)?;
    }
    let questions = s
        .app
        .get_ok(&format!("/api/v1/aggregates/questions?{range}"), &s.admin)
        .await;
    for row in questions["items"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        let (mut n, mut full) = (0u64, 0u64);
        for r in &all {
            if let Some(q) = r["score"]["questions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["key"] == key)
                && q["counted"] == true
            {
                n += 1;
                let (e, p) = (
                    q["earned"].as_f64().unwrap(),
                    q["possible"].as_f64().unwrap(),
                );
                if (p > 0.0 && e >= p - 1e-9) || (p == 0.0 && e > 0.0) {
                    full += 1;
                }
            }
        }
        prop_assert_eq!(row["n"].as_u64(), Some(n), "question {}", key);
        prop_assert_eq!(
            row["full_points"]["count"].as_u64(),
            Some(full),
            "question {}",
            key
        );
    }
    // What changed: the last 30 days (and two ahead) against the 60 days before.
    let (later_from, later_to) = (today - Duration::days(29), today + Duration::days(2));
    let (earlier_from, earlier_to) = (today - Duration::days(90), today - Duration::days(30));
    let dated = |from: chrono::NaiveDate, to: chrono::NaiveDate, location: Option<&str>| {
        released
            .iter()
            .filter(|r| {
                let d: chrono::NaiveDate = r["visit_date"].as_str().unwrap().parse().unwrap();
                from <= d && d <= to && location.is_none_or(|l| r["location_id"] == l)
            })
            .collect::<Vec<&Value>>()
    };
    let changes = s
        .app
        .get_ok(
            &format!(
                "/api/v1/aggregates/changes?from={later_from}&to={later_to}\
                 &compare_from={earlier_from}&compare_to={earlier_to}&limit=200"
            ),
            &s.admin,
        )
        .await;
    check(
        &changes["organization"]["later"],
        &dated(later_from, later_to, None),
        "changes later",
    )?;
    check(
        &changes["organization"]["earlier"],
        &dated(earlier_from, earlier_to, None),
        "changes earlier",
    )?;
    for (i, location) in s.locations.iter().enumerate() {
        let row = changes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["location"]["id"] == location.as_str())
            .unwrap();
        let later = dated(later_from, later_to, Some(location));
        let earlier = dated(earlier_from, earlier_to, Some(location));
        check(&row["later"], &later, &format!("changes later {i}"))?;
        check(&row["earlier"], &earlier, &format!("changes earlier {i}"))?;
        let (_, _, _, later_mean) = expected(&later);
        let (_, _, _, earlier_mean) = expected(&earlier);
        let scored = |rs: &[&Value]| rs.iter().filter(|r| r["score"]["overall"].is_f64()).count();
        if scored(&later) >= 2 && scored(&earlier) >= 2 {
            let difference = later_mean.unwrap() - earlier_mean.unwrap();
            prop_assert!(
                (row["changes"]["mean_score"]["difference"].as_f64().unwrap() - difference).abs()
                    < 0.011,
                "changes {} mean: {} vs {}",
                i,
                row,
                difference
            );
        } else {
            prop_assert!(
                row["changes"]["mean_score"].is_null(),
                "changes {}: {}",
                i,
                row
            );
        }
    }
    // What to train, per questionnaire: each question's passes and zero-mile failures.
    for key in ["store-visit", "drive-visit"] {
        let drivers = s
            .app
            .get_ok(
                &format!("/api/v1/aggregates/drivers?questionnaire_key={key}&min_visits=1&{range}"),
                &s.admin,
            )
            .await;
        let mine: Vec<&Value> = all
            .iter()
            .copied()
            .filter(|r| r["questionnaire_key"] == key)
            .collect();
        prop_assert_eq!(
            drivers["visits"].as_u64(),
            Some(mine.len() as u64),
            "{}",
            key
        );
        for row in drivers["keeps_out_of_zero_mile"].as_array().unwrap() {
            let question = row["key"].as_str().unwrap();
            let (mut n, mut passed, mut zero_failed) = (0u64, 0u64, 0u64);
            for r in &mine {
                let Some(q) = r["score"]["questions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|q| q["key"] == question && q["counted"] == true)
                else {
                    continue;
                };
                n += 1;
                let (e, p) = (
                    q["earned"].as_f64().unwrap(),
                    q["possible"].as_f64().unwrap(),
                );
                if (p > 0.0 && e >= p - 1e-9) || (p == 0.0 && e > 0.0) {
                    passed += 1;
                } else if r["score"]["mile_level"] == "zero" {
                    zero_failed += 1;
                }
            }
            prop_assert_eq!(row["visits"].as_u64(), Some(n), "{} {}", key, question);
            prop_assert_eq!(
                row["pass_rate"]["count"].as_u64(),
                Some(passed),
                "{} {}",
                key,
                question
            );
            prop_assert_eq!(
                row["share_of_zero_mile"]["count"].as_u64(),
                Some(zero_failed),
                "{} {}",
                key,
                question
            );
        }
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["rollups", "verify"])
        .env("DATABASE_URL", s.app.db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .unwrap();
    prop_assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    Ok(())
}

#[test]
fn every_aggregate_equals_a_recomputation_from_the_released_reports() {
    let mut runner = TestRunner::new(Config {
        cases: 4,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&ops(), |ops| {
            actix_web::rt::System::new().block_on(run(ops))
        })
        .unwrap();
}
