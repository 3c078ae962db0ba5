//! The request middleware: request id, tracing span, timeout, metrics and the one log line
//! per request.

use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use tracing::Instrument;

use crate::error::{ApiError, ErrorCode};
use crate::metrics::UNMATCHED_ROUTE;
use crate::state::AppState;
use crate::validation::Violation;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request: the caller's `X-Request-Id` when it is sensible,
/// otherwise a fresh UUID.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn acceptable_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_string())
}

/// Operations endpoints are polled constantly; their lines are kept out of the info log.
fn is_operations_route(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// When the request is answered 503 `request_timeout` if it has not finished: work that
/// would commit after it (an import) checks it and rolls back instead, so a client told
/// "timed out" never finds the work done.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Instant);

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let timeout = state
        .as_ref()
        .map_or(std::time::Duration::from_secs(30), |s| s.request_timeout);
    req.extensions_mut().insert(Deadline(started + timeout));
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %req.path(),
    );
    // The request cannot be cloned here (routing needs sole ownership), so a response that
    // never came back from the inner services is answered as an error carrying the id.
    let outcome = actix_web::rt::time::timeout(timeout, next.call(req))
        .instrument(span.clone())
        .await;
    let mut response = match outcome {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(e)) => {
            let status = e.as_response_error().status_code().as_u16();
            finish(
                &span,
                state.as_ref().map(|s| s.get_ref()),
                &method,
                UNMATCHED_ROUTE,
                status,
                started,
            );
            return Err(WithRequestId::new(e, request_id).into());
        }
        Err(_elapsed) => {
            let err = ApiError::unavailable(
                ErrorCode::RequestTimeout,
                format!(
                    "the request took longer than {} s; retry it (writes are idempotent where documented)",
                    timeout.as_secs()
                ),
            );
            finish(
                &span,
                state.as_ref().map(|s| s.get_ref()),
                &method,
                UNMATCHED_ROUTE,
                503,
                started,
            );
            return Err(WithRequestId::new(err.into(), request_id).into());
        }
    };

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
    finish(
        &span,
        state.as_ref().map(|s| s.get_ref()),
        &method,
        &route,
        status,
        started,
    );
    Ok(response)
}

/// Records the request in the metrics and writes its one log line.
fn finish(
    span: &tracing::Span,
    state: Option<&AppState>,
    method: &str,
    route: &str,
    status: u16,
    started: Instant,
) {
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .observe_request(method, route, status, elapsed.as_secs_f64());
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, route = %route, latency_ms, "request completed");
        } else if is_operations_route(route) {
            tracing::debug!(status, route = %route, latency_ms, "request completed");
        } else {
            tracing::info!(status, route = %route, latency_ms, "request completed");
        }
    });
}

/// An error that escaped the inner services, rendered as before plus `X-Request-Id`.
#[derive(Debug)]
struct WithRequestId {
    inner: actix_web::Error,
    request_id: String,
}

impl WithRequestId {
    fn new(inner: actix_web::Error, request_id: String) -> Self {
        WithRequestId { inner, request_id }
    }
}

impl std::fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.inner, f)
    }
}

impl ResponseError for WithRequestId {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut response = self.inner.error_response();
        if let Ok(value) = HeaderValue::from_str(&self.request_id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        response
    }
}

/// Most header fields a request may carry, and most bytes of all its header lines together.
/// Beyond these the answer is 431 as problem+json. (The HTTP codec's own limits, 96 fields
/// or about 128 KiB of head, are higher: a request past them is refused before any
/// middleware runs, with a bodiless 431.)
pub const MAX_HEADER_FIELDS: usize = 64;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Longest query string accepted (400 `invalid_query` beyond).
pub const MAX_QUERY_BYTES: usize = 8 * 1024;

/// The Swagger UI's policy: its own scripts and styles (the UI sets inline styles), nothing
/// from elsewhere, never framed.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// The web apps' policy: their own files only (no inline script or style, no eval), photos
/// shown before they are sent (`blob:`), and calls to their own API; `$extra` adds directives.
macro_rules! page_policy {
    ($extra:literal) => {
        concat!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; ",
            "connect-src 'self'; ",
            $extra,
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
    };
}
/// The dashboard's policy.
const APP_CSP: &str = page_policy!("");
/// The shoppers' app's: also its service worker and its manifest (installable as an app).
const SHOP_CSP: &str = page_policy!("worker-src 'self'; manifest-src 'self'; ");
/// Every other answer is data, never a page: nothing may load or frame it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// HTTP hygiene around every request: header and query limits, `HEAD` answered as `GET`
/// without the body, a problem document for any error that came without one, and the
/// security headers (`nosniff`, no referrer, no framing, a CSP, and `Cache-Control:
/// no-store` on answers to authenticated requests unless the handler chose a policy).
/// Whether the request's method is one its path answers (or the path is none of the API's):
/// a method the path does not take is answered 405 by the router, whatever its query.
fn routed_method(req: &ServiceRequest) -> bool {
    let Some(state) = req.app_data::<actix_web::web::Data<crate::state::AppState>>() else {
        return true;
    };
    let method = req.method().as_str();
    state
        .routes
        .allowed_methods(req.path())
        .is_none_or(|allowed| {
            allowed
                .iter()
                .any(|m| m == method || (m == "GET" && method == "HEAD"))
        })
}

