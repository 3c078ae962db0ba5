//! Retention of personal text: an organization that keeps narratives, staff observed and
//! photos of staff for N days loses them from older visits, by `secondmile personal-data
//! prune` or by `serve` at start, and every figure stays; a report revised afterwards is
//! pruned again. The setting's range is checked with every violation listed.

use serde_json::{Value, json};

use crate::aggregates::approved;
use crate::attachments::{download, jpeg_with_gps, put, staffed_questionnaire};
use crate::helpers::{World, client, report, set_answer, start_server, submit, world};

fn prune(w: &World) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["personal-data", "prune"])
        .env("DATABASE_URL", w.app.db.url())
        .env("SECONDMILE_STORAGE_URL", w.app.db.storage_url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile personal-data prune");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A report of a visit `days` ago, naming a staff member, with a photo of the counter
/// (a `shows_staff` question) and of the storefront.
fn visit(w: &World, questionnaire: &str, days: i64) -> (Value, String, String) {
    let mut body = report(w);
    let start = chrono::Utc::now() - chrono::TimeDelta::days(days);
    body["questionnaire_id"] = json!(questionnaire);
    body["visit"] = json!({"started_at": start.to_rfc3339(), "ended_at": (start + chrono::TimeDelta::minutes(17)).to_rfc3339()});
    body["check_in"]["at"] = json!((start - chrono::TimeDelta::seconds(30)).to_rfc3339());
    body["narrative"] = json!("Greeted by Maria at the door.");
    body["staff_observed"] =
        json!([{"description": "Maria, red scarf", "role": "cashier", "first_name": "Maria"}]);
    let (storefront, counter) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    set_answer(&mut body, "storefront_photo", json!({"value": storefront}));
    set_answer(&mut body, "counter_photo", json!({"value": counter}));
    (body, storefront, counter)
}

async fn read(w: &World, id: &str) -> Value {
    w.app
        .get_ok(&format!("/api/v1/reports/{id}"), &w.admin_token)
        .await
}

fn without_text(r: &Value) -> bool {
    r["narrative"] == "" && r["staff_observed"] == json!([]) && !r.to_string().contains("Maria")
}

#[actix_web::test]
async fn the_retention_setting_is_off_by_default_and_its_range_is_checked() {
    let w = world().await;
    let path = "/api/v1/organization/settings";
    let settings = w.app.get_ok(path, &w.admin_token).await;
    assert_eq!(settings["personal_data_retention_days"], 0, "{settings}");
    let (status, problem) = w
        .app
        .put(
            path,
            &w.admin_token,
            json!({"appeal_window_days": 0, "personal_data_retention_days": 29}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        crate::helpers::pointers(&problem),
        ["/appeal_window_days", "/personal_data_retention_days"]
    );
    for days in [3651, 1] {
        let (status, _) = w
            .app
            .put(
                path,
                &w.admin_token,
                json!({"personal_data_retention_days": days}),
            )
            .await;
        assert_eq!(status, 422, "{days}");
    }
    for days in [30, 3650, 0] {
        let (status, body) = w
            .app
            .put(
                path,
                &w.admin_token,
                json!({"personal_data_retention_days": days}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["personal_data_retention_days"], days);
    }
    let shopper = w.app.get(path, &w.shopper_token).await;
    assert_eq!(shopper.0, 403);
}

#[actix_web::test]
async fn personal_text_past_the_retention_goes_and_every_figure_stays() {
    let w = world().await;
    let staffed = staffed_questionnaire(&w).await;

    // Two visits past a 30-day retention (one approved, one awaiting review), one within it.
    let (old, old_storefront, old_counter) = visit(&w, &staffed, 40);
    let old_id = approved(&w, &old).await["id"].as_str().unwrap().to_string();
    for (photo, bytes) in [
        (&old_storefront, jpeg_with_gps()),
        (&old_counter, jpeg_with_gps()),
    ] {
        let (status, stored) = put(
            &w.app,
            &w.shopper_token,
            &old_id,
            photo,
            "image/jpeg",
            bytes,
            None,
        )
        .await;
        assert_eq!(status, 201, "{stored}");
    }
    let (pending, _, _) = visit(&w, &staffed, 35);
    let (status, created) = submit(&w, &pending).await;
    assert_eq!(status, 201, "{created}");
    let pending_id = created["id"].as_str().unwrap().to_string();
    let (recent, _, _) = visit(&w, &staffed, 5);
    let recent_id = approved(&w, &recent).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let old_before = read(&w, &old_id).await;
    let summary = format!("/api/v1/locations/{}/summary", w.location_id);
    let figures = w.app.get_ok(&summary, &w.admin_token).await;
    let board = w
        .app
        .get_ok("/api/v1/aggregates/locations", &w.admin_token)
        .await;

    // Off by default: nothing happens.
    assert!(prune(&w).contains("nothing to do"));
    assert!(!without_text(&read(&w, &old_id).await));

    let (status, body) = w
        .app
        .put(
            "/api/v1/organization/settings",
            &w.admin_token,
            json!({"personal_data_retention_days": 30}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let said = prune(&w);
    assert!(
        said.contains(
            "2 reports older than 30 days emptied of narrative and staff, 1 photos of staff deleted"
        ),
        "{said}"
    );

    // The old reports keep their answers and scores, not the text; the recent one is whole.
    let old_after = read(&w, &old_id).await;
    assert!(without_text(&old_after), "{old_after}");
    assert_eq!(old_after["score"], old_before["score"]);
    assert_eq!(old_after["answers"], old_before["answers"]);
    assert_eq!(old_after["status"], "approved");
    assert!(without_text(&read(&w, &pending_id).await));
    let recent_after = read(&w, &recent_id).await;
    assert_eq!(recent_after["narrative"], "Greeted by Maria at the door.");
    // The photo of staff is gone, the storefront stays.
    let (status, _, _) = download(&w.app, &w.admin_token, &old_counter, &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = download(&w.app, &w.admin_token, &old_storefront, &[]).await;
    assert_eq!(status, 200);
    // Every figure is as it was; a second pass finds nothing.
    assert_eq!(w.app.get_ok(&summary, &w.admin_token).await, figures);
    assert_eq!(
        w.app
            .get_ok("/api/v1/aggregates/locations", &w.admin_token)
            .await,
        board
    );
    assert!(prune(&w).contains(": 0 reports older than 30 days"));

    // A report revised afterwards holds new text until the next pass: here a server's start.
    let (status, returned) = w
        .app
        .post(
            &format!("/api/v1/reports/{pending_id}/review"),
            &w.admin_token,
            json!({"action": "return", "note": "Add the waiting time"}),
        )
        .await;
    assert_eq!(status, 200, "{returned}");
    let (status, revised) = w
        .app
        .put(
            &format!("/api/v1/reports/{pending_id}"),
            &w.shopper_token,
            pending.clone(),
        )
        .await;
    assert_eq!(status, 200, "{revised}");
    assert_eq!(revised["narrative"], "Greeted by Maria at the door.");
    let address = start_server(&w.app.db, &[], |_| {});
    let http = client();
    let mut pruned = false;
    for _ in 0..100 {
        let mut response = http
            .get(format!("{address}/api/v1/reports/{pending_id}"))
            .bearer_auth(&w.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        if without_text(&crate::helpers::json_body(&mut response).await) {
            pruned = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(pruned, "the server's start pruned the revised report");
}
