//! A shopper's app syncs in one call: what it needs after being offline, a cursor, and
//! `304 Not Modified` when nothing changed since that cursor.

use awc::http::header::HeaderMap;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use secondmile::clock::Clock;

use crate::helpers::{TestApp, World, create_wave, json_body, report, submit, world_at};

fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset))
        .date_naive()
        .to_string()
}

/// `GET /me/sync`, with `since` or `If-None-Match`: status, headers, body (`null` for 304).
async fn sync(
    app: &TestApp,
    token: &str,
    since: Option<&str>,
    if_none_match: Option<&str>,
) -> (u16, HeaderMap, Value) {
    let path = match since {
        Some(s) => format!("/api/v1/me/sync?since={s}"),
        None => "/api/v1/me/sync".to_string(),
    };
    let mut request = app.client.get(app.url(&path)).bearer_auth(token);
    if let Some(tag) = if_none_match {
        request = request.insert_header(("if-none-match", tag));
    }
    let mut response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = if status == 304 {
        Value::Null
    } else {
        json_body(&mut response).await
    };
    (status, headers, body)
}

fn etag(headers: &HeaderMap) -> String {
    headers.get("etag").unwrap().to_str().unwrap().to_string()
}

/// A wave with one assignment for the world's shopper and one open to claim.
async fn plan(w: &World) -> (String, String) {
    let wave = create_wave(w, 3, 60).await;
    let path = format!("/api/v1/waves/{wave}/assignments");
    let (status, created) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!([
                {"location_id": w.location_id, "shopper_id": w.shopper_id, "visit_from": day(5), "visit_to": day(9)},
                {"location_id": w.location_id, "visit_from": day(20), "visit_to": day(25)}
            ]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    (
        created[0]["id"].as_str().unwrap().to_string(),
        created[1]["id"].as_str().unwrap().to_string(),
    )
}

#[actix_web::test]
async fn the_app_syncs_in_one_call_and_hears_304_until_something_changes() {
    let clock = Clock::manual(Utc::now());
    let w = world_at(&[], clock.clone()).await;
    let (mine, open) = plan(&w).await;
    let (status, sent) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{sent}");
    let report_id = sent["id"].as_str().unwrap().to_string();

    // The first sync: everything, each section complete.
    let (status, headers, first) = sync(&w.app, &w.shopper_token, None, None).await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["cursor"].as_str().unwrap().to_string();
    assert_eq!(etag(&headers), format!("\"{cursor}\""));
    assert_eq!(
        first["questionnaires"]["items"][0]["id"],
        json!(w.questionnaire_id)
    );
    assert!(
        first["questionnaires"]["items"][0]["sections"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );
    assert_eq!(first["assignments"]["items"][0]["id"], json!(mine));
    assert_eq!(first["claimable"]["items"][0]["id"], json!(open));
    assert_eq!(
        first["eligible_locations"]["items"][0]["location_id"],
        json!(w.location_id)
    );
    assert_eq!(first["reports"]["items"][0]["id"], json!(report_id));
    assert_eq!(first["reports"]["items"][0]["status"], "submitted");
    for section in [
        "questionnaires",
        "assignments",
        "claimable",
        "eligible_locations",
        "reports",
    ] {
        assert_eq!(first[section]["complete"], true, "{section}");
    }

    // Nothing changed: 304, and the client keeps its cursor.
    clock.advance(Duration::seconds(2));
    let (status, headers, _) = sync(&w.app, &w.shopper_token, Some(&cursor), None).await;
    assert_eq!(status, 304);
    assert_eq!(
        etag(&headers),
        format!("\"{cursor}\""),
        "the cursor is kept"
    );
    let tag = format!("\"{cursor}\"");
    let (status, _, _) = sync(&w.app, &w.shopper_token, None, Some(&tag)).await;
    assert_eq!(status, 304, "If-None-Match works as since does");

    // A report whose change is dated just before that read but committed after it (a slow
    // transaction) is not lost: the next sync sends it.
    let (_, _, now) = sync(&w.app, &w.shopper_token, None, None).await;
    let read = now["cursor"].as_str().unwrap().to_string();
    clock.advance(-Duration::seconds(3));
    let (status, late) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{late}");
    clock.advance(Duration::seconds(13));
    let (status, _, caught) = sync(&w.app, &w.shopper_token, Some(&read), None).await;
    assert_eq!(status, 200, "{caught}");
    let ids: Vec<&Value> = caught["reports"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert!(ids.contains(&&late["id"]), "{caught}");
    let cursor = caught["cursor"].as_str().unwrap().to_string();

    // A reviewer returns the report: the next sync says so, with the note.
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/reports/{report_id}/review"),
            &w.admin_token,
            json!({"action": "return", "note": "Which employee greeted you?"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    clock.advance(Duration::seconds(10));
    let (status, _, changed) = sync(&w.app, &w.shopper_token, Some(&cursor), None).await;
    assert_eq!(status, 200, "{changed}");
    let items = changed["reports"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only what changed");
    assert_eq!(items[0]["status"], "returned");
    assert_eq!(
        items[0]["last_review"]["note"],
        "Which employee greeted you?"
    );
    let cursor = changed["cursor"].as_str().unwrap().to_string();

    // An admin cancels the open assignment: the claimable list changes.
    clock.advance(Duration::seconds(10));
    let (status, _, _) = sync(&w.app, &w.shopper_token, Some(&cursor), None).await;
    assert_eq!(status, 304);
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/assignments/{open}/cancel"),
            &w.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, after) = sync(&w.app, &w.shopper_token, Some(&cursor), None).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["claimable"]["items"], json!([]));
    assert_eq!(after["reports"]["items"], json!([]));
}

#[actix_web::test]
async fn a_sync_shows_only_the_shoppers_own_organization_and_refuses_a_forged_cursor() {
    let w = world_at(&[], Clock::system()).await;
    let (status, sent) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{sent}");
    // A shopper of another organization sees nothing of this one.
    let other_admin = w.app.create_org_with_admin("Other");
    let other_admin_token = w.app.access_token(&other_admin).await;
    let stranger = w.app.create_user(&other_admin_token, "shopper").await;
    let stranger_token = w.app.access_token(&stranger).await;
    let (status, _, theirs) = sync(&w.app, &stranger_token, None, None).await;
    assert_eq!(status, 200, "{theirs}");
    for section in [
        "questionnaires",
        "assignments",
        "claimable",
        "eligible_locations",
        "reports",
    ] {
        assert_eq!(theirs[section]["items"], json!([]), "{section}: {theirs}");
    }
    // Another shopper of the same organization does not see this one's reports.
    let colleague = w.app.create_user(&w.admin_token, "shopper").await;
    let colleague_token = w.app.access_token(&colleague).await;
    let (_, _, colleagues) = sync(&w.app, &colleague_token, None, None).await;
    assert_eq!(colleagues["reports"]["items"], json!([]));
    assert_eq!(
        colleagues["questionnaires"]["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A cursor this server did not give, or another's cursor changed by a bit: 400.
    let (_, _, mine) = sync(&w.app, &w.shopper_token, None, None).await;
    let cursor = mine["cursor"].as_str().unwrap();
    let mut forged = cursor.to_string();
    let last = if forged.ends_with('A') { 'B' } else { 'A' };
    forged.pop();
    forged.push(last);
    for bad in ["not-a-cursor", forged.as_str()] {
        let (status, _, problem) = sync(&w.app, &w.shopper_token, Some(bad), None).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(crate::helpers::pointers(&problem), ["/query/since"]);
    }
    // An unknown If-None-Match is no cursor: a full answer.
    let (status, _, _) = sync(&w.app, &w.shopper_token, None, Some("\"whatever\"")).await;
    assert_eq!(status, 200);
}
