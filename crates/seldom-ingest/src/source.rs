//! Sources: files, folders, archives and standard input, streamed.
//!
//! The container is recognized by its first bytes (EVTX, zip, gzip, tar, text),
//! never by its name, and opened in place: a zip member or a gzip stream is
//! decoded as it inflates, so a 2 GB export never sits in memory. Only formats
//! that need random access (EVTX, zip) found *inside* another container or on
//! standard input are buffered, up to a bound. A path that is not a regular
//! file (a FIFO, `/dev/stdin`, a shell's `<(...)`) cannot seek: it is read
//! as a stream, like standard input.
//!
//! A file that cannot be opened or read at all is counted as `io_error` and
//! in [`IngestStats::files_unreadable`], so that a caller can fail the run
//! (`scan` exits 1) rather than report a clean read of less than was asked.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use flate2::read::MultiGzDecoder;
use seldom_model::{Event, Location};

use crate::evtx_file::read_evtx;
use crate::limits::{CompressedSize, CountingReader, InflateGuard, ProgressReader, is_too_large};
use crate::options::IngestOptions;
use crate::stats::{IgnoreReason, IngestStats, Malformed, SkipReason};

/// Text inputs, line by line.
mod text;

/// A top-level input that could not be opened at all (a typo on the command line).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct OpenError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Reads inputs into events, counting everything it sees.
pub struct Ingestor {
    options: IngestOptions,
    stats: IngestStats,
    progress: Option<Arc<AtomicU64>>,
    /// Empty line chunks of the parallel JSON decoder, reused from one
    /// input to the next (a folder of recordings is hundreds of inputs).
    spare_chunks: Vec<crate::parallel::Chunk>,
}

/// What the first bytes of an input say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Evtx,
    Zip,
    Gzip,
    Tar,
    Text,
    Binary,
}

const SNIFF_BYTES: usize = 512;

fn sniff(head: &[u8]) -> Container {
    if head.starts_with(b"ElfFile\0") {
        Container::Evtx
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Container::Zip
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Container::Gzip
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Container::Tar
    } else if head.contains(&0) {
        // NUL bytes: a binary file (or UTF-16 text, which no shipper writes for JSON).
        Container::Binary
    } else {
        // Invalid UTF-8 is judged line by line, so one bad line costs only itself.
        Container::Text
    }
}

impl Ingestor {
    pub fn new(options: IngestOptions) -> Self {
        Ingestor {
            options,
            stats: IngestStats::default(),
            progress: None,
            spare_chunks: Vec::new(),
        }
    }

    /// Bytes of top-level input consumed so far are added to `counter`.
    pub fn with_progress(mut self, counter: Arc<AtomicU64>) -> Self {
        self.progress = Some(counter);
        self
    }

    pub fn stats(&self) -> &IngestStats {
        &self.stats
    }

    pub fn into_stats(self) -> IngestStats {
        self.stats
    }

    /// Reads a file, or every file under a folder (sorted, recursively).
    pub fn read_path(&mut self, path: &Path, sink: &mut dyn FnMut(Event)) -> Result<(), OpenError> {
        let meta = std::fs::metadata(path).map_err(|source| OpenError {
            path: path.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .follow_links(false);
            for entry in walker {
                match entry {
                    Ok(entry) if entry.file_type().is_file() => self.read_file(entry.path(), sink),
                    Ok(_) => {}
                    Err(e) => {
                        // A folder or file under it that cannot be listed or
                        // stat'ed: whatever it holds is not read.
                        let name = e.path().unwrap_or(path).display().to_string();
                        self.unreadable(&Arc::from(name), e.to_string());
                    }
                }
            }
        } else {
            self.read_file(path, sink);
        }
        Ok(())
    }

    /// Reads one file; every failure is counted against it, none is returned.
    pub fn read_file(&mut self, path: &Path, sink: &mut dyn FnMut(Event)) {
        let name: Arc<str> = Arc::from(path.display().to_string());
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return self.unreadable(&name, e.to_string()),
        };
        let meta = match file.metadata() {
            Ok(meta) => meta,
            Err(e) => return self.unreadable(&name, e.to_string()),
        };
        if !meta.is_file() {
            // A FIFO, a character device, `/dev/stdin`, `<(...)`: no seeking.
            let reader = ProgressReader::new(file, self.progress.clone());
            return self.read_top_stream(Box::new(reader), &name, sink);
        }
        let mut head = [0u8; SNIFF_BYTES];
        let n = match read_up_to(&mut file, &mut head) {
            Ok(n) => n,
            Err(e) => return self.unreadable(&name, e.to_string()),
        };
        if let Err(e) = file.rewind() {
            return self.unreadable(&name, e.to_string());
        }
        let size = meta.len();
        self.stats.bytes_read += size;
        match sniff(&head[..n]) {
            // Random-access formats read the file in place; progress moves when they are done.
            Container::Evtx => {
                self.stats.files_read += 1;
                self.guarded(&name, |this| {
                    let threads = this.options.evtx_threads;
                    read_evtx(
                        file,
                        &name,
                        &this.options.normalize,
                        threads,
                        &mut this.stats,
                        sink,
                    )
                });
                self.advance(size);
            }
            Container::Zip => {
                self.read_zip(file, &name, 0, sink);
                self.advance(size);
            }
            _ => {
                let reader = ProgressReader::new(file, self.progress.clone());
                self.read_stream(Box::new(reader), &name, 0, sink);
            }
        }
    }

