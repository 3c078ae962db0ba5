//! Translations of a questionnaire version: checked against the version (unknown keys,
//! empty and too long texts, lost placeholders, every violation listed), stored on a
//! published version without a new version, listed with their coverage, removed; and a
//! version read in the reader's language (`?language=`, `Accept-Language` with RFC 4647
//! lookup, else the source), with `Content-Language`. Tenants never see each other's.

use serde_json::{Value, json};

use crate::helpers::{World, pointers, world};

fn path(w: &World, language: &str) -> String {
    format!(
        "/api/v1/questionnaires/{}/translations/{language}",
        w.questionnaire_id
    )
}

async fn read_in(w: &World, query: &str, accept: Option<&str>) -> (String, Value) {
    let mut request = w
        .app
        .client
        .get(w.app.url(&format!(
            "/api/v1/questionnaires/{}{query}",
            w.questionnaire_id
        )))
        .bearer_auth(&w.shopper_token);
    if let Some(accept) = accept {
        request = request.insert_header(("accept-language", accept));
    }
    let mut response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let language = response
        .headers()
        .get("content-language")
        .expect("Content-Language")
        .to_str()
        .unwrap()
        .to_string();
    let body = crate::helpers::json_body(&mut response).await;
    assert_eq!(body["language"], language.as_str());
    (language, body)
}

/// The records of a report export (`query` after `?`) as the admin; 200 asserted.
async fn export(w: &World, query: &str) -> Vec<Vec<String>> {
    let mut response = w
        .app
        .client
        .get(w.app.url(&format!("/api/v1/exports/reports.csv?{query}")))
        .bearer_auth(&w.admin_token)
        .send()
        .await
        .unwrap();
    let body = response.body().limit(1 << 20).await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{query}");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&body[..])
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn question<'a>(q: &'a Value, key: &str) -> &'a Value {
    q["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["questions"].as_array().unwrap())
        .find(|x| x["key"] == key)
        .unwrap()
}

