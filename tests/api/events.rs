//! Events: the outbox, the pull feed with long-poll, and webhooks delivered to a real
//! receiver on 127.0.0.1, their signatures verified with the Standard Webhooks reference
//! library (the `standardwebhooks` crate), not only with our own code.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use secondmile::events::dto::{EventResponse, FeedResponse, WebhookSecretResponse};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::{World, report, set_answer, submit, world_with};
use crate::questionnaires::example;

/// Settings that let webhooks reach a receiver on this machine, quickly.
pub const LOCAL_WEBHOOKS: &[(&str, &str)] = &[
    ("SECONDMILE_WEBHOOK_ALLOW_HTTP", "true"),
    ("SECONDMILE_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("SECONDMILE_WEBHOOK_POLL_MS", "50"),
    ("SECONDMILE_WEBHOOK_RETRY_BASE_MS", "300"),
    ("SECONDMILE_WEBHOOK_TIMEOUT_SECS", "5"),
    ("SECONDMILE_MIN_SAMPLE", "1"),
];

/// One request the receiver got.
#[derive(Clone)]
pub struct Received {
    pub path: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Statuses to answer first, in order; then 200.
    script: VecDeque<u16>,
    /// How long each answer takes.
    delay: Duration,
}

/// A webhook receiver on 127.0.0.1 that records every request.
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<ReceiverState>>>,
) -> HttpResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in req.headers() {
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            reqwest::header::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    let (status, delay) = {
        let mut state = state.lock().unwrap();
        state.received.push(Received {
            path: req.path().to_string(),
            headers,
            body: body.to_vec(),
            at: Instant::now(),
        });
        (state.script.pop_front().unwrap_or(200), state.delay)
    };
    actix_web::rt::time::sleep(delay).await;
    // Redirects point elsewhere on this receiver: following one would show as a request there.
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .insert_header(("location", "/elsewhere"))
        .body(format!("answered {status}"))
}

impl Receiver {
    pub fn start(script: &[u16]) -> Receiver {
        Receiver::start_slow(script, Duration::ZERO)
    }

    /// A receiver that takes `delay` to answer each request.
    pub fn start_slow(script: &[u16], delay: Duration) -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState {
            received: Vec::new(),
            script: script.iter().copied().collect(),
            delay,
        }));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            state,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

/// Waits (up to `secs`) until `done` holds; false when it never did.
pub async fn eventually<F, Fut>(secs: u64, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if done().await {
            return true;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    done().await
}

/// Every event of the feed after `after`, in order (following `has_more`).
pub async fn feed_after(app: &TestApp, token: &str, after: &str) -> (Vec<EventResponse>, String) {
    let mut events = Vec::new();
    let mut cursor = after.to_string();
    loop {
        let page: FeedResponse = app
            .get_as(&format!("/api/v1/events?cursor={cursor}&limit=500"), token)
            .await;
        events.extend(page.items);
        cursor = page.next_cursor;
        if !page.has_more {
            return (events, cursor);
        }
    }
}

pub async fn create_webhook(app: &TestApp, admin: &str, body: Value) -> (String, String) {
    let created: WebhookSecretResponse = app
        .post_as("/api/v1/webhooks", admin, Some(body), 201)
        .await;
    (created.webhook.id.to_string(), created.secret)
}

/// Verifies a delivery with the Standard Webhooks reference library.
fn verify(secret: &str, r: &Received) {
    let wh = standardwebhooks::Webhook::new(secret).unwrap();
    wh.verify(&r.body, &r.headers)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)));
}

fn day(offset: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(offset))
        .date_naive()
        .to_string()
}

async fn ok(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, answer) = match (method, body) {
        ("POST", Some(b)) => app.post(path, token, b).await,
        ("POST", None) => app.post_empty(path, token).await,
        ("PATCH", Some(b)) => app.patch(path, token, b).await,
        ("PUT", Some(b)) => app.put(path, token, b).await,
        ("DELETE", _) => app.delete(path, token).await,
        other => panic!("{other:?}"),
    };
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// An action plan through its whole life: opened by hand, planned, done, reopened, planned
/// and done again, verified; and an action of another plan overdue (found by the sweep).
async fn action_plan_steps(w: &World) {
    let app = &w.app;
    let admin = &w.admin_token;
    let today = chrono::Utc::now().date_naive();
    let open = |summary: &'static str| async move {
        ok(
            app,
            "POST",
            &format!("/api/v1/locations/{}/action-plans", w.location_id),
            admin,
            Some(json!({"summary": summary})),
        )
        .await
    };
    let plan = open("Events").await;
    let id = plan["id"].as_str().unwrap().to_string();
    let write =
        json!({"causes": "c", "actions": [{"description": "d", "owner": "o", "due_on": today}]});
    for decision in ["reopen", "verify"] {
        ok(
            app,
            "PUT",
            &format!("/api/v1/action-plans/{id}/plan"),
            admin,
            Some(write.clone()),
        )
        .await;
        ok(
            app,
            "POST",
            &format!("/api/v1/action-plans/{id}/actions/1/done"),
            admin,
            Some(json!({})),
        )
        .await;
        ok(
            app,
            "POST",
            &format!("/api/v1/action-plans/{id}/review"),
            admin,
            Some(json!({"decision": decision})),
        )
        .await;
    }
    let late = open("Overdue").await;
    let late = late["id"].as_str().unwrap().to_string();
    ok(
        app,
        "PUT",
        &format!("/api/v1/action-plans/{late}/plan"),
        admin,
        Some(write),
    )
    .await;
    // Three days pass for its action (its due date moves back; the clock stays).
    let past = today - chrono::Duration::days(3);
    diesel::connection::SimpleConnection::batch_execute(
        &mut app.db.connect(),
        &format!("UPDATE action_plan_actions SET due_on = '{past}' WHERE plan_id = '{late}'"),
    )
    .unwrap();
    let db = secondmile::db::Db::connect(&crate::helpers::database_config(&app.db)).unwrap();
    assert_eq!(
        secondmile::improvement::overdue::sweep(&db).await.unwrap(),
        1
    );
}

