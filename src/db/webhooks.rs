//! Webhook subscriptions.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{webhook_attempts, webhook_deliveries, webhooks};
use super::{DbConn, bad_data, utc};
use crate::events::model::EventType;
use crate::events::webhook::{DeliveryStatus, Webhook};
use crate::ids::{OrgId, WebhookId};

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
pub fn fail_pending(
    conn: &mut DbConn,
    org: OrgId,
    id: WebhookId,
    why: &str,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let now = at.naive_utc();
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
