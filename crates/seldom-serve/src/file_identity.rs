//! What makes a tailed file the same file, whatever its name: its device and
//! inode, plus a fingerprint of its first bytes (as Vector's file source
//! does), so that an inode the system gives again to a new file after a
//! deletion is not taken for the old one, and a copy of a file (logrotate's
//! `copytruncate`) is recognized as its content.
//!
//! The fingerprint is a hash of the first `min(size, 256)` bytes and records
//! how many bytes it covers: a file is identified from its first byte, and
//! its fingerprint grows with it until it covers 256 bytes. Two files are the
//! same content when the longer one's first `fingerprint_len` bytes hash to
//! the shorter record's fingerprint. A fingerprint of fewer than 256 bytes is
//! too weak to recognize a copy (every file starts like the empty file), so
//! copies are recognized by full fingerprints only.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};

use serde::{Deserialize, Serialize};

/// How many first bytes a full fingerprint covers: more than the few lines of
/// a header that many log files share (Zeek's run to about 200 bytes with the
/// file's opening time).
pub const FINGERPRINT_BYTES: u64 = 256;

/// A file's identity as the tailer and the store keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
    /// xxh3 of the first `fingerprint_len` bytes.
    pub fingerprint: u64,
    pub fingerprint_len: u64,
}

/// What a look at an open file finds: its identity and size.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub id: FileId,
    pub size: u64,
    /// Starts with gzip's magic: a compressed rotation, never followed (its
    /// lines were read from the file it was made of).
    pub gzip: bool,
}

impl FileId {
    /// The store's key: at most one live file has a device and inode.
    pub fn key(&self) -> String {
        format!("{}:{}", self.dev, self.ino)
    }

    /// Shown in the status: device, inode and fingerprint.
    pub fn display(&self) -> String {
        format!(
            "{}:{}:{:016x}/{}",
            self.dev, self.ino, self.fingerprint, self.fingerprint_len
        )
    }

    pub fn same_inode(&self, other: &FileId) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }

    /// Whether `seen` starts with the bytes this fingerprint was taken of.
    pub fn same_start(&self, seen: &Seen, file: &File) -> io::Result<bool> {
        if seen.size < self.fingerprint_len {
            return Ok(false); // shorter than what was fingerprinted: rewritten
        }
        if seen.id.fingerprint_len == self.fingerprint_len {
            return Ok(seen.id.fingerprint == self.fingerprint);
        }
        Ok(hash_prefix(file, self.fingerprint_len)? == self.fingerprint)
    }

    /// A copy of this file's content (a different inode, the same full
    /// fingerprint).
    pub fn is_copy(&self, seen: &Seen) -> bool {
        self.fingerprint_len == FINGERPRINT_BYTES
            && seen.id.fingerprint_len == FINGERPRINT_BYTES
            && seen.id.fingerprint == self.fingerprint
            && !self.same_inode(&seen.id)
    }
}

/// Looks at an open file: identity (through the handle, so that a rename
/// between open and look cannot mix two files) and size.
pub fn look(file: &File) -> io::Result<Seen> {
    let meta = file.metadata()?;
    let size = meta.len();
    let len = size.min(FINGERPRINT_BYTES);
    let mut start = vec![0; len as usize];
    file.read_exact_at(&mut start, 0)?;
    Ok(Seen {
        id: FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            fingerprint: xxhash_rust::xxh3::xxh3_64(&start),
            fingerprint_len: len,
        },
        size,
        gzip: start.starts_with(&[0x1f, 0x8b]),
    })
}

/// The length of a compressed rotation's content, if it is this file's: its
/// first bytes, once decompressed, have this fingerprint. How much of a
/// file that was compressed while the server was down was never read.
pub fn compressed_length(id: &FileId, file: File) -> io::Result<Option<u64>> {
    let mut content = flate2::read::MultiGzDecoder::new(io::BufReader::new(file));
    let mut start = vec![0; id.fingerprint_len as usize];
    if content.read_exact(&mut start).is_err()
        || xxhash_rust::xxh3::xxh3_64(&start) != id.fingerprint
    {
        return Ok(None);
    }
    let rest = io::copy(&mut content, &mut io::sink())?;
    Ok(Some(id.fingerprint_len + rest))
}

fn hash_prefix(file: &File, len: u64) -> io::Result<u64> {
    let mut start = vec![0; len as usize];
    file.read_exact_at(&mut start, 0)?;
    Ok(xxhash_rust::xxh3::xxh3_64(&start))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use super::*;

    #[test]
    fn a_fingerprint_grows_with_its_file_and_still_matches_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"short\n").unwrap();
        let early = look(&File::open(&path).unwrap()).unwrap();
        assert_eq!(early.id.fingerprint_len, 6);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&[b'x'; 600]).unwrap();
        let file = File::open(&path).unwrap();
        let later = look(&file).unwrap();
        assert_eq!(later.id.fingerprint_len, FINGERPRINT_BYTES);
        assert!(early.id.same_start(&later, &file).unwrap());
        // Rewritten with other first bytes: not the same start.
        std::fs::write(&path, b"other\nxxxxxxx").unwrap();
        let file = File::open(&path).unwrap();
        let rewritten = look(&file).unwrap();
        assert!(!early.id.same_start(&rewritten, &file).unwrap());
        assert!(!later.id.same_start(&rewritten, &file).unwrap());
    }

    #[test]
    fn a_copy_has_the_full_fingerprint_and_another_inode() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("a.1"));
        std::fs::write(&a, [b'y'; 300]).unwrap();
        std::fs::copy(&a, &b).unwrap();
        let original = look(&File::open(&a).unwrap()).unwrap();
        let copy = look(&File::open(&b).unwrap()).unwrap();
        assert!(original.id.is_copy(&copy));
        assert!(!original.id.is_copy(&original));
        std::fs::write(&b, [b'y'; 100]).unwrap();
        let short = look(&File::open(&b).unwrap()).unwrap();
        assert!(!short.id.is_copy(&original), "a short start proves nothing");
    }
}
