//! The visit programme: waves (a period with a number of visits per location), assignments
//! (planned visits for shoppers), lockout rules and coverage. `rules` and `schedule` are pure.

pub mod commands;
pub mod dto;
pub mod handlers;
pub mod mine;
pub mod model;
pub mod rules;
pub mod schedule;
pub mod service;
pub mod sync;
