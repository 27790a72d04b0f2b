//! A rare connection between its decision and its alert: what the decision
//! found, kept while it waits (bounded) for its process's start.

use seldom_model::{Event, Timestamp};
use serde::{Deserialize, Serialize};

use crate::baseline::Prevalence;
use crate::destination::DestinationKey;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Candidate {
    pub event: Event,
    /// The name the host asked DNS for, if any.
    pub forward_name: Option<String>,
    pub key: DestinationKey,
    /// The destination's prevalence at the connection's time, before it
    /// counted.
    pub prevalence: Prevalence,
    /// When it stops waiting for its process (its time plus the reorder
    /// window).
    pub deadline: Timestamp,
}
