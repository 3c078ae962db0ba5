//! Cursors carry no hidden data: they are sealed, so a manager (who sees times to the day)
//! cannot read a report's exact time from one, nor forge one to probe positions; the files'
//! arrival times follow the same rule.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{World, report, set_answer, submit, world};

async fn released(w: &World, body: &Value) -> String {
    let (status, created) = submit(w, body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (status, reviewed) = w
        .app
        .post(
            &format!("/api/v1/reports/{id}/review"),
            &w.admin_token,
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{reviewed}");
    id
}

/// What a cursor shows once its base64 is undone: no digits in a row (a time in seconds has
/// ten), no id, no readable text.
fn assert_opaque(cursor: &str, ids: &[String]) {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .expect("base64url");
    let text = String::from_utf8_lossy(&raw);
    let longest_digits = text
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest_digits < 6, "{text:?}");
    assert!(!text.contains("v1:"), "{text:?}");
    for id in ids {
        assert!(!text.contains(&id[..8]), "{text:?} names {id}");
    }
}

#[actix_web::test]
async fn a_managers_cursors_and_file_times_show_nothing_finer_than_the_day() {
    let w = world().await;
    let manager = w.app.create_user(&w.admin_token, "manager").await;
    w.app
        .assign_locations(&w.admin_token, &manager.id, &[&w.location_id])
        .await;
    let manager_token = w.app.access_token(&manager).await;
    let photo = uuid::Uuid::new_v4().to_string();
    let mut with_photo = report(&w);
    set_answer(&mut with_photo, "storefront_photo", json!({"value": photo}));
    let mut ids = vec![released(&w, &with_photo).await];
    for _ in 0..2 {
        ids.push(released(&w, &report(&w)).await);
    }
    // Page by page, each cursor opaque; together the pages list every report once.
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    let mut path = "/api/v1/reports?limit=1".to_string();
    loop {
        let page = w.app.get_ok(&path, &manager_token).await;
        for item in page["items"].as_array().unwrap() {
            assert!(item["created_at"].as_str().unwrap().contains("T00:00:00"));
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                assert_opaque(cursor, &ids);
                cursors.push(cursor.to_string());
                path = format!("/api/v1/reports?limit=1&cursor={cursor}");
            }
            None => break,
        }
    }
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(cursors.len(), 2);
    // A cursor changed by one character, or one of the earlier readable form, is refused.
    let cursor = &cursors[0];
    let middle = cursor.len() / 2;
    let flipped = if &cursor[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    let forged = format!("{}{flipped}{}", &cursor[..middle], &cursor[middle + 1..]);
    let readable = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("v1:1700000000000000:{}", ids[0]));
    for bad in [forged, readable] {
        let (status, problem) = w
            .app
            .get(
                &format!("/api/v1/reports?limit=1&cursor={bad}"),
                &manager_token,
            )
            .await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["errors"][0]["code"], "invalid_cursor", "{problem}");
    }
    // A file's arrival: exact for the shopper, to the day for the manager.
    let mut response = w
        .app
        .client
        .put(
            w.app
                .url(&format!("/api/v1/reports/{}/attachments/{photo}", ids[0])),
        )
        .bearer_auth(&w.shopper_token)
        .insert_header(("content-type", "image/jpeg"))
        .send_body(crate::attachments::jpeg_with_gps())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let stored = crate::helpers::json_body(&mut response).await;
    assert!(
        !stored["created_at"]
            .as_str()
            .unwrap()
            .contains("T00:00:00.000")
    );
    let path = format!("/api/v1/reports/{}/attachments", ids[0]);
    let managed = w.app.get_ok(&path, &manager_token).await;
    let at = managed["received"][0]["created_at"].as_str().unwrap();
    assert!(at.contains("T00:00:00"), "{at}");
    let own = w.app.get_ok(&path, &w.shopper_token).await;
    assert_eq!(own["received"][0]["created_at"], stored["created_at"]);
}
