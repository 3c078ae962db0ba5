//! The translators' round trip: a version's texts exported as CSV or XLIFF 2.0 and imported
//! back. An export imported unchanged stores the same translation and exports the same
//! bytes; a translator's file with mistakes is refused whole with every problem at its row
//! or unit; an untranslated language exports every text to translate.

use serde_json::{Value, json};

use crate::helpers::{World, pointers, world};

fn file_path(w: &World, language: &str) -> String {
    format!(
        "/api/v1/questionnaires/{}/translations/{language}/file",
        w.questionnaire_id
    )
}

/// `GET …/file?format=`: the content type, the file name and the bytes (200 asserted).
async fn export(w: &World, token: &str, language: &str, format: &str) -> (String, String, Vec<u8>) {
    let mut response = w
        .app
        .client
        .get(
            w.app
                .url(&format!("{}?format={format}", file_path(w, language))),
        )
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let status = response.status().as_u16();
    let bytes = response.body().await.unwrap().to_vec();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    (content_type, disposition, bytes)
}

/// `PUT …/file` with `media_type`: the status and the JSON answer.
async fn import(
    w: &World,
    token: &str,
    language: &str,
    media_type: &str,
    file: Vec<u8>,
) -> (u16, Value) {
    let path = file_path(w, language);
    w.app.send_file("PUT", &path, token, media_type, file).await
}

#[actix_web::test]
async fn an_export_imported_unchanged_stores_the_same_translation_and_exports_the_same_bytes() {
    let w = world().await;
    let (status, stored) = w
        .app
        .put(
            &format!(
                "/api/v1/questionnaires/{}/translations/de",
                w.questionnaire_id
            ),
            &w.admin_token,
            json!({"texts": {
                "title": "Ladenbesuch: null, erste und zweite Meile",
                "questions.greeted.text": "Wurden Sie innerhalb einer Minute begrüßt?",
                "questions.companion.options.child.label": "=Kind, \"klein\"",
                "questions.highlights.text": "Was fiel auf?\r\nGutes & Schlechtes <beides>"
            }}),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    for (format, media_type, extension) in [
        ("csv", "text/csv; charset=utf-8", "csv"),
        ("xliff", "application/xliff+xml", "xlf"),
    ] {
        let (content_type, disposition, first) = export(&w, &w.admin_token, "de", format).await;
        assert_eq!(content_type, media_type);
        assert_eq!(
            disposition,
            format!("attachment; filename=\"store-visit-v1.de.{extension}\"")
        );
        let upload_type = media_type.split(';').next().unwrap();
        let (status, back) = import(&w, &w.admin_token, "de", upload_type, first.clone()).await;
        assert_eq!(status, 200, "{format}: {back}");
        assert_eq!(back["texts"], stored["texts"], "{format}");
        assert_eq!(back["translated"], 4);
        let (_, _, again) = export(&w, &w.admin_token, "de", format).await;
        assert_eq!(
            String::from_utf8(again).unwrap(),
            String::from_utf8(first).unwrap(),
            "{format}"
        );
    }
    // A reader of the version exports it too; a spreadsheet shows the formula as text.
    let (_, _, csv) = export(&w, &w.shopper_token, "de", "csv").await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("\u{feff}key,en,de,max_chars\r\ntitle,"),
        "{csv}"
    );
    assert!(
        csv.contains(
            "questions.companion.options.child.label,A child,\"'=Kind, \"\"klein\"\"\",200\r\n"
        ),
        "{csv}"
    );
}