/// A released report appealed twice: upheld, then amended.
async fn appeal_steps(w: &World) {
    let app = &w.app;
    let mut body = report(w);
    set_answer(&mut body, "greeted", json!({"value": false}));
    let released = crate::aggregates::approved(w, &body).await;
    let id = released["id"].as_str().unwrap().to_string();
    let m = app.create_user(&w.admin_token, "manager").await;
    app.assign_locations(&w.admin_token, &m.id, &[&w.location_id])
        .await;
    let manager = app.access_token(&m).await;
    for (decision, answers) in [
        ("uphold", json!([])),
        ("amend", json!([{"question": "greeted", "value": true}])),
    ] {
        let appeal = ok(
            app,
            "POST",
            &format!("/api/v1/reports/{id}/appeals"),
            &manager,
            Some(json!({"questions": ["greeted"], "reason": "camera"})),
        )
        .await;
        ok(
            app,
            "POST",
            &format!(
                "/api/v1/appeals/{}/decision",
                appeal["id"].as_str().unwrap()
            ),
            &w.admin_token,
            Some(json!({"decision": decision, "note": "seen", "answers": answers})),
        )
        .await;
    }
}

/// Drives every kind of state change once (and the report through its whole workflow).
async fn every_change(w: &World) {
    let app = &w.app;
    let admin = &w.admin_token;
    let shopper = &w.shopper_token;
    // Locations.
    let loc = app
        .create_location(
            admin,
            json!({"code": "S-2", "name": "Baixa", "region": "Lisbon", "timezone": "Europe/Lisbon"}),
        )
        .await;
    let loc = loc.id.to_string();
    ok(
        app,
        "PATCH",
        &format!("/api/v1/locations/{loc}"),
        admin,
        Some(json!({"name": "Baixa-Chiado"})),
    )
    .await;
    ok(
        app,
        "DELETE",
        &format!("/api/v1/locations/{loc}"),
        admin,
        None,
    )
    .await;
    // A questionnaire published, then retired.
    let q = app.create_questionnaire(admin, example("events-q")).await;
    let q = q["id"].as_str().unwrap().to_string();
    app.questionnaire_action(admin, &q, "publish").await;
    ok(
        app,
        "PUT",
        &format!("/api/v1/questionnaires/{q}/translations/de"),
        admin,
        Some(json!({"texts": {"title": "Ladenbesuch"}})),
    )
    .await;
    app.questionnaire_action(admin, &q, "retire").await;
    // A wave with four assignments.
    let wave = ok(
        app,
        "POST",
        "/api/v1/waves",
        admin,
        Some(json!({"name": "Now", "starts_on": day(-5), "ends_on": day(10), "questionnaire_key": "store-visit", "visits_per_location": 4})),
    )
    .await;
    let wave = wave["id"].as_str().unwrap().to_string();
    ok(
        app,
        "PATCH",
        &format!("/api/v1/waves/{wave}"),
        admin,
        Some(json!({"name": "This fortnight"})),
    )
    .await;
    let created = ok(
        app,
        "POST",
        &format!("/api/v1/waves/{wave}/assignments"),
        admin,
        Some(json!([
            {"location_id": w.location_id, "shopper_id": w.shopper_id},
            {"location_id": w.location_id, "shopper_id": w.shopper_id},
            {"location_id": w.location_id},
            {"location_id": w.location_id}
        ])),
    )
    .await;
    let ids: Vec<String> = created
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    ok(
        app,
        "POST",
        &format!("/api/v1/assignments/{}/accept", ids[0]),
        shopper,
        None,
    )
    .await;
    ok(
        app,
        "POST",
        &format!("/api/v1/assignments/{}/decline", ids[1]),
        shopper,
        Some(json!({"reason": "I know the staff there"})),
    )
    .await;
    ok(
        app,
        "POST",
        &format!("/api/v1/assignments/{}/claim", ids[2]),
        shopper,
        None,
    )
    .await;
    ok(
        app,
        "PATCH",
        &format!("/api/v1/assignments/{}", ids[3]),
        admin,
        Some(json!({"instructions": "Ask for the manager"})),
    )
    .await;
    ok(
        app,
        "POST",
        &format!("/api/v1/assignments/{}/cancel", ids[3]),
        admin,
        None,
    )
    .await;
    // A report for the accepted assignment, with a photo, through its whole review.
    let mut body = report(w);
    let photo = uuid::Uuid::new_v4().to_string();
    set_answer(&mut body, "storefront_photo", json!({"value": photo}));
    body["assignment_id"] = json!(ids[0]);
    let (status, stored) = submit(w, &body).await;
    assert_eq!(status, 201, "{stored}");
    let id = stored["id"].as_str().unwrap().to_string();
    let mut uploaded = app
        .client
        .put(app.url(&format!("/api/v1/reports/{id}/attachments/{photo}")))
        .bearer_auth(shopper)
        .insert_header(("content-type", "image/jpeg"))
        .send_body(crate::attachments::jpeg_with_gps())
        .await
        .unwrap();
    assert_eq!(
        uploaded.status().as_u16(),
        201,
        "{:?}",
        uploaded.body().await
    );
    let review = format!("/api/v1/reports/{id}/review");
    ok(
        app,
        "POST",
        &review,
        admin,
        Some(json!({"action": "return", "note": "Which till?"})),
    )
    .await;
    set_answer(&mut body, "courtesy", json!({"value": 4}));
    ok(
        app,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        shopper,
        Some(body),
    )
    .await;
    ok(
        app,
        "POST",
        &review,
        admin,
        Some(json!({"action": "approve"})),
    )
    .await;
    ok(
        app,
        "POST",
        &review,
        admin,
        Some(json!({"action": "reopen", "note": "A second look"})),
    )
    .await;
    ok(
        app,
        "POST",
        &review,
        admin,
        Some(json!({"action": "reject", "note": "Wrong store"})),
    )
    .await;
    ok(
        app,
        "POST",
        &format!("/api/v1/waves/{wave}/close"),
        admin,
        None,
    )
    .await;
    action_plan_steps(w).await;
    appeal_steps(w).await;
    // A person erased (a shopper who never reported).
    let gone = app.create_user(admin, "shopper").await;
    ok(
        app,
        "POST",
        &format!("/api/v1/users/{}/erase", gone.id),
        admin,
        None,
    )
    .await;
}

