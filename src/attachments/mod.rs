//! Photos and receipts uploaded by the shoppers' apps: what a file is (`content`), where
//! files are kept (`storage`), the use cases (`service`), the sweeper of files without a row
//! (`sweep`), the copies backups make (`copy`) and the endpoints; uploads are bounded
//! (`gate`) and streamed to disk (`staging`).

pub mod content;
pub mod copy;
pub mod dto;
pub mod gate;
pub mod handlers;
pub mod model;
pub mod service;
pub mod staging;
pub mod storage;
pub mod sweep;
