//! What each connection's instrumentation does: notices a dead PostgreSQL connection without
//! a round trip at every checkout, and counts the statements run (for the metrics and
//! `bench/run`'s statement counts).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Statements run by every connection of a pool, `BEGIN` and `COMMIT` included.
#[derive(Debug, Clone, Default)]
pub struct Statements(Arc<AtomicU64>);

impl Statements {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Remembers that a query found the connection closed (the server restarted, or ended the
/// session), so the pool drops it when it comes back: connections are not tested with a
/// round trip at every checkout. A connection that died while idle fails one request.
pub(super) struct Liveness {
    pub(super) closed: bool,
    statements: Statements,
}

impl Liveness {
    pub(super) fn counting(statements: Statements) -> Self {
        Liveness {
            closed: false,
            statements,
        }
    }
}

impl diesel::connection::Instrumentation for Liveness {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::result::{DatabaseErrorKind, Error};
        if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
            self.statements.0.fetch_add(1, Ordering::Relaxed);
        }
        if let diesel::connection::InstrumentationEvent::FinishQuery {
            error:
                Some(Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                )),
            ..
        } = event
        {
            self.closed = true;
        }
    }
}