#[actix_web::test]
async fn every_event_type_arrives_signed_and_the_feed_has_the_same_events_in_order() {
    let w = world_with(LOCAL_WEBHOOKS).await;
    let app = &w.app;
    let receiver = Receiver::start(&[]);
    // What happened before the webhook existed is in the feed only.
    let (before, start) = feed_after(app, &w.admin_token, "0").await;
    let types: Vec<&str> = before.iter().map(|e| e.type_.as_str()).collect();
    assert!(types.contains(&"location.created"), "{types:?}");
    assert!(types.contains(&"questionnaire.published"), "{types:?}");
    let (hook, secret) = create_webhook(
        app,
        &w.admin_token,
        json!({"url": receiver.url, "description": "all"}),
    )
    .await;

    every_change(&w).await;

    let (events, _) = feed_after(app, &w.admin_token, &start).await;
    let expected: BTreeSet<String> = events.iter().map(|e| e.id.to_string()).collect();
    let arrived = eventually(20, || async {
        let got: BTreeSet<String> = receiver.received().iter().map(Received::id).collect();
        got.is_superset(&expected)
    })
    .await;
    assert!(
        arrived,
        "{} of {} events delivered",
        receiver.received().len(),
        expected.len()
    );

    // Every type the document lists (but `ping`) happened, each in the feed.
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let documented: BTreeSet<&str> = doc["components"]["schemas"]["EventTypeName"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .filter(|t| *t != "ping")
        .collect();
    let seen: BTreeSet<&str> = before
        .iter()
        .chain(&events)
        .map(|e| e.type_.as_str())
        .collect();
    let missing: Vec<_> = documented.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "event types never produced: {missing:?}"
    );

    // Each delivery is signed (the reference library agrees) and its body is the feed's
    // event; ordered by cursor, the deliveries are the feed.
    let mut delivered: Vec<Value> = Vec::new();
    let mut ids = BTreeSet::new();
    for r in receiver.received() {
        verify(&secret, &r);
        assert_eq!(r.headers["content-type"], "application/json");
        let event = r.json();
        assert_eq!(event["id"].as_str().unwrap(), r.id());
        if ids.insert(r.id()) {
            delivered.push(event);
        }
    }
    delivered.sort_by_key(|e| e["cursor"].as_str().unwrap().parse::<i64>().unwrap());
    let feed: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(delivered, feed);

    // Payloads carry no personal data: no names, emails, notes or comments.
    let text = serde_json::to_string(&events).unwrap();
    for secret_word in [
        "Which till?",
        "Wrong store",
        "I know the staff",
        "@",
        "shopper_id",
    ] {
        assert!(!text.contains(secret_word), "{secret_word} leaked: {text}");
    }
    // The verdict change names the location, the verdicts and the report.
    let verdicts: Vec<&EventResponse> = events
        .iter()
        .filter(|e| e.type_ == "location.verdict_changed")
        .collect();
    // The workflow's report: released, then withdrawn (then an appealed one moved it: the
    // release of a zero-mile visit, and its amendment).
    assert_eq!(verdicts.len(), 4, "{verdicts:?}");
    assert_eq!(verdicts[2].data["report_id"], verdicts[3].data["report_id"]);
    assert_eq!(
        verdicts[2].data["verdict"],
        verdicts[3].data["previous_verdict"]
    );
    assert_eq!(verdicts[0].data["previous_verdict"], "insufficient_data");
    assert_ne!(verdicts[0].data["verdict"], "insufficient_data");
    assert_eq!(verdicts[1].data["verdict"], "insufficient_data");
    assert_eq!(verdicts[0].subject.id, w.location_id);

    // The deliveries list shows each one succeeded (once the worker recorded what the
    // receiver already has), with its attempt.
    let deliveries = format!("/api/v1/webhooks/{hook}/deliveries?limit=200");
    let recorded = eventually(10, || async {
        let page = app.get_ok(&deliveries, &w.admin_token).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "succeeded")
    })
    .await;
    assert!(recorded);
    let page = app.get_ok(&deliveries, &w.admin_token).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), events.len());
    for d in items {
        assert_eq!(d["status"], "succeeded", "{d}");
        assert_eq!(d["attempts"][0]["response_status"], 200, "{d}");
        assert!(d["attempts"][0]["latency_ms"].is_u64());
    }
}

