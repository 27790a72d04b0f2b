//! The bounds and settings of a read, shared by every reader.

use crate::normalize::NormalizeOptions;

/// Bounds and settings of a read. The defaults suit a workstation.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub normalize: NormalizeOptions,
    /// A longer line is skipped as `line_too_long` (default 4 MiB).
    pub max_line_bytes: usize,
    /// An archive member that inflates past this is skipped as `too_large` (default 64 GiB).
    pub max_member_bytes: u64,
    /// Past `ratio_floor_bytes`, a member inflating more than this many times
    /// its compressed size is skipped as `too_large` (default 250).
    pub max_inflation_ratio: u64,
    pub ratio_floor_bytes: u64,
    /// EVTX and zip need random access; inside another archive or on stdin they
    /// are buffered in memory up to this size (default 1 GiB).
    pub max_buffered_bytes: u64,
    /// Archives nested deeper than this are skipped (default 3).
    pub max_archive_depth: u8,
    /// The host of raw audit records without `node=` (default: the file's name).
    pub audit_host: Option<String>,
    /// Threads the EVTX parser may use (0: one per core). Default 1: most event
    /// logs are a few chunks, where a thread pool costs more than it gives.
    pub evtx_threads: usize,
    /// Threads decoding the lines of one JSON-lines input (default: one per
    /// core; 1 decodes on the reading thread).
    pub decode_threads: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            normalize: NormalizeOptions::default(),
            max_line_bytes: 4 << 20,
            max_member_bytes: 64 << 30,
            max_inflation_ratio: 250,
            ratio_floor_bytes: 64 << 20,
            max_buffered_bytes: 1 << 30,
            max_archive_depth: 3,
            audit_host: None,
            evtx_threads: 1,
            decode_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}
