//! Request extractors whose failures are problem documents: a JSON body extractor that
//! points at the offending value, and error handlers for actix's path and query extractors.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::error::{ApiError, ErrorCode};
use crate::validation::Violation;

mod strict;

/// Default largest JSON body accepted, in bytes.
pub const DEFAULT_JSON_LIMIT: usize = 64 * 1024;

/// A JSON request body of at most `LIMIT` bytes. Wrong content type is 415, a body over the
/// limit 413, malformed JSON 400, and a well-formed body of the wrong shape 422 with a JSON
/// Pointer to the value.
#[derive(Debug)]
pub struct ApiJson<T, const LIMIT: usize = DEFAULT_JSON_LIMIT>(pub T);

impl<T, const LIMIT: usize> ApiJson<T, LIMIT> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + utoipa::ToSchema + 'static, const LIMIT: usize> FromRequest
    for ApiJson<T, LIMIT>
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = LIMIT;
        let content_type_ok = is_json(req);
        let declared_length = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(unsupported_media_type());
            }
            let body = read_body(&mut payload, declared_length, limit).await?;
            parse_document(&body, false, Some(&T::name())).map(ApiJson)
        })
    }
}

/// A JSON array of objects (a batch) of at most `LIMIT` bytes, read as `Vec<T>`; the errors
/// of [`ApiJson`], with pointers that start at the item's index.
#[derive(Debug)]
pub struct ApiJsonList<T, const LIMIT: usize = DEFAULT_JSON_LIMIT>(pub Vec<T>);

impl<T, const LIMIT: usize> ApiJsonList<T, LIMIT> {
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for ApiJsonList<T, LIMIT> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = LIMIT;
        let content_type_ok = is_json(req);
        let declared_length = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(unsupported_media_type());
            }
            let body = read_body(&mut payload, declared_length, limit).await?;
            parse_json_list(&body).map(ApiJsonList)
        })
    }
}

/// Largest OAuth2-style form or JSON body (token requests are small).
const FORM_LIMIT: usize = 16 * 1024;

/// A body sent either as `application/x-www-form-urlencoded` (OAuth2 clients) or as JSON.
#[derive(Debug)]
pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for FormOrJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = essence(req).as_deref() == Some("application/x-www-form-urlencoded");
        let is_json = is_json(req);
        let declared_length = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_form && !is_json {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "send `application/x-www-form-urlencoded` or `application/json`",
                ));
            }
            let body = read_body(&mut payload, declared_length, FORM_LIMIT).await?;
            if is_json {
                return parse_json(&body).map(FormOrJson);
            }
            serde_urlencoded::from_bytes::<T>(&body)
                .map(FormOrJson)
                .map_err(|e| {
                    ApiError::bad_request(
                        ErrorCode::InvalidRequest,
                        format!("the form is invalid: {e}"),
                    )
                })
        })
    }
}

/// Largest CSV upload.
pub const CSV_LIMIT: usize = 5 * 1024 * 1024;

/// A `text/csv` body of at most [`CSV_LIMIT`] bytes.
#[derive(Debug)]
pub struct CsvBody(pub BytesMut);

impl FromRequest for CsvBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_csv = matches!(
            essence(req).as_deref(),
            Some("text/csv" | "application/csv")
        );
        let declared_length = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_csv {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::UnsupportedMediaType,
                    "send the file as `Content-Type: text/csv`",
                ));
            }
            read_body(&mut payload, declared_length, CSV_LIMIT)
                .await
                .map(CsvBody)
        })
    }
}

/// A file body of at most [`CSV_LIMIT`] bytes with its media type (without parameters), for
/// operations that take several formats and choose one by the type.
#[derive(Debug)]
pub struct TypedBody {
    pub media_type: Option<String>,
    pub bytes: BytesMut,
}

impl FromRequest for TypedBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media_type = essence(req);
        let declared_length = declared_length(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&mut payload, declared_length, CSV_LIMIT).await?;
            Ok(TypedBody { media_type, bytes })
        })
    }
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Reads the whole body, refusing more than `limit` bytes without buffering them.
async fn read_body(
    payload: &mut Payload,
    declared_length: Option<usize>,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    if declared_length.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut body = BytesMut::with_capacity(declared_length.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(
                ErrorCode::UnreadableBody,
                format!("the body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn essence(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
        "the body must be JSON, sent with `Content-Type: application/json`",
    )
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than the {limit} bytes this endpoint accepts"),
    )
}

/// Parses a complete JSON document into `T`, reporting where a mismatch is. A key that
/// appears twice in one object is refused, every one listed (another parser may read the
/// first where serde reads the last). A string (or
/// key) with a control character other than tab, line feed and carriage return is refused
/// first, every one listed: no text input stores one, on either backend. Every body of the
/// API is a JSON object: an array is refused rather than read field by field in order (as
/// serde would read it into a struct).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    parse_document(body, false, None)
}

/// Parses a JSON array of objects (a batch) into `Vec<T>`, with the checks of `parse_json`
/// on each item; pointers start at the item's index (`/3/field`).
pub fn parse_json_list<T: DeserializeOwned>(body: &[u8]) -> Result<Vec<T>, ApiError> {
    parse_document(body, true, None)
}

