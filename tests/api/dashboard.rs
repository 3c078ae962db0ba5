//! The web apps' files as the browser gets them (the dashboard under `/app/`, the shoppers'
//! app under `/shop/`): where `/` and `/shop` lead, the strict policy, the validators and
//! compression, the service worker's shell, and what answers for files that do not exist.
//! What the pages do is checked in a real browser by `scripts/browser-check`.

use crate::helpers::{json_body, spawn_app};

const APP_FILES: [(&str, &str); 12] = [
    ("/app/", "text/html"),
    ("/app/js/main.js", "text/javascript"),
    ("/app/js/api.js", "text/javascript"),
    ("/app/app.css", "text/css"),
    ("/app/vendor/uplot/uPlot.esm.js", "text/javascript"),
    ("/app/vendor/uplot/LICENSE", "text/plain"),
    ("/shop/", "text/html"),
    ("/shop/js/main.js", "text/javascript"),
    ("/shop/shop.css", "text/css"),
    ("/shop/sw.js", "text/javascript"),
    ("/shop/manifest.webmanifest", "application/manifest+json"),
    ("/shop/icon-512.png", "image/png"),
];

#[actix_web::test]
async fn the_root_and_app_lead_to_the_dashboard() {
    let app = spawn_app().await;
    for path in ["/", "/app"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 302, "{path}");
        assert_eq!(
            response.headers().get("location").unwrap(),
            "/app/",
            "{path}"
        );
    }
}

#[actix_web::test]
async fn the_dashboard_files_are_served_under_a_strict_policy() {
    let app = spawn_app().await;
    for (path, media) in APP_FILES {
        let mut response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert!(header("content-type").starts_with(media), "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("style-src 'self';"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        // Only the shoppers' app registers a service worker and names a manifest.
        let shop = path.starts_with("/shop/");
        assert_eq!(csp.contains("worker-src 'self'"), shop, "{path}: {csp}");
        assert_eq!(csp.contains("manifest-src 'self'"), shop, "{path}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert!(header("etag").starts_with('"'), "{path}");
        let body = response.body().limit(1 << 22).await.unwrap();
        assert!(!body.is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn shop_leads_to_the_app_whose_worker_caches_its_whole_shell() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/shop")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(response.headers().get("location").unwrap(), "/shop/");

    let mut response = app.client.get(app.url("/shop/sw.js")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let worker = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    let mut lines = worker.lines();
    let version = lines.next().unwrap();
    assert!(version.starts_with("const VERSION = '"), "{version}");
    let shell: Vec<String> = serde_json::from_str(
        lines
            .next()
            .and_then(|l| l.strip_prefix("const SHELL = "))
            .and_then(|l| l.strip_suffix(';'))
            .unwrap(),
    )
    .unwrap();
    // Every file the worker caches is served (so installing it cannot fail), the page and
    // the dashboard modules the app imports among them, and the worker never caches itself.
    for path in [
        "/shop/",
        "/shop/js/main.js",
        "/app/js/api.js",
        "/app/js/dom.js",
    ] {
        assert!(shell.iter().any(|p| p == path), "{path} is not cached");
    }
    assert!(!shell.iter().any(|p| p.ends_with("sw.js")));
    for path in &shell {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }

    let mut response = app
        .client
        .get(app.url("/shop/manifest.webmanifest"))
        .send()
        .await
        .unwrap();
    let manifest = json_body(&mut response).await;
    assert_eq!(manifest["start_url"], "/shop/");
    assert_eq!(manifest["scope"], "/shop/");
    assert_eq!(manifest["display"], "standalone");
    let sizes: Vec<_> = manifest["icons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sizes"].as_str().unwrap())
        .collect();
    assert!(sizes.contains(&"192x192") && sizes.contains(&"512x512"));
}

#[actix_web::test]
async fn the_pages_have_no_inline_script_or_style() {
    let app = spawn_app().await;
    for path in ["/app/", "/shop/"] {
        let mut response = app.client.get(app.url(path)).send().await.unwrap();
        let page = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
        no_inline_code(&page);
    }
}

fn no_inline_code(page: &str) {
    // Every script is a file (the policy would refuse inline code anyway; this keeps the page
    // from relying on it), and nothing is styled inline.
    for (at, _) in page.match_indices("<script") {
        let tag = &page[at..at + page[at..].find('>').unwrap()];
        assert!(tag.contains(" src="), "an inline script: {tag}");
    }
    assert!(!page.contains(" style="), "an inline style attribute");
    assert!(!page.contains("<style"), "an inline style element");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "a file from elsewhere"
    );
}

#[actix_web::test]
async fn an_unchanged_file_answers_304_and_files_are_compressed() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/app/js/main.js"))
        .send()
        .await
        .unwrap();
    let etag = response.headers().get("etag").unwrap().clone();
    let response = app
        .client
        .get(app.url("/app/js/main.js"))
        .insert_header(("if-none-match", etag.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 304);
    assert_eq!(response.headers().get("etag").unwrap(), &etag);

    let response = app
        .client
        .get(app.url("/app/vendor/uplot/uPlot.esm.js"))
        .insert_header(("accept-encoding", "gzip"))
        .no_decompress()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers().get("content-encoding").unwrap(), "gzip");
}

#[actix_web::test]
async fn a_missing_file_or_another_method_answers_a_problem() {
    let app = spawn_app().await;
    for path in [
        "/app/no-such-file.js",
        "/app/js/../../Cargo.toml",
        "/app/%2e%2e/Cargo.toml",
        "/shop/no-such-file.js",
        "/shop/%2e%2e/Cargo.toml",
    ] {
        let mut response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
        let body = json_body(&mut response).await;
        assert_eq!(body["code"], "not_found", "{path}");
    }
    for path in ["/", "/app/", "/app/js/main.js", "/shop/", "/shop/sw.js"] {
        let mut response = app.client.post(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 405, "{path}");
        assert_eq!(
            response.headers().get("allow").unwrap(),
            "GET, HEAD",
            "{path}"
        );
        let body = json_body(&mut response).await;
        assert_eq!(body["code"], "method_not_allowed", "{path}");
    }
    let response = app.client.head(app.url("/app/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
