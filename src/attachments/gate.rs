//! How many uploads run at once. A body is read only after the caller holds an entry: a few
//! per caller (a shopper or an integration client) and a bound over everyone, so a flood of
//! large bodies cannot take the machine's memory or disk; beyond either, 429 with
//! `Retry-After`. Bodies are streamed to staging files; turning one into the stored file
//! (reading it back, removing metadata) holds it whole in memory, so at most `processing`
//! files are turned at a time and the others wait their turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Semaphore, SemaphorePermit};

/// The bounds on uploads in flight.
#[derive(Clone)]
pub struct UploadGate {
    inner: Arc<Inner>,
}

struct Inner {
    per_caller: usize,
    overall: usize,
    in_flight: Mutex<InFlight>,
    processing: Semaphore,
}

#[derive(Default)]
struct InFlight {
    total: usize,
    by_caller: HashMap<uuid::Uuid, usize>,
}

/// An upload's place in the gate, given back when dropped.
pub struct Entry {
    inner: Arc<Inner>,
    caller: uuid::Uuid,
}

impl UploadGate {
    /// At most `per_caller` uploads of one caller and `overall` in all at once; `processing`
    /// files turned in memory at once.
    pub fn new(per_caller: usize, overall: usize, processing: usize) -> UploadGate {
        UploadGate {
            inner: Arc::new(Inner {
                per_caller: per_caller.max(1),
                overall: overall.max(1),
                in_flight: Mutex::new(InFlight::default()),
                processing: Semaphore::new(processing.max(1)),
            }),
        }
    }

    /// An entry for an upload of `caller`, or `None` when the caller or everyone is at the
    /// bound.
    pub fn enter(&self, caller: uuid::Uuid) -> Option<Entry> {
        let mut state = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mine = state.by_caller.get(&caller).copied().unwrap_or(0);
        if mine >= self.inner.per_caller || state.total >= self.inner.overall {
            return None;
        }
        state.total += 1;
        state.by_caller.insert(caller, mine + 1);
        Some(Entry {
            inner: self.inner.clone(),
            caller,
        })
    }

    /// Waits for a turn to hold a file in memory (`None` only if the semaphore were
    /// closed, which it never is).
    pub async fn processing(&self) -> Option<SemaphorePermit<'_>> {
        self.inner.processing.acquire().await.ok()
    }

    /// Uploads in flight now.
    pub fn in_flight(&self) -> usize {
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut state = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.total = state.total.saturating_sub(1);
        if let Some(n) = state.by_caller.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                state.by_caller.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_bounded_per_caller_and_overall_and_given_back_when_dropped() {
        let gate = UploadGate::new(2, 3, 1);
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let a1 = gate.enter(a).unwrap();
        let _a2 = gate.enter(a).unwrap();
        assert!(gate.enter(a).is_none(), "a third of one caller");
        let _b1 = gate.enter(b).unwrap();
        assert!(gate.enter(b).is_none(), "three in all");
        assert_eq!(gate.in_flight(), 3);
        drop(a1);
        assert_eq!(gate.in_flight(), 2);
        let _a3 = gate.enter(a).unwrap();
        assert!(gate.enter(uuid::Uuid::new_v4()).is_none());
    }
}
