//! The audit log: every administrative change writes one entry in its own transaction
//! (who, when, what, the target before and after, never a secret), admins read it filtered
//! and paged, and another organization sees none of it. `AUDITED` and `NOT_AUDITED` name
//! every admin operation that changes something; the access matrix checks that none is
//! left out.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{World, world_with};
use crate::questionnaires::example;

/// The admin operations that write an entry, with the action it says.
pub const AUDITED: &[(&str, &str)] = &[
    ("POST /api/v1/users", "user.created"),
    ("PATCH /api/v1/users/{id}", "user.updated"),
    ("DELETE /api/v1/users/{id}", "user.deactivated"),
    ("POST /api/v1/users/{id}/erase", "user.erased"),
    ("PUT /api/v1/users/{id}/locations", "user.locations_set"),
    (
        "PUT /api/v1/users/{id}/excluded-locations",
        "user.exclusions_set",
    ),
    ("POST /api/v1/integration-clients", "client.created"),
    (
        "DELETE /api/v1/integration-clients/{id}",
        "client.deactivated",
    ),
    ("POST /api/v1/locations", "location.created"),
    ("PATCH /api/v1/locations/{id}", "location.updated"),
    ("POST /api/v1/locations/import", "locations.imported"),
    ("DELETE /api/v1/locations/{id}", "location.deactivated"),
    ("POST /api/v1/questionnaires", "questionnaire.created"),
    ("PATCH /api/v1/questionnaires/{id}", "questionnaire.updated"),
    (
        "POST /api/v1/questionnaires/{id}/publish",
        "questionnaire.published",
    ),
    (
        "POST /api/v1/questionnaires/{key}/versions",
        "questionnaire.version_created",
    ),
    (
        "PUT /api/v1/questionnaires/{id}/translations/{language}",
        "questionnaire.translation_stored",
    ),
    (
        "DELETE /api/v1/questionnaires/{id}/translations/{language}",
        "questionnaire.translation_removed",
    ),
    (
        "PUT /api/v1/questionnaires/{id}/translations/{language}/file",
        "questionnaire.translation_imported",
    ),
    (
        "POST /api/v1/questionnaires/{id}/retire",
        "questionnaire.retired",
    ),
    (
        "PUT /api/v1/programme/settings",
        "programme.settings_changed",
    ),
    (
        "PUT /api/v1/organization/settings",
        "organization.settings_changed",
    ),
    ("POST /api/v1/webhooks", "webhook.created"),
    ("PATCH /api/v1/webhooks/{id}", "webhook.updated"),
    (
        "POST /api/v1/webhooks/{id}/rotate-secret",
        "webhook.secret_rotated",
    ),
    ("DELETE /api/v1/webhooks/{id}", "webhook.deleted"),
    ("POST /api/v1/waves", "wave.created"),
    ("PATCH /api/v1/waves/{id}", "wave.updated"),
    ("POST /api/v1/waves/{id}/close", "wave.closed"),
];

/// The admin operations that write no entry, and why.
pub const NOT_AUDITED: &[(&str, &str)] = &[
    (
        "POST /api/v1/waves/{id}/assignments",
        "planning visits: each assignment's steps are its own events and history",
    ),
    (
        "POST /api/v1/waves/{id}/assignments/generate",
        "planning visits: each assignment's steps are its own events and history",
    ),
    (
        "PATCH /api/v1/assignments/{id}",
        "planning visits: each assignment's steps are its own events and history",
    ),
    (
        "POST /api/v1/assignments/{id}/cancel",
        "planning visits: each assignment's steps are its own events and history",
    ),
    (
        "POST /api/v1/webhooks/{id}/ping",
        "sends a test event; changes no setting",
    ),
    (
        "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        "sends an event again; changes no setting",
    ),
];

fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset))
        .date_naive()
        .to_string()
}

/// Runs one operation and checks it wrote exactly one entry, the newest, saying `action`
/// on `target` by the admin; answers the operation's body and the entry.
struct Log<'a> {
    w: &'a World,
    admin_id: String,
    seen: u64,
    done: Vec<&'static str>,
}

