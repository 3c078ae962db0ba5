//! Photos and receipts uploaded by the shoppers' apps: what a file is (`content`) and where
//! files are kept (`storage`).

pub mod content;
pub mod storage;
