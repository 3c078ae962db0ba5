//! The delivery worker: a task inside `serve` that takes due deliveries, posts them signed
//! to their receivers and records each attempt. Several instances may run against one
//! database: a delivery is taken by one of them for a lease; if that instance dies before
//! recording the attempt, the delivery falls due again when the lease ends (at least once).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use prometheus::{Histogram, IntCounterVec, IntGauge};

use super::dto::EventResponse;
use super::webhook::{self, Attempt, Delivery, UrlRules};
use crate::config::WebhooksConfig;
use crate::db::deliveries::{self as store, AttemptOutcome, Busy, Claimed};
use crate::db::{self, Db, DbError, QueryResult, Tx, webhooks};
use crate::ids::{AttemptId, OrgId, WebhookId};

/// At most this much of a receiver's answer is read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// At most this many deliveries are in flight at once per instance,
const MAX_IN_FLIGHT: usize = 32;
/// of which at most this many to one subscription (a slow receiver holds only these),
const PER_WEBHOOK: usize = 2;
/// and at most this many of one organization's (the others always find room).
const PER_ORG: usize = 8;
/// Due deliveries read per claim, to choose from.
const CANDIDATES: usize = 4 * MAX_IN_FLIGHT;
/// Of a receiver's answer, this many characters are kept with a failed attempt.
const ERROR_EXCERPT_CHARS: usize = 200;

/// What the worker exports to `/metrics`.
#[derive(Clone)]
pub struct WebhookMetrics {
    /// Attempts by outcome: `succeeded`, `failed` (to be retried), `gave_up`.
    pub attempts: IntCounterVec,
    /// Seconds from an event to its successful delivery.
    pub lag: Histogram,
    /// Age in seconds of the oldest event not yet delivered (0 when none is pending).
    pub oldest_pending: IntGauge,
}

/// Resolves receivers' host names and keeps only public addresses, so a name that
/// resolves (or is re-pointed) to a private address is never connected to.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| !webhook::is_forbidden_address(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves only to loopback, private, link-local or reserved addresses"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Sends deliveries.
pub struct Sender {
    client: reqwest::Client,
    rules: UrlRules,
}

/// How one attempt went, before it is recorded.
#[derive(Debug)]
pub struct Sent {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency: Duration,
}

impl Sent {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl Sender {
    pub fn new(config: &WebhooksConfig) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .timeout(config.timeout)
            .user_agent(concat!("secondmile-webhooks/", env!("CARGO_PKG_VERSION")));
        if !config.urls.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Sender {
            client: builder.build().map_err(|e| e.to_string())?,
            rules: config.urls,
        })
    }

    /// Posts one message, signed with `secrets`, and reads at most [`MAX_RESPONSE_BYTES`]
    /// of the answer.
    pub async fn send(
        &self,
        url: &str,
        secrets: &[&str],
        message_id: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Sent {
        let started = Instant::now();
        // Checked again at each attempt: the rules may have changed since it was created.
        let url = match webhook::check_url(url, self.rules) {
            Ok(url) => url,
            Err(problem) => {
                return Sent {
                    status: None,
                    error: Some(format!("refused URL: {}", problem.message)),
                    latency: started.elapsed(),
                };
            }
        };
        let timestamp = now.timestamp();
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                webhook::signature_header(secrets, message_id, timestamp, body),
            )
            .body(body.to_string());
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Sent {
                    status: None,
                    error: Some(describe(&e)),
                    latency: started.elapsed(),
                };
            }
        };
        let status = response.status().as_u16();
        let mut read = Vec::new();
        let mut read_error = None;
        while read.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES - read.len();
                    read.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or(&chunk));
                }
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(describe(&e));
                    break;
                }
            }
        }
        let latency = started.elapsed();
        let error = if (200..300).contains(&status) {
            None
        } else {
            let text: String = String::from_utf8_lossy(&read)
                .chars()
                .filter(|c| !c.is_control())
                .take(ERROR_EXCERPT_CHARS)
                .collect();
            Some(if text.trim().is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {}", text.trim())
            })
        };
        Sent {
            status: Some(status),
            // A 2xx whose body broke off still counts as received.
            error: error.or(read_error.filter(|_| !(200..300).contains(&status))),
            latency,
        }
    }
}

/// A short, secret-free description of a transport error.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let cause: String = cause.chars().take(ERROR_EXCERPT_CHARS).collect();
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}

