use secondmile::openapi::{REGENERATE_COMMAND, document_json};

use crate::helpers::{json_body, spawn_app};

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("cannot read {path} ({e}); create it with: {REGENERATE_COMMAND}")
    })
}

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = document_json();
    assert!(
        committed() == generated,
        "openapi/openapi.json is out of date with the code; regenerate it with:\n    {REGENERATE_COMMAND}\n"
    );
}

#[actix_web::test]
async fn the_served_document_is_the_committed_one() {
    let app = spawn_app().await;
    let mut response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let served = json_body(&mut response).await;
    let committed: serde_json::Value = serde_json::from_str(&committed()).unwrap();
    assert_eq!(served, committed);

    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served["info"]["license"]["identifier"], "MIT OR Apache-2.0");
    assert_eq!(served["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        served["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(served["components"]["schemas"]["Problem"].is_object());
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(
            served["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
}

#[actix_web::test]
async fn the_interactive_docs_work_without_internet() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(response.headers().get("location").unwrap(), "/docs/");

    let mut response = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let page = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(
        !page.contains("https://"),
        "the page loads nothing from the internet"
    );

    // The UI's assets are served by the binary itself, and point at our document.
    let mut response = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let script = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    assert!(script.contains("/api/v1/openapi.json"), "{script}");
    let response = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
