//! Noticing dead PostgreSQL connections without a round trip at every checkout.

/// Remembers that a query found the connection closed (the server restarted, or ended the
/// session), so the pool drops it when it comes back: connections are not tested with a
/// round trip at every checkout. A connection that died while idle fails one request.
#[derive(Default)]
pub(super) struct Liveness {
    pub(super) closed: bool,
}

impl diesel::connection::Instrumentation for Liveness {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::result::{DatabaseErrorKind, Error};
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