    /// Reads a stream of any supported container (standard input, an HTTP body).
    pub fn read_reader(&mut self, reader: impl Read, name: &str, sink: &mut dyn FnMut(Event)) {
        let name: Arc<str> = Arc::from(name);
        self.read_top_stream(Box::new(reader), &name, sink);
    }

    /// A whole input that is a stream: one that fails before its first
    /// byte is unreadable, not merely short.
    fn read_top_stream(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &Arc<str>,
        sink: &mut dyn FnMut(Event),
    ) {
        let mut reader = reader;
        let mut head = vec![0u8; SNIFF_BYTES];
        let n = match read_up_to(&mut reader, &mut head) {
            Ok(n) => n,
            Err(e) => return self.unreadable(name, e.to_string()),
        };
        head.truncate(n);
        self.read_stream(Box::new(Cursor::new(head).chain(reader)), name, 0, sink);
    }

    /// An input that could not be opened or read at all.
    fn unreadable(&mut self, name: &Arc<str>, detail: String) {
        self.stats.files_unreadable += 1;
        self.skip_file(name, SkipReason::Io, detail);
    }

    fn advance(&self, bytes: u64) {
        if let Some(progress) = &self.progress {
            progress.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn skip_file(&mut self, name: &Arc<str>, reason: SkipReason, detail: String) {
        self.stats.skip(
            Malformed::new(reason, detail),
            &Location::file(name.clone()),
        );
    }

    /// Runs a decoder that relies on a third-party crate, so that a panic inside
    /// it costs the rest of that file, not the run.
    fn guarded(&mut self, name: &Arc<str>, work: impl FnOnce(&mut Self)) {
        if catch_unwind(AssertUnwindSafe(|| work(self))).is_err() {
            self.skip_file(
                name,
                SkipReason::DecoderPanic,
                "decoder panicked; rest of file skipped".into(),
            );
        }
    }

    fn read_stream(
        &mut self,
        reader: Box<dyn Read + '_>,
        name: &Arc<str>,
        depth: u8,
        sink: &mut dyn FnMut(Event),
    ) {
        let mut reader = reader;
        let mut head = vec![0u8; SNIFF_BYTES];
        let n = match read_up_to(&mut reader, &mut head) {
            Ok(n) => n,
            Err(e) => return self.skip_read_error(name, e),
        };
        head.truncate(n);
        let container = sniff(&head);
        let whole = Cursor::new(head).chain(reader);
        match container {
            Container::Text => {
                self.stats.files_read += 1;
                self.read_text(BufReader::with_capacity(256 << 10, whole), name, sink);
            }
            Container::Gzip => {
                if !self.may_nest(name, depth) {
                    return;
                }
                let (counted, compressed) = CountingReader::new(whole);
                let inflated = self.guard(
                    MultiGzDecoder::new(BufReader::new(counted)),
                    CompressedSize::Counted(compressed),
                );
                let inner: Arc<str> = Arc::from(format!("{}!", name.trim_end_matches(".gz")));
                self.read_stream(Box::new(inflated), &inner, depth + 1, sink);
            }
            Container::Tar => {
                if self.may_nest(name, depth) {
                    self.read_tar(whole, name, depth, sink);
                }
            }
            Container::Evtx | Container::Zip => {
                if let Some(buffer) = self.buffer(whole, name) {
                    if container == Container::Evtx {
                        self.stats.files_read += 1;
                        self.guarded(name, |this| {
                            let threads = this.options.evtx_threads;
                            read_evtx(
                                Cursor::new(buffer),
                                name,
                                &this.options.normalize,
                                threads,
                                &mut this.stats,
                                sink,
                            )
                        });
                    } else if self.may_nest(name, depth) {
                        self.read_zip(Cursor::new(buffer), name, depth, sink);
                    }
                }
            }
            Container::Binary => {
                if n > 0 {
                    self.stats.ignore(IgnoreReason::NotTelemetry);
                }
            }
        }
    }

    fn guard<R: Read>(&self, reader: R, compressed: CompressedSize) -> InflateGuard<R> {
        InflateGuard::new(
            reader,
            self.options.max_member_bytes,
            self.options.max_inflation_ratio,
            self.options.ratio_floor_bytes,
            compressed,
        )
    }

    fn may_nest(&mut self, name: &Arc<str>, depth: u8) -> bool {
        if depth >= self.options.max_archive_depth {
            let detail = format!(
                "archive nested deeper than {}",
                self.options.max_archive_depth
            );
            self.skip_file(name, SkipReason::TooLarge, detail);
            return false;
        }
        true
    }

    fn skip_read_error(&mut self, name: &Arc<str>, error: io::Error) {
        let reason = if is_too_large(&error) {
            SkipReason::TooLarge
        } else if error.kind() == io::ErrorKind::InvalidInput
            || error.kind() == io::ErrorKind::InvalidData
        {
            SkipReason::BadArchive
        } else {
            SkipReason::Io
        };
        self.skip_file(name, reason, error.to_string());
    }

    /// Reads a whole stream into memory, up to the buffering bound.
    fn buffer(&mut self, reader: impl Read, name: &Arc<str>) -> Option<Vec<u8>> {
        let limit = self.options.max_buffered_bytes;
        let mut buffer = Vec::new();
        match reader.take(limit + 1).read_to_end(&mut buffer) {
            Ok(_) if buffer.len() as u64 > limit => {
                let detail = format!("needs random access and is larger than {limit} bytes");
                self.skip_file(name, SkipReason::TooLarge, detail);
                None
            }
            Ok(_) => Some(buffer),
            Err(e) => {
                self.skip_read_error(name, e);
                None
            }
        }
    }

    fn read_zip<R: Read + Seek>(
        &mut self,
        input: R,
        name: &Arc<str>,
        depth: u8,
        sink: &mut dyn FnMut(Event),
    ) {
        let mut archive = match zip::ZipArchive::new(input) {
            Ok(archive) => archive,
            Err(e) => return self.skip_file(name, SkipReason::BadArchive, e.to_string()),
        };
        for index in 0..archive.len() {
            let member = match archive.by_index(index) {
                Ok(member) => member,
                Err(e) => {
                    let location: Arc<str> = Arc::from(format!("{name}!#{index}"));
                    self.skip_file(&location, SkipReason::BadArchive, e.to_string());
                    continue;
                }
            };
            if member.is_dir() {
                continue;
            }
            let member_path = member
                .name()
                .map(|n| n.into_owned())
                .unwrap_or_else(|_| format!("#{index}"));
            let member_name: Arc<str> = Arc::from(format!("{name}!{member_path}"));
            if is_resource_fork(&member_path) {
                self.stats.ignore(IgnoreReason::NotTelemetry);
                continue;
            }
            let compressed = member.compressed_size();
            let guarded = self.guard(member, CompressedSize::Known(compressed));
            self.read_stream(Box::new(guarded), &member_name, depth + 1, sink);
        }
    }

    fn read_tar(
        &mut self,
        input: impl Read,
        name: &Arc<str>,
        depth: u8,
        sink: &mut dyn FnMut(Event),
    ) {
        let mut archive = tar::Archive::new(input);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => return self.skip_file(name, SkipReason::BadArchive, e.to_string()),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    // A tar stream cannot be resynchronized after a bad header.
                    return self.skip_read_error(name, e);
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = entry
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            if is_resource_fork(&path) {
                self.stats.ignore(IgnoreReason::NotTelemetry);
                continue;
            }
            let member_name: Arc<str> = Arc::from(format!("{name}!{path}"));
            self.read_stream(Box::new(entry), &member_name, depth + 1, sink);
        }
    }
}

/// macOS archivers add `__MACOSX/._name` resource forks beside each member.
fn is_resource_fork(member: &str) -> bool {
    member.starts_with("__MACOSX/")
        || member
            .rsplit('/')
            .next()
            .is_some_and(|base| base.starts_with("._"))
}

/// Fills as much of `buf` as the reader gives before end of input.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