/// A number in [0, 1) from the operating system's random source (0 if it fails).
fn jitter() -> f64 {
    f64::from(getrandom::u32().unwrap_or(0)) / (f64::from(u32::MAX) + 1.0)
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Decides what an attempt means for its delivery: done, retry then, or give up.
pub fn outcome(
    claimed: &Claimed,
    sent: &Sent,
    at: DateTime<Utc>,
    policy: &webhook::RetryPolicy,
) -> AttemptOutcome {
    let succeeded = sent.succeeded();
    let failed_so_far = u32::try_from(claimed.delivery.attempts).unwrap_or(0) + 1;
    let give_up_at = claimed.delivery.give_up_at.unwrap_or(at);
    let retry_at = if succeeded {
        None
    } else {
        policy.next_attempt(failed_so_far, at, give_up_at, jitter())
    };
    let disable = (sent.status == Some(410))
        .then(|| "the receiver answered 410 Gone: it no longer wants these events".to_string());
    AttemptOutcome {
        attempt: Attempt {
            id: AttemptId::generate(),
            org_id: claimed.delivery.org_id,
            delivery_id: claimed.delivery.id,
            attempted_at: at,
            response_status: sent.status,
            latency_ms: u64::try_from(sent.latency.as_millis()).unwrap_or(u64::MAX),
            error: sent.error.clone(),
            succeeded,
        },
        retry_at: if disable.is_some() { None } else { retry_at },
        disable,
    }
}

/// Where the worker's sends are: per subscription and per organization, so that one slow
/// receiver holds only its own places and one organization never more than its share.
#[derive(Default, Clone)]
struct InFlight {
    total: usize,
    by_webhook: HashMap<WebhookId, usize>,
    by_org: HashMap<OrgId, usize>,
}

impl InFlight {
    fn has_room(&self, d: &Delivery) -> bool {
        self.total < MAX_IN_FLIGHT
            && self.by_webhook.get(&d.webhook_id).copied().unwrap_or(0) < PER_WEBHOOK
            && self.by_org.get(&d.org_id).copied().unwrap_or(0) < PER_ORG
    }

    fn add(&mut self, d: &Delivery) {
        self.total += 1;
        *self.by_webhook.entry(d.webhook_id).or_default() += 1;
        *self.by_org.entry(d.org_id).or_default() += 1;
    }

    fn remove(&mut self, d: &Delivery) {
        self.total = self.total.saturating_sub(1);
        release(&mut self.by_webhook, d.webhook_id);
        release(&mut self.by_org, d.org_id);
    }

    /// The subscriptions and organizations at their bound (left out of the next claim).
    fn full(&self) -> Busy {
        Busy {
            webhooks: self
                .by_webhook
                .iter()
                .filter(|(_, n)| **n >= PER_WEBHOOK)
                .map(|(id, _)| *id)
                .collect(),
            orgs: self
                .by_org
                .iter()
                .filter(|(_, n)| **n >= PER_ORG)
                .map(|(id, _)| *id)
                .collect(),
        }
    }
}

fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(n) = counts.get_mut(&key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(&key);
        }
    }
}

