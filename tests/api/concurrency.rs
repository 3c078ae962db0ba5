//! Every rule a request checks before it writes holds when twenty or more requests that
//! together would break it arrive at once: lockouts, wave planning, caps on files and
//! webhooks, claims. Each test fires the requests concurrently and counts what was stored.

use chrono::{Duration, Utc};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, count_rows, report, set_answer, submit, world, world_with};

async fn set_rules(app: &TestApp, admin: &str, lockout: u32, yearly: u32) {
    let (status, body) = app
        .put(
            "/api/v1/programme/settings",
            admin,
            json!({"lockout_days": lockout, "max_visits_per_location_per_year": yearly}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset))
        .date_naive()
        .to_string()
}

async fn wave(w: &World, visits_per_location: u32) -> String {
    let (status, wave) = w
        .app
        .post(
            "/api/v1/waves",
            &w.admin_token,
            json!({"name": "Spring", "starts_on": day(3), "ends_on": day(60), "questionnaire_key": "store-visit", "visits_per_location": visits_per_location}),
        )
        .await;
    assert_eq!(status, 201, "{wave}");
    wave["id"].as_str().unwrap().to_string()
}

fn statuses(answers: &[(u16, Value)]) -> Vec<u16> {
    answers.iter().map(|(s, _)| *s).collect()
}

fn count(answers: &[(u16, Value)], status: u16) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

#[actix_web::test]
async fn twenty_concurrent_submissions_to_one_store_never_pass_the_lockout() {
    let w = world().await;
    set_rules(&w.app, &w.admin_token, 90, 4).await;
    let bodies: Vec<Value> = (0..20).map(|_| report(&w)).collect();
    let answers = join_all(bodies.iter().map(|b| submit(&w, b))).await;
    assert_eq!(count(&answers, 201), 1, "{:?}", statuses(&answers));
    for (status, body) in &answers {
        assert!(*status == 201 || *status == 409, "{status} {body}");
        if *status == 409 {
            assert_eq!(body["code"], "lockout_period", "{body}");
        }
    }
    assert_eq!(count_rows(&mut w.app.db.connect(), "reports"), 1);
}

#[actix_web::test]
async fn twenty_concurrent_additions_of_one_shopper_to_one_store_never_pass_the_lockout() {
    let w = world().await;
    set_rules(&w.app, &w.admin_token, 90, 4).await;
    let wave = wave(&w, 2).await;
    let path = format!("/api/v1/waves/{wave}/assignments");
    let item = json!([{"location_id": w.location_id, "shopper_id": w.shopper_id, "visit_from": day(5), "visit_to": day(9)}]);
    let answers = join_all((0..20).map(|_| w.app.post(&path, &w.admin_token, item.clone()))).await;
    assert_eq!(count(&answers, 201), 1, "{:?}", statuses(&answers));
    assert_eq!(count(&answers, 409), 19, "{answers:?}");
    let listed = w.app.get_ok(&path, &w.admin_token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[actix_web::test]
async fn twenty_concurrent_claims_of_one_shopper_at_one_store_never_pass_the_lockout() {
    let w = world().await;
    set_rules(&w.app, &w.admin_token, 90, 4).await;
    let wave = wave(&w, 20).await;
    let path = format!("/api/v1/waves/{wave}/assignments");
    let open: Vec<Value> = (0..20)
        .map(|_| json!({"location_id": w.location_id, "visit_from": day(5), "visit_to": day(9)}))
        .collect();
    let (status, created) = w.app.post(&path, &w.admin_token, json!(open)).await;
    assert_eq!(status, 201, "{created}");
    let ids: Vec<String> = created["assignments"]
        .as_array()
        .or(created.as_array())
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 20);
    let app = &w.app;
    let token = &w.shopper_token;
    let answers = join_all(ids.iter().map(|id| async move {
        let path = format!("/api/v1/assignments/{id}/claim");
        app.post_empty(&path, token).await
    }))
    .await;
    assert_eq!(count(&answers, 200), 1, "{:?}", statuses(&answers));
    assert_eq!(count(&answers, 409), 19, "{answers:?}");
    let mine = w
        .app
        .get_ok("/api/v1/me/assignments", &w.shopper_token)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
}

#[actix_web::test]
async fn twenty_concurrent_generations_plan_a_wave_once() {
    let w = world().await;
    for i in 0..4 {
        w.app
            .create_location(
                &w.admin_token,
                json!({"code": format!("G-{i}"), "name": format!("Store {i}"), "region": "Lisbon", "timezone": "Europe/Lisbon"}),
            )
            .await;
    }
    let wave = wave(&w, 2).await;
    let path = format!("/api/v1/waves/{wave}/assignments/generate");
    let answers = join_all((0..20).map(|_| {
        w.app.post(
            &path,
            &w.admin_token,
            json!({"instructions": "Buy a coffee."}),
        )
    }))
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
    }
    let created: usize = answers
        .iter()
        .map(|(_, b)| b["created"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        created, 10,
        "two visits at each of five locations, planned once"
    );
    let listed = w
        .app
        .get_ok(&format!("/api/v1/waves/{wave}/assignments"), &w.admin_token)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 10);
}