/// A world whose webhook (for `location.created`) goes to a receiver answering `script`
/// first, and one location created: returns the world, the receiver, the webhook id and
/// its secret.
async fn one_location_event(script: &[u16]) -> (World, Receiver, String, String) {
    let w = world_with(LOCAL_WEBHOOKS).await;
    let receiver = Receiver::start(script);
    let (hook, secret) = create_webhook(
        &w.app,
        &w.admin_token,
        json!({"url": receiver.url, "event_types": ["location.created"]}),
    )
    .await;
    w.app
        .create_location(
            &w.admin_token,
            json!({"code": "S-9", "name": "Belem", "timezone": "Europe/Lisbon"}),
        )
        .await;
    (w, receiver, hook, secret)
}

#[actix_web::test]
async fn a_failing_receiver_gets_the_event_again_with_growing_pauses_until_it_answers() {
    let (w, receiver, hook, secret) = one_location_event(&[500, 500, 500]).await;
    let app = &w.app;
    assert!(eventually(20, || async { receiver.received().len() >= 4 }).await);
    // Give a fifth (wrong) attempt the time to arrive, if it were to.
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 4, "three failures, then one success");
    let id = got[0].id();
    for r in &got {
        assert_eq!(r.id(), id, "the same message each time");
        assert_eq!(r.body, got[0].body);
        verify(&secret, r);
    }
    let gaps: Vec<Duration> = got.windows(2).map(|p| p[1].at - p[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(200), "{gaps:?}");
    assert!(
        gaps[0] < gaps[1] && gaps[1] < gaps[2],
        "pauses grow: {gaps:?}"
    );

    let page = app
        .get_ok(
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            &w.admin_token,
        )
        .await;
    let d = &page["items"][0];
    assert_eq!(d["status"], "succeeded");
    let codes: Vec<u64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response_status"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 500, 200]);
    assert_eq!(d["attempts"][0]["error"], "HTTP 500: answered 500");
    // The webhook is healthy again.
    let hook_now = app
        .get_ok(&format!("/api/v1/webhooks/{hook}"), &w.admin_token)
        .await;
    assert_eq!(hook_now["failing_since"], Value::Null);
    assert_eq!(hook_now["active"], true);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("secondmile_webhook_attempts_total{outcome=\"failed\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("secondmile_webhook_attempts_total{outcome=\"succeeded\"} 1"));
    assert!(metrics.contains("secondmile_webhook_delivery_lag_seconds_count 1"));
}

#[actix_web::test]
async fn a_delivery_gives_up_after_its_window_and_a_webhook_failing_long_enough_is_disabled() {
    let mut vars = LOCAL_WEBHOOKS.to_vec();
    vars.extend([
        ("SECONDMILE_WEBHOOK_RETRY_WINDOW_SECS", "1"),
        ("SECONDMILE_WEBHOOK_DISABLE_AFTER_SECS", "1"),
        ("SECONDMILE_WEBHOOK_RETRY_BASE_MS", "100"),
    ]);
    let w = world_with(&vars).await;
    let app = &w.app;
    let receiver = Receiver::start(&[503; 100]);
    let (hook, _) = create_webhook(app, &w.admin_token, json!({"url": receiver.url})).await;
    let path = format!("/api/v1/webhooks/{hook}");
    let failed = |n: usize| {
        let path = path.clone();
        let token = w.admin_token.clone();
        async move {
            let page = app
                .get_ok(&format!("{path}/deliveries?status=failed"), &token)
                .await;
            page["items"].as_array().unwrap().len() >= n
        }
    };
    // The first delivery is retried within its one-second window, then given up.
    app.create_location(
        &w.admin_token,
        json!({"code": "S-8", "name": "Alfama", "timezone": "Europe/Lisbon"}),
    )
    .await;
    assert!(eventually(20, || failed(1)).await);
    let page = app
        .get_ok(&format!("{path}/deliveries?status=failed"), &w.admin_token)
        .await;
    let d = &page["items"][0];
    assert!(d["attempts"].as_array().unwrap().len() >= 2, "{d}");
    assert_eq!(d["next_attempt_at"], Value::Null);
    assert!(d["last_error"].as_str().unwrap().contains("503"), "{d}");
    // The next event's attempts fail too, a second after the first failure: disabled.
    app.create_location(
        &w.admin_token,
        json!({"code": "S-10", "name": "Estrela", "timezone": "Europe/Lisbon"}),
    )
    .await;
    let disabled = eventually(20, || async {
        app.get_ok(&path, &w.admin_token).await["active"] == false
    })
    .await;
    assert!(disabled);
    let now = app.get_ok(&path, &w.admin_token).await;
    let reason = now["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("HTTP 503"), "{reason}");
    assert!(now["disabled_at"].is_string());
    assert!(eventually(5, || failed(2)).await);
    let page = app
        .get_ok(&format!("{path}/deliveries?status=failed"), &w.admin_token)
        .await;
    let d = &page["items"][1];
    // Disabled: nothing more is sent, and a redelivery or ping is refused until enabled.
    let sent = receiver.received().len();
    let delivery = d["id"].as_str().unwrap();
    let (status, body) = app
        .post_empty(
            &format!("{path}/deliveries/{delivery}/redeliver"),
            &w.admin_token,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("webhook_disabled"))
    );
    let (status, _) = app
        .post_empty(&format!("{path}/ping"), &w.admin_token)
        .await;
    assert_eq!(status, 409);
    app.create_location(
        &w.admin_token,
        json!({"code": "S-7", "name": "Graça", "timezone": "Europe/Lisbon"}),
    )
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), sent);
    // Enabled again, the failed delivery goes out when asked.
    let enabled = ok(
        app,
        "PATCH",
        &path,
        &w.admin_token,
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(enabled["disabled_reason"], Value::Null);
    let again = ok(
        app,
        "POST",
        &format!("{path}/deliveries/{delivery}/redeliver"),
        &w.admin_token,
        None,
    )
    .await;
    assert_eq!(again["status"], "pending");
    assert!(eventually(10, || async { receiver.received().len() > sent }).await);
}

