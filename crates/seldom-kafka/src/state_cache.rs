//! `seldom worker --state DIR`: a local copy of the snapshots this worker
//! committed, so that a restarted worker given its partitions back need not
//! read their state from the changelog again. The changelog stays the
//! truth: a copy records the changelog offset it was committed at, and is
//! used only when the changelog holds nothing committed after that offset
//! (the restore reads from the offset after it, and anything it finds
//! there wins). A copy that is damaged, from another deployment's topic, or
//! simply old is never trusted further than that.
//!
//! One file per changelog partition, `TOPIC-PARTITION.state`: a header
//! line, the offset, a checksum of the snapshot, and the snapshot. Written
//! to a temporary name and renamed, so a crash leaves the old copy or the
//! new one.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"seldom worker state 1\n";

#[derive(Debug, Clone)]
pub struct StateCache {
    dir: PathBuf,
}

/// A cached snapshot and the changelog offset it was committed at.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub offset: i64,
    pub snapshot: Vec<u8>,
}

impl StateCache {
    /// Uses `dir`, created if missing.
    pub fn open(dir: &Path) -> io::Result<StateCache> {
        fs::create_dir_all(dir)?;
        Ok(StateCache {
            dir: dir.to_owned(),
        })
    }

    fn path(&self, topic: &str, partition: i32) -> PathBuf {
        self.dir.join(format!("{topic}-{partition}.state"))
    }

    /// The copy of a partition's snapshot, if there is a sound one.
    pub fn load(&self, topic: &str, partition: i32) -> Option<Cached> {
        let bytes = fs::read(self.path(topic, partition)).ok()?;
        let rest = bytes.strip_prefix(MAGIC)?;
        let (offset, rest) = rest.split_first_chunk::<8>()?;
        let (digest, snapshot) = rest.split_first_chunk::<8>()?;
        if xxhash_rust::xxh3::xxh3_64(snapshot).to_le_bytes() != *digest {
            return None;
        }
        Some(Cached {
            offset: i64::from_le_bytes(*offset),
            snapshot: snapshot.to_vec(),
        })
    }

    /// Keeps the snapshot committed at `offset` of a partition.
    pub fn store(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
        snapshot: &[u8],
    ) -> io::Result<()> {
        let path = self.path(topic, partition);
        let temporary = path.with_extension("state.tmp");
        let mut bytes = Vec::with_capacity(MAGIC.len() + 16 + snapshot.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&offset.to_le_bytes());
        bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(snapshot).to_le_bytes());
        bytes.extend_from_slice(snapshot);
        fs::write(&temporary, &bytes)?;
        fs::rename(&temporary, &path)
    }

    /// Forgets a partition's copy (its newest snapshot's offset is unknown).
    pub fn forget(&self, topic: &str, partition: i32) {
        let _ = fs::remove_file(self.path(topic, partition));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_reads_back_and_a_changed_byte_is_refused() {
        let dir = tempfile::tempdir().expect("a folder");
        let cache = StateCache::open(&dir.path().join("state")).expect("created");
        assert_eq!(cache.load("t", 0), None);
        cache.store("t", 0, 41, b"snapshot").expect("written");
        assert_eq!(
            cache.load("t", 0),
            Some(Cached {
                offset: 41,
                snapshot: b"snapshot".to_vec()
            })
        );
        let path = cache.path("t", 0);
        let mut bytes = fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).expect("written");
        assert_eq!(cache.load("t", 0), None);
        fs::write(&path, b"seldom worker state 1\n").expect("written");
        assert_eq!(cache.load("t", 0), None);
        cache.forget("t", 0);
        assert!(!path.exists());
    }
}
