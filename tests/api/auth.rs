//! Tokens: the password, refresh, client-credentials and revoke flows, and every way a
//! presented access token must be refused.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{
    TEST_JWT_SECRET, TestApp, client, expect_problem, json_body, spawn_app, spawn_app_with,
    start_server,
};

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let mut response = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), json_body(&mut response).await)
}

#[actix_web::test]
async fn signing_in_returns_tokens_that_identify_the_user() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme Coffee");

    let mut response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .send_form(&[
            ("grant_type", "password"),
            ("username", &admin.email.to_uppercase()),
            ("password", &admin.password),
        ])
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let body = json_body(&mut response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("smr_"));

    let (status, me) = me(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["kind"], "user");
    assert_eq!(me["id"], admin.id);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["email"], admin.email);
    assert_eq!(me["organization"]["name"], "Acme Coffee");
    assert_eq!(me["organization"]["id"], admin.org_id);
    assert!(
        me["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "aggregates:read")
    );
}

#[actix_web::test]
async fn the_access_token_carries_the_documented_claims() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert!(header.kid.is_some());
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.set_audience(&["secondmile-api"]);
    validation.set_issuer(&["secondmile"]);
    let claims = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    for claim in [
        "iss", "aud", "sub", "org", "role", "scope", "iat", "exp", "jti",
    ] {
        assert!(!claims[claim].is_null(), "claim {claim} in {claims}");
    }
    assert_eq!(claims["sub"], admin.id);
    assert_eq!(claims["org"], admin.org_id);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_email_fail_alike() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let (status_a, body_a) = app
        .token_request(json!({"grant_type": "password", "username": admin.email, "password": "not the password at all"}))
        .await;
    let (status_b, body_b) = app
        .token_request(json!({"grant_type": "password", "email": "nobody@example.test", "password": "not the password at all"}))
        .await;
    assert_eq!((status_a, status_b), (401, 401));
    assert_eq!(
        body_a, body_b,
        "the answers must not tell which emails exist"
    );
    assert_eq!(body_a["code"], "invalid_grant");
}

