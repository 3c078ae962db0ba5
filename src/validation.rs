//! Violations of the rules a request must follow: what domain checks return and the HTTP
//! layer answers as 422 with every violation listed. No HTTP here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// A request broke one or more rules; all of them are listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid value(s)", .0.len())]
pub struct ValidationFailed(pub Vec<Violation>);

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

    /// The value of a parse, or its default with the violation recorded.
    pub fn take<T: Default>(&mut self, parsed: Result<T, Violation>) -> T {
        parsed.unwrap_or_else(|v| {
            self.0.push(v);
            T::default()
        })
    }

    /// `value` when nothing was recorded, else every violation.
    pub fn into_result<T>(self, value: T) -> Result<T, Vec<Violation>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
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

    /// `Err` listing everything recorded (answered as 422), `Ok` when nothing was.
    pub fn finish(self) -> Result<(), ValidationFailed> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationFailed(self.0))
        }
    }
}