#[actix_web::test]
async fn a_language_not_yet_translated_exports_every_text_and_a_translators_file_comes_back() {
    let w = world().await;
    let (_, _, blank) = export(&w, &w.admin_token, "ja", "xliff").await;
    let blank = String::from_utf8(blank).unwrap();
    assert!(blank.contains("srcLang=\"en\" trgLang=\"ja\""), "{blank}");
    assert_eq!(
        blank.matches("<unit ").count(),
        blank.matches("state=\"initial\"").count()
    );
    assert!(!blank.contains("<target>"));
    // The translator fills two units (as a tool would: a target after the source).
    let filled = blank
        .replacen(
            "<source>Store visit: zero, first and second mile</source>",
            "<source>Store visit: zero, first and second mile</source><target>店舗訪問</target>",
            1,
        )
        .replacen(
            "<source>Were you greeted within a minute of entering?</source>",
            "<source>Were you greeted within a minute of entering?</source>\n        <target>入店後1分以内に挨拶されましたか？</target>",
            1,
        );
    let (status, stored) = import(
        &w,
        &w.admin_token,
        "ja",
        "application/xliff+xml",
        filled.into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["translated"], 2);
    assert_eq!(
        stored["texts"]["questions.greeted.text"],
        "入店後1分以内に挨拶されましたか？"
    );
    let shown = w
        .app
        .get_ok(
            &format!("/api/v1/questionnaires/{}?language=ja", w.questionnaire_id),
            &w.shopper_token,
        )
        .await;
    assert_eq!(shown["title"], "店舗訪問");
    // The list counts it like any other translation.
    let list = w
        .app
        .get_ok(
            &format!("/api/v1/questionnaires/{}/translations", w.questionnaire_id),
            &w.admin_token,
        )
        .await;
    assert_eq!(list["items"][0]["language"], "ja");
}

#[actix_web::test]
async fn a_file_with_mistakes_is_refused_whole_with_every_problem_at_its_place() {
    let w = world().await;
    let csv = "key,en,fr,max_chars\r\n\
        title,Store visit,Visite,200\r\n";
    let (status, problem) = import(&w, &w.admin_token, "de", "text/csv", csv.into()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/header/2", "/header"]);

    let csv = "key,en,de\r\n\
        title,Store visit: zero and first mile,Ladenbesuch\r\n\
        questions.nope.text,,Gibt es nicht\r\n\
        questions.greeted.text,,Begrüßt?\r\n\
        questions.greeted.text,,Nochmal\r\n\
        questions.smiled.text,,Gelächelt?,zu viel\r\n";
    let (status, problem) = import(&w, &w.admin_token, "de", "text/csv", csv.into()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        ["/rows/1/en", "/rows/2/key", "/rows/4/key", "/rows/5"],
        "{problem}"
    );
    let xliff = r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="de"><file id="f"><unit id="t1" name="title"><segment><source>Store visit: zero, first and second mile</source><target>Laden <ph id="1"/></target></segment></unit><unit id="t2" name="questions.greeted.text"><segment><source>Were you greeted within a minute of entering?</source><target></target></segment></unit></file></xliff>"#;
    let (status, problem) = import(
        &w,
        &w.admin_token,
        "de",
        "application/xliff+xml",
        xliff.into(),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/units/title/target"], "{problem}");
    // Nothing was stored by any of them.
    let (status, _) = w
        .app
        .get(
            &format!(
                "/api/v1/questionnaires/{}/translations/de",
                w.questionnaire_id
            ),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 404);

    // The wrong type, the version's own language, a tag that is none, another role.
    let (status, problem) = import(&w, &w.admin_token, "de", "text/plain", csv.into()).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, problem) = import(&w, &w.admin_token, "en", "text/csv", "key,en\r\n".into()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "source_language");
    let (status, problem) = import(&w, &w.admin_token, "de_DE", "text/csv", "key\r\n".into()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "invalid_language");
    let reviewer = w.app.create_user(&w.admin_token, "reviewer").await;
    let reviewer_token = w.app.access_token(&reviewer).await;
    let (status, _) = import(&w, &reviewer_token, "de", "text/csv", "key,de\r\n".into()).await;
    assert_eq!(status, 403);
    let (status, _) = w
        .app
        .get(
            &format!("{}?format=pdf", file_path(&w, "de")),
            &w.admin_token,
        )
        .await;
    assert_eq!(status, 400);
}
