//! The store's tables and the version of their encodings.

use redb::TableDefinition;

/// The file a state folder holds.
pub const STORE_FILE: &str = "seldom.redb";

/// Bumped whenever an encoding kept here changes: the tables below, the
/// detector's `DetectorState`, a reorder buffer's `Event`, or a service
/// record (`AlertRecord`, allowlist `Entry`, `TailOffset`).
/// (1: the format `scan --state` and `serve --state` share; before it, scan
/// kept `seldom-state/3` files and serve `seldom-serve/3` folders.)
pub const FORMAT: &str = "seldom-store/1";

/// `format`, `fingerprint` (the detection configuration the state depends
/// on) and `checksum` (of the detector's state).
pub(crate) const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
/// `detector` (the detector's state), `offsets` (tailed files), `inbox_done`
/// (the last ingest batch a checkpoint covers).
pub(crate) const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
/// Acknowledged ingest batches by sequence, until a checkpoint covers them.
pub(crate) const INBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("inbox");
/// Alert records by alert id.
pub(crate) const ALERTS: TableDefinition<&str, &[u8]> = TableDefinition::new("alerts");
/// Allowlist entries by entry id.
pub(crate) const ALLOWLIST: TableDefinition<&str, &[u8]> = TableDefinition::new("allowlist");
/// The reorder buffer's events by their key (time in µs, kind rank, host
/// hash, arrival number): in key order, as the buffer releases them.
pub(crate) const REORDER: TableDefinition<StoredKey, &[u8]> = TableDefinition::new("reorder");
/// A reorder key as the store keeps it.
pub(crate) type StoredKey = (i64, u8, u64, u64);
/// A client's batch id (`X-Seldom-Batch-Id`) → the inbox sequence it got, so
/// that a batch resent after a lost answer is not detected twice.
pub(crate) const BATCH_IDS: TableDefinition<&str, u64> = TableDefinition::new("batch_ids");
/// How many batch ids are remembered: a resend follows its lost answer
/// closely, and the table must not grow for ever.
pub(crate) const BATCH_IDS_KEPT: u64 = 100_000;
/// The digest of each named batch's body, by inbox sequence: the same id
/// with another body is a client bug (a reused id), refused rather than
/// silently dropped as a resend. Forgotten with the ids.
pub(crate) const BATCH_DIGESTS: TableDefinition<u64, u128> = TableDefinition::new("batch_digests");
