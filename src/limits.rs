//! Limits a client can see: the `RateLimit-Policy` and `RateLimit` response headers of the
//! IETF httpapi draft (draft-ietf-httpapi-ratelimit-headers), as structured fields:
//! `RateLimit-Policy: "sign-in";q=10;w=60` (the quota, and its window in seconds) and
//! `RateLimit: "sign-in";r=7;t=42` (what remains, and the seconds until it is whole again).
//! Sent with the answers of every limited operation, refusals (429) included.

use actix_web::HttpResponseBuilder;
use actix_web::http::header::HeaderName;

use crate::error::ApiError;

pub const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const STATE: HeaderName = HeaderName::from_static("ratelimit");

/// One limit as it stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The policy's name, as the headers quote it.
    pub name: &'static str,
    /// Requests (or reports) the window allows.
    pub quota: u32,
    pub window_secs: u64,
    /// Left now.
    pub remaining: u32,
    /// Seconds until the quota is whole again (0 when it is).
    pub reset_secs: u64,
}

impl Limit {
    pub fn policy(&self) -> String {
        format!("\"{}\";q={};w={}", self.name, self.quota, self.window_secs)
    }

    pub fn state(&self) -> String {
        format!(
            "\"{}\";r={};t={}",
            self.name, self.remaining, self.reset_secs
        )
    }

    /// Adds both headers to a response being built.
    pub fn add_to(&self, response: &mut HttpResponseBuilder) {
        response.insert_header((POLICY, self.policy()));
        response.insert_header((STATE, self.state()));
    }

    /// Adds both headers to a problem.
    pub fn add_to_problem(&self, problem: ApiError) -> ApiError {
        problem
            .with_header(POLICY, &self.policy())
            .with_header(STATE, &self.state())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_structured_fields_of_the_draft() {
        let limit = Limit {
            name: "sign-in",
            quota: 10,
            window_secs: 60,
            remaining: 7,
            reset_secs: 18,
        };
        assert_eq!(limit.policy(), "\"sign-in\";q=10;w=60");
        assert_eq!(limit.state(), "\"sign-in\";r=7;t=18");
    }
}
