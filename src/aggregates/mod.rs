//! Aggregates for HQ: statistics of released visits, and the rollups they are read from.

pub mod figures;
pub mod maintenance;
pub mod rollup;
pub mod stats;