#[actix_web::test]
async fn malformed_token_requests_are_explained() {
    let app = spawn_app().await;
    let (status, body) = app
        .token_request(json!({"grant_type": "authorization_code"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = app
        .token_request(json!({"grant_type": "password", "username": "a@b.test"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = app
        .token_request(json!({"grant_type": "password", "username": "a@b.test", "password": "x", "role": "admin"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed")),
        "{body}"
    );
    let mut response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .insert_header(("content-type", "text/plain"))
        .send_body("grant_type=password")
        .await
        .unwrap();
    expect_problem(&mut response, 415, "unsupported_media_type").await;
}

async fn refresh(app: &TestApp, token: &str) -> (u16, Value) {
    app.token_request(json!({"grant_type": "refresh_token", "refresh_token": token}))
        .await
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let first = app.sign_in(&admin).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();

    let (status, second) = refresh(&app, &r1).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    assert_eq!(
        me(&app, second["access_token"].as_str().unwrap()).await.0,
        200
    );

    // r1 was already used: somebody copied it. The whole family is revoked...
    let (status, body) = refresh(&app, &r1).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "invalid_grant");
    // ...so the legitimate holder's newer token is dead too.
    let (status, _) = refresh(&app, &r2).await;
    assert_eq!(status, 401);

    // Another sign-in is a separate family and unaffected.
    let other = app.sign_in(&admin).await;
    let (status, _) = refresh(&app, other["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn concurrent_refreshes_with_one_token_issue_at_most_one_pair() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let r1 = app.sign_in(&admin).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let results = futures_util::future::join_all((0..4).map(|_| refresh(&app, &r1))).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    assert!(ok <= 1, "{results:?}");
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 401),
        "{results:?}"
    );
}

#[actix_web::test]
async fn revoking_a_refresh_token_signs_out() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let tokens = app.sign_in(&admin).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    let response = app
        .client
        .post(app.url("/api/v1/auth/revoke"))
        .send_form(&[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ])
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let (status, body) = refresh(&app, refresh_token).await;
    assert_eq!(status, 401, "{body}");

    // An unknown token is not an error (RFC 7009): nothing to learn from the answer.
    let response = app
        .client
        .post(app.url("/api/v1/auth/revoke"))
        .send_json(&json!({"token": "smr_not-a-real-token"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
}

#[actix_web::test]
async fn integration_clients_get_scoped_tokens_without_refresh() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let admin_token = app.access_token(&admin).await;
    let (id, secret) = app
        .create_client(&admin_token, &["reports:write", "locations:read"])
        .await;

    let (status, body) = app
        .token_request(
            json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["scope"], "reports:write locations:read");
    let (status, me_body) = me(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(me_body["kind"], "client");
    assert_eq!(me_body["id"], id);
    assert!(me_body.get("role").is_none());
    assert_eq!(
        me_body["scopes"],
        json!(["reports:write", "locations:read"])
    );

    // HTTP Basic works too, and a narrower scope may be asked for.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let mut response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .insert_header(("authorization", format!("Basic {basic}")))
        .send_form(&[
            ("grant_type", "client_credentials"),
            ("scope", "locations:read"),
        ])
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(json_body(&mut response).await["scope"], "locations:read");

    // A scope the client was not granted is refused.
    let (status, body) = app
        .token_request(json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": "aggregates:read"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_scope"))
    );

    // A wrong secret is refused.
    let (status, body) = app
        .token_request(json!({"grant_type": "client_credentials", "client_id": id, "client_secret": "smcs_wrong"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[actix_web::test]
async fn a_revoked_client_is_locked_out_at_once() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let admin_token = app.access_token(&admin).await;
    let (id, secret) = app.create_client(&admin_token, &["reports:read"]).await;
    let client_token = app.client_token(&id, &secret).await;
    assert_eq!(me(&app, &client_token).await.0, 200);

    let response = app
        .client
        .delete(app.url(&format!("/api/v1/integration-clients/{id}")))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(me(&app, &client_token).await.0, 401);
    let (status, _) = app
        .token_request(
            json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}),
        )
        .await;
    assert_eq!(status, 401);
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn sign(claims: &Value, secret: &str, kid: Option<String>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid;
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[actix_web::test]
async fn every_kind_of_bad_access_token_is_a_401() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let good = app.access_token(&admin).await;
    assert_eq!(me(&app, &good).await.0, 200);

    let kid = jsonwebtoken::decode_header(&good).unwrap().kid;
    let claims = |patch: Value| {
        let mut c = json!({
            "iss": "secondmile", "aud": "secondmile-api", "sub": admin.id, "org": admin.org_id,
            "kind": "user", "role": "admin", "scope": "", "iat": now(), "exp": now() + 600,
            "jti": "forged",
        });
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    // A correctly signed token passes, so each case below fails for its own reason.
    assert_eq!(
        me(
            &app,
            &sign(&claims(json!({})), TEST_JWT_SECRET, kid.clone())
        )
        .await
        .0,
        200
    );

    let parts: Vec<&str> = good.split('.').collect();
    let mut payload: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1])
            .unwrap(),
    )
    .unwrap();
    payload["role"] = json!("admin");
    payload["sub"] = json!(uuid::Uuid::now_v7().to_string());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(payload.to_string().as_bytes()),
        parts[2]
    );

    let alg_none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims(json!({})).to_string().as_bytes())
    );

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-jwt".into()),
        ("alg none", alg_none),
        (
            "another secret",
            sign(
                &claims(json!({})),
                "some-other-secret-0123456789-abcdefghij",
                kid.clone(),
            ),
        ),
        (
            "another secret, no kid",
            sign(
                &claims(json!({})),
                "some-other-secret-0123456789-abcdefghij",
                None,
            ),
        ),
        (
            "expired beyond leeway",
            sign(
                &claims(json!({"iat": now() - 1000, "exp": now() - 60})),
                TEST_JWT_SECRET,
                kid.clone(),
            ),
        ),
        (
            "wrong iss",
            sign(
                &claims(json!({"iss": "someone-else"})),
                TEST_JWT_SECRET,
                kid.clone(),
            ),
        ),
        (
            "wrong aud",
            sign(
                &claims(json!({"aud": "another-api"})),
                TEST_JWT_SECRET,
                kid.clone(),
            ),
        ),
        (
            "exp as a string",
            sign(
                &claims(json!({"exp": (now() + 600).to_string()})),
                TEST_JWT_SECRET,
                kid.clone(),
            ),
        ),
        ("no exp", {
            let mut c = claims(json!({}));
            c.as_object_mut().unwrap().remove("exp");
            sign(&c, TEST_JWT_SECRET, kid.clone())
        }),
        ("tampered payload", tampered),
        (
            "unknown user",
            sign(
                &claims(json!({"sub": uuid::Uuid::now_v7().to_string()})),
                TEST_JWT_SECRET,
                kid.clone(),
            ),
        ),
        (
            "another organization",
            sign(
                &claims(json!({"org": uuid::Uuid::now_v7().to_string()})),
                TEST_JWT_SECRET,
                kid.clone(),
            ),
        ),
    ];
    for (name, token) in cases {
        let mut response = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{name}");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.starts_with("Bearer"), "{name}: {challenge}");
        let body = expect_problem(&mut response, 401, "invalid_token").await;
        assert!(body["detail"].is_string(), "{name}");
    }

    // No token at all, or another scheme.
    let mut response = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert!(response.headers().contains_key("www-authenticate"));
    expect_problem(&mut response, 401, "missing_token").await;
    let mut response = app
        .client
        .get(app.url("/api/v1/me"))
        .insert_header(("authorization", "Basic YWRtaW46YWRtaW4="))
        .send()
        .await
        .unwrap();
    expect_problem(&mut response, 401, "invalid_token").await;
}

#[actix_web::test]
async fn a_deactivated_users_tokens_stop_working_at_once() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let admin_token = app.access_token(&admin).await;
    let analyst = app.create_user(&admin_token, "analyst").await;
    let tokens = app.sign_in(&analyst).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(me(&app, access).await.0, 200);

    let response = app
        .client
        .delete(app.url(&format!("/api/v1/users/{}", analyst.id)))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);

    assert_eq!(me(&app, access).await.0, 401);
    let (status, _) = refresh(&app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    let (status, body) = app
        .token_request(json!({"grant_type": "password", "username": analyst.email, "password": analyst.password}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_grant"))
    );
}

#[actix_web::test]
async fn a_password_change_role_change_or_deactivation_ends_earlier_access_tokens() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let admin_token = app.access_token(&admin).await;
    let mut user = app.create_user(&admin_token, "reviewer").await;
    let path = format!("/api/v1/users/{}", user.id);

    let changes = [
        json!({"password": "a brand new passphrase"}),
        json!({"role": "analyst"}),
        json!({"display_name": "Renamed only"}),
        json!({"active": false}),
    ];
    let mut parked = None;
    for change in changes {
        // The change follows the sign-in at once, in the same second: still told apart.
        let before = app.access_token(&user).await;
        let (status, body) = app.patch(&path, &admin_token, change.clone()).await;
        assert_eq!(status, 200, "{change}: {body}");
        if let Some(password) = change["password"].as_str() {
            user.password = password.to_string();
        }
        let (status, body) = me(&app, &before).await;
        if change.get("display_name").is_some() {
            // A rename changes nothing the token stands for.
            assert_eq!(status, 200, "{change}: {body}");
        } else {
            assert_eq!(
                (status, body["code"].as_str()),
                (401, Some("invalid_token")),
                "{change}: {body}"
            );
        }
        if change.get("active").is_some() {
            parked = Some(before);
        } else {
            // Signing in again works at once.
            let fresh = app.access_token(&user).await;
            assert_eq!(me(&app, &fresh).await.0, 200, "{change}");
        }
    }
    // Reactivating the user does not bring back the token from before the deactivation.
    let (status, body) = app
        .patch(&path, &admin_token, json!({"active": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me(&app, &parked.unwrap()).await.0, 401);
    let fresh = app.access_token(&user).await;
    let (status, body) = me(&app, &fresh).await;
    assert_eq!(
        (status, body["role"].as_str()),
        (200, Some("analyst")),
        "{body}"
    );
}

#[actix_web::test]
async fn a_generated_signing_secret_survives_a_restart() {
    let app = spawn_app_with(&[("SECONDMILE_JWT_SECRET", "")], |_| {}).await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;

    let restarted = start_server(&app.db, &[("SECONDMILE_JWT_SECRET", "")], |_| {});
    let mut response = client()
        .get(format!("{restarted}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        json_body(&mut response).await
    );

    // A server with another secret refuses the same token.
    let other = start_server(&app.db, &[], |_| {});
    let response = client()
        .get(format!("{other}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[actix_web::test]
async fn tokens_of_the_previous_secret_work_during_a_rotation() {
    const OLD: &str = "old-signing-secret-0123456789-abcdefghij";
    let app = spawn_app_with(&[("SECONDMILE_JWT_SECRET", OLD)], |_| {}).await;
    let admin = app.create_org_with_admin("Acme");
    let old_token = app.access_token(&admin).await;

    let rotating = start_server(&app.db, &[("SECONDMILE_JWT_PREVIOUS_SECRET", OLD)], |_| {});
    let response = client()
        .get(format!("{rotating}/api/v1/me"))
        .bearer_auth(&old_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let rotated = start_server(&app.db, &[], |_| {});
    let response = client()
        .get(format!("{rotated}/api/v1/me"))
        .bearer_auth(&old_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}
