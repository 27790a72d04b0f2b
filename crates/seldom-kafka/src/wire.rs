//! What travels in the internal topics, and its encoding (CBOR): events and
//! progress marks to the host partitions, contacts and marks to the key
//! partitions, and the partitions' state snapshots in the changelogs. A
//! record that does not decode is a bug or a stranger writing to an internal
//! topic: it is counted and skipped, never a panic.

use seldom_detect::Contact;
use seldom_detect::partitioned::Progress;
use seldom_model::Event;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A record of the by-host topic.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum ToHosts {
    Event(Box<Event>),
    Mark(Progress),
}

/// A record of the by-key topic.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum ToKeys {
    /// A contact from host partition `from`.
    Contact {
        from: u32,
        contact: Box<Contact>,
    },
    Mark(Progress),
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail, and every type here serializes.
    ciborium::into_writer(value, &mut bytes).unwrap_or_else(|e| unreachable!("encoding: {e}"));
    bytes
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    ciborium::from_reader(bytes).map_err(|e| e.to_string())
}