#[actix_web::test]
async fn a_ping_and_a_rotated_secret_sign_with_both_secrets_during_the_overlap() {
    let w = world_with(LOCAL_WEBHOOKS).await;
    let app = &w.app;
    let receiver = Receiver::start(&[]);
    let (hook, old) = create_webhook(app, &w.admin_token, json!({"url": receiver.url})).await;
    let rotated = ok(
        app,
        "POST",
        &format!("/api/v1/webhooks/{hook}/rotate-secret"),
        &w.admin_token,
        Some(json!({"overlap_seconds": 3600})),
    )
    .await;
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(new.starts_with("whsec_"));
    assert!(rotated["webhook"]["previous_secret_expires_at"].is_string());
    let ping = ok(
        app,
        "POST",
        &format!("/api/v1/webhooks/{hook}/ping"),
        &w.admin_token,
        None,
    )
    .await;
    assert_eq!(ping["event_type"], "ping");
    assert!(eventually(10, || async { !receiver.received().is_empty() }).await);
    let r = &receiver.received()[0];
    assert_eq!(r.json()["type"], "ping");
    verify(&new, r);
    verify(&old, r);
    assert_eq!(
        r.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    // Without an overlap, the old secret signs no more.
    let rotated = ok(
        app,
        "POST",
        &format!("/api/v1/webhooks/{hook}/rotate-secret"),
        &w.admin_token,
        Some(json!({"overlap_seconds": 0})),
    )
    .await;
    let newest = rotated["secret"].as_str().unwrap().to_string();
    ok(
        app,
        "POST",
        &format!("/api/v1/webhooks/{hook}/ping"),
        &w.admin_token,
        None,
    )
    .await;
    assert!(eventually(10, || async { receiver.received().len() == 2 }).await);
    let r = &receiver.received()[1];
    verify(&newest, r);
    assert!(
        standardwebhooks::Webhook::new(&new)
            .unwrap()
            .verify(&r.body, &r.headers)
            .is_err()
    );
    // Pings are not events of the feed.
    let (events, _) = feed_after(app, &w.admin_token, "0").await;
    assert!(events.iter().all(|e| e.type_ != "ping"));
}

#[actix_web::test]
async fn the_feed_pages_filters_and_a_long_poll_answers_as_soon_as_an_event_commits() {
    let w = world_with(&[]).await;
    let app = &w.app;
    let admin = w.admin_token.clone();
    let (all, end) = feed_after(app, &admin, "0").await;
    assert!(!all.is_empty());
    // Cursors count up in commit order.
    let cursors: Vec<Option<i64>> = all
        .iter()
        .map(|e| e.cursor.as_deref().and_then(|c| c.parse().ok()))
        .collect();
    assert_eq!(
        cursors,
        (1..=all.len() as i64).map(Some).collect::<Vec<_>>()
    );
    // Pages of one.
    let page = app.get_ok("/api/v1/events?limit=1", &admin).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["next_cursor"], "1");
    // A filter; the cursor still moves to the end.
    let page = app
        .get_ok("/api/v1/events?types=questionnaire.published", &admin)
        .await;
    let types: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["questionnaire.published"]);
    assert_eq!(page["next_cursor"].as_str().unwrap(), end);
    // Bad queries: each problem listed.
    let (status, body) = app
        .get(
            "/api/v1/events?after=x&types=report.eaten&limit=0&wait=31",
            &admin,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let pointers = crate::helpers::pointers(&body);
    assert_eq!(
        pointers,
        [
            "/query/after",
            "/query/types",
            "/query/limit",
            "/query/wait"
        ]
    );
    let (status, body) = app.get("/api/v1/events?after=999999", &admin).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    // `cursor` is the name every list uses; `after`, its earlier name, may repeat it.
    let same = app
        .get_ok(&format!("/api/v1/events?cursor={end}&after={end}"), &admin)
        .await;
    assert_eq!(same["next_cursor"].as_str().unwrap(), end, "{same}");
    let (status, body) = app
        .get(&format!("/api/v1/events?cursor={end}&after=1"), &admin)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["code"], "conflicting_parameters",
        "{body}"
    );
    let (status, body) = app.get("/api/v1/events?cursor=x", &admin).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(crate::helpers::pointers(&body), ["/query/cursor"]);

    // Nothing new: an immediate answer is empty; a long-poll returns when an event commits.
    let page = app
        .get_ok(&format!("/api/v1/events?after={end}"), &admin)
        .await;
    assert_eq!(page["items"], json!([]));
    assert_eq!(page["next_cursor"].as_str().unwrap(), end);
    let started = Instant::now();
    let writer = async {
        actix_web::rt::time::sleep(Duration::from_millis(700)).await;
        app.create_location(
            &admin,
            json!({"code": "S-5", "name": "Rossio", "timezone": "Europe/Lisbon"}),
        )
        .await;
    };
    let long_poll = format!("/api/v1/events?after={end}&wait=20");
    let poll = app.get_ok(&long_poll, &admin);
    let (page, ()) = futures_util::join!(poll, writer);
    let took = started.elapsed();
    assert_eq!(page["items"][0]["type"], "location.created", "{page}");
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(
        took < Duration::from_secs(10),
        "answered when the event came: {took:?}"
    );
    // A long-poll with nothing arriving answers empty after its wait.
    let started = Instant::now();
    let cursor = page["next_cursor"].as_str().unwrap();
    let page = app
        .get_ok(&format!("/api/v1/events?after={cursor}&wait=1"), &admin)
        .await;
    assert_eq!(page["items"], json!([]));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[actix_web::test]