pub async fn http_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let mut res = if headers.len() > MAX_HEADER_FIELDS || header_bytes > MAX_HEADER_BYTES {
        let detail = format!(
            "the request has {} header fields in {header_bytes} bytes; at most {MAX_HEADER_FIELDS} fields and {MAX_HEADER_BYTES} bytes are accepted",
            headers.len()
        );
        req.error_response(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::HeadersTooLarge,
            detail,
        ))
    } else if req.query_string().len() > MAX_QUERY_BYTES && routed_method(&req) {
        let detail = format!("the query string has at most {MAX_QUERY_BYTES} bytes");
        req.error_response(
            ApiError::bad_request(ErrorCode::InvalidQuery, detail.clone())
                .with_violations(vec![Violation::new("/query", "too_long", detail)]),
        )
    } else {
        // HEAD is GET without the body: the HTTP codec already leaves the body out of an
        // answer to HEAD, keeping its length.
        if req.method() == Method::HEAD {
            req.head_mut().method = Method::GET;
        }
        let authenticated = req.headers().contains_key(header::AUTHORIZATION);
        let mut res = next.call(req).await?.map_into_boxed_body();
        if authenticated && !res.headers().contains_key(header::CACHE_CONTROL) {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        res
    };
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/problem+json") || v.starts_with("application/json")
        });
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        // An error from a component that is not ours (the docs' file server, the CORS
        // layer) came bodiless or as text: it becomes a problem document, its short text
        // kept as the detail.
        let (request, response) = res.into_parts();
        let (old, body) = response.into_parts();
        let text = match body.size() {
            BodySize::Sized(n) if n > 0 && n <= 300 => actix_web::body::to_bytes(body)
                .await
                .ok()
                .and_then(|b| String::from_utf8(b.to_vec()).ok()),
            _ => None,
        };
        let mut error = ApiError::for_status(status);
        if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
            error = ApiError::new(status, error.code(), text.trim().to_lowercase());
        }
        let mut problem = error.error_response();
        for (name, value) in old.headers() {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                problem.headers_mut().append(name.clone(), value.clone());
            }
        }
        res = ServiceResponse::new(request, problem);
    }
    let policy = {
        let path = res.request().path();
        if path == "/docs" || path.starts_with("/docs/") {
            DOCS_CSP
        } else if path.starts_with(crate::dashboard::APP_PATH) {
            APP_CSP
        } else if path.starts_with(crate::dashboard::SHOP_PATH) {
            SHOP_CSP
        } else {
            API_CSP
        }
    };
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    Ok(res)
}

/// CORS for the browser origins in `SECONDMILE_CORS_ORIGINS` only. A request from any other
/// origin (the server's own pages included) passes untouched and gets no CORS headers, so a
/// browser keeps other sites' scripts from reading the answers.
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .block_on_origin_mismatch(false)
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            REQUEST_ID_HEADER,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            REQUEST_ID_HEADER,
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Refuses a request whose path or query string holds a control character (a NUL, an escape,
/// ...) once percent-decoded, before any handler or database sees it, the same on every
/// backend: in the path it is 404 (nothing is named so), in the query 400 with a pointer per
/// offending parameter (`/query/{name}`).
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if path_has_control_characters(req.path()) {
        return Ok(req.error_response(ApiError::not_found()));
    }
    let violations = query_control_characters(req.query_string());
    if !violations.is_empty() {
        return Ok(req.error_response(
            ApiError::bad_request(
                ErrorCode::InvalidQuery,
                "a query parameter holds a control character",
            )
            .with_violations(violations),
        ));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Whether a raw (percent-encoded) path holds a control character.
pub fn path_has_control_characters(path: &str) -> bool {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .chars()
        .any(char::is_control)
}

/// The violations of a raw (percent-encoded) query string.
pub fn query_control_characters(query: &str) -> Vec<Violation> {
    let refused = |text: &str| text.chars().any(char::is_control);
    let mut violations = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if refused(&name) || refused(&value) {
            let name: String = name.chars().filter(|c| !c.is_control()).collect();
            violations.push(Violation::new(
                format!("/query/{name}"),
                "control_character",
                "a query parameter may not contain control characters",
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_harmless() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(acceptable_request_id(&ok).as_deref(), Some("abc-123_x.y:z"));
        for bad in ["", "has space", "semi;colon", &"x".repeat(129)] {
            let v = HeaderValue::from_str(bad).unwrap();
            assert!(acceptable_request_id(&v).is_none(), "{bad}");
        }
    }
}
