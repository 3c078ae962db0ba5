//! Sign-in limits: per client IP and per account, with `X-Forwarded-For` believed only
//! from trusted proxies.

use serde_json::json;

use crate::helpers::{TestApp, json_body, spawn_app_with};

const LIMITS: [(&str, &str); 2] = [
    ("SECONDMILE_LOGIN_RATE_PER_IP", "10"),
    ("SECONDMILE_LOGIN_RATE_PER_ACCOUNT", "10"),
];

/// The status, the `Retry-After` header and the body of a failing sign-in.
struct Outcome {
    status: u16,
    retry_after: Option<u64>,
    body: serde_json::Value,
}

async fn failed_login(app: &TestApp, email: &str, forwarded_for: Option<&str>) -> Outcome {
    let mut request = app.client.post(app.url("/api/v1/auth/token"));
    if let Some(ip) = forwarded_for {
        request = request.insert_header(("x-forwarded-for", ip));
    }
    let mut response = request
        .send_json(&json!({"grant_type": "password", "username": email, "password": "wrong password, again"}))
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    Outcome {
        status: response.status().as_u16(),
        retry_after,
        body: json_body(&mut response).await,
    }
}

/// The account's owner signs in from `ip` (behind the trusted proxy): 200.
async fn owner_signs_in(app: &TestApp, owner: &crate::helpers::TestUser, ip: &str) {
    let mut response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .insert_header(("x-forwarded-for", ip))
        .send_json(
            &json!({"grant_type": "password", "username": owner.email, "password": owner.password}),
        )
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        json_body(&mut response).await
    );
}

fn assert_limited(outcome: &Outcome) {
    assert_eq!(outcome.status, 429, "{}", outcome.body);
    assert_eq!(outcome.body["code"], "rate_limited");
    let retry_after = outcome.retry_after.expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
}

#[actix_web::test]
async fn the_eleventh_attempt_from_one_ip_in_a_minute_is_a_429() {
    let app = spawn_app_with(&LIMITS, |_| {}).await;
    for i in 0..10 {
        // Different accounts, so only the IP limit applies.
        let outcome = failed_login(&app, &format!("user{i}@example.test"), None).await;
        assert_eq!(outcome.status, 401, "attempt {}", i + 1);
    }
    assert_limited(&failed_login(&app, "user10@example.test", None).await);

    // X-Forwarded-For from an untrusted peer is ignored: it cannot buy new attempts.
    assert_limited(&failed_login(&app, "user11@example.test", Some("198.51.100.23")).await);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_ip_and_account_has_its_own_budget() {
    let mut vars = LIMITS.to_vec();
    vars.push(("SECONDMILE_TRUSTED_PROXIES", "127.0.0.1, ::1"));
    let app = spawn_app_with(&vars, |_| {}).await;
    let admin = app.create_org_with_admin("Acme");

    // One IP exhausts its budget on many accounts.
    for i in 0..10 {
        let outcome =
            failed_login(&app, &format!("probe{i}@example.test"), Some("203.0.113.1")).await;
        assert_eq!(outcome.status, 401);
    }
    assert_limited(&failed_login(&app, "probe10@example.test", Some("203.0.113.1")).await);

    // Another IP is unaffected, and the real user still signs in.
    owner_signs_in(&app, &admin, "203.0.113.2").await;

    // One account attacked from ten IPs: then an address that failed on it waits...
    for i in 0..10 {
        let ip = format!("198.51.100.{}", i + 1);
        let outcome = failed_login(&app, &admin.email, Some(&ip)).await;
        assert_eq!(outcome.status, 401, "attempt {}", i + 1);
    }
    assert_limited(&failed_login(&app, &admin.email, Some("198.51.100.1")).await);
    // ...a fresh one is slowed (a second) but still told only that the password is wrong...
    let started = std::time::Instant::now();
    let outcome = failed_login(&app, &admin.email, Some("198.51.100.99")).await;
    assert_eq!(outcome.status, 401, "{}", outcome.body);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    // ...and the owner, from where they sign in, is slowed, never locked out.
    let started = std::time::Instant::now();
    owner_signs_in(&app, &admin, "203.0.113.2").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    // Other accounts from a fresh IP are not slowed.
    let outcome = failed_login(&app, "someone-else@example.test", Some("198.51.100.100")).await;
    assert_eq!(outcome.status, 401);
}

#[actix_web::test]
async fn twenty_concurrent_wrong_passwords_from_one_address_count_against_the_account() {
    let mut vars = LIMITS.to_vec();
    vars.push(("SECONDMILE_TRUSTED_PROXIES", "127.0.0.1, ::1"));
    vars.push(("SECONDMILE_LOGIN_RATE_PER_IP", "1000"));
    let app = spawn_app_with(&vars, |_| {}).await;
    let started = std::time::Instant::now();
    let outcomes = futures_util::future::join_all(
        (0..20).map(|_| failed_login(&app, "target@example.test", Some("198.51.100.7"))),
    )
    .await;
    let refused = outcomes.iter().filter(|o| o.status == 429).count();
    let wrong = outcomes.iter().filter(|o| o.status == 401).count();
    // Ten are admitted at once (the account's budget); of the others, those that arrive
    // after a failure from this address is known wait, and the rest are slowed: never more
    // than ten answered at once.
    assert_eq!(refused + wrong, 20);
    assert!(wrong >= 10, "{wrong}");
    // Those beyond the ten were held back: slowed by a second, or refused.
    assert!(
        refused == 10 || started.elapsed() >= std::time::Duration::from_millis(900),
        "{refused} refused in {:?}",
        started.elapsed()
    );
    let again = failed_login(&app, "target@example.test", Some("198.51.100.7")).await;
    assert_limited(&again);
}

fn header(response: &awc::ClientResponse<impl futures_util::Stream>, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} is sent"))
        .to_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn sign_in_answers_show_the_addresss_budget_shrinking() {
    let app = spawn_app_with(&LIMITS, |_| {}).await;
    let admin = app.create_org_with_admin("Acme");
    let mut left = Vec::new();
    for i in 0..10 {
        let body = if i == 0 {
            json!({"grant_type": "password", "username": admin.email, "password": admin.password})
        } else {
            json!({"grant_type": "password", "username": format!("u{i}@example.test"), "password": "wrong password, again"})
        };
        let response = app
            .client
            .post(app.url("/api/v1/auth/token"))
            .send_json(&body)
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), if i == 0 { 200 } else { 401 });
        assert_eq!(
            header(&response, "ratelimit-policy"),
            "\"sign-in\";q=10;w=60"
        );
        left.push(header(&response, "ratelimit"));
    }
    assert!(left[0].starts_with("\"sign-in\";r=9;t="), "{left:?}");
    assert!(left[9].starts_with("\"sign-in\";r=0;t="), "{left:?}");
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .send_json(&json!({"grant_type": "password", "username": "x@example.test", "password": "wrong password"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert!(header(&response, "ratelimit").starts_with("\"sign-in\";r=0;t="));
}
