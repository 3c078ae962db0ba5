//! Webhook subscriptions and deliveries: the stored shapes and the pure rules (signatures
//! after the Standard Webhooks specification, the retry schedule, which addresses a
//! delivery may reach).

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::model::{EventType, Message};
use crate::ids::{AttemptId, DeliveryId, EventId, OrgId, WebhookId};

/// A subscription: where to send which events, signed with which secret.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: WebhookId,
    pub org_id: OrgId,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<EventType>,
    pub secret: String,
    /// The secret being rotated out; it signs too until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Since when every attempt failed (`None` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether an event of this type goes to this subscription.
    pub fn wants(&self, event_type: EventType) -> bool {
        self.event_types.is_empty() || self.event_types.contains(&event_type)
    }

    /// The secrets that sign a message sent at `now`: the current one, and the previous
    /// one while its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && now < until
        {
            secrets.push(previous.as_str());
        }
        secrets
    }

    /// What an attempt at one of its deliveries does to the subscription: a success ends a
    /// run of failures; a failure starts one, and disables the subscription when `disable`
    /// says so (the receiver refused for good) or when every delivery failed for
    /// `disable_after`. Answers whether the subscription changed, and the reason when this
    /// attempt disabled it.
    pub fn after_attempt(
        &mut self,
        attempt: &Attempt,
        disable: Option<String>,
        disable_after: TimeDelta,
    ) -> (bool, Option<String>) {
        let at = attempt.attempted_at;
        if attempt.succeeded {
            let was_failing = self.failing_since.take().is_some();
            if was_failing {
                self.updated_at = at;
            }
            return (was_failing, None);
        }
        let since = *self.failing_since.get_or_insert(at);
        let reason = disable.or_else(|| {
            (at - since >= disable_after).then(|| {
                format!(
                    "every delivery failed since {} (last: {})",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    attempt.error.as_deref().unwrap_or("no answer")
                )
            })
        });
        self.updated_at = at;
        match reason {
            Some(reason) if self.active => {
                self.active = false;
                self.disabled_at = Some(at);
                self.disabled_reason = Some(reason.clone());
                (true, Some(reason))
            }
            _ => (true, None),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not yet received: due at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Given up: retried for the whole retry window, or the subscription was disabled.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event for one subscription.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: DeliveryId,
    pub org_id: OrgId,
    pub webhook_id: WebhookId,
    pub event_id: EventId,
    pub event_type: String,
    /// What is sent (as the feed's JSON, signed).
    pub message: Message,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub give_up_at: Option<DateTime<Utc>>,
    pub occurred_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A delivery with its attempts, oldest first.
pub struct DeliveryView {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

/// One try at a delivery.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: AttemptId,
    pub org_id: OrgId,
    pub delivery_id: DeliveryId,
    pub attempted_at: DateTime<Utc>,
    pub response_status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// The prefix of signing secrets, as the Standard Webhooks libraries expect it.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: 32 random bytes, base64, prefixed with `whsec_`.
pub fn generate_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The `webhook-signature` header: `v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}`
/// for each secret, separated by spaces (receivers accept any one of them).
pub fn signature_header(secrets: &[&str], message_id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|secret| {
            let key = STANDARD
                .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
                .ok()?;
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            mac.update(format!("{message_id}.{timestamp}.").as_bytes());
            mac.update(body.as_bytes());
            Some(format!(
                "v1,{}",
                STANDARD.encode(mac.finalize().into_bytes())
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The pause after the first failed attempt; each further failure doubles it.
    pub base: std::time::Duration,
    /// The longest pause between two attempts.
    pub max_pause: std::time::Duration,
    /// How long after its first attempt a delivery is retried before it is marked failed.
    pub window: std::time::Duration,
    /// How long a subscription may fail every attempt before it is disabled.
    pub disable_after: std::time::Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: std::time::Duration::from_secs(10),
            max_pause: std::time::Duration::from_secs(2 * 3600),
            window: std::time::Duration::from_secs(24 * 3600),
            disable_after: std::time::Duration::from_secs(3 * 24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// When to try again after `failed` failed attempts, or `None` to give up. `jitter` in
    /// [0, 1) takes up to a quarter off the pause, so receivers that failed together are
    /// not retried in lockstep, while each pause stays longer than the one before.
    pub fn next_attempt(
        &self,
        failed: u32,
        now: DateTime<Utc>,
        give_up_at: DateTime<Utc>,
        jitter: f64,
    ) -> Option<DateTime<Utc>> {
        let doublings = failed.saturating_sub(1).min(30);
        let pause = (self.base.as_secs_f64() * f64::from(1u32 << doublings))
            .min(self.max_pause.as_secs_f64());
        let pause = pause * (1.0 - 0.25 * jitter.clamp(0.0, 1.0));
        let next = now + TimeDelta::milliseconds((pause * 1000.0) as i64);
        (next <= give_up_at).then_some(next)
    }
}

/// Whether an address is one a webhook may not reach unless private targets are allowed:
/// loopback, private, link-local (cloud metadata), shared, unspecified, multicast,
/// documentation and other reserved ranges, and their IPv4-mapped IPv6 forms.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
                || o[0] >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden_address(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 (may reach IPv4 private ranges)
                || s[0] == 0x2002 // 6to4: carries an IPv4 address, possibly a private one
                || (s[0] == 0x2001 && s[1] == 0) // Teredo: tunnels to an IPv4 address
                || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0010) // ORCHID (non-routable)
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside sites)
                || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0) // IPv4-compatible
        }
    }
}

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlProblem {
    pub code: &'static str,
    pub message: String,
}

/// Which URLs a webhook may have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlRules {
    /// `http://` accepted (otherwise `https://` only).
    pub allow_http: bool,
    /// Loopback, private and link-local targets accepted.
    pub allow_private: bool,
}

/// Checks a webhook URL's form (scheme, host, no credentials, no fragment) and, when the
/// host is an IP address, the address (or a reserved `.localhost` / `.internal` name).
/// Other names are checked after resolution, by the caller.
pub fn check_url(raw: &str, rules: UrlRules) -> Result<reqwest::Url, UrlProblem> {
    let problem = |code, message: &str| UrlProblem {
        code,
        message: message.to_string(),
    };
    if raw.len() > 2048 {
        return Err(problem("too_long", "a URL has at most 2048 characters"));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|_| problem("invalid_url", "not an absolute http(s) URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if rules.allow_http => {}
        "http" => {
            return Err(problem(
                "https_required",
                "webhook URLs use https (plain http only when the server allows it)",
            ));
        }
        _ => return Err(problem("invalid_url", "the scheme is https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(problem(
            "invalid_url",
            "a URL carries no user name or password; the signature authenticates",
        ));
    }
    if url.fragment().is_some() {
        return Err(problem("invalid_url", "a URL has no fragment"));
    }
    let forbidden = |ip| !rules.allow_private && is_forbidden_address(ip);
    match url.host() {
        None => return Err(problem("invalid_url", "the URL has no host")),
        Some(url::Host::Ipv4(ip)) if forbidden(IpAddr::V4(ip)) => {
            return Err(problem(
                "private_address",
                "the URL points at a loopback, private, link-local or reserved address",
            ));
        }
        Some(url::Host::Ipv6(ip)) if forbidden(IpAddr::V6(ip)) => {
            return Err(problem(
                "private_address",
                "the URL points at a loopback, private, link-local or reserved address",
            ));
        }
        Some(url::Host::Domain(name))
            if !rules.allow_private
                && (name.to_ascii_lowercase().ends_with(".localhost")
                    || name.to_ascii_lowercase().ends_with(".internal")) =>
        {
            return Err(problem(
                "private_address",
                "the URL names a local or internal host",
            ));
        }
        Some(_) => {}
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> Webhook {
        let at = "2026-12-01T00:00:00Z".parse().unwrap();
        Webhook {
            id: WebhookId::generate(),
            org_id: OrgId::generate(),
            url: "https://example.com/hook".into(),
            description: String::new(),
            event_types: Vec::new(),
            secret: "whsec_x".into(),
            previous_secret: None,
            previous_secret_expires_at: None,
            active: true,
            disabled_reason: None,
            disabled_at: None,
            failing_since: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn attempt(hook: &Webhook, hours: i64, succeeded: bool) -> Attempt {
        Attempt {
            id: AttemptId::generate(),
            org_id: hook.org_id,
            delivery_id: DeliveryId::generate(),
            attempted_at: hook.created_at + TimeDelta::hours(hours),
            response_status: Some(if succeeded { 200 } else { 503 }),
            latency_ms: 12,
            error: (!succeeded).then(|| "HTTP 503".to_string()),
            succeeded,
        }
    }

    #[test]
    fn failures_for_the_whole_window_disable_a_subscription_and_a_success_ends_the_run() {
        let window = TimeDelta::days(5);
        let mut h = hook();
        assert_eq!(
            h.after_attempt(&attempt(&h, 1, true), None, window),
            (false, None)
        );
        assert_eq!(
            h.after_attempt(&attempt(&h, 2, false), None, window),
            (true, None)
        );
        assert_eq!(h.failing_since, Some(h.created_at + TimeDelta::hours(2)));
        assert_eq!(
            h.after_attempt(&attempt(&h, 50, false), None, window),
            (true, None)
        );
        assert_eq!(
            h.after_attempt(&attempt(&h, 60, true), None, window),
            (true, None)
        );
        assert_eq!((h.failing_since, h.active), (None, true));
        h.after_attempt(&attempt(&h, 61, false), None, window);
        let (changed, reason) = h.after_attempt(&attempt(&h, 61 + 120, false), None, window);
        assert!(changed && reason.as_deref().is_some_and(|r| r.contains("HTTP 503")));
        assert!(!h.active && h.disabled_reason == reason);
        // A disabled subscription is not disabled again.
        assert_eq!(
            h.after_attempt(&attempt(&h, 200, false), None, window).1,
            None
        );
    }

    #[test]
    fn a_receiver_that_refuses_for_good_disables_at_once() {
        let mut h = hook();
        let gone = Some("the URL answered 410 Gone".to_string());
        let (_, reason) = h.after_attempt(&attempt(&h, 1, false), gone.clone(), TimeDelta::days(5));
        assert_eq!((reason, h.active), (gone, false));
    }

    #[test]
    fn a_signature_is_the_documented_hmac() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature_header(&[secret], id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let two = signature_header(&[secret, secret], id, 1614265330, body);
        assert_eq!(two.split(' ').count(), 2);
    }

    #[test]
    fn pauses_grow_and_stop_at_the_window() {
        let policy = RetryPolicy::default();
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let end = now + TimeDelta::hours(24);
        let mut last = TimeDelta::zero();
        for failed in 1..=10 {
            // The longest jitter on this pause, none on the one before: still longer.
            let next = policy.next_attempt(failed, now, end, 0.999).unwrap();
            assert!(next - now > last, "attempt {failed}");
            last = policy.next_attempt(failed, now, end, 0.0).unwrap() - now;
        }
        let capped = policy.next_attempt(30, now, end, 0.0).unwrap() - now;
        assert_eq!(capped, TimeDelta::hours(2));
        assert_eq!(
            policy.next_attempt(1, end - TimeDelta::seconds(1), end, 0.0),
            None
        );
    }

    #[test]
    fn private_and_metadata_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
            "2001:10::1",
            "100::1",
        ] {
            assert!(is_forbidden_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::6810:84e5", "8.8.8.8"] {
            assert!(!is_forbidden_address(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_https_public_and_without_credentials() {
        let strict = UrlRules::default();
        assert!(check_url("https://hooks.example.com/in", strict).is_ok());
        for (url, code) in [
            ("http://hooks.example.com/in", "https_required"),
            ("https://127.0.0.1/in", "private_address"),
            ("https://[::1]:8443/", "private_address"),
            (
                "https://169.254.169.254/latest/meta-data",
                "private_address",
            ),
            ("https://app.localhost/x", "private_address"),
            ("https://metadata.google.internal/", "private_address"),
            ("https://user:pw@hooks.example.com/", "invalid_url"),
            ("ftp://hooks.example.com/", "invalid_url"),
            ("hooks.example.com", "invalid_url"),
        ] {
            assert_eq!(check_url(url, strict).unwrap_err().code, code, "{url}");
        }
        let open = UrlRules {
            allow_http: true,
            allow_private: true,
        };
        assert!(check_url("http://127.0.0.1:9000/hook", open).is_ok());
    }
}
