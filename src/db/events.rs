//! The outbox (events in commit order per organization), webhook subscriptions, their
//! deliveries and attempts.

use std::cell::Cell;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{event_sequences, events, webhook_attempts, webhook_deliveries, webhooks};
use super::{DbConn, bad_data, parse_stored};
use crate::events::model::{Event, EventType, NewEvent};
use crate::events::webhook::{Attempt, Delivery, DeliveryStatus, Webhook};
use crate::ids::{AttemptId, DeliveryId, EventId, OrgId, WebhookId};

thread_local! {
    /// Set when this thread wrote an event; [`super::Db::run`] rings the bell after the
    /// closure returns, so long-polls and the delivery worker wake at once.
    static WROTE_EVENT: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread wrote an event since the last call (and forgets it).
pub(crate) fn take_wrote_event() -> bool {
    WROTE_EVENT.with(|w| w.replace(false))
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

// -------------------------------------------------------------------------- outbox

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

/// Writes an event and one delivery per active subscription that wants it. Call inside
/// the transaction of the change it records: it commits, or disappears, with the change.
pub fn record(conn: &mut DbConn, event: &NewEvent) -> QueryResult<Event> {
    let seq = next_seq(conn, event.org_id)?;
    let stored = Event {
        seq,
        id: event.id,
        org_id: event.org_id,
        event_type: event.event_type.as_str().to_string(),
        subject_type: event.event_type.subject_type().to_string(),
        subject_id: event.subject_id.clone(),
        occurred_at: event.occurred_at,
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
    let body = stored.to_json().to_string();
    for hook in list_webhooks(conn, event.org_id)? {
        if hook.active && hook.wants(event.event_type) {
            insert_delivery(conn, &hook, &stored, &body)?;
        }
    }
    WROTE_EVENT.with(|w| w.set(true));
    Ok(stored)
}

/// Records every event of `list` (see [`record`]).
pub fn record_all(conn: &mut DbConn, list: &[NewEvent]) -> QueryResult<()> {
    for event in list {
        record(conn, event)?;
    }
    Ok(())
}

fn insert_delivery(
    conn: &mut DbConn,
    hook: &Webhook,
    event: &Event,
    body: &str,
) -> QueryResult<()> {
    let now = super::now().naive_utc();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::org_id.eq(hook.org_id),
            webhook_deliveries::id.eq(DeliveryId::generate()),
            webhook_deliveries::webhook_id.eq(hook.id),
            webhook_deliveries::event_id.eq(event.id),
            webhook_deliveries::event_type.eq(&event.event_type),
            webhook_deliveries::body.eq(body),
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::give_up_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::occurred_at.eq(event.occurred_at.naive_utc()),
            webhook_deliveries::created_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
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

/// Deletes up to [`PRUNE_BATCH`] finished (succeeded or failed) deliveries last changed
/// before `cutoff`, with their attempts; pending deliveries are kept whatever their age.
/// Answers (deliveries, attempts) deleted. Call in a write transaction.
pub fn prune_deliveries(conn: &mut DbConn, cutoff: DateTime<Utc>) -> QueryResult<(usize, usize)> {
    let finished = || {
        webhook_deliveries::table
            .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending.as_str()))
            .filter(webhook_deliveries::updated_at.lt(cutoff.naive_utc()))
    };
    let done: Vec<(String, String)> = finished()
        .select((webhook_deliveries::org_id, webhook_deliveries::id))
        .limit(PRUNE_BATCH)
        .load(conn)?;
    let mut by_org: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (org, id) in &done {
        by_org.entry(org).or_default().push(id);
    }
    let (mut deliveries, mut attempts) = (0, 0);
    for (org, ids) in by_org {
        attempts += diesel::delete(
            webhook_attempts::table
                .filter(webhook_attempts::org_id.eq(org))
                .filter(webhook_attempts::delivery_id.eq_any(&ids)),
        )
        .execute(conn)?;
        deliveries += diesel::delete(
            finished()
                .filter(webhook_deliveries::org_id.eq(org))
                .filter(webhook_deliveries::id.eq_any(&ids)),
        )
        .execute(conn)?;
    }
    Ok((deliveries, attempts))
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
        occurred_at: utc(occurred_at),
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

// ------------------------------------------------------------------------ webhooks

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    org_id: OrgId,
    id: WebhookId,
    url: String,
    description: String,
    event_types: String,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<NaiveDateTime>,
    active: bool,
    disabled_reason: Option<String>,
    disabled_at: Option<NaiveDateTime>,
    failing_since: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl WebhookRow {
    fn of(w: &Webhook) -> Self {
        let names: Vec<&str> = w.event_types.iter().map(|t| t.as_str()).collect();
        WebhookRow {
            org_id: w.org_id,
            id: w.id,
            url: w.url.clone(),
            description: w.description.clone(),
            event_types: serde_json::to_string(&names).unwrap_or_else(|_| "[]".into()),
            secret: w.secret.clone(),
            previous_secret: w.previous_secret.clone(),
            previous_secret_expires_at: w.previous_secret_expires_at.map(|t| t.naive_utc()),
            active: w.active,
            disabled_reason: w.disabled_reason.clone(),
            disabled_at: w.disabled_at.map(|t| t.naive_utc()),
            failing_since: w.failing_since.map(|t| t.naive_utc()),
            created_at: w.created_at.naive_utc(),
            updated_at: w.updated_at.naive_utc(),
        }
    }

    fn into_webhook(self) -> QueryResult<Webhook> {
        let names: Vec<String> = serde_json::from_str(&self.event_types)
            .map_err(|e| bad_data(format!("bad stored event types: {e}")))?;
        let event_types = names
            .iter()
            .map(|n| {
                EventType::parse(n).ok_or_else(|| bad_data(format!("unknown event type `{n}`")))
            })
            .collect::<QueryResult<Vec<_>>>()?;
        Ok(Webhook {
            id: self.id,
            org_id: self.org_id,
            url: self.url,
            description: self.description,
            event_types,
            secret: self.secret,
            previous_secret: self.previous_secret,
            previous_secret_expires_at: self.previous_secret_expires_at.map(utc),
            active: self.active,
            disabled_reason: self.disabled_reason,
            disabled_at: self.disabled_at.map(utc),
            failing_since: self.failing_since.map(utc),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

pub fn insert_webhook(conn: &mut DbConn, hook: &Webhook) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(WebhookRow::of(hook))
        .execute(conn)?;
    Ok(())
}

/// Writes every field of `hook` (found by its organization and id); false when it is gone.
pub fn update_webhook(conn: &mut DbConn, hook: &Webhook) -> QueryResult<bool> {
    let row = WebhookRow::of(hook);
    let updated = diesel::update(
        webhooks::table
            .filter(webhooks::org_id.eq(hook.org_id))
            .filter(webhooks::id.eq(hook.id)),
    )
    .set((
        webhooks::url.eq(row.url),
        webhooks::description.eq(row.description),
        webhooks::event_types.eq(row.event_types),
        webhooks::secret.eq(row.secret),
        webhooks::previous_secret.eq(row.previous_secret),
        webhooks::previous_secret_expires_at.eq(row.previous_secret_expires_at),
        webhooks::active.eq(row.active),
        webhooks::disabled_reason.eq(row.disabled_reason),
        webhooks::disabled_at.eq(row.disabled_at),
        webhooks::failing_since.eq(row.failing_since),
        webhooks::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn find_webhook(conn: &mut DbConn, org: OrgId, id: WebhookId) -> QueryResult<Option<Webhook>> {
    webhooks::table
        .filter(webhooks::org_id.eq(org))
        .filter(webhooks::id.eq(id))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?
        .map(WebhookRow::into_webhook)
        .transpose()
}

/// The organization's subscriptions, oldest first.
pub fn list_webhooks(conn: &mut DbConn, org: OrgId) -> QueryResult<Vec<Webhook>> {
    webhooks::table
        .filter(webhooks::org_id.eq(org))
        .order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(conn)?
        .into_iter()
        .map(WebhookRow::into_webhook)
        .collect()
}

pub fn count_webhooks(conn: &mut DbConn, org: OrgId) -> QueryResult<i64> {
    webhooks::table
        .filter(webhooks::org_id.eq(org))
        .count()
        .get_result(conn)
}

/// Deletes a subscription with its deliveries and attempts; false when there was none.
pub fn delete_webhook(conn: &mut DbConn, org: OrgId, id: WebhookId) -> QueryResult<bool> {
    let deliveries = webhook_deliveries::table
        .filter(webhook_deliveries::org_id.eq(org))
        .filter(webhook_deliveries::webhook_id.eq(id))
        .select(webhook_deliveries::id);
    diesel::delete(
        webhook_attempts::table
            .filter(webhook_attempts::org_id.eq(org))
            .filter(webhook_attempts::delivery_id.eq_any(deliveries)),
    )
    .execute(conn)?;
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::org_id.eq(org))
            .filter(webhook_deliveries::webhook_id.eq(id)),
    )
    .execute(conn)?;
    let deleted = diesel::delete(
        webhooks::table
            .filter(webhooks::org_id.eq(org))
            .filter(webhooks::id.eq(id)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Marks the subscription's pending deliveries failed (it was disabled).
pub fn fail_pending(conn: &mut DbConn, org: OrgId, id: WebhookId, why: &str) -> QueryResult<usize> {
    let now = super::now().naive_utc();
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::org_id.eq(org))
            .filter(webhook_deliveries::webhook_id.eq(id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Failed.as_str()),
        webhook_deliveries::last_error.eq(why),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)
}

// ---------------------------------------------------------------------- deliveries

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    org_id: OrgId,
    id: DeliveryId,
    webhook_id: WebhookId,
    event_id: EventId,
    event_type: String,
    body: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    give_up_at: Option<NaiveDateTime>,
    occurred_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
}

impl DeliveryRow {
    fn into_delivery(self) -> QueryResult<Delivery> {
        Ok(Delivery {
            id: self.id,
            org_id: self.org_id,
            webhook_id: self.webhook_id,
            event_id: self.event_id,
            event_type: self.event_type,
            body: self.body,
            status: DeliveryStatus::parse(&self.status)
                .ok_or_else(|| bad_data(format!("bad delivery status `{}`", self.status)))?,
            attempts: self.attempts,
            next_attempt_at: utc(self.next_attempt_at),
            give_up_at: self.give_up_at.map(utc),
            occurred_at: utc(self.occurred_at),
            delivered_at: self.delivered_at.map(utc),
            last_error: self.last_error,
            created_at: utc(self.created_at),
        })
    }
}

/// A ping: a delivery of a message that is no event of the feed.
pub fn insert_ping(
    conn: &mut DbConn,
    hook: &Webhook,
    message_id: EventId,
    body: &str,
    at: DateTime<Utc>,
) -> QueryResult<DeliveryId> {
    let id = DeliveryId::generate();
    let now = at.naive_utc();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::org_id.eq(hook.org_id),
            webhook_deliveries::id.eq(id),
            webhook_deliveries::webhook_id.eq(hook.id),
            webhook_deliveries::event_id.eq(message_id),
            webhook_deliveries::event_type.eq(EventType::Ping.as_str()),
            webhook_deliveries::body.eq(body),
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::give_up_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::occurred_at.eq(now),
            webhook_deliveries::created_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    WROTE_EVENT.with(|w| w.set(true));
    Ok(id)
}

pub fn find_delivery(
    conn: &mut DbConn,
    org: OrgId,
    webhook: WebhookId,
    id: DeliveryId,
) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::org_id.eq(org))
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?
        .map(DeliveryRow::into_delivery)
        .transpose()
}

/// A subscription's deliveries, newest first, after the cursor `before` (an id), at most
/// `limit`, optionally of one status.
pub fn list_deliveries(
    conn: &mut DbConn,
    org: OrgId,
    webhook: WebhookId,
    status: Option<DeliveryStatus>,
    before: Option<DeliveryId>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::org_id.eq(org))
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before));
    }
    query
        .load(conn)?
        .into_iter()
        .map(DeliveryRow::into_delivery)
        .collect()
}

/// Makes a delivery due now with a fresh retry window; false when it is gone.
pub fn redeliver(
    conn: &mut DbConn,
    org: OrgId,
    webhook: WebhookId,
    id: DeliveryId,
) -> QueryResult<bool> {
    let now = super::now().naive_utc();
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::org_id.eq(org))
            .filter(webhook_deliveries::webhook_id.eq(webhook))
            .filter(webhook_deliveries::id.eq(id)),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::give_up_at.eq(None::<NaiveDateTime>),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated == 1 {
        WROTE_EVENT.with(|w| w.set(true));
    }
    Ok(updated == 1)
}

// ------------------------------------------------------------------------ attempts

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
struct AttemptRow {
    org_id: OrgId,
    id: AttemptId,
    delivery_id: DeliveryId,
    attempted_at: NaiveDateTime,
    response_status: Option<i32>,
    latency_ms: i64,
    error: Option<String>,
    succeeded: bool,
}

/// The attempts at the given deliveries, oldest first.
pub fn attempts_of(
    conn: &mut DbConn,
    org: OrgId,
    deliveries: &[DeliveryId],
) -> QueryResult<Vec<Attempt>> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    Ok(webhook_attempts::table
        .filter(webhook_attempts::org_id.eq(org))
        .filter(webhook_attempts::delivery_id.eq_any(deliveries))
        .order(webhook_attempts::id.asc())
        .select(AttemptRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| Attempt {
            id: r.id,
            org_id: r.org_id,
            delivery_id: r.delivery_id,
            attempted_at: utc(r.attempted_at),
            response_status: r.response_status.and_then(|s| u16::try_from(s).ok()),
            latency_ms: u64::try_from(r.latency_ms).unwrap_or(0),
            error: r.error,
            succeeded: r.succeeded,
        })
        .collect())
}

