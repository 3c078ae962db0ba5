//! The time as the application reads it. Production reads the system's; a test sets one by
//! hand and moves it, so a rule that depends on time (a quota over 24 hours, a lockout of
//! days) is tested without waiting. The clock travels with the database handle that every use
//! case holds ([`crate::db::Db::now`]), and each write transaction reads it once
//! ([`crate::db::Tx::now`]).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The system's time, or a time set by hand (shared by every clone).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system's time.
    pub fn system() -> Self {
        Clock::default()
    }

    /// A clock that stands at `at` until it is set or advanced.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Clock {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// The current time as the database stores it: UTC, truncated to microseconds so that a
    /// value read back from PostgreSQL compares equal to the one written.
    pub fn now(&self) -> DateTime<Utc> {
        let now = match &self.manual {
            None => Utc::now(),
            Some(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        };
        now.duration_trunc(TimeDelta::microseconds(1))
            .unwrap_or(now)
    }

    /// Moves a manual clock forward (or back, with a negative `by`); the system's clock
    /// cannot be moved and is left alone.
    pub fn advance(&self, by: TimeDelta) {
        if let Some(at) = &self.manual {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_clones_share_it() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let fine = Clock::manual(at("2026-12-01T10:00:00.1234567Z"));
        assert_eq!(fine.now(), at("2026-12-01T10:00:00.123456Z"));
        let clock = Clock::manual(at("2026-12-01T10:00:00Z"));
        let other = clock.clone();
        assert_eq!(clock.now(), other.now());
        other.advance(TimeDelta::hours(25));
        assert_eq!(clock.now(), at("2026-12-02T11:00:00Z"));
        let system = Clock::system();
        system.advance(TimeDelta::days(1));
        assert!((system.now() - Utc::now()).num_seconds().abs() <= 1);
    }
}
