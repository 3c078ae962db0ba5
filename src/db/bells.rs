//! Who waits on what, in this process: the event sequencer on committed writes that recorded
//! events, the delivery worker on deliveries that became due, and each organization's feed
//! long-polls on that organization's new events only (a waiter of one organization is never
//! woken by another's writes). Instances learn of each other's work by polling.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use crate::ids::OrgId;

#[derive(Default)]
pub struct Bells {
    written: watch::Sender<u64>,
    deliveries: watch::Sender<u64>,
    feeds: Mutex<HashMap<OrgId, Feed>>,
    /// On once the server is stopping: long-polls answer with what they have.
    closing: AtomicBool,
}

/// An organization's long-polls: their bell, how many wait, and the last event number they
/// were told of (so a poll of the database rings only on news).
struct Feed {
    bell: watch::Sender<u64>,
    waiters: usize,
    last_seen: i64,
}

fn ring(bell: &watch::Sender<u64>) {
    bell.send_modify(|n| *n = n.wrapping_add(1));
}

impl Bells {
    /// Rung after a commit that recorded events (the sequencer numbers them).
    pub fn written(&self) -> watch::Receiver<u64> {
        self.written.subscribe()
    }

    pub fn ring_written(&self) {
        ring(&self.written);
    }

    /// Rung when webhook deliveries became due.
    pub fn deliveries(&self) -> watch::Receiver<u64> {
        self.deliveries.subscribe()
    }

    pub fn ring_deliveries(&self) {
        ring(&self.deliveries);
    }

    fn feeds(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Feed>> {
        // The map holds counters only: a panic elsewhere leaves it usable.
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rings the long-polls of `org` (no-op when none waits).
    pub fn ring_feed(&self, org: OrgId) {
        if let Some(feed) = self.feeds().get(&org) {
            ring(&feed.bell);
        }
    }

    /// The server is stopping: every waiting long-poll is woken to answer now, and none
    /// waits from here on.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        for feed in self.feeds().values() {
            ring(&feed.bell);
        }
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// The organizations with a waiting long-poll.
    pub fn watched(&self) -> Vec<OrgId> {
        self.feeds().keys().copied().collect()
    }

    /// Rings the long-polls of `org` when `last_seq` is news to them.
    pub fn seen(&self, org: OrgId, last_seq: i64) {
        if let Some(feed) = self.feeds().get_mut(&org)
            && last_seq > feed.last_seen
        {
            feed.last_seen = last_seq;
            ring(&feed.bell);
        }
    }
}

/// One long-poll of an organization's feed; it stops counting when dropped.
pub struct FeedWaiter {
    bells: Arc<Bells>,
    org: OrgId,
    pub bell: watch::Receiver<u64>,
}

impl FeedWaiter {
    /// Joins `org`'s long-polls, which knew of events up to `last_seq`; `None` when `cap`
    /// of them already wait.
    pub fn join(bells: &Arc<Bells>, org: OrgId, last_seq: i64, cap: usize) -> Option<Self> {
        let mut feeds = bells.feeds();
        let feed = feeds.entry(org).or_insert_with(|| Feed {
            bell: watch::Sender::new(0),
            waiters: 0,
            last_seen: last_seq,
        });
        if feed.waiters >= cap {
            return None;
        }
        feed.waiters += 1;
        feed.last_seen = feed.last_seen.max(last_seq);
        let bell = feed.bell.subscribe();
        Some(FeedWaiter {
            bells: bells.clone(),
            org,
            bell,
        })
    }
}

impl Drop for FeedWaiter {
    fn drop(&mut self) {
        let mut feeds = self.bells.feeds();
        if let Some(feed) = feeds.get_mut(&self.org) {
            feed.waiters = feed.waiters.saturating_sub(1);
            if feed.waiters == 0 {
                feeds.remove(&self.org);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_are_counted_per_organization_and_capped() {
        let bells = Arc::new(Bells::default());
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let first = FeedWaiter::join(&bells, a, 0, 2).unwrap();
        let second = FeedWaiter::join(&bells, a, 0, 2).unwrap();
        assert!(FeedWaiter::join(&bells, a, 0, 2).is_none());
        let other = FeedWaiter::join(&bells, b, 0, 2).unwrap();
        drop(first);
        let again = FeedWaiter::join(&bells, a, 0, 2).unwrap();
        drop((second, again, other));
        assert!(bells.watched().is_empty());
    }

    #[test]
    fn only_the_organization_with_news_is_rung() {
        let bells = Arc::new(Bells::default());
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let mut wa = FeedWaiter::join(&bells, a, 5, 10).unwrap();
        let mut wb = FeedWaiter::join(&bells, b, 5, 10).unwrap();
        wa.bell.mark_unchanged();
        wb.bell.mark_unchanged();
        bells.seen(a, 5);
        assert!(!wa.bell.has_changed().unwrap());
        bells.seen(a, 6);
        assert!(wa.bell.has_changed().unwrap());
        assert!(!wb.bell.has_changed().unwrap());
        bells.ring_feed(b);
        assert!(wb.bell.has_changed().unwrap());
    }
}