impl Log<'_> {
    async fn count(&self) -> u64 {
        let mut n = 0;
        let mut cursor = String::new();
        loop {
            let page = self
                .w
                .app
                .get_ok(
                    &format!("/api/v1/audit?limit=200{cursor}"),
                    &self.w.admin_token,
                )
                .await;
            n += page["items"].as_array().unwrap().len() as u64;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => return n,
            }
        }
    }

    async fn expect(
        &mut self,
        operation: &'static str,
        (status, body): (u16, Value),
        target_kind: &str,
    ) -> (Value, Value) {
        assert!((200..300).contains(&status), "{operation}: {status} {body}");
        let action = AUDITED
            .iter()
            .find(|(op, _)| *op == operation)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("{operation} is not in AUDITED"));
        let now = self.count().await;
        assert_eq!(now, self.seen + 1, "{operation} wrote one entry");
        self.seen = now;
        let newest = self
            .w
            .app
            .get_ok("/api/v1/audit?limit=1", &self.w.admin_token)
            .await;
        let entry = newest["items"][0].clone();
        assert_eq!(entry["action"], action, "{operation}: {entry}");
        assert_eq!(entry["target"]["kind"], target_kind, "{operation}: {entry}");
        assert_eq!(
            entry["actor"],
            json!({"kind": "user", "id": self.admin_id}),
            "{operation}"
        );
        let text = entry.to_string();
        for secret in ["whsec_", "smcs_", "password_hash", "argon2"] {
            assert!(
                !text.contains(secret),
                "{operation} logged a secret: {text}"
            );
        }
        self.done.push(operation);
        (body, entry)
    }
}

