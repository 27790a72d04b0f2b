//! Readers that keep hostile input bounded: inflation guards against archive
//! bombs (lines are bounded by [`crate::lines`]).

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The marker inside an `io::Error` raised by [`InflateGuard`].
#[derive(Debug, thiserror::Error)]
#[error("inflated past {limit} bytes ({detail})")]
pub struct TooLarge {
    pub limit: u64,
    pub detail: &'static str,
}

/// Whether an I/O error is an [`InflateGuard`] refusal.
pub fn is_too_large(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<TooLarge>())
}

/// Counts the bytes read through it into a shared cell (compressed input of a
/// decoder, so that the guard can judge the inflation ratio).
pub struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R> CountingReader<R> {
    pub fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            CountingReader {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Adds the bytes read through it to a progress counter shared with a UI thread.
pub struct ProgressReader<R> {
    inner: R,
    progress: Option<Arc<AtomicU64>>,
}

impl<R> ProgressReader<R> {
    pub fn new(inner: R, progress: Option<Arc<AtomicU64>>) -> Self {
        ProgressReader { inner, progress }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(progress) = &self.progress {
            progress.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Bounds what a decompressor may produce: an absolute cap, and past a floor,
/// a cap on the ratio of output to compressed input. Deflate cannot exceed
/// about 1032:1, and real logs stay under 50:1, so a ratio cap well below the
/// former catches a bomb long before it fills a disk or a day.
pub struct InflateGuard<R> {
    inner: R,
    produced: u64,
    max_bytes: u64,
    max_ratio: u64,
    ratio_floor: u64,
    compressed: CompressedSize,
}

/// How the compressed size of the input is known.
pub enum CompressedSize {
    /// Declared up front (a zip member).
    Known(u64),
    /// Counted as the decompressor reads (a gzip stream).
    Counted(Rc<Cell<u64>>),
}

impl<R> InflateGuard<R> {
    pub fn new(
        inner: R,
        max_bytes: u64,
        max_ratio: u64,
        ratio_floor: u64,
        compressed: CompressedSize,
    ) -> Self {
        InflateGuard {
            inner,
            produced: 0,
            max_bytes,
            max_ratio,
            ratio_floor,
            compressed,
        }
    }
}

impl<R: Read> Read for InflateGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.produced > self.max_bytes {
            return Err(io::Error::other(TooLarge {
                limit: self.max_bytes,
                detail: "size cap",
            }));
        }
        if self.produced > self.ratio_floor {
            let compressed = match &self.compressed {
                CompressedSize::Known(size) => *size,
                CompressedSize::Counted(count) => count.get(),
            };
            if self.produced > compressed.max(1).saturating_mul(self.max_ratio) {
                return Err(io::Error::other(TooLarge {
                    limit: self.produced,
                    detail: "inflation ratio",
                }));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn guard_refuses_past_the_ratio() {
        let zeros = Cursor::new(vec![0u8; 1 << 20]);
        let mut guard = InflateGuard::new(zeros, u64::MAX, 10, 1024, CompressedSize::Known(100));
        let err = io::copy(&mut guard, &mut io::sink()).unwrap_err();
        assert!(is_too_large(&err));
    }
}
