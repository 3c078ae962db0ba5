//! Questionnaires: versioned survey templates.

pub mod model;
