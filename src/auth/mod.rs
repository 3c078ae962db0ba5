//! Identity and access: organizations, users, roles, tokens and integration clients.

pub mod bootstrap;
pub mod clients;
pub mod dto;
pub mod erasure;
pub mod extractor;
pub mod handlers;
pub mod model;
pub mod passwords;
pub mod rate_limit;
pub mod service;
pub mod tokens;
pub mod users;

pub use extractor::{AuthUser, Principal};