#[actix_web::test]
async fn twenty_four_concurrent_webhook_creations_never_pass_the_cap_of_twenty() {
    let w = world().await;
    let answers = join_all((0..24).map(|i| {
        w.app.post(
            "/api/v1/webhooks",
            &w.admin_token,
            json!({"url": format!("https://hooks.example.com/{i}")}),
        )
    }))
    .await;
    assert_eq!(count(&answers, 201), 20, "{:?}", statuses(&answers));
    for (status, body) in &answers {
        if *status != 201 {
            assert_eq!(
                (*status, body["code"].as_str()),
                (409, Some("too_many_webhooks"))
            );
        }
    }
    let listed = w.app.get_ok("/api/v1/webhooks", &w.admin_token).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
}

/// A published questionnaire of twenty photos and one scored question.
async fn photo_questionnaire(w: &World) -> String {
    let mut questions = vec![
        json!({"key": "greeted", "text": "Were you greeted?", "type": "yes_no", "tier": "first"}),
    ];
    for i in 0..20 {
        questions.push(json!({"key": format!("photo_{i}"), "text": format!("Photo {i}"), "type": "photo", "required": false}));
    }
    w.app
        .published_questionnaire(
            &w.admin_token,
            json!({
                "key": "photo-audit",
                "title": "Photo audit",
                "first_mile_pass": 80,
                "second_mile_pass": 50,
                "sections": [{"key": "all", "title": "All", "questions": questions}]
            }),
        )
        .await
}

fn photo_report(w: &World, questionnaire: &str, photos: &[String]) -> Value {
    let mut body = report(w);
    body["questionnaire_id"] = json!(questionnaire);
    body["answers"] = json!([{"question": "greeted", "value": true}]);
    for (i, p) in photos.iter().enumerate() {
        set_answer(&mut body, &format!("photo_{i}"), json!({"value": p}));
    }
    body
}

async fn upload(app: &TestApp, token: &str, report: &str, id: &str) -> (u16, Value) {
    let mut response = app
        .client
        .put(app.url(&format!("/api/v1/reports/{report}/attachments/{id}")))
        .bearer_auth(token)
        .insert_header(("content-type", "image/jpeg"))
        .send_body(crate::attachments::jpeg_with_gps())
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, crate::helpers::json_body(&mut response).await)
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => files_in(&e.path()),
                Ok(_) => 1,
                Err(_) => 0,
            })
            .sum()
    })
}

