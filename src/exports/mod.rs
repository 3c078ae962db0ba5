//! CSV exports for spreadsheet tools: the reports (one row per report, or per answer) and
//! the leaderboard. Streamed page by page, so memory stays flat whatever the size.

pub mod dto;
pub mod handlers;
pub mod rows;
pub mod service;
