//! Control characters (a NUL above all) in any text input are refused the same way on both
//! backends, never stored and never a 500: 400 naming the query parameter, 404 in a path,
//! 422 naming the body's pointer. Tabs and line breaks stay allowed in text.

use serde_json::json;

use crate::helpers::{report, submit, world};
use crate::questionnaires::example;

#[actix_web::test]
async fn query_parameters_with_control_characters_are_400_with_their_name() {
    let w = world().await;
    for (path, pointer) in [
        ("/api/v1/reports?region=a%00b", "/query/region"),
        (
            "/api/v1/reports?questionnaire_key=%00",
            "/query/questionnaire_key",
        ),
        ("/api/v1/locations?q=%00", "/query/q"),
        ("/api/v1/locations?code=S%001", "/query/code"),
        ("/api/v1/locations?region=%1b%5b31m", "/query/region"),
        ("/api/v1/questionnaires?key=%00", "/query/key"),
        ("/api/v1/aggregates/locations?region=%00", "/query/region"),
        ("/api/v1/aggregates/overview?tag=x%00", "/query/tag"),
        ("/api/v1/exports/reports.csv?region=%00", "/query/region"),
    ] {
        let (status, problem) = w.app.get(path, &w.admin_token).await;
        assert_eq!(status, 400, "{path}: {problem}");
        assert_eq!(problem["code"], "invalid_query", "{path}: {problem}");
        assert_eq!(
            problem["errors"][0]["pointer"], pointer,
            "{path}: {problem}"
        );
        assert_eq!(problem["errors"][0]["code"], "control_character");
    }
    // In a path, nothing has such a name.
    for path in [
        "/api/v1/locations/%00",
        "/api/v1/reports/a%00b/history",
        "/api/v1/questionnaires/%07",
    ] {
        let (status, problem) = w.app.get(path, &w.admin_token).await;
        assert_eq!(status, 404, "{path}: {problem}");
    }
}

#[actix_web::test]
async fn bodies_with_control_characters_are_422_with_every_pointer_and_store_nothing() {
    let w = world().await;
    let mut q = example("with-nul");
    q["title"] = json!("Store\u{0}visit");
    q["sections"][0]["questions"][1]["text"] = json!("Eye\u{1b}contact?");
    let (status, problem) = w
        .app
        .post("/api/v1/questionnaires", &w.admin_token, q)
        .await;
    assert_eq!(status, 422, "{problem}");
    let pointers = crate::helpers::pointers(&problem);
    assert_eq!(
        pointers,
        ["/sections/0/questions/1/text", "/title"],
        "{problem}"
    );
    let (status, listed) = w
        .app
        .get("/api/v1/questionnaires?key=with-nul", &w.admin_token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );

    let (status, problem) = w
        .app
        .post(
            "/api/v1/locations",
            &w.admin_token,
            json!({"code": "S-9", "name": "Nul\u{0}Street", "timezone": "Europe/Lisbon"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/name");

    // A report: a NUL in the narrative is refused; tabs and line breaks are text.
    let mut body = report(&w);
    body["narrative"] = json!("Greeted\u{0} at once");
    let (status, problem) = submit(&w, &body).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/narrative");
    assert_eq!(problem["errors"][0]["code"], "control_character");
    body["narrative"] = json!("Greeted at once.\r\nTidy store;\tquick.");
    let (status, stored) = submit(&w, &body).await;
    assert_eq!(status, 201, "{stored}");

    // A review note.
    let path = format!("/api/v1/reports/{}/review", stored["id"].as_str().unwrap());
    let (status, problem) = w
        .app
        .post(
            &path,
            &w.admin_token,
            json!({"action": "return", "note": "check\u{0}this"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/note");
    let (_, now) = w
        .app
        .get(
            &format!("/api/v1/reports/{}", stored["id"].as_str().unwrap()),
            &w.admin_token,
        )
        .await;
    assert_eq!(now["status"], "submitted", "nothing changed");
}