async fn webhook_urls_must_be_https_and_public_unless_allowed() {
    let w = world_with(&[]).await;
    let app = &w.app;
    for (url, code) in [
        ("http://hooks.example.com/in", "https_required"),
        ("https://127.0.0.1/in", "private_address"),
        ("https://10.0.0.8/in", "private_address"),
        (
            "https://169.254.169.254/latest/meta-data/",
            "private_address",
        ),
        ("https://[::1]/in", "private_address"),
        ("https://[::ffff:192.168.1.1]/in", "private_address"),
        // IPv6 transition ranges that carry an IPv4 address, and the deprecated site-local.
        ("https://[2002:7f00:1::]/", "private_address"),
        (
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "private_address",
        ),
        ("https://[fec0::1]/", "private_address"),
        ("https://localhost/in", "private_address"),
        ("https://user:pw@hooks.example.com/in", "invalid_url"),
        ("not a url", "invalid_url"),
    ] {
        let (status, body) = app
            .post("/api/v1/webhooks", &w.admin_token, json!({"url": url}))
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["errors"][0]["pointer"], "/url", "{url}");
        assert_eq!(body["errors"][0]["code"], code, "{url}: {body}");
    }
    // Every problem at once.
    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            &w.admin_token,
            json!({"url": "http://10.1.1.1/", "event_types": ["report.approved", "report.eaten", "report.approved"], "description": "x".repeat(501)}),
        )
        .await;
    assert_eq!(status, 422);
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "https_required",
            "unknown_event_type",
            "duplicate",
            "too_long"
        ]
    );
    // A public https URL is accepted (it need not resolve yet), and changing it is checked too.
    let (hook, _) = create_webhook(
        app,
        &w.admin_token,
        json!({"url": "https://hooks.example.com/in", "event_types": ["report.approved"]}),
    )
    .await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/webhooks/{hook}"),
            &w.admin_token,
            json!({"url": "https://192.168.0.10/in"}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("private_address"))
    );
    // At most 20 per organization.
    for i in 1..20 {
        create_webhook(
            app,
            &w.admin_token,
            json!({"url": format!("https://hooks.example.com/{i}")}),
        )
        .await;
    }
    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            &w.admin_token,
            json!({"url": "https://hooks.example.com/21"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("too_many_webhooks"))
    );
    // The list never shows a secret.
    let list = app.get_ok("/api/v1/webhooks", &w.admin_token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 20);
    assert!(!list.to_string().contains("whsec_"));
}

#[actix_web::test]
async fn a_receiver_on_a_private_address_is_not_reached_when_private_targets_are_not_allowed() {
    // Plain http allowed, private addresses not: a name resolving to 127.0.0.1 is refused at
    // creation, and a delivery to such a name (stored while it resolved elsewhere) is refused
    // after resolution, at sending.
    let receiver = Receiver::start(&[]);
    let w = world_with(&[
        ("SECONDMILE_WEBHOOK_ALLOW_HTTP", "true"),
        ("SECONDMILE_WEBHOOK_POLL_MS", "50"),
    ])
    .await;
    let app = &w.app;
    let port = receiver.url.rsplit(':').next().unwrap().to_string();
    let by_name = format!("http://localhost:{port}");
    let (status, body) = app
        .post("/api/v1/webhooks", &w.admin_token, json!({"url": by_name}))
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("private_address")),
        "{body}"
    );
    // Stored as if created under other rules: the worker still refuses to send.
    let (hook, _) = create_webhook(
        app,
        &w.admin_token,
        json!({"url": "https://hooks.example.com/x"}),
    )
    .await;
    {
        use diesel::RunQueryDsl;
        let mut conn = w.app.db.connect();
        let updated = diesel::sql_query(format!(
            "UPDATE webhooks SET url = '{by_name}/hooks' WHERE id = '{hook}'"
        ))
        .execute(&mut conn)
        .unwrap();
        assert_eq!(updated, 1);
    }
    app.create_location(
        &w.admin_token,
        json!({"code": "S-6", "name": "Lapa", "timezone": "Europe/Lisbon"}),
    )
    .await;
    let path = format!("/api/v1/webhooks/{hook}/deliveries");
    let refused = eventually(10, || async {
        let page = app.get_ok(&path, &w.admin_token).await;
        page["items"][0]["attempts"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("resolves only to loopback"))
    })
    .await;
    assert!(refused, "{}", app.get_ok(&path, &w.admin_token).await);
    assert!(receiver.received().is_empty());
}

