//! One organization cannot slow another: webhook deliveries are scheduled per subscription
//! and per organization, and pings are limited per webhook.

use std::time::Duration;

use serde_json::json;

use crate::events::{LOCAL_WEBHOOKS, Receiver, create_webhook, eventually};
use crate::helpers::world_with;

#[actix_web::test]
async fn a_slow_receiver_of_one_organization_never_delays_another_organizations_deliveries() {
    let mut vars = LOCAL_WEBHOOKS.to_vec();
    vars.push(("SECONDMILE_WEBHOOK_TIMEOUT_SECS", "30"));
    let w = world_with(&vars).await;
    // The first organization's twenty webhooks all point at a receiver that takes 20 s.
    let slow = Receiver::start_slow(&[], Duration::from_secs(20));
    let mut hooks = Vec::new();
    for _ in 0..20 {
        let (hook, _) = create_webhook(&w.app, &w.admin_token, json!({"url": slow.url})).await;
        hooks.push(hook);
    }
    for hook in &hooks {
        let (status, body) = w
            .app
            .post_empty(&format!("/api/v1/webhooks/{hook}/ping"), &w.admin_token)
            .await;
        assert_eq!(status, 202, "{body}");
    }
    assert!(eventually(10, || async { !slow.received().is_empty() }).await);
    let first_slow = slow.received()[0].at;
    // Another organization's delivery goes out while the slow ones are still waiting.
    let other = w.app.create_org_with_admin("Other");
    let other_token = w.app.access_token(&other).await;
    let fast = Receiver::start(&[]);
    let (hook, _) = create_webhook(&w.app, &other_token, json!({"url": fast.url})).await;
    let (status, body) = w
        .app
        .post_empty(&format!("/api/v1/webhooks/{hook}/ping"), &other_token)
        .await;
    assert_eq!(status, 202, "{body}");
    assert!(
        eventually(15, || async { !fast.received().is_empty() }).await,
        "the other organization's ping was never delivered"
    );
    let delivered = fast.received()[0].at;
    eprintln!(
        "the other organization's ping arrived {:?} after the first slow request",
        delivered - first_slow
    );
    assert!(
        delivered < first_slow + Duration::from_secs(20),
        "delivered {:?} after the first slow request, before which none was answered",
        delivered - first_slow
    );
    // The slow organization holds at most its share of the worker's places.
    let held = slow.received().len();
    assert!(held <= 8, "{held} slow deliveries in flight at once");
}

#[actix_web::test]
async fn pings_are_limited_per_webhook_and_organization() {
    let w = world_with(LOCAL_WEBHOOKS).await;
    let receiver = Receiver::start(&[]);
    let (hook, _) = create_webhook(&w.app, &w.admin_token, json!({"url": receiver.url})).await;
    let (other_hook, _) =
        create_webhook(&w.app, &w.admin_token, json!({"url": receiver.url})).await;
    let path = format!("/api/v1/webhooks/{hook}/ping");
    // Twenty at once: three are queued, the others refused.
    let answers =
        futures_util::future::join_all((0..20).map(|_| w.app.post_empty(&path, &w.admin_token)))
            .await;
    let queued = answers.iter().filter(|(s, _)| *s == 202).count();
    let refused = answers.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!((queued, refused), (3, 17), "{answers:?}");
    let mut response = w
        .app
        .client
        .post(w.app.url(&path))
        .bearer_auth(&w.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    let header = |response: &awc::ClientResponse<_>, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        header(&response, "ratelimit-policy").as_deref(),
        Some("\"webhook-ping\";q=3;w=30")
    );
    assert!(
        header(&response, "ratelimit")
            .unwrap()
            .starts_with("\"webhook-ping\";r=0;t="),
        "{:?}",
        header(&response, "ratelimit")
    );
    let problem = crate::helpers::json_body(&mut response).await;
    assert_eq!(problem["code"], "rate_limited", "{problem}");
    // Another webhook is not held back by this one; its answer says what is left.
    let response = w
        .app
        .client
        .post(w.app.url(&format!("/api/v1/webhooks/{other_hook}/ping")))
        .bearer_auth(&w.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(
        header(&response, "ratelimit").as_deref(),
        Some("\"webhook-ping\";r=2;t=10")
    );
}