/// Reads `body` as `T`. When serde refuses a value and `schema` names the body's schema in
/// the OpenAPI document, every place the body departs from it is listed, not the first only.
fn parse_document<T: DeserializeOwned>(
    body: &[u8],
    list: bool,
    schema: Option<&str>,
) -> Result<T, ApiError> {
    let (mut document, duplicates) =
        strict::read(body).map_err(|e| json_error(String::new(), &e))?;
    if !duplicates.is_empty() {
        return Err(ApiError::validation(
            duplicates
                .into_iter()
                .map(|pointer| {
                    Violation::new(
                        pointer,
                        "duplicate_key",
                        "this key appears more than once in its object; send it once",
                    )
                })
                .collect(),
        ));
    }
    if list {
        let Some(items) = document.as_array() else {
            return Err(ApiError::validation(vec![Violation::new(
                "",
                "invalid_type",
                "the body is a JSON array of objects",
            )]));
        };
        let not_objects: Vec<Violation> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| !item.is_object())
            .map(|(i, _)| {
                Violation::new(format!("/{i}"), "invalid_type", "an item is a JSON object")
            })
            .collect();
        if !not_objects.is_empty() {
            return Err(ApiError::validation(not_objects));
        }
    } else if !document.is_object() {
        return Err(ApiError::validation(vec![Violation::new(
            "",
            "invalid_type",
            "the body is a JSON object",
        )]));
    }
    let mut violations = Vec::new();
    control_characters(&document, &mut String::new(), &mut violations);
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    integral_floats(&mut document);
    serde_path_to_error::deserialize::<_, T>(document).map_err(|e| {
        let pointer = pointer_of(e.path());
        match schema {
            Some(name) if e.inner().classify() == serde_json::error::Category::Data => {
                let first = data_violation(
                    pointer,
                    &plain_types(&strip_position(&e.inner().to_string())),
                );
                ApiError::validation(every_violation(body, name, first))
            }
            _ => json_error(pointer, e.inner()),
        }
    })
}

/// The body's violations of its schema, with serde's own (`first`) kept when the schema
/// does not see it; `first` alone when the schema finds nothing.
fn every_violation(body: &[u8], schema: &str, first: Violation) -> Vec<Violation> {
    let Ok((mut document, _)) = strict::read(body) else {
        return vec![first];
    };
    integral_floats(&mut document);
    let mut listed = SCHEMA_CHECK
        .get()
        .map(|check| check(schema, &document))
        .unwrap_or_default();
    // serde's own words where both saw the same value (they name Rust's limits plainly).
    listed.retain(|v| v.pointer != first.pointer);
    listed.insert(0, first);
    listed
}

/// Lists where a body departs from its named schema; set at start from the OpenAPI document
/// (`openapi::bodies::violations`), which this module cannot name without a circle.
static SCHEMA_CHECK: std::sync::OnceLock<fn(&str, &serde_json::Value) -> Vec<Violation>> =
    std::sync::OnceLock::new();

/// Sets how refused bodies are checked against their schema (once; later calls are ignored).
pub fn check_bodies_with(check: fn(&str, &serde_json::Value) -> Vec<Violation>) {
    let _ = SCHEMA_CHECK.set(check);
}

/// Largest magnitude below which every integer is exactly a float (2^53).
const EXACT_FLOAT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Integer-valued floats (`5.0`, `1e2`) become integers, so a field documented as an integer
/// accepts them, as JavaScript clients send numbers; `5.5` stays a float and is refused there
/// with "expected an integer". Fields that take any number read both alike.
fn integral_floats(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < EXACT_FLOAT_INTEGERS
            {
                // Exact: |f| < 2^53, so the cast neither truncates nor saturates.
                #[allow(clippy::cast_possible_truncation)]
                let integer = f as i64;
                *value = serde_json::Value::from(integer);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(integral_floats),
        _ => {}
    }
}

/// serde's names of Rust number types, as a client reads them.
fn plain_types(message: &str) -> String {
    const NAMES: [(&str, &str); 8] = [
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected u16", "expected an integer from 0 to 65535"),
        ("expected u32", "expected an integer from 0 to 4294967295"),
        ("expected u64", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
    ];
    let mut out = message.to_string();
    for (rust, plain) in NAMES {
        if out.ends_with(rust) {
            out.truncate(out.len() - rust.len());
            out.push_str(plain);
        }
    }
    out
}

/// The most control-character violations listed for one body.
const MAX_CONTROL_VIOLATIONS: usize = 100;

/// Whether text may hold `c`: no control characters but tab, line feed and carriage return.
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn control_characters(value: &serde_json::Value, pointer: &mut String, out: &mut Vec<Violation>) {
    if out.len() >= MAX_CONTROL_VIOLATIONS {
        return;
    }
    let refuse = |pointer: &str, out: &mut Vec<Violation>| {
        out.push(Violation::new(
            pointer.to_string(),
            "control_character",
            "text may not contain control characters (other than tab and line breaks)",
        ));
    };
    match value {
        serde_json::Value::String(s) if s.chars().any(is_refused_control) => refuse(pointer, out),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                control_characters(item, pointer, out);
                pointer.truncate(len);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(key));
                if key.chars().any(is_refused_control) {
                    refuse(pointer, out);
                } else {
                    control_characters(item, pointer, out);
                }
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn json_error(pointer: String, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = plain_types(&strip_position(&e.to_string()));
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!(
                "the body is not valid JSON: {message} (line {}, column {})",
                e.line(),
                e.column()
            ),
        ),
        Category::Data => ApiError::validation(vec![data_violation(pointer, &message)]),
    }
}

