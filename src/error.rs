//! The one error type of the HTTP layer, rendered as RFC 9457 `application/problem+json`
//! with a stable snake_case `code`. Causes are logged once and never sent to the client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbError;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:secondmile:problem:validation_failed",
    "title": "Unprocessable Entity",
    "status": 422,
    "detail": "the request body has 1 invalid value",
    "code": "validation_failed",
    "errors": [{ "pointer": "/visit/ended_at", "code": "before_start", "message": "ended_at is before started_at" }]
}))]
pub struct Problem {
    /// URI reference identifying the problem type: `urn:secondmile:problem:{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the status (its HTTP reason phrase).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence, safe to show to a user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable snake_case code; clients branch on this.
    pub code: String,
    /// Every violation found in the request, each with a JSON Pointer into the body
    /// (or `/query/NAME` and `/path/NAME` for parameters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Violation>,
    /// For a refused state change (409): the state the resource is in now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
}

/// One invalid value in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Violation {
    /// JSON Pointer (RFC 6901) to the offending value; `""` is the whole body.
    pub pointer: String,
    /// Stable snake_case code of the rule that failed.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Violation {
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Violation {
            pointer: pointer.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// An error answered to the client. Build it with the constructors; a 5xx built from a
/// cause logs that cause (with its chain) when rendered and answers an opaque body. Boxed,
/// so that `Result<T, ApiError>` stays small on the happy path.
pub struct ApiError(Box<Inner>);

/// The parts of an [`ApiError`]; private to this module.
pub struct Inner {
    status: StatusCode,
    code: &'static str,
    detail: Option<String>,
    errors: Vec<Violation>,
    current_status: Option<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    source: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Inner {
            status,
            code,
            detail: Some(detail.into()),
            errors: Vec::new(),
            current_status: None,
            headers: Vec::new(),
            source: None,
        }))
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no resource exists at this address",
        )
    }

    pub fn method_not_allowed(allowed: &[String]) -> Self {
        let allow = allowed.join(", ");
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this resource supports {allow}"),
        )
        .with_header(header::ALLOW, &allow)
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge. `invalid` marks a token that was
    /// presented but refused (RFC 6750 `error="invalid_token"`).
    pub fn unauthorized(code: &'static str, detail: impl Into<String>, invalid: bool) -> Self {
        let challenge = if invalid {
            r#"Bearer realm="secondmile", error="invalid_token""#
        } else {
            r#"Bearer realm="secondmile""#
        };
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
            .with_header(header::WWW_AUTHENTICATE, challenge)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 429 with `Retry-After` in whole seconds (at least 1).
    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many attempts; retry in {secs} s"),
        )
        .with_header(header::RETRY_AFTER, &secs.to_string())
    }

    /// 422 listing every violation found.
    pub fn validation(errors: Vec<Violation>) -> Self {
        let n = errors.len();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!(
                "the request has {n} invalid value{}",
                if n == 1 { "" } else { "s" }
            ),
        )
        .with_violations(errors)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unavailable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
            .with_header(header::RETRY_AFTER, "5")
    }

    /// 500 with an opaque body; `cause` is logged, never sent.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ApiError(Box::new(Inner {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            detail: Some("the server failed to handle this request; it has been logged".into()),
            errors: Vec::new(),
            current_status: None,
            headers: Vec::new(),
            source: Some(cause.into()),
        }))
    }

    /// Names the state a resource is in, for a refused state change.
    pub fn with_current_status(mut self, status: &str) -> Self {
        self.current_status = Some(status.to_string());
        self
    }

    /// Attaches the violations that explain this error.
    pub fn with_violations(mut self, errors: Vec<Violation>) -> Self {
        self.errors = errors;
        self
    }

    /// Adds a response header (e.g. `Allow`, `Retry-After`, `WWW-Authenticate`).
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:secondmile:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            errors: self.errors.clone(),
            current_status: self.current_status.clone(),
        }
    }
}

impl std::ops::Deref for ApiError {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.0
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("detail", &self.detail)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(source) = &self.source {
            // `{:#}` prints the whole cause chain on one line.
            tracing::error!(code = self.code, error = %format!("{source:#}"), "request failed");
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(self.problem())
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::unavailable(
                    "database_unavailable",
                    "the database is not reachable; retry shortly",
                )
            }
            e if e.is_not_found() => ApiError::not_found(),
            e => ApiError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn internal_errors_do_not_leak_their_cause() {
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 in SELECT"));
        let response = err.error_response();
        assert_eq!(response.status(), 500);
        let body = to_bytes(response.into_body()).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("\"code\":\"internal_error\""), "{text}");
    }

    #[actix_web::test]
    async fn problems_carry_their_content_type_and_headers() {
        let response =
            ApiError::method_not_allowed(&["GET".into(), "POST".into()]).error_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers().get("allow").unwrap(), "GET, POST");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            PROBLEM_CONTENT_TYPE
        );
    }

    #[test]
    fn validation_lists_every_violation() {
        let p = ApiError::validation(vec![
            Violation::new("/a", "required", "a is required"),
            Violation::new("/b/0", "too_long", "b is too long"),
        ])
        .problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.type_, "urn:secondmile:problem:validation_failed");
        assert_eq!(
            p.detail.as_deref(),
            Some("the request has 2 invalid values")
        );
    }
}

/// Collects every violation of a request before answering, so the client sees them all.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// Keeps the value when `result` is `Ok`, records a violation otherwise.
    /// A value already reported at the same pointer is not reported twice.
    pub fn check<T>(&mut self, pointer: &str, code: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                if !self.0.iter().any(|v| v.pointer == pointer) {
                    self.0.push(Violation::new(pointer, code, message));
                }
                None
            }
        }
    }

    pub fn push(&mut self, pointer: &str, code: &str, message: impl Into<String>) {
        self.0.push(Violation::new(pointer, code, message));
    }

    /// Adds the errors found by a `validator` derive, one per field and rule.
    pub fn extend_validator(&mut self, errors: &validator::ValidationErrors) {
        let mut fields: Vec<_> = errors.field_errors().into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (field, list) in fields {
            for e in list {
                let bound = |name: &str| e.params.get(name).map(|v| v.to_string());
                let message = match (&e.message, e.code.as_ref()) {
                    (Some(m), _) => m.to_string(),
                    (None, "length") => match (bound("min"), bound("max")) {
                        (Some(min), Some(max)) => {
                            format!("{field} must have {min} to {max} characters or items")
                        }
                        (None, Some(max)) => {
                            format!("{field} must have at most {max} characters or items")
                        }
                        (Some(min), None) => {
                            format!("{field} must have at least {min} characters or items")
                        }
                        (None, None) => format!("{field} has the wrong length"),
                    },
                    (None, code) => format!("{field} is invalid ({code})"),
                };
                self.0.push(Violation::new(
                    format!("/{field}"),
                    e.code.to_string(),
                    message,
                ));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err(422)` listing everything recorded, `Ok` when nothing was.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}
