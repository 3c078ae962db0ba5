//! Retention: events, and finished webhook deliveries with their attempts, are deleted once
//! older than the configured period, by `serve` at start and hourly or by
//! `secondmile events prune`. Each batch is its own short transaction.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::db::events::{self as store, PRUNE_BATCH};
use crate::db::{Db, DbError, deliveries};

/// How often `serve` prunes.
const EVERY: Duration = Duration::from_secs(3600);

/// What a retention pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub events: usize,
    pub deliveries: usize,
    pub attempts: usize,
}

/// The moment before which rows go: `older_than` before `now`.
pub fn cutoff(now: DateTime<Utc>, older_than: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(older_than)
        .ok()
        .and_then(|age| now.checked_sub_signed(age))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Deletes what is older than `cutoff`.
pub async fn prune(db: &Db, cutoff: DateTime<Utc>) -> Result<Pruned, DbError> {
    let mut pruned = Pruned::default();
    let plan = db
        .run(move |conn| Ok::<_, DbError>(store::prune_plan(conn, cutoff)?))
        .await?;
    for (org, through, upto) in plan {
        let mut from = through;
        while from < upto {
            let to = (from + PRUNE_BATCH).min(upto);
            let org = org.clone();
            pruned.events += db
                .write(move |tx| Ok::<_, DbError>(store::prune_events(tx, &org, from, to)?))
                .await?;
            from = to;
        }
    }
    loop {
        let (deliveries, attempts) = db
            .write(move |tx| Ok::<_, DbError>(deliveries::prune_deliveries(tx, cutoff)?))
            .await?;
        pruned.deliveries += deliveries;
        pruned.attempts += attempts;
        if (deliveries as i64) < PRUNE_BATCH {
            return Ok(pruned);
        }
    }
}

/// Prunes at start, then every hour, while the server runs.
pub async fn run_periodically(db: Db, retention: Duration) {
    let mut interval = actix_web::rt::time::interval(EVERY);
    loop {
        interval.tick().await;
        match prune(&db, cutoff(db.now(), retention)).await {
            Ok(p) => tracing::info!(
                events = p.events,
                deliveries = p.deliveries,
                attempts = p.attempts,
                "event retention pass done"
            ),
            Err(e) => {
                tracing::error!(error = %e, "event retention pass failed; retried in an hour")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_period_ago_and_never_overflows() {
        let now = crate::clock::Clock::system().now();
        let day = cutoff(now, Duration::from_secs(86_400));
        assert_eq!(day, now - TimeDelta::days(1));
        assert_eq!(cutoff(now, Duration::ZERO), now);
        assert_eq!(
            cutoff(now, Duration::from_secs(u64::MAX)),
            DateTime::<Utc>::MIN_UTC
        );
    }
}
