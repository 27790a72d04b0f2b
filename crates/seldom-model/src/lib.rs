//! The event model shared by every stage of seldom.
//!
//! Decoders turn Sysmon, Windows Security and other telemetry into these types;
//! enrichment and detection read nothing else. The model knows no file format,
//! does no I/O and has no async: it is plain data with the few normalizations
//! (host names, timestamps) that every stage must agree on.

#![forbid(unsafe_code)]

mod event;
mod host;
mod location;
mod time;

pub use event::{
    DnsQuery, Event, EventKind, NetworkConnection, Platform, ProcessEnd, ProcessIdentity,
    ProcessStart, SourceFormat,
};
pub use host::{HostName, HostNaming};
pub use location::Location;
pub use time::{MICROS_PER_DAY, MICROS_PER_SECOND, Micros, Timestamp};
