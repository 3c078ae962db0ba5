//! Users and integration clients: admin management, validation, the last-admin rule,
//! the role table, and tenant isolation.

use serde_json::{Value, json};

use crate::helpers::{expect_problem, json_body, spawn_app};

#[actix_web::test]
async fn an_admin_manages_the_users_of_the_organization() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;

    let mut response = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .send_json(&json!({"email": " Rui.Costa@Example.TEST ", "display_name": "Rui Costa", "role": "reviewer", "password": "a long passphrase"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let created = json_body(&mut response).await;
    assert_eq!(created["email"], "rui.costa@example.test");
    assert_eq!(created["role"], "reviewer");
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    assert_eq!(
        location,
        format!("/api/v1/users/{}", created["id"].as_str().unwrap())
    );

    let (status, fetched) = app.get(&location, &token).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);

    let (status, changed) = app
        .patch(
            &location,
            &token,
            json!({"display_name": "Rui M. Costa", "role": "analyst"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["display_name"], "Rui M. Costa");
    assert_eq!(changed["role"], "analyst");
    assert_eq!(changed["email"], "rui.costa@example.test");

    // The new user signs in with the password the admin set, then with a reset one.
    let (status, _) = app
        .token_request(json!({"grant_type": "password", "username": "rui.costa@example.test", "password": "a long passphrase"}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .patch(
            &location,
            &token,
            json!({"password": "another long passphrase"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .token_request(json!({"grant_type": "password", "username": "rui.costa@example.test", "password": "a long passphrase"}))
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .token_request(json!({"grant_type": "password", "username": "rui.costa@example.test", "password": "another long passphrase"}))
        .await;
    assert_eq!(status, 200);

    let (status, _) = app.delete(&location, &token).await;
    assert_eq!(status, 204);
    let fetched = app.get_ok(&location, &token).await;
    assert_eq!(
        fetched["active"], false,
        "deleting deactivates; the record stays"
    );
    let list = app.get_ok("/api/v1/users?active=false", &token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn invalid_users_are_refused_with_every_violation() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let mut response = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .send_json(&json!({"email": "not-an-email", "display_name": "   ", "role": "shopper", "password": "short"}))
        .await
        .unwrap();
    let body = expect_problem(&mut response, 422, "validation_failed").await;
    let pointers = crate::helpers::pointers(&body);
    for pointer in ["/email", "/display_name", "/password"] {
        assert!(pointers.contains(&pointer), "{pointer} in {body}");
    }

    // No mass assignment: fields outside the schema are refused.
    for extra in [
        json!({"org_id": admin.org_id}),
        json!({"active": false}),
        json!({"password_hash": "x"}),
    ] {
        let mut user = json!({"email": "x@example.test", "display_name": "X", "role": "shopper", "password": "a long passphrase"});
        for (k, v) in extra.as_object().unwrap() {
            user[k] = v.clone();
        }
        let mut response = app
            .client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&token)
            .send_json(&user)
            .await
            .unwrap();
        let body = expect_problem(&mut response, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["code"], "unknown_field", "{body}");
    }
    let mut response = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .send_json(&json!({"email": "x@example.test", "display_name": "X", "role": "superuser", "password": "a long passphrase"}))
        .await
        .unwrap();
    let body = expect_problem(&mut response, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["pointer"], "/role");
}

#[actix_web::test]
async fn an_email_is_unique_within_its_organization_only() {
    let app = spawn_app().await;
    let acme = app.create_org_with_admin("Acme");
    let acme_token = app.access_token(&acme).await;
    let globex = app.create_org_with_admin("Globex");
    let globex_token = app.access_token(&globex).await;
    let user = |password: &str| json!({"email": "dup@example.test", "display_name": "Dup", "role": "shopper", "password": password});
    let (status, body) = app
        .post("/api/v1/users", &acme_token, user("acme passphrase 1"))
        .await;
    assert_eq!(status, 201, "{body}");
    let mut upper = user("acme passphrase 2");
    upper["email"] = json!("DUP@example.test");
    let (status, body) = app.post("/api/v1/users", &acme_token, upper).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("email_taken")));

    // Another organization can neither learn that Acme has this address nor be blocked by it.
    let (status, body) = app
        .post("/api/v1/users", &globex_token, user("globex passphrase"))
        .await;
    assert_eq!(status, 201, "{body}");

    // Each password opens its own organization's account.
    let sign_in = |password: &'static str, organization: Option<&str>| {
        let mut grant =
            json!({"grant_type": "password", "username": "Dup@Example.test", "password": password});
        if let Some(org) = organization {
            grant["organization"] = json!(org);
        }
        app.token_request(grant)
    };
    for (password, org) in [
        ("acme passphrase 1", &acme.org_id),
        ("globex passphrase", &globex.org_id),
    ] {
        let (status, body) = sign_in(password, None).await;
        assert_eq!(status, 200, "{body}");
        let me = app
            .get_ok("/api/v1/me", body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me["organization"]["id"].as_str(), Some(org.as_str()));
    }
    let (status, body) = sign_in("globex passphrase", Some(&acme.org_id)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_grant")),
        "{body}"
    );

    // The same password in both: the caller must choose, and is told the choices.
    let globex_dup = app
        .get_ok("/api/v1/users?role=shopper", &globex_token)
        .await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app
        .patch(
            &format!("/api/v1/users/{globex_dup}"),
            &globex_token,
            json!({"password": "acme passphrase 1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = sign_in("acme passphrase 1", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("organization_required")),
        "{body}"
    );
    let choices: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(choices.len(), 2, "{body}");
    assert!(
        choices
            .iter()
            .any(|c| c.starts_with(&acme.org_id) && c.ends_with("Acme")),
        "{body}"
    );
    assert!(
        choices
            .iter()
            .any(|c| c.starts_with(&globex.org_id) && c.ends_with("Globex")),
        "{body}"
    );
    for org in [&acme.org_id, &globex.org_id] {
        let (status, body) = sign_in("acme passphrase 1", Some(org)).await;
        assert_eq!(status, 200, "{body}");
        let me = app
            .get_ok("/api/v1/me", body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me["organization"]["id"].as_str(), Some(org.as_str()));
    }
    let (status, body) = sign_in("acme passphrase 1", Some("not-an-id")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
}

#[actix_web::test]
async fn emails_are_normalised_and_look_alike_tricks_refused() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let user = |email: &str| json!({"email": email, "display_name": "Look", "role": "shopper", "password": "a long passphrase"});
    for bad in [
        "an\u{200b}a@example.test",
        "ana@exa\u{200d}mple.test",
        "\u{feff}ana@example.test",
        "ana..lima@example.test",
        "ana@example..test",
        "ana@[127.0.0.1]",
        "ana@127.0.0.1",
    ] {
        let (status, body) = app.post("/api/v1/users", &token, user(bad)).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
        assert_eq!(body["errors"][0]["pointer"], "/email", "{bad:?}: {body}");
    }
    // A decomposed accent is the same address as the composed one (Unicode NFC).
    let (status, body) = app
        .post("/api/v1/users", &token, user("Jose\u{301}@Example.test"))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email"], "jos\u{e9}@example.test");
    let (status, body) = app
        .post("/api/v1/users", &token, user("jos\u{e9}@example.test"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("email_taken")),
        "{body}"
    );
}

#[actix_web::test]
async fn the_last_active_admin_cannot_be_removed() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let me = format!("/api/v1/users/{}", admin.id);

    let (status, body) = app.delete(&me, &token).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_admin")));
    let (status, _) = app.patch(&me, &token, json!({"role": "analyst"})).await;
    assert_eq!(status, 409);
    let (status, _) = app.patch(&me, &token, json!({"active": false})).await;
    assert_eq!(status, 409);

    // With a second admin, the first may step down; the role change applies at once.
    let second = app.create_user(&token, "admin").await;
    let (status, body) = app.patch(&me, &token, json!({"role": "analyst"})).await;
    assert_eq!(status, 200, "{body}");
    // The role change ended the token's session.
    let (status, _) = app.get("/api/v1/users", &token).await;
    assert_eq!(status, 401);
    let second_token = app.access_token(&second).await;
    let (status, body) = app
        .delete(&format!("/api/v1/users/{}", second.id), &second_token)
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_admin")));
}

#[actix_web::test]
async fn user_lists_page_with_cursors() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    for _ in 0..4 {
        app.create_user(&token, "shopper").await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    loop {
        let (status, page) = app.get(&path, &token).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no user twice");

    let shoppers = app.get_ok("/api/v1/users?role=shopper", &token).await;
    assert_eq!(shoppers["items"].as_array().unwrap().len(), 4);
    for bad in [
        "limit=0",
        "limit=201",
        "cursor=not-a-cursor",
        "role=root",
        "active=maybe",
    ] {
        let (status, body) = app.get(&format!("/api/v1/users?{bad}"), &token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}: {body}"
        );
    }
}

#[actix_web::test]
async fn every_identity_endpoint_enforces_its_roles() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let admin_token = app.access_token(&admin).await;
    let target = app.create_user(&admin_token, "shopper").await;
    let (client_id, client_secret) = app
        .create_client(
            &admin_token,
            &[
                "reports:read",
                "reports:write",
                "aggregates:read",
                "locations:read",
                "questionnaires:read",
            ],
        )
        .await;

    let mut callers = vec![("admin".to_string(), admin_token.clone())];
    for role in ["reviewer", "analyst", "manager", "shopper"] {
        let user = app.create_user(&admin_token, role).await;
        callers.push((role.to_string(), app.access_token(&user).await));
    }
    callers.push((
        "client".to_string(),
        app.client_token(&client_id, &client_secret).await,
    ));

    let user_path = format!("/api/v1/users/{}", target.id);
    let client_path = format!("/api/v1/integration-clients/{client_id}");
    let new_user = || json!({"email": format!("{}@example.test", uuid::Uuid::new_v4().simple()), "display_name": "N", "role": "shopper", "password": "a long passphrase"});
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/users".into(), None),
        ("POST", "/api/v1/users".into(), Some(new_user())),
        ("GET", user_path.clone(), None),
        (
            "PATCH",
            user_path.clone(),
            Some(json!({"display_name": "Renamed"})),
        ),
        ("GET", "/api/v1/integration-clients".into(), None),
        (
            "POST",
            "/api/v1/integration-clients".into(),
            Some(json!({"name": "c", "scopes": ["reports:read"]})),
        ),
    ];
    for (caller, token) in &callers {
        let (status, body) = app.get("/api/v1/me", token).await;
        assert_eq!(status, 200, "{caller} GET /me: {body}");
        for (method, path, body) in &endpoints {
            let body = if path == "/api/v1/users" && *method == "POST" {
                Some(new_user())
            } else {
                body.clone()
            };
            let (status, response) = app.request(method, path, token, body).await;
            let expected = if caller == "admin" {
                [200, 201]
            } else {
                [403, 403]
            };
            assert!(
                expected.contains(&status),
                "{caller} {method} {path}: {status} {response}"
            );
            if caller != "admin" {
                assert_eq!(response["code"], "forbidden");
            }
        }
        // The deleting endpoints last, so that the targets exist for everyone else.
        if caller != "admin" {
            assert_eq!(app.delete(&user_path, token).await.0, 403, "{caller}");
            assert_eq!(app.delete(&client_path, token).await.0, 403, "{caller}");
        }
    }
    assert_eq!(app.delete(&user_path, &admin_token).await.0, 204);
    assert_eq!(app.delete(&client_path, &admin_token).await.0, 204);

    // Without a token, every endpoint is a 401.
    for (method, path, _) in &endpoints {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{method} {path}");
    }
}

#[actix_web::test]
async fn another_organizations_users_and_clients_are_invisible() {
    let app = spawn_app().await;
    let acme = app.create_org_with_admin("Acme");
    let acme_token = app.access_token(&acme).await;
    let acme_user = app.create_user(&acme_token, "shopper").await;
    let (acme_client, _) = app.create_client(&acme_token, &["reports:read"]).await;

    let globex = app.create_org_with_admin("Globex");
    let globex_token = app.access_token(&globex).await;

    for id in [&acme_user.id, &acme.id] {
        let path = format!("/api/v1/users/{id}");
        for (method, body) in [
            ("GET", None),
            ("PATCH", Some(json!({"display_name": "Hijacked"}))),
            ("DELETE", None),
        ] {
            let (status, response) = app.request(method, &path, &globex_token, body).await;
            assert_eq!(
                (status, response["code"].as_str()),
                (404, Some("not_found")),
                "{method} {path}"
            );
        }
    }
    let (status, _) = app
        .delete(
            &format!("/api/v1/integration-clients/{acme_client}"),
            &globex_token,
        )
        .await;
    assert_eq!(status, 404);

    let users = app.get_ok("/api/v1/users", &globex_token).await;
    let ids: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![globex.id.as_str()]);
    let clients = app
        .get_ok("/api/v1/integration-clients", &globex_token)
        .await;
    assert!(clients["items"].as_array().unwrap().is_empty());

    // Acme's records are untouched.
    let user = app
        .get_ok(&format!("/api/v1/users/{}", acme_user.id), &acme_token)
        .await;
    assert_eq!(user["display_name"], "Test shopper");
    assert_eq!(user["active"], true);
}

#[actix_web::test]
async fn client_secrets_are_shown_once_and_never_listed() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let (status, created) = app.post("/api/v1/integration-clients", &token, json!({"name": "BI export", "scopes": ["reports:read", "aggregates:read", "reports:read"]}))
    .await;
    assert_eq!(status, 201);
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("smcs_"));
    assert_eq!(
        created["scopes"],
        json!(["reports:read", "aggregates:read"])
    );
    let list = app.get_ok("/api/v1/integration-clients", &token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));
    assert!(list["items"][0].get("client_secret").is_none());

    let (status, body) = app
        .post(
            "/api/v1/integration-clients",
            &token,
            json!({"name": "", "scopes": []}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/integration-clients",
            &token,
            json!({"name": "x", "scopes": ["everything"]}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["pointer"], "/scopes/0");
}

#[actix_web::test]
async fn two_admins_removing_each_other_at_once_leave_one_admin() {
    let app = spawn_app().await;
    let first = app.create_org_with_admin("Acme");
    let first_token = app.access_token(&first).await;
    let second = app.create_user(&first_token, "admin").await;
    let second_token = app.access_token(&second).await;

    let first_path = format!("/api/v1/users/{}", first.id);
    let second_path = format!("/api/v1/users/{}", second.id);
    let (a, b) = futures_util::future::join(
        app.delete(&second_path, &first_token),
        app.delete(&first_path, &second_token),
    )
    .await;
    let mut statuses = [a.0, b.0];
    statuses.sort();
    // Either one wins and the other finds no other admin left (409), or the loser was
    // already deactivated when its request was authenticated (401).
    assert!(
        statuses == [204, 409] || statuses == [204, 401],
        "{a:?} {b:?}"
    );

    let mut conn = app.db.connect();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let active_admins = diesel::RunQueryDsl::get_result::<Count>(
        diesel::sql_query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = TRUE"),
        &mut conn,
    )
    .unwrap()
    .n;
    assert_eq!(active_admins, 1);
}
