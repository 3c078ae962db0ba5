//! A body on its way in: written to a staging file as it arrives, hashed on the way, never
//! whole in memory. The file is deleted when the staged body is dropped, whatever the
//! outcome; one left by a crash is named `NAME#DIGITS` like the local store's own staging
//! files, so the sweeper deletes it.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bytes kept from the start of the body, to tell its type.
const HEAD: usize = 64;

/// A body being staged.
pub struct Staged {
    path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    len: u64,
    sha256: Sha256,
    head: Vec<u8>,
}

impl Staged {
    /// A new empty staging file in `dir` (created if missing).
    pub fn create(dir: &Path) -> std::io::Result<Staged> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("upload-{}#0", uuid::Uuid::new_v4()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Staged {
            path,
            file: Some(std::io::BufWriter::with_capacity(256 * 1024, file)),
            len: 0,
            sha256: Sha256::new(),
            head: Vec::with_capacity(HEAD),
        })
    }

    /// Appends a chunk (written to the page cache: the staging file is never flushed to the
    /// disk, it only has to outlive the request).
    pub fn append(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let file = self.file.as_mut().ok_or_else(closed)?;
        file.write_all(chunk)?;
        self.sha256.update(chunk);
        let room = HEAD.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        self.len += chunk.len() as u64;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The body's first bytes (up to 64).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Ends the writing; the body's SHA-256.
    pub fn finish(&mut self) -> std::io::Result<[u8; 32]> {
        if let Some(mut file) = self.file.take() {
            file.flush()?;
        }
        Ok(std::mem::take(&mut self.sha256).finalize().into())
    }

    /// The whole body, read back (call after `finish`).
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(&self.path)
    }
}

fn closed() -> std::io::Error {
    std::io::Error::other("the staging file is already finished")
}

impl Drop for Staged {
    fn drop(&mut self) {
        drop(self.file.take());
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %self.path.display(), error = %e, "a staging file could not be deleted; the sweeper will");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_body_is_hashed_kept_on_disk_and_deleted_when_dropped() {
        let dir = std::env::temp_dir().join(format!("secondmile-staging-{}", uuid::Uuid::new_v4()));
        let mut staged = Staged::create(&dir).unwrap();
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in body.chunks(7_000) {
            staged.append(chunk).unwrap();
        }
        assert_eq!(staged.len(), 200_000);
        assert_eq!(staged.head(), &body[..64]);
        let digest = staged.finish().unwrap();
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&body)));
        assert_eq!(staged.read().unwrap(), body);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        drop(staged);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "deleted");
        std::fs::remove_dir(&dir).unwrap();
    }
}
