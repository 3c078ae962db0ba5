//! Webhook deliveries (one message for one subscription) and the attempts at them; what
//! the delivery worker claims and records.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{webhook_attempts, webhook_deliveries};
use super::webhooks::find_webhook;
use super::{DbConn, bad_data, stored, utc};
use crate::events::model::Message;
use crate::events::webhook::{Attempt, Delivery, DeliveryStatus, Webhook};
use crate::ids::{AttemptId, DeliveryId, EventId, OrgId, WebhookId};

/// Makes `message` due to `hook` from `at`; answers the delivery's id.
pub fn insert(
    conn: &mut DbConn,
    hook: &Webhook,
    message: &Message,
    at: DateTime<Utc>,
) -> QueryResult<DeliveryId> {
    let id = DeliveryId::generate();
    let now = at.naive_utc();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::org_id.eq(hook.org_id),
            webhook_deliveries::id.eq(id),
            webhook_deliveries::webhook_id.eq(hook.id),
            webhook_deliveries::event_id.eq(message.id),
            webhook_deliveries::event_type.eq(&message.event_type),
            webhook_deliveries::body.eq(stored::message_to_json(message)),
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::give_up_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::occurred_at.eq(message.occurred_at.naive_utc()),
            webhook_deliveries::created_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
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
        .limit(super::events::PRUNE_BATCH)
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
            message: stored::message_from_json(&self.body)
                .map_err(|e| bad_data(format!("delivery {}: {e}", self.id)))?,
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
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let now = at.naive_utc();
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

/// Takes due deliveries of active subscriptions, in the order they fell due, and pushes them
/// `lease` into the future: if this process dies before recording the attempt, they fall due
/// again then. Up to `candidates` due rows are read, leaving out the subscriptions and
/// organizations in `skip` (those the worker has enough of in flight); `take` decides for
/// each, in order, whether the worker has room for it now (a delivery not taken stays due,
/// untouched). On PostgreSQL rows another instance is taking are skipped (`FOR UPDATE SKIP
/// LOCKED`); SQLite has one writer at a time. A delivery's retry window (`window` from its
/// first attempt) starts here.
pub fn claim_due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lease: chrono::TimeDelta,
    window: chrono::TimeDelta,
    candidates: i64,
    skip: &Busy,
    mut take: impl FnMut(&Delivery) -> bool,
) -> QueryResult<Vec<Claimed>> {
    macro_rules! due {
        () => {
            webhook_deliveries::table
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(webhook_deliveries::next_attempt_at.le(now.naive_utc()))
                .filter(webhook_deliveries::webhook_id.ne_all(&skip.webhooks))
                .filter(webhook_deliveries::org_id.ne_all(&skip.orgs))
                .order(webhook_deliveries::next_attempt_at.asc())
                .limit(candidates)
                .select(DeliveryRow::as_select())
        };
    }
    let rows: Vec<DeliveryRow> = match conn {
        DbConn::Pg(c) => due!().for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due!().load(c)?,
    };
    let rows = rows
        .into_iter()
        .map(DeliveryRow::into_delivery)
        .collect::<QueryResult<Vec<Delivery>>>()?;
    let mut claimed = Vec::with_capacity(rows.len());
    for mut delivery in rows {
        if !take(&delivery) {
            continue;
        }
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

/// The subscriptions and organizations a claim leaves out.
#[derive(Debug, Clone, Default)]
pub struct Busy {
    pub webhooks: Vec<WebhookId>,
    pub orgs: Vec<OrgId>,
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

/// Stores an attempt and what it makes of its delivery (delivered, due again, or given up);
/// false, with nothing written, when the delivery is gone (its subscription was deleted) or
/// no longer pending (redelivered or failed meanwhile: the later state wins).
pub fn record_attempt(
    conn: &mut DbConn,
    delivery: &Delivery,
    outcome: &AttemptOutcome,
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
