//! Visit reports.

pub mod access;
pub mod assess;
mod context;
pub mod dto;
pub mod flags;
pub mod handlers;
pub mod model;
pub mod plausibility;
pub mod reasons;
pub mod scoring;
pub mod service;
pub mod validation;
pub mod verdict;
pub mod workflow;
