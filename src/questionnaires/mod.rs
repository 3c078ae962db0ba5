//! Questionnaires: versioned survey templates.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod rules;
pub mod service;