#[actix_web::test]
async fn twenty_concurrent_uploads_never_pass_a_reports_cap_and_refused_files_leave_nothing() {
    // Twenty uploads of one shopper at once are let through the gate for this test.
    let w = world_with(&[("SECONDMILE_UPLOADS_PER_CALLER", "32")]).await;
    let questionnaire = photo_questionnaire(&w).await;
    let ids =
        |n: usize| -> Vec<String> { (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect() };
    // The first revision names twenty photos, of which four are sent.
    let first = ids(20);
    let mut body = photo_report(&w, &questionnaire, &first);
    let (status, created) = submit(&w, &body).await;
    assert_eq!(status, 201, "{created}");
    let report_id = created["id"].as_str().unwrap().to_string();
    for id in &first[..4] {
        let (status, stored) = upload(&w.app, &w.shopper_token, &report_id, id).await;
        assert_eq!(status, 201, "{stored}");
    }
    // Returned, and revised to name twenty other photos: sixteen more fit under the cap.
    let (status, returned) = w
        .app
        .post(
            &format!("/api/v1/reports/{report_id}/review"),
            &w.admin_token,
            json!({"action": "return", "note": "Retake the photos"}),
        )
        .await;
    assert_eq!(status, 200, "{returned}");
    let second = ids(20);
    let revised = photo_report(&w, &questionnaire, &second);
    body["answers"] = revised["answers"].clone();
    let (status, revised) = w
        .app
        .put(
            &format!("/api/v1/reports/{report_id}"),
            &w.shopper_token,
            body,
        )
        .await;
    assert_eq!(status, 200, "{revised}");
    let answers = join_all(
        second
            .iter()
            .map(|id| upload(&w.app, &w.shopper_token, &report_id, id)),
    )
    .await;
    assert_eq!(count(&answers, 201), 16, "{:?}", statuses(&answers));
    for (status, body) in &answers {
        if *status != 201 {
            assert_eq!(
                (*status, body["code"].as_str()),
                (409, Some("too_many_attachments")),
                "{body}"
            );
        }
    }
    let listed = w
        .app
        .get_ok(
            &format!("/api/v1/reports/{report_id}/attachments"),
            &w.shopper_token,
        )
        .await;
    assert_eq!(listed["received"].as_array().unwrap().len(), 20);
    // The store holds the twenty files stored and nothing of the refused ones.
    let dir = w.app.db.storage_url();
    let dir = std::path::Path::new(dir.trim_start_matches("file://"));
    assert_eq!(files_in(dir), 20);
}

/// An upload whose head and first bytes are sent from a thread of its own, the rest of its
/// body held back until `release` is dropped; then the connection is closed and the
/// thread returns the answer.
fn held_upload(
    address: &str,
    path: &str,
    token: &str,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let authority = address.trim_start_matches("http://").to_string();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n"
    );
    let (release, held) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(&authority).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
        stream.flush().unwrap();
        let _ = held.recv();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    });
    (release, thread)
}

