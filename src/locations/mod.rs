//! Locations: the places that are visited.

pub mod dto;
pub mod handlers;
pub mod import;
pub mod model;
pub mod service;
