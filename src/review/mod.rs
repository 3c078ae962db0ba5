//! The review workflow: approve, reject, return for revision, reopen; the audit trail.

pub mod dto;
pub mod handlers;
