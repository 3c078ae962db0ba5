//! Where attachment files live: a local directory (the default, beside the SQLite file) or an
//! S3-compatible bucket, through the `object_store` crate, chosen by `SECONDMILE_STORAGE_URL`.
//! A write is atomic on both (the local store writes a staging file and renames it; an S3
//! PUT is all or nothing), so a key either holds a whole file or nothing. Keys name the
//! organization, the attachment and the SHA-256 of the bytes, so the same bytes land on the
//! same key and different bytes never overwrite each other.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path;

/// An opened store and the key prefix everything goes under.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// Where it is, for logs and errors (no credentials).
    pub location: String,
    /// The directory of a local store: a write is flushed to the disk before it counts.
    local_root: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("location", &self.location)
            .finish()
    }
}

/// One stored object, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: String,
    pub size: u64,
    pub modified: chrono::DateTime<chrono::Utc>,
}

impl Storage {
    /// Opens `file://DIR` (relative paths from the working directory; created if missing) or
    /// `s3://BUCKET[/PREFIX]` (credentials, region and endpoint from the standard AWS
    /// environment variables, e.g. `AWS_ENDPOINT` and `AWS_ALLOW_HTTP` for another
    /// S3-compatible service).
    pub fn open(url: &str) -> Result<Storage, String> {
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err("file:// needs a directory, e.g. file://./secondmile-files".into());
            }
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| format!("cannot open {dir}: {e}"))?
                .with_automatic_cleanup(true);
            return Ok(Storage {
                store: Arc::new(store),
                prefix: Path::default(),
                location: url.to_string(),
                local_root: Some(std::path::PathBuf::from(dir)),
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err("s3:// needs a bucket, e.g. s3://my-bucket/secondmile".into());
            }
            let store = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| format!("cannot open {url}: {e}"))?;
            return Ok(Storage {
                store: Arc::new(store),
                prefix: Path::from(prefix.trim_matches('/')),
                location: url.to_string(),
                local_root: None,
            });
        }
        Err(format!(
            "`{url}` is not a storage URL; use file://DIR or s3://BUCKET/PREFIX"
        ))
    }

    /// Where uploads are staged while they arrive: a `staging` directory inside a local
    /// store (on the same disk, swept with it), or the system's temporary directory for S3.
    pub fn staging_dir(&self) -> std::path::PathBuf {
        match &self.local_root {
            Some(root) => root.join("staging"),
            None => std::env::temp_dir().join("secondmile-staging"),
        }
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.as_ref().is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix.as_ref()))
        }
    }

    fn key_of(&self, path: &Path) -> String {
        let full = path.as_ref();
        let prefix = self.prefix.as_ref();
        if prefix.is_empty() {
            full.to_string()
        } else {
            full.strip_prefix(prefix)
                .map_or(full, |k| k.trim_start_matches('/'))
                .to_string()
        }
    }

    /// Writes `bytes` under `key`, whole or not at all; returns once the store has it durably
    /// (a local file and its directory are flushed to the disk; an S3 PUT is acknowledged
    /// once stored).
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), object_store::Error> {
        let path = self.path(key);
        self.store.put(&path, bytes.into()).await?;
        if let Some(root) = &self.local_root {
            let file = root.join(path.as_ref());
            actix_web::rt::task::spawn_blocking(move || flush_to_disk(&file))
                .await
                .map_err(|e| generic(e.to_string()))?
                .map_err(|e| generic(format!("flushing {key}: {e}")))?;
        }
        Ok(())
    }

    /// Bytes `range` of the object as a stream of chunks (for downloads).
    pub async fn stream(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<
        futures_util::stream::BoxStream<'static, Result<Bytes, object_store::Error>>,
        object_store::Error,
    > {
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        Ok(self
            .store
            .get_opts(&self.path(key), options)
            .await?
            .into_stream())
    }

    /// The whole object, or `None` when there is no such object.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, object_store::Error> {
        match self.store.get(&self.path(key)).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The object's size, or `None` when there is no such object.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, object_store::Error> {
        match self.store.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A local store: deletes the staging files (half-written files of interrupted writes,
    /// never visible as objects) older than `grace`. Nothing to do on S3, where a PUT is
    /// all or nothing.
    pub async fn delete_stale_staging(
        &self,
        grace: std::time::Duration,
    ) -> Result<Vec<String>, object_store::Error> {
        let Some(root) = self.local_root.clone() else {
            return Ok(Vec::new());
        };
        actix_web::rt::task::spawn_blocking(move || delete_staging_under(&root, grace))
            .await
            .map_err(|e| generic(e.to_string()))?
            .map_err(|e| generic(format!("cleaning staging files: {e}")))
    }

    pub async fn delete(&self, key: &str) -> Result<(), object_store::Error> {
        self.store.delete(&self.path(key)).await
    }

    /// Every object under `key_prefix`.
    pub async fn list(&self, key_prefix: &str) -> Result<Vec<Stored>, object_store::Error> {
        let prefix = self.path(key_prefix);
        let mut listing = self.store.list(Some(&prefix));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            out.push(Stored {
                key: self.key_of(&meta.location),
                size: meta.size,
                modified: meta.last_modified,
            });
        }
        Ok(out)
    }
}