/// serde's refusal of a value at `pointer`, as a violation.
fn data_violation(pointer: String, message: &str) -> Violation {
    let (pointer, code) = if let Some(field) = field_in(message, "missing field `") {
        (format!("{pointer}/{}", escape(field)), "required")
    } else if message.starts_with("unknown field") {
        (pointer, "unknown_field")
    } else if message.starts_with("invalid type") {
        (pointer, "invalid_type")
    } else {
        (pointer, "invalid_value")
    };
    Violation::new(pointer, code, message)
}

/// serde_json appends " at line L column C"; the pointer says where, more usefully.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn field_in<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Converts serde's path into an RFC 6901 JSON Pointer.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&escape(key));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

/// Problem documents for actix's own extractors (`web::Path`, `web::Query`, `web::Json`).
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    // A path segment that is not a valid id where a route expects one: the address is a
    // route of its own with other methods (405), or names nothing (404).
    cfg.app_data(
        web::PathConfig::default().error_handler(|e: PathError, req| {
            let literal = req
                .app_data::<web::Data<crate::state::AppState>>()
                .and_then(|state| state.routes.literal_methods(req.path()));
            if let Some(allowed) = literal {
                return ApiError::method_not_allowed(&allowed).into();
            }
            let detail = match &e {
                PathError::Deserialize(inner) => {
                    format!("no resource exists at this address ({inner})")
                }
                _ => "no resource exists at this address".to_string(),
            };
            ApiError::new(
                actix_web::http::StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                detail,
            )
            .into()
        }),
    )
    .app_data(
        web::QueryConfig::default().error_handler(|e: QueryPayloadError, _| {
            let detail = match &e {
                QueryPayloadError::Deserialize(inner) => {
                    format!("a query parameter is invalid: {inner}")
                }
                _ => "the query string is invalid".to_string(),
            };
            ApiError::bad_request(ErrorCode::InvalidQuery, detail).into()
        }),
    )
    .app_data(
        web::JsonConfig::default()
            .limit(DEFAULT_JSON_LIMIT)
            .error_handler(|e: JsonPayloadError, _| match e {
                JsonPayloadError::ContentType => unsupported_media_type().into(),
                JsonPayloadError::Overflow { limit } => too_large(limit).into(),
                JsonPayloadError::OverflowKnownLength { limit, .. } => too_large(limit).into(),
                JsonPayloadError::Deserialize(inner) => json_error(String::new(), &inner).into(),
                other => ApiError::bad_request(
                    ErrorCode::UnreadableBody,
                    format!("the body could not be read: {other}"),
                )
                .into(),
            }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Report {
        visit: Visit,
        answers: Vec<Answer>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Visit {
        minutes: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Answer {
        key: String,
        value: bool,
    }

    fn violation(body: &str) -> Violation {
        let err = parse_json::<Report>(body.as_bytes()).unwrap_err().problem();
        assert_eq!(err.status, 422, "{err:?}");
        err.errors.into_iter().next().unwrap()
    }

    #[test]
    fn a_wrong_type_points_at_the_value() {
        let v = violation(
            r#"{"visit":{"minutes":1},"answers":[{"key":"a","value":true},{"key":"b","value":"yes"}]}"#,
        );
        assert_eq!(v.pointer, "/answers/1/value");
        assert_eq!(v.code, "invalid_type");
        assert!(!v.message.contains("line"), "{}", v.message);
    }

    #[test]
    fn a_missing_field_points_where_it_belongs() {
        let v = violation(r#"{"visit":{},"answers":[]}"#);
        assert_eq!(v.pointer, "/visit/minutes");
        assert_eq!(v.code, "required");
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let v = violation(r#"{"visit":{"minutes":1},"answers":[],"role":"admin"}"#);
        assert_eq!(v.code, "unknown_field");
        assert_eq!(v.pointer, "/role");
    }

    #[test]
    fn malformed_json_and_trailing_garbage_are_bad_requests() {
        for body in [
            r#"{"visit":"#,
            r#"{"visit":{"minutes":1},"answers":[]} x"#,
            "",
        ] {
            let p = parse_json::<Report>(body.as_bytes()).unwrap_err().problem();
            assert_eq!(p.status, 400, "{body}");
            assert_eq!(p.code, ErrorCode::MalformedJson);
        }
    }

    #[test]
    fn pointers_escape_slashes_and_tildes() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
