//! The pull feed (with long-polling) and the management of webhook subscriptions.

use std::time::{Duration, Instant};

use chrono::TimeDelta;

use super::dto::WebhookResponse;
use super::model::{self, Event, EventType, NewEvent};
use super::sequencer;
use super::webhook::{self, Attempt, Delivery, DeliveryStatus, DeliveryView, UrlRules, Webhook};
use crate::audit::model::{self as audit, Actor, Target};
use crate::db::bells::FeedWaiter;
use crate::db::events as store;
use crate::db::{self, Db, DbError, QueryResult, Tx, deliveries, webhooks};
use crate::ids::{DeliveryId, OrgId, WebhookId};
use crate::validation::Violation;

/// Most subscriptions an organization may have.
pub const MAX_WEBHOOKS: i64 = 20;
/// Longest description of a subscription, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Longest overlap of a rotated secret: 7 days.
pub const MAX_OVERLAP_SECS: u64 = 7 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("no such {0} in this organization")]
    NotFound(&'static str),
    #[error("the request has invalid values")]
    Invalid(Vec<Violation>),
    #[error("the cursor is beyond the organization's last event")]
    CursorAhead,
    #[error(
        "events up to {0} were deleted after the retention period; read on from cursor={0}, or leave `cursor` out to start at the oldest event kept"
    )]
    Pruned(i64),
    #[error(
        "the organization already has {0} long-polls waiting, the most allowed; retry later, or read without `wait`"
    )]
    TooManyWaiters(usize),
    #[error("an organization has at most {MAX_WEBHOOKS} webhooks")]
    TooMany,
    #[error("the webhook is disabled; enable it first (PATCH with `active: true`)")]
    Disabled,
    #[error("cannot make a signing secret: {0}")]
    Random(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

db::domain_error!(EventsError);

// -------------------------------------------------------------------------- outbox

/// Writes an event in the transaction of the change it records: it commits, or disappears,
/// with the change. Once committed, the sequencer numbers it for the feed and makes one
/// delivery for every active subscription that wants it (see [`super::sequencer`]).
pub fn record(tx: &mut Tx<'_>, event: &NewEvent) -> QueryResult<()> {
    let at = tx.now();
    store::write_pending(tx, event, at)?;
    tx.wake_on_commit();
    Ok(())
}

/// Records every event of `list` (see [`record`]).
pub fn record_all(tx: &mut Tx<'_>, list: &[NewEvent]) -> QueryResult<()> {
    for event in list {
        record(tx, event)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------- feed

/// One page of the feed.
pub struct FeedPage {
    pub events: Vec<Event>,
    /// Where to continue: after the last event returned, or (when the feed was read to
    /// its end) after the last event committed so far, whatever its type.
    pub next_cursor: i64,
    pub has_more: bool,
}

/// The organization's events after `after` (of `types`, all when empty), at most `limit`;
/// when there is none yet and `wait` is not zero, waits up to `wait` for one.
pub async fn feed(
    db: &Db,
    org: OrgId,
    after: Option<i64>,
    types: Vec<EventType>,
    limit: u32,
    wait: Duration,
    waiters_cap: usize,
) -> Result<FeedPage, EventsError> {
    let deadline = Instant::now() + wait;
    // What was committed before this call is numbered, so a caller reads its own writes.
    sequencer::catch_up(db).await?;
    let mut waiter: Option<FeedWaiter> = None;
    loop {
        let types = types.clone();
        let (found, upto) = db
            .run(move |conn| {
                let (through, upto) = store::bounds(conn, org)?;
                // No cursor: the oldest event kept. A cursor older than that missed events
                // that retention deleted, and is told so rather than skipped past them.
                let after = match after {
                    None => through,
                    Some(after) if after < through => {
                        return Err(EventsError::Pruned(through));
                    }
                    Some(after) if after > upto => return Err(EventsError::CursorAhead),
                    Some(after) => after,
                };
                let events = store::feed(conn, org, after, upto, &types, i64::from(limit) + 1)?;
                Ok((events, upto))
            })
            .await?;
        let mut found = found;
        // A stopping server answers with what it has rather than hold the request.
        let remaining = if db.bells().is_closing() {
            Duration::ZERO
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        if !found.is_empty() || remaining.is_zero() {
            let has_more = found.len() > limit as usize;
            found.truncate(limit as usize);
            let next_cursor = match found.last() {
                Some(last) if has_more => last.seq,
                _ => upto,
            };
            return Ok(FeedPage {
                events: found,
                next_cursor,
                has_more,
            });
        }
        match &mut waiter {
            // Joined after the read: look once more, since events numbered in between rang
            // no bell of ours.
            None => {
                waiter = Some(
                    FeedWaiter::join(db.bells(), org, upto, waiters_cap)
                        .ok_or(EventsError::TooManyWaiters(waiters_cap))?,
                );
            }
            Some(waiter) => {
                waiter.bell.mark_unchanged();
                // Looked at after the mark: a close from here on rings this bell.
                if db.bells().is_closing() {
                    continue;
                }
                tokio::select! {
                    _ = waiter.bell.changed() => {}
                    _ = tokio::time::sleep(remaining) => {}
                }
            }
        }
    }
}

// ------------------------------------------------------------------------ webhooks

/// Records the change of a webhook in the audit log, as the API shows it (never a secret).
fn audited(
    tx: &mut Tx<'_>,
    actor: Actor,
    action: &'static str,
    before: Option<&Webhook>,
    after: Option<&Webhook>,
) -> Result<(), EventsError> {
    let now = tx.now();
    let view = |w: &Webhook| WebhookResponse::new(w.clone(), now);
    let Some(target) = after.or(before) else {
        return Ok(());
    };
    audit::record(
        tx,
        target.org_id,
        actor,
        action,
        Target::new("webhook", target.id),
        before.map(view).as_ref(),
        after.map(view).as_ref(),
    )?;
    Ok(())
}

/// A subscription as asked for (create, or the changed fields of an update).
#[derive(Debug, Default)]
pub struct WebhookFields {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// The given fields, checked (`None`: not given).
struct Checked {
    url: Option<String>,
    event_types: Option<Vec<EventType>>,
    description: Option<String>,
}

/// Checks the given fields; every problem is listed.
fn check(fields: &WebhookFields, rules: UrlRules) -> Result<Checked, EventsError> {
    let mut violations = Vec::new();
    let url =
        fields
            .url
            .as_deref()
            .map(str::trim)
            .and_then(|raw| match webhook::check_url(raw, rules) {
                Ok(url) => Some(url.to_string()),
                Err(p) => {
                    violations.push(Violation::new("/url", p.code, p.message));
                    None
                }
            });
    let event_types = fields.event_types.as_ref().map(|names| {
        let mut types = Vec::new();
        if names.len() > EventType::ALL.len() {
            violations.push(Violation::new(
                "/event_types",
                "too_many",
                format!("at most {} event types", EventType::ALL.len()),
            ));
        }
        for (i, name) in names.iter().enumerate() {
            match EventType::parse(name) {
                Some(t) if !types.contains(&t) => types.push(t),
                Some(_) => violations.push(Violation::new(
                    format!("/event_types/{i}"),
                    "duplicate",
                    format!("`{name}` is listed twice"),
                )),
                None => violations.push(Violation::new(
                    format!("/event_types/{i}"),
                    "unknown_event_type",
                    format!(
                        "`{}` is not an event type; see the `EventType` schema",
                        name.chars().take(64).collect::<String>()
                    ),
                )),
            }
        }
        types.sort();
        types
    });
    let description = fields.description.as_ref().map(|d| d.trim().to_string());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        violations.push(Violation::new(
            "/description",
            "too_long",
            format!("a description has at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    if violations.is_empty() {
        Ok(Checked {
            url,
            event_types,
            description,
        })
    } else {
        Err(EventsError::Invalid(violations))
    }
}

/// Resolves a webhook URL's host name (at most 3 seconds) and refuses it when it resolves
/// to a forbidden address. A name that does not resolve yet is accepted: deliveries check
/// again, after resolution, every time.
async fn check_resolved(url: &str, rules: UrlRules) -> Result<(), EventsError> {
    if rules.allow_private {
        return Ok(());
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Ok(());
    };
    let Some(url::Host::Domain(host)) = parsed.host() else {
        return Ok(());
    };
    let port = parsed.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host, port));
    let Ok(Ok(found)) = tokio::time::timeout(Duration::from_secs(3), lookup).await else {
        return Ok(());
    };
    if found
        .into_iter()
        .any(|a| webhook::is_forbidden_address(a.ip()))
    {
        return Err(EventsError::Invalid(vec![Violation::new(
            "/url",
            "private_address",
            format!("{host} resolves to a loopback, private, link-local or reserved address"),
        )]));
    }
    Ok(())
}

fn secret() -> Result<String, EventsError> {
    webhook::generate_secret().map_err(|e| EventsError::Random(e.to_string()))
}

/// Creates a subscription; its secret is in the answer, and only there.
pub async fn create(
    db: &Db,
    org: OrgId,
    actor: Actor,
    rules: UrlRules,
    fields: WebhookFields,
) -> Result<Webhook, EventsError> {
    let Checked {
        url,
        event_types,
        description,
    } = check(&fields, rules)?;
    let Some(url) = url else {
        return Err(EventsError::Invalid(vec![Violation::new(
            "/url",
            "required",
            "a webhook needs a url",
        )]));
    };
    check_resolved(&url, rules).await?;
    let now = db.now();
    let hook = Webhook {
        id: WebhookId::generate(),
        org_id: org,
        url,
        description: description.unwrap_or_default(),
        event_types: event_types.unwrap_or_default(),
        secret: secret()?,
        previous_secret: None,
        previous_secret_expires_at: None,
        active: fields.active.unwrap_or(true),
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    let stored = hook.clone();
    db.write(move |tx| {
        // Counted under the organization's lock: concurrent creations see each other.
        crate::db::identity::lock_organization(tx, org)?;
        if webhooks::count_webhooks(tx, org)? >= MAX_WEBHOOKS {
            return Err(EventsError::TooMany);
        }
        webhooks::insert_webhook(tx, &stored)?;
        audited(tx, actor, "webhook.created", None, Some(&stored))
    })
    .await?;
    tracing::info!(webhook = %hook.id, "webhook created");
    Ok(hook)
}

pub async fn list(db: &Db, org: OrgId) -> Result<Vec<Webhook>, EventsError> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(webhooks::list_webhooks(conn, org)?))
        .await?)
}

pub async fn find(db: &Db, org: OrgId, id: WebhookId) -> Result<Webhook, EventsError> {
    db.run(move |conn| Ok::<_, DbError>(webhooks::find_webhook(conn, org, id)?))
        .await?
        .ok_or(EventsError::NotFound("webhook"))
}

/// Changes the given fields. Enabling a disabled subscription clears why it was disabled
/// (its failed deliveries can then be sent again with redeliver).
pub async fn update(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: WebhookId,
    rules: UrlRules,
    fields: WebhookFields,
) -> Result<Webhook, EventsError> {
    let Checked {
        url,
        event_types,
        description,
    } = check(&fields, rules)?;
    if let Some(url) = &url {
        check_resolved(url, rules).await?;
    }
    let active = fields.active;
    db.write(move |tx| {
        let Some(mut hook) = webhooks::find_webhook(tx, org, id)? else {
            return Err(EventsError::NotFound("webhook"));
        };
        let before = hook.clone();
        if let Some(url) = &url {
            hook.url.clone_from(url);
        }
        if let Some(types) = &event_types {
            hook.event_types.clone_from(types);
        }
        if let Some(d) = &description {
            hook.description.clone_from(d);
        }
        let now = tx.now();
        match active {
            Some(true) if !hook.active => {
                hook.active = true;
                hook.disabled_at = None;
                hook.disabled_reason = None;
                hook.failing_since = None;
            }
            Some(false) if hook.active => {
                hook.active = false;
                hook.disabled_at = Some(now);
                hook.disabled_reason = Some("disabled by an admin".into());
                webhooks::fail_pending(tx, org, id, "the webhook was disabled by an admin", now)?;
            }
            _ => {}
        }
        hook.updated_at = now;
        webhooks::update_webhook(tx, &hook)?;
        audited(tx, actor, "webhook.updated", Some(&before), Some(&hook))?;
        Ok(hook)
    })
    .await
}

pub async fn delete(db: &Db, org: OrgId, actor: Actor, id: WebhookId) -> Result<(), EventsError> {
    let deleted = db
        .write(move |tx| {
            let Some(before) = webhooks::find_webhook(tx, org, id)? else {
                return Ok(false);
            };
            if !webhooks::delete_webhook(tx, org, id)? {
                return Ok(false);
            }
            audited(tx, actor, "webhook.deleted", Some(&before), None)?;
            Ok::<_, EventsError>(true)
        })
        .await?;
    if deleted {
        Ok(())
    } else {
        Err(EventsError::NotFound("webhook"))
    }
}

/// A new signing secret; the old one keeps signing (a second signature) for `overlap`.
pub async fn rotate_secret(
    db: &Db,
    org: OrgId,
    actor: Actor,
    id: WebhookId,
    overlap: Duration,
) -> Result<Webhook, EventsError> {
    if overlap.as_secs() > MAX_OVERLAP_SECS {
        return Err(EventsError::Invalid(vec![Violation::new(
            "/overlap_seconds",
            "out_of_range",
            format!("the overlap is 0 to {MAX_OVERLAP_SECS} seconds"),
        )]));
    }
    let fresh = secret()?;
    db.write(move |tx| {
        let Some(mut hook) = webhooks::find_webhook(tx, org, id)? else {
            return Err(EventsError::NotFound("webhook"));
        };
        let before = hook.clone();
        let now = tx.now();
        let until = now + TimeDelta::from_std(overlap).unwrap_or(TimeDelta::zero());
        hook.previous_secret =
            (!overlap.is_zero()).then(|| std::mem::replace(&mut hook.secret, fresh.clone()));
        hook.secret.clone_from(&fresh);
        hook.previous_secret_expires_at = (!overlap.is_zero()).then_some(until);
        hook.updated_at = now;
        webhooks::update_webhook(tx, &hook)?;
        audited(
            tx,
            actor,
            "webhook.secret_rotated",
            Some(&before),
            Some(&hook),
        )?;
        Ok(hook)
    })
    .await
}

/// Sends a `ping` to the subscription (through the worker, like any delivery).
pub async fn ping(db: &Db, org: OrgId, id: WebhookId) -> Result<DeliveryView, EventsError> {
    db.write(move |tx| {
        let Some(hook) = webhooks::find_webhook(tx, org, id)? else {
            return Err(EventsError::NotFound("webhook"));
        };
        if !hook.active {
            return Err(EventsError::Disabled);
        }
        let message = model::ping(org, hook.id, tx.now());
        let delivery = deliveries::insert(tx, &hook, &message, message.occurred_at)?;
        tx.deliveries_due();
        let delivery = deliveries::find_delivery(tx, org, id, delivery)?
            .ok_or(EventsError::NotFound("delivery"))?;
        Ok(DeliveryView {
            delivery,
            attempts: Vec::new(),
        })
    })
    .await
}

/// A page of a subscription's deliveries, newest first, with their attempts.
pub async fn deliveries(
    db: &Db,
    org: OrgId,
    id: WebhookId,
    status: Option<DeliveryStatus>,
    before: Option<DeliveryId>,
    fetch: i64,
) -> Result<Vec<DeliveryView>, EventsError> {
    // Deliveries are made as events are numbered: those of what was committed before this
    // call are listed.
    sequencer::catch_up(db).await?;
    db.run(move |conn| {
        if webhooks::find_webhook(conn, org, id)?.is_none() {
            return Err(EventsError::NotFound("webhook"));
        }
        let list = deliveries::list_deliveries(conn, org, id, status, before, fetch)?;
        with_attempts(conn, org, list)
    })
    .await
}

fn with_attempts(
    conn: &mut db::DbConn,
    org: OrgId,
    list: Vec<Delivery>,
) -> Result<Vec<DeliveryView>, EventsError> {
    let ids: Vec<DeliveryId> = list.iter().map(|d| d.id).collect();
    let mut attempts = deliveries::attempts_of(conn, org, &ids)?;
    Ok(list
        .into_iter()
        .map(|delivery| {
            let (mine, rest) = attempts
                .drain(..)
                .partition(|a: &Attempt| a.delivery_id == delivery.id);
            attempts = rest;
            DeliveryView {
                delivery,
                attempts: mine,
            }
        })
        .collect())
}

pub async fn delivery(
    db: &Db,
    org: OrgId,
    id: WebhookId,
    delivery: DeliveryId,
) -> Result<DeliveryView, EventsError> {
    db.run(move |conn| {
        let found = deliveries::find_delivery(conn, org, id, delivery)?
            .ok_or(EventsError::NotFound("delivery"))?;
        with_attempts(conn, org, vec![found])?
            .pop()
            .ok_or(EventsError::NotFound("delivery"))
    })
    .await
}

/// Makes a delivery due again now, with a fresh retry window (e.g. after the receiver was
/// fixed). The subscription must be active.
pub async fn redeliver(
    db: &Db,
    org: OrgId,
    id: WebhookId,
    delivery: DeliveryId,
) -> Result<DeliveryView, EventsError> {
    db.write(move |tx| {
        let Some(hook) = webhooks::find_webhook(tx, org, id)? else {
            return Err(EventsError::NotFound("webhook"));
        };
        if !hook.active {
            return Err(EventsError::Disabled);
        }
        let now = tx.now();
        if !deliveries::redeliver(tx, org, id, delivery, now)? {
            return Err(EventsError::NotFound("delivery"));
        }
        tx.deliveries_due();
        Ok(())
    })
    .await?;
    self::delivery(db, org, id, delivery).await
}
