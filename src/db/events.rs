//! The outbox: events written by the transactions of their changes, numbered after they
//! commit by the sequencer (in that order, per organization), read by the feed and removed
//! by retention.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{event_sequences, events, pending_events};
use super::{DbConn, bad_data, parse_stored};
use crate::events::model::{Event, EventType, NewEvent};
use crate::ids::{EventId, OrgId};

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

/// Writes an event, as it happened at `at`, to be numbered once it commits. Call inside the
/// transaction of the change it records: it commits, or disappears, with the change. No
/// row is shared with other transactions, so writers of one organization do not wait for
/// each other here.
pub fn write_pending(conn: &mut DbConn, event: &NewEvent, at: DateTime<Utc>) -> QueryResult<()> {
    // PostgreSQL numbers the rows from a sequence; a SQLite writer holds the write lock, so
    // the next position after the last is its own.
    let pos = match conn {
        DbConn::Pg(_) => None,
        DbConn::Sqlite(_) => Some(
            pending_events::table
                .select(diesel::dsl::max(pending_events::pos))
                .first::<Option<i64>>(conn)?
                .unwrap_or(0)
                + 1,
        ),
    };
    diesel::insert_into(pending_events::table)
        .values((
            pos.map(|p| pending_events::pos.eq(p)),
            pending_events::org_id.eq(event.org_id),
            pending_events::id.eq(event.id),
            pending_events::event_type.eq(event.event_type.as_str()),
            pending_events::subject_type.eq(event.event_type.subject_type()),
            pending_events::subject_id.eq(&event.subject_id),
            pending_events::occurred_at.eq(at.naive_utc()),
            pending_events::data.eq(event.data.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Makes the calling transaction the only sequencer until it ends (PostgreSQL: a
/// transaction-scoped advisory lock shared by every instance; SQLite: the write lock that
/// every write transaction already holds).
pub fn lock_sequencer(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        // A fixed key of this application: "secondmile events" folded to 64 bits.
        diesel::sql_query("SELECT pg_advisory_xact_lock(7301522618839467011)").execute(pg)?;
    }
    Ok(())
}

/// Whether any event waits for its number.
pub fn has_pending(conn: &mut DbConn) -> QueryResult<bool> {
    Ok(pending_events::table
        .select(pending_events::pos)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// Numbers up to `limit` committed events that wait for it, oldest written first: each gets
/// its organization's next number, moves to the outbox and leaves the waiting list. Answers
/// them in the order numbered. Call in a write transaction after [`lock_sequencer`].
pub fn sequence_pending(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Event>> {
    let rows: Vec<PendingRow> = pending_events::table
        .order(pending_events::pos.asc())
        .limit(limit)
        .select((
            pending_events::pos,
            pending_events::org_id,
            pending_events::id,
            pending_events::event_type,
            pending_events::subject_type,
            pending_events::subject_id,
            pending_events::occurred_at,
            pending_events::data,
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut counts: Vec<(String, i64)> = Vec::new();
    for row in &rows {
        match counts.iter_mut().find(|(org, _)| *org == row.1) {
            Some((_, n)) => *n += 1,
            None => counts.push((row.1.clone(), 1)),
        }
    }
    let mut next: Vec<(String, i64)> = Vec::with_capacity(counts.len());
    for (org, n) in counts {
        let last = take_numbers(conn, &org, n)?;
        next.push((org, last - n + 1));
    }
    let mut numbered = Vec::with_capacity(rows.len());
    let mut positions = Vec::with_capacity(rows.len());
    for (pos, org, id, event_type, subject_type, subject_id, occurred_at, data) in rows {
        let Some(slot) = next.iter_mut().find(|(o, _)| *o == org) else {
            return Err(bad_data("an event's organization was not counted".into()));
        };
        let seq = slot.1;
        slot.1 += 1;
        positions.push(pos);
        numbered.push(event_of((
            org,
            seq,
            id,
            event_type,
            subject_type,
            subject_id,
            occurred_at,
            data,
        ))?);
    }
    for chunk in numbered.chunks(INSERT_CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|e| {
                (
                    events::org_id.eq(e.org_id),
                    events::seq.eq(e.seq),
                    events::id.eq(e.id),
                    events::event_type.eq(&e.event_type),
                    events::subject_type.eq(&e.subject_type),
                    events::subject_id.eq(&e.subject_id),
                    events::occurred_at.eq(e.occurred_at.naive_utc()),
                    events::data.eq(e.data.to_string()),
                )
            })
            .collect();
        on_backend!(conn, |c| diesel::insert_into(events::table)
            .values(&values)
            .execute(c))?;
    }
    // By position, never by range: on PostgreSQL a row with a lower position can commit
    // after this read, and must wait for the next pass.
    for chunk in positions.chunks(INSERT_CHUNK) {
        diesel::delete(pending_events::table.filter(pending_events::pos.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(numbered)
}

/// Rows per multi-row statement (well under SQLite's limit of bound values).
const INSERT_CHUNK: usize = 200;

type PendingRow = (
    i64,
    String,
    EventId,
    String,
    String,
    String,
    NaiveDateTime,
    String,
);

/// Takes `n` numbers of the organization's sequence; answers the last one.
fn take_numbers(conn: &mut DbConn, org: &str, n: i64) -> QueryResult<i64> {
    let taken: Option<i64> =
        diesel::update(event_sequences::table.filter(event_sequences::org_id.eq(org)))
            .set(event_sequences::last_seq.eq(event_sequences::last_seq + n))
            .returning(event_sequences::last_seq)
            .get_result(conn)
            .optional()?;
    if let Some(last) = taken {
        return Ok(last);
    }
    diesel::insert_into(event_sequences::table)
        .values((
            event_sequences::org_id.eq(org),
            event_sequences::last_seq.eq(n),
        ))
        .execute(conn)?;
    Ok(n)
}

/// The last number given to each of `orgs`' events.
pub fn last_numbers(conn: &mut DbConn, orgs: &[OrgId]) -> QueryResult<Vec<(OrgId, i64)>> {
    let rows: Vec<(String, i64)> = event_sequences::table
        .filter(event_sequences::org_id.eq_any(orgs.iter().map(|o| o.to_string())))
        .select((event_sequences::org_id, event_sequences::last_seq))
        .load(conn)?;
    rows.into_iter()
        .map(|(org, last)| Ok((parse_stored(&org)?, last)))
        .collect()
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
/// after the cutoff). Events are stamped as they are written and numbered moments after they
/// commit, so their times rise with their numbers (to within the time a transaction takes,
/// nothing next to a retention of days): the boundary is found by bisection on the
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
