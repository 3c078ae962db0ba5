//! Visit reports.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod scoring;
