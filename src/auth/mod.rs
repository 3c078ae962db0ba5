//! Identity and access: organizations, users, roles, tokens and integration clients.

pub mod bootstrap;
pub mod clients;
pub mod dto;
pub mod extractor;
pub mod handlers;
pub mod model;
pub mod passwords;
pub mod rate_limit;
pub mod service;
pub mod tokens;
pub mod users;

use crate::config::TrustedProxies;

pub use extractor::{AuthUser, Principal};

/// What the token endpoint and the `AuthUser` extractor need.
pub struct AuthState {
    pub tokens: tokens::TokenService,
    pub limiter: rate_limit::LoginLimiter,
    pub proxies: TrustedProxies,
}
