//! Locations: CRUD, filters, pagination, CSV import, manager scoping, roles and tenants.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn import(app: &TestApp, token: &str, csv: &str, partial: bool) -> (u16, Value) {
    let path = if partial {
        "/api/v1/locations/import?partial=true"
    } else {
        "/api/v1/locations/import"
    };
    let mut response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .insert_header(("content-type", "text/csv"))
        .send_body(csv.to_string())
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(&response.body().await.unwrap()).unwrap(),
    )
}

fn location(code: &str, region: &str, tags: &[&str]) -> Value {
    json!({
        "code": code, "name": format!("Store {code}"), "address_lines": ["Rua Garrett 10"],
        "city": "Lisboa", "country": "PT", "region": region, "timezone": "Europe/Lisbon",
        "latitude": 38.711, "longitude": -9.142, "tags": tags,
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/locations", token, body).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[actix_web::test]
async fn an_admin_creates_changes_and_deactivates_locations() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;

    let created = create(&app, &token, location("S-0042", "Lisbon", &["Flagship"])).await;
    assert_eq!(created["tags"], json!(["flagship"]));
    assert_eq!(created["active"], true);
    let path = format!("/api/v1/locations/{}", created["id"].as_str().unwrap());

    let (status, body) = app
        .post(
            "/api/v1/locations",
            &token,
            location("S-0042", "North", &[]),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("code_taken")));

    let (status, changed) = app
        .patch(
            &path,
            &token,
            json!({"name": "Chiado", "latitude": null, "longitude": null, "region": null}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Chiado");
    assert!(changed["latitude"].is_null() && changed["region"].is_null());
    assert_eq!(changed["city"], "Lisboa", "absent fields stay");
    let (status, body) = app.patch(&path, &token, json!({"latitude": 10.0})).await;
    assert_eq!(
        (status, body["errors"][0]["pointer"].as_str()),
        (422, Some("/longitude"))
    );

    assert_eq!(app.delete(&path, &token).await.0, 204);
    let fetched = app.get_ok(&path, &token).await;
    assert_eq!(fetched["active"], false, "deactivated, never removed");
    let (status, reactivated) = app.patch(&path, &token, json!({"active": true})).await;
    assert_eq!(status, 200, "{reactivated}");
    assert_eq!(reactivated["active"], true);
}

#[actix_web::test]
async fn invalid_locations_are_refused_with_every_violation() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let (status, body) = app.post("/api/v1/locations", &token, json!({"code": "", "name": "X", "country": "XX", "timezone": "Mars/Olympus", "latitude": 95, "longitude": 0}))
    .await;
    assert_eq!(status, 422, "{body}");
    let pointers = crate::helpers::pointers(&body);
    for p in ["/code", "/country", "/timezone", "/latitude"] {
        assert!(pointers.contains(&p), "{p} in {pointers:?}");
    }
    let (status, body) = app
        .post(
            "/api/v1/locations",
            &token,
            json!({"code": "a", "name": "b", "timezone": "UTC", "org_id": admin.org_id}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("unknown_field"))
    );
}

#[actix_web::test]
async fn the_name_search_ignores_case_beyond_ascii() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let mut evora = location("E-1", "South", &[]);
    evora["name"] = json!("Loja Évora Ünterstraße");
    create(&app, &token, evora).await;
    create(&app, &token, location("N-1", "North", &[])).await;
    // The same on both backends: simple case mapping, as PostgreSQL's lower().
    for q in [
        "%C3%89VORA",
        "%C3%A9vora",
        "%C3%9CNTERSTRA%C3%9FE",
        "%C3%BCnter",
    ] {
        let page = app
            .get_ok(&format!("/api/v1/locations?q={q}"), &token)
            .await;
        let codes: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["E-1"], "search for {q}: {page}");
    }
}

