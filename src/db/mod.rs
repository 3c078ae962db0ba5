//! Persistence. This is the only module that imports Diesel: one connection type over
//! PostgreSQL and SQLite, the pool, the migrations and one file of queries per domain.

/// Runs the same Diesel DSL on the concrete connection, for statements the multi-backend
/// connection cannot express (`ON CONFLICT`, multi-row inserts).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

pub mod aggregates;
pub mod appeals;
pub mod attachments;
pub mod audit;
pub mod backup;
pub mod bells;
pub mod deliveries;
pub mod events;
pub mod figure_moves;
mod group_commit;
pub mod identity;
mod liveness;
pub mod locations;
pub mod migrations;
pub mod plans;
pub mod plausibility;
pub mod programme;
pub mod questionnaires;
pub mod removal;
pub mod reports;
pub mod schema;
pub mod settings;
mod sqlite_file;
pub mod stored;
mod types;
pub mod verdicts;
pub mod webhooks;

use crate::clock::Clock;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use liveness::{Liveness, Statements};
use std::fmt;
use std::time::Duration;

/// The error of a single query, for callers outside this module.
pub use bells::Bells;
pub use diesel::result::Error as QueryError;
/// What a query function answers.
pub type QueryResult<T> = Result<T, QueryError>;

/// One connection to either backend. SQLite stays the last variant: `establish` tries the
/// variants in order and SQLite accepts any string as a path.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which backend a connection or URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// A database URL whose scheme has been checked. The backend is chosen from the scheme,
/// never guessed, so a typo cannot silently create a stray SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// The full `postgres://` or `postgresql://` URL, handed to libpq unchanged.
    Postgres(String),
    /// A file path (from `sqlite://PATH` or `sqlite:PATH`).
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_string()));
        }
        if lower.starts_with("sqlite:") {
            let rest = &raw["sqlite:".len()..];
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err("`sqlite://` needs a file path, e.g. sqlite://secondmile.db".into());
            }
            if path.contains('?') || path.starts_with(':') {
                return Err(format!(
                    "`{raw}` is not supported: give a plain file path, e.g. sqlite://secondmile.db \
                     (in-memory databases would lose every report)"
                ));
            }
            return Ok(DatabaseUrl::Sqlite(path.to_string()));
        }
        Err(format!(
            "unsupported scheme in `{}`: use sqlite://PATH or postgres://USER@HOST/DATABASE",
            redact(raw)
        ))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Hides the password of a URL so it can be logged or shown in an error.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{path}"),
        }
    }
}

/// Settings for the database and its pool.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    pub connection_timeout: Duration,
}

/// Opens connections for the pool, choosing the backend from the URL scheme so that a bad
/// PostgreSQL URL reports libpq's own error instead of a generic one.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// A SQLite connection was opened: the file exists. Later connections open it without
    /// creating it, so a file deleted while the server runs is an unreachable database,
    /// never silently a new empty one.
    opened: std::sync::atomic::AtomicBool,
    statements: Statements,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        ConnectionManager {
            url,
            opened: std::sync::atomic::AtomicBool::new(false),
            statements: Statements::default(),
        }
    }

    pub fn connect(&self) -> Result<DbConn, ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                conn.set_instrumentation(Liveness::counting(self.statements.clone()));
                Ok(DbConn::Pg(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                use std::sync::atomic::Ordering;
                let mut conn = sqlite_file::open(path, self.opened.load(Ordering::Acquire))?;
                conn.set_instrumentation(Liveness::counting(self.statements.clone()));
                self.opened.store(true, Ordering::Release);
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConn, ConnectionError> {
        ConnectionManager::connect(self)
    }

    /// Used only when the pool tests connections at checkout, which it does not (see
    /// [`Db::connect`]).
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    /// A connection returned with a transaction still open (e.g. after a panic), or whose
    /// server closed it (a query found it so), is dropped instead of being handed to the
    /// next request.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        match conn {
            DbConn::Pg(c) => {
                c.is_broken()
                    || c.instrumentation()
                        .downcast_ref::<Liveness>()
                        .is_some_and(|l| l.closed)
            }
            DbConn::Sqlite(c) => c.is_broken(),
        }
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// Why the first connection could not be opened, with the driver's own message.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ConnectError(#[from] ConnectionError);

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection available: {0}")]
    Unavailable(#[source] r2d2::PoolError),
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// The code run with the connection panicked; the connection was dropped.
    #[error("a database task panicked: {0}")]
    Panicked(String),
    #[error("database task was cancelled")]
    Cancelled,
}

/// The error for a stored value this version cannot read (a bad id, status or document).
pub(crate) fn bad_data(message: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(message.into())
}

/// A timestamp as stored (UTC without a zone) as the application reads it.
pub(crate) fn utc(at: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    at.and_utc()
}

/// Parses a value stored as text (ids, roles) back into its type.
pub(crate) fn parse_stored<T: std::str::FromStr>(raw: &str) -> QueryResult<T> {
    raw.parse()
        .map_err(|_| bad_data(format!("bad stored value `{raw}`")))
}

/// True when `e` is a violated UNIQUE constraint.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// True when `e` means "run the transaction again": PostgreSQL gave up on it because a
/// concurrent transaction won (a serialization failure, SQLSTATE 40001, or a deadlock,
/// 40P01, which diesel reports only by its message).
pub fn is_retryable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => info.message().starts_with("deadlock detected"),
        _ => false,
    }
}