#[actix_web::test]
async fn a_translation_is_checked_against_its_version_and_every_violation_listed() {
    let w = world().await;
    let (status, problem) = w
        .app
        .put(
            &path(&w, "de"),
            &w.admin_token,
            json!({"texts": {
                "title": "  ",
                "questions.nope.text": "Gibt es nicht",
                "questions.greeted.text": "x".repeat(1001),
                "questions.had_issue.options.maybe.label": "Vielleicht"
            }}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/texts/questions.greeted.text",
            "/texts/questions.had_issue.options.maybe.label",
            "/texts/questions.nope.text",
            "/texts/title"
        ]
    );
    let codes: Vec<&str> = problem["violations"]
        .as_array()
        .or(problem["errors"].as_array())
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["too_long", "unknown_key", "unknown_key", "empty"]);
    for (language, code) in [("de_DE", "invalid_language"), ("en", "source_language")] {
        let (status, problem) = w
            .app
            .put(
                &path(&w, language),
                &w.admin_token,
                json!({"texts": {"title": "T"}}),
            )
            .await;
        assert_eq!(status, 422, "{language}: {problem}");
        assert!(problem.to_string().contains(code), "{language}: {problem}");
    }
    // Nothing was stored.
    let list = w
        .app
        .get_ok(
            &format!("/api/v1/questionnaires/{}/translations", w.questionnaire_id),
            &w.shopper_token,
        )
        .await;
    assert_eq!(
        list,
        json!({"questionnaire_id": w.questionnaire_id, "source_language": "en", "items": []})
    );

    // A partial translation of the published version: stored, its gaps listed.
    let (status, stored) = w
        .app
        .put(
            &path(&w, "DE"),
            &w.admin_token,
            json!({"texts": {"title": "Ladenbesuch", "questions.greeted.text": "Wurden Sie innerhalb einer Minute begrüßt?", "questions.had_issue.options.yes.label": "Ja"}}),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["language"], "de");
    assert_eq!(stored["translated"], 3);
    let total = stored["total"].as_u64().unwrap();
    assert!(total > 20, "{stored}");
    let missing = stored["missing"].as_array().unwrap();
    assert_eq!(missing.len() as u64, total - 3);
    assert!(missing.contains(&json!("questions.smiled.text")));
    assert!(!missing.contains(&json!("title")));
    assert_eq!(stored["source"].as_object().unwrap().len() as u64, total);
    assert_eq!(
        stored["source"]["title"],
        json!(
            w.app
                .get_ok(
                    &format!("/api/v1/questionnaires/{}", w.questionnaire_id),
                    &w.admin_token
                )
                .await["title"]
        )
    );

    // Listed with its coverage; read by any role; another organization sees nothing.
    let list = w
        .app
        .get_ok(
            &format!("/api/v1/questionnaires/{}/translations", w.questionnaire_id),
            &w.shopper_token,
        )
        .await;
    assert_eq!(list["items"][0]["language"], "de");
    assert_eq!(list["items"][0]["translated"], 3);
    let one = w.app.get_ok(&path(&w, "de"), &w.shopper_token).await;
    assert_eq!(one["texts"]["title"], "Ladenbesuch");
    let other = w.app.create_org_with_admin("Globex");
    let other_token = w.app.access_token(&other).await;
    for (status, _) in [
        w.app.get(&path(&w, "de"), &other_token).await,
        w.app
            .put(
                &path(&w, "fr"),
                &other_token,
                json!({"texts": {"title": "Visite"}}),
            )
            .await,
        w.app.delete(&path(&w, "de"), &other_token).await,
    ] {
        assert_eq!(status, 404);
    }

    // Removed: gone, and removing again is a 404.
    let (status, _) = w.app.delete(&path(&w, "de"), &w.admin_token).await;
    assert_eq!(status, 204);
    let (status, _) = w.app.get(&path(&w, "de"), &w.shopper_token).await;
    assert_eq!(status, 404);
    let (status, _) = w.app.delete(&path(&w, "de"), &w.admin_token).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn a_placeholder_of_the_source_must_stay_in_the_translation() {
    let w = world().await;
    let mut q = crate::questionnaires::example("placeholders");
    q["sections"][0]["questions"][0]["help"] = json!("Count from the door of {store}.");
    q["source_language"] = json!("EN-gb");
    let id = w.app.published_questionnaire(&w.admin_token, q).await;
    let read = w
        .app
        .get_ok(&format!("/api/v1/questionnaires/{id}"), &w.admin_token)
        .await;
    assert_eq!(read["source_language"], "en-GB");
    let key = format!(
        "questions.{}.help",
        read["sections"][0]["questions"][0]["key"].as_str().unwrap()
    );
    let url = format!("/api/v1/questionnaires/{id}/translations/de");
    let (status, problem) = w
        .app
        .put(
            &url,
            &w.admin_token,
            json!({"texts": {key.clone(): "Ab der Tür zählen."}}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem.to_string().contains("missing_placeholder"),
        "{problem}"
    );
    let (status, stored) = w
        .app
        .put(
            &url,
            &w.admin_token,
            json!({"texts": {key: "Ab der Tür von {store} zählen."}}),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
}

#[actix_web::test]
async fn a_version_is_read_in_the_best_of_its_languages() {
    let w = world().await;
    for (language, title, greeted) in [
        ("de", "Ladenbesuch", "Wurden Sie begrüßt?"),
        ("ja", "店舗訪問", "挨拶されましたか？"),
    ] {
        let (status, stored) = w
            .app
            .put(
                &path(&w, language),
                &w.admin_token,
                json!({"texts": {"title": title, "questions.greeted.text": greeted}}),
            )
            .await;
        assert_eq!(status, 200, "{stored}");
    }
    let (_, source) = read_in(&w, "", None).await;
    let english = source["title"].as_str().unwrap().to_string();
    for (query, accept, language, title) in [
        ("", Some("de-AT"), "de", "Ladenbesuch"),
        ("", Some("ja"), "ja", "店舗訪問"),
        ("", Some("fr-FR, fr;q=0.9"), "en", english.as_str()),
        ("", Some("fr;q=1, ja;q=0.5, de;q=0.2"), "ja", "店舗訪問"),
        ("", Some("*"), "en", english.as_str()),
        ("", None, "en", english.as_str()),
        ("?language=de", Some("ja"), "de", "Ladenbesuch"),
        ("?language=pt-BR", Some("ja"), "en", english.as_str()),
    ] {
        let (got, body) = read_in(&w, query, accept).await;
        assert_eq!(
            (got.as_str(), body["title"].as_str().unwrap()),
            (language, title),
            "{query} {accept:?}"
        );
        assert_eq!(body["source_language"], "en");
    }
    // Only texts change: keys, values, points and rules are the source's.
    let (_, german) = read_in(&w, "?language=de", None).await;
    assert_eq!(question(&german, "greeted")["text"], "Wurden Sie begrüßt?");
    let mut same = german.clone();
    let mut original = source.clone();
    for v in [&mut same, &mut original] {
        v["title"] = json!("");
        v["language"] = json!("");
        for s in v["sections"].as_array_mut().unwrap() {
            for q in s["questions"].as_array_mut().unwrap() {
                q["text"] = json!("");
            }
        }
    }
    assert_eq!(same, original);
    let (status, problem) = w
        .app
        .get(
            &format!(
                "/api/v1/questionnaires/{}?language=not_a_tag",
                w.questionnaire_id
            ),
            &w.shopper_token,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
}

#[actix_web::test]
async fn the_readers_preferred_language_wins_over_the_header() {
    let w = world().await;
    for (language, title) in [("de", "Ladenbesuch"), ("ja", "店舗訪問")] {
        let (status, stored) = w
            .app
            .put(
                &path(&w, language),
                &w.admin_token,
                json!({"texts": {"title": title}}),
            )
            .await;
        assert_eq!(status, 200, "{stored}");
    }
    // The shopper sets Japanese for themselves.
    let (status, me) = w
        .app
        .patch(
            "/api/v1/me",
            &w.shopper_token,
            json!({"preferred_language": "JA"}),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["preferred_language"], "ja");
    let me = w.app.get_ok("/api/v1/me", &w.shopper_token).await;
    assert_eq!(me["preferred_language"], "ja");
    assert_eq!(read_in(&w, "", Some("de")).await.0, "ja");
    assert_eq!(read_in(&w, "?language=de", Some("de")).await.0, "de");
    // An admin sets it for them; a region finds its language.
    let (status, user) = w
        .app
        .patch(
            &format!("/api/v1/users/{}", w.shopper_id),
            &w.admin_token,
            json!({"preferred_language": "de-at"}),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["preferred_language"], "de-AT");
    assert_eq!(read_in(&w, "", Some("ja")).await.0, "de");
    // Cleared: the header decides again.
    let (status, me) = w
        .app
        .patch(
            "/api/v1/me",
            &w.shopper_token,
            json!({"preferred_language": null}),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["preferred_language"], Value::Null);
    assert_eq!(read_in(&w, "", Some("ja")).await.0, "ja");
    // Not a tag: refused, nothing changed.
    let (status, problem) = w
        .app
        .patch(
            "/api/v1/me",
            &w.shopper_token,
            json!({"preferred_language": "x"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/preferred_language"]);
    let (status, problem) = w
        .app
        .patch("/api/v1/me", &w.shopper_token, json!({"theme": "dark"}))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem.to_string().contains("unknown_field"), "{problem}");
}

#[actix_web::test]
async fn a_report_answered_in_japanese_scores_and_counts_with_one_in_english() {
    let w = world().await;
    let (status, stored) = w
        .app
        .put(
            &path(&w, "ja"),
            &w.admin_token,
            json!({"texts": {
                "title": "店舗訪問",
                "sections.arrival.title": "入店と挨拶",
                "questions.greeted.text": "挨拶されましたか？"
            }}),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    let mut english = crate::helpers::report(&w);
    english["language"] = json!("en");
    let mut japanese = crate::helpers::report(&w);
    japanese["language"] = json!("ja-jp");
    japanese["narrative"] = json!("すぐに挨拶されました。");
    let english = crate::aggregates::approved(&w, &english).await;
    let japanese = crate::aggregates::approved(&w, &japanese).await;
    assert_eq!(japanese["language"], "ja-JP");
    assert_eq!(english["language"], "en");
    assert_eq!(japanese["score"], english["score"]);
    assert_eq!(
        japanese["narrative"], "すぐに挨拶されました。",
        "free text stays as written"
    );
    let read = w
        .app
        .get_ok(
            &format!("/api/v1/reports/{}", japanese["id"].as_str().unwrap()),
            &w.admin_token,
        )
        .await;
    assert_eq!(read["language"], "ja-JP");
    let summary = w
        .app
        .get_ok(
            &format!("/api/v1/locations/{}/summary", w.location_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(summary["figures"]["visits"], 2, "{summary}");
    assert_eq!(
        summary["figures"]["mean_score"], english["score"]["overall"],
        "{summary}"
    );
    // The export names the language of each report; its columns keep their keys, and a
    // header language adds readers' labels.
    let reports = export(&w, "questionnaire_key=store-visit&header_language=ja").await;
    let (header, labels) = (&reports[0], &reports[1]);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(labels[at("section_arrival")], "入店と挨拶");
    assert_eq!(
        labels[at("section_service")],
        "Service",
        "the source where untranslated"
    );
    assert_eq!(labels[at("report_id")], "");
    let mut languages: Vec<&str> = reports[2..]
        .iter()
        .map(|r| r[at("language")].as_str())
        .collect();
    languages.sort();
    assert_eq!(languages, ["en", "ja-JP"]);
    let answers = export(&w, "layout=answers&header_language=ja-JP").await;
    let at = |name: &str| answers[0].iter().position(|h| h == name).unwrap();
    let text_of = |key: &str| {
        answers[1..]
            .iter()
            .find(|r| r[at("question")] == key)
            .map(|r| r[at("question_text")].clone())
    };
    assert_eq!(text_of("greeted").as_deref(), Some("挨拶されましたか？"));
    assert_eq!(
        text_of("eye_contact").as_deref(),
        Some("Did the employee make eye contact?")
    );
    let plain = export(&w, "layout=answers").await;
    assert!(!plain[0].contains(&"question_text".to_string()));
    let (status, problem) = w
        .app
        .get(
            "/api/v1/exports/reports.csv?header_language=x-klingon",
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(pointers(&problem), ["/query/header_language"]);

    let mut bad = crate::helpers::report(&w);
    bad["language"] = json!("not a tag!");
    let (status, problem) = crate::helpers::submit(&w, &bad).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/language"]);
}

#[actix_web::test]
async fn the_apps_sync_carries_each_questionnaire_in_the_shoppers_language() {
    let w = world().await;
    let sync = |accept: Option<&'static str>, since: Option<String>| {
        let w = &w;
        async move {
            let path = match since {
                Some(s) => format!("/api/v1/me/sync?since={s}"),
                None => "/api/v1/me/sync".to_string(),
            };
            let mut request = w
                .app
                .client
                .get(w.app.url(&path))
                .bearer_auth(&w.shopper_token);
            if let Some(accept) = accept {
                request = request.insert_header(("accept-language", accept));
            }
            let mut response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = if status == 200 {
                crate::helpers::json_body(&mut response).await
            } else {
                Value::Null
            };
            (status, body)
        }
    };
    let (status, stored) = w
        .app
        .put(
            &path(&w, "ja"),
            &w.admin_token,
            json!({"texts": {"title": "店舗訪問"}}),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    let (status, first) = sync(Some("ja-JP"), None).await;
    assert_eq!(status, 200);
    let ours = |body: &Value| {
        body["questionnaires"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == w.questionnaire_id.as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            ours(&first)["language"].clone(),
            ours(&first)["title"].clone()
        ),
        (json!("ja"), json!("店舗訪問"))
    );
    let cursor = first["cursor"].as_str().unwrap().to_string();
    let (status, _) = sync(Some("ja-JP"), Some(cursor.clone())).await;
    assert_eq!(status, 304, "nothing changed");
    // A corrected translation is a change the app hears about.
    let (status, _) = w
        .app
        .put(
            &path(&w, "ja"),
            &w.admin_token,
            json!({"texts": {"title": "店舗の訪問"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, again) = sync(Some("ja-JP"), Some(cursor)).await;
    assert_eq!(status, 200);
    assert_eq!(ours(&again)["title"], "店舗の訪問");
    // Without a language it wants, the source.
    let (_, english) = sync(Some("fr"), None).await;
    assert_eq!(ours(&english)["language"], "en");
}

/// A GET as `token` with `Accept-Language` (when given); 200 asserted.
async fn read_with(w: &World, path: &str, token: &str, accept: Option<&str>) -> Value {
    let mut request = w.app.client.get(w.app.url(path)).bearer_auth(token);
    if let Some(accept) = accept {
        request = request.insert_header(("accept-language", accept));
    }
    let mut response = request.send().await.unwrap();
    let body = crate::helpers::json_body(&mut response).await;
    assert_eq!(response.status().as_u16(), 200, "{path}: {body}");
    body
}

#[actix_web::test]
async fn figures_and_the_recognition_feed_name_questions_in_the_readers_language() {
    let w = world().await;
    let (status, stored) = w
        .app
        .put(
            &path(&w, "de"),
            &w.admin_token,
            json!({"texts": {
                "sections.second_mile.title": "Über die Erwartungen hinaus",
                "questions.greeted.text": "Wurden Sie begrüßt?",
                "questions.remembered_name.text": "Kannte man Ihren Namen?"
            }}),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    crate::recognition::visit(&w, &w.location_id, true, true).await;
    let analyst = w.app.create_user(&w.admin_token, "analyst").await;
    let analyst = w.app.access_token(&analyst).await;
    let range = "questionnaire_key=store-visit";
    for (accept, second_mile, greeted, remembered) in [
        (
            Some("de-CH, en;q=0.5"),
            "Über die Erwartungen hinaus",
            "Wurden Sie begrüßt?",
            "Kannte man Ihren Namen?",
        ),
        (
            None,
            "Beyond expectations",
            "Were you greeted within a minute of entering?",
            "Did an employee use or remember your name?",
        ),
    ] {
        let summary = read_with(
            &w,
            &format!("/api/v1/locations/{}/summary?{range}", w.location_id),
            &analyst,
            accept,
        )
        .await;
        let title = |figures: &Value| {
            figures["sections"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["key"] == "second_mile")
                .map(|s| s["title"].clone())
        };
        assert_eq!(title(&summary), Some(json!(second_mile)), "{summary}");
        let overview = read_with(
            &w,
            &format!("/api/v1/aggregates/overview?{range}"),
            &analyst,
            accept,
        )
        .await;
        assert_eq!(title(&overview), Some(json!(second_mile)), "{overview}");
        let questions = read_with(
            &w,
            &format!("/api/v1/aggregates/questions?{range}"),
            &analyst,
            accept,
        )
        .await;
        let text_of = |rows: &Value, key: &str| {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|q| q["key"] == key)
                .map(|q| q["text"].clone())
        };
        assert_eq!(
            text_of(&questions["items"], "greeted"),
            Some(json!(greeted))
        );
        let drivers = read_with(
            &w,
            &format!("/api/v1/aggregates/drivers?{range}&min_visits=1"),
            &analyst,
            accept,
        )
        .await;
        assert_eq!(
            text_of(&drivers["keeps_out_of_zero_mile"], "greeted"),
            Some(json!(greeted)),
            "{drivers}"
        );
        let feed = read_with(
            &w,
            &format!("/api/v1/aggregates/recognition?{range}"),
            &analyst,
            accept,
        )
        .await;
        let behaviour = feed["items"][0]["behaviours"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["question"] == "remembered_name")
            .unwrap()
            .clone();
        assert_eq!(behaviour["text"], remembered, "{feed}");
        // Free text stays as the shopper wrote it.
        assert_eq!(behaviour["comment"], "Ana remembered me from last month");
    }
}