#[actix_web::test]
async fn locations_are_filtered_and_paged() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    create(&app, &token, location("N-1", "North", &["mall"])).await;
    create(&app, &token, location("N-2", "North", &["street"])).await;
    let s1 = create(
        &app,
        &token,
        location("S-1", "South", &["mall", "flagship"]),
    )
    .await;
    create(&app, &token, location("S_2", "South", &[])).await;
    let (status, _) = app
        .delete(
            &format!("/api/v1/locations/{}", s1["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(status, 204);

    let codes = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["code"].as_str().unwrap().to_string())
            .collect()
    };
    let p = app.get_ok("/api/v1/locations?region=North", &token).await;
    assert_eq!(codes(&p), ["N-1", "N-2"]);
    let p = app.get_ok("/api/v1/locations?tag=mall", &token).await;
    assert_eq!(codes(&p), ["N-1", "S-1"]);
    let p = app
        .get_ok("/api/v1/locations?tag=mall&active=true", &token)
        .await;
    assert_eq!(codes(&p), ["N-1"]);
    let p = app.get_ok("/api/v1/locations?code=S_2", &token).await;
    assert_eq!(codes(&p), ["S_2"]);
    let p = app.get_ok("/api/v1/locations?q=store%20s", &token).await;
    assert_eq!(codes(&p), ["S-1", "S_2"], "case-insensitive name search");
    let p = app.get_ok("/api/v1/locations?q=_", &token).await;
    assert_eq!(
        codes(&p),
        ["S_2"],
        "LIKE wildcards in the search are literal"
    );

    let first = app.get_ok("/api/v1/locations?limit=3", &token).await;
    assert_eq!(codes(&first).len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_ok(
            &format!("/api/v1/locations?limit=3&cursor={cursor}"),
            &token,
        )
        .await;
    assert_eq!(codes(&second), ["S_2"]);
    assert!(second["next_cursor"].is_null());
}

#[actix_web::test]
async fn a_csv_import_is_all_or_nothing_unless_partial() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    create(&app, &token, location("S-1", "Old region", &[])).await;

    let csv = "code,name,address_line1,city,country,region,timezone,latitude,longitude,tags\n\
               S-1,Chiado,Rua Garrett 10,Lisboa,PT,Lisbon,Europe/Lisbon,38.711,-9.142,flagship;mall\n\
               S-2,Baixa,,Lisboa,PT,Lisbon,Europe/Lisbon,,,\n\
               S-3,Broken,,,ZZ,,Nowhere/Town,abc,,\n";
    let (status, body) = import(&app, &token, csv, false).await;
    assert_eq!(status, 422, "{body}");
    let pointers = crate::helpers::pointers(&body);
    for p in ["/rows/3/country", "/rows/3/timezone", "/rows/3/latitude"] {
        assert!(pointers.contains(&p), "{p} in {pointers:?}");
    }
    // Nothing was written.
    let list = app.get_ok("/api/v1/locations", &token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["region"], "Old region");

    let (status, report) = import(&app, &token, csv, true).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["created"].as_u64(),
            report["updated"].as_u64(),
            report["skipped"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(report["rows"][0]["outcome"], "updated");
    assert_eq!(report["rows"][2]["outcome"], "skipped");
    assert!(!report["rows"][2]["errors"].as_array().unwrap().is_empty());
    let list = app.get_ok("/api/v1/locations?region=Lisbon", &token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["tags"], json!(["flagship", "mall"]));

    // The same file again, valid rows only, updates in place.
    let (status, report) = import(
        &app,
        &token,
        &csv.lines().take(3).collect::<Vec<_>>().join("\n"),
        false,
    )
    .await;
    assert_eq!((status, report["updated"].as_u64()), (200, Some(2)));

    let (status, body) = import(&app, &token, "code,nom,timezone\nA,B,UTC\n", false).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("unknown_column"))
    );
    let mut response = app
        .client
        .post(app.url("/api/v1/locations/import"))
        .bearer_auth(&token)
        .send_json(&json!({"code": "x"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let _ = response.body().await;
}

#[actix_web::test]
async fn managers_see_only_their_locations() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let mine = create(&app, &token, location("M-1", "North", &[])).await;
    let other = create(&app, &token, location("M-2", "North", &[])).await;
    let manager = app.create_user(&token, "manager").await;
    let manager_token = app.access_token(&manager).await;

    // Without locations a manager sees nothing.
    let list = app.get_ok("/api/v1/locations", &manager_token).await;
    assert!(list["items"].as_array().unwrap().is_empty());

    let assign_path = format!("/api/v1/users/{}/locations", manager.id);
    let (status, assigned) = app
        .put(&assign_path, &token, json!({"location_ids": [mine["id"]]}))
        .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["location_ids"], json!([mine["id"]]));
    let read_back = app.get_ok(&assign_path, &token).await;
    assert_eq!(read_back, assigned);

    let list = app.get_ok("/api/v1/locations", &manager_token).await;
    let ids: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["id"])
        .collect();
    assert_eq!(ids, vec![&mine["id"]]);
    let mine_path = format!("/api/v1/locations/{}", mine["id"].as_str().unwrap());
    let other_path = format!("/api/v1/locations/{}", other["id"].as_str().unwrap());
    assert_eq!(app.get(&mine_path, &manager_token).await.0, 200);
    assert_eq!(app.get(&other_path, &manager_token).await.0, 404);

    // Unknown or foreign ids are refused, each with its pointer; a non-manager gets none.
    let (status, body) = app
        .put(
            &assign_path,
            &token,
            json!({"location_ids": [mine["id"], uuid::Uuid::now_v7()]}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["pointer"].as_str()),
        (422, Some("/location_ids/1"))
    );
    let shopper = app.create_user(&token, "shopper").await;
    let (status, body) = app
        .put(
            &format!("/api/v1/users/{}/locations", shopper.id),
            &token,
            json!({"location_ids": []}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("not_a_manager"))
    );
}

