//! How values are encoded in the store: CBOR (self-describing, so the event
//! model can skip absent fields, and with non-string map keys), and the
//! digests kept beside them.

use anyhow::{Context, Result};
use seldom_detect::reorder::ReorderKey;
use seldom_model::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::tables::StoredKey;

/// A value encoded for the store. Encoding happens before any lock is taken
/// or transaction begun, so a slow encoding never holds the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded(pub(crate) Vec<u8>);

impl Encoded {
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<Encoded> {
        let mut bytes = Vec::new();
        ciborium::into_writer(value, &mut bytes).context("encoding for the store")?;
        Ok(Encoded(bytes))
    }

    /// Decodes a value read from the store; `what` names it in the error.
    pub fn decode<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        decode(&self.0, what)
    }
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    ciborium::from_reader(bytes).with_context(|| format!("the store's {what} is corrupt"))
}

/// The checksum kept beside the detector's state: xxh3-128 of its encoded
/// bytes, in hex. redb keeps its pages consistent, not their contents
/// unchanged: a byte changed on disk would otherwise be read as a valid,
/// different state.
pub(crate) fn state_digest(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// The digest a named ingest batch's body is compared on (not a defence
/// against a client forging collisions: the same client names and sends the
/// batch).
pub fn body_digest(body: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(body)
}

pub(crate) fn stored_key(key: &ReorderKey) -> StoredKey {
    (key.0.as_micros(), key.1, key.2, key.3)
}

pub(crate) fn reorder_key((time, rank, host, seq): StoredKey) -> ReorderKey {
    (Timestamp::from_micros(time), rank, host, seq)
}