#[actix_web::test]
async fn every_admin_change_writes_one_entry_with_its_before_and_after() {
    let w = world_with(&[
        ("SECONDMILE_WEBHOOK_ALLOW_HTTP", "true"),
        ("SECONDMILE_WEBHOOK_ALLOW_PRIVATE", "true"),
    ])
    .await;
    let me = w.app.get_ok("/api/v1/me", &w.admin_token).await;
    let mut log = Log {
        w: &w,
        admin_id: me["id"].as_str().unwrap().to_string(),
        seen: 0,
        done: Vec::new(),
    };
    log.seen = log.count().await;
    assert!(
        log.seen >= 3,
        "the world's own setup was logged: {}",
        log.seen
    );
    let app = &w.app;
    let admin = w.admin_token.as_str();

    // Users.
    let (user, entry) = log
        .expect(
            "POST /api/v1/users",
            app.post(
                "/api/v1/users",
                admin,
                json!({"email": "mgr@acme.test", "display_name": "Mia", "role": "manager", "password": "manager passphrase 1"}),
            )
            .await,
            "user",
        )
        .await;
    assert_eq!(entry["before"], Value::Null);
    assert_eq!(entry["after"]["email"], "mgr@acme.test");
    let user_id = user["id"].as_str().unwrap().to_string();
    let (_, entry) = log
        .expect(
            "PATCH /api/v1/users/{id}",
            app.patch(
                &format!("/api/v1/users/{user_id}"),
                admin,
                json!({"display_name": "Mia Manager"}),
            )
            .await,
            "user",
        )
        .await;
    assert_eq!(entry["before"]["display_name"], "Mia");
    assert_eq!(entry["after"]["display_name"], "Mia Manager");
    assert_eq!(entry["target"]["id"], user_id.as_str());
    let (_, entry) = log
        .expect(
            "PUT /api/v1/users/{id}/locations",
            app.put(
                &format!("/api/v1/users/{user_id}/locations"),
                admin,
                json!({"location_ids": [w.location_id]}),
            )
            .await,
            "user",
        )
        .await;
    assert_eq!(entry["before"]["location_ids"], json!([]));
    assert_eq!(entry["after"]["location_ids"], json!([w.location_id]));
    log.expect(
        "PUT /api/v1/users/{id}/excluded-locations",
        app.put(
            &format!("/api/v1/users/{}/excluded-locations", w.shopper_id),
            admin,
            json!({"location_ids": [w.location_id]}),
        )
        .await,
        "user",
    )
    .await;
    let (_, entry) = log
        .expect(
            "DELETE /api/v1/users/{id}",
            app.delete(&format!("/api/v1/users/{user_id}"), admin).await,
            "user",
        )
        .await;
    assert_eq!(
        (&entry["before"]["active"], &entry["after"]["active"]),
        (&json!(true), &json!(false))
    );
    // Erased: the entry says so without personal data, and the earlier entries about them
    // keep what happened but no longer what their account said.
    let (_, entry) = log
        .expect(
            "POST /api/v1/users/{id}/erase",
            app.post_empty(&format!("/api/v1/users/{user_id}/erase"), admin)
                .await,
            "user",
        )
        .await;
    assert_eq!(
        entry["after"],
        json!({"role": "manager", "reports": 0, "files": 0})
    );
    let about = app
        .get_ok(&format!("/api/v1/audit?target_id={user_id}"), admin)
        .await;
    assert!(!about.to_string().contains("mgr@acme.test"), "{about}");

    // Integration clients: the secret is in the answer, never in the log.
    let (client, _) = log
        .expect(
            "POST /api/v1/integration-clients",
            app.post(
                "/api/v1/integration-clients",
                admin,
                json!({"name": "BI", "scopes": ["reports:read"]}),
            )
            .await,
            "client",
        )
        .await;
    assert!(client.to_string().contains("smcs_"), "{client}");
    let client_id = client["client"]["id"]
        .as_str()
        .or(client["id"].as_str())
        .unwrap()
        .to_string();
    log.expect(
        "DELETE /api/v1/integration-clients/{id}",
        app.delete(&format!("/api/v1/integration-clients/{client_id}"), admin)
            .await,
        "client",
    )
    .await;

    // Locations, one by one and imported.
    let (location, _) = log
        .expect(
            "POST /api/v1/locations",
            app.post(
                "/api/v1/locations",
                admin,
                json!({"code": "S-2", "name": "Baixa", "timezone": "Europe/Lisbon"}),
            )
            .await,
            "location",
        )
        .await;
    let location_id = location["id"].as_str().unwrap().to_string();
    let (_, entry) = log
        .expect(
            "PATCH /api/v1/locations/{id}",
            app.patch(
                &format!("/api/v1/locations/{location_id}"),
                admin,
                json!({"name": "Baixa Pombalina"}),
            )
            .await,
            "location",
        )
        .await;
    assert_eq!(
        (&entry["before"]["name"], &entry["after"]["name"]),
        (&json!("Baixa"), &json!("Baixa Pombalina"))
    );
    let csv = "code,name,timezone\nS-3,Rossio,Europe/Lisbon\nS-2,Baixa,Europe/Lisbon\n";
    let imported = app
        .send_file("POST", "/api/v1/locations/import", admin, "text/csv", csv)
        .await;
    let (_, entry) = log
        .expect("POST /api/v1/locations/import", imported, "organization")
        .await;
    assert_eq!(
        entry["after"],
        json!({"created": ["S-3"], "updated": ["S-2"], "skipped": 0})
    );
    log.expect(
        "DELETE /api/v1/locations/{id}",
        app.delete(&format!("/api/v1/locations/{location_id}"), admin)
            .await,
        "location",
    )
    .await;

    // Questionnaires: a draft, changed, published, a new version, the old one retired.
    let (draft, _) = log
        .expect(
            "POST /api/v1/questionnaires",
            app.post("/api/v1/questionnaires", admin, example("audit-visit"))
                .await,
            "questionnaire",
        )
        .await;
    let draft_id = draft["id"].as_str().unwrap().to_string();
    let (_, entry) = log
        .expect(
            "PATCH /api/v1/questionnaires/{id}",
            app.patch(
                &format!("/api/v1/questionnaires/{draft_id}"),
                admin,
                json!({"title": "Audited visit"}),
            )
            .await,
            "questionnaire",
        )
        .await;
    assert_eq!(entry["after"]["title"], "Audited visit");
    assert_ne!(entry["before"]["title"], "Audited visit");
    log.expect(
        "POST /api/v1/questionnaires/{id}/publish",
        app.post_empty(&format!("/api/v1/questionnaires/{draft_id}/publish"), admin)
            .await,
        "questionnaire",
    )
    .await;
    log.expect(
        "POST /api/v1/questionnaires/{key}/versions",
        app.post_empty("/api/v1/questionnaires/audit-visit/versions", admin)
            .await,
        "questionnaire",
    )
    .await;
    // A translation of the published version: stored, corrected, removed.
    let translation = format!("/api/v1/questionnaires/{draft_id}/translations/de");
    log.expect(
        "PUT /api/v1/questionnaires/{id}/translations/{language}",
        app.put(
            &translation,
            admin,
            json!({"texts": {"title": "Geprüfter Besuch"}}),
        )
        .await,
        "questionnaire",
    )
    .await;
    let (_, entry) = log
        .expect(
            "PUT /api/v1/questionnaires/{id}/translations/{language}",
            app.put(&translation, admin, json!({"texts": {"title": "Besuch"}}))
                .await,
            "questionnaire",
        )
        .await;
    assert_eq!(entry["before"]["texts"]["title"], "Geprüfter Besuch");
    assert_eq!(entry["after"]["texts"]["title"], "Besuch");
    let file = "key,de\r\ntitle,Besuch vor Ort\r\n";
    let imported = app
        .send_file(
            "PUT",
            &format!("{translation}/file"),
            admin,
            "text/csv",
            file,
        )
        .await;
    let (_, entry) = log
        .expect(
            "PUT /api/v1/questionnaires/{id}/translations/{language}/file",
            imported,
            "questionnaire",
        )
        .await;
    assert_eq!(entry["after"]["texts"]["title"], "Besuch vor Ort");
    log.expect(
        "DELETE /api/v1/questionnaires/{id}/translations/{language}",
        app.delete(&translation, admin).await,
        "questionnaire",
    )
    .await;
    let (_, entry) = log
        .expect(
            "POST /api/v1/questionnaires/{id}/retire",
            app.post_empty(&format!("/api/v1/questionnaires/{draft_id}/retire"), admin)
                .await,
            "questionnaire",
        )
        .await;
    assert_eq!(
        (&entry["before"]["status"], &entry["after"]["status"]),
        (&json!("published"), &json!("retired"))
    );

    // Settings.
    let (_, entry) = log
        .expect(
            "PUT /api/v1/programme/settings",
            app.put(
                "/api/v1/programme/settings",
                admin,
                json!({"lockout_days": 30, "max_visits_per_location_per_year": 6}),
            )
            .await,
            "organization",
        )
        .await;
    assert_eq!(entry["after"]["lockout_days"], 30);
    let (_, entry) = log
        .expect(
            "PUT /api/v1/organization/settings",
            app.put(
                "/api/v1/organization/settings",
                admin,
                json!({"appeal_window_days": 21}),
            )
            .await,
            "organization",
        )
        .await;
    assert_eq!(
        (
            &entry["before"]["appeal_window_days"],
            &entry["after"]["appeal_window_days"]
        ),
        (&json!(14), &json!(21))
    );

    // Webhooks: secrets are in answers only.
    let (hook, _) = log
        .expect(
            "POST /api/v1/webhooks",
            app.post(
                "/api/v1/webhooks",
                admin,
                json!({"url": "http://127.0.0.1:9/hook", "event_types": ["report.approved"]}),
            )
            .await,
            "webhook",
        )
        .await;
    assert!(hook.to_string().contains("whsec_"), "{hook}");
    let hook_id = hook["webhook"]["id"].as_str().unwrap().to_string();
    log.expect(
        "PATCH /api/v1/webhooks/{id}",
        app.patch(
            &format!("/api/v1/webhooks/{hook_id}"),
            admin,
            json!({"description": "BI"}),
        )
        .await,
        "webhook",
    )
    .await;
    let (rotated, _) = log
        .expect(
            "POST /api/v1/webhooks/{id}/rotate-secret",
            app.post(
                &format!("/api/v1/webhooks/{hook_id}/rotate-secret"),
                admin,
                json!({}),
            )
            .await,
            "webhook",
        )
        .await;
    assert!(rotated.to_string().contains("whsec_"), "{rotated}");
    let (_, entry) = log
        .expect(
            "DELETE /api/v1/webhooks/{id}",
            app.delete(&format!("/api/v1/webhooks/{hook_id}"), admin)
                .await,
            "webhook",
        )
        .await;
    assert_eq!(entry["after"], Value::Null);
    assert_eq!(entry["before"]["description"], "BI");

    // Waves.
    let (wave, _) = log
        .expect(
            "POST /api/v1/waves",
            app.post(
                "/api/v1/waves",
                admin,
                json!({"name": "Spring", "starts_on": day(3), "ends_on": day(30), "questionnaire_key": "store-visit", "visits_per_location": 1}),
            )
            .await,
            "wave",
        )
        .await;
    let wave_id = wave["id"].as_str().unwrap().to_string();
    log.expect(
        "PATCH /api/v1/waves/{id}",
        app.patch(
            &format!("/api/v1/waves/{wave_id}"),
            admin,
            json!({"name": "Spring, first half"}),
        )
        .await,
        "wave",
    )
    .await;
    log.expect(
        "POST /api/v1/waves/{id}/close",
        app.post_empty(&format!("/api/v1/waves/{wave_id}/close"), admin)
            .await,
        "wave",
    )
    .await;

    // Every audited operation was exercised here.
    let missing: Vec<&str> = AUDITED
        .iter()
        .map(|(op, _)| *op)
        .filter(|op| !log.done.contains(op))
        .collect();
    assert!(missing.is_empty(), "not exercised: {missing:?}");

    // Filters: by action, by target, by actor, by time.
    let only = app
        .get_ok("/api/v1/audit?action=location.updated", admin)
        .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1, "{only}");
    let target = app
        .get_ok(&format!("/api/v1/audit?target_id={user_id}"), admin)
        .await;
    assert_eq!(target["items"].as_array().unwrap().len(), 5, "{target}");
    let kind = app.get_ok("/api/v1/audit?target_kind=webhook", admin).await;
    assert_eq!(kind["items"].as_array().unwrap().len(), 4, "{kind}");
    let mine = app
        .get_ok(
            &format!("/api/v1/audit?actor_id={}&limit=200", log.admin_id),
            admin,
        )
        .await;
    assert!(mine["items"].as_array().unwrap().len() >= AUDITED.len());
    let later = app
        .get_ok(
            &format!(
                "/api/v1/audit?from={}",
                (Utc::now() + Duration::hours(1))
                    .to_rfc3339()
                    .replace('+', "%2B")
            ),
            admin,
        )
        .await;
    assert_eq!(later["items"], json!([]));
    for (query, pointer) in [
        ("actor_id=nobody", "/query/actor_id"),
        ("target_id=x", "/query/target_id"),
        (
            "action=user.createdxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "/query/action",
        ),
        (
            "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
            "/query/to",
        ),
    ] {
        let (status, problem) = app.get(&format!("/api/v1/audit?{query}"), admin).await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }

    // Another organization's admin sees none of it.
    let other = app.create_org_with_admin("Globex");
    let other_token = app.access_token(&other).await;
    let theirs = app.get_ok("/api/v1/audit?limit=200", &other_token).await;
    assert_eq!(theirs["items"], json!([]), "{theirs}");
}

#[actix_web::test]
async fn a_refused_change_writes_no_entry() {
    let w = world_with(&[]).await;
    let before = w
        .app
        .get_ok("/api/v1/audit?limit=200", &w.admin_token)
        .await["items"]
        .as_array()
        .unwrap()
        .len();
    let (status, _) = w
        .app
        .post(
            "/api/v1/locations",
            &w.admin_token,
            json!({"code": "S-1", "name": "Again", "timezone": "Europe/Lisbon"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = w
        .app
        .put(
            "/api/v1/organization/settings",
            &w.admin_token,
            json!({"appeal_window_days": 0}),
        )
        .await;
    assert_eq!(status, 422);
    let after = w
        .app
        .get_ok("/api/v1/audit?limit=200", &w.admin_token)
        .await["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}