#[actix_web::test]
async fn events_and_webhooks_stay_inside_their_organization() {
    let w = world_with(LOCAL_WEBHOOKS).await;
    let app = &w.app;
    let receiver = Receiver::start(&[]);
    let (hook, _) = create_webhook(app, &w.admin_token, json!({"url": receiver.url})).await;
    let other = app.create_org_with_admin("Globex");
    let other_admin = app.access_token(&other).await;
    let other_receiver = Receiver::start(&[]);
    create_webhook(app, &other_admin, json!({"url": other_receiver.url})).await;
    // Globex's change reaches Globex only.
    app.create_location(
        &other_admin,
        json!({"code": "G-1", "name": "Globex One", "timezone": "Europe/Lisbon"}),
    )
    .await;
    assert!(eventually(10, || async { !other_receiver.received().is_empty() }).await);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received().is_empty());
    let (theirs, _) = feed_after(app, &other_admin, "0").await;
    let (ours, _) = feed_after(app, &w.admin_token, "0").await;
    assert!(
        theirs
            .iter()
            .all(|e| e.organization_id != ours[0].organization_id)
    );
    assert!(!ours.iter().any(|e| e.data["code"] == "G-1"));
    // Another organization's webhook is not found, whatever the operation.
    for (method, path) in [
        ("GET", format!("/api/v1/webhooks/{hook}")),
        ("GET", format!("/api/v1/webhooks/{hook}/deliveries")),
        ("POST", format!("/api/v1/webhooks/{hook}/ping")),
        ("POST", format!("/api/v1/webhooks/{hook}/rotate-secret")),
        ("DELETE", format!("/api/v1/webhooks/{hook}")),
    ] {
        let (status, _) = match method {
            "GET" => app.get(&path, &other_admin).await,
            "DELETE" => app.delete(&path, &other_admin).await,
            _ => app.post(&path, &other_admin, json!({})).await,
        };
        assert_eq!(status, 404, "{method} {path}");
    }
    let list = app.get_ok("/api/v1/webhooks", &other_admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // A client with events:read reads the feed and the webhooks, but changes nothing.
    let (id, secret) = app.create_client(&w.admin_token, &["events:read"]).await;
    let client = app.client_token(&id, &secret).await;
    let page = app.get_ok("/api/v1/events", &client).await;
    assert!(!page["items"].as_array().unwrap().is_empty());
    let one = app
        .get_ok(&format!("/api/v1/webhooks/{hook}"), &client)
        .await;
    assert!(one.get("secret").is_none());
    let (status, _) = app
        .post_empty(&format!("/api/v1/webhooks/{hook}/ping"), &client)
        .await;
    assert_eq!(status, 403);
    // Deleting a webhook removes its deliveries.
    let (status, _) = app
        .delete(&format!("/api/v1/webhooks/{hook}"), &w.admin_token)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .get(
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn two_instances_on_one_database_deliver_each_event_once() {
    let w = world_with(LOCAL_WEBHOOKS).await;
    let app = &w.app;
    // A second server on the same database: its worker competes for the same deliveries.
    crate::helpers::start_server(&app.db, LOCAL_WEBHOOKS, |_| {});
    let receiver = Receiver::start(&[]);
    create_webhook(
        app,
        &w.admin_token,
        json!({"url": receiver.url, "event_types": ["location.created"]}),
    )
    .await;
    for i in 0..20 {
        app.create_location(
            &w.admin_token,
            json!({"code": format!("T-{i}"), "name": format!("Twin {i}"), "timezone": "Europe/Lisbon"}),
        )
        .await;
    }
    assert!(eventually(20, || async { receiver.received().len() >= 20 }).await);
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let ids: Vec<String> = receiver.received().iter().map(Received::id).collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 20);
    assert_eq!(ids.len(), 20, "each event once, whichever instance sent it");
}

#[actix_web::test]
async fn long_polls_are_capped_per_organization_and_another_organization_is_not_woken() {
    let w = world_with(&[("SECONDMILE_LONG_POLLS_PER_ORG", "2")]).await;
    let app = &w.app;
    let admin = w.admin_token.clone();
    let other = app.create_org_with_admin("Globex");
    let other_admin = app.access_token(&other).await;
    let (_, end) = feed_after(app, &admin, "0").await;
    let (_, other_end) = feed_after(app, &other_admin, "0").await;
    let wait = format!("/api/v1/events?after={end}&wait=3");
    let other_wait = format!("/api/v1/events?after={other_end}&wait=3");
    // Twenty-two long-polls of one organization at once: exactly two wait, the rest are
    // refused at once with a time to retry.
    let ours = futures_util::future::join_all((0..22).map(|_| app.get(&wait, &admin)));
    let meanwhile = async {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        // Reading without waiting is never refused.
        let (status, _) = app
            .get(&format!("/api/v1/events?after={end}"), &admin)
            .await;
        assert_eq!(status, 200);
        // Another organization's change ends none of ours early.
        app.create_location(
            &other_admin,
            json!({"code": "G-1", "name": "Globex One", "timezone": "Europe/Lisbon"}),
        )
        .await;
    };
    let started = Instant::now();
    let (ours, theirs, ()) =
        futures_util::join!(ours, app.get_ok(&other_wait, &other_admin), meanwhile);
    let waited: Vec<&Value> = ours
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    let refused = ours
        .iter()
        .filter(|(status, body)| *status == 429 && body["code"] == "rate_limited")
        .count();
    assert_eq!((waited.len(), refused), (2, 20), "{ours:?}");
    assert!(waited.iter().all(|page| page["items"] == json!([])));
    assert!(started.elapsed() >= Duration::from_millis(2900));
    assert_eq!(theirs["items"][0]["type"], "location.created", "{theirs}");
    // Once they answered, there is room again.
    let page = app
        .get_ok(&format!("/api/v1/events?after={end}&wait=1"), &admin)
        .await;
    assert_eq!(page["items"], json!([]));
}

/// Creates a location through the server at `address` (another instance); answers the status.
async fn create_location_at(app: &TestApp, address: &str, admin: &str, code: String) -> u16 {
    let response = app
        .client
        .post(format!("{address}/api/v1/locations"))
        .bearer_auth(admin)
        .send_json(&json!({"code": code, "name": "Concurrent", "timezone": "Europe/Lisbon"}))
        .await
        .expect("the second instance answers");
    response.status().as_u16()
}

#[actix_web::test]
async fn concurrent_writers_and_a_polling_reader_see_every_event_once_in_cursor_order() {
    let w = world_with(&[]).await;
    let app = &w.app;
    let admin = w.admin_token.clone();
    // A second instance on the same database: its sequencer numbers events too.
    let second = crate::helpers::start_server(&app.db, &[], |_| {});
    let (_, start) = feed_after(app, &admin, "0").await;
    const WRITERS: usize = 24;
    const EACH: usize = 5;
    let writers = (0..WRITERS).map(|i| {
        let (admin, second) = (admin.clone(), second.clone());
        async move {
            for j in 0..EACH {
                let code = format!("C-{i}-{j}");
                if i % 3 == 0 {
                    assert_eq!(create_location_at(app, &second, &admin, code).await, 201);
                } else {
                    let body =
                        json!({"code": code, "name": "Concurrent", "timezone": "Europe/Lisbon"});
                    let (status, answer) = app.post("/api/v1/locations", &admin, body).await;
                    assert_eq!(status, 201, "{answer}");
                }
            }
        }
    });
    // The reader polls throughout: every page must continue exactly where the last ended.
    let reader = async {
        let mut cursor: i64 = start.parse().unwrap();
        let mut seen: Vec<String> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < WRITERS * EACH && Instant::now() < deadline {
            let page: FeedResponse = app
                .get_as(
                    &format!("/api/v1/events?after={cursor}&limit=7&wait=1"),
                    &admin,
                )
                .await;
            for event in &page.items {
                let number: i64 = event.cursor.as_deref().unwrap().parse().unwrap();
                assert_eq!(number, cursor + 1, "no gap, no repeat: {event:?}");
                cursor = number;
                seen.push(event.id.to_string());
            }
            if page.items.is_empty() {
                assert_eq!(page.next_cursor, cursor.to_string());
            }
        }
        seen
    };
    let (seen, _) = futures_util::join!(reader, futures_util::future::join_all(writers));
    assert_eq!(seen.len(), WRITERS * EACH, "every event arrived");
    let distinct: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "each event once");
    // Read again from the start: the same events in the same order.
    let (again, _) = feed_after(app, &admin, &start).await;
    let again: Vec<String> = again.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(again, seen);
}