// -------------------------------------------------------------------------- worker

/// A delivery the worker took, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: Delivery,
    pub webhook: Webhook,
}

/// Whether any delivery is due (a read, so an idle worker never takes SQLite's write lock).
pub fn has_due(conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(webhook_deliveries::next_attempt_at.le(now.naive_utc())),
    ))
    .get_result(conn)
}

/// Takes up to `limit` due deliveries of active subscriptions, in the order they fell due,
/// and pushes them `lease` into the future: if this process dies before recording the
/// attempt, they fall due again then. On PostgreSQL rows another instance is taking are
/// skipped (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time. A delivery's retry
/// window (`window` from its first attempt) starts here.
pub fn claim_due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lease: chrono::TimeDelta,
    window: chrono::TimeDelta,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    macro_rules! due {
        () => {
            webhook_deliveries::table
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(webhook_deliveries::next_attempt_at.le(now.naive_utc()))
                .order(webhook_deliveries::next_attempt_at.asc())
                .limit(limit)
                .select(DeliveryRow::as_select())
        };
    }
    let rows: Vec<DeliveryRow> = match conn {
        DbConn::Pg(c) => due!().for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due!().load(c)?,
    };
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let mut delivery = row.into_delivery()?;
        let give_up_at = delivery.give_up_at.unwrap_or(now + window);
        let hook = find_webhook(conn, delivery.org_id, delivery.webhook_id)?;
        let Some(hook) = hook.filter(|h| h.active) else {
            // A disabled subscription's deliveries are failed when it is disabled; one
            // written meanwhile is failed here.
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::org_id.eq(delivery.org_id))
                    .filter(webhook_deliveries::id.eq(delivery.id)),
            )
            .set((
                webhook_deliveries::status.eq(DeliveryStatus::Failed.as_str()),
                webhook_deliveries::last_error.eq("the webhook is disabled"),
                webhook_deliveries::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
            continue;
        };
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::org_id.eq(delivery.org_id))
                .filter(webhook_deliveries::id.eq(delivery.id)),
        )
        .set((
            webhook_deliveries::next_attempt_at.eq((now + lease).naive_utc()),
            webhook_deliveries::give_up_at.eq(Some(give_up_at.naive_utc())),
        ))
        .execute(conn)?;
        delivery.give_up_at = Some(give_up_at);
        claimed.push(Claimed {
            delivery,
            webhook: hook,
        });
    }
    Ok(claimed)
}

