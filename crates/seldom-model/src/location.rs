//! Where a record came from: a file (or archive member), and a line or record id.
//!
//! Every event carries one so that an alert can point at its source events, and
//! every skipped record is reported with one so that a user can find it.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file, `archive.zip!member.json` for an archive member, or `-` for stdin.
    pub source: Arc<str>,
    /// 1-based line number, for line-oriented sources.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
    /// The record id given by the source (EVTX `EventRecordID`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub record: Option<u64>,
}

impl Location {
    pub fn file(source: Arc<str>) -> Self {
        Location {
            source,
            line: None,
            record: None,
        }
    }

    pub fn at_line(source: Arc<str>, line: u64) -> Self {
        Location {
            source,
            line: Some(line),
            record: None,
        }
    }

    pub fn at_record(source: Arc<str>, record: u64) -> Self {
        Location {
            source,
            line: None,
            record: Some(record),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(record) = self.record {
            write!(f, "#{record}")?;
        }
        Ok(())
    }
}
