//! `secondmile backup PATH`: a consistent copy of a running SQLite database. SQLite's
//! `VACUUM INTO` reads one snapshot (a read transaction, beside the server's writes in WAL
//! mode) and writes it compacted to a new file; the copy is written under a temporary name,
//! checked with `PRAGMA integrity_check`, flushed to disk and only then renamed into place,
//! so PATH is either absent or a whole, verified backup. PostgreSQL has its own tools
//! (`pg_dump`, base backups with WAL archiving for point-in-time recovery): this refuses.
//! The files the copy's rows name are copied (by the caller) before the copy is renamed,
//! so a backup at PATH always has its files.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection, sql_query};

use super::attachments::{NamedFile, named_files};
use super::{ConnectionManager, DatabaseUrl, DbConn};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "`backup` copies SQLite databases; for PostgreSQL use pg_dump (or a base backup with WAL archiving) and then `secondmile attachments backup DIR`, as the README describes"
    )]
    Postgres,
    #[error("{0} already exists; a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("cannot open the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("the copy failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the copy failed its integrity check: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("copying the attachment files failed: {0}")]
    Files(String),
}

/// What a backup holds.
#[derive(Debug)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    pub organizations: i64,
    pub reports: i64,
    /// The files the copy's rows name (to be copied beside it).
    pub files: Vec<NamedFile>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

fn count(conn: &mut SqliteConnection, table: &str) -> Result<i64, diesel::result::Error> {
    Ok(sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(conn)?
        .n)
}

/// Copies the database at `url` to `target` (a new file). `before_publishing` runs with the
/// files the copy's rows name once the copy is checked and before it takes its name (to
/// copy those files beside it): when it fails, no backup is left at `target`.
pub fn backup(
    url: &DatabaseUrl,
    target: &Path,
    before_publishing: impl FnOnce(&[NamedFile]) -> Result<(), BackupError>,
) -> Result<Backup, BackupError> {
    if matches!(url, DatabaseUrl::Postgres(_)) {
        return Err(BackupError::Postgres);
    }
    if target.exists() {
        return Err(BackupError::Exists(target.to_path_buf()));
    }
    let mut partial = target.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    // A partial file left by an interrupted backup is ours to replace.
    if partial.exists() {
        std::fs::remove_file(&partial)?;
    }
    let DbConn::Sqlite(mut source) = ConnectionManager::new(url.clone()).connect()? else {
        return Err(BackupError::Postgres);
    };
    sql_query("VACUUM INTO ?")
        .bind::<Text, _>(partial.display().to_string())
        .execute(&mut source)?;

    let mut copy = SqliteConnection::establish(&partial.display().to_string())?;
    let checks = sql_query("PRAGMA integrity_check").load::<Check>(&mut copy)?;
    let verdict: Vec<String> = checks.into_iter().map(|c| c.integrity_check).collect();
    if verdict != ["ok"] {
        drop(copy);
        std::fs::remove_file(&partial)?;
        return Err(BackupError::Corrupt(verdict.join("; ")));
    }
    let organizations = count(&mut copy, "organizations")?;
    let reports = count(&mut copy, "reports")?;
    let mut copy = DbConn::Sqlite(copy);
    let mut files: Vec<NamedFile> = Vec::new();
    loop {
        let after = files.last().map_or(String::new(), |f| f.key.clone());
        let page = named_files(&mut copy, &after, 1000)?;
        let done = page.len() < 1000;
        files.extend(page);
        if done {
            break;
        }
    }
    let DbConn::Sqlite(mut copy) = copy else {
        unreachable!("a SQLite connection stays one")
    };
    // The copy is a plain rollback-journal file; leave it closed and flushed.
    copy.batch_execute("PRAGMA journal_mode = DELETE")?;
    drop(copy);
    if let Err(e) = before_publishing(&files) {
        std::fs::remove_file(&partial)?;
        return Err(e);
    }
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, target)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(Backup {
        path: target.to_path_buf(),
        bytes: std::fs::metadata(target)?.len(),
        organizations,
        reports,
        files,
    })
}
