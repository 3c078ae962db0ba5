//! Aggregates for HQ: statistics of released visits, and the rollups they are read from.

pub mod as_of;
pub mod changes;
pub mod compare;
pub mod drivers;
pub mod dto;
pub mod explain;
pub mod figures;
pub mod handlers;
pub mod insight_dto;
pub mod insight_handlers;
pub mod maintenance;
pub mod moves;
pub mod order;
pub mod raters;
pub mod rebuilding;
pub mod recognition;
pub mod rollup;
pub mod service;
pub mod stats;
pub mod trust_dto;
pub mod trust_handlers;
