//! Limits on sign-in attempts: per client IP with `governor`, and per account on failures,
//! in a way that slows an attack on an account without locking its owner out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use std::time::Instant;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::limits::Limit;

use crate::config::TrustedProxies;

/// A keyed limiter that says, on each check, how much of the quota is left.
type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// A limit as the headers describe it, over a keyed limiter that allows `quota` requests at
/// once and gives one back every `refill_secs`.
struct Policy {
    name: &'static str,
    quota: u32,
    window_secs: u64,
    refill_secs: u64,
}

impl Policy {
    /// Counts one request of `key`: the limit as it stands after it, or how long to wait
    /// (and the limit, used up).
    fn count<K>(&self, limiter: &Keyed<K>, key: &K) -> Result<Limit, (Duration, Limit)>
    where
        K: Clone + Eq + std::hash::Hash,
    {
        let limit = |remaining: u32, reset_secs: u64| Limit {
            name: self.name,
            quota: self.quota,
            window_secs: self.window_secs,
            remaining,
            reset_secs,
        };
        match limiter.check_key(key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let used = u64::from(self.quota.saturating_sub(remaining));
                // Whole again once each used request has been given back (at least a second).
                Ok(limit(
                    remaining,
                    (used * self.refill_secs).max(u64::from(used > 0)),
                ))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err((wait, limit(0, self.window_secs)))
            }
        }
    }
}

pub struct LoginLimiter {
    per_ip: Keyed<IpAddr>,
    per_ip_per_minute: u32,
    accounts: Mutex<Accounts>,
    per_account_per_minute: u32,
    checks: AtomicU64,
}

/// How often stale keys are dropped, in checks.
const CLEANUP_EVERY: u64 = 4096;
/// An account's failures are counted over this window.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// An address that failed on an account is remembered this long.
const REMEMBER_FAILED: Duration = Duration::from_secs(15 * 60);
/// How long an attempt on an account under attack waits, from an address that has not
/// failed on it.
pub const SLOWED_BY: Duration = Duration::from_secs(1);

/// Failed sign-ins per account: the count in the current window, and the addresses that
/// failed on it lately.
#[derive(Default)]
struct Accounts {
    failures: HashMap<String, (Instant, u32)>,
    failed_from: HashMap<(String, Option<IpAddr>), Instant>,
}

/// What an attempt on an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Open,
    /// The account has had its failures for the minute, but this address has not failed on
    /// it: go ahead after [`SLOWED_BY`] (its owner, signing in from where they always do,
    /// is never locked out by someone else's guesses).
    Slowed,
}

impl LoginLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        LoginLimiter {
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute))
                .with_middleware::<StateInformationMiddleware>(),
            per_ip_per_minute: per_ip_per_minute.max(1),
            accounts: Mutex::new(Accounts::default()),
            per_account_per_minute: per_account_per_minute.max(1),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one attempt from `ip`: the limit as it stands after it, or how long to wait
    /// (and the limit, used up).
    pub fn check_ip(&self, ip: IpAddr) -> Result<Limit, (Duration, Limit)> {
        self.maybe_cleanup();
        let quota = self.per_ip_per_minute;
        let policy = Policy {
            name: "sign-in",
            quota,
            window_secs: 60,
            refill_secs: 60 / u64::from(quota).max(1),
        };
        policy.count(&self.per_ip, &ip)
    }

    /// Whether an attempt on `account` (a normalised email or `client:ID`) from `ip` may go
    /// ahead. Once the account has had `per_account_per_minute` attempts in the minute, an
    /// address that failed on it lately waits (`Err`, how long) and any other is slowed. An
    /// admitted attempt counts at once, as if it failed (so attempts arriving together are
    /// counted together); [`LoginLimiter::settled`] takes it back when it did not fail.
    pub fn admit(&self, account: &str, ip: Option<IpAddr>) -> Result<Admission, Duration> {
        let now = Instant::now();
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        let (since, count) = accounts
            .failures
            .get(account)
            .copied()
            .filter(|(since, _)| now < *since + FAILURE_WINDOW)
            .unwrap_or((now, 0));
        let admission = if count < self.per_account_per_minute {
            Admission::Open
        } else {
            let failed_here = accounts
                .failed_from
                .get(&(account.to_string(), ip))
                .is_some_and(|at| now < *at + REMEMBER_FAILED);
            if failed_here {
                return Err(since + FAILURE_WINDOW - now);
            }
            Admission::Slowed
        };
        accounts
            .failures
            .insert(account.to_string(), (since, count.saturating_add(1)));
        Ok(admission)
    }

    /// An admitted attempt failed: its address is remembered against the account.
    pub fn failed(&self, account: &str, ip: Option<IpAddr>) {
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        accounts
            .failed_from
            .insert((account.to_string(), ip), Instant::now());
    }

    /// An admitted attempt did not fail on its credentials: it no longer counts.
    pub fn settled(&self, account: &str) {
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, count)) = accounts.failures.get_mut(account) {
            *count = count.saturating_sub(1);
        }
    }

    fn maybe_cleanup(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            self.per_ip.retain_recent();
            self.per_ip.shrink_to_fit();
            let now = Instant::now();
            let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
            accounts
                .failures
                .retain(|_, (since, _)| now < *since + FAILURE_WINDOW);
            accounts
                .failed_from
                .retain(|_, at| now < *at + REMEMBER_FAILED);
        }
    }
}

