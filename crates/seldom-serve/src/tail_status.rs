//! What the tailer shows of the followed files (`/api/v1/status`,
//! `/metrics`): each stream's position and lag, the files that vanished
//! with bytes unread, and the offsets detection holds.

use std::collections::BTreeMap;

use seldom_model::Timestamp;
use serde::Serialize;

use crate::store::TailOffset;

/// Per followed file, as `/api/v1/status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FileStatus {
    pub identity: String,
    pub path: String,
    /// Bytes read and handed to detection.
    pub offset: u64,
    pub size: u64,
    pub lag_bytes: u64,
    pub last_read: Option<Timestamp>,
    pub rotated: bool,
}

/// A followed file that disappeared with bytes never read.
#[derive(Debug, Clone, Serialize)]
pub struct Vanished {
    pub identity: String,
    pub path: String,
    pub offset: u64,
    pub unread_bytes: u64,
    pub at: Timestamp,
}

/// A tailed file's detected offset, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputOffset {
    pub path: String,
    pub offset: u64,
}

/// The status's view of the offsets detection holds.
pub fn inputs(offsets: &BTreeMap<String, TailOffset>) -> BTreeMap<String, InputOffset> {
    offsets
        .iter()
        .map(|(key, at)| {
            let input = InputOffset {
                path: at.path.clone(),
                offset: at.offset,
            };
            (key.clone(), input)
        })
        .collect()
}

/// What the tailer publishes after each look.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TailStatus {
    pub files: Vec<FileStatus>,
    /// Followed files that vanished with bytes unread, and those bytes
    /// (at least: the file may have grown after its last look).
    pub vanished_files: u64,
    pub vanished_unread_bytes: u64,
    pub vanished: Vec<Vanished>,
    /// Compressed rotations the patterns match, not followed.
    pub compressed_skipped: usize,
}
