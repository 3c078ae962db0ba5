//! Questionnaires: versioned survey templates.

pub mod dto;
pub mod handlers;
pub mod interchange;
pub mod language;
pub mod model;
pub mod rules;
pub mod service;
pub mod translation_handlers;
pub mod translations;
