//! The organization's own settings (admins): choices that change what the API shows.

pub mod handlers;
pub mod model;
pub mod service;
