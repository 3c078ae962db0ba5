//! Aggregates for HQ: statistics of released visits, and the rollups they are read from.

pub mod changes;
pub mod compare;
pub mod drivers;
pub mod dto;
pub mod figures;
pub mod handlers;
pub mod insight_dto;
pub mod insight_handlers;
pub mod maintenance;
pub mod order;
pub mod rebuilding;
pub mod recognition;
pub mod rollup;
pub mod service;
pub mod stats;
