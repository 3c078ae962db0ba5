//! The audit log: every administrative change of an organization (users and roles,
//! integration clients, locations, questionnaires, settings, webhooks, waves, erasures), who
//! made it, when, and the target before and after. Each entry is written by the change's
//! own transaction ([`model::record`]); `GET /api/v1/audit` lists them for admins.

pub mod dto;
pub mod handlers;
pub mod model;