/// Pings of a webhook: a few at once, then one every ten seconds, per subscription (a ping
/// is a request to someone else's server; nobody should be able to aim a stream of them).
pub struct PingLimiter {
    per_webhook: Keyed<(uuid::Uuid, uuid::Uuid)>,
}

/// Pings of one webhook: three at once, then one every ten seconds.
const PING_BURST: u32 = 3;
const PING_EVERY_SECS: u64 = 10;

impl Default for PingLimiter {
    fn default() -> Self {
        let quota = Quota::with_period(Duration::from_secs(PING_EVERY_SECS))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(PING_BURST).unwrap_or(NonZeroU32::MIN));
        PingLimiter {
            per_webhook: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
        }
    }
}

impl PingLimiter {
    /// Counts one ping of `webhook` by `org` (keyed by both, so nobody else can use up an
    /// organization's pings): the limit as it stands after it, or how long to wait (and the
    /// limit, used up).
    pub fn check(&self, org: uuid::Uuid, webhook: uuid::Uuid) -> Result<Limit, (Duration, Limit)> {
        self.per_webhook.retain_recent();
        let policy = Policy {
            name: "webhook-ping",
            quota: PING_BURST,
            window_secs: u64::from(PING_BURST) * PING_EVERY_SECS,
            refill_secs: PING_EVERY_SECS,
        };
        policy.count(&self.per_webhook, &(org, webhook))
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
        for n in 0..10 {
            let left = limiter.check_ip(ip).unwrap();
            assert_eq!(left.remaining, 9 - n);
        }
        let (wait, used_up) = limiter.check_ip(ip).unwrap_err();
        assert_eq!(used_up.remaining, 0);
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(limiter.check_ip("203.0.113.10".parse().unwrap()).is_ok());
    }

    #[test]
    fn an_account_under_attack_refuses_the_attackers_addresses_and_slows_the_others() {
        let limiter = LoginLimiter::new(100, 3);
        let attacker: Option<IpAddr> = Some("198.51.100.1".parse().unwrap());
        let owner: Option<IpAddr> = Some("203.0.113.5".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(limiter.admit("a@x.test", attacker), Ok(Admission::Open));
            limiter.failed("a@x.test", attacker);
        }
        // A success takes its attempt back.
        assert_eq!(limiter.admit("c@x.test", owner), Ok(Admission::Open));
        limiter.settled("c@x.test");
        assert!(limiter.admit("a@x.test", attacker).is_err());
        assert_eq!(limiter.admit("a@x.test", owner), Ok(Admission::Slowed));
        assert_eq!(limiter.admit("b@x.test", attacker), Ok(Admission::Open));
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
