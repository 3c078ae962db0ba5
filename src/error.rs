//! The one error type of the HTTP layer, rendered as RFC 9457 `application/problem+json`
//! with a stable snake_case `code`. Causes are logged once and never sent to the client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbError;
use crate::validation::{ValidationFailed, Violation};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Declares the problem codes once: the enum, its names and the list of all of them (a test
/// checks that each name is the variant's serialized snake_case form).
macro_rules! error_codes {
    ($($variant:ident => $name:literal,)+) => {
        /// The stable, machine-readable code of a problem; clients branch on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($variant,)+
        }

        impl ErrorCode {
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)+
                }
            }
        }
    };
}

error_codes! {
    ActionDone => "action_done",
    AppealExists => "appeal_exists",
    AppealWindowClosed => "appeal_window_closed",
    AssignmentTaken => "assignment_taken",
    CodeTaken => "code_taken",
    DatabaseUnavailable => "database_unavailable",
    DigestMismatch => "digest_mismatch",
    DraftExists => "draft_exists",
    EmailTaken => "email_taken",
    EventsPruned => "events_pruned",
    Forbidden => "forbidden",
    HeadersTooLarge => "headers_too_large",
    IdempotencyMismatch => "idempotency_mismatch",
    Immutable => "immutable",
    InternalError => "internal_error",
    InvalidClient => "invalid_client",
    InvalidGrant => "invalid_grant",
    InvalidQuery => "invalid_query",
    InvalidRequest => "invalid_request",
    InvalidScope => "invalid_scope",
    InvalidToken => "invalid_token",
    InvalidTransition => "invalid_transition",
    KeyTaken => "key_taken",
    LastAdmin => "last_admin",
    LockoutPeriod => "lockout_period",
    MalformedJson => "malformed_json",
    MethodNotAllowed => "method_not_allowed",
    MigrationsPending => "migrations_pending",
    MissingToken => "missing_token",
    NotAManager => "not_a_manager",
    NotFound => "not_found",
    OrganizationRequired => "organization_required",
    OwnReport => "own_report",
    PayloadTooLarge => "payload_too_large",
    PlanExists => "plan_exists",
    PreconditionFailed => "precondition_failed",
    QuotaExceeded => "quota_exceeded",
    RangeNotSatisfiable => "range_not_satisfiable",
    RateLimited => "rate_limited",
    ReportNotReceived => "report_not_received",
    RollupsRebuilding => "rollups_rebuilding",
    RequestTimeout => "request_timeout",
    ShopperExcluded => "shopper_excluded",
    StaffPrivacy => "staff_privacy",
    StaleRevision => "stale_revision",
    StorageUnavailable => "storage_unavailable",
    TooManyAttachments => "too_many_attachments",
    TooManyTranslations => "too_many_translations",
    TooManyWebhooks => "too_many_webhooks",
    UnreadableBody => "unreadable_body",
    UnsupportedGrantType => "unsupported_grant_type",
    UnsupportedMediaType => "unsupported_media_type",
    ValidationFailed => "validation_failed",
    WaveClosed => "wave_closed",
    WaveStarted => "wave_started",
    WebhookDisabled => "webhook_disabled",
    YearlyVisitLimit => "yearly_visit_limit",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    pub code: ErrorCode,
    /// Every violation found in the request, each with a JSON Pointer into the body
    /// (or `/query/NAME` and `/path/NAME` for parameters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Violation>,
    /// For a refused state change (409): the state the resource is in now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    /// For a visit a lockout rule refuses (409): the first local date it would be allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub frees_on: Option<chrono::NaiveDate>,
}

/// An error answered to the client. Build it with the constructors; a 5xx built from a
/// cause logs that cause (with its chain) when rendered and answers an opaque body. Boxed,
/// so that `Result<T, ApiError>` stays small on the happy path.
pub struct ApiError(Box<Inner>);

