//! A contact: one external connection as the host side knows it (its DNS
//! name, destination key, process and causality chain), ready for the
//! destination side to judge (prevalence, rarity, activation, catalog,
//! dedup).
//!
//! Inside one detector the contact passes from [`crate::emit`] to
//! [`crate::raise`] in memory, and only for rare connections. Partitioned
//! ([`crate::partitioned`]), every external connection becomes a contact,
//! since its host's partition cannot know whether it is rare: it travels from
//! the partition that owns the host to the one that owns the destination key.

use seldom_model::{Event, Timestamp};
use serde::{Deserialize, Serialize};

use crate::destination::DestinationKey;
use crate::process_table::{Ancestor, ProcessRecord};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// The connection event.
    pub event: Event,
    /// The name the host asked DNS for, if any.
    pub forward_name: Option<String>,
    pub key: DestinationKey,
    /// When the baseline counts it: its own time, or, for a network sensor's
    /// connection held for the reorder window first, the end of that wait.
    pub judged_at: Timestamp,
    /// Its process, as of the connection (or of the end of its wait for a
    /// start stamped late); `None` when no start was ever seen.
    pub process: Option<ProcessRecord>,
    /// The process's ancestors, nearest first, up to `chain_depth`.
    pub chain: Vec<Ancestor>,
}