/// Takes due deliveries and sends them until `stop` turns true; deliveries in flight then
/// are finished and recorded (each is bounded by the receiver timeout), the rest stay due.
/// Sends run side by side and each is recorded as it ends, so a slow receiver delays only
/// its own deliveries: the worker claims more whenever a place frees up.
pub async fn run(
    db: Db,
    config: WebhooksConfig,
    metrics: WebhookMetrics,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let sender = match Sender::new(&config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; no deliveries");
            return;
        }
    };
    let mut bell = db.bells().deliveries();
    // Long enough for the slowest attempt and its recording.
    let lease = delta(config.timeout) + TimeDelta::seconds(30);
    let window = delta(config.retry.window);
    let disable_after = delta(config.retry.disable_after);
    let clock = db.clock();
    let send = |c: Claimed| {
        let sender = &sender;
        let clock = clock.clone();
        async move {
            let at = clock.now();
            let secrets = c.webhook.signing_secrets(at);
            // The stored message becomes the feed's JSON here, at the edge.
            let body = serde_json::to_string(&EventResponse::from(c.delivery.message.clone()));
            let sent = match body {
                Ok(body) => {
                    let id = c.delivery.event_id.to_string();
                    sender.send(&c.webhook.url, &secrets, &id, &body, at).await
                }
                Err(e) => Sent {
                    status: None,
                    error: Some(format!("the message cannot be written as JSON: {e}")),
                    latency: Duration::ZERO,
                },
            };
            (c, sent, at)
        }
    };
    let mut sends = FuturesUnordered::new();
    let mut in_flight = InFlight::default();
    loop {
        let stopping = *stop.borrow();
        if stopping && sends.is_empty() {
            break;
        }
        bell.mark_unchanged();
        if !stopping && in_flight.total < MAX_IN_FLIGHT {
            let now = db.now();
            let skip = in_flight.full();
            let mut room = in_flight.clone();
            let candidates = i64::try_from(CANDIDATES).unwrap_or(i64::MAX);
            let claimed = db
                .run(move |conn| {
                    if !store::has_due(conn, now)? {
                        return Ok(Vec::new());
                    }
                    db::write_transaction(conn, |conn| {
                        store::claim_due(conn, now, lease, window, candidates, &skip, |d| {
                            let fits = room.has_room(d);
                            if fits {
                                room.add(d);
                            }
                            fits
                        })
                    })
                    .map_err(DbError::Query)
                })
                .await;
            match claimed {
                Ok(claimed) => {
                    for c in claimed {
                        in_flight.add(&c.delivery);
                        sends.push(send(c));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot read due webhook deliveries"),
            }
        }
        if sends.is_empty() {
            let oldest = db
                .run(|conn| Ok::<_, DbError>(store::oldest_pending(conn)?))
                .await;
            if let Ok(oldest) = oldest {
                let age = oldest.map_or(0, |t| (db.now() - t).num_seconds().max(0));
                metrics.oldest_pending.set(age);
            }
        }
        let mut ended = Vec::new();
        tokio::select! {
            Some(done) = sends.next(), if !sends.is_empty() => ended.push(done),
            _ = bell.changed(), if !stopping => {}
            _ = tokio::time::sleep(config.poll_interval), if !stopping => {}
            _ = stop.changed(), if !stopping => {}
        }
        if ended.is_empty() {
            continue;
        }
        // Whatever else has ended by now is recorded in the same transaction.
        while let Some(Some(done)) = sends.next().now_or_never() {
            ended.push(done);
        }
        let mut outcomes = Vec::with_capacity(ended.len());
        for (claimed, sent, at) in ended {
            in_flight.remove(&claimed.delivery);
            let decided = outcome(&claimed, &sent, at, &config.retry);
            observe(&metrics, &claimed, &decided, at);
            outcomes.push((claimed.delivery, decided));
        }
        let recorded = db
            .write(move |tx| {
                for (delivery, decided) in &outcomes {
                    record(tx, delivery, decided, disable_after)?;
                }
                Ok::<_, DbError>(())
            })
            .await;
        if let Err(e) = recorded {
            // The leases run out and the deliveries are sent again: at least once.
            tracing::warn!(error = %e, "cannot record webhook attempts");
        }
    }
}

/// Counts an attempt in the metrics and logs a failure.
fn observe(
    metrics: &WebhookMetrics,
    claimed: &Claimed,
    decided: &AttemptOutcome,
    at: DateTime<Utc>,
) {
    let label = match (decided.attempt.succeeded, decided.retry_at) {
        (true, _) => "succeeded",
        (false, Some(_)) => "failed",
        (false, None) => "gave_up",
    };
    metrics.attempts.with_label_values(&[label]).inc();
    if decided.attempt.succeeded {
        let lag = (at - claimed.delivery.occurred_at).num_milliseconds();
        metrics.lag.observe(lag.max(0) as f64 / 1000.0);
    }
    if let Some(error) = &decided.attempt.error {
        tracing::info!(
            delivery = %claimed.delivery.id,
            webhook = %claimed.webhook.id,
            attempt = claimed.delivery.attempts + 1,
            error = %error,
            retry_at = ?decided.retry_at,
            "webhook delivery failed"
        );
    }
}

/// Records an attempt and what it does to its subscription (see [`webhook::Webhook::after_attempt`]):
/// a subscription disabled by it has its pending deliveries failed.
fn record(
    tx: &mut Tx<'_>,
    delivery: &Delivery,
    decided: &AttemptOutcome,
    disable_after: TimeDelta,
) -> QueryResult<()> {
    if !store::record_attempt(tx, delivery, decided)? {
        return Ok(());
    }
    let Some(mut hook) = webhooks::find_webhook(tx, delivery.org_id, delivery.webhook_id)? else {
        return Ok(());
    };
    let attempt = &decided.attempt;
    let (changed, disabled) = hook.after_attempt(attempt, decided.disable.clone(), disable_after);
    if let Some(reason) = disabled {
        let why = format!("the webhook was disabled: {reason}");
        webhooks::fail_pending(tx, hook.org_id, hook.id, &why, attempt.attempted_at)?;
    }
    if changed {
        webhooks::update_webhook(tx, &hook)?;
    }
    Ok(())
}
