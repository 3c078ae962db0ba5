//! The outbox: events in commit order per organization, read by the feed and removed by
//! retention.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{event_sequences, events};
use super::{DbConn, bad_data, parse_stored};
use crate::events::model::{Event, EventType, NewEvent};
use crate::ids::{EventId, OrgId};

/// Takes the organization's next sequence number. The row stays locked until the
/// transaction ends, so the organization's events commit in the order of their numbers.
fn next_seq(conn: &mut DbConn, org: OrgId) -> QueryResult<i64> {
    let taken: Option<i64> =
        diesel::update(event_sequences::table.filter(event_sequences::org_id.eq(org)))
            .set(event_sequences::last_seq.eq(event_sequences::last_seq + 1))
            .returning(event_sequences::last_seq)
            .get_result(conn)
            .optional()?;
    if let Some(seq) = taken {
        return Ok(seq);
    }
    diesel::insert_into(event_sequences::table)
        .values((
            event_sequences::org_id.eq(org),
            event_sequences::last_seq.eq(1i64),
        ))
        .execute(conn)?;
    Ok(1)
}

/// A new organization starts its sequence (call in the transaction creating it).
pub fn start_sequence(conn: &mut DbConn, org: OrgId) -> QueryResult<()> {
    diesel::insert_into(event_sequences::table)
        .values((
            event_sequences::org_id.eq(org),
            event_sequences::last_seq.eq(0i64),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes an event with the organization's next number, as it happened at `at`. Call inside
/// the transaction of the change it records: it commits, or disappears, with the change.
pub fn insert(conn: &mut DbConn, event: &NewEvent, at: DateTime<Utc>) -> QueryResult<Event> {
    let seq = next_seq(conn, event.org_id)?;
    let stored = Event {
        seq,
        id: event.id,
        org_id: event.org_id,
        event_type: event.event_type.as_str().to_string(),
        subject_type: event.event_type.subject_type().to_string(),
        subject_id: event.subject_id.clone(),
        occurred_at: at,
        data: event.data.clone(),
    };
    diesel::insert_into(events::table)
        .values((
            events::org_id.eq(stored.org_id),
            events::seq.eq(seq),
            events::id.eq(stored.id),
            events::event_type.eq(&stored.event_type),
            events::subject_type.eq(&stored.subject_type),
            events::subject_id.eq(&stored.subject_id),
            events::occurred_at.eq(stored.occurred_at.naive_utc()),
            events::data.eq(stored.data.to_string()),
        ))
        .execute(conn)?;
    Ok(stored)
}

/// Where the organization's feed starts and ends: events up to the first number were
/// removed by retention; the second is the last number given.
pub fn bounds(conn: &mut DbConn, org: OrgId) -> QueryResult<(i64, i64)> {
    Ok(event_sequences::table
        .filter(event_sequences::org_id.eq(org))
        .select((event_sequences::pruned_through, event_sequences::last_seq))
        .first(conn)
        .optional()?
        .unwrap_or((0, 0)))
}

/// Rows removed per transaction, so retention never holds the write lock for long.
pub const PRUNE_BATCH: i64 = 500;

/// Per organization with events older than `cutoff`: its id, where its feed starts now and
/// the number up to which retention may delete (the last event before the first one at or
/// after the cutoff). Events are numbered in commit order and stamped as they are written, so
/// their times rise with their numbers (to within the moments a transaction waits for the
/// counter, nothing next to a retention of days): the boundary is found by bisection on the
/// primary key, not by scanning.
pub fn prune_plan(
    conn: &mut DbConn,
    cutoff: DateTime<Utc>,
) -> QueryResult<Vec<(String, i64, i64)>> {
    let cutoff = cutoff.naive_utc();
    let sequences: Vec<(String, i64, i64)> = event_sequences::table
        .select((
            event_sequences::org_id,
            event_sequences::pruned_through,
            event_sequences::last_seq,
        ))
        .load(conn)?;
    let mut plan = Vec::new();
    for (org, through, last) in sequences {
        // The first number whose event is at or after the cutoff, in (through, last + 1].
        let (mut low, mut high) = (through + 1, last + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            let at: Option<NaiveDateTime> = events::table
                .filter(events::org_id.eq(&org))
                .filter(events::seq.eq(middle))
                .select(events::occurred_at)
                .first(conn)
                .optional()?;
            if at.is_some_and(|at| at >= cutoff) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        let upto = low - 1;
        if upto > through {
            plan.push((org, through, upto));
        }
    }
    Ok(plan)
}

/// Deletes the organization's events numbered in `(from, to]` and moves the start of its
/// feed to `to` (only ever forward). Call in a write transaction.
pub fn prune_events(conn: &mut DbConn, org: &str, from: i64, to: i64) -> QueryResult<usize> {
    let deleted = diesel::delete(
        events::table
            .filter(events::org_id.eq(org))
            .filter(events::seq.gt(from))
            .filter(events::seq.le(to)),
    )
    .execute(conn)?;
    diesel::update(
        event_sequences::table
            .filter(event_sequences::org_id.eq(org))
            .filter(event_sequences::pruned_through.lt(to)),
    )
    .set(event_sequences::pruned_through.eq(to))
    .execute(conn)?;
    Ok(deleted)
}

type EventRow = (
    String,
    i64,
    EventId,
    String,
    String,
    String,
    NaiveDateTime,
    String,
);

fn event_of(row: EventRow) -> QueryResult<Event> {
    let (org, seq, id, event_type, subject_type, subject_id, occurred_at, data) = row;
    Ok(Event {
        seq,
        id,
        org_id: parse_stored(&org)?,
        event_type,
        subject_type,
        subject_id,
        occurred_at: occurred_at.and_utc(),
        data: serde_json::from_str(&data)
            .map_err(|e| bad_data(format!("bad stored event data: {e}")))?,
    })
}

/// The organization's events after `after` up to `upto` (inclusive), in commit order, of
/// the given types (every type when empty), at most `limit`.
pub fn feed(
    conn: &mut DbConn,
    org: OrgId,
    after: i64,
    upto: i64,
    types: &[EventType],
    limit: i64,
) -> QueryResult<Vec<Event>> {
    let mut query = events::table
        .filter(events::org_id.eq(org))
        .filter(events::seq.gt(after))
        .filter(events::seq.le(upto))
        .order(events::seq.asc())
        .limit(limit)
        .select((
            events::org_id,
            events::seq,
            events::id,
            events::event_type,
            events::subject_type,
            events::subject_id,
            events::occurred_at,
            events::data,
        ))
        .into_boxed();
    if !types.is_empty() {
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        query = query.filter(events::event_type.eq_any(names));
    }
    query
        .load::<EventRow>(conn)?
        .into_iter()
        .map(event_of)
        .collect()
}
