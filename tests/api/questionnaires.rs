//! Questionnaire versions: draft, publish, immutability, new versions, validation, who reads
//! what, and tenant isolation.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// The example questionnaire shipped in `examples/`, with a key.
pub fn example(key: &str) -> Value {
    let mut q: Value =
        serde_json::from_str(include_str!("../../examples/questionnaire.json")).unwrap();
    q["key"] = json!(key);
    q
}

#[actix_web::test]
async fn a_questionnaire_goes_from_draft_to_published_to_a_new_version() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;

    let (status, v1) = app
        .post("/api/v1/questionnaires", &token, example("store-visit"))
        .await;
    assert_eq!(status, 201, "{v1}");
    assert_eq!(
        (v1["version"].as_i64(), v1["status"].as_str()),
        (Some(1), Some("draft"))
    );
    assert_eq!(v1["sections"].as_array().unwrap().len(), 5);
    let v1_path = format!("/api/v1/questionnaires/{}", v1["id"].as_str().unwrap());

    // A draft changes freely (and is re-validated).
    let (status, changed) = app
        .patch(
            &v1_path,
            &token,
            json!({"title": "Store visit 2026", "second_mile_pass": 60}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["title"], "Store visit 2026");
    assert_eq!(changed["second_mile_pass"], 60);
    let (status, body) = app.patch(&v1_path, &token, json!({"sections": []})).await;
    assert_eq!(
        (status, body["errors"][0]["pointer"].as_str()),
        (422, Some("/sections"))
    );

    let (status, published) = app.post_empty(&format!("{v1_path}/publish"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());

    // Published means immutable.
    let (status, body) = app
        .patch(&v1_path, &token, json!({"title": "Sneaky edit"}))
        .await;
    assert_eq!(
        (
            status,
            body["code"].as_str(),
            body["current_status"].as_str()
        ),
        (409, Some("immutable"), Some("published"))
    );
    let (status, body) = app.post_empty(&format!("{v1_path}/publish"), &token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("invalid_transition"))
    );
    let still = app.get_ok(&v1_path, &token).await;
    assert_eq!(still["title"], "Store visit 2026");

    // A new version starts as a copy of the latest.
    let (status, v2) = app
        .post_empty("/api/v1/questionnaires/store-visit/versions", &token)
        .await;
    assert_eq!(status, 201, "{v2}");
    assert_eq!(
        (v2["version"].as_i64(), v2["status"].as_str()),
        (Some(2), Some("draft"))
    );
    assert_eq!(v2["sections"], published["sections"]);
    assert_ne!(v2["id"], v1["id"]);
    let (status, body) = app
        .post_empty("/api/v1/questionnaires/store-visit/versions", &token)
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("draft_exists")));
    let (status, _) = app
        .post_empty("/api/v1/questionnaires/no-such-key/versions", &token)
        .await;
    assert_eq!(status, 404);

    // The key belongs to this questionnaire.
    let (status, body) = app
        .post("/api/v1/questionnaires", &token, example("store-visit"))
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("key_taken")));

    // Retire the old version; a draft cannot be retired.
    let (status, retired) = app.post_empty(&format!("{v1_path}/retire"), &token).await;
    assert_eq!((status, retired["status"].as_str()), (200, Some("retired")));
    let v2_path = format!("/api/v1/questionnaires/{}", v2["id"].as_str().unwrap());
    let (status, body) = app.post_empty(&format!("{v2_path}/retire"), &token).await;
    assert_eq!(
        (status, body["current_status"].as_str()),
        (409, Some("draft"))
    );

    // Filters.
    let drafts = app
        .get_ok("/api/v1/questionnaires?status=draft", &token)
        .await;
    assert_eq!(drafts["items"].as_array().unwrap().len(), 1);
    let by_key = app
        .get_ok("/api/v1/questionnaires?key=store-visit&limit=1", &token)
        .await;
    assert_eq!(by_key["items"].as_array().unwrap().len(), 1);
    assert!(by_key["next_cursor"].is_string());
    assert!(
        by_key["items"][0].get("sections").is_none(),
        "lists carry summaries"
    );
}

