//! secondmile: a REST API backend for mystery-shopper programmes.
// No panics on input: outside tests, unwrap, expect, panic! and unchecked indexing are
// refused; the few provably safe uses carry an `#[allow]` with their reason.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod aggregates;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod exports;
pub mod extract;
pub mod health;
pub mod ids;
pub mod improvement;
pub mod limits;
pub mod locations;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod organization;
pub mod pagination;
pub mod programme;
pub mod query;
pub mod questionnaires;
pub mod reports;
pub mod review;
pub mod route_table;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod validation;
