//! The HQ dashboard: static HTML, CSS and JavaScript modules embedded in the binary and served
//! under `/app/`. It is a client of the JSON API like any other (it signs in with the password
//! grant); nothing here reads the database.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Where the dashboard is served.
pub const APP_PATH: &str = "/app/";

/// The files under `dashboard/`, embedded at build time (in every profile, so a debug binary
/// moved elsewhere still serves them).
#[derive(rust_embed::Embed)]
#[folder = "dashboard/"]
struct Assets;

/// `/` and `/app` lead to the dashboard; `/app/{path}` serves its files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(redirect_to_app))
        .route("/app", web::get().to(redirect_to_app))
        .route("/app/{path:.*}", web::get().to(asset));
}

async fn redirect_to_app() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, APP_PATH))
        .finish()
}

/// The media type of a dashboard file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

/// A strong validator from the file's content hash, so a browser revalidates cheaply.
fn etag(hash: &[u8; 32]) -> String {
    let hex: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let path = if path.is_empty() {
        "index.html"
    } else {
        path.as_str()
    };
    let file = Assets::get(path).ok_or_else(ApiError::not_found)?;
    let tag = etag(&file.metadata.sha256_hash());
    // Every answer is checked again before use (`no-cache`), so a new binary's files are
    // picked up at once; an unchanged file costs a 304.
    let cache = HeaderValue::from_static("no-cache");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(content_type(path))
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_has_a_known_media_type() {
        let mut count = 0;
        for name in Assets::iter() {
            count += 1;
            let known =
                content_type(&name) != "text/plain; charset=utf-8" || name.ends_with("LICENSE");
            assert!(known, "{name} has no media type");
        }
        assert!(Assets::get("index.html").is_some());
        assert!(count > 3);
    }
}
