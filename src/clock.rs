//! The time as the application reads it.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The current time as the database stores it: UTC, truncated to microseconds so that a
/// value read back from PostgreSQL compares equal to the one written.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}
