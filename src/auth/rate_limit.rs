//! Limits on sign-in attempts, per client IP and per account, with `governor`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::TrustedProxies;

pub struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

/// How often stale keys are dropped, in checks.
const CLEANUP_EVERY: u64 = 4096;

impl LoginLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        LoginLimiter {
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
            per_account: RateLimiter::keyed(quota(per_account_per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one attempt from `ip`; `Err` carries how long to wait.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Duration> {
        self.maybe_cleanup();
        self.per_ip
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Counts one attempt on `account` (a normalised email or a client id).
    pub fn check_account(&self, account: &str) -> Result<(), Duration> {
        self.per_account
            .check_key(&account.to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn maybe_cleanup(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            self.per_ip.retain_recent();
            self.per_ip.shrink_to_fit();
            self.per_account.retain_recent();
            self.per_account.shrink_to_fit();
        }
    }
}

/// Pings of a webhook: a few at once, then one every ten seconds, per subscription (a ping
/// is a request to someone else's server; nobody should be able to aim a stream of them).
pub struct PingLimiter {
    per_webhook: DefaultKeyedRateLimiter<(uuid::Uuid, uuid::Uuid)>,
}

impl Default for PingLimiter {
    fn default() -> Self {
        let quota = Quota::with_period(Duration::from_secs(10))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN));
        PingLimiter {
            per_webhook: RateLimiter::keyed(quota),
        }
    }
}

impl PingLimiter {
    /// Counts one ping of `webhook` by `org` (keyed by both, so nobody else can use up an
    /// organization's pings); `Err` carries how long to wait.
    pub fn check(&self, org: uuid::Uuid, webhook: uuid::Uuid) -> Result<(), Duration> {
        self.per_webhook.retain_recent();
        self.per_webhook
            .check_key(&(org, webhook))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(req: &HttpRequest, proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !proxies.contains(peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect();
    let mut client = peer;
    for ip in forwarded.into_iter().rev() {
        client = ip;
        if !proxies.contains(ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_eleventh_attempt_in_a_minute_waits() {
        let limiter = LoginLimiter::new(10, 10);
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        for _ in 0..10 {
            assert!(limiter.check_ip(ip).is_ok());
        }
        let wait = limiter.check_ip(ip).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(limiter.check_ip("203.0.113.10".parse().unwrap()).is_ok());
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxies = TrustedProxies::parse("10.0.0.1").unwrap();
        let req = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "198.51.100.7, 10.0.0.1"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &proxies),
            Some("198.51.100.7".parse().unwrap())
        );

        let req = TestRequest::default()
            .peer_addr("192.0.2.50:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "198.51.100.7"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &proxies),
            Some("192.0.2.50".parse().unwrap())
        );
    }
}
