//! The sweeper: files in the storage without a database row are uploads that stopped between
//! storing the file and writing its row (a crash, a kill, a lost database). They are never
//! visible to anyone, and are deleted once older than a grace period (an upload in flight
//! has stored its file and is about to write its row). Every deletion is logged and counted;
//! the command prints each one.

use std::time::Duration;

use super::storage::{Storage, Stored};
use crate::db::attachments as store;
use crate::db::{Db, DbError};

/// Files younger than this are left alone: their upload may still be writing its row.
pub const GRACE: Duration = Duration::from_secs(3600);
/// How often `serve` sweeps (also once at start).
pub const EVERY: Duration = Duration::from_secs(3600);
/// Keys asked about in one query.
const BATCH: usize = 500;

/// What a sweep found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Files examined.
    pub examined: u64,
    /// Files with a row (kept).
    pub kept: u64,
    /// Files without a row but younger than the grace period (kept for now).
    pub recent: u64,
    /// Keys of the files without a row that were deleted.
    pub deleted: Vec<String>,
    /// Staging files of a local store left by an interrupted write, deleted.
    pub staging_deleted: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("the file storage failed: {0}")]
    Storage(#[from] object_store::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Deletes the files without a row older than `grace`, and a local store's stale staging
/// files.
pub async fn sweep(db: &Db, storage: &Storage, grace: Duration) -> Result<Swept, SweepError> {
    let cutoff = db.now() - chrono::TimeDelta::from_std(grace).unwrap_or(chrono::TimeDelta::zero());
    let mut swept = Swept::default();
    let listed = storage.list("orgs").await?;
    for batch in listed.chunks(BATCH) {
        let keys: Vec<String> = batch.iter().map(|s| s.key.clone()).collect();
        let with_row = db
            .run(move |conn| Ok::<_, DbError>(store::existing_keys(conn, &keys)?))
            .await?;
        for Stored { key, modified, .. } in batch {
            swept.examined += 1;
            if with_row.contains(key) {
                swept.kept += 1;
            } else if *modified > cutoff {
                swept.recent += 1;
            } else {
                storage.delete(key).await?;
                tracing::warn!(key = %key, "deleted a stored file that has no row (an upload interrupted before its row was written)");
                swept.deleted.push(key.clone());
            }
        }
    }
    for path in storage.delete_stale_staging(grace).await? {
        tracing::warn!(file = %path, "deleted a staging file left by an interrupted write");
        swept.staging_deleted.push(path);
    }
    Ok(swept)
}

/// Sweeps now and then every `EVERY` until the server stops; a failed sweep is logged and
/// tried again at the next turn.
pub async fn run_periodically(db: Db, storage: Storage) {
    let mut interval = actix_web::rt::time::interval(EVERY);
    loop {
        interval.tick().await;
        match sweep(&db, &storage, GRACE).await {
            Ok(s) => tracing::info!(
                examined = s.examined,
                deleted = s.deleted.len(),
                staging_deleted = s.staging_deleted.len(),
                "attachment sweep done"
            ),
            Err(e) => tracing::error!(error = %e, "attachment sweep failed; retried in an hour"),
        }
    }
}
