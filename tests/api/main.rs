//! Black-box API tests: the real application over real HTTP, against a fresh SQLite file
//! per test, or a fresh PostgreSQL database per test when `SECONDMILE_TEST_DATABASE_URL`
//! points at a server.

mod action_plans;
mod aggregates;
mod aggregates_property;
mod attachments;
mod auth;
mod backup;
mod changes;
mod cli;
mod concurrency;
mod contract;
mod control;
mod cursors;
mod dashboard;
mod demo;
mod drivers;
mod eligibility;
mod errors;
mod events;
mod exports;
mod fairness;
mod fuzz_bodies;
mod health;
mod helpers;
mod hygiene;
mod leaderboard;
mod locations;
mod matrix;
mod migrations;
mod openapi;
mod paging;
mod programme;
mod questionnaires;
mod rate_limit;
mod rebuild;
mod recognition;
mod reports;
mod review;
mod rollups;
mod schema;
mod storage;
mod structure;
mod sync;
mod upgrade;
mod users;
