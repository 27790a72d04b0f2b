//! seldom's durable memory: one redb file, `STATE_FOLDER/seldom.redb`, in one
//! format shared by `seldom scan --state` and `seldom serve --state`.
//!
//! Because both commands read and write the same file, a baseline learned
//! from archived telemetry (`scan --state S old-logs/`) starts a service
//! (`serve --state S`) that is already activated and alerts on its first new
//! event, instead of waiting out the activation period again.
//!
//! This crate owns the tables, the format's version and the configuration
//! fingerprint a store is bound to: a store of another version or written
//! with another detection configuration is refused with a clear error, never
//! silently reset. The detector's parts (its state, its reorder buffer) are
//! typed here; the service's own records (alerts with their triage, allowlist
//! entries, tailed files' offsets) are kept as values the service encodes
//! with [`Encoded::of`] and decodes with [`Encoded::decode`].
//!
//! A checkpoint commits everything that belongs to one moment in one redb
//! transaction, so after a crash at any point the store describes one
//! consistent moment (see the README's "Reliability").

mod codec;
mod open;
mod restore;
mod restored;
mod tables;
mod write;

pub use codec::{Encoded, body_digest};
pub use open::Store;
pub use restored::Restored;
pub use tables::{FORMAT, STORE_FILE};
pub use write::{Checkpoint, EncodedReorder, InboxBatch};