#[actix_web::test]
async fn location_endpoints_enforce_roles_and_tenants() {
    let app = spawn_app().await;
    let admin = app.create_org_with_admin("Acme");
    let token = app.access_token(&admin).await;
    let loc = create(&app, &token, location("R-1", "North", &[])).await;
    let path = format!("/api/v1/locations/{}", loc["id"].as_str().unwrap());
    let manager = app.create_user(&token, "manager").await;

    let mut callers = Vec::new();
    for role in ["reviewer", "analyst", "shopper", "manager"] {
        let user = app.create_user(&token, role).await;
        callers.push((role.to_string(), app.access_token(&user).await));
    }
    let (id, secret) = app.create_client(&token, &["locations:read"]).await;
    callers.push(("client".into(), app.client_token(&id, &secret).await));

    for (who, caller) in &callers {
        let expected_read = if who == "manager" { 404 } else { 200 };
        assert_eq!(app.get(&path, caller).await.0, expected_read, "{who}");
        assert_eq!(app.get("/api/v1/locations", caller).await.0, 200, "{who}");
        for (method, p, body) in [
            (
                "POST",
                "/api/v1/locations".to_string(),
                Some(location("X-1", "x", &[])),
            ),
            ("PATCH", path.clone(), Some(json!({"name": "x"}))),
            ("DELETE", path.clone(), None),
            (
                "GET",
                format!("/api/v1/users/{}/locations", manager.id),
                None,
            ),
            (
                "PUT",
                format!("/api/v1/users/{}/locations", manager.id),
                Some(json!({"location_ids": []})),
            ),
        ] {
            let (status, response) = app.request(method, &p, caller, body).await;
            assert_eq!(status, 403, "{who} {method} {p}: {response}");
        }
        let (status, _) = import(&app, caller, "code,name,timezone\nA,B,UTC\n", false).await;
        assert_eq!(status, 403, "{who} import");
    }
    let (id, secret) = app.create_client(&token, &["reports:write"]).await;
    let unscoped = app.client_token(&id, &secret).await;
    assert_eq!(app.get("/api/v1/locations", &unscoped).await.0, 403);

    // Another organization sees none of it.
    let globex = app.create_org_with_admin("Globex");
    let globex_token = app.access_token(&globex).await;
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"name": "Hijacked"}))),
        ("DELETE", None),
    ] {
        assert_eq!(
            app.request(method, &path, &globex_token, body).await.0,
            404,
            "{method}"
        );
    }
    let (status, _) = app
        .put(
            &format!("/api/v1/users/{}/locations", manager.id),
            &globex_token,
            json!({"location_ids": []}),
        )
        .await;
    assert_eq!(status, 404);
    let globex_manager = app.create_user(&globex_token, "manager").await;
    let (status, body) = app
        .put(
            &format!("/api/v1/users/{}/locations", globex_manager.id),
            &globex_token,
            json!({"location_ids": [loc["id"]]}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("unknown_location"))
    );
    let list = app.get_ok("/api/v1/locations", &globex_token).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // The same code is free in another organization.
    create(&app, &globex_token, location("R-1", "North", &[])).await;
    let still = app.get_ok(&path, &token).await;
    assert_eq!(
        (still["name"].as_str(), still["active"].as_bool()),
        (Some("Store R-1"), Some(true))
    );
}

/// Writes arriving together are committed together (SQLite groups them into one
/// transaction, each in a savepoint): one that fails leaves the others whole.
#[actix_web::test]
async fn concurrent_creations_with_clashing_codes_keep_every_valid_one_and_refuse_the_rest() {
    let w = crate::helpers::world().await;
    let app = &w.app;
    let before: Value = app
        .get_ok("/api/v1/locations?limit=200", &w.admin_token)
        .await;
    let before = before["items"].as_array().unwrap().len();
    let calls = (0..24).map(|i| {
        let body = json!({
            "code": format!("CLASH-{}", i % 12),
            "name": format!("Clash {i}"),
            "timezone": "Europe/Lisbon",
        });
        app.post("/api/v1/locations", &w.admin_token, body)
    });
    let answers = futures_util::future::join_all(calls).await;
    let status = |s: u16| answers.iter().filter(|(got, _)| *got == s).count();
    assert_eq!((status(201), status(409)), (12, 12), "{answers:?}");
    let after: Value = app
        .get_ok("/api/v1/locations?limit=200", &w.admin_token)
        .await;
    let codes: Vec<&str> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["code"].as_str())
        .filter(|c| c.starts_with("CLASH-"))
        .collect();
    let distinct: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!((codes.len(), distinct.len()), (12, 12));
    assert_eq!(after["items"].as_array().unwrap().len(), before + 12);
}
