//! Group commit for SQLite: the write transactions that arrive while one commits are run
//! together in the next, each in a savepoint of its own, and answered only once that
//! transaction is durable.
//!
//! SQLite has one writer, and with `synchronous=FULL` each commit waits for the disk. Run
//! one at a time, transactions spend most of their turn waiting for that flush; grouped,
//! one flush makes a whole batch durable. Each use case still sees exactly what it would
//! alone: the jobs of a batch run one after another on one connection, a job that fails
//! rolls back to its savepoint (the others are kept), and a failed commit fails every job
//! of the batch (none was answered before).

use std::panic::{AssertUnwindSafe, catch_unwind};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use tokio::sync::oneshot;

use super::{Db, DbConn, DbError, QueryError, TransactionError, Tx, Wakes, panic_message};
use crate::clock::Clock;

/// The most jobs one transaction runs (a bound on how long the write lock is held).
pub(super) const MAX_BATCH: usize = 256;

/// What a job answers: its result and whom its commit wakes.
pub(super) type Outcome<T, E> = (Result<T, E>, Wakes);

/// A write transaction waiting for its turn, with the caller's closure inside.
pub(super) trait Job: Send {
    /// Runs in the batch's open transaction, in a savepoint of its own.
    fn run(&mut self, conn: &mut DbConn, clock: &Clock);
    /// Answers the caller once the batch is committed, or with the commit's error.
    fn answer(self: Box<Self>, committed: Result<(), &QueryError>);
}

pub(super) struct Queued<T, E, F> {
    f: F,
    outcome: Option<Outcome<T, E>>,
    reply: oneshot::Sender<Outcome<T, E>>,
}

impl<T, E, F> Queued<T, E, F> {
    pub(super) fn new(f: F) -> (Self, oneshot::Receiver<Outcome<T, E>>) {
        let (reply, answer) = oneshot::channel();
        (
            Queued {
                f,
                outcome: None,
                reply,
            },
            answer,
        )
    }
}

impl<T, E, F> Job for Queued<T, E, F>
where
    F: FnMut(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: TransactionError + From<DbError> + Send + 'static,
{
    fn run(&mut self, conn: &mut DbConn, clock: &Clock) {
        let mut wakes = Wakes::default();
        let f = &mut self.f;
        let ran = catch_unwind(AssertUnwindSafe(|| {
            // Inside the batch's transaction `transaction` is a savepoint: released when the
            // job answers Ok, rolled back when it answers any error.
            conn.transaction(|conn| {
                let mut tx = Tx::new(conn, clock);
                let result = f(&mut tx);
                wakes = tx.wakes;
                result
            })
        }));
        let outcome = match ran {
            Ok(Ok(value)) => (Ok(value), wakes),
            Ok(Err(e)) => (Err(e), Wakes::default()),
            Err(panic) => {
                // The savepoint is still open: undo the job's writes, keep the others'.
                if let DbConn::Sqlite(c) = conn {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                }
                let e = DbError::Panicked(panic_message(panic));
                (Err(E::from(e)), Wakes::default())
            }
        };
        self.outcome = Some(outcome);
    }

    fn answer(self: Box<Self>, committed: Result<(), &QueryError>) {
        let outcome = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => (Err(E::from(DbError::Cancelled)), Wakes::default()),
            (Err(e), _) => (
                Err(E::from(DbError::Query(copy_error(e)))),
                Wakes::default(),
            ),
        };
        // The caller may have gone (a timeout): what was committed stays committed.
        let _ = self.reply.send(outcome);
    }
}

/// The same error for every job of a failed batch (diesel's errors cannot be cloned).
fn copy_error(e: &QueryError) -> QueryError {
    match e {
        QueryError::DatabaseError(kind, info) => {
            QueryError::DatabaseError(*kind, Box::new(info.message().to_string()))
        }
        other => QueryError::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(other.to_string()),
        ),
    }
}

/// Runs `batch` in one transaction on `conn` (which holds the write lock from its first
/// statement) and answers every job after the commit.
pub(super) fn commit_batch(conn: &mut DbConn, clock: &Clock, batch: Vec<Box<dyn Job>>) {
    let DbConn::Sqlite(c) = conn else {
        let e = QueryError::QueryBuilderError("group commit is for SQLite only".into());
        batch.into_iter().for_each(|job| job.answer(Err(&e)));
        return;
    };
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE") {
        batch.into_iter().for_each(|job| job.answer(Err(&e)));
        return;
    }
    let mut batch = batch;
    for job in &mut batch {
        job.run(conn, clock);
    }
    let DbConn::Sqlite(c) = conn else {
        return;
    };
    match AnsiTransactionManager::commit_transaction(c) {
        Ok(()) => batch.into_iter().for_each(|job| job.answer(Ok(()))),
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(c);
            batch.into_iter().for_each(|job| job.answer(Err(&e)));
        }
    }
}

impl Db {
    /// SQLite's [`Db::write`]: queues the job and waits until a batch that holds it has
    /// committed, committing the queued batch itself when its turn comes first.
    pub(super) async fn write_grouped<T, E, F>(&self, f: F) -> Result<Outcome<T, E>, E>
    where
        F: FnMut(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: TransactionError + From<DbError> + Send + 'static,
    {
        let (job, mut answer) = Queued::new(f);
        self.queued().push(Box::new(job));
        loop {
            tokio::select! {
                biased;
                done = &mut answer => return done.map_err(|_| E::from(DbError::Cancelled)),
                turn = self.writer.lock() => {
                    let batch: Vec<_> = {
                        let mut queue = self.queued();
                        let n = queue.len().min(MAX_BATCH);
                        queue.drain(..n).collect()
                    };
                    if !batch.is_empty() {
                        let clock = self.clock.clone();
                        self.run(move |conn| {
                            commit_batch(conn, &clock, batch);
                            Ok::<_, DbError>(())
                        })
                        .await
                        .map_err(E::from)?;
                    }
                    drop(turn);
                }
            }
        }
    }

    fn queued(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Job>>> {
        // The queue holds jobs only: a panic elsewhere leaves it usable.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