/// An error a transaction's body may end with: it tells whether the transaction is worth
/// running again (see [`is_retryable`]).
pub trait TransactionError: From<diesel::result::Error> {
    fn retryable(&self) -> bool;
}

/// Makes a use case's error (an enum with a `Db(DbError)` variant) the error of its
/// transactions: a failed query converts into it with `?`, any error rolls the transaction
/// back, and a lost race on PostgreSQL runs it again.
macro_rules! domain_error {
    ($error:ty) => {
        impl From<$crate::db::QueryError> for $error {
            fn from(e: $crate::db::QueryError) -> Self {
                Self::Db($crate::db::DbError::Query(e))
            }
        }

        impl $crate::db::TransactionError for $error {
            fn retryable(&self) -> bool {
                matches!(self, Self::Db(e) if $crate::db::TransactionError::retryable(e))
            }
        }
    };
}
pub(crate) use domain_error;

impl TransactionError for diesel::result::Error {
    fn retryable(&self) -> bool {
        is_retryable(self)
    }
}

impl TransactionError for DbError {
    fn retryable(&self) -> bool {
        matches!(self, DbError::Query(e) if is_retryable(e))
    }
}

/// How often a PostgreSQL transaction runs at most when it keeps losing to concurrent ones.
const TRANSACTION_ATTEMPTS: u32 = 5;

/// Runs `f` in a transaction that holds the write lock from its first statement. On SQLite
/// this is `BEGIN IMMEDIATE`, so a transaction that reads and then writes cannot fail
/// half-way because another writer got in first; on PostgreSQL it is a plain transaction
/// (use row locks where a read must not change before the write), run again (with a short,
/// growing, jittered pause) when PostgreSQL aborts it on a serialization failure or a
/// deadlock, up to [`TRANSACTION_ATTEMPTS`] times; `f` must therefore be safe to run again.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, mut f: F) -> Result<T, E>
where
    F: FnMut(&mut DbConn) -> Result<T, E>,
    E: TransactionError,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if let DbConn::Pg(_) = conn {
        let mut attempt = 1;
        loop {
            match conn.transaction(&mut f) {
                Err(e) if e.retryable() && attempt < TRANSACTION_ATTEMPTS => {
                    tracing::info!(
                        attempt,
                        "transaction lost to a concurrent one; running it again"
                    );
                    let jitter = u64::from(getrandom::u32().unwrap_or(0) % 10);
                    std::thread::sleep(std::time::Duration::from_millis(
                        5 * u64::from(attempt) + jitter,
                    ));
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        unreachable!("checked above")
    };
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                Err(e.into())
            }
        },
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(c)?;
            Err(e)
        }
    }
}

/// The connection a use case's write transaction runs on (it derefs to [`DbConn`], so every
/// query function takes it), and what the transaction did that others wait for.
pub struct Tx<'c> {
    conn: &'c mut DbConn,
    now: chrono::DateTime<chrono::Utc>,
    wakes: Wakes,
}

/// Whom a committed transaction wakes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Wakes {
    /// It recorded events: the sequencer numbers them.
    sequencer: bool,
    /// It made webhook deliveries due: the delivery worker sends them.
    deliveries: bool,
}

impl<'c> Tx<'c> {
    /// A transaction's view of `conn`, its time read now from `clock`.
    fn new(conn: &'c mut DbConn, clock: &Clock) -> Self {
        Tx {
            conn,
            now: clock.now(),
            wakes: Wakes::default(),
        }
    }

