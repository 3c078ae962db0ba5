//! Copying the files the database names from one store to another: `secondmile backup`
//! (the files of a SQLite copy, beside it), `attachments backup DIR` and `attachments
//! restore DIR`. Keys name the SHA-256 of their bytes and a stored file never changes, so a
//! key already present with the right size is the same file and is skipped (a second backup
//! into the same directory copies only what is new); every byte copied is checked against
//! the digest its row recorded, and a file that does not match is reported, never written.

use futures_util::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use super::service::hex;
use super::storage::Storage;
use crate::db::attachments::{NamedFile, named_files};
use crate::db::{Db, DbError};

/// Files copied at once.
const AT_ONCE: usize = 8;
/// Rows read at once.
const PAGE: i64 = 1000;

/// What a copy did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Files the rows name.
    pub named: u64,
    /// Files written to the target.
    pub copied: u64,
    /// Bytes written to the target.
    pub bytes: u64,
    /// Files the target already held.
    pub present: u64,
    /// Keys named by a row but absent from the source (deleted since the rows were read,
    /// by an erasure or a removal, or lost).
    pub missing: Vec<String>,
    /// Keys whose bytes in the source do not match their row's size or digest (not copied).
    pub damaged: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the file storage failed: {0}")]
    Storage(#[from] object_store::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

enum Outcome {
    Copied(u64),
    Present,
    Missing(String),
    Damaged(String),
}

async fn copy_one(file: NamedFile, from: &Storage, to: &Storage) -> Result<Outcome, CopyError> {
    let size = u64::try_from(file.size).unwrap_or(u64::MAX);
    if to.size(&file.key).await? == Some(size) {
        return Ok(Outcome::Present);
    }
    let Some(bytes) = from.get(&file.key).await? else {
        return Ok(Outcome::Missing(file.key));
    };
    if bytes.len() as u64 != size || hex(&Sha256::digest(&bytes)) != file.sha256 {
        return Ok(Outcome::Damaged(file.key));
    }
    to.put(&file.key, bytes).await?;
    Ok(Outcome::Copied(size))
}

/// Copies `files` from `from` to `to`, a few at a time.
pub async fn copy(
    files: Vec<NamedFile>,
    from: &Storage,
    to: &Storage,
    copied: &mut Copied,
) -> Result<(), CopyError> {
    copied.named += files.len() as u64;
    let mut outcomes = futures_util::stream::iter(files)
        .map(|file| copy_one(file, from, to))
        .buffer_unordered(AT_ONCE);
    while let Some(outcome) = outcomes.try_next().await? {
        match outcome {
            Outcome::Copied(bytes) => {
                copied.copied += 1;
                copied.bytes += bytes;
            }
            Outcome::Present => copied.present += 1,
            Outcome::Missing(key) => copied.missing.push(key),
            Outcome::Damaged(key) => copied.damaged.push(key),
        }
    }
    Ok(())
}

/// Copies every file the rows of `db` name from `from` to `to`, a page of rows at a time.
pub async fn copy_named(db: &Db, from: &Storage, to: &Storage) -> Result<Copied, CopyError> {
    let mut copied = Copied::default();
    let mut after = String::new();
    loop {
        let from_key = after.clone();
        let page = db
            .run(move |conn| Ok::<_, DbError>(named_files(conn, &from_key, PAGE)?))
            .await?;
        let Some(last) = page.last() else { break };
        after = last.key.clone();
        let full = page.len() as i64 == PAGE;
        copy(page, from, to, &mut copied).await?;
        if !full {
            break;
        }
    }
    copied.missing.sort();
    copied.damaged.sort();
    Ok(copied)
}
