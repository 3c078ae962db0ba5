//! Visit reports.

pub mod scoring;