#[actix_web::test]
async fn uploads_beyond_a_callers_bound_are_refused_with_429_before_their_body_is_read() {
    let w = world().await;
    let questionnaire = photo_questionnaire(&w).await;
    let photos: Vec<String> = (0..5).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (status, created) = submit(&w, &photo_report(&w, &questionnaire, &photos)).await;
    assert_eq!(status, 201, "{created}");
    let report_id = created["id"].as_str().unwrap().to_string();
    // Four uploads (the default bound per caller) hold their places, their bodies unfinished.
    let mut releases = Vec::new();
    let mut held = Vec::new();
    for id in &photos[..4] {
        let path = format!("/api/v1/reports/{report_id}/attachments/{id}");
        let (release, thread) = held_upload(&w.app.address, &path, &w.shopper_token);
        releases.push(release);
        held.push(thread);
    }
    // Once the four hold their places (the server's metrics say so), a fifth is refused at
    // once, its body unread.
    let mut placed = false;
    for _ in 0..1000 {
        let mut response = w
            .app
            .client
            .get(w.app.url("/metrics"))
            .send()
            .await
            .unwrap();
        let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
        if text.contains("secondmile_uploads_in_flight 4") {
            placed = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(placed, "the four uploads never held their places");
    let (status, refused) = upload(&w.app, &w.shopper_token, &report_id, &photos[4]).await;
    assert_eq!(status, 429, "{refused}");
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    // Released, the four end: their bodies were cut short.
    drop(releases);
    for thread in held {
        let answer = thread.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
    // The place is given back: the fifth goes through now.
    let (status, stored) = upload(&w.app, &w.shopper_token, &report_id, &photos[4]).await;
    assert_eq!(status, 201, "{stored}");
}

fn peak_rss_mib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap()
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[actix_web::test]
async fn a_hundred_concurrent_ten_megabyte_uploads_stay_on_disk_not_in_memory() {
    let w = world().await;
    let questionnaire = photo_questionnaire(&w).await;
    let photos: Vec<String> = (0..20).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (status, created) = submit(&w, &photo_report(&w, &questionnaire, &photos)).await;
    assert_eq!(status, 201, "{created}");
    let report_id = created["id"].as_str().unwrap().to_string();
    // A server of its own, so that its memory is its own: every upload let through the gate.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .arg("serve")
        .env("DATABASE_URL", w.app.db.url())
        .env("SECONDMILE_STORAGE_URL", w.app.db.storage_url())
        .env("SECONDMILE_JWT_SECRET", crate::helpers::TEST_JWT_SECRET)
        .env("SECONDMILE_BIND", format!("127.0.0.1:{port}"))
        .env("SECONDMILE_LOG", "warn")
        .env("SECONDMILE_UPLOADS_PER_CALLER", "100")
        .env("SECONDMILE_UPLOADS_AT_ONCE", "100")
        // This test is about memory, not time: on a busy machine the last of a gigabyte of
        // uploads, processed two at a time, can take longer than the default 30 s.
        .env("SECONDMILE_REQUEST_TIMEOUT_SECS", "600")
        .spawn()
        .expect("start secondmile serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::helpers::client();
    let mut ready = false;
    for _ in 0..500 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().as_u16() == 200
        {
            ready = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ready, "the server never became ready");
    let (before, _) = peak_rss_mib(child.id());
    // 10 MB that start like a JPEG and are not one: each is read whole, then refused.
    let mut junk = vec![0x5Au8; 10_000_000];
    junk[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    let junk = bytes::Bytes::from(junk);
    let answers = join_all((0..100).map(|i| {
        let url = format!(
            "{base}/api/v1/reports/{report_id}/attachments/{}",
            photos[i % 20]
        );
        client
            .put(url)
            .timeout(std::time::Duration::from_secs(120))
            .bearer_auth(&w.shopper_token)
            .insert_header(("content-type", "image/jpeg"))
            .send_body(junk.clone())
    }))
    .await;
    let statuses: Vec<u16> = answers
        .iter()
        .map(|r| r.as_ref().map_or(0, |r| r.status().as_u16()))
        .collect();
    let (after, peak) = peak_rss_mib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(statuses.iter().all(|s| *s == 422), "{statuses:?}");
    eprintln!("server RSS before {before} MiB, peak {peak} MiB, after {after} MiB");
    assert!(peak < 200, "peak RSS {peak} MiB (before {before} MiB)");
    // Nothing was stored, and no staging file is left.
    let dir = w.app.db.storage_url();
    assert_eq!(
        files_in(std::path::Path::new(dir.trim_start_matches("file://"))),
        0
    );
}

async fn import_csv(app: &TestApp, token: &str, csv: String) -> (u16, Value) {
    let mut response = app
        .client
        .post(app.url("/api/v1/locations/import"))
        .timeout(std::time::Duration::from_secs(120))
        .bearer_auth(token)
        .insert_header(("content-type", "text/csv"))
        .send_body(csv)
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, crate::helpers::json_body(&mut response).await)
}

#[actix_web::test]
async fn twenty_concurrent_imports_of_the_same_new_codes_create_each_once() {
    let w = world().await;
    let csv = (0..5).fold("code,name,timezone\n".to_string(), |mut csv, i| {
        csv.push_str(&format!("N-{i},New {i},Europe/Lisbon\n"));
        csv
    });
    let answers = join_all((0..20).map(|_| import_csv(&w.app, &w.admin_token, csv.clone()))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    let created: u64 = answers
        .iter()
        .map(|(_, b)| b["created"].as_u64().unwrap())
        .sum();
    let updated: u64 = answers
        .iter()
        .map(|(_, b)| b["updated"].as_u64().unwrap())
        .sum();
    assert_eq!((created, updated), (5, 95));
    let listed = w
        .app
        .get_ok("/api/v1/locations?limit=200", &w.admin_token)
        .await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        6,
        "the world's and five"
    );
}

#[actix_web::test]
async fn an_import_answered_as_timed_out_keeps_nothing() {
    let w = world_with(&[("SECONDMILE_REQUEST_TIMEOUT_SECS", "1")]).await;
    let csv = (0..10_000).fold("code,name,timezone\n".to_string(), |mut csv, i| {
        csv.push_str(&format!("T-{i},Timed {i},Europe/Lisbon\n"));
        csv
    });
    let (status, body) = import_csv(&w.app, &w.admin_token, csv).await;
    let count = || async {
        let (status, page) = w
            .app
            .get("/api/v1/locations?code=T-0", &w.admin_token)
            .await;
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().len()
    };
    match status {
        // Told it timed out: nothing of it is kept, even once the work behind it ends.
        503 => {
            assert_eq!(body["code"], "request_timeout", "{body}");
            actix_web::rt::time::sleep(std::time::Duration::from_secs(3)).await;
            assert_eq!(count().await, 0);
            assert_eq!(
                count_rows(&mut w.app.db.connect(), "locations"),
                1,
                "only the world's location"
            );
        }
        // A machine fast enough imports it all within the second.
        200 => assert_eq!(body["created"], 10_000, "{body}"),
        other => panic!("{other}: {body}"),
    }
}

#[actix_web::test]
async fn twenty_concurrent_review_decisions_on_one_report_decide_it_once() {
    let w = world().await;
    let (status, created) = submit(&w, &report(&w)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/reports/{id}/review");
    // Ten approvals and ten rejections at once: one decision is taken, the rest are told
    // the report was already decided.
    let answers = join_all((0..20).map(|i| {
        let body = if i % 2 == 0 {
            json!({"action": "approve"})
        } else {
            json!({"action": "reject", "note": "Not a real visit"})
        };
        w.app.post(&path, &w.admin_token, body)
    }))
    .await;
    assert_eq!(count(&answers, 200), 1, "{:?}", statuses(&answers));
    assert_eq!(count(&answers, 409), 19, "{answers:?}");
    let decided = answers.iter().find(|(s, _)| *s == 200).unwrap();
    let history = w
        .app
        .get_ok(&format!("/api/v1/reports/{id}/history"), &w.admin_token)
        .await;
    let items = history["items"].as_array().or(history.as_array()).unwrap();
    assert_eq!(items.len(), 2, "submitted, then one decision: {history}");
    assert_eq!(
        items.last().unwrap()["to_status"],
        decided.1["status"],
        "{history}"
    );
    // The rollups hold the report at most once.
    let summary = w
        .app
        .get_ok(
            &format!("/api/v1/locations/{}/summary", w.location_id),
            &w.admin_token,
        )
        .await;
    assert!(
        summary["figures"]["visits"].as_i64().unwrap() <= 1,
        "{summary}"
    );
}

#[actix_web::test]
async fn twenty_shoppers_claiming_one_open_assignment_leave_it_to_one() {
    let w = world().await;
    let wave = wave(&w, 1).await;
    let path = format!("/api/v1/waves/{wave}/assignments");
    let (status, created) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!([{"location_id": w.location_id, "visit_from": day(5), "visit_to": day(9)}]),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let listed = created["assignments"]
        .as_array()
        .or(created.as_array())
        .unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_string();
    let mut tokens = Vec::new();
    for _ in 0..20 {
        let shopper = w.app.create_user(&w.admin_token, "shopper").await;
        tokens.push(w.app.access_token(&shopper).await);
    }
    let claim = format!("/api/v1/assignments/{id}/claim");
    let answers = join_all(tokens.iter().map(|t| w.app.post_empty(&claim, t))).await;
    assert_eq!(count(&answers, 200), 1, "{:?}", statuses(&answers));
    assert_eq!(count(&answers, 409), 19, "{answers:?}");
    let winner = &answers.iter().find(|(s, _)| *s == 200).unwrap().1;
    let now = w
        .app
        .get_ok(&format!("/api/v1/assignments/{id}"), &w.admin_token)
        .await;
    assert_eq!(now["shopper_id"], winner["shopper_id"], "{now}");
}

/// Twenty admins each erase the next one at once (the last erases the first): each request
/// alone is allowed, together they would leave the organization without an admin. Every
/// erasure that succeeds takes one admin away, and one admin is always left.
#[actix_web::test]
async fn twenty_admins_erasing_each_other_at_once_leave_one_admin() {
    let w = world().await;
    let me = w.app.get_ok("/api/v1/me", &w.admin_token).await;
    let mut admins = vec![(
        me["id"].as_str().unwrap().to_string(),
        w.admin_token.clone(),
    )];
    for _ in 0..19 {
        let admin = w.app.create_user(&w.admin_token, "admin").await;
        let token = w.app.access_token(&admin).await;
        admins.push((admin.id.clone(), token));
    }
    let paths: Vec<String> = (0..admins.len())
        .map(|i| {
            let next = &admins[(i + 1) % admins.len()].0;
            format!("/api/v1/users/{next}/erase")
        })
        .collect();
    let answers = join_all(
        paths
            .iter()
            .zip(&admins)
            .map(|(path, (_, token))| w.app.post_empty(path, token)),
    )
    .await;
    for (status, body) in &answers {
        // 401: the caller was erased by an earlier request before its own was read.
        assert!(
            *status == 200 || *status == 401 || (*status == 409 && body["code"] == "last_admin"),
            "{status}: {body}"
        );
    }
    let erased = count(&answers, 200);
    let mut left = 0;
    for (_, token) in &admins {
        let (status, me) = w.app.get("/api/v1/me", token).await;
        if status == 200 {
            assert_eq!(me["role"], "admin");
            left += 1;
        }
    }
    assert!(left >= 1, "{:?}", statuses(&answers));
    assert_eq!(erased + left, admins.len(), "{:?}", statuses(&answers));
}

/// Sixty translations of one version stored at once, each into another language: the cap of
/// fifty holds, the others are told why.
#[actix_web::test]
async fn sixty_concurrent_translations_and_imports_never_pass_the_cap_of_fifty() {
    let w = world().await;
    let languages = "aa ab af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr \
                     cs cu cv cy da de dv dz ee el eo es et eu fa ff fi fj fo fr fy ga gd gl gn \
                     gu gv ha he hi ho hr ht hu hy hz ia id ie ig";
    let languages: Vec<&str> = languages.split_whitespace().take(60).collect();
    assert_eq!(languages.len(), 60);
    // Half as JSON, half as translators' CSV files: both count towards the cap.
    let answers = join_all(languages.iter().enumerate().map(|(i, l)| {
        let path = format!(
            "/api/v1/questionnaires/{}/translations/{l}",
            w.questionnaire_id
        );
        let w = &w;
        async move {
            if i % 2 == 0 {
                let body = json!({"texts": {"title": "Translated"}});
                w.app.put(&path, &w.admin_token, body).await
            } else {
                let file = format!("key,{l}\r\ntitle,Translated\r\n");
                let path = format!("{path}/file");
                w.app
                    .send_file("PUT", &path, &w.admin_token, "text/csv", file)
                    .await
            }
        }
    }))
    .await;
    assert_eq!(count(&answers, 200), 50, "{:?}", statuses(&answers));
    assert_eq!(count(&answers, 409), 10, "{:?}", statuses(&answers));
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s == 409)
            .all(|(_, b)| b["code"] == "too_many_translations")
    );
    let list = w
        .app
        .get_ok(
            &format!("/api/v1/questionnaires/{}/translations", w.questionnaire_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 50);
}