    /// The time of this transaction, read once from the application's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.now
    }

    /// Says that this transaction recorded events: once it commits, [`Db::write`] wakes the
    /// sequencer, which numbers them for the feed and fans them out to webhooks.
    pub fn wake_on_commit(&mut self) {
        self.wakes.sequencer = true;
    }

    /// Says that this transaction made webhook deliveries due: once it commits,
    /// [`Db::write`] wakes the delivery worker.
    pub fn deliveries_due(&mut self) {
        self.wakes.deliveries = true;
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        self.conn
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        self.conn
    }
}

/// Runs `f` in a [`write_transaction`] on a [`Tx`] whose time is read from `clock` (again at
/// each attempt); answers its result and whether the committed transaction asked to wake
/// waiters.
fn write_tx<T, E, F>(conn: &mut DbConn, clock: &Clock, mut f: F) -> (Result<T, E>, Wakes)
where
    F: FnMut(&mut Tx<'_>) -> Result<T, E>,
    E: TransactionError,
{
    let mut wakes = Wakes::default();
    let result = write_transaction(conn, |conn| {
        let mut tx = Tx::new(conn, clock);
        let result = f(&mut tx);
        wakes = tx.wakes;
        result
    });
    if result.is_err() {
        wakes = Wakes::default();
    }
    (result, wakes)
}

impl DbError {
    /// True when a query found no row where one was required.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(diesel::result::Error::NotFound))
    }

    /// True when a write broke a UNIQUE constraint (see [`is_unique_violation`]).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Query(e) if is_unique_violation(e))
    }
}

/// The message a panic was raised with, when it is text.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map_or_else(|| "(no message)".to_string(), |m| m.to_string()),
    }
}

/// Why the database cannot serve requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    Unreachable(String),
    MigrationsPending(Vec<String>),
}

/// Pool statistics for the metrics endpoint.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub max_size: u32,
    pub connections: u32,
    pub idle: u32,
    /// Statements run since the pool opened.
    pub statements: u64,
}

/// The handle the rest of the application holds: a pool plus the knowledge of which
/// backend it talks to and where.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    url: DatabaseUrl,
    /// What the sequencer, the delivery worker and the feed's long-polls wait on.
    bells: std::sync::Arc<Bells>,
    /// The application's clock (see [`crate::clock`]).
    clock: Clock,
    /// SQLite has one writer at a time: this process's write transactions queue here and
    /// the caller that gets the turn commits everything queued as one batch (see
    /// [`group_commit`]), instead of each polling the database's lock (`busy_timeout`
    /// sleeps, which left some requests waiting most of a second under load).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    queue: std::sync::Arc<std::sync::Mutex<Vec<Box<dyn group_commit::Job>>>>,
    /// Statements every connection of the pool ran.
    statements: Statements,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("url", &self.url).finish()
    }
}

