//! Events for integrations: a transactional outbox (every state change writes its event in
//! the same transaction), a pull feed with long-polling, and webhooks signed after the
//! Standard Webhooks specification, delivered at least once by a worker inside `serve`.

pub mod document;
pub mod dto;
pub mod handlers;
pub mod model;
pub mod payload;
pub mod retention;
pub mod sequencer;
pub mod service;
pub mod webhook;
pub mod worker;
