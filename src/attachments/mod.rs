//! Photos and receipts uploaded by the shoppers' apps: what a file is (`content`), where
//! files are kept (`storage`), the use cases (`service`), the sweeper of files without a row
//! (`sweep`) and the endpoints.

pub mod content;
pub mod dto;
pub mod handlers;
pub mod model;
pub mod service;
pub mod storage;
pub mod sweep;
