//! The organization's own settings (admins): choices that change what the API shows, and
//! the retention of personal text they set (`retention`).

pub mod handlers;
pub mod model;
pub mod retention;
pub mod service;
