//! The two web apps the binary serves: the HQ dashboard under `/app/` and the shoppers' app
//! under `/shop/`. Both are static HTML, CSS and JavaScript modules embedded at build time,
//! clients of the JSON API like any other (they sign in with the password grant); nothing
//! here reads the database.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Where the dashboard is served.
pub const APP_PATH: &str = "/app/";
/// Where the shoppers' app is served.
pub const SHOP_PATH: &str = "/shop/";
/// The shoppers' app's service worker: served with the app's version in front of it.
const WORKER: &str = "sw.js";

/// The files under `dashboard/`, embedded at build time (in every profile, so a debug binary
/// moved elsewhere still serves them).
#[derive(Embed)]
#[folder = "dashboard/"]
struct Assets;

/// The files under `shop/`.
#[derive(Embed)]
#[folder = "shop/"]
struct ShopAssets;

/// `/` and `/app` lead to the dashboard, `/shop` to the shoppers' app; under each, its files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| redirect(APP_PATH)))
        .route("/app", web::get().to(|| redirect(APP_PATH)))
        .route("/app/{path:.*}", web::get().to(dashboard_file))
        .route("/shop", web::get().to(|| redirect(SHOP_PATH)))
        .route("/shop/{path:.*}", web::get().to(shop_file));
}

async fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// The media type of an app's file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

/// The first `n` bytes of a hash in hexadecimal.
fn short_hex(hash: &[u8], n: usize) -> String {
    hash.iter().take(n).map(|b| format!("{b:02x}")).collect()
}

/// A strong validator from a content hash, so a browser revalidates cheaply.
fn etag(hash: &[u8]) -> String {
    format!("\"{}\"", short_hex(hash, 12))
}

/// The file an app's path names (`index.html` for the app's own address).
fn named(path: &str) -> &str {
    if path.is_empty() { "index.html" } else { path }
}

async fn dashboard_file(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = named(&path);
    let file = Assets::get(name).ok_or_else(ApiError::not_found)?;
    let tag = etag(&file.metadata.sha256_hash());
    Ok(answer(&req, name, tag, Bytes::from(file.data.into_owned())))
}

async fn shop_file(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = named(&path);
    if name == WORKER {
        let (tag, body) = &*SHOP_WORKER;
        return Ok(answer(&req, name, tag.clone(), body.clone()));
    }
    let file = ShopAssets::get(name).ok_or_else(ApiError::not_found)?;
    let tag = etag(&file.metadata.sha256_hash());
    Ok(answer(&req, name, tag, Bytes::from(file.data.into_owned())))
}

/// The app shell the shoppers' app keeps for offline use: every file of `shop/` but the
/// worker, and the dashboard modules it imports.
const SHARED_MODULES: [&str; 4] = [
    "/app/js/api.js",
    "/app/js/dom.js",
    "/app/js/signin.js",
    "/app/tokens.css",
];

/// The service worker as served: a first line naming the app's version (a hash over every
/// file it caches, so any change to the app gives the browser a new worker, which replaces
/// the cached shell) and the files to cache, then `shop/sw.js` itself.
static SHOP_WORKER: LazyLock<(String, Bytes)> = LazyLock::new(|| {
    let mut version = Sha256::new();
    let mut shell = Vec::new();
    for name in ShopAssets::iter().filter(|n| n != WORKER) {
        if let Some(file) = ShopAssets::get(&name) {
            version.update(file.metadata.sha256_hash());
        }
        // The page is cached under the app's own address.
        shell.push(match name.as_ref() {
            "index.html" => SHOP_PATH.to_string(),
            other => format!("{SHOP_PATH}{other}"),
        });
    }
    for path in SHARED_MODULES {
        if let Some(file) = path.strip_prefix(APP_PATH).and_then(Assets::get) {
            version.update(file.metadata.sha256_hash());
        }
        shell.push(path.to_string());
    }
    let version = short_hex(&version.finalize(), 8);
    let worker = ShopAssets::get(WORKER)
        .map(|f| f.data.into_owned())
        .unwrap_or_default();
    let mut body = format!(
        "const VERSION = '{version}';\nconst SHELL = {};\n",
        serde_json::to_string(&shell).unwrap_or_else(|_| "[]".into())
    )
    .into_bytes();
    body.extend_from_slice(&worker);
    let tag = etag(&Sha256::digest(&body));
    (tag, Bytes::from(body))
});

/// A file with its validator: every answer is checked again before use (`no-cache`), so a new
/// binary's files are picked up at once; an unchanged file costs a 304.
fn answer(req: &HttpRequest, name: &str, tag: String, body: Bytes) -> HttpResponse {
    let cache = HeaderValue::from_static("no-cache");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matches {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(content_type(name))
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_has_a_known_media_type() {
        let names: Vec<_> = Assets::iter().chain(ShopAssets::iter()).collect();
        for name in &names {
            let known =
                content_type(name) != "text/plain; charset=utf-8" || name.ends_with("LICENSE");
            assert!(known, "{name} has no media type");
        }
        assert!(Assets::get("index.html").is_some());
        assert!(ShopAssets::get("index.html").is_some());
        assert!(names.len() > 6);
    }
}