/// What became of an attempt, as the worker decided it.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub attempt: Attempt,
    /// `Some` when the delivery is to be tried again then; `None` with a failed attempt
    /// means it is given up.
    pub retry_at: Option<DateTime<Utc>>,
    /// Disable the subscription, with this reason.
    pub disable: Option<String>,
}

/// Stores an attempt and its consequences for the delivery and the subscription. Nothing
/// is written when the delivery is gone (its subscription was deleted) or no longer
/// pending (redelivered or failed meanwhile: the later state wins).
pub fn record_attempt(
    conn: &mut DbConn,
    delivery: &Delivery,
    outcome: &AttemptOutcome,
    disable_after: chrono::TimeDelta,
) -> QueryResult<bool> {
    let a = &outcome.attempt;
    let now = a.attempted_at.naive_utc();
    let target = webhook_deliveries::table
        .filter(webhook_deliveries::org_id.eq(delivery.org_id))
        .filter(webhook_deliveries::id.eq(delivery.id))
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()));
    let updated = if a.succeeded {
        diesel::update(target)
            .set((
                webhook_deliveries::status.eq(DeliveryStatus::Succeeded.as_str()),
                webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                webhook_deliveries::delivered_at.eq(Some(now)),
                webhook_deliveries::last_error.eq(None::<String>),
                webhook_deliveries::updated_at.eq(now),
            ))
            .execute(conn)?
    } else {
        let (status, next) = match outcome.retry_at {
            Some(at) => (DeliveryStatus::Pending, at.naive_utc()),
            None => (DeliveryStatus::Failed, now),
        };
        diesel::update(target)
            .set((
                webhook_deliveries::status.eq(status.as_str()),
                webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                webhook_deliveries::next_attempt_at.eq(next),
                webhook_deliveries::last_error.eq(a.error.clone()),
                webhook_deliveries::updated_at.eq(now),
            ))
            .execute(conn)?
    };
    if updated != 1 {
        return Ok(false);
    }
    diesel::insert_into(webhook_attempts::table)
        .values(AttemptRow {
            org_id: a.org_id,
            id: a.id,
            delivery_id: a.delivery_id,
            attempted_at: now,
            response_status: a.response_status.map(i32::from),
            latency_ms: i64::try_from(a.latency_ms).unwrap_or(i64::MAX),
            error: a.error.clone(),
            succeeded: a.succeeded,
        })
        .execute(conn)?;
    let Some(mut hook) = find_webhook(conn, delivery.org_id, delivery.webhook_id)? else {
        return Ok(true);
    };
    if a.succeeded {
        if hook.failing_since.is_some() {
            hook.failing_since = None;
            hook.updated_at = a.attempted_at;
            update_webhook(conn, &hook)?;
        }
        return Ok(true);
    }
    let since = *hook.failing_since.get_or_insert(a.attempted_at);
    let reason = outcome.disable.clone().or_else(|| {
        (a.attempted_at - since >= disable_after).then(|| {
            format!(
                "every delivery failed since {} (last: {})",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                a.error.as_deref().unwrap_or("no answer")
            )
        })
    });
    if let Some(reason) = reason
        && hook.active
    {
        hook.active = false;
        hook.disabled_at = Some(a.attempted_at);
        hook.disabled_reason = Some(reason.clone());
        fail_pending(
            conn,
            hook.org_id,
            hook.id,
            &format!("the webhook was disabled: {reason}"),
        )?;
    }
    hook.updated_at = a.attempted_at;
    update_webhook(conn, &hook)?;
    Ok(true)
}

/// The oldest due delivery's due time (for the lag gauge).
pub fn oldest_pending(conn: &mut DbConn) -> QueryResult<Option<DateTime<Utc>>> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .select(diesel::dsl::min(webhook_deliveries::occurred_at))
        .first::<Option<NaiveDateTime>>(conn)?
        .map(utc))
}
