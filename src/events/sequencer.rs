//! The sequencer: numbers committed events for the feed and fans them out to webhooks.
//!
//! A transaction that changes something writes its event to a waiting list (see
//! [`crate::db::events::write_pending`]) and shares no row with other writers. After it
//! commits, the sequencer takes the waiting events in batches, one transaction at a time (an
//! advisory lock on PostgreSQL makes it one across instances), gives each its organization's
//! next number, moves it to the outbox and makes one delivery for each active subscription
//! that wants it. A batch commits whole, and only after every earlier batch: a reader sees
//! a prefix of each organization's numbers, never a gap that is filled later.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use super::model::EventType;
use super::webhook::Webhook;
use crate::db::events as store;
use crate::db::{Db, DbError, QueryResult, Tx, deliveries, webhooks};
use crate::ids::OrgId;

/// Events numbered per transaction.
pub const BATCH: i64 = 500;

/// How often the background sequencer looks without being woken: for events written by
/// an instance that stopped before numbering them, and for other instances' events that
/// this instance's long-polls wait for.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How long the sequencer lets commits gather once woken.
const GATHER: Duration = Duration::from_millis(10);

/// What one transaction of the sequencer numbered.
#[derive(Default)]
struct Pass {
    /// Each organization concerned, with the last number given.
    last: Vec<(OrgId, i64)>,
    count: usize,
    deliveries: bool,
}

fn pass(tx: &mut Tx<'_>) -> QueryResult<Pass> {
    store::lock_sequencer(tx)?;
    let numbered = store::sequence_pending(tx, BATCH)?;
    let mut done = Pass {
        count: numbered.len(),
        ..Pass::default()
    };
    let mut hooks: HashMap<OrgId, Vec<Webhook>> = HashMap::new();
    for event in &numbered {
        let list = match hooks.entry(event.org_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(webhooks::list_webhooks(tx, event.org_id)?),
        };
        if let Some(kind) = EventType::parse(&event.event_type) {
            let wanted: Vec<&Webhook> = list.iter().filter(|h| h.active && h.wants(kind)).collect();
            if !wanted.is_empty() {
                let message = event.message();
                for hook in wanted {
                    deliveries::insert(tx, hook, &message, event.occurred_at)?;
                }
                done.deliveries = true;
            }
        }
        // Numbered in order: an organization's last event of the batch comes last.
        match done.last.iter_mut().find(|(org, _)| *org == event.org_id) {
            Some((_, last)) => *last = event.seq,
            None => done.last.push((event.org_id, event.seq)),
        }
    }
    Ok(done)
}

/// Numbers every event committed so far, in batches, then wakes the long-polls of the
/// organizations concerned and, when deliveries were made, the delivery worker.
pub async fn sequence(db: &Db) -> Result<(), DbError> {
    loop {
        let done = db.write(|tx| Ok::<_, DbError>(pass(tx)?)).await?;
        for (org, last) in &done.last {
            db.bells().seen(*org, *last);
        }
        if done.deliveries {
            db.bells().ring_deliveries();
        }
        if done.count < BATCH as usize {
            return Ok(());
        }
    }
}

/// Numbers the events committed before this call, if any wait (a read otherwise): what a
/// caller wrote before reading the feed is in it.
pub async fn catch_up(db: &Db) -> Result<(), DbError> {
    let waiting = db
        .run(|conn| Ok::<_, DbError>(store::has_pending(conn)?))
        .await?;
    if waiting {
        sequence(db).await?;
    }
    Ok(())
}

/// Tells this instance's long-polls of events numbered elsewhere (by another instance).
async fn look_for_news(db: &Db) -> Result<(), DbError> {
    let watched = db.bells().watched();
    if watched.is_empty() {
        return Ok(());
    }
    let last = db
        .run(move |conn| Ok::<_, DbError>(store::last_numbers(conn, &watched)?))
        .await?;
    for (org, seq) in last {
        db.bells().seen(org, seq);
    }
    Ok(())
}

/// Runs inside `serve`: numbers events as soon as their transactions commit (woken by
/// [`crate::db::Tx::wake_on_commit`]), and at least every second, until `stop` turns true.
pub async fn run(db: Db, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut written = db.bells().written();
    loop {
        if *stop.borrow() {
            break;
        }
        written.mark_unchanged();
        if let Err(e) = catch_up(&db).await {
            tracing::warn!(error = %e, "cannot number the events written");
        }
        if let Err(e) = look_for_news(&db).await {
            tracing::warn!(error = %e, "cannot read the organizations' last event numbers");
        }
        tokio::select! {
            _ = written.changed() => {
                // Let the commits of the next moments join this pass: one transaction numbers
                // them all (a reader of the feed does not wait for this: it catches up itself).
                tokio::time::sleep(GATHER).await;
            }
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = stop.changed() => {}
        }
    }
}
