//! Retention of personal text: in an organization that set `personal_data_retention_days`,
//! the narrative, staff observed and photos of staff of reports whose visit is older than
//! that are deleted, by `serve` at start and hourly or by `secondmile personal-data prune`.
//! Each batch of reports is its own short transaction; the photos go once it is committed.
//! Scores, answers and figures stay. A report revised afterwards is looked at again.

use std::time::Duration;

use chrono::TimeDelta;

use crate::attachments::service::delete_unnamed;
use crate::attachments::storage::Storage;
use crate::db::{Db, DbError, removal, settings};
use crate::ids::OrgId;

/// How often `serve` prunes.
const EVERY: Duration = Duration::from_secs(3600);
/// Reports rewritten in one transaction.
const BATCH: i64 = 200;

/// What a pass removed in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub org: OrgId,
    pub retention_days: u32,
    /// Reports whose narrative and staff observed were emptied.
    pub reports: usize,
    /// Photos of staff deleted from the store.
    pub files: usize,
}

/// One pass over every organization with a retention.
pub async fn prune(db: &Db, storage: &Storage) -> Result<Vec<Pruned>, DbError> {
    let now = db.now();
    let orgs = db
        .run(|conn| Ok::<_, DbError>(settings::organizations_with_retention(conn)?))
        .await?;
    let mut done = Vec::new();
    for (org, days) in orgs {
        let cutoff = now - TimeDelta::days(i64::from(days));
        let mut pruned = Pruned {
            org,
            retention_days: days,
            reports: 0,
            files: 0,
        };
        loop {
            let batch = db
                .write(move |tx| {
                    Ok::<_, DbError>(removal::prune_personal_text(tx, org, cutoff, now, BATCH)?)
                })
                .await?;
            pruned.reports += batch.reports;
            pruned.files += delete_unnamed(db, storage, batch.files).await?;
            if (batch.reports as i64) < BATCH {
                break;
            }
        }
        if pruned.reports > 0 {
            tracing::info!(org = %org, days, reports = pruned.reports, files = pruned.files, "personal text past its retention deleted");
        }
        done.push(pruned);
    }
    Ok(done)
}

/// Prunes at start, then every hour, while the server runs.
pub async fn run_periodically(db: Db, storage: Storage) {
    let mut interval = actix_web::rt::time::interval(EVERY);
    loop {
        interval.tick().await;
        if let Err(e) = prune(&db, &storage).await {
            tracing::error!(error = %e, "personal data retention pass failed; retried in an hour");
        }
    }
}