#[actix_web::test]
async fn a_redirect_is_not_followed_but_retried_as_a_failure() {
    let (w, receiver, hook, _) = one_location_event(&[307]).await;
    let app = &w.app;
    assert!(eventually(10, || async { receiver.received().len() >= 2 }).await);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let paths: Vec<String> = receiver.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/hooks", "/hooks"], "the redirect was not followed");
    let page = app
        .get_ok(
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            &w.admin_token,
        )
        .await;
    assert_eq!(page["items"][0]["attempts"][0]["response_status"], 307);
    assert_eq!(page["items"][0]["attempts"][0]["succeeded"], false);
}

fn prune(app: &TestApp, older_than_days: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secondmile"))
        .args(["events", "prune", "--older-than-days", older_than_days])
        .env("DATABASE_URL", app.db.url())
        .env("SECONDMILE_LOG", "warn")
        .output()
        .expect("run secondmile events prune");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[actix_web::test]
async fn retention_deletes_old_events_and_finished_deliveries_and_the_feed_says_where_it_starts() {
    let w = world_with(LOCAL_WEBHOOKS).await;
    let app = &w.app;
    let admin = &w.admin_token;
    let answering = Receiver::start(&[]);
    let failing = Receiver::start(&[500; 200]);
    let (delivered, _) = create_webhook(
        app,
        admin,
        json!({"url": answering.url, "event_types": ["location.created"]}),
    )
    .await;
    let (pending, _) = create_webhook(
        app,
        admin,
        json!({"url": failing.url, "event_types": ["location.created"]}),
    )
    .await;
    for code in ["R-1", "R-2", "R-3"] {
        app.create_location(
            admin,
            json!({"code": code, "name": code, "timezone": "Europe/Lisbon"}),
        )
        .await;
    }
    assert!(eventually(20, || async { answering.received().len() == 3 }).await);
    assert!(eventually(20, || async { !failing.received().is_empty() }).await);
    let (all, last) = feed_after(app, admin, "0").await;
    assert!(all.len() >= 3);

    // Nothing is 30 days old: nothing goes.
    let out = prune(app, "30");
    assert!(
        out.starts_with("deleted 0 events, 0 finished deliveries"),
        "{out}"
    );
    assert_eq!(feed_after(app, admin, "0").await.0.len(), all.len());

    // Everything up to now goes, but the deliveries still being tried.
    let out = prune(app, "0");
    assert!(
        out.starts_with(&format!(
            "deleted {} events, 3 finished deliveries and 3 attempts",
            all.len()
        )),
        "{out}"
    );
    let (status, problem) = app.get("/api/v1/events?after=0", admin).await;
    assert_eq!(status, 410, "{problem}");
    assert_eq!(problem["code"], "events_pruned");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("cursor={last}")),
        "{problem}"
    );
    // Without a cursor the feed starts at the oldest event kept; the last cursor still works.
    let page = app.get_ok("/api/v1/events", admin).await;
    assert_eq!(page["items"], json!([]));
    assert_eq!(page["next_cursor"], last.as_str());
    assert!(feed_after(app, admin, &last).await.0.is_empty());
    let done = app
        .get_ok(&format!("/api/v1/webhooks/{delivered}/deliveries"), admin)
        .await;
    assert_eq!(done["items"], json!([]), "succeeded deliveries are deleted");
    let waiting = app
        .get_ok(&format!("/api/v1/webhooks/{pending}/deliveries"), admin)
        .await;
    let waiting = waiting["items"].as_array().unwrap();
    assert_eq!(waiting.len(), 3, "deliveries still being tried are kept");
    assert!(waiting.iter().all(|d| d["status"] == "pending"));

    // Later events follow on from the last number.
    app.create_location(
        admin,
        json!({"code": "R-4", "name": "R-4", "timezone": "Europe/Lisbon"}),
    )
    .await;
    let (after, _) = feed_after(app, admin, &last).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].type_, "location.created");
    let page = app.get_ok("/api/v1/events", admin).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // A second pass finds nothing new to delete before the cutoff it is given.
    let out = prune(app, "30");
    assert!(out.starts_with("deleted 0 events"), "{out}");
}