#[actix_web::test]
async fn an_invalid_questionnaire_is_refused_with_every_violation() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let (status, body) = app.post("/api/v1/questionnaires", &token, json!({
            "key": "Bad Key",
            "title": "T",
            "first_mile_pass": 101,
            "sections": [{"key": "s", "title": "S", "questions": [
                {"key": "a", "text": "A", "type": "scale", "min": 5, "max": 1},
                {"key": "a", "text": "Again", "type": "yes_no", "show_if": {"question": "zzz", "equals": [true]}},
                {"key": "c", "text": "C", "type": "text", "critical": true}
            ]}]
        }))
    .await;
    assert_eq!(status, 422, "{body}");
    let pointers = crate::helpers::pointers(&body);
    for pointer in [
        "/key",
        "/first_mile_pass",
        "/sections/0/questions/0/max",
        "/sections/0/questions/1/key",
        "/sections/0/questions/1/show_if/question",
        "/sections/0/questions/2/critical",
    ] {
        assert!(pointers.contains(&pointer), "{pointer} in {pointers:?}");
    }
    // A wrong type is caught with its pointer too.
    let mut q = example("typed");
    q["sections"][1]["questions"][0]["type"] = json!("stars");
    let (status, body) = app.post("/api/v1/questionnaires", &token, q).await;
    assert_eq!(
        (status, body["errors"][0]["pointer"].as_str()),
        (422, Some("/sections/1/questions/0/type")),
        "{body}"
    );
    // Several wrong types are listed together, each with its pointer.
    let mut q = example("typed");
    q["title"] = json!(5);
    q["sections"][0]["questions"][0]["type"] = json!("stars");
    q["sections"][1]["questions"][1]["required"] = json!("yes");
    q["sections"][1]["weight"] = json!("heavy");
    let (status, body) = app.post("/api/v1/questionnaires", &token, q).await;
    assert_eq!(status, 422, "{body}");
    let pointers = crate::helpers::pointers(&body);
    for pointer in [
        "/title",
        "/sections/0/questions/0/type",
        "/sections/1/questions/1/required",
        "/sections/1/weight",
    ] {
        assert!(pointers.contains(&pointer), "{pointer} in {body}");
    }
    // Nothing was stored.
    let list = app.get_ok("/api/v1/questionnaires", &token).await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn everyone_reads_published_versions_and_only_admins_write() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let published = app.published_questionnaire(&token, example("visit")).await;
    let published_path = format!("/api/v1/questionnaires/{published}");
    let draft = app
        .create_questionnaire(&token, example("draft-only"))
        .await;
    let draft_path = format!("/api/v1/questionnaires/{}", draft["id"].as_str().unwrap());

    let mut readers = Vec::new();
    for role in ["reviewer", "analyst", "manager", "shopper"] {
        let user = app.create_user(&token, role).await;
        readers.push((role.to_string(), app.access_token(&user).await));
    }
    let (id, secret) = app.create_client(&token, &["questionnaires:read"]).await;
    readers.push(("client".into(), app.client_token(&id, &secret).await));

    for (who, reader) in &readers {
        let (status, body) = app.get(&published_path, reader).await;
        assert_eq!(status, 200, "{who}: {body}");
        assert_eq!(
            app.get(&draft_path, reader).await.0,
            404,
            "{who} cannot see drafts"
        );
        let list = app.get_ok("/api/v1/questionnaires", reader).await;
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![published.as_str()], "{who}");
        for (method, path, body) in [
            (
                "POST",
                "/api/v1/questionnaires".to_string(),
                Some(example("mine")),
            ),
            ("PATCH", draft_path.clone(), Some(json!({"title": "x"}))),
            ("POST", format!("{draft_path}/publish"), None),
            ("POST", format!("{published_path}/retire"), None),
            (
                "POST",
                "/api/v1/questionnaires/visit/versions".to_string(),
                None,
            ),
        ] {
            let (status, response) = app.request(method, &path, reader, body).await;
            assert_eq!(status, 403, "{who} {method} {path}: {response}");
        }
    }
    // A client without the scope reads nothing.
    let (id, secret) = app.create_client(&token, &["reports:write"]).await;
    let unscoped = app.client_token(&id, &secret).await;
    assert_eq!(app.get(&published_path, &unscoped).await.0, 403);
    assert_eq!(app.get("/api/v1/questionnaires", &unscoped).await.0, 403);
}

#[actix_web::test]
async fn another_organizations_questionnaires_are_invisible() {
    let app = spawn_app().await;
    let acme = app.create_org_with_admin("Acme");
    let acme_token = app.access_token(&acme).await;
    let q = app
        .create_questionnaire(&acme_token, example("visit"))
        .await;
    let path = format!("/api/v1/questionnaires/{}", q["id"].as_str().unwrap());

    let globex = app.create_org_with_admin("Globex");
    let globex_token = app.access_token(&globex).await;
    for (method, suffix, body) in [
        ("GET", "", None),
        ("PATCH", "", Some(json!({"title": "Hijacked"}))),
        ("POST", "/publish", None),
        ("POST", "/retire", None),
    ] {
        let (status, _) = app
            .request(method, &format!("{path}{suffix}"), &globex_token, body)
            .await;
        assert_eq!(status, 404, "{method} {suffix}");
    }
    assert_eq!(
        app.post_empty("/api/v1/questionnaires/visit/versions", &globex_token)
            .await
            .0,
        404
    );
    let list = app.get_ok("/api/v1/questionnaires", &globex_token).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // The same key is free in another organization.
    assert_eq!(
        app.post("/api/v1/questionnaires", &globex_token, example("visit"))
            .await
            .0,
        201
    );
    let mine = app.get_ok(&path, &acme_token).await;
    assert_eq!(mine["status"], "draft");
    assert_ne!(mine["title"], "Hijacked");
}

#[actix_web::test]
async fn an_oversized_questionnaire_is_a_413() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let mut q = example("huge");
    q["description"] = json!("x".repeat(1100 * 1024));
    let (status, body) = app.post("/api/v1/questionnaires", &token, q).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}