/// The parts of an [`ApiError`]; private to this module.
pub struct Inner {
    status: StatusCode,
    code: ErrorCode,
    detail: Option<String>,
    errors: Vec<Violation>,
    current_status: Option<String>,
    frees_on: Option<chrono::NaiveDate>,
    headers: Vec<(HeaderName, HeaderValue)>,
    source: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Inner {
            status,
            code,
            detail: Some(detail.into()),
            errors: Vec::new(),
            current_status: None,
            frees_on: None,
            headers: Vec::new(),
            source: None,
        }))
    }

    /// The same problem, told in other words.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no resource exists at this address",
        )
    }

    pub fn method_not_allowed(allowed: &[String]) -> Self {
        let allow = allowed.join(", ");
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            format!("this resource supports {allow}"),
        )
        .with_header(header::ALLOW, &allow)
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge. `invalid` marks a token that was
    /// presented but refused (RFC 6750 `error="invalid_token"`).
    pub fn unauthorized(code: ErrorCode, detail: impl Into<String>, invalid: bool) -> Self {
        let challenge = if invalid {
            r#"Bearer realm="secondmile", error="invalid_token""#
        } else {
            r#"Bearer realm="secondmile""#
        };
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
            .with_header(header::WWW_AUTHENTICATE, challenge)
    }

    /// 400 `invalid_query`, listing every query parameter refused.
    pub fn invalid_query(violations: Vec<crate::validation::Violation>) -> Self {
        Self::bad_request(ErrorCode::InvalidQuery, "a query parameter is invalid")
            .with_violations(violations)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, detail)
    }

    /// 429 with `Retry-After` in whole seconds (at least 1).
    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many attempts; retry in {secs} s"),
        )
        .with_header(header::RETRY_AFTER, &secs.to_string())
    }

    /// 422 listing every violation found.
    pub fn validation(errors: Vec<Violation>) -> Self {
        let n = errors.len();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            format!(
                "the request has {n} invalid value{}",
                if n == 1 { "" } else { "s" }
            ),
        )
        .with_violations(errors)
    }

    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unavailable(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
            .with_header(header::RETRY_AFTER, "5")
    }

    /// 500 with an opaque body; `cause` is logged, never sent.
    /// The problem for an error status that came without a body (from a component that is
    /// not ours, such as the docs' file server), so every error answers problem+json.
    pub fn for_status(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            400 => ErrorCode::InvalidRequest,
            401 => ErrorCode::MissingToken,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            408 => ErrorCode::RequestTimeout,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            429 => ErrorCode::RateLimited,
            431 => ErrorCode::HeadersTooLarge,
            s if s >= 500 => ErrorCode::InternalError,
            _ => ErrorCode::InvalidRequest,
        };
        if code == ErrorCode::NotFound {
            return Self::not_found();
        }
        let detail = status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_lowercase();
        Self::new(status, code, detail)
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ApiError(Box::new(Inner {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: ErrorCode::InternalError,
            detail: Some("the server failed to handle this request; it has been logged".into()),
            errors: Vec::new(),
            current_status: None,
            frees_on: None,
            headers: Vec::new(),
            source: Some(cause.into()),
        }))
    }

    /// Names the state a resource is in, for a refused state change.
    pub fn with_current_status(mut self, status: &str) -> Self {
        self.current_status = Some(status.to_string());
        self
    }

    /// Names the first date a refused visit would be allowed.
    pub fn with_frees_on(mut self, day: Option<chrono::NaiveDate>) -> Self {
        self.frees_on = day;
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

    pub fn code(&self) -> ErrorCode {
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
            code: self.code,
            errors: self.errors.clone(),
            current_status: self.current_status.clone(),
            frees_on: self.frees_on,
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
            tracing::error!(code = self.code.as_str(), error = %format!("{source:#}"), "request failed");
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
                    ErrorCode::DatabaseUnavailable,
                    "the database is not reachable; retry shortly",
                )
            }
            e if e.is_not_found() => ApiError::not_found(),
            e => ApiError::internal(e),
        }
    }
}

impl From<ValidationFailed> for ApiError {
    fn from(e: ValidationFailed) -> Self {
        ApiError::validation(e.0)
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
    fn a_panicked_database_task_answers_an_opaque_500() {
        let err = ApiError::from(DbError::Panicked("secret detail".into()));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let problem = err.problem();
        assert_eq!(problem.code, ErrorCode::InternalError);
        assert!(!format!("{problem:?}").contains("secret detail"));
    }

    #[test]
    fn error_codes_are_unique_snake_case_and_serialize_as_named() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
            assert_eq!(serde_json::to_value(code).unwrap(), name);
        }
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