impl Db {
    /// Builds the pool and opens one connection, so that an unreachable database is reported
    /// at start-up with the driver's own message.
    pub fn connect(config: &DatabaseConfig) -> Result<Self, ConnectError> {
        let manager = ConnectionManager::new(config.url.clone());
        let statements = manager.statements.clone();
        // Opening one connection first reports the real error at once instead of r2d2's
        // generic timeout after `connection_timeout`.
        drop(manager.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size)
            .min_idle(Some(0))
            .connection_timeout(config.connection_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            // No `SELECT 1` before every use: a connection found closed is dropped on return
            // (see `Liveness`).
            .test_on_check_out(false)
            .build_unchecked(manager);
        Ok(Db {
            pool,
            url: config.url.clone(),
            bells: std::sync::Arc::new(Bells::default()),
            writer: std::sync::Arc::new(tokio::sync::Mutex::new(())),
            queue: std::sync::Arc::new(std::sync::Mutex::new(Vec::new())),
            clock: Clock::system(),
            statements,
        })
    }

    /// The same database read with `clock`'s time (the server's, or a test's).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The application's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current time on the application's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// Who waits on what in this process (see [`bells`]); other instances are found by
    /// polling.
    pub fn bells(&self) -> &std::sync::Arc<Bells> {
        &self.bells
    }

    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            max_size: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            statements: self.statements.count(),
        }
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, off the async workers.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.run_waiting(None, f).await
    }

    /// Like [`Db::run`] but waits at most `timeout` for a connection (used by readiness).
    pub async fn run_within<T, E, F>(&self, timeout: Duration, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.run_waiting(Some(timeout), f).await
    }

    async fn run_waiting<T, E, F>(&self, timeout: Option<Duration>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let conn = match timeout {
                Some(t) => pool.get_timeout(t),
                None => pool.get(),
            };
            let mut conn = conn.map_err(|e| E::from(DbError::Unavailable(e)))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| {
            E::from(if e.is_panic() {
                DbError::Panicked(panic_message(e.into_panic()))
            } else {
                DbError::Cancelled
            })
        })?
    }

    /// Runs `f` in one write transaction (see [`write_transaction`]) on the blocking thread
    /// pool: it commits when `f` answers `Ok`, rolls back when it answers any error (a use
    /// case's refusal as much as a failed query) and, on PostgreSQL, runs again when it lost
    /// to a concurrent transaction, so `f` must be safe to run again. Wakes the sequencer or
    /// the delivery worker when the committed transaction asked to ([`Tx::wake_on_commit`],
    /// [`Tx::deliveries_due`]).
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: TransactionError + From<DbError> + Send + 'static,
    {
        let (result, wakes) = match self.backend() {
            Backend::Sqlite => self.write_grouped(f).await?,
            Backend::Postgres => {
                let clock = self.clock.clone();
                self.run(move |conn| Ok::<_, E>(write_tx(conn, &clock, f)))
                    .await?
            }
        };
        if wakes.sequencer {
            self.bells.ring_written();
        }
        if wakes.deliveries {
            self.bells.ring_deliveries();
        }
        result
    }

    /// Whether the database can serve requests: reachable, and every embedded migration
    /// applied. A SQLite file deleted under the running server counts as unreachable,
    /// since anything written to the unlinked file would be lost.
    pub async fn readiness(&self, timeout: Duration) -> Result<(), NotReady> {
        if let DatabaseUrl::Sqlite(path) = &self.url
            && !std::path::Path::new(path).exists()
        {
            return Err(NotReady::Unreachable(format!(
                "the database file {path} is missing"
            )));
        }
        let pending = self
            .run_within(timeout, |conn| {
                conn.batch_execute("SELECT 1")?;
                Ok(migrations::pending(conn))
            })
            .await
            .map_err(|e: DbError| NotReady::Unreachable(e.to_string()))?;
        match pending {
            Ok(pending) if pending.is_empty() => Ok(()),
            Ok(pending) => Err(NotReady::MigrationsPending(pending)),
            Err(e) => Err(NotReady::Unreachable(e.to_string())),
        }
    }

    /// Blocking access for command-line tools that run outside the HTTP server.
    pub fn get(&self) -> Result<PooledConn, DbError> {
        self.pool.get().map_err(DbError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_choose_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://secondmile.db").unwrap(),
            DatabaseUrl::Sqlite("secondmile.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/sm.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/sm.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:data.db").unwrap(),
            DatabaseUrl::Sqlite("data.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("POSTGRES://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
    }

    #[test]
    fn unknown_schemes_and_plain_paths_are_refused() {
        for url in [
            "mysql://root@localhost/db",
            "secondmile.db",
            "",
            "sqlite://",
            "sqlite::memory:",
            "sqlite://x.db?mode=memory",
        ] {
            assert!(DatabaseUrl::parse(url).is_err(), "{url}");
        }
    }

    #[actix_web::test]
    async fn a_panic_while_holding_a_connection_is_reported_as_a_panic() {
        let dir = std::env::temp_dir().join(format!("secondmile-panic-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = DatabaseConfig {
            url: DatabaseUrl::Sqlite(dir.join("t.db").display().to_string()),
            pool_size: 1,
            connection_timeout: Duration::from_secs(5),
        };
        let db = Db::connect(&config).unwrap();
        let err = db
            .run(|_conn| -> Result<(), DbError> { panic!("index out of bounds in a query") })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DbError::Panicked(m) if m.contains("index out of bounds")),
            "{err:?}"
        );
        // The pool goes on serving.
        let ok = db
            .run(|conn| -> Result<(), DbError> { Ok(conn.batch_execute("SELECT 1")?) })
            .await;
        assert!(ok.is_ok(), "{ok:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/sm").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/sm");
        assert!(!format!("{url:?}").contains("s3cret"));
        let err = DatabaseUrl::parse("mysql://app:s3cret@db/sm").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        assert_eq!(redact("postgres://app@db/sm"), "postgres://app@db/sm");
    }
}