/// A local store's staging file: `NAME#DIGITS`, written before the rename that publishes it.
fn is_staging(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Deletes staging files under `root` older than `grace`; returns their paths.
fn delete_staging_under(
    root: &std::path::Path,
    grace: std::time::Duration,
) -> std::io::Result<Vec<String>> {
    let mut deleted = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                dirs.push(entry.path());
                continue;
            }
            let name = entry.file_name();
            if !kind.is_file() || !is_staging(&name.to_string_lossy()) {
                continue;
            }
            let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
            if age >= grace {
                std::fs::remove_file(entry.path())?;
                deleted.push(entry.path().display().to_string());
            }
        }
    }
    Ok(deleted)
}

fn generic(message: String) -> object_store::Error {
    object_store::Error::Generic {
        store: "local",
        source: message.into(),
    }
}

/// Flushes a written file and the directory entry that names it.
fn flush_to_disk(file: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_all()?;
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_store_writes_reads_lists_and_deletes() {
        let dir = std::env::temp_dir().join(format!("secondmile-store-{}", uuid::Uuid::new_v4()));
        let url = format!("file://{}", dir.display());
        actix_web::rt::System::new().block_on(async {
            let storage = Storage::open(&url).unwrap();
            assert!(dir.is_dir(), "created at open");
            storage
                .put(
                    "orgs/o1/attachments/a1/abc",
                    Bytes::from_static(b"0123456789"),
                )
                .await
                .unwrap();
            assert_eq!(
                storage.size("orgs/o1/attachments/a1/abc").await.unwrap(),
                Some(10)
            );
            assert_eq!(
                storage.size("orgs/o1/attachments/a1/nope").await.unwrap(),
                None
            );
            let part: Vec<Bytes> = storage
                .stream("orgs/o1/attachments/a1/abc", 2..5)
                .await
                .unwrap()
                .map(|chunk| chunk.unwrap())
                .collect()
                .await;
            assert_eq!(part.concat(), b"234");
            let listed = storage.list("orgs/o1").await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].key, "orgs/o1/attachments/a1/abc");
            assert_eq!(listed[0].size, 10);
            storage.delete("orgs/o1/attachments/a1/abc").await.unwrap();
            assert!(storage.list("orgs/o1").await.unwrap().is_empty());
        });
        std::fs::remove_dir_all(dir).unwrap();
        assert!(is_staging("abc#12") && !is_staging("abc#") && !is_staging("abc#1x"));
        assert!(Storage::open("ftp://x").is_err());
        assert!(Storage::open("file://").is_err());
        assert!(Storage::open("s3://").is_err());
    }
}
