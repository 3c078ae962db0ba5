//! Schema migrations, embedded in the binary: one folder per backend with the same names.

use std::collections::BTreeSet;

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;
use diesel::{QueryableByName, RunQueryDsl, sql_query};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConn;

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Arbitrary but fixed key of the PostgreSQL advisory lock that serialises migrations
/// when several instances start at once.
const MIGRATION_LOCK_KEY: i64 = 0x5ec0_d0a1_1e00_0001;

pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Versions (the leading timestamp of each folder name) this binary carries for `conn`'s backend.
pub fn embedded_versions(conn: &DbConn) -> Result<BTreeSet<String>, MigrationError> {
    let names: Vec<String> = match conn {
        DbConn::Pg(_) => MigrationSource::<Pg>::migrations(&POSTGRES)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
        DbConn::Sqlite(_) => MigrationSource::<Sqlite>::migrations(&SQLITE)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
    };
    Ok(names.into_iter().collect())
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Versions recorded as applied, read without creating or changing anything.
pub fn applied_versions(conn: &mut DbConn) -> Result<BTreeSet<String>, diesel::result::Error> {
    let exists_sql = match conn {
        DbConn::Pg(_) => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '__diesel_schema_migrations'"
        }
        DbConn::Sqlite(_) => {
            "SELECT COUNT(*) AS n FROM sqlite_master \
             WHERE type = 'table' AND name = '__diesel_schema_migrations'"
        }
    };
    let exists = sql_query(exists_sql).get_result::<Count>(conn)?.n > 0;
    if !exists {
        return Ok(BTreeSet::new());
    }
    Ok(sql_query("SELECT version FROM __diesel_schema_migrations")
        .load::<Version>(conn)?
        .into_iter()
        .map(|v| v.version)
        .collect())
}

/// Embedded migrations that the database has not applied yet.
pub fn pending(conn: &mut DbConn) -> Result<Vec<String>, MigrationError> {
    let applied = applied_versions(conn)?;
    Ok(embedded_versions(conn)?
        .into_iter()
        .filter(|v| !applied.contains(v))
        .collect())
}

/// Applies every pending migration and returns the versions applied (empty when the
/// database was already up to date).
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>, MigrationError> {
    match conn {
        DbConn::Pg(pg) => {
            sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(pg)?;
            let result = pg
                .run_pending_migrations(POSTGRES)
                .map(|done| done.iter().map(ToString::to_string).collect());
            let unlocked =
                sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(pg);
            let applied = result?;
            unlocked?;
            Ok(applied)
        }
        DbConn::Sqlite(sqlite) => Ok(sqlite
            .run_pending_migrations(SQLITE)?
            .iter()
            .map(ToString::to_string)
            .collect()),
    }
}
