//! Why did this figure change: every aggregate answer carries `as_of` and an `ETag` (304
//! while its figures hold), and `figure-changes` since an `as_of` accounts for the exact
//! difference between the figures then and now.

use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::helpers::{World, report, set_answer, submit, world};

fn summary_path(w: &World) -> String {
    format!("/api/v1/locations/{}/summary", w.location_id)
}

/// An answer's status, ETag, As-Of header and body.
async fn read(w: &World, path: &str, etag: Option<&str>) -> (u16, String, String, Value) {
    let mut request = w
        .app
        .client
        .get(w.app.url(path))
        .bearer_auth(&w.admin_token);
    if let Some(tag) = etag {
        request = request.insert_header(("if-none-match", tag));
    }
    let mut response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (etag, as_of) = (header("etag"), header("as-of"));
    let status = response.status().as_u16();
    let body = if status == 304 {
        Value::Null
    } else {
        let bytes = response.body().limit(1 << 22).await.unwrap();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, etag, as_of, body)
}

async fn decide(w: &World, id: &str, action: Value) {
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/review"),
            &w.admin_token,
            action,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn aggregate_answers_carry_as_of_and_answer_304_while_their_figures_hold() {
    let w = world().await;
    approved(&w, &report(&w)).await;
    let path = summary_path(&w);
    let (status, etag, as_of, body) = read(&w, &path, None).await;
    assert_eq!(status, 200);
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    assert_eq!(body["as_of"], as_of.as_str());
    assert!(as_of.parse::<i64>().unwrap() > 0);

    // The same figures: 304 with the same ETag.
    let (status, again, _, _) = read(&w, &path, Some(&etag)).await;
    assert_eq!((status, again.as_str()), (304, etag.as_str()));
    // A report submitted (not released) enters no figure: still 304, though the
    // organization's cursor moves on (once its event is numbered).
    let (status, created) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{created}");
    let (status, _, later, _) = read(&w, &path, Some(&etag)).await;
    assert_eq!(status, 304);
    assert!(later.parse::<i64>().unwrap() >= as_of.parse::<i64>().unwrap());
    // Released, it does: 200 with another ETag.
    decide(
        &w,
        created["id"].as_str().unwrap(),
        json!({"action": "approve"}),
    )
    .await;
    let (status, changed, _, body) = read(&w, &path, Some(&etag)).await;
    assert_eq!(status, 200);
    assert_ne!(changed, etag);
    assert_eq!(body["figures"]["visits"], 2);

    // Every aggregate answer carries both.
    let today = chrono::Utc::now().date_naive();
    for path in [
        "/api/v1/aggregates/locations".to_string(),
        "/api/v1/aggregates/overview".into(),
        "/api/v1/aggregates/regions".into(),
        "/api/v1/aggregates/questions".into(),
        "/api/v1/aggregates/trend".into(),
        "/api/v1/aggregates/recognition".into(),
        "/api/v1/aggregates/changes".into(),
        "/api/v1/aggregates/shoppers".into(),
        "/api/v1/aggregates/drivers?questionnaire_key=store-visit&min_visits=1".into(),
        format!("/api/v1/locations/{}/trend", w.location_id),
        format!("/api/v1/locations/{}/changes?to={today}", w.location_id),
    ] {
        let (status, etag, as_of, body) = read(&w, &path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["as_of"], as_of.as_str(), "{path}");
        let (status, _, _, _) = read(&w, &path, Some(&etag)).await;
        assert_eq!(status, 304, "{path}");
    }
    let (status, etag, as_of, _) = read(&w, "/api/v1/aggregates/locations.csv", None).await;
    assert_eq!(status, 200);
    assert!(!as_of.is_empty());
    let (status, _, _, _) = read(&w, "/api/v1/aggregates/locations.csv", Some(&etag)).await;
    assert_eq!(status, 304);
}

#[actix_web::test]
async fn figure_changes_since_an_as_of_account_for_the_exact_difference() {
    let w = world().await;
    // Before: three released visits of different scores.
    let mut low = report(&w);
    set_answer(&mut low, "greeted", json!({"value": false}));
    set_answer(&mut low, "courtesy", json!({"value": 2}));
    let low = approved(&w, &low).await;
    let plain = approved(&w, &report(&w)).await;
    let mut high = report(&w);
    for q in ["remembered_name", "unexpressed_need", "follow_up"] {
        set_answer(&mut high, q, json!({"value": true}));
    }
    approved(&w, &high).await;
    let path = summary_path(&w);
    let (_, _, since, then) = read(&w, &path, None).await;

    // After: one more released; one reopened; one returned, revised and approved as
    // revision 2; one amended after an appeal.
    let newer = approved(&w, &report(&w)).await;
    decide(
        &w,
        plain["id"].as_str().unwrap(),
        json!({"action": "reopen", "note": "the visit date is wrong"}),
    )
    .await;
    let (status, returned) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{returned}");
    let returned_id = returned["id"].as_str().unwrap();
    decide(
        &w,
        returned_id,
        json!({"action": "return", "note": "add the wait time"}),
    )
    .await;
    let mut revised = report(&w);
    revised["id"] = json!(returned_id);
    set_answer(&mut revised, "courtesy", json!({"value": 3}));
    let (status, body) = w
        .app
        .put(
            &format!("/api/v1/reports/{returned_id}"),
            &w.shopper_token,
            revised,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    decide(&w, returned_id, json!({"action": "approve"})).await;
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let manager = w.app.access_token(&manager).await;
    let low_id = low["id"].as_str().unwrap();
    let (status, appeal) = w
        .app
        .post(
            &format!("/api/v1/reports/{low_id}/appeals"),
            &manager,
            json!({"questions": ["greeted"], "reason": "The door camera shows a greeting."}),
        )
        .await;
    assert_eq!(status, 201, "{appeal}");
    let (status, decided) = w
        .app
        .post(
            &format!("/api/v1/appeals/{}/decision", appeal["id"].as_str().unwrap()),
            &w.admin_token,
            json!({"decision": "amend", "note": "confirmed", "answers": [{"question": "greeted", "value": true}]}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    let (_, _, as_of, now) = read(&w, &path, None).await;

    let explained = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/figure-changes?since={since}",
                w.location_id
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(explained["since"], since.as_str());
    assert_eq!(explained["as_of"], as_of.as_str());
    let kinds: Vec<&str> = explained["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["released", "reopened", "released", "amended"]);
    let items = explained["items"].as_array().unwrap();
    assert_eq!(items[0]["report_id"], newer["id"]);
    assert_eq!(items[1]["report_id"], plain["id"]);
    assert_eq!(
        (items[2]["report_id"].as_str(), items[2]["revision"].clone()),
        (Some(returned_id), json!(2))
    );
    assert_eq!(
        (items[3]["report_id"].as_str(), items[3]["revision"].clone()),
        (Some(low_id), json!(2))
    );

    // Then and now are the two answers' figures; the effects add up to the difference.
    let (before, after) = (&explained["then"], &explained["now"]);
    for (figures, answer) in [(before, &then), (after, &now)] {
        let f = &answer["figures"];
        assert_eq!(figures["visits"], f["visits"]);
        for mile in ["zero_mile", "first_mile", "second_mile"] {
            assert_eq!(figures[mile], f[mile]["count"], "{mile}");
        }
        let mean = figures["mean_score"].as_f64().unwrap();
        assert!(
            (mean - f["mean_score"].as_f64().unwrap()).abs() < 0.005,
            "{mean} {f}"
        );
    }
    let total = |field: &str| -> f64 {
        items
            .iter()
            .map(|i| i["effect"][field].as_f64().unwrap())
            .sum()
    };
    let diff = |field: &str| after[field].as_f64().unwrap() - before[field].as_f64().unwrap();
    for field in ["visits", "zero_mile", "first_mile", "second_mile"] {
        assert_eq!(total(field), diff(field), "{field}");
    }
    assert!((total("mean_score") - diff("mean_score")).abs() < 1e-9);
    assert_eq!(items[0]["effect"]["visits"], 1);
    assert_eq!(items[1]["effect"]["visits"], -1);
    assert_eq!(items[3]["effect"]["visits"], 0);
    assert!(items[3]["effect"]["mean_score"].as_f64().unwrap() > 0.0);

    // Since now: nothing moved.
    let none = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/figure-changes?since={as_of}",
                w.location_id
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["then"], none["now"]);
    // Managers see their locations' changes.
    let mine = w
        .app
        .get_ok(
            &format!(
                "/api/v1/locations/{}/figure-changes?since={since}",
                w.location_id
            ),
            &manager,
        )
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 4);

    // Bad cursors are refused with every problem listed.
    let base = format!("/api/v1/locations/{}/figure-changes", w.location_id);
    for query in ["", "?since=abc", "?since=-1", "?since=99999999"] {
        let (status, body) = w.app.get(&format!("{base}{query}"), &w.admin_token).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
    let (status, body) = w
        .app
        .get(
            &format!("{base}?since=x&from=2026-05-01&to=2026-04-01"),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    // Another organization's location is not found.
    let other = w.app.create_org_with_admin("Other");
    let other = w.app.access_token(&other).await;
    let (status, _) = w.app.get(&format!("{base}?since={since}"), &other).await;
    assert_eq!(status, 404);
}
